"""Uploads: size-limited and type-checked by content (magic bytes), never by name or header.

`receive_upload` streams one `UploadFile` to a folder, stopping as soon as it passes the size
limit, hashes it, and identifies its type with `filetype` from the first bytes. `BodySizeLimit`
refuses a request body larger than a bound before the multipart parser spools it to disk. Ready
for the intake endpoint; the accepted types are what scanners and phones produce.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Protocol

import filetype

from motcua.errors import InputFileError
from motcua.types import nfc

# MIME type → file suffix the archive uses
SCAN_TYPES: Mapping[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/webp": ".webp",
}
# one intake request takes at most this many files; the request body limit in app.py is sized
# for this many uploads of the per-file maximum
MAX_FILES_PER_REQUEST = 16
_CHUNK = 1024 * 1024
_HEAD = 8192


class AsyncReadable(Protocol):
    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class CheckedUpload:
    path: Path  # where the content now is, with the suffix of its real type
    filename: str  # the name the client gave, reduced to a safe base name, NFC
    mime: str
    size: int
    sha256: str


def safe_filename(name: str | None) -> str:
    """The base name of a client-supplied path, NFC, without control characters."""
    raw = nfc(name or "")
    base = PureWindowsPath(PurePosixPath(raw).name).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return cleaned[:200] or "tep-tai-len"


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes show, or None when they match nothing known."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    # PDF allows up to 1024 bytes of junk before the header; old scanners write some.
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    return None


def check_type(head: bytes, name: str, allowed: Mapping[str, str] = SCAN_TYPES) -> str:
    mime = sniff(head)
    if mime is None or mime not in allowed:
        shown = mime or "không xác định (unknown)"
        raise InputFileError(
            name,
            f"loại tệp {shown} không được nhận (file type not accepted)",
            hint="tải lên PDF, JPEG, PNG, TIFF hoặc WebP (upload a PDF or an image)",
        )
    return mime


async def receive_upload(
    upload: AsyncReadable,
    folder: Path,
    *,
    max_bytes: int,
    allowed: Mapping[str, str] = SCAN_TYPES,
) -> CheckedUpload:
    """Stream `upload` into `folder`; `InputFileError` when too large, empty or of a wrong type."""
    name = safe_filename(upload.filename)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise InputFileError(
                        name,
                        f"tệp lớn hơn giới hạn {_mib(max_bytes)} (file larger than the limit)",
                        hint="quét lại với độ phân giải thấp hơn hoặc tách tệp (rescan or split)",
                    )
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InputFileError(
                name, "tệp rỗng (empty file)", hint="chọn lại tệp (pick the file again)"
            )
        mime = check_type(head, name, allowed)
        await asyncio.to_thread(_gate, Path(tmp), name)
        target = folder / f"{digest.hexdigest()}{allowed[mime]}"
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return CheckedUpload(target, name, mime, size, digest.hexdigest())


def _gate(path: Path, name: str) -> None:
    """The input gate (pages, pixels, frames, bombs) on the received bytes, naming the upload."""
    from motcua.inputs import check_file

    try:
        check_file(path)
    except InputFileError as exc:
        raise InputFileError(name, exc.reason, hint=exc.hint) from None


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, counted as it streams in."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send)
            return
        seen = 0
        response_started = False

        async def counted_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Any) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if not response_started:
                await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any) -> None:
    body = "Dữ liệu gửi lên quá lớn (request body too large)".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
