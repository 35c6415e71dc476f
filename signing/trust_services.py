"""Local trust services for the TEST PKI: RFC 3161 TSA, OCSP responder and CRL distribution.

certomancer's Animator (a WSGI app) answers on 127.0.0.1 at the port recorded in the PKI folder,
so the URLs inside the test certificates resolve. `TrustServices` runs it in a thread (tests, the
demo); `start_background`/`stop_background` run it as a detached process for
`motcua trust-services up|down`. Production configures real TSA/OCSP URLs instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import Any

from motcua.errors import ServiceUnavailableError
from signing.testpki import ARCH, TestPki, load

log = logging.getLogger(__name__)

_PID_FILE = "trust-services.pid"
_LOG_FILE = "trust-services.log"


def _app(pki: TestPki) -> Any:
    from certomancer.integrations.animator import Animator, AnimatorArchStore

    store = AnimatorArchStore({ARCH: pki.architecture()})  # type: ignore[dict-item]
    return Animator(store, with_web_ui=False)


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class TrustServices:
    """TSA + OCSP + CRLs of a TEST PKI on 127.0.0.1, as a context manager.

    >>> with TrustServices(pki) as services:
    ...     services.tsa_url
    """

    def __init__(self, pki: TestPki) -> None:
        self.pki = pki
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def tsa_url(self) -> str:
        return self.pki.tsa_url

    @property
    def base_url(self) -> str:
        return self.pki.base_url

    def start(self) -> TrustServices:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        try:
            self._server = make_server("127.0.0.1", self.pki.port, _app(self.pki), threaded=True)
        except OSError as exc:
            raise ServiceUnavailableError(
                f"trust services: port {self.pki.port} on 127.0.0.1 is not free ({exc})",
                hint="stop what uses it (`motcua trust-services down`) or create a new test PKI",
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="trust-services", daemon=True
        )
        self._thread.start()
        log.info("trust services on %s", self.pki.base_url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> TrustServices:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_background(pki: TestPki, timeout: float = 30.0) -> int:
    """Start the services as a detached process; return its pid (an existing one if running)."""
    pid_file = pki.dir / _PID_FILE
    running = background_pid(pki)
    if running is not None:
        return running
    with open(pki.dir / _LOG_FILE, "ab") as log_out:
        process = subprocess.Popen(
            [sys.executable, "-m", "signing.trust_services", str(pki.dir)],
            stdout=log_out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid), encoding="utf-8")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise ServiceUnavailableError(
                f"trust services exited with status {process.returncode}",
                hint=f"see {pki.dir / _LOG_FILE}",
            )
        if _answers(pki.port):
            return process.pid
        time.sleep(0.1)
    raise ServiceUnavailableError(
        f"trust services did not answer on port {pki.port} within {timeout:.0f} s",
        hint=f"see {pki.dir / _LOG_FILE}",
    )


def background_pid(pki: TestPki) -> int | None:
    """The pid of the detached services for this PKI, when they run."""
    pid_file = pki.dir / _PID_FILE
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def stop_background(pki: TestPki, timeout: float = 10.0) -> bool:
    """Stop the detached services; False when they were not running."""
    pid = background_pid(pki)
    (pki.dir / _PID_FILE).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def _serve_forever(directory: str) -> None:
    services = TrustServices(load(directory)).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    services.stop()


if __name__ == "__main__":
    _serve_forever(sys.argv[1])
