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


def test_config_show_masks_credentials_in_every_url(
    motcua_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "MOTCUA_PREFECT_API_URL": ("http://admin:prefect-pw-1@prefect.lan/api", "prefect-pw-1"),
        "MOTCUA_WEBHOOK_URL": ("https://eoffice.vn/hook?token=hook-tok-2&office=H40", "hook-tok-2"),
        "MOTCUA_SIGNING_TSA_URL": ("https://tsa-user-tok-3@tsa.example.vn/tsr", "tsa-user-tok-3"),
        "MOTCUA_DASK_ADDRESS": ("tls://dask:dask-pw-4@10.0.0.5:8786", "dask-pw-4"),
        "MOTCUA_CATALOG_URL": ("postgresql+psycopg://arch:db%40pw-5@db/motcua", "pw-5"),
    }  # fmt: skip
    for key, (url, _) in secrets.items():
        monkeypatch.setenv(key, url)
    for args in (["config", "show", "--json"], ["config", "show"]):
        result = subprocess.run(
            [sys.executable, "-m", "motcua", *args],
            capture_output=True,
            text=True,
            env=dict(os.environ),
            check=True,
        )
        for _, secret in secrets.values():
            assert secret not in result.stdout + result.stderr
    view = json.loads(
        subprocess.run(
            [sys.executable, "-m", "motcua", "config", "show", "--json"],
            capture_output=True, text=True, env=dict(os.environ), check=True,
        ).stdout
    )  # fmt: skip
    assert view["prefect_api_url"] == "http://admin:***@prefect.lan/api"
    assert view["webhook_url"] == "https://eoffice.vn/hook?token=***&office=H40"
    assert view["signing_tsa_url"] == "https://***@tsa.example.vn/tsr"
    assert view["dask_address"] == "tls://dask:***@10.0.0.5:8786"


def test_files_under_home_are_private_and_loose_ones_are_reported(
    motcua_home: Path, tmp_path: Path
) -> None:
    # A file left 0644 by an older version: the start-up check names it, changes nothing.
    old = motcua_home / "dossiers" / "H40.29.10-261203-0001"
    old.mkdir(parents=True)
    for folder in (motcua_home, motcua_home / "dossiers", old):
        os.chmod(folder, 0o755)
    (old / "cccd.pdf").write_bytes(b"%PDF")
    os.chmod(old / "cccd.pdf", 0o644)
    scan = tmp_path / "to-khai.txt"
    scan.write_text("Tờ khai", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "motcua", "pki", "init", str(motcua_home / "pki")],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert "accessible to other users" in result.stderr
    assert str(old / "cccd.pdf") in result.stderr and "chmod -R go-rwx" in result.stderr
    assert (old / "cccd.pdf").stat().st_mode & 0o777 == 0o644  # reported, not changed

    keys = list((motcua_home / "pki").rglob("*.key.pem")) + list(
        (motcua_home / "pki").rglob("*.p12")
    )
    assert keys
    for path in keys:
        assert path.stat().st_mode & 0o077 == 0, path
    for path in (motcua_home / "pki").rglob("*"):
        if path.is_dir():
            assert path.stat().st_mode & 0o077 == 0, path


def test_the_check_ignores_what_a_private_folder_hides(tmp_path: Path) -> None:
    from motcua.files import loose_paths

    home = tmp_path / "home"
    (home / "s3" / "data").mkdir(parents=True)
    os.chmod(home, 0o700)
    os.chmod(home / "s3", 0o700)
    (home / "s3" / "data" / "x.vif").write_text("{}")
    os.chmod(home / "s3" / "data" / "x.vif", 0o644)
    assert loose_paths(home) == []
    os.chmod(home, 0o755)
    os.chmod(home / "s3", 0o755)
    os.chmod(home / "s3" / "data", 0o755)
    assert loose_paths(home) == [
        home,
        home / "s3",
        home / "s3" / "data",
        home / "s3" / "data" / "x.vif",
    ]
