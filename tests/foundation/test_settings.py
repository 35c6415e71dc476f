from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from motcua.errors import ConfigurationError, ExitCode
from motcua.settings import DEFAULT_UNIT_CODE, load_settings


def test_defaults_put_everything_under_home(motcua_home: Path) -> None:
    settings = load_settings()
    assert settings.home == motcua_home
    assert settings.embedded_s3
    assert settings.effective_catalog_url == f"sqlite:///{motcua_home / 'catalog.sqlite3'}"
    assert settings.unit_code == DEFAULT_UNIT_CODE


def test_environment_overrides_toml_file(
    motcua_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "motcua.toml"
    toml.write_text('unit_code = "000.00.12.H40"\ns3_endpoint = "s3.example.vn:9000"\n')
    monkeypatch.setenv("MOTCUA_CONFIG", str(toml))
    assert load_settings().unit_code == "000.00.12.H40"
    assert load_settings().s3_endpoint == "s3.example.vn:9000"
    monkeypatch.setenv("MOTCUA_UNIT_CODE", "H40.29.11")
    monkeypatch.setenv("MOTCUA_S3_SECURE", "1")
    settings = load_settings()
    assert settings.unit_code == "H40.29.11"
    assert settings.s3_secure is True
    assert not settings.embedded_s3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOTCUA_S3_ENDPOINT", "http://s3.example.vn:9000"),
        ("MOTCUA_UNIT_CODE", "H40 29"),
        ("MOTCUA_S3_SECURE", "maybe"),
        ("MOTCUA_OCR_JOBS", "0"),
    ],
)
def test_invalid_values_raise_configuration_error(
    motcua_home: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert name in str(info.value)
    assert info.value.exit_code == ExitCode.configuration


def test_config_show_masks_secrets(motcua_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_S3_ENDPOINT", "s3.example.vn:9000")
    monkeypatch.setenv("MOTCUA_S3_ACCESS_KEY", "office-key")
    monkeypatch.setenv("MOTCUA_S3_SECRET_KEY", "very-secret-value-123")
    monkeypatch.setenv("MOTCUA_CATALOG_URL", "postgresql+psycopg://arch:dbpass-456@db/motcua")
    result = subprocess.run(
        [sys.executable, "-m", "motcua", "config", "show", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=True,
    )
    assert "very-secret-value-123" not in result.stdout + result.stderr
    assert "dbpass-456" not in result.stdout + result.stderr
    view = json.loads(result.stdout)
    assert view["s3_secret_key"] == "********"
    assert view["s3_access_key"] == "office-key"
    assert view["s3_mode"] == "external"
    assert view["catalog_url"].startswith("postgresql+psycopg://arch:***@db")


def test_config_file_option_reaches_whatever_reads_settings_later(
    motcua_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config F` must hold for flows, jobs and child processes, which load settings alone."""
    from motcua.cli import main
    from motcua.settings import load_settings

    monkeypatch.delenv("MOTCUA_CONFIG", raising=False)  # restored after the test
    config = tmp_path / "office.toml"
    config.write_text('unit_code = "X99.01.02"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["--config", str(config), "config", "show", "--json"])
    assert done.value.code == 0
    assert load_settings().unit_code == "X99.01.02"  # what a flow in this process reads
    child = subprocess.run(
        [sys.executable, "-m", "motcua", "config", "show", "--json"],
        capture_output=True, text=True, env=dict(os.environ), check=True,
    )  # fmt: skip
    assert json.loads(child.stdout)["unit_code"] == "X99.01.02"
