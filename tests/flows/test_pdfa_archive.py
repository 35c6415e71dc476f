"""Issue 15 done-when: every PDF motcua puts in a dossier's archive records — the searchable
scans, the receipt and control sheet, the signed result — passes `motcua pdfa check`, and each
record's metadata holds the check of each of its PDFs. A citizen's PDF is archived byte for byte
as handed in (not converted): its own check is recorded as it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from dossiers.forms.results import load_template
from flows import dossier as ops
from flows.context import current_office
from flows.intake import intake_dossier
from flows.result import issue_result
from flows.signing_keys import SigningSetup
from motcua.pdfa import RECORD_KEY_PREFIX
from signing import testpki
from signing.trust_services import TrustServices

ACTOR = "cli:test"


def _citizen_pdf(path: Path) -> Path:
    """A PDF as a citizen's own software makes it: a standard font, no PDF/A."""
    page = canvas.Canvas(str(path))
    page.setFont("Helvetica", 12)
    page.drawString(60, 780, "DON DE NGHI - Tran Thi Mai")
    page.save()
    return path


def _pdfa_check(files: list[Path]) -> dict[str, dict[str, object]]:
    run = subprocess.run(
        [sys.executable, "-m", "motcua", "pdfa", "check", "--json", *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    return {Path(r["path"]).name: r for r in map(json.loads, run.stdout.splitlines())}


@pytest.mark.slow
def test_every_pdf_motcua_archives_passes_and_the_outcome_is_recorded(
    office_home: Path,
    birth_dossier_scans: dict[str, Path],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    office = current_office()
    letter = _citizen_pdf(tmp_path / "don.pdf")
    handed_in = letter.read_bytes()
    files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"]), str(letter)]
    intake = intake_dossier(files, "dang-ky-khai-sinh", "2026-11-23T09:00:00+07:00",
                            {str(letter): "giay-to-khac"}, ACTOR)  # fmt: skip
    code = str(intake["dossier_code"])
    assert intake["status"] == "received", intake
    ops.accept(office, code, actor=ACTOR)

    pki = testpki.init(tmp_path_factory.mktemp("pki") / "test-pki")
    monkeypatch.setenv("MOTCUA_P12_PASSWORD", pki.p12_password)
    template = load_template(office.catalogue.get("dang-ky-khai-sinh").result.template or "")
    values = {
        row.field: "01/02/2026" if row.format in ("date", "date_words") else "Mai"
        for section in template.sections
        for row in section.rows
    }
    with TrustServices(pki):
        signed = issue_result(code, SigningSetup.from_test_pki(pki.dir, level="B-LTA"), values,
                              ACTOR)  # fmt: skip

    records = [str(intake["record_id"]), str(signed["record_id"])]
    checked_pdfs = 0
    for record_id in records:
        bag = office.archive.get(record_id, tmp_path / "bags")
        pdfs = sorted(p for p in (bag / "data").rglob("*") if p.read_bytes()[:5] == b"%PDF-")
        outcomes = _pdfa_check(pdfs)
        recorded = office.archive.metadata(record_id)["extra"]
        assert pdfs
        for pdf in pdfs:
            report = outcomes[pdf.name]
            assert recorded[RECORD_KEY_PREFIX + pdf.name] == (
                "pass" if report["ok"] else "fail " + " ".join(report["failed_clauses"])
            )
            if pdf.read_bytes() == handed_in:
                assert not report["ok"]  # the citizen's own PDF, kept as handed in
                continue
            assert report["ok"], (pdf.name, report["failures"])
            assert report["claimed"] == "2B"
            checked_pdfs += 1
        assert {k for k in recorded if k.startswith(RECORD_KEY_PREFIX)} == {
            RECORD_KEY_PREFIX + p.name for p in pdfs
        }  # an outcome for every PDF of the record, and for nothing else
    # intake: the citizen's letter, 3 searchable PDFs and the receipt; result: the signed result
    assert checked_pdfs == 5
