"""CSRF around asgi-csrf: the token bound to the session, and a multipart reader it can use.

asgi-csrf checks a double-submit cookie: the `csrftoken` form field (or `x-csrftoken` header) must
equal the `csrftoken` cookie, whatever cookie that is, so a token from another session passes
(one planted from a sibling subdomain, say). `CsrfSessionBinding` sits between the session and
asgi-csrf and binds the token to the session: see its docstring.

asgi-csrf 0.11 reads the token of a multipart form with `FormParser(FileClass=...)`, an argument
python-multipart 0.0.26 removed (simonw/asgi-csrf#38; the fix, #39, is not released): every
upload form sent by a browser failed with a 500. `repair_multipart_csrf()` puts a streaming reader
with the same contract in its place, only while the installed python-multipart lacks the
argument; `create_app` calls it. Remove that part when asgi-csrf releases the fix.
"""

from __future__ import annotations

import secrets
from typing import Any

from itsdangerous.url_safe import URLSafeSerializer

CSRF_COOKIE = "csrftoken"  # asgi-csrf's cookie name and signing namespace
SESSION_NONCE = "csrf"
TOKEN_KEY = "motcua.csrftoken"  # scope key of the bound token's getter, for the pages
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfSessionBinding:
    """Make the session's own token the only one asgi-csrf accepts.

    The token is a random nonce kept in the (signed) session, signed as asgi-csrf signs its
    tokens; a page asks for it with `scope[TOKEN_KEY]()` (the nonce is made on first use). On an
    unsafe request the `csrftoken` cookie asgi-csrf compares with is replaced by this session's
    token (by an unguessable one when the session has none), so any other token is refused; on
    the way out the browser gets that cookie whenever it holds another one. Signing in or out
    clears the session, so a session that had a token gets a new one. Requests with an
    `Authorization` header (API tokens, exempt from CSRF) pass untouched, and a response that
    used no token sets no cookie.
    """

    def __init__(self, app: Any, signing_secret: str) -> None:
        self.app = app
        self._signer = URLSafeSerializer(signing_secret)

    def _sign(self, nonce: str) -> str:
        return str(self._signer.dumps(nonce, CSRF_COOKIE))

    def token(self, session: dict[str, Any]) -> str:
        """This session's token (a nonce is added to the session the first time)."""
        nonce = session.get(SESSION_NONCE)
        if not isinstance(nonce, str):
            nonce = secrets.token_urlsafe(16)
            session[SESSION_NONCE] = nonce
        return self._sign(nonce)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        if (
            scope["type"] != "http"
            or scope["path"].startswith("/static/")
            or any(name == b"authorization" for name, _ in headers)
        ):
            await self.app(scope, receive, send)
            return
        session: dict[str, Any] = scope["session"]
        had_token = isinstance(session.get(SESSION_NONCE), str)
        pairs = [pair.strip() for name, value in headers if name == b"cookie"
                 for pair in value.decode("latin-1").split(";") if pair.strip()]  # fmt: skip
        prefix = CSRF_COOKIE + "="
        sent = next((p[len(prefix) :] for p in pairs if p.startswith(prefix)), None)
        if scope["method"] not in _SAFE_METHODS and pairs:
            expected = self.token(session) if had_token else self._sign(secrets.token_hex(16))
            cookie = "; ".join([*(p for p in pairs if not p.startswith(prefix)), prefix + expected])
            headers = [(n, v) for n, v in headers if n != b"cookie"]
            scope = {**scope, "headers": [*headers, (b"cookie", cookie.encode("latin-1"))]}
        scope = {**scope, TOKEN_KEY: lambda: self.token(session)}

        async def send_bound(message: Any) -> None:
            if message["type"] == "http.response.start" and (
                had_token or isinstance(session.get(SESSION_NONCE), str)
            ):
                bound = self.token(session)  # a new one when the route cleared the session
                if bound != sent:
                    cookie = f"{prefix}{bound}; Path=/; SameSite=Lax".encode()
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie)]}  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_bound)


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
