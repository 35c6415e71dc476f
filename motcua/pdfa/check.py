"""A PDF/A-2b validator for the clauses of ISO 19005-2:2011 listed in `CLAUSES`, and only those.

It reads the file with pikepdf (qpdf) and walks what a viewer would render: every page's content
stream, the form XObjects, patterns and soft masks it reaches, and the annotations' appearance
streams, keeping the graphics state (font, text rendering mode, q/Q) as it goes. A clause not in
`CLAUSES` is not tested: a file that passes here is PDF/A-2b *as far as these clauses go* — a
full validator (veraPDF) also tests syntax, font metrics, ICC contents and the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from motcua.errors import InputFileError
from motcua.pdfa.content import ContentChecks, true

# The clauses tested, by number (ISO 19005-2:2011), with what is checked of each.
CLAUSES: dict[str, str] = {
    "6.1.2": "file header: %PDF-1.n at byte 0, then a comment of 4 bytes above 127",
    "6.1.3": "file trailer: an ID; no Encrypt; nothing but an end-of-line after the last %%EOF",
    "6.1.7.1": "streams: no F, FFilter or FDecodeParms keys",
    "6.1.7.2": "filters: no LZWDecode, no Crypt",
    "6.1.12": "permissions: Perms holds only UR3 and DocMDP",
    "6.2.2": "content streams: every content stream parses",
    "6.2.3": "output intent: the PDF/A profile is a monitor/printer ICC profile, RGB/CMYK/GRAY, "
    "version below 5; all PDF/A output intents share one profile",
    "6.2.4.3": "device colour spaces (DeviceRGB/CMYK/Gray) only with a matching OutputIntent "
    "or Default colour space",
    "6.2.5": "extended graphics state: no TR, TR2 other than Default, HTP, HTO",
    "6.2.8": "images: no Alternates, OPI, Interpolate true",
    "6.2.9": "XObjects: no PostScript, reference XObjects, OPI, Subtype2 PS",
    "6.2.10": "transparency: blend modes of ISO 32000-1; a page with transparency and no "
    "OutputIntent has a Group with CS",
    "6.2.11.4.1": "fonts: the program of every font used to render text is embedded",
    "6.3.1": "annotations: no 3D, Sound, Screen or Movie annotations",
    "6.3.2": "annotations: Print flag set, Hidden/Invisible/NoView/ToggleNoView clear",
    "6.3.3": "annotations: an appearance (AP with N only) for every visible annotation",
    "6.4.1": "forms: no NeedAppearances true; no A or AA on widgets and fields",
    "6.4.2": "forms: no XFA, no NeedsRendering",
    "6.5.1": "actions: no JavaScript (actions or the Names JavaScript tree), Launch, Sound, "
    "Movie, ResetForm, ImportData, Hide, SetOCGState, Rendition, Trans, GoTo3DView; named "
    "actions only NextPage, PrevPage, FirstPage, LastPage",
    "6.5.2": "trigger events: no AA in the catalog or on a page",
    "6.6.2.1": "metadata: the catalog has a Metadata stream (Type Metadata, Subtype XML) that "
    "parses as XMP",
    "6.6.4": "identification: XMP pdfaid:part 2 and pdfaid:conformance A, B or U",
    "6.10": "no AlternatePresentations, no PresSteps",
}

_ALLOWED_ACTIONS = {"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named", "/SubmitForm"}
_ALLOWED_NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
_HEADER = re.compile(rb"%PDF-1\.[0-7][\r\n]+%[\x80-\xff]{4}")


@dataclass(frozen=True)
class Failure:
    """One failed requirement: its clause, what is wrong (Vietnamese, English gloss), where."""

    clause: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        place = f" ({self.where})" if self.where else ""
        return f"{self.clause}: {self.message}{place}"


@dataclass(frozen=True)
class PdfaReport:
    """The outcome for one file: the failures, and the level its XMP claims ("2B" or None)."""

    path: str
    claimed: str | None
    failures: tuple[Failure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failed_clauses(self) -> list[str]:
        return sorted({f.clause for f in self.failures}, key=_clause_key)

    def summary(self) -> str:
        """`pass` or `fail 6.2.3 6.2.11.4.1`: the outcome recorded in an archive record."""
        return "pass" if self.ok else "fail " + " ".join(self.failed_clauses)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "standard": "ISO 19005-2:2011 (PDF/A-2b)",
            "claimed": self.claimed,
            "failed_clauses": self.failed_clauses,
            "failures": [
                {"clause": f.clause, "message": f.message, "where": f.where} for f in self.failures
            ],
            "clauses_checked": list(CLAUSES),
        }


def _clause_key(clause: str) -> tuple[int, ...]:
    return tuple(int(part) for part in clause.split("."))


def check_pdfa(path: Path | str) -> PdfaReport:
    """Check the file at `path`; an unreadable or non-PDF file raises `InputFileError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"không đọc được tệp (cannot read: {exc.strerror})") from None
    return check_pdfa_bytes(data, str(path))


def check_pdfa_bytes(data: bytes, name: str = "<bytes>") -> PdfaReport:
    """Check a PDF held in memory; `name` is used in the report and in errors."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise InputFileError(name, "không phải tệp PDF (not a PDF file)")
    failures: list[Failure] = []
    failures += _check_bytes(data)
    import io

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        failures.append(Failure("6.1.3", "tệp được mã hóa bằng mật khẩu (encrypted)", "trailer"))
        failures.append(Failure("6.1.3", "các điều khác không kiểm tra được (other clauses "
                                "not checked: the file cannot be opened)"))  # fmt: skip
        return PdfaReport(name, None, tuple(failures))
    except pikepdf.PdfError as exc:
        raise InputFileError(name, f"tệp PDF hỏng (damaged PDF: {exc})") from None
    with pdf:
        checker = _Checker(pdf)
        checker.run()
        return PdfaReport(name, checker.claimed, tuple(failures + checker.failures))


RECORD_KEY_PREFIX = "pdfa:"  # an archive record's `extra` key: "pdfa:<file name>"


def record_outcomes(files: Sequence[Path]) -> dict[str, str]:
    """The check of every PDF among `files` (known by content, not name), for a record's
    metadata: `pdfa:<file name>` → `pass`, `fail <clause> ...` or `unreadable: <reason>`."""
    outcomes = {}
    for path in files:
        try:
            with open(path, "rb") as fh:
                if b"%PDF-" not in fh.read(1024):
                    continue
            summary = check_pdfa(path).summary()
        except OSError:
            continue  # the archive itself reports a file it cannot read
        except InputFileError as exc:
            summary = f"unreadable: {exc.reason}"
        outcomes[RECORD_KEY_PREFIX + path.name] = summary
    return outcomes


def _check_bytes(data: bytes) -> list[Failure]:
    failures = []
    if not _HEADER.match(data):
        failures.append(
            Failure("6.1.2", "đầu tệp không đúng %PDF-1.n và dòng chú thích nhị phân "
                    "(header is not %PDF-1.n followed by a binary comment)", "byte 0")
        )  # fmt: skip
    end = data.rfind(b"%%EOF")
    if end < 0 or data[end + 5 :] not in (b"", b"\n", b"\r", b"\r\n"):
        failures.append(
            Failure("6.1.3", "có dữ liệu sau %%EOF cuối (data after the last %%EOF)", "trailer")
        )
    return failures


@dataclass
class _Checker(ContentChecks):
    pdf: pikepdf.Pdf
    failures: list[Failure] = field(default_factory=list)
    claimed: str | None = None
    intent_space: str | None = None  # "RGB ", "CMYK", "GRAY" of the PDF/A OutputIntent
    device_uses: dict[str, str] = field(default_factory=dict)  # "RGB" → where first used
    transparent_pages: list[int] = field(default_factory=list)
    _seen: set[tuple[int, int]] = field(default_factory=set)
    _fonts_failed: set[tuple[int, int]] = field(default_factory=set)
    _forms: dict[tuple[int, int], bool] = field(default_factory=dict)

    def fail(self, clause: str, message: str, where: str = "") -> None:
        failure = Failure(clause, message, where)
        if failure not in self.failures:
            self.failures.append(failure)

    def run(self) -> None:
        root = self.pdf.Root
        self._trailer()
        self._streams()
        self._output_intents(root)
        self._catalog(root)
        self._metadata(root)
        for number, page in enumerate(self.pdf.pages, start=1):
            self._page(number, page)
        self._device_colours()

    # -- file structure ------------------------------------------------------------------------

    def _trailer(self) -> None:
        trailer = self.pdf.trailer
        if "/ID" not in trailer:
            self.fail("6.1.3", "thiếu khóa ID trong trailer (no ID in the trailer)", "trailer")
        if "/Encrypt" in trailer or self.pdf.is_encrypted:
            self.fail("6.1.3", "tệp được mã hóa (Encrypt in the trailer)", "trailer")

    def _streams(self) -> None:
        for obj in self.pdf.objects:
            if not isinstance(obj, pikepdf.Stream):
                continue
            where = f"object {obj.objgen[0]} {obj.objgen[1]}"
            if any(key in obj for key in ("/F", "/FFilter", "/FDecodeParms")):
                self.fail("6.1.7.1", "luồng tham chiếu tệp ngoài (stream with F/FFilter/"
                          "FDecodeParms)", where)  # fmt: skip
            filters = obj.get("/Filter")
            names = (
                [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)]
            )
            if "/LZWDecode" in names or "/Crypt" in names:
                self.fail("6.1.7.2", "bộ lọc LZWDecode/Crypt bị cấm (LZW or Crypt filter)", where)

    def _catalog(self, root: Any) -> None:
        perms = root.get("/Perms")
        if isinstance(perms, pikepdf.Dictionary):
            extra = set(perms.keys()) - {"/UR3", "/DocMDP"}
            if extra:
                self.fail("6.1.12", f"Perms có khóa không cho phép (Perms keys {sorted(extra)})")
        if "/AA" in root:
            self.fail("6.5.2", "danh mục có hành động kích hoạt (AA in the catalog)", "catalog")
        if "/OpenAction" in root and isinstance(root.OpenAction, pikepdf.Dictionary):
            self._action(root.OpenAction, "OpenAction")
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            if "/JavaScript" in names:
                self.fail("6.5.1", "có JavaScript (JavaScript name tree)", "catalog Names")
            if "/AlternatePresentations" in names:
                self.fail("6.10", "có AlternatePresentations", "catalog Names")
        if true(root.get("/NeedsRendering")):
            self.fail("6.4.2", "NeedsRendering là true (NeedsRendering true)", "catalog")
        form = root.get("/AcroForm")
        if isinstance(form, pikepdf.Dictionary):
            if true(form.get("/NeedAppearances")):
                self.fail("6.4.1", "NeedAppearances là true (NeedAppearances true)", "AcroForm")
            if "/XFA" in form:
                self.fail("6.4.2", "có biểu mẫu XFA (XFA form)", "AcroForm")
            for fld in _walk_fields(form.get("/Fields")):
                if "/A" in fld or "/AA" in fld:
                    self.fail("6.4.1", "trường biểu mẫu có hành động (field with A/AA)",
                              str(fld.get("/T", "")))  # fmt: skip
        self._outlines(root.get("/Outlines"))

    def _outlines(self, outlines: Any) -> None:
        if not isinstance(outlines, pikepdf.Dictionary):
            return
        stack, seen = [outlines.get("/First")], set()
        while stack:
            item = stack.pop()
            if not isinstance(item, pikepdf.Dictionary) or item.objgen in seen:
                continue
            seen.add(item.objgen)
            if isinstance(item.get("/A"), pikepdf.Dictionary):
                self._action(item.A, "outline")
            stack += [item.get("/First"), item.get("/Next")]

    def _action(self, action: Any, where: str, depth: int = 0) -> None:
        kind = str(action.get("/S", ""))
        if kind == "/JavaScript":
            self.fail("6.5.1", "có hành động JavaScript (JavaScript action)", where)
        elif kind not in _ALLOWED_ACTIONS:
            self.fail("6.5.1", f"hành động bị cấm (forbidden action {kind or '?'})", where)
        elif kind == "/Named" and str(action.get("/N", "")) not in _ALLOWED_NAMED:
            self.fail("6.5.1", f"hành động có tên bị cấm (named action {action.get('/N')})", where)
        following = action.get("/Next")
        chained = following if isinstance(following, pikepdf.Array) else [following]
        for nxt in chained:
            if isinstance(nxt, pikepdf.Dictionary) and depth < 50:
                self._action(nxt, where, depth + 1)

    # -- output intent and metadata ------------------------------------------------------------

    def _output_intents(self, root: Any) -> None:
        intents = [
            oi
            for oi in root.get("/OutputIntents", pikepdf.Array())
            if isinstance(oi, pikepdf.Dictionary) and oi.get("/S") == "/GTS_PDFA1"
        ]
        profiles = {oi.DestOutputProfile.objgen for oi in intents if "/DestOutputProfile" in oi}
        if len(profiles) > 1:
            self.fail("6.2.3", "các OutputIntent dùng hồ sơ màu khác nhau (output intents with "
                      "different profiles)", "OutputIntents")  # fmt: skip
        for oi in intents:
            profile = oi.get("/DestOutputProfile")
            if not isinstance(profile, pikepdf.Stream):
                self.fail("6.2.3", "OutputIntent thiếu hồ sơ ICC (no DestOutputProfile)",
                          "OutputIntents")  # fmt: skip
                continue
            header = profile.read_bytes()[:20]
            device, space = header[12:16], header[16:20]
            version = header[8] if len(header) > 8 else 0
            if device not in (b"mntr", b"prtr") or space not in (b"RGB ", b"CMYK", b"GRAY"):
                self.fail("6.2.3", f"hồ sơ ICC không hợp lệ (ICC profile class {device!r}, "
                          f"colour space {space!r})", "OutputIntents")  # fmt: skip
            elif not 0 < version < 5:
                self.fail("6.2.3", f"phiên bản hồ sơ ICC {version} (ICC version not below 5)",
                          "OutputIntents")  # fmt: skip
            elif self.intent_space is None:
                self.intent_space = space.decode("ascii")

    def _metadata(self, root: Any) -> None:
        stream = root.get("/Metadata")
        if not (
            isinstance(stream, pikepdf.Stream)
            and stream.get("/Type") == "/Metadata"
            and stream.get("/Subtype") == "/XML"
        ):
            self.fail("6.6.2.1", "thiếu luồng siêu dữ liệu XMP (no XMP Metadata stream in the "
                      "catalog)", "catalog")  # fmt: skip
            self.fail("6.6.4", "không khai báo PDF/A (no pdfaid identification)", "XMP")
            return
        try:
            meta = self.pdf.open_metadata(set_pikepdf_as_editor=False, strict=True)
            part, conformance = meta.get("pdfaid:part"), meta.get("pdfaid:conformance")
        except Exception as exc:  # a broken packet is this clause's failure, whatever broke
            self.fail("6.6.2.1", f"XMP không đọc được (XMP does not parse: {exc})", "XMP")
            return
        if part and conformance:
            self.claimed = f"{part}{conformance}"
        if str(part) != "2" or str(conformance) not in ("A", "B", "U"):
            self.fail("6.6.4", f"XMP không khai báo PDF/A-2 (pdfaid:part={part}, "
                      f"conformance={conformance})", "XMP")  # fmt: skip


def _walk_fields(fields: Any, depth: int = 0) -> Iterator[pikepdf.Dictionary]:
    if not isinstance(fields, pikepdf.Array) or depth > 32:
        return
    for fld in fields:
        if isinstance(fld, pikepdf.Dictionary):
            yield fld
            yield from _walk_fields(fld.get("/Kids"), depth + 1)
