"""The archive pages and API on the session's real S3 server: search with and without
diacritics, the record page, a verified download, the fixity audit finding a forged version."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas
from web_helpers import WebWorld, build_world, csrf_from, sign_in

from storage.record import RecordInfo, record_prefix
from storage.s3 import S3Config

ID = "048190012345"


@pytest.fixture
def archived(tmp_path: Path, s3_config: S3Config) -> tuple[WebWorld, str, dict[str, bytes]]:
    world = build_world(tmp_path / "home", s3_config)
    declaration = tmp_path / "to-khai.txt"
    declaration.write_text(
        "TỜ KHAI ĐĂNG KÝ KHAI SINH\nHọ, chữ đệm, tên người yêu cầu: Nguyễn Thị Hằng\n"
        f"Số định danh cá nhân: {ID}\n",
        encoding="utf-8",
    )
    result = tmp_path / "giay-khai-sinh.pdf"
    pdf = canvas.Canvas(str(result))
    pdf.drawString(72, 760, "GIAY KHAI SINH - Le Van An")
    pdf.save()
    info = RecordInfo(dossier_code=world.signed.code, title="Đăng ký khai sinh cho Lê Văn An",
                      procedure="dang-ky-khai-sinh", id_numbers=(ID,), keywords=("khai sinh",),
                      text=declaration.read_text(encoding="utf-8"))  # fmt: skip
    put = world.services.archive.put([declaration, result], info)
    files = {p.name: p.read_bytes() for p in (declaration, result)}
    return world, put.record_id, files


def test_search_with_and_without_diacritics(
    archived: tuple[WebWorld, str, dict[str, bytes]],
) -> None:
    world, record_id, _ = archived
    archivist = sign_in(world.app, "archivist")
    for q in ("Nguyễn Thị Hằng", "nguyen thi hang"):
        hits = archivist.get("/api/v1/archive/search", params={"q": q}).json()
        assert [h["record_id"] for h in hits] == [record_id], q
    hits = archivist.get("/api/v1/archive/search", params={"id_number": ID}).json()
    assert [h["dossier_code"] for h in hits] == [world.signed.code]
    assert archivist.get("/api/v1/archive/search", params={"q": "ket hon"}).json() == []
    page = archivist.get("/archive", params={"q": "so dinh danh ca nhan"})
    assert f"/archive/records/{record_id}" in page.text
    assert ID not in page.text  # snippets mask ID numbers
    assert "Đăng ký khai sinh cho Lê Văn An" in page.text
    # the matched words are highlighted in the record's own spelling, the rest escaped
    assert "<mark>Số</mark> <mark>định</mark> <mark>danh</mark> <mark>cá</mark>" in page.text
    [hit] = archivist.get("/api/v1/archive/search", params={"q": "hằng"}).json()
    assert "<mark>Hằng</mark>" in hit["snippet_html"] and ID not in hit["snippet_html"]
    assert "[Hằng]" in hit["snippet"]


def test_record_page_download_and_history(
    archived: tuple[WebWorld, str, dict[str, bytes]],
) -> None:
    world, record_id, files = archived
    archivist = sign_in(world.app, "archivist")
    page = archivist.get(f"/archive/records/{record_id}")
    assert page.status_code == 200
    assert "Thời hạn bảo quản" in page.text
    assert ID in page.text  # the archivist sees the number in full on the record
    for name, content in files.items():
        r = archivist.get(f"/archive/records/{record_id}/files/{name}")
        assert r.status_code == 200
        assert r.content == content
    assert "filename*=UTF-8''giay-khai-sinh.pdf" in r.headers["content-disposition"]
    assert r.headers["content-type"] == "application/pdf"
    r = archivist.get(f"/archive/records/{record_id}/files/khong-co.pdf")
    assert r.status_code == 404
    page = archivist.get(f"/archive/records/{record_id}")
    # the history names the download in Vietnamese, by the person (never the raw codes)
    assert "Tải tệp lưu trữ" in page.text and "Cán bộ archivist" in page.text
    assert "archive.file_downloaded" not in page.text and "user:archivist" not in page.text
    bearer = {"Authorization": f"Bearer {world.token}"}
    metadata = TestClient(world.app).get(f"/api/v1/archive/records/{record_id}", headers=bearer)
    assert metadata.json()["id_numbers"] == ["048******345"]  # the e-office system gets it masked
    r = TestClient(world.app).get(f"/api/v1/archive/records/{record_id}/files/to-khai.txt",
                                  headers=bearer)  # fmt: skip
    assert r.content == files["to-khai.txt"]


def test_fixity_audit_finds_a_forged_version(
    archived: tuple[WebWorld, str, dict[str, bytes]],
) -> None:
    world, record_id, files = archived
    archivist = sign_in(world.app, "archivist")
    page = archivist.get(f"/archive/records/{record_id}")
    r = archivist.post(f"/archive/records/{record_id}/verify",
                       data={"csrftoken": csrf_from(page.text)})  # fmt: skip
    assert r.status_code == 200
    assert "Kiểm tra toàn vẹn:" in r.text and "không có thay đổi" in r.text
    archive = world.services.archive
    forged = b"%PDF-1.4 forged result"
    archive.client.put_object(archive.buckets.archive,
                              record_prefix(record_id) + "data/giay-khai-sinh.pdf",
                              io.BytesIO(forged), len(forged))  # fmt: skip
    token = {"x-csrftoken": archivist.cookies["csrftoken"]}
    verdict = archivist.post(f"/api/v1/archive/records/{record_id}/verify", headers=token).json()
    assert verdict["ok"] is False
    assert [f["object"] for f in verdict["findings"]] == ["data/giay-khai-sinh.pdf"]
    # The download still serves the archived version, not the forgery.
    r = archivist.get(f"/archive/records/{record_id}/files/giay-khai-sinh.pdf")
    assert r.content == files["giay-khai-sinh.pdf"]
    actions = [e.action for e in world.services.audit.entries(target_id=record_id)]
    assert actions.count("archive.verified") == 2
    for role in ("clerk", "leader"):
        assert sign_in(world.app, role).get("/archive").status_code == 403
