"""Page OCR on a Dask cluster (prefect-dask): the option for spreading OCR across machines.

A real `distributed` cluster with two worker processes stands in for the office's machines; the
intake must give the same dossier as on threads, with the page tasks run by the cluster's workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import LocalCluster

from flows.context import current_office
from flows.intake import intake_dossier


@pytest.fixture
def dask_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.mark.slow
def test_intake_ocrs_pages_on_a_dask_cluster(
    office_home: Path,
    birth_dossier_scans: dict[str, Path],
    dask_cluster: LocalCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_OCR_RUNNER", "dask")
    monkeypatch.setenv("MOTCUA_DASK_ADDRESS", dask_cluster.scheduler_address)
    current_office.cache_clear()
    files = [str(birth_dossier_scans["declaration"]), str(birth_dossier_scans["card"])]

    result = intake_dossier(files, "dang-ky-khai-sinh", "2026-11-23T09:00:00+07:00")

    assert result["created"] is True
    assert result["due_date"] == "2026-11-23"  # same-day procedure, before the cut-off
    assert sorted(d["kind"] for d in result["documents"]) == ["cccd", "to-khai-khai-sinh"]
    child = birth_dossier_scans["child"].read_text(encoding="utf-8")
    declaration = next(d for d in result["documents"] if d["kind"] == "to-khai-khai-sinh")
    assert declaration["fields"]["khai_sinh.ho_ten"]["value"] == child
    # The pages were OCR'd by the cluster's worker processes, not by this one.
    scheduler = dask_cluster.scheduler
    assert scheduler is not None
    ocr_tasks = scheduler.task_prefixes.get("ocr_page_task")
    assert ocr_tasks is not None and sum(ocr_tasks.state_counts.values()) >= 2
    workers = {ws.pid for ws in scheduler.workers.values()}
    assert os.getpid() not in workers and len(workers) == 2


def test_dask_runner_without_prefect_dask_simulated_is_a_clear_error(
    office_home: Path, birth_dossier_scans: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from motcua.errors import MissingDependencyError

    monkeypatch.setenv("MOTCUA_OCR_RUNNER", "dask")
    monkeypatch.setitem(sys.modules, "prefect_dask.task_runners", None)  # mock: not installed
    current_office.cache_clear()
    with pytest.raises(MissingDependencyError, match="prefect-dask"):
        intake_dossier([str(birth_dossier_scans["card"])], "dang-ky-khai-sinh")
