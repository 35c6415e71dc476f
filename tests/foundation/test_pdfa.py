"""PDF/A-2b: what motcua makes passes `motcua pdfa check`; files that break a clause fail by name.

The files that must fail are made by breaking one requirement of a file that passes, so each
test shows the clause it names is the one broken (and that the others still pass).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from reportlab.pdfgen import canvas

from motcua.pdfa import CLAUSES, check_pdfa, convert_file, srgb_profile

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")


def _drawn(path: Path, *, standard_font: bool = False) -> Path:
    """A one-page PDF with RGB drawing and text, as reportlab draws it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "TestSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("TestSerif", str(FONT)))
    pdf = canvas.Canvas(str(path))
    pdf.setFillColorRGB(0.8, 0.1, 0.1)
    pdf.rect(50, 50, 100, 40, fill=1)
    pdf.setFont("Helvetica" if standard_font else "TestSerif", 12)
    pdf.drawString(72, 720, "Ủy ban nhân dân xã Hòa Tiến")
    pdf.save()
    return path


@pytest.fixture
def passing(tmp_path: Path) -> Path:
    path = _drawn(tmp_path / "good.pdf")
    assert convert_file(path).ok
    return path


def _clauses(path: Path) -> list[str]:
    return check_pdfa(path).failed_clauses


def test_a_converted_file_passes_and_claims_2b(passing: Path) -> None:
    report = check_pdfa(passing)
    assert report.ok, [str(f) for f in report.failures]
    assert report.claimed == "2B"
    with pikepdf.open(passing) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1"
        assert intent.DestOutputProfile.read_bytes() == srgb_profile()
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        assert str(pdf.docinfo.get("/Producer")) == meta.get("pdf:Producer")


def test_the_srgb_profile_is_a_v4_rgb_display_profile() -> None:
    profile = srgb_profile()
    assert profile[12:20] == b"mntrRGB " and 2 <= profile[8] < 5 and profile[36:40] == b"acsp"


def test_a_file_drawn_without_pdfa_fails_output_intent_and_metadata(tmp_path: Path) -> None:
    path = _drawn(tmp_path / "plain.pdf")
    assert _clauses(path) == ["6.2.4.3", "6.6.2.1", "6.6.4"]


def test_missing_output_intent_fails_6_2_4_3(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        del pdf.Root["/OutputIntents"]
        pdf.save(passing)
    report = check_pdfa(passing)
    assert report.failed_clauses == ["6.2.4.3"]
    assert "DeviceRGB" in report.failures[0].message


def test_a_cmyk_drawing_under_an_srgb_intent_fails_6_2_4_3(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"0 0 0 1 k 0 0 10 10 re f\n"))
        pdf.save(passing)
    assert _clauses(passing) == ["6.2.4.3"]


def test_a_bad_output_profile_fails_6_2_3(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        profile = bytearray(srgb_profile())
        profile[12:16] = b"scnr"  # an input (scanner) profile may not be the output intent
        pdf.Root.OutputIntents[0].DestOutputProfile.write(bytes(profile))
        pdf.save(passing)
    assert "6.2.3" in _clauses(passing)


def test_an_unembedded_font_fails_6_2_11_4_1(tmp_path: Path) -> None:
    path = _drawn(tmp_path / "helvetica.pdf", standard_font=True)
    report = convert_file(path)
    assert "6.2.11.4.1" in report.failed_clauses
    assert any("Helvetica" in f.message for f in report.failures)
    assert report.claimed is None  # what does not pass does not claim PDF/A
    assert _clauses(path) == ["6.2.11.4.1", "6.6.4"]


def test_invisible_text_in_an_unembedded_font_is_allowed(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.Resources.Font.Hv = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
        page.contents_add(pikepdf.Stream(pdf, b"BT 3 Tr /Hv 9 Tf 10 10 Td (ocr) Tj ET\n"))
        pdf.save(passing)
    assert check_pdfa(passing).ok
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:  # Tr outlives ET: reset it
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"BT 0 Tr /Hv 9 Tf 10 30 Td (seen) Tj ET\n"))
        pdf.save(passing)
    assert _clauses(passing) == ["6.2.11.4.1"]


def test_encryption_fails_6_1_3(passing: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(passing) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    assert "6.1.3" in _clauses(locked)
    secret = tmp_path / "secret.pdf"
    with pikepdf.open(passing) as pdf:
        pdf.save(secret, encryption=pikepdf.Encryption(owner="o", user="u", R=6))
    report = check_pdfa(secret)  # cannot even be opened: still a check failure, not bad input
    assert report.failed_clauses == ["6.1.3"] and not report.ok


def test_javascript_fails_6_5_1_and_trigger_events_6_5_2(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        script = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        pdf.Root.OpenAction = script
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), script]))
        )
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=script)
        pdf.save(passing)
    report = check_pdfa(passing)
    assert report.failed_clauses == ["6.5.1", "6.5.2"]
    assert any("JavaScript" in f.message for f in report.failures if f.clause == "6.5.1")
    assert convert_file(passing).ok  # the converter takes the scripts out


def test_data_after_the_last_eof_fails_6_1_3(passing: Path) -> None:
    data = passing.read_bytes()
    passing.write_bytes(data + b"garbage after the end\n")
    assert _clauses(passing) == ["6.1.3"]


def test_a_blend_mode_outside_iso_32000_fails_6_2_10(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        page.Resources.ExtGState = pikepdf.Dictionary(
            Gx=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, BM=pikepdf.Name("/Glow"))
        )
        page.contents_add(pikepdf.Stream(pdf, b"/Gx gs\n"))
        pdf.save(passing)
    assert _clauses(passing) == ["6.2.10"]


def test_an_annotation_without_print_flag_or_appearance_fails_6_3(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        note = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=[10, 10, 50, 50], F=0
        )
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([note]))
        pdf.save(passing)
    assert _clauses(passing) == ["6.3.2", "6.3.3"]


def test_lzw_fails_6_1_7_2(passing: Path) -> None:
    with pikepdf.open(passing, allow_overwriting_input=True) as pdf:
        stream = pikepdf.Stream(pdf, b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01")  # LZW of "-----A---B"
        stream.Filter = pikepdf.Name.LZWDecode
        pdf.Root.Junk = pdf.make_indirect(stream)
        pdf.save(
            passing, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none
        )
    assert _clauses(passing) == ["6.1.7.2"]


def test_every_clause_named_in_a_failure_is_listed() -> None:
    assert all(clause[0] == "6" for clause in CLAUSES)
    assert {"6.1.3", "6.2.3", "6.2.4.3", "6.2.10", "6.2.11.4.1", "6.5.1", "6.6.4"} <= set(CLAUSES)


def _motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_pdfa_check_exit_codes_and_json(passing: Path, tmp_path: Path) -> None:
    ok = _motcua("pdfa", "check", str(passing))
    assert ok.returncode == 0, ok.stderr
    assert "PDF/A-2b" in ok.stdout

    bad = _drawn(tmp_path / "plain.pdf")
    failed = _motcua("pdfa", "check", "--json", str(passing), str(bad))
    assert failed.returncode == 1, failed.stderr
    first, second = (json.loads(line) for line in failed.stdout.splitlines())
    assert first["ok"] is True and first["failed_clauses"] == []
    assert second["ok"] is False and second["failed_clauses"] == ["6.2.4.3", "6.6.2.1", "6.6.4"]
    assert {f["clause"] for f in second["failures"]} == {"6.2.4.3", "6.6.2.1", "6.6.4"}

    text = _motcua("pdfa", "check", str(bad))
    assert text.returncode == 1 and "6.2.4.3" in text.stdout

    notpdf = tmp_path / "note.txt"
    notpdf.write_text("not a pdf")
    missing = tmp_path / "missing.pdf"
    unusable = _motcua("pdfa", "check", str(notpdf), str(missing), str(passing))
    assert unusable.returncode == 2
    assert "note.txt" in unusable.stderr and "missing.pdf" in unusable.stderr
    assert "Traceback" not in unusable.stderr
    assert str(passing) in unusable.stdout  # the batch went on to the good file
