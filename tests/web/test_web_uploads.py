"""Uploads: the size limit and the type check by content, and the request body limit."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from reportlab.pdfgen import canvas
from starlette.datastructures import UploadFile
from web_helpers import WebWorld, build_world

from motcua.errors import InputFileError
from motcua.web.uploads import CheckedUpload, receive_upload, safe_filename


def _pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Giấy khai sinh")
    page.save()
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def _receive(data: bytes, name: str, folder: Path, max_bytes: int = 1 << 20) -> CheckedUpload:
    upload = UploadFile(io.BytesIO(data), filename=name)
    return asyncio.run(receive_upload(upload, folder, max_bytes=max_bytes))


@pytest.mark.parametrize(
    ("make", "mime", "suffix"),
    [(_pdf, "application/pdf", ".pdf"), (_png, "image/png", ".png"),
     (_jpeg, "image/jpeg", ".jpg")],
)  # fmt: skip
def test_accepted_types_by_content(make: object, mime: str, suffix: str, tmp_path: Path) -> None:
    data = make()  # type: ignore[operator]
    checked = _receive(data, "scan.bin", tmp_path)  # the name's suffix plays no part
    assert checked.mime == mime
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.path == tmp_path / f"{checked.sha256}{suffix}"
    assert checked.path.read_bytes() == data


def test_a_disguised_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="không được nhận") as caught:
        _receive(b"#!/bin/sh\necho hello\n" * 10, "giay-khai-sinh.pdf", tmp_path)
    assert caught.value.path == "giay-khai-sinh.pdf"
    zip_bytes = b"PK\x03\x04" + b"\x00" * 100
    with pytest.raises(InputFileError, match="application/zip"):
        _receive(zip_bytes, "scan.pdf", tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_too_large_and_empty_files_are_refused(tmp_path: Path) -> None:
    data = _pdf() + b"\n%" + b"x" * 5000
    with pytest.raises(InputFileError, match="lớn hơn giới hạn"):
        _receive(data, "big.pdf", tmp_path, max_bytes=4096)
    with pytest.raises(InputFileError, match="rỗng"):
        _receive(b"", "empty.pdf", tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert _receive(data, "ok.pdf", tmp_path, max_bytes=len(data)).size == len(data)


def test_client_file_names_are_reduced_to_a_safe_base_name() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\lan\\Tờ khai.pdf") == "Tờ khai.pdf"
    assert safe_filename("To\u0302\u0300 khai.pdf") == "Tồ khai.pdf"  # NFD in, NFC out
    assert safe_filename("a\x00b\nc.pdf") == "abc.pdf"
    assert safe_filename("") == "tep-tai-len"
    assert safe_filename(None) == "tep-tai-len"


def test_an_oversized_request_body_is_refused_before_parsing(shared_world: WebWorld) -> None:
    limit = shared_world.services.upload_max_bytes * 16 + 1024 * 1024
    client = TestClient(shared_world.app)
    r = client.post("/login", content=b"x" * 10, headers={"Content-Length": str(limit + 1)})
    assert r.status_code == 413
    assert "quá lớn" in r.text


def test_a_body_without_length_is_counted_as_it_streams(tmp_path: Path) -> None:
    world = build_world(tmp_path / "home", upload_max_mb=0.01)
    limit = world.services.upload_max_bytes * 16 + 1024 * 1024
    client = TestClient(world.app)
    chunks = (b"x" * 65536 for _ in range(limit // 65536 + 2))
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # the CSRF check reads it all
    r = client.post("/login", content=chunks, headers=form)
    assert r.status_code == 413
    small = client.post("/login", content=(b"x" * 1024 for _ in range(2)), headers=form)
    assert small.status_code == 403  # reached the app (and its CSRF check)
