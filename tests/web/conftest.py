"""Fixtures for the web tests: a world (app, users of every role, dossiers, a token) per test or
per module, and a signed-in TestClient per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import ROLES, WebWorld, build_world, sign_in

from storage.s3 import S3Config


@pytest.fixture
def world(tmp_path: Path) -> WebWorld:
    """A fresh app and database for a test that changes things."""
    return build_world(tmp_path / "home")


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory, s3_config: S3Config) -> WebWorld:
    """One app for the read-mostly tests of a module, with the archive on the session's S3."""
    return build_world(tmp_path_factory.mktemp("web") / "home", s3_config)


@pytest.fixture(scope="module")
def clients(shared_world: WebWorld) -> Iterator[dict[str, TestClient]]:
    """A signed-in client per role of `shared_world`."""
    signed_in = {role: sign_in(shared_world.app, role) for role in ROLES}
    yield signed_in
    for client in signed_in.values():
        client.close()
