"""Flows run through the real embedded Prefect API."""

from __future__ import annotations

import hashlib

from flows.health import SAMPLE, check_services
from storage.s3 import S3Config


def test_check_services_flow_runs_through_embedded_api(
    s3_setup_config: S3Config, bucket_name: str
) -> None:
    """The health check makes its own bucket: it runs as the store's set-up identity."""
    from prefect.client.orchestration import get_client

    state = check_services(s3_setup_config, bucket_name, return_state=True)
    assert state.is_completed()
    report = state.result()
    assert report.round_trip_ok
    assert report.sha256 == hashlib.sha256(SAMPLE).hexdigest()
    assert report.vietnamese_ocr

    # The run was recorded by the API, with both tasks, not executed without orchestration.
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        assert run.state is not None and run.state.is_completed()
        flow = client.read_flow(run.flow_id)
        assert flow.name == "check-services"
