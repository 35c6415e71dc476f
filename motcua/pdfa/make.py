"""Making a PDF motcua drew into PDF/A-2b, in place (the approach OCRmyPDF takes with pikepdf,
without its Ghostscript pass: our PDFs are drawn with embedded fonts and device RGB/gray, so
declaring the sRGB intent and writing the metadata is all they need).

What cannot be repaired here — a font that is not embedded, CMYK drawing, a page of a citizen's
PDF that breaks some clause — is left as it is: `save_pdfa` checks the result and, when it does
not pass, leaves the PDF/A claim out of the XMP so the file never says it is what it is not.
"""

from __future__ import annotations

import functools
import io
import warnings
from pathlib import Path
from typing import Any

import pikepdf

from motcua.errors import InputFileError
from motcua.pdfa.check import PdfaReport, check_pdfa_bytes

SRGB_CONDITION = "sRGB IEC61966-2.1"
_FORBIDDEN_ACTIONS = {
    "/JavaScript", "/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/Hide",
    "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView",
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB ICC profile (a v4 display profile) that LittleCMS builds in, via Pillow."""
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def conform(pdf: pikepdf.Pdf, *, claim: bool = True) -> None:
    """Make `pdf` PDF/A-2b as far as it can be without redrawing it; `claim` writes pdfaid."""
    root = pdf.Root
    _drop_actions(pdf)
    pdf.remove_unreferenced_resources()
    profile = pikepdf.Stream(pdf, srgb_profile())
    profile.N = 3
    root.OutputIntents = pikepdf.Array(
        [
            pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.OutputIntent,
                    S=pikepdf.Name.GTS_PDFA1,
                    OutputConditionIdentifier=SRGB_CONDITION,
                    Info=SRGB_CONDITION,
                    RegistryName="http://www.color.org",
                    DestOutputProfile=pdf.make_indirect(profile),
                )
            )
        ]
    )
    if "/Trapped" in pdf.docinfo:
        del pdf.docinfo["/Trapped"]  # has no XMP twin in pikepdf: the two would disagree
    with (
        warnings.catch_warnings(),
        pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta,
    ):
        warnings.simplefilter("ignore", UserWarning)  # docinfo keys XMP has no name for
        meta.load_from_docinfo(pdf.docinfo)
        if claim:
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
        else:
            for key in ("pdfaid:part", "pdfaid:conformance"):
                if key in meta:
                    del meta[key]
        if "xmp:CreatorTool" not in meta:
            meta["xmp:CreatorTool"] = "motcua"


def _drop_actions(pdf: pikepdf.Pdf) -> None:
    """JavaScript and trigger actions out (6.5.1, 6.5.2), form fields never need appearances."""
    root = pdf.Root
    for key in ("/AA",):
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        del names["/JavaScript"]
    opening = root.get("/OpenAction")
    if isinstance(opening, pikepdf.Dictionary) and opening.get("/S") in _FORBIDDEN_ACTIONS:
        del root["/OpenAction"]
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/NeedAppearances" in form:
        del form["/NeedAppearances"]
    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if not isinstance(annot, pikepdf.Dictionary):
                continue
            if "/AA" in annot:
                del annot["/AA"]
            action = annot.get("/A")
            widget = annot.get("/Subtype") == "/Widget"
            if isinstance(action, pikepdf.Dictionary) and (
                widget or action.get("/S") in _FORBIDDEN_ACTIONS
            ):
                del annot["/A"]


def _serialise(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {"compress_streams": True}
    options["object_stream_mode"] = pikepdf.ObjectStreamMode.generate
    if pdf.pdf_version > "1.7":
        options["force_version"] = "1.7"  # 6.1.2: PDF/A-2 is PDF 1.0 to 1.7
    pdf.save(buffer, **options)
    return buffer.getvalue()


def save_pdfa(pdf: pikepdf.Pdf, output: Path) -> PdfaReport:
    """Conform `pdf`, write it to `output`, and return the check of what was written."""
    conform(pdf)
    data = _serialise(pdf)
    report = check_pdfa_bytes(data, str(output))
    if not report.ok:
        conform(pdf, claim=False)
        data = _serialise(pdf)
        report = check_pdfa_bytes(data, str(output))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    except OSError as exc:
        raise InputFileError(output, f"không ghi được tệp (cannot write: {exc.strerror})") from None
    return report


def convert_file(source: Path | str, output: Path | str | None = None) -> PdfaReport:
    """Rewrite the PDF at `source` as PDF/A-2b, into `output` (default: in place)."""
    source = Path(source)
    target = Path(output) if output is not None else source
    try:
        pdf = pikepdf.open(source, allow_overwriting_input=True)
    except pikepdf.PasswordError:
        raise InputFileError(source, "PDF được bảo vệ bằng mật khẩu (password-protected)") from None
    except (pikepdf.PdfError, OSError) as exc:
        raise InputFileError(source, f"không mở được PDF (cannot open: {exc})") from None
    with pdf:
        return save_pdfa(pdf, target)
