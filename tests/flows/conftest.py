"""Fixtures for flow tests: an office whose settings point at the session's real S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from flows.context import current_office
from storage.s3 import S3Config
from tests.s3_identities import setup_env


@pytest.fixture
def office_home(
    motcua_home: Path, s3_config: S3Config, monkeypatch: pytest.MonkeyPatch, bucket_name: str
) -> Iterator[Path]:
    """MOTCUA_* settings for one test: its own home, catalogue and buckets, the session S3."""
    monkeypatch.setenv("MOTCUA_S3_ENDPOINT", s3_config.endpoint)
    monkeypatch.setenv("MOTCUA_S3_ACCESS_KEY", s3_config.access_key)
    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", s3_config.secret_key)
    for key, value in setup_env(s3_config).items():
        monkeypatch.setenv(key, value)
    for kind in ("originals", "archive", "quarantine"):
        monkeypatch.setenv(f"MOTCUA_BUCKET_{kind.upper()}", f"{bucket_name}-{kind[:4]}")
    current_office.cache_clear()
    yield motcua_home
    current_office.cache_clear()


@pytest.fixture(scope="session")
def birth_dossier_scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A declaration scan and the requester's ID-card photo, generated once per session."""
    from samples.documents import make_card, make_declaration

    folder = tmp_path_factory.mktemp("scans")
    declaration, card = make_declaration(11, "clean"), make_card(12, "clean")
    paths = {"declaration": folder / "to-khai.png", "card": folder / "cccd.jpg"}
    cv2.imwrite(str(paths["declaration"]), declaration.image)
    cv2.imwrite(str(paths["card"]), card.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    paths_truth = folder / "child.txt"
    paths_truth.write_text(str(declaration.truth["khai_sinh.ho_ten"]), encoding="utf-8")
    paths["child"] = paths_truth
    return paths
