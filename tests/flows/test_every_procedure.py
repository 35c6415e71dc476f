"""Issue 12: every shipped procedure goes through the whole one-stop lifecycle, on the real
embedded S3 server and on SQLite and PostgreSQL: intake with the clerk's component override →
supplement request (one required component held back) → the supplement under the same code →
accept → result (drafted and signed where motcua has the template, else uploaded as the scan of
the paper result) → return; and intake → refusal, intake → withdrawal. The operations are the
ones the CLI and the web call (`flows.intake`, `flows.dossier`, `flows.result`,
`flows.result_upload`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from dossiers.dossier import Status
from dossiers.forms.results import load_template
from dossiers.procedures import Procedure, load_catalogue
from flows import dossier as ops
from flows.context import current_office
from flows.intake import intake_dossier, supplement_dossier
from flows.result import issue_result
from flows.result_upload import record_uploaded_result
from flows.signing_keys import SigningSetup
from signing import testpki
from signing.trust_services import TrustServices

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PROCEDURES = [p.key for p in load_catalogue()]
WHEN = "2026-11-23T09:00:00+07:00"
ACTOR = "cli:test"


def _text_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with a Vietnamese text layer (so intake reads it without OCR)."""
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont("DejaVu", 12)
    for i, line in enumerate(lines):
        page.drawString(60, 780 - 18 * i, line)
    page.showPage()
    page.save()
    return path


def _papers(procedure: Procedure, folder: Path) -> list[tuple[str, Path]]:
    """One paper per required component (at least one), as (component key, file)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [c for c in procedure.components if c.required] or list(procedure.components[:1])
    papers = []
    for i, c in enumerate(wanted, start=1):
        lines = [
            c.label.upper(),
            "Họ, chữ đệm, tên người yêu cầu: Trần Thị Mai",
            "Nơi cư trú: thôn Phú Sơn, xã Hòa Tiến, thành phố Đà Nẵng",
            f"Giấy tờ nộp cho thủ tục {procedure.name}",
        ]
        papers.append((c.kind, _text_pdf(folder / f"{i:02d}-{c.kind}.pdf", lines)))
    return papers


def _other(folder: Path, name: str) -> list[tuple[str, Path]]:
    """A paper the clerk files as "Giấy tờ khác"."""
    return [("giay-to-khac", _text_pdf(folder / f"{name}.pdf", ["ĐƠN ĐỀ NGHỊ", "Trần Thị Mai"]))]


def _result_values(template_key: str) -> dict[str, str]:
    """A plausible value for every row and placeholder of a result template."""
    template = load_template(template_key)
    values: dict[str, str] = {}
    for section in template.sections:
        for row in section.rows:
            values[row.field] = "01/02/1990" if row.format in ("date", "date_words") else "Mai"
    return values


@pytest.fixture(scope="module")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testpki.TestPki]:
    pki = testpki.init(tmp_path_factory.mktemp("pki") / "test-pki")
    with TrustServices(pki):
        yield pki


@pytest.fixture
def signing_setup(test_pki: testpki.TestPki, monkeypatch: pytest.MonkeyPatch) -> SigningSetup:
    monkeypatch.setenv("MOTCUA_P12_PASSWORD", test_pki.p12_password)
    return SigningSetup.from_test_pki(test_pki.dir, level="B-B")


@pytest.fixture(params=["sqlite", "postgresql"])
def office_on(
    request: pytest.FixtureRequest,
    office_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    new_postgres_database: Callable[[str], str],
) -> Iterator[str]:
    if request.param == "postgresql":
        url = "postgresql+psycopg://" + new_postgres_database(f"every_{os.getpid()}")
        monkeypatch.setenv("MOTCUA_CATALOG_URL", url)
        current_office.cache_clear()
    yield request.param
    current_office.cache_clear()


def _intake(papers: list[tuple[str, Path]], procedure: str) -> dict[str, object]:
    files = [str(p) for _, p in papers]
    return intake_dossier(files, procedure, WHEN, {str(p): k for k, p in papers}, ACTOR)


@pytest.mark.slow
def test_every_procedure_from_intake_to_return(
    office_on: str, tmp_path: Path, signing_setup: SigningSetup
) -> None:
    office = current_office()
    for key in PROCEDURES:
        procedure = office.catalogue.get(key)
        papers = _papers(procedure, tmp_path / key)
        held_back = papers[-1]
        given = papers[:-1] or _other(tmp_path / key, "don")
        first = _intake(given, key)
        code = str(first["dossier_code"])
        assert first["status"] == "supplement_requested", (key, first)
        assert held_back[0] in first["missing_components"], key
        assert first["supplement_pdf"] and first["record_id"]

        later = supplement_dossier(code, [str(held_back[1])], None,
                                   {str(held_back[1]): held_back[0]}, ACTOR)  # fmt: skip
        assert (later["dossier_code"], later["status"]) == (code, "received"), key
        assert later["missing_components"] == [] and later["receipt_pdf"]

        assert ops.accept(office, code, actor=ACTOR).dossier.status is Status.processing
        if procedure.result.template:
            signed = issue_result(code, signing_setup, _result_values(procedure.result.template),
                                  ACTOR)  # fmt: skip
        else:
            scan = _text_pdf(tmp_path / key / "ket-qua.pdf", [procedure.result.name.upper()])
            signed = record_uploaded_result(office, code, scan, number="7/TEST", actor=ACTOR)
            assert signed["kind"] == "scan" and signed["result_number"] == "7/TEST"
        assert signed["status"] == "result_signed", key
        assert office.archive.verify(str(signed["record_id"])).ok, key

        returned = ops.mark_returned(office, code, actor=ACTOR, collected_by="Trần Thị Mai")
        assert returned.dossier.status is Status.returned, key
        assert returned.dossier.archived
        actions = [e.action for e in office.journal.entries(target_id=code, limit=100)]
        for action in ("dossier.received", "dossier.supplement_received", "dossier.accepted",
                       "dossier.returned"):  # fmt: skip
            assert action in actions, (key, action, actions)
        assert {"result.signed", "result.uploaded"} & set(actions), (key, actions)


@pytest.mark.slow
def test_every_procedure_can_be_refused_or_withdrawn(office_home: Path, tmp_path: Path) -> None:
    office = current_office()
    for key in PROCEDURES:
        papers = _papers(office.catalogue.get(key), tmp_path / key)
        refused = _intake(papers[:1], key)
        outcome = ops.refuse(office, str(refused["dossier_code"]), ["Hồ sơ không đúng thẩm quyền"],
                             actor=ACTOR)  # fmt: skip
        assert outcome.dossier.status is Status.refused, key
        assert "refusal_pdf" in outcome.as_json(), key
        withdrawn = _intake(papers[1:] or _other(tmp_path / key, "rut"), key)
        outcome = ops.withdraw(office, str(withdrawn["dossier_code"]), requested_by="Trần Thị Mai",
                               actor=ACTOR)  # fmt: skip
        assert outcome.dossier.status is Status.withdrawn, key


def _ready_for_result(tmp_path: Path, key: str) -> str:
    office = current_office()
    papers = _papers(office.catalogue.get(key), tmp_path / key)
    code = str(_intake(papers, key)["dossier_code"])
    ops.accept(office, code, actor=ACTOR)
    return code


@pytest.mark.slow
def test_an_uploaded_signed_result_must_verify_and_the_cli_door_says_why(
    office_home: Path, tmp_path: Path, test_pki: testpki.TestPki
) -> None:
    import json
    import subprocess
    import sys

    from signing import SignatureSpec, load_pkcs12, sign_pdf

    office = current_office()
    leader = load_pkcs12(test_pki.p12("leader"), test_pki.p12_password)
    paper = _text_pdf(tmp_path / "ket-qua.pdf", ["GIẤY CHỨNG NHẬN KẾT HÔN", "Trần Thị Mai"])
    _, signed = sign_pdf(paper, tmp_path / "signed.pdf", SignatureSpec(), leader)
    tampered = bytearray(signed)
    at = tampered.index(b"Tr") if b"Tr" in tampered else len(tampered) // 3
    tampered[at] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))

    code = _ready_for_result(tmp_path, "dang-ky-ket-hon")
    before = office.register.get(code)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "motcua", *args], capture_output=True,
                              text=True, check=False)  # fmt: skip

    refused = cli("dossier", "upload-result", code, str(bad))
    assert refused.returncode in (1, 2), refused.stderr
    assert "Traceback" not in refused.stderr and "tampered.pdf" in refused.stderr
    assert office.register.get(code).status is before.status  # nothing changed
    assert bad.read_bytes() == bytes(tampered)  # the clerk's file is untouched

    done = cli("dossier", "upload-result", code, str(tmp_path / "signed.pdf"), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["kind"], answer["signatures"]) == ("signed", 1)
    assert answer["status"] == "result_signed"
    assert office.archive.verify(answer["record_id"]).ok
    again = cli("dossier", "upload-result", code, str(tmp_path / "signed.pdf"))
    assert again.returncode == 2 and "đã có kết quả" in again.stderr
