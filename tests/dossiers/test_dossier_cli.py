"""`motcua dossier`, `motcua report` and `motcua procedures` as a clerk runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dossiers.procedures import Catalogue, load_catalogue
from dossiers.register import DossierRegister

MOTCUA = [sys.executable, "-m", "motcua"]


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOTCUA, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def codes(
    motcua_home: Path, catalogue: Catalogue, report_scenario: Callable[..., dict[str, str]]
) -> dict[str, str]:
    register = DossierRegister(
        f"sqlite:///{motcua_home / 'catalog.sqlite3'}", unit_code="H40.29.10"
    )
    register.create_tables()
    result: dict[str, str] = report_scenario(register, catalogue)
    register.engine.dispose()
    return result


def test_show(codes: dict[str, str]) -> None:
    shown = motcua("dossier", "show", codes["D3"])
    assert shown.returncode == 0, shown.stderr
    assert codes["D3"] in shown.stdout
    assert "result_signed (Đã có kết quả)" in shown.stdout
    assert "late (Quá hạn)" in shown.stdout
    assert "2026-05-06" in shown.stdout
    data = json.loads(motcua("dossier", "show", codes["D7"], "--json").stdout)
    assert data["status"] == "supplement_requested"
    assert data["missing_components"] == ["cccd"] and data["due_date"] is None


def test_show_errors(codes: dict[str, str]) -> None:
    missing = motcua("dossier", "show", "H40.29.10-260424-0099")
    assert missing.returncode == 2
    assert "no dossier H40.29.10-260424-0099" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert motcua("dossier", "show", "not-a-code").returncode == 2


def test_list(codes: dict[str, str]) -> None:
    listed = motcua("dossier", "list", "--status", "processing", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [d["dossier_code"] for d in json.loads(listed.stdout)] == [codes["D5"]]
    everything = motcua("dossier", "list")
    assert everything.returncode == 0
    assert len(everything.stdout.splitlines()) == 9
    assert "9 dossier(s)" in everything.stderr
    assert "OVERDUE" in everything.stdout  # D5, due 29/4/2026


def test_return(codes: dict[str, str]) -> None:
    done = motcua("dossier", "return", codes["D1"], "--at", "2026-04-30T08:00:00+07:00")
    assert done.returncode == 0, done.stderr
    assert f"{codes['D1']} returned at 2026-04-30T08:00+07:00" in done.stdout
    data = json.loads(motcua("dossier", "show", codes["D1"], "--json").stdout)
    assert data["status"] == "returned"
    refused = motcua("dossier", "return", codes["D6"])  # not signed yet
    assert refused.returncode == 1
    assert "cannot become returned" in refused.stderr


def test_report(codes: dict[str, str]) -> None:
    out = motcua("report", "--from", "2026-04-01", "--to", "2026-05-31", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    total = data["total"]
    assert (total["received"], total["resolved"], total["late"], total["pending"]) == (7, 5, 1, 3)
    assert total["on_time_rate"] == pytest.approx(0.8)
    assert [m["month"] for m in data["by_month"]] == ["2026-04", "2026-05"]
    table = motcua("report", "--from", "2026-04-01", "--to", "2026-05-31")
    assert table.returncode == 0
    assert "80.00%" in table.stdout and "  xac-nhan-tinh-trang-hon-nhan" in table.stdout
    assert "1 late or overdue dossier(s) without an apology letter" in table.stderr
    bad = motcua("report", "--from", "01/04/2026")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_procedures_list(motcua_home: Path) -> None:
    out = motcua("procedures", "list", "--json")
    assert out.returncode == 0, out.stderr
    keys = [p["key"] for p in json.loads(out.stdout)]
    # the shipped catalogue (issue 12: at least 15 procedures), in key order
    assert keys == sorted(keys) and len(keys) == len(load_catalogue()) >= 15
    assert {"chung-thuc-ban-sao", "dang-ky-khai-sinh", "xac-nhan-tinh-trang-hon-nhan"} <= set(keys)
    table = motcua("procedures", "list")
    assert "3 ngày làm việc" in table.stdout and "(code unconfirmed)" in table.stdout
