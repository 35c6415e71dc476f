"""The clerk's intake path on the real app: upload through the API and the form, the real
`intake-dossier` flow (embedded Prefect, Tesseract, the session's S3) run as a job, field
corrections, page images, accepting the dossier, and who may do what.

One real intake is shared by the module (`taken`, about half a minute; the tests on it are marked
`slow`); the others work on dossiers registered directly and take a second each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import pypdfium2
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from web_helpers import ID_NUMBER, WebWorld, build_world, csrf_from, csrf_header, sign_in

from dossiers.calendar import VN_TZ
from dossiers.register import DocumentIn, Dossier
from flows.context import current_office
from motcua.types import mask_id
from storage.s3 import S3Config

RECEIVED_AT = "2026-04-29T16:00:00+07:00"  # a Wednesday; due Monday 4/5 (holidays between)


@dataclass
class Receiver:
    """The e-office system's webhook endpoint: a real HTTP server on 127.0.0.1."""

    url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@dataclass
class Taken:
    world: WebWorld
    clerk: TestClient
    files: list[Path]  # the scans as the clerk chose them
    truth: dict[str, Any]  # what the card says
    accepted: Any  # the 202 response
    job: dict[str, Any]  # the finished job, as the API reports it
    receiver: Receiver

    @property
    def code(self) -> str:
        return str(self.job["result"]["dossier_code"])


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.events.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            state.arrived.set()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _scans(folder: Path) -> tuple[list[Path], dict[str, Any]]:
    """A birth-registration declaration as a scanned PDF and the requester's ID-card photo."""
    from samples.documents import make_card, make_declaration

    folder.mkdir(parents=True, exist_ok=True)
    declaration, card = make_declaration(11, "clean"), make_card(12, "clean")
    pdf = folder / "tờ khai khai sinh.pdf"
    rgb = cv2.cvtColor(declaration.image, cv2.COLOR_BGR2RGB)
    Image.fromarray(rgb).save(pdf, format="PDF", resolution=300.0)
    photo = folder / "cccd.jpg"
    cv2.imwrite(str(photo), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return [pdf, photo], dict(card.truth)


def _uploads(files: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]


@pytest.fixture(scope="module")
def taken(
    tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config, receiver: Receiver
) -> Iterator[Taken]:
    """A clerk takes a real dossier in through the API; the flow runs to completion."""
    base = tmp_path_factory.mktemp("intake")
    world = build_world(base / "home", s3_config, webhook_url=receiver.url,
                        webhook_secret="khoa-webhook")  # fmt: skip
    files, truth = _scans(base / "scans")
    clerk = sign_in(world.app, "clerk")
    try:
        accepted = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk),
                              data={"procedure": "dang-ky-khai-sinh", "received_at": RECEIVED_AT},
                              files=_uploads(files))  # fmt: skip
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        world.services.jobs.wait(job_id, timeout=400)
        job = clerk.get(accepted.headers["location"]).json()
        assert job["state"] == "completed", job
        yield Taken(world, clerk, files, truth, accepted, job, receiver)
    finally:
        clerk.close()


def _uploaded(world: WebWorld) -> list[str]:
    root = world.home / "uploads"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _register(world: WebWorld, name: str, fields: dict[str, Any], salt: str) -> Dossier:
    """A received birth-registration dossier, registered directly, with one scanned document
    whose original is a real PDF in the world's home and one whose original is gone."""
    svc = world.services
    scan = world.home / "scans" / f"{salt}.pdf"
    scan.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2480, 3508), "white").save(scan, format="PDF", resolution=300.0)
    docs = [
        DocumentIn(path=str(scan), kind="to-khai-khai-sinh", page_count=1,
                   sha256=hashlib.sha256(scan.read_bytes()).hexdigest(),
                   fields={"nguoi_yeu_cau.ho_ten": {"value": name, "needs_review": False}}),
        DocumentIn(path=f"/scans/gone-{salt}.jpg", kind="cccd", fields=fields, page_count=1,
                   sha256=hashlib.sha256(f"cccd{salt}".encode()).hexdigest()),
    ]  # fmt: skip
    at = dt.datetime(2026, 4, 28, 9, 0, tzinfo=VN_TZ)
    return svc.register.intake(svc.catalogue.get("dang-ky-khai-sinh"), docs, received_at=at,
                               citizen_name=name).dossier  # fmt: skip


def _card_fields(name: str = "Nguyễn Văn An") -> dict[str, Any]:
    return {
        "so_dinh_danh": {"value": ID_NUMBER, "confidence": 0.97, "needs_review": False},
        "ho_ten": {"value": name, "confidence": 0.55, "needs_review": True},
    }


# --- taking a dossier in ----------------------------------------------------------------------


@pytest.mark.slow
def test_intake_through_the_api_registers_the_dossier(taken: Taken) -> None:
    world, clerk = taken.world, taken.clerk
    accepted = taken.accepted.json()
    assert accepted["kind"] == "intake" and accepted["state"] in ("queued", "running")
    assert taken.accepted.headers["location"] == f"/api/v1/jobs/{accepted['id']}"

    result = taken.job["result"]
    assert re.fullmatch(r"H40\.29\.10-260429-\d{4}", taken.code)
    assert taken.job["dossier_code"] == taken.code  # the job names its dossier
    assert (result["created"], result["status"]) == (True, "received")
    assert (result["due_date"], result["missing_components"]) == ("2026-05-04", [])
    assert sorted(d["kind"] for d in result["documents"]) == ["cccd", "to-khai-khai-sinh"]
    assert result["record_id"]
    # The job is readable by every role: it carries links, never paths or extracted values.
    assert str(world.home) not in json.dumps(taken.job)
    assert str(taken.truth["so_dinh_danh"]) not in json.dumps(taken.job)

    receipt = clerk.get(result["receipt_url"])
    assert receipt.headers["content-type"] == "application/pdf"
    text = pypdfium2.PdfDocument(io.BytesIO(receipt.content))[0].get_textpage().get_text_range()
    assert taken.code in text and "GIẤY TIẾP NHẬN HỒ SƠ" in text

    d = clerk.get(result["dossier_url"]).json()
    assert (d["status"], d["received_at"]) == ("received", RECEIVED_AT)
    cccd = next(doc for doc in d["documents"] if doc["kind"] == "cccd")
    assert cccd["fields"]["so_dinh_danh"]["value"] == taken.truth["so_dinh_danh"]

    # The originals are kept as uploaded, under the client's names, in one folder of uploads.
    [folder] = {p.split("/")[0] for p in _uploaded(world)}
    kept = world.home / "uploads" / folder
    assert sorted(p.name for p in kept.iterdir()) == ["cccd.jpg", "tờ khai khai sinh.pdf"]
    assert (kept / "cccd.jpg").read_bytes() == taken.files[1].read_bytes()

    audit = world.services.audit
    [submitted] = audit.entries(target_id=accepted["id"])
    assert (submitted.actor, submitted.action) == ("user:clerk", "dossier.intake_submitted")
    assert submitted.details["procedure"] == "dang-ky-khai-sinh"
    assert [f["name"] for f in submitted.details["files"]] == ["tờ khai khai sinh.pdf", "cccd.jpg"]
    entries = audit.entries(target_id=taken.code)
    [received] = [e for e in entries if e.action != "dossier.receipt_printed"]
    assert (received.actor, received.action) == ("user:clerk", "dossier.received")
    # The job names the dossier; the entry itself is the one every door writes (no job id).
    assert clerk.get(f"/api/v1/jobs/{accepted['id']}").json()["dossier_code"] == taken.code
    assert received.details == {"created": True, "status": "received", "documents": 2}

    assert taken.receiver.arrived.wait(10)
    [event] = [e for e in taken.receiver.events if e["event"] == "dossier.received"]
    assert event["data"]["dossier_code"] == taken.code
    assert event["data"]["due_date"] == "2026-05-04"

    page = clerk.get(f"/jobs/{accepted['id']}")
    assert f'href="/dossiers/{taken.code}"' in page.text


@pytest.mark.slow
def test_the_form_takes_the_same_files_in_again_as_the_same_dossier(taken: Taken) -> None:
    world, clerk = taken.world, taken.clerk
    form = clerk.get("/dossiers/new")
    assert form.status_code == 200
    for testid in ("intake-form", "intake-procedure", "intake-files", "intake-drop",
                   "intake-submit", "intake-received-at"):  # fmt: skip
        assert f'id="{testid}" data-testid="{testid}"' in form.text
    assert "Tờ khai đăng ký khai sinh" in form.text  # the components of each procedure
    assert 'href="/dossiers/new"' in form.text  # the menu link
    r = clerk.post("/dossiers/new", follow_redirects=False, files=_uploads(taken.files),
                   data={"csrftoken": csrf_from(form.text), "procedure": "dang-ky-khai-sinh",
                         "received_at": "2026-04-29T16:30"})  # fmt: skip
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].removeprefix("/jobs/")
    world.services.jobs.wait(job_id, timeout=120)
    job = clerk.get(f"/api/v1/jobs/{job_id}").json()
    assert job["state"] == "completed", job
    assert (job["result"]["dossier_code"], job["result"]["created"]) == (taken.code, False)
    page = clerk.get(r.headers["location"])
    assert f"Xem hồ sơ {taken.code}" in page.text
    day = dt.date(2026, 4, 29)
    assert len(world.services.register.list(received_from=day, received_to=day)) == 1


@pytest.mark.slow
def test_a_bad_upload_is_refused_and_nothing_is_kept(taken: Taken) -> None:
    world, clerk = taken.world, taken.clerk
    before = _uploaded(world)
    jobs_before = len(world.services.jobs.recent())
    fake = ("files", ("giay-khai-sinh.pdf", b"day la van ban, khong phai PDF\n", "application/pdf"))
    good = _uploads(taken.files[1:])
    r = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk), files=[*good, fake],
                   data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["detail"].startswith("giay-khai-sinh.pdf: loại tệp")
    assert "PDF" in r.json()["hint"]

    form = clerk.get("/dossiers/new")
    data = {"csrftoken": csrf_from(form.text), "procedure": "dang-ky-khai-sinh"}
    r = clerk.post("/dossiers/new", files=[fake, *good], data=data)
    assert r.status_code == 400
    assert 'data-testid="intake-error"' in r.text and "giay-khai-sinh.pdf" in r.text
    assert '<option value="dang-ky-khai-sinh" selected>' in r.text

    twice = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk), files=[*good, *good],
                       data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert twice.status_code == 400 and "cccd.jpg" in twice.json()["detail"]
    for data, expected in (
        ({"procedure": "khong-co-thu-tuc"}, "unknown procedure"),
        ({"procedure": "dang-ky-khai-sinh", "received_at": "29/04/2026"}, "ISO"),
        ({"procedure": "dang-ky-khai-sinh", "received_at": "2099-01-01T08:00"}, "tương lai"),
    ):
        r = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk), files=good, data=data)
        assert r.status_code == 400 and expected in r.json()["detail"], r.text
    no_files = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk),
                          data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert no_files.status_code == 422

    assert _uploaded(world) == before  # nothing kept, no staging folder left behind
    assert len(world.services.jobs.recent()) == jobs_before


@pytest.mark.slow
def test_an_unreadable_scan_fails_the_job_with_a_readable_error(taken: Taken) -> None:
    """A JPEG whose header is sound is taken; the flow cannot decode it: the job says why.
    (A file whose header is already broken is refused at upload, naming it.)"""
    world, clerk = taken.world, taken.clerk
    garbage = ("files", ("rac.jpg", b"\xff\xd8\xff\xe0" + b"\x00hong" * 64, "image/jpeg"))
    r = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk), files=[garbage],
                   data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert r.status_code == 400 and r.json()["detail"].startswith("rac.jpg: ")
    truncated = taken.files[1].read_bytes()[:3000]
    broken = ("files", ("cccd-hong.jpg", truncated, "image/jpeg"))
    r = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk), files=[broken],
                   data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert r.status_code == 202, r.text
    world.services.jobs.wait(r.json()["id"], timeout=120)
    job = clerk.get(r.headers["location"]).json()
    assert job["state"] == "failed" and job["dossier_code"] is None
    assert job["error"].startswith("cccd-hong.jpg: ") and str(world.home) not in job["error"]
    [failed] = world.services.audit.entries(target_id=job["id"], limit=1)
    assert (failed.action, failed.details["error"]) == ("dossier.intake_failed", job["error"])
    page = clerk.get(f"/jobs/{job['id']}")
    assert 'data-state="failed"' in page.text and "cccd-hong.jpg" in page.text


@pytest.mark.slow
def test_the_intake_endpoints_refuse_who_does_not_take_dossiers_in(taken: Taken) -> None:
    world, code = taken.world, taken.code
    fields_url = f"/api/v1/dossiers/{code}/documents/1/fields"
    image_url = f"/api/v1/dossiers/{code}/documents/1/pages/1.png"
    body = {"fields": {"ho_ten": "X"}}
    for role in ("leader", "archivist"):
        client = sign_in(world.app, role)
        headers = csrf_header(client)
        assert client.post("/api/v1/dossiers", headers=headers, files=_uploads(taken.files[1:]),
                           data={"procedure": "dang-ky-khai-sinh"}).status_code == 403  # fmt: skip
        assert client.patch(fields_url, headers=headers, json=body).status_code == 403
        assert client.post(f"/api/v1/dossiers/{code}/accept", headers=headers).status_code == 403
        assert client.get("/dossiers/new").status_code == 403
        assert client.post(f"/dossiers/{code}/accept", headers=headers).status_code == 403
        page = client.get(f"/dossiers/{code}")
        assert 'href="/dossiers/new"' not in page.text
        assert "fields-form-1" not in page.text and "accept-button" not in page.text
        assert client.get(image_url).status_code == 200  # reading is for every role
    bearer = {"Authorization": f"Bearer {world.token}"}
    anonymous = TestClient(world.app)
    r = anonymous.post("/api/v1/dossiers", headers=bearer, files=_uploads(taken.files[1:]),
                       data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
    assert r.status_code == 403 and "dossiers.intake" in r.json()["detail"]
    assert anonymous.patch(fields_url, headers=bearer, json=body).status_code == 403
    assert anonymous.post(f"/api/v1/dossiers/{code}/accept", headers=bearer).status_code == 403
    assert anonymous.get(image_url, headers=bearer).status_code == 200
    assert anonymous.get(image_url).status_code == 401
    assert anonymous.patch(fields_url, json=body).status_code == 401
    r = anonymous.get("/dossiers/new", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/dossiers/new"
    admin = sign_in(world.app, "admin")
    assert admin.get("/dossiers/new").status_code == 200
    assert "Tiếp nhận hồ sơ" in admin.get("/dossiers").text


# --- reviewing and correcting ----------------------------------------------------------------


@pytest.mark.slow
def test_the_dossier_page_shows_each_document_beside_its_page_image(taken: Taken) -> None:
    page = taken.clerk.get(f"/dossiers/{taken.code}").text
    for position in (1, 2):
        assert f'data-testid="document-{position}"' in page
        assert f'src="/dossiers/{taken.code}/documents/{position}/pages/1.png"' in page
        assert f'data-testid="fields-form-{position}"' in page
        assert f'data-testid="fields-submit-{position}"' in page
    assert 'data-testid="accept-button"' in page and 'data-testid="receipt-link"' in page
    d = taken.clerk.get(f"/api/v1/dossiers/{taken.code}").json()
    flagged = [(doc["position"], key) for doc in d["documents"]
               for key, f in doc["fields"].items() if f.get("needs_review")]  # fmt: skip
    for position, key in flagged:
        assert f'class="field-row needs-review" data-testid="field-row-{position}-{key}"' in page
        assert f'data-testid="confirm-{position}-{key}"' in page
    assert page.count("needs-review") >= len(flagged)


@pytest.mark.slow
def test_page_images_are_pngs_about_1200_pixels_wide(taken: Taken) -> None:
    leader = sign_in(taken.world.app, "leader")
    code = taken.code
    by_kind = {d.kind: d.position for d in taken.world.services.register.get(code).documents}
    for kind, widths in (("to-khai-khai-sinh", {1200}), ("cccd", set(range(200, 1201)))):
        url = f"/api/v1/dossiers/{code}/documents/{by_kind[kind]}/pages/1.png"
        r = leader.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(r.content))
        assert image.format == "PNG" and image.width in widths, (kind, image.size)
        assert leader.get(url.removeprefix("/api/v1")).status_code == 200  # the page's route
    r = leader.get(f"/api/v1/dossiers/{code}/documents/1/pages/2.png")
    assert r.status_code == 404
    assert leader.get(f"/api/v1/dossiers/{code}/documents/9/pages/1.png").status_code == 404
    gone = _register(taken.world, "Lê Thị Mai", _card_fields(), salt="gone")
    r = leader.get(f"/api/v1/dossiers/{gone.code}/documents/2/pages/1.png")
    assert r.status_code == 404 and "bản quét" in r.json()["detail"]
    assert "Không có bản quét gốc" in leader.get(f"/dossiers/{gone.code}").text


@pytest.mark.slow
def test_correcting_a_real_dossier_through_the_api(taken: Taken) -> None:
    world, clerk, code = taken.world, taken.clerk, taken.code
    documents = world.services.register.get(code).documents
    declaration = next(d for d in documents if d.kind == "to-khai-khai-sinh")
    card = next(d for d in documents if d.kind == "cccd")
    url = f"/api/v1/dossiers/{code}/documents/{{}}/fields"

    nfd = unicodedata.normalize("NFD", "Đặng Thị Thu Hằng")
    r = clerk.patch(url.format(declaration.position), headers=csrf_header(clerk),
                    json={"fields": {"nguoi_yeu_cau.ho_ten": nfd}})  # fmt: skip
    assert r.status_code == 200, r.text
    name = r.json()["documents"][declaration.position - 1]["fields"]["nguoi_yeu_cau.ho_ten"]
    assert name["value"] == "Đặng Thị Thu Hằng"  # stored NFC
    assert unicodedata.is_normalized("NFC", name["value"])
    assert name["needs_review"] is False and name["source"] == "clerk"
    [correction] = name["corrections"]
    assert correction["by"] == "user:clerk"
    assert correction["old"] == declaration.fields["nguoi_yeu_cau.ho_ten"]["value"]
    assert r.json()["citizen_name"] == "Đặng Thị Thu Hằng"  # the receipt's name follows

    old_number = str(card.fields["so_dinh_danh"]["value"])
    r = clerk.patch(url.format(card.position), headers=csrf_header(clerk),
                    json={"fields": {"so_dinh_danh": "079185001234"}})  # fmt: skip
    assert r.status_code == 200, r.text
    number = r.json()["documents"][card.position - 1]["fields"]["so_dinh_danh"]
    assert number["value"] == "079185001234"
    assert number["corrections"][-1]["old"] == mask_id(old_number)

    entries = world.services.audit.entries(target_id=code, limit=10)
    corrected = [e for e in entries if e.action == "dossier.fields_corrected"]
    assert len(corrected) == 2 and all(e.actor == "user:clerk" for e in corrected)
    assert corrected[0].details["fields"]["so_dinh_danh"] == {
        "old": mask_id(old_number), "new": "079******234"}  # fmt: skip
    assert old_number not in json.dumps([e.details for e in entries])

    page = clerk.get(f"/dossiers/{code}").text
    assert 'value="Đặng Thị Thu Hằng"' in page
    assert "Đã sửa bởi Cán bộ clerk" in page
    # Masked for who does not act on the dossier, in the value and in its history.
    leader_view = sign_in(world.app, "leader").get(f"/api/v1/dossiers/{code}").text
    assert old_number not in leader_view and "079185001234" not in leader_view


def test_corrections_are_checked_and_dates_read_as_clerks_write_them(world: WebWorld) -> None:
    fields = {**_card_fields(), "ngay_sinh": {"value": "2003-05-04", "needs_review": False},
              "gioi_tinh": {"value": "Nam", "needs_review": True}}  # fmt: skip
    code = _register(world, "Nguyễn Văn An", fields, salt="typed").code
    clerk = sign_in(world.app, "clerk")
    url = f"/api/v1/dossiers/{code}/documents/2/fields"
    headers = csrf_header(clerk)

    # The API takes dd/mm/yyyy or ISO and stores ISO; a wrong value stores nothing at all.
    bad = {"ngay_sinh": "31/02/2003", "so_dinh_danh": "0012O3012345", "ho_ten": "Nguyễn Văn Ân"}
    r = clerk.patch(url, headers=headers, json={"fields": bad})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "Ngày sinh: “31/02/2003” — phải là ngày có thật" in detail
    assert "Số định danh cá nhân: “0012O3012345” — chỉ được gồm chữ số" in detail
    stored = world.services.register.get(code).documents[1].fields
    assert stored["ho_ten"]["value"] == "Nguyễn Văn An"  # the valid one waited too
    good = {"ngay_sinh": "5/4/2003", "gioi_tinh": "nữ", "so_dinh_danh": "001 203 012 345"}
    r = clerk.patch(url, headers=headers, json={"fields": good})
    assert r.status_code == 200, r.text
    out = r.json()["documents"][1]["fields"]
    assert out["ngay_sinh"]["value"] == "2003-04-05" and out["gioi_tinh"]["value"] == "Nữ"
    assert "corrections" not in out["so_dinh_danh"]  # the same number, spaced: no change

    # The page shows dd/mm/yyyy; sending the form back untouched changes nothing.
    page = clerk.get(f"/dossiers/{code}").text
    assert (
        'data-testid="field-2-ngay_sinh" aria-labelledby="field-2-ngay_sinh-label" '
        'value="05/04/2003"' in page
    )
    assert "giá trị cũ: “04/05/2003”" in page
    form = {"csrftoken": csrf_from(page), "field:ngay_sinh": "05/04/2003", "field:ho_ten":
            "Nguyễn Văn An", "field:so_dinh_danh": ID_NUMBER, "field:gioi_tinh": "Nữ"}  # fmt: skip
    before = world.services.register.get(code).documents[1].fields
    r = clerk.post(f"/dossiers/{code}/documents/2/fields", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert world.services.register.get(code).documents[1].fields == before
    assert "Không có thay đổi nào để lưu." in clerk.get(f"/dossiers/{code}").text

    # A wrong value in the form is refused by name; the right ones beside it are kept.
    page = clerk.get(f"/dossiers/{code}").text
    form |= {"csrftoken": csrf_from(page), "field:ngay_sinh": "2003-13-01",
             "field:ho_ten": "Nguyễn Văn Ân"}  # fmt: skip
    clerk.post(f"/dossiers/{code}/documents/2/fields", data=form, follow_redirects=False)
    after = world.services.register.get(code).documents[1].fields
    assert after["ho_ten"]["value"] == "Nguyễn Văn Ân"
    assert after["ngay_sinh"]["value"] == "2003-04-05"
    page = clerk.get(f"/dossiers/{code}").text
    assert "Đã lưu 1 trường" in page
    assert "Chưa lưu: Ngày sinh: “2003-13-01” — phải là ngày có thật, dạng dd/mm/yyyy." in page


def test_correction_rules_and_the_form(world: WebWorld) -> None:
    dossier = _register(world, "Nguyễn Văn An", _card_fields(), salt="form")
    code = dossier.code
    clerk = sign_in(world.app, "clerk")
    url = f"/api/v1/dossiers/{code}/documents/2/fields"
    headers = csrf_header(clerk)
    r = clerk.patch(url, headers=headers, json={"fields": {"khong_co_truong_nay": "x"}})
    assert r.status_code == 400 and "khong_co_truong_nay" in r.json()["detail"]
    r = clerk.patch(url, headers=headers, json={"fields": {"que_quan": "Xã Hòa Tiến"}})
    assert r.status_code == 200  # not read, but a field of the card's template
    assert r.json()["documents"][1]["fields"]["que_quan"]["value"] == "Xã Hòa Tiến"
    one = {"fields": {"ho_ten": "x"}}
    missing = f"/api/v1/dossiers/{code}/documents/7/fields"
    assert clerk.patch(missing, headers=headers, json=one).status_code == 404
    nobody = "/api/v1/dossiers/H40.29.10-260428-9999/documents/1/fields"
    assert clerk.patch(nobody, headers=headers, json=one).status_code == 404
    assert clerk.patch(url, headers=headers, json={"fields": {}}).status_code == 422

    # The form: the flagged name is highlighted; ticking "right" confirms it unchanged.
    page = clerk.get(f"/dossiers/{code}").text
    assert 'class="field-row needs-review" data-testid="field-row-2-ho_ten"' in page
    assert 'id="field-1-nguoi_yeu_cau--ho_ten" data-testid="field-1-nguoi_yeu_cau.ho_ten"' in page
    r = clerk.post(f"/dossiers/{code}/documents/2/fields", follow_redirects=False,
                   data={"csrftoken": csrf_from(page), "field:ho_ten": "Nguyễn Văn An",
                         "field:so_dinh_danh": ID_NUMBER, "confirm:ho_ten": "1"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/dossiers/{code}#doc-2"
    fields = world.services.register.get(code).documents[1].fields
    assert fields["ho_ten"]["needs_review"] is False
    assert fields["ho_ten"]["corrections"][0]["old"] == "Nguyễn Văn An"  # confirmed as read
    assert "corrections" not in fields["so_dinh_danh"]  # unchanged, not touched
    page = clerk.get(f"/dossiers/{code}").text
    assert "Đã lưu 1 trường" in page and "Đã xác nhận bởi Cán bộ clerk" in page
    assert "needs-review" not in page

    # Accept: received → processing, audited, once.
    assert 'data-testid="accept-button"' in page
    r = clerk.post(f"/dossiers/{code}/accept", data={"csrftoken": csrf_from(page)},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert world.services.register.get(code).status.value == "processing"
    r = clerk.post(f"/api/v1/dossiers/{code}/accept", headers=headers)
    assert r.status_code == 409 and "không ở trạng thái chờ tiếp nhận" in r.json()["detail"]
    actions = [e.action for e in world.services.audit.entries(target_id=code)]
    assert actions == ["dossier.accepted", "dossier.fields_corrected", "dossier.fields_corrected"]

    # Once the result is signed, the values it was signed from stay as they are.
    world.services.register.mark_result_signed(code)
    r = clerk.patch(url, headers=headers, json={"fields": {"ho_ten": "Nguyễn Văn Bình"}})
    assert r.status_code == 409 and "can no longer be corrected" in r.json()["detail"]
    page = clerk.get(f"/dossiers/{code}").text
    assert "fields-form-2" not in page and "Nguyễn Văn An" in page
    assert world.services.register.get(code).documents[1].fields["ho_ten"]["value"] == (
        "Nguyễn Văn An"
    )


def test_upload_forms_carry_their_csrf_token_first(world: WebWorld) -> None:
    """The token is read from the multipart body as it streams in (asgi-csrf's contract)."""
    clerk = sign_in(world.app, "clerk")
    token = csrf_from(clerk.get("/dossiers/new").text)
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(png, format="PNG")

    def part(name: str, value: bytes, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        return f"--b0und\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"

    def send(*parts: bytes) -> Any:
        body = b"".join(parts) + b"--b0und--\r\n"
        kind = {"content-type": "multipart/form-data; boundary=b0und"}
        return clerk.post("/dossiers/new", content=body, headers=kind)

    token_part = part("csrftoken", token.encode())
    file_part = part("files", png.getvalue(), "a.png")
    r = send(token_part, file_part)  # accepted by the CSRF check; the form then wants a procedure
    assert r.status_code == 400 and "Hãy chọn thủ tục hành chính." in r.text
    for parts in ((file_part, token_part), (file_part,), (part("csrftoken", b"x"), file_part)):
        r = send(*parts)
        assert r.status_code == 403 and "CSRF" in r.text
    assert not (world.home / "uploads").exists()


def test_flows_run_on_the_servers_own_settings_whatever_the_environment_says(
    s3_config: S3Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`motcua serve --config x.toml`, or an environment that names another home: the intake
    flow must register the dossier in the server's catalogue and keep its files in the server's
    home, not in the ones the process environment names."""
    world = build_world(tmp_path / "home", s3_config)
    elsewhere = tmp_path / "elsewhere"
    for key in [k for k in os.environ if k.startswith("MOTCUA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MOTCUA_HOME", str(elsewhere))
    current_office.cache_clear()
    try:
        clerk = sign_in(world.app, "clerk")
        png = io.BytesIO()
        Image.new("RGB", (400, 300), "white").save(png, format="PNG")  # nothing to read
        r = clerk.post("/api/v1/dossiers", headers=csrf_header(clerk),
                       files=[("files", ("trang-trang.png", png.getvalue(), "image/png"))],
                       data={"procedure": "dang-ky-khai-sinh"})  # fmt: skip
        assert r.status_code == 202, r.text
        job = world.services.jobs.wait(r.json()["id"], timeout=300)
    finally:
        current_office.cache_clear()
    assert job is not None and job.state == "completed", job
    code = job.result["dossier_code"] if job.result else None
    dossier = world.services.register.get(str(code))  # the server's own register
    assert dossier.status.value == "supplement_requested"  # a blank page is no declaration
    assert (world.services.settings.home / "dossiers" / dossier.code).is_dir()
    assert not elsewhere.exists()
