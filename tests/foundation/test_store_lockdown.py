"""Issue 13, items 1 and 2, as an attacker on the same host would try them.

1. Every listener the embedded store opened (found from /proc, not from its own state file):
   GET/PUT/DELETE/POST over HTTP, HTTPS without a client certificate and gRPC, without any
   credential: 0 successes, and the locked record still reads back unchanged. A control with
   motcua's client certificate succeeds, so the probe can see a success when there is one.
2. With motcua's working key: deleting a retained version (with and without
   x-amz-bypass-governance-retention), shortening its retention, setting a bucket policy, a
   lifecycle rule, versioning or the lock configuration: 0 successes.
"""

# ruff: noqa: B023 - each attempt's lambda is called at once, inside its loop iteration

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import socket
import ssl
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio
from minio.commonconfig import ENABLED, GOVERNANCE, Filter
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import SUSPENDED, VersioningConfig

from storage.archive import Archive, Buckets
from storage.catalogue import Catalogue
from storage.record import RecordInfo, record_prefix
from storage.s3 import S3Config
from storage.server import EmbeddedS3Server

_HEX_PORT = 16


@dataclass(frozen=True)
class Listener:
    kind: str  # "tcp" | "unix"
    address: str  # port number or socket path

    def __str__(self) -> str:
        return f"{self.kind}:{self.address}"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listeners_of(pid: int) -> list[Listener]:
    """Every listening TCP and Unix socket the process holds (from /proc, nothing assumed)."""
    inodes = _socket_inodes(pid)
    found: list[Listener] = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.append(Listener("tcp", str(int(fields[1].rsplit(":", 1)[1], _HEX_PORT))))
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        # state 01 with the listening flag (00010000) and a path
        if len(fields) >= 8 and fields[6] in inodes and fields[3] == "00010000":
            found.append(Listener("unix", fields[7]))
    return sorted(set(found), key=str)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=5)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(self._path)
        self.sock = sock


def _no_verify() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _connections(listener: Listener) -> Iterator[tuple[str, Callable[[], Any]]]:
    if listener.kind == "unix":
        yield "http+unix", lambda: _UnixHTTPConnection(listener.address)
        return
    port = int(listener.address)
    yield "http", lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    yield (
        "https",
        lambda: http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=_no_verify()),
    )


def _grpc_call(listener: Listener, method: str, verify: ssl.SSLContext | bool) -> int | None:
    """One unary gRPC call with an empty message; the HTTP status, None when refused."""
    if listener.kind == "unix":
        transport = httpx.HTTPTransport(uds=listener.address, http1=False, http2=True)
        urls = ["http://localhost"]
    else:
        transport = httpx.HTTPTransport(http1=False, http2=True, verify=verify)
        urls = [f"http://127.0.0.1:{listener.address}", f"https://127.0.0.1:{listener.address}"]
    status = None
    with httpx.Client(transport=transport, timeout=5) as client:
        for url in urls:
            try:
                response = client.post(
                    url + method,
                    content=b"\x00\x00\x00\x00\x00",
                    headers={"content-type": "application/grpc", "te": "trailers"},
                )
            except httpx.HTTPError:
                continue
            grpc_status = response.headers.get("grpc-status")
            if response.status_code == 200 and grpc_status in (None, "0") and response.content:
                status = 200
    return status


# Reading what exists, writing over it, deleting it, and the master's admin verbs.
GRPC_METHODS = [
    "/master_pb.Seaweed/VolumeList",
    "/master_pb.Seaweed/CollectionDelete",
    "/volume_server_pb.VolumeServer/DeleteCollection",
    "/volume_server_pb.VolumeServer/VolumeServerStatus",
    "/filer_pb.SeaweedFiler/ListEntries",
    "/filer_pb.SeaweedFiler/DeleteEntry",
    "/filer_pb.SeaweedFiler/GetFilerConfiguration",
]


@pytest.fixture(scope="module")
def locked_record(s3_server: EmbeddedS3Server) -> dict[str, Any]:
    """A COMPLIANCE-locked object written through S3, and where it lives inside the store."""
    bucket = f"lock-{uuid.uuid4().hex[:10]}"
    setup = s3_server.setup_config().client()
    setup.make_bucket(bucket, object_lock=True)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    from minio.commonconfig import COMPLIANCE

    put = (
        s3_server.config()
        .client()
        .put_object(
            bucket,
            "records/r1/manifest-sha256.txt",
            io.BytesIO(b"original"),
            8,
            retention=Retention(COMPLIANCE, until),
        )
    )
    return {"bucket": bucket, "key": "records/r1/manifest-sha256.txt", "version": put.version_id}


def _attack_paths(record: dict[str, Any]) -> list[str]:
    bucket, key, version = record["bucket"], record["key"], record["version"]
    return [
        "/",
        "/status",
        "/healthz",
        "/dir/status",
        "/dir/assign",
        "/dir/lookup?volumeId=1",
        "/vol/status",
        "/vol/grow?count=1",
        f"/col/delete?collection={bucket}",
        "/cluster/status",
        "/metrics",
        "/buckets/",
        f"/buckets/{bucket}/{key}",
        f"/buckets/{bucket}/records?recursive=true",
        f"/buckets/{bucket}/{key}.versions/v_{version}",
        f"/{bucket}/{key}",
        f"/{bucket}/{key}?versionId={version}",
        f"/{bucket}?policy",
        f"/{bucket}?lifecycle",
        "/1,0100000000",
        "/admin/volume/delete?volume=1",
    ]


def _is_health_probe(path: str, body: bytes) -> bool:
    # The S3 gateway's and the filer's liveness probes answer 200 with an empty body to any
    # method: they disclose nothing and change nothing, so they are not counted as a way in.
    return path in {"/status", "/healthz"} and not body


def test_no_listener_of_the_store_answers_without_credentials(
    s3_server: EmbeddedS3Server, locked_record: dict[str, Any]
) -> None:
    pid = s3_server.status().pid
    assert pid is not None
    found = listeners_of(pid)
    state = json.loads(s3_server.state_file.read_text())
    # what the store opened: S3, master, volume and filer, each HTTP and gRPC, and sockets
    tcp_ports = {int(li.address) for li in found if li.kind == "tcp"}
    assert {int(state["ports"][n]) for n in ("s3", "master", "volume", "filer")} <= tcp_ports
    assert {int(state["ports"][n]) for n in ("master_grpc", "volume_grpc", "filer_grpc")} <= (
        tcp_ports
    )
    assert any(li.kind == "unix" for li in found)

    successes = []
    attempts = 0
    for listener in found:
        for scheme, connect in _connections(listener):
            for path in _attack_paths(locked_record):
                for method in ("GET", "PUT", "DELETE", "POST"):
                    attempts += 1
                    try:
                        conn = connect()
                        conn.request(
                            method, path, body=b"evil" if method in {"PUT", "POST"} else None
                        )
                        response = conn.getresponse()
                        body = response.read(500)
                        conn.close()
                    except (OSError, http.client.HTTPException, ssl.SSLError):
                        continue
                    if 200 <= response.status < 300 and not _is_health_probe(path, body):
                        successes.append(f"{scheme} {listener} {method} {path} → {response.status}")
        for grpc_method in GRPC_METHODS:
            attempts += 1
            if _grpc_call(listener, grpc_method, verify=False) is not None:
                successes.append(f"grpc {listener} {grpc_method}")
    assert attempts > 1000
    assert successes == [], "\n".join(successes)

    # the locked version is still there, unchanged
    kept = (
        s3_server.config()
        .client()
        .get_object(
            locked_record["bucket"], locked_record["key"], version_id=locked_record["version"]
        )
    )
    try:
        assert kept.read() == b"original"
    finally:
        kept.close()
        kept.release_conn()


def test_the_probe_sees_success_with_motcuas_client_certificate(
    s3_server: EmbeddedS3Server,
) -> None:
    # The control: the same probes, with the certificate only motcua holds, do get in. Without
    # this, the test above could pass because the probes were wrong.
    tls = s3_server.tls()
    ctx = ssl.create_default_context(cafile=str(tls.ca))
    ctx.load_cert_chain(str(tls.cert), str(tls.key))
    state = json.loads(s3_server.state_file.read_text())
    conn = http.client.HTTPSConnection("127.0.0.1", int(state["ports"]["master"]), context=ctx)
    conn.request("GET", "/dir/status")
    response = conn.getresponse()
    assert response.status == 200 and b"Topology" in response.read()
    master_grpc = Listener("tcp", str(state["ports"]["master_grpc"]))
    assert _grpc_call(master_grpc, "/master_pb.Seaweed/VolumeList", verify=ctx) == 200


def test_store_files_are_private(s3_server: EmbeddedS3Server) -> None:
    assert (s3_server.root.stat().st_mode & 0o777) == 0o700
    for name in ("credentials.json", "identities.json", "security.toml", "tls/node.key"):
        assert ((s3_server.root / name).stat().st_mode & 0o777) == 0o600, name
    # no CA key is kept: nobody can mint another certificate the store accepts
    assert not list((s3_server.root / "tls").glob("ca*.key"))
    # volume files and the filer's database follow the store's umask 077 (SeaweedFS writes
    # *.vif 0644 regardless: the 0700 folders above keep them unreachable)
    assert (s3_server.data_dir.stat().st_mode & 0o777) == 0o700
    data = [p for p in s3_server.data_dir.rglob("*") if p.suffix != ".vif"]
    assert any(p.suffix == ".dat" for p in data)
    loose = [p for p in data if p.stat().st_mode & 0o077]
    assert loose == []


# -- the working key -----------------------------------------------------------------------


def _refused(what: str, fn: Callable[[], Any], successes: list[str]) -> None:
    try:
        result = fn()
    except S3Error:
        return
    if hasattr(result, "__iter__") and not isinstance(result, bytes | str):
        errors = list(result)  # remove_objects reports refusals as errors, not exceptions
        if errors:
            return
    successes.append(what)


def _retention_xml(mode: str, until: dt.datetime) -> bytes:
    return (
        '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Mode>{mode}</Mode><RetainUntilDate>{until.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        "</RetainUntilDate></Retention>"
    ).encode()


def _bypass_headers(body: bytes | None = None) -> dict[str, str]:
    headers = {"x-amz-bypass-governance-retention": "true"}
    if body is not None:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return headers


@pytest.fixture
def archived(
    s3_config: S3Config, s3_setup_config: S3Config, tmp_path: Path
) -> Iterator[tuple[Archive, str]]:
    tag = uuid.uuid4().hex[:10]
    archive = Archive(
        s3_config,
        Catalogue(f"sqlite:///{tmp_path / 'c.sqlite3'}"),
        Buckets(originals=f"o-{tag}", archive=f"a-{tag}", quarantine=f"q-{tag}"),
        setup=s3_setup_config,
    )
    scan = tmp_path / "giay-khai-sinh.txt"
    scan.write_text("Giấy khai sinh", encoding="utf-8")
    record = archive.put([scan], RecordInfo(dossier_code="H40.29.10-261203-0001"))
    yield archive, record.record_id
    archive.catalogue.close()


def test_working_key_cannot_undo_retention_or_reconfigure_buckets(
    archived: tuple[Archive, str], s3_config: S3Config
) -> None:
    archive, record_id = archived
    assert archive.retention.get(None).mode == "COMPLIANCE"
    work: Minio = s3_config.client()
    bucket = archive.buckets.archive
    key = record_prefix(record_id) + "manifest-sha256.txt"
    version = next(
        o.version_id
        for o in work.list_objects(bucket, prefix=key, include_version=True)
        if o.object_name == key
    )
    assert version is not None
    original = work.get_object(bucket, key, version_id=version).read()
    # a GOVERNANCE-retained version too: the working key must not hold the bypass permission
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    governed = work.put_object(
        bucket, "records/g/x.txt", io.BytesIO(b"g"), 1, retention=Retention(GOVERNANCE, until)
    )
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    expire = LifecycleConfig(
        [Rule(ENABLED, rule_filter=Filter(prefix=""), rule_id="xoa", expiration=Expiration(days=1))]
    )
    shorter = _retention_xml("GOVERNANCE", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))

    successes: list[str] = []
    for target, vid in ((key, version), ("records/g/x.txt", governed.version_id)):
        _refused(f"delete {target}", lambda: work.remove_object(bucket, target, vid), successes)
        _refused(
            f"delete {target} with bypass header",
            lambda: work._execute(
                "DELETE",
                bucket,
                target,
                headers=_bypass_headers(),
                query_params={"versionId": str(vid)},
            ),
            successes,
        )
        _refused(
            f"multi-delete {target} with bypass",
            lambda: work.remove_objects(
                bucket, [DeleteObject(target, vid)], bypass_governance_mode=True
            ),
            successes,
        )
        _refused(
            f"shorten retention of {target} with bypass",
            lambda: work._execute(
                "PUT",
                bucket,
                target,
                body=shorter,
                headers=_bypass_headers(shorter),
                query_params={"retention": "", "versionId": str(vid)},
            ),
            successes,
        )
    for name in (archive.buckets.archive, archive.buckets.originals):
        _refused(
            f"public policy on {name}",
            lambda: work.set_bucket_policy(name, json.dumps(public).replace(bucket, name)),
            successes,
        )
        _refused(f"lifecycle on {name}", lambda: work.set_bucket_lifecycle(name, expire), successes)
        _refused(f"delete policy of {name}", lambda: work.delete_bucket_policy(name), successes)
        _refused(
            f"suspend versioning of {name}",
            lambda: work.set_bucket_versioning(name, VersioningConfig(SUSPENDED)),
            successes,
        )
        _refused(f"remove bucket {name}", lambda: work.remove_bucket(name), successes)
    _refused(
        "lock configuration",
        lambda: work.set_object_lock_config(bucket, ObjectLockConfig(GOVERNANCE, 1, DAYS)),
        successes,
    )
    _refused("create a bucket", lambda: work.make_bucket(f"x-{uuid.uuid4().hex[:8]}"), successes)
    assert successes == [], successes

    # "overwriting" writes a new version; the retained one keeps its bytes, and the audit says so
    work.put_object(bucket, key, io.BytesIO(b"forged"), 6)
    assert work.get_object(bucket, key, version_id=version).read() == original
    problems = [f.problem for f in archive.verify(record_id).findings]
    assert any("newer version" in p for p in problems)
    assert archive.bucket_findings() == []


def test_even_the_setup_identity_cannot_add_lifecycle_or_replace_the_guard(
    archived: tuple[Archive, str], s3_setup_config: S3Config
) -> None:
    archive, _ = archived
    setup = s3_setup_config.client()
    expire = LifecycleConfig(
        [Rule(ENABLED, rule_filter=Filter(prefix=""), rule_id="xoa", expiration=Expiration(days=1))]
    )
    successes: list[str] = []
    for name in (archive.buckets.archive, archive.buckets.originals, archive.buckets.quarantine):
        _refused(
            f"lifecycle on {name}", lambda: setup.set_bucket_lifecycle(name, expire), successes
        )
        _refused(
            f"replace policy of {name}",
            lambda: setup.set_bucket_policy(name, json.dumps({"Version": "2012-10-17"})),
            successes,
        )
        _refused(f"delete policy of {name}", lambda: setup.delete_bucket_policy(name), successes)
    assert successes == []
