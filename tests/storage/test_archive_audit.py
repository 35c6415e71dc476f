"""Issue 13, items 2 and 3: the audit walks both the catalogue and the store, and reads each
bucket's policy, lifecycle rules, versioning and lock configuration back."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from minio.commonconfig import ENABLED, Filter
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

from storage.archive import Archive, Buckets
from storage.audit import audit_archive
from storage.catalogue import Catalogue
from storage.policy import guard_policy, policy_drift
from storage.record import RecordInfo
from storage.s3 import S3Config


def _put(archive: Archive, tmp_path: Path, n: int) -> str:
    scan = tmp_path / f"to-khai-{n}.txt"
    scan.write_text(f"Tờ khai số {n}", encoding="utf-8")
    return archive.put([scan], RecordInfo(dossier_code=f"H40.29.10-261203-000{n}")).record_id


def test_clean_archive_has_no_findings(archive: Archive, tmp_path: Path) -> None:
    ids = {_put(archive, tmp_path, 1), _put(archive, tmp_path, 2)}
    whole = audit_archive(archive)
    assert whole.ok, whole.findings
    assert whole.store_records == whole.catalogue_records == 2
    assert {a.record_id for a in whole.audits} == ids


def test_a_record_gone_from_the_store_is_a_finding_while_search_still_shows_it(
    s3_config: S3Config, s3_setup_config: S3Config, archive: Archive, tmp_path: Path
) -> None:
    kept = _put(archive, tmp_path, 1)
    gone = _put(archive, tmp_path, 2)
    # The catalogue still lists both; the store (a fresh set of buckets standing for one from
    # which the record was deleted behind the archive's back) holds only the first.
    tag = uuid.uuid4().hex[:10]
    other = Archive(
        s3_config,
        archive.catalogue,
        Buckets(originals=f"o-{tag}", archive=f"a-{tag}", quarantine=f"q-{tag}"),
        setup=s3_setup_config,
    )
    scan = tmp_path / "to-khai-1.txt"
    assert other.put([scan], RecordInfo(dossier_code="H40.29.10-261203-0001")).record_id == kept
    whole = audit_archive(other)
    assert [(f.record_id, f.problem) for f in whole.general] == [
        (gone, "listed in the catalogue (search finds it) but missing from the store")
    ]
    assert not whole.ok


def test_a_record_missing_from_the_catalogue_is_a_finding(archive: Archive, tmp_path: Path) -> None:
    record_id = _put(archive, tmp_path, 1)
    archive.catalogue.clear()
    whole = audit_archive(archive)
    assert [(f.record_id, f.problem) for f in whole.general] == [
        (record_id, "in the store but not in the catalogue (search misses it)")
    ]


def test_bucket_drift_is_reported(
    s3_config: S3Config, s3_setup_config: S3Config, tmp_path: Path
) -> None:
    # Buckets made by hand, as a careless operator would: no guard policy, a public-read
    # policy, a lifecycle rule, versioning never enabled, a GOVERNANCE default retention.
    tag = uuid.uuid4().hex[:10]
    buckets = Buckets(originals=f"o-{tag}", archive=f"a-{tag}", quarantine=f"q-{tag}")
    admin = s3_setup_config.client()
    from minio.objectlockconfig import YEARS, ObjectLockConfig

    admin.make_bucket(buckets.archive, object_lock=True)
    admin.set_object_lock_config(buckets.archive, ObjectLockConfig("GOVERNANCE", 10, YEARS))
    admin.make_bucket(buckets.originals)
    admin.make_bucket(buckets.quarantine)
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{buckets.originals}/*"],
            }
        ],
    }
    admin.set_bucket_policy(buckets.originals, json.dumps(public))
    admin.set_bucket_lifecycle(
        buckets.quarantine,
        LifecycleConfig(
            [
                Rule(
                    ENABLED,
                    rule_filter=Filter(prefix=""),
                    rule_id="xoa",
                    expiration=Expiration(days=1),
                )
            ]
        ),
    )
    archive = Archive(
        s3_config, Catalogue(f"sqlite:///{tmp_path / 'c.sqlite3'}"), buckets, setup=s3_setup_config
    )
    found = {(f.object, f.problem) for f in archive.bucket_findings()}
    assert (buckets.archive, "default retention mode is GOVERNANCE, expected COMPLIANCE") in found
    assert any(o == buckets.originals and "versioning is off" in p for o, p in found)
    assert any(
        o == buckets.originals and "grants access: Allow s3:GetObject" in p for o, p in found
    )
    assert any(o == buckets.quarantine and "1 lifecycle rule(s)" in p for o, p in found)
    for name in (buckets.archive, buckets.originals, buckets.quarantine):
        assert any(o == name and "guard" in p for o, p in found), name
    assert not audit_archive(archive).ok


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["Statement"][0]["Action"].remove("s3:PutLifecycleConfiguration"),
         "no longer denies s3:PutLifecycleConfiguration"),
        (lambda p: p["Statement"][0].update(Principal={"AWS": ["arn:aws:iam::1:user/x"]}),
         "no longer applies to every principal"),
        (lambda p: p["Statement"].append({"Effect": "Allow", "Principal": "*",
                                          "Action": "s3:*", "Resource": "*"}),
         "grants access: Allow s3:*"),
    ],
)  # fmt: skip
def test_policy_drift_names_each_change(change: object, expected: str) -> None:
    policy = guard_policy("motcua-archive")
    assert policy_drift("motcua-archive", json.dumps(policy)) == []
    change(policy)  # type: ignore[operator]
    problems = policy_drift("motcua-archive", json.dumps(policy))
    assert any(expected in p for p in problems), problems
