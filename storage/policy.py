"""What an archive bucket must look like, set once by the set-up identity and checked by the audit.

Every motcua bucket is versioned and carries a deny-only bucket policy (`guard_policy`): nobody,
the set-up identity included, may add a lifecycle rule (which would expire versions), replace or
delete the policy (which would open the bucket), suspend versioning or bypass governance
retention. The pinned SeaweedFS evaluates an explicit Deny before the identity's own actions.
The archive bucket also has object lock with the default retention class's mode and period.

`bucket_drift` reads all of it back and names each difference; it never changes a bucket.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from minio import Minio
from minio.error import S3Error

T = TypeVar("T")

GUARD_SID = "motcua-worm-guard"
GUARDED_ACTIONS = (
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:BypassGovernanceRetention",
)


@dataclass(frozen=True)
class ExpectedBucket:
    """How one bucket must be configured: versioned always, locked with a default retention."""

    name: str
    lock_mode: str | None = None  # "COMPLIANCE" | "GOVERNANCE"; None = no object lock expected
    lock_years: int | None = None


def guard_policy(bucket: str) -> dict[str, Any]:
    """The deny-only bucket policy motcua puts on each of its buckets."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": GUARD_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(GUARDED_ACTIONS),
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    raw = policy.get("Statement", [])
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def policy_drift(bucket: str, text: str | None) -> list[str]:
    """Differences between a bucket's policy text (None = no policy) and the guard policy."""
    if not text:
        return ["no bucket policy: the deny-only guard (lifecycle, policy, bypass) is missing"]
    try:
        policy = json.loads(text)
    except ValueError:
        return ["bucket policy is not valid JSON"]
    problems = []
    guard = None
    for statement in _statements(policy):
        if statement.get("Effect") == "Deny" and statement.get("Sid") == GUARD_SID:
            guard = statement
        elif statement.get("Effect") != "Deny":
            actions = ", ".join(_as_list(statement.get("Action")))
            problems.append(
                f"bucket policy grants access: Allow {actions} to "
                f"{json.dumps(statement.get('Principal'), ensure_ascii=False)}"
            )
    if guard is None:
        problems.append("bucket policy lacks the deny-only guard statement")
    else:
        missing = set(GUARDED_ACTIONS) - set(_as_list(guard.get("Action")))
        if missing:
            problems.append(f"guard statement no longer denies {', '.join(sorted(missing))}")
        if guard.get("Principal") not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            problems.append("guard statement no longer applies to every principal")
        wanted = set(guard_policy(bucket)["Statement"][0]["Resource"])
        if not wanted <= set(_as_list(guard.get("Resource"))):
            problems.append("guard statement no longer covers the whole bucket")
    return problems


def _read(fn: Callable[[], T], absent: set[str]) -> T | None:
    try:
        return fn()
    except S3Error as exc:
        if exc.code in absent:
            return None
        raise


def bucket_drift(client: Minio, expected: ExpectedBucket) -> list[str]:
    """Read a bucket's versioning, object lock, policy and lifecycle; name what differs."""
    name = expected.name
    if not client.bucket_exists(name):
        return ["bucket does not exist"]
    problems: list[str] = []
    versioning = client.get_bucket_versioning(name).status
    if versioning != "Enabled":
        problems.append(f"versioning is {versioning or 'off'}, expected Enabled")
    if expected.lock_mode is not None:
        lock = _read(
            lambda: client.get_object_lock_config(name),
            {"ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"},
        )
        if lock is None:
            problems.append("object lock is not configured")
        else:
            if lock.mode != expected.lock_mode:
                problems.append(
                    f"default retention mode is {lock.mode or 'none'}, expected "
                    f"{expected.lock_mode}"
                )
            if expected.lock_years is not None and (
                lock.duration != expected.lock_years or str(lock.duration_unit).upper() != "YEARS"
            ):
                problems.append(
                    f"default retention is {lock.duration} {lock.duration_unit}, expected "
                    f"{expected.lock_years} YEARS"
                )
    policy = _read(lambda: client.get_bucket_policy(name), {"NoSuchBucketPolicy"})
    problems += policy_drift(name, policy)
    lifecycle = _read(
        lambda: client.get_bucket_lifecycle(name),
        {"NoSuchLifecycleConfiguration"},
    )
    if lifecycle is not None and lifecycle.rules:
        ids = ", ".join(rule.rule_id or "?" for rule in lifecycle.rules)
        problems.append(f"{len(lifecycle.rules)} lifecycle rule(s) would expire versions ({ids})")
    return problems
