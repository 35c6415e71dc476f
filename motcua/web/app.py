"""The FastAPI application: middleware, error pages, routers. `create_app(settings)` builds it.

Middleware, outermost first: the trusted proxies' X-Forwarded-For/-Proto (only when
`web_trusted_proxies` names some), `Secure` cookies over HTTPS, security headers and `no-store`,
the body size limit, signed-cookie sessions (Starlette's SessionMiddleware, itsdangerous; the
session names the account's session epoch, which sign-out, a password change and disabling bump,
so the cookie is checked against the account on every request), the CSRF token bound to the
session (`csrf.CsrfSessionBinding`), then CSRF (asgi-csrf: the token checked against the
`csrftoken` form field or the `x-csrftoken` header on every unsafe request that carries cookies,
and on the sign-in form always; Bearer-token API calls carry no cookies and are exempt).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from motcua import __version__
from motcua.errors import (
    BadArgumentError,
    CheckFailedError,
    ConfigurationError,
    InputFileError,
    MotcuaError,
)
from motcua.files import prepare_process
from motcua.settings import Settings
from motcua.web.auth import Forbidden, NotSignedIn, derived_key, is_api
from motcua.web.auth import session_secret as make_session_secret
from motcua.web.csrf import CsrfSessionBinding, repair_multipart_csrf
from motcua.web.pages import LOGIN_PATH, NotFound, for_readers, make_templates, render
from motcua.web.services import Services
from motcua.web.uploads import MAX_FILES_PER_REQUEST

log = logging.getLogger("motcua.web")

HERE = Path(__file__).parent
SESSION_COOKIE = "motcua_session"
SESSION_MAX_AGE = 10 * 3600  # one working day


def create_app(settings: Settings) -> FastAPI:
    """Build the application on the catalogue database named by `settings`."""
    prepare_process(settings.home)  # also when an ASGI server, not `motcua web`, imports it
    services = Services.open(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Events other processes left unsent (a CLI command while the e-office system was down)
        # go out from here too, every MOTCUA_WEBHOOK_POLL_SECONDS.
        outbox, stop = services.core.outbox, threading.Event()
        if outbox is not None:
            outbox.poll(settings.webhook_poll_seconds, stop)
        notices = services.core.notices  # citizens' notices waiting for a retry, likewise
        if notices is not None:
            notices.poll(settings.webhook_poll_seconds, stop)
        try:
            yield
        finally:
            stop.set()
            if outbox is not None:
                outbox.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="motcua",
        version=__version__,
        description="Hồ sơ một cửa: tra cứu, bổ sung, trả kết quả, báo cáo, nhật ký kiểm tra. "
        "API for the e-office system: send `Authorization: Bearer <token>`.",
        openapi_url="/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; the office network has none
        redoc_url=None,
    )
    app.state.services = services
    app.state.templates = make_templates()

    secret = make_session_secret(settings)
    repair_multipart_csrf()
    app.add_middleware(
        asgi_csrf,
        signing_secret=derived_key(secret, "csrf"),
        always_protect={LOGIN_PATH},
        send_csrf_failed=_csrf_failed,
    )
    app.add_middleware(CsrfSessionBinding, signing_secret=derived_key(secret, "csrf"))
    app.add_middleware(
        SessionMiddleware,
        secret_key=derived_key(secret, "session"),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
    )
    from motcua.web.uploads import BodySizeLimit

    app.add_middleware(
        BodySizeLimit, max_bytes=services.upload_max_bytes * MAX_FILES_PER_REQUEST + 1024 * 1024
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SecureCookies, always=settings.secure_cookies_always)
    if settings.trusted_proxies:
        # Outermost: the client address and scheme are settled before anything reads them. Only
        # these proxies' X-Forwarded-For/-Proto count; `motcua serve` runs uvicorn without its own.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_error_handlers(app)

    from motcua.web.routes import (
        accounts,
        archive,
        audit,
        auth,
        desk,
        device_signing,
        dossiers,
        intake,
        jobs,
        lifecycle,
        public,
        reports,
        results,
        signing,
        submissions,
    )

    submissions.create_tables(services)
    for module in (
        auth,
        submissions,
        intake,
        lifecycle,
        dossiers,
        desk,
        jobs,
        reports,
        archive,
        audit,
        accounts,
        signing,
        results,
        device_signing,
        public,
    ):
        app.include_router(module.pages)
        app.include_router(module.api)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from motcua.web.webhook_docs import declare_webhooks

    declare_webhooks(app)
    _declare_bearer_auth(app)
    return app


def _declare_bearer_auth(app: FastAPI) -> None:
    """Tell OpenAPI readers (the e-office system, schemathesis) how the API authenticates."""
    from fastapi.openapi.utils import get_openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version,
                               description=app.description, routes=app.routes,
                               webhooks=app.webhooks.routes)  # fmt: skip
            spec.setdefault("components", {})["securitySchemes"] = {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "an API token from `motcua tokens add`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            }  # fmt: skip
            spec["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


class SecurityHeaders:
    """No framing (clickjacking), no MIME sniffing, no referrer leaving the site, and no copy of
    any response in a cache (pages, API JSON and downloads carry personal data), unless the
    route set its own Cache-Control; static files alone stay cacheable."""

    HEADERS: tuple[tuple[bytes, bytes], ...] = (
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'; form-action 'self'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        no_store = not scope["path"].startswith("/static/")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *self.HEADERS]
                if no_store and not any(name == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class SecureCookies:
    """`Secure` on the cookies of a request that came over HTTPS (directly, or from a trusted TLS
    proxy's X-Forwarded-Proto), and on every cookie when `always` (an https public URL)."""

    def __init__(self, app: Any, always: bool) -> None:
        self.app = app
        self.always = always

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, _secure(v) if n == b"set-cookie" else v)
                           for n, v in message.get("headers", [])]  # fmt: skip
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    attributes = [part.strip().lower() for part in cookie.split(b";")[1:]]
    return cookie if b"secure" in attributes else cookie + b"; Secure"


def _error_page(request: Request, status: int, title: str, detail: str | None = None) -> Response:
    shown = for_readers(detail) if detail else detail
    return render(request, "error.html", {"title": title, "detail": shown, "status": status},
                  status=status)  # fmt: skip


def _api_error(status: int, message: str, hint: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": message}
    if hint:
        body["hint"] = hint
    return JSONResponse(body, status_code=status)


_STATUS_OF: list[tuple[type[MotcuaError], int]] = [
    (InputFileError, 400),
    (BadArgumentError, 400),
    (CheckFailedError, 409),
    (ConfigurationError, 500),
    (MotcuaError, 503),  # ServiceUnavailableError, MissingDependencyError
]
_TITLE_VI = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    409: "Không thể thực hiện với trạng thái hiện tại",
    413: "Dữ liệu gửi lên quá lớn",
    422: "Dữ liệu không hợp lệ",
    500: "Lỗi cấu hình hệ thống",
    503: "Dịch vụ tạm thời không sẵn sàng",
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api(request):
            response = _api_error(401, "not authenticated", "send Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if is_api(request):
            return _api_error(403, f"your role lacks the permission {exc.permission.value}")
        return _error_page(request, 403, _TITLE_VI[403],
                           "Vai trò của bạn không được phép dùng chức năng này.")  # fmt: skip

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if is_api(request):
            return _api_error(404, f"{exc.what} not found")
        return _error_page(request, 404, _TITLE_VI[404], exc.what)

    @app.exception_handler(MotcuaError)
    async def motcua_error(request: Request, exc: MotcuaError) -> Response:
        status = next(code for cls, code in _STATUS_OF if isinstance(exc, cls))
        if status >= 500:
            log.warning("%s: %s", type(exc).__name__, exc.message)
        if is_api(request):
            return _api_error(status, exc.message, exc.hint)
        return _error_page(request, status, _TITLE_VI[status], exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or request.url.path.startswith("/static/"):
            return _api_error(exc.status_code, str(exc.detail))
        title = _TITLE_VI.get(exc.status_code, "Lỗi")
        return _error_page(request, exc.status_code, title)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)  # fmt: skip
        if is_api(request):
            return _api_error(500, "internal error; the server log has the details")
        return _error_page(request, 500, "Lỗi hệ thống",
                           "Đã có lỗi ngoài dự kiến. Hãy báo quản trị hệ thống.")  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": _jsonable(exc.errors())}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        return _error_page(request, 422, _TITLE_VI[422], problems)


def _jsonable(errors: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors, custom_encoder={Exception: str})


async def _csrf_failed(scope: Any, send: Any, message_id: Any) -> None:
    body = (
        "<!doctype html><html lang=vi><meta charset=utf-8><title>Phiên làm việc không hợp lệ"
        "</title><p>Biểu mẫu đã hết hạn hoặc không hợp lệ (CSRF). Hãy tải lại trang và thử lại."
        f"</p><p><a href='{LOGIN_PATH}'>Đăng nhập</a></p></html>"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
