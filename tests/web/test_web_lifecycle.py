"""The one-stop lifecycle through two doors, the CLI and the web, on real OCR, S3 and Prefect.

Each door runs in its own office home with the same `calendar.yaml` (Tuesday 28/4/2026 an
office day off). The same papers taken in by each door get the same due date and leave the same
journal entries (actor aside); supplement, acceptance, refusal and withdrawal go through both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import pypdf
import pytest
from fastapi.testclient import TestClient
from web_helpers import WebWorld, build_world, csrf_from, csrf_header, sign_in, take_in

from flows.context import current_office
from motcua.cli import main
from storage.s3 import S3Config
from tests.s3_identities import setup_env

CALENDAR = "extra_days_off: [2026-04-28]\n"
# Friday 24/4/2026 after the 15:00 cut-off of a same-day procedure: Monday 27/4 is the observed
# Hùng Kings holiday and Tuesday 28/4 the office's own day off, so the result is due Wed 29/4.
SUPPLIED_AT = "2026-04-24T16:00:00+07:00"
FIRST_AT = "2026-04-22T09:00:00+07:00"
DUE = "2026-04-29"


@dataclass
class Papers:
    declaration: Path
    card: Path


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> Papers:
    from samples.documents import make_card, make_declaration

    folder = tmp_path_factory.mktemp("papers")
    declaration, card = make_declaration(21, "clean"), make_card(22, "clean")
    paths = Papers(folder / "to-khai.png", folder / "cccd.jpg")
    cv2.imwrite(str(paths.declaration), declaration.image)
    cv2.imwrite(str(paths.card), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return paths


def _home(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "calendar.yaml").write_text(CALENDAR, encoding="utf-8")
    return path


@pytest.fixture
def cli_home(
    tmp_path: Path, s3_config: S3Config, monkeypatch: pytest.MonkeyPatch, bucket_name: str
) -> Iterator[Path]:
    """The CLI's office: MOTCUA_* settings on its own home and buckets, the session's S3."""
    home = _home(tmp_path / "cli-home")
    monkeypatch.setenv("MOTCUA_HOME", str(home))
    monkeypatch.setenv("MOTCUA_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("MOTCUA_S3_ENDPOINT", s3_config.endpoint)
    monkeypatch.setenv("MOTCUA_S3_ACCESS_KEY", s3_config.access_key)
    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", s3_config.secret_key)
    for key, value in setup_env(s3_config).items():  # the set-up identity makes the buckets
        monkeypatch.setenv(key, value)
    for kind in ("originals", "archive", "quarantine"):
        monkeypatch.setenv(f"MOTCUA_BUCKET_{kind.upper()}", f"{bucket_name}-{kind[:4]}")
    current_office.cache_clear()
    yield home
    current_office.cache_clear()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `motcua ARGS` in this process (its Prefect is the session's); exit code, out, err."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return int(done.value.code or 0), out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _text(pdf: str | Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(pdf).pages)


def _journal(world_or_home: WebWorld | Path, code: str) -> list[tuple[str, dict[str, Any]]]:
    """The dossier's journal entries, oldest first, without the actor."""
    if isinstance(world_or_home, WebWorld):
        journal = world_or_home.services.audit
    else:
        from motcua.office import build_office
        from motcua.settings import load_settings

        found = build_office(load_settings()).journal
        assert found is not None
        journal = found
    return [(e.action, dict(e.details)) for e in reversed(journal.entries(target_id=code))]


def _wait_job(world: WebWorld, clerk: TestClient, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    world.services.jobs.wait(response.json()["id"], timeout=400)
    job: dict[str, Any] = clerk.get(response.headers["location"]).json()
    assert job["state"] == "completed", job
    return job


def _upload(*files: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]


@pytest.mark.slow
def test_supplement_acceptance_and_withdrawal_through_cli_and_web_agree(
    cli_home: Path,
    papers: Papers,
    tmp_path: Path,
    s3_config: S3Config,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --- the CLI: the declaration alone, then the ID card brought back ---
    first = cli_json(capsys, "intake", str(papers.declaration), "--procedure",
                     "dang-ky-khai-sinh", "--received-at", FIRST_AT)  # fmt: skip
    code = first["dossier_code"]
    assert (first["status"], first["missing_components"]) == ("supplement_requested", ["cccd"])
    supplied = cli_json(capsys, "dossier", "supplement", code, str(papers.card),
                        "--received-at", SUPPLIED_AT)  # fmt: skip
    assert supplied["dossier_code"] == code  # the same dossier, not a new one
    assert (supplied["status"], supplied["due_date"]) == ("received", DUE)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in _text(supplied["receipt_pdf"])
    assert "29 tháng 4 năm 2026" in _text(supplied["receipt_pdf"])
    # a second supplement: the dossier no longer waits for one; nothing changes
    again, _, err = cli(capsys, "dossier", "supplement", code, str(papers.card))
    assert again == 2 and "không chờ bổ sung" in err
    shown = cli_json(capsys, "dossier", "show", code)
    assert [(c["key"], c["files"]) for c in shown["components"]] == [
        ("to-khai-khai-sinh", ["to-khai.png"]),
        ("cccd", ["cccd.jpg"]),
        ("giay-chung-sinh", []),  # optional, not brought
    ]
    assert shown["supplement_rounds"] == 1 and shown["result_number"] is None
    assert cli_json(capsys, "dossier", "accept", code)["status"] == "processing"

    # --- the web: the same papers, in the same order, in an office with the same calendar ---
    world = build_world(_home(tmp_path / "web-home"), s3_config)
    clerk = sign_in(world.app, "clerk")
    job = _wait_job(world, clerk, clerk.post(
        "/api/v1/dossiers", headers=csrf_header(clerk), files=_upload(papers.declaration),
        data={"procedure": "dang-ky-khai-sinh", "received_at": FIRST_AT}))  # fmt: skip
    web_code = job["dossier_code"]
    page = clerk.get(f"/dossiers/{web_code}")
    assert 'data-testid="supplement-form"' in page.text and "Kiểm tra thành phần hồ sơ" in page.text
    job = _wait_job(world, clerk, clerk.post(
        f"/api/v1/dossiers/{web_code}/supplement", headers=csrf_header(clerk),
        files=_upload(papers.card), data={"received_at": SUPPLIED_AT}))  # fmt: skip
    assert job["dossier_code"] == web_code
    web = world.services.register.get(web_code)
    assert (web.status.value, web.due_date) == ("received", dt.date(2026, 4, 29))
    r = clerk.post(f"/api/v1/dossiers/{web_code}/accept", headers=csrf_header(clerk))
    assert r.status_code == 200 and r.json()["status"] == "processing"

    # The journal says the same from both doors, actor aside.
    cli_entries, web_entries = _journal(cli_home, code), _journal(world, web_code)
    assert [a for a, _ in cli_entries] == [
        "dossier.received",
        "dossier.supplement_received",
        "dossier.accepted",
    ]
    assert cli_entries == web_entries

    # Withdrawal: who asked is required, then recorded; the journal still agrees.
    no_one, _, err = cli(capsys, "dossier", "withdraw", code, "--requested-by", " ")
    assert no_one == 2 and "người đề nghị rút" in err
    withdrawn = cli_json(capsys, "dossier", "withdraw", code, "--requested-by", "Trần Văn Bình")
    assert withdrawn["status"] == "withdrawn"
    assert "Trần Văn Bình" in withdrawn["history"][-1]["note"]
    r = clerk.post(f"/api/v1/dossiers/{web_code}/withdrawal", headers=csrf_header(clerk),
                   json={"requested_by": "Trần Văn Bình"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert _journal(cli_home, code) == _journal(world, web_code)

    history = cli_json(capsys, "dossier", "history", code)
    assert [e["action"] for e in history][-1] == "dossier.withdrawn"
    assert all(e["actor"].startswith("cli:") and e["at"] for e in history)
    # Withdrawn today: counted apart from today on, still pending at the end of April.
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date().isoformat()
    report = cli_json(capsys, "report", "--from", "2026-04-01", "--to", today)
    assert (report["total"]["withdrawn"], report["total"]["pending"]) == (1, 0)
    april = cli_json(capsys, "report", "--from", "2026-04-01", "--to", "2026-04-30")
    assert (april["total"]["withdrawn"], april["total"]["pending"]) == (0, 1)
    clerk.close()


@pytest.mark.slow
def test_certified_copy_takes_the_original_the_clerk_names_and_refusal_needs_reasons(
    cli_home: Path, papers: Papers, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = tmp_path / "ban-chinh.png"
    original.write_bytes(papers.declaration.read_bytes())
    # Bad assignments are refused before anything is read or registered.
    for args, reason in [
        (["--component", "khong-co=ban-chinh.png"], "không phải thành phần"),
        (["--component", "ban-chinh=khac.png"], "không nằm trong các tệp nộp"),
        (["--component", "ban-chinh=ban-chinh.png", "--component", "ban-sao=ban-chinh.png"],
         "gán hai lần"),
    ]:  # fmt: skip
        code, _, err = cli(capsys, "intake", str(original), "--procedure", "chung-thuc-ban-sao",
                           *args)  # fmt: skip
        assert code == 2 and reason in err, err
    assert current_office().register.list() == []

    taken = cli_json(capsys, "intake", str(original), "--procedure", "chung-thuc-ban-sao",
                     "--component", "ban-chinh=ban-chinh.png")  # fmt: skip
    code = taken["dossier_code"]
    assert (taken["status"], taken["missing_components"]) == ("received", [])
    assert len(taken["documents"]) == 1
    assert taken["receipt_pdf"] and "Giấy tờ khác" not in _text(taken["receipt_pdf"])
    shown = cli_json(capsys, "dossier", "show", code)
    assert shown["components"][0] == {"key": "ban-chinh", "label": shown["components"][0]["label"],
                                      "required": True, "files": ["ban-chinh.png"],
                                      "positions": [1], "confirmed": True}  # fmt: skip

    no_reason, _, err = cli(capsys, "dossier", "refuse", code)
    assert no_reason == 2 and "lý do" in err
    assert current_office().register.get(code).status.value == "received"
    refused = cli_json(capsys, "dossier", "refuse", code, "--reason", "Bản chính bị tẩy xóa")
    assert refused["status"] == "refused"
    text = _text(refused["refusal_pdf"])
    assert "TỪ CHỐI" in text.upper() and "Bản chính bị tẩy xóa" in text and code in text
    late, _, err = cli(capsys, "dossier", "refuse", code, "--reason", "lần hai")
    assert late == 1 and "cannot become refused" in err  # a closed dossier stays closed
    assert [a for a, _ in _journal(cli_home, code)] == ["dossier.received", "dossier.refused"]


@pytest.mark.slow
def test_the_dossier_page_confirms_components_and_refuses(tmp_path: Path) -> None:
    """The clerk's checklist and the refusal form on the page (no OCR: registered directly)."""
    from web_helpers import take_in

    world = build_world(_home(tmp_path / "home"))
    dossier = take_in(world.services, procedure="chung-thuc-ban-sao", kinds=("unknown",))
    assert dossier.status.value == "supplement_requested"  # nothing says it is the original
    clerk = sign_in(world.app, "clerk")
    page = clerk.get(f"/dossiers/{dossier.code}")
    assert 'data-testid="components-form"' in page.text and "Giấy tờ khác" in page.text
    assert "unknown" not in page.text.split('id="components"')[1].split("</section>")[0]
    form = {"csrftoken": csrf_from(page.text), "component:1": "ban-chinh"}
    r = clerk.post(f"/dossiers/{dossier.code}/components", data=form, follow_redirects=False)
    assert r.status_code == 303
    after = world.services.register.get(dossier.code)
    assert (after.status.value, after.missing_components) == ("received", ())
    assert after.documents[0].component == "ban-chinh" and after.documents[0].confirmed
    page = clerk.get(f"/dossiers/{dossier.code}")
    assert "Hồ sơ đủ thành phần" in page.text
    r = clerk.post(f"/dossiers/{dossier.code}/refusal", follow_redirects=False,
                   data={"csrftoken": csrf_from(page.text), "reasons": ""})  # fmt: skip
    assert r.status_code == 303
    assert world.services.register.get(dossier.code).status.value == "received"
    r = clerk.post(f"/api/v1/dossiers/{dossier.code}/refusal", headers=csrf_header(clerk),
                   json={"reasons": ["Bản chính không rõ nét"]})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "refused"
    pdf = clerk.get(f"/api/v1/dossiers/{dossier.code}/refusal.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    actions = [a for a, _ in _journal(world, dossier.code)]
    assert actions == ["dossier.components_confirmed", "dossier.refused"]
    clerk.close()


def test_a_result_motcua_does_not_draft_is_uploaded_over_the_api(
    tmp_path: Path, s3_config: S3Config
) -> None:
    from reportlab.pdfgen import canvas

    world = build_world(_home(tmp_path / "web-home"), s3_config)
    dossier = take_in(world.services, procedure="dang-ky-ket-hon",
                      kinds=("to-khai-ket-hon", "cccd"))  # fmt: skip
    scan = tmp_path / "ket-qua.pdf"
    page = canvas.Canvas(str(scan))
    page.drawString(72, 760, "GIAY CHUNG NHAN KET HON")
    page.showPage()
    page.save()
    url = f"/api/v1/dossiers/{dossier.code}/result-file"
    files = {"file": ("ket qua %22.pdf", scan.read_bytes(), "application/pdf")}

    leader = sign_in(world.app, "leader")  # leaders sign; the clerk files paper results
    assert leader.post(url, headers=csrf_header(leader), files=files).status_code == 403
    clerk = sign_in(world.app, "clerk")
    r = clerk.post(url, headers=csrf_header(clerk), files=files, data={"number": "3/KH"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["status"], body["result_number"]) == ("scan", "result_signed",
                                                                     "3/KH")  # fmt: skip
    assert world.services.archive.verify(body["record_id"]).ok
    actions = [a for a, _ in _journal(world, dossier.code)]
    assert "result.uploaded" in actions
    again = clerk.post(url, headers=csrf_header(clerk), files=files)
    assert again.status_code == 400 and "đã có kết quả" in again.json()["detail"]
    text = clerk.post(url, headers=csrf_header(clerk),
                      files={"file": ("a.txt", b"not a scan", "text/plain")})  # fmt: skip
    assert text.status_code == 400
