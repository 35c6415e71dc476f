"""asgi-csrf on the python-multipart we pin: the CSRF token of an upload form.

asgi-csrf 0.11 reads the token of a multipart form with `FormParser(FileClass=...)`, an argument
python-multipart 0.0.26 removed (simonw/asgi-csrf#38; the fix, #39, is not released): every
upload form sent by a browser failed with a 500. `repair_multipart_csrf()` puts a streaming reader
with the same contract in its place, only while the installed python-multipart lacks the
argument; `create_app` calls it. Remove this module when asgi-csrf releases the fix.
"""

from __future__ import annotations

from typing import Any


async def _multipart_csrftoken(boundary: bytes, receive: Any) -> tuple[str | None, Any]:
    """asgi-csrf's multipart token reader, on python-multipart's current parser API.

    asgi-csrf 0.11 builds `FormParser(FileClass=...)`, which python-multipart 0.0.26 removed
    (simonw/asgi-csrf#38, fix pending in #39): every upload form sent with cookies failed with
    a 500. Same contract as the original: stream the body until the `csrftoken` field, refuse
    a file part before it, and replay what was read.
    """
    import asgi_csrf
    from python_multipart.multipart import MultipartParser, parse_options_header

    messages: list[Any] = []
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    headers: dict[bytes, bytes] = {}
    part: dict[str, Any] = {"name": None, "data": bytearray()}

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        headers[bytes(header["field"]).lower()] = bytes(header["value"])
        header["field"].clear()
        header["value"].clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition"))
        if b"filename" in options:
            raise asgi_csrf.FileBeforeToken
        part["name"] = options.get(b"name")
        part["data"].clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part["name"] == b"csrftoken" and len(part["data"]) < 4096:
            part["data"] += data[start:end]

    def on_part_end() -> None:
        if part["name"] == b"csrftoken":
            raise asgi_csrf.TokenFound(bytes(part["data"]).decode("utf-8", "replace"))

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})  # fmt: skip

    async def replay_receive() -> Any:
        return messages.pop(0) if messages else await receive()

    more_body = True
    try:
        while more_body:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            parser.write(message.get("body", b""))
            more_body = message.get("more_body", False)
    except asgi_csrf.TokenFound as found:
        return str(found.args[0]), replay_receive
    return None, replay_receive


def repair_multipart_csrf() -> None:
    """Use `_multipart_csrftoken` while asgi-csrf calls the removed `FileClass` argument."""
    import inspect

    import asgi_csrf
    from python_multipart import FormParser

    if "FileClass" not in inspect.signature(FormParser.__init__).parameters:
        asgi_csrf._parse_multipart_form_data = _multipart_csrftoken
