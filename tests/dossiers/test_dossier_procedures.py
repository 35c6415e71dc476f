"""The procedure catalogue: shipped files, completeness checks, errors naming file and line."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dossiers.calendar import VN_TZ, WorkingCalendar
from dossiers.forms.results import template_keys
from dossiers.procedures import PROCEDURES_DIR, Catalogue, due_date, load_catalogue
from motcua.errors import BadArgumentError, ConfigurationError
from motcua.types import nfc


def test_shipped_procedures(catalogue: Catalogue) -> None:
    keys = {p.key for p in catalogue}
    assert {"dang-ky-khai-sinh", "chung-thuc-ban-sao", "xac-nhan-tinh-trang-hon-nhan"} <= keys
    birth = catalogue.get("dang-ky-khai-sinh")
    assert birth.required_kinds == ["to-khai-khai-sinh", "cccd"]
    assert birth.processing.same_day and birth.processing.cutoff == dt.time(15, 0)
    assert birth.field == "Hộ tịch" and birth.name == nfc("Đăng ký khai sinh")
    marital = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    assert marital.processing.working_days == 3
    assert marital.processing.label_vi == "3 ngày làm việc"
    assert catalogue.get("chung-thuc-ban-sao").fee.label_vi == "2.000 đồng"


def test_every_result_template_exists(catalogue: Catalogue) -> None:
    assert {p.result.template for p in catalogue} <= set(template_keys())


def test_missing_components(catalogue: Catalogue) -> None:
    birth = catalogue.get("dang-ky-khai-sinh")
    assert [c.kind for c in birth.missing_components(["to-khai-khai-sinh"])] == ["cccd"]
    assert birth.missing_components(["cccd", "to-khai-khai-sinh"]) == []
    # an optional component never makes a dossier incomplete
    assert birth.missing_components(["cccd", "to-khai-khai-sinh", "giay-chung-sinh"]) == []
    assert birth.label_of("cccd") == "Căn cước công dân của người yêu cầu"


def test_due_date_follows_the_procedure(catalogue: Catalogue) -> None:
    cal = WorkingCalendar()
    friday = dt.datetime(2026, 4, 24, 15, 30, tzinfo=VN_TZ)
    assert due_date(catalogue.get("dang-ky-khai-sinh"), cal, friday) == dt.date(2026, 4, 28)
    marital = catalogue.get("xac-nhan-tinh-trang-hon-nhan")
    assert due_date(marital, cal, friday) == dt.date(2026, 5, 4)


def test_unknown_procedure(catalogue: Catalogue) -> None:
    with pytest.raises(BadArgumentError, match="dang-ky-khai-sinh"):
        catalogue.get("dang-ky-ket-hon")


def _copy_catalogue(tmp_path: Path) -> Path:
    folder = tmp_path / "procedures"
    folder.mkdir()
    for path in PROCEDURES_DIR.glob("*.yaml"):
        shutil.copy(path, folder)
    return folder


def test_validation_error_names_file_and_line(tmp_path: Path) -> None:
    folder = _copy_catalogue(tmp_path)
    path = folder / "xac-nhan-tinh-trang-hon-nhan.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = lines.index("  working_days: 3")
    lines[index] = "  working_days: ba"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_catalogue(folder)
    message = str(caught.value)
    assert f"xac-nhan-tinh-trang-hon-nhan.yaml:{index + 1}:" in message
    assert "processing.working_days" in message


def test_nested_error_points_at_the_component(tmp_path: Path) -> None:
    folder = _copy_catalogue(tmp_path)
    path = folder / "dang-ky-khai-sinh.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    index = lines.index("  - kind: cccd")
    lines[index] = "  - kind: CCCD card"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=rf"dang-ky-khai-sinh\.yaml:{index + 1}: "):
        load_catalogue(folder)


def test_yaml_syntax_error_and_key_mismatch(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "broken.yaml").write_text("key: broken\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"broken\.yaml:\d+: not valid YAML"):
        load_catalogue(folder)
    (folder / "broken.yaml").unlink()
    source = (PROCEDURES_DIR / "chung-thuc-ban-sao.yaml").read_text(encoding="utf-8")
    (folder / "other-name.yaml").write_text(source, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="differs from the file name"):
        load_catalogue(folder)


def test_duplicate_national_codes_are_refused(tmp_path: Path) -> None:
    folder = _copy_catalogue(tmp_path)
    source = (folder / "chung-thuc-ban-sao.yaml").read_text(encoding="utf-8")
    twin = source.replace("key: chung-thuc-ban-sao", "key: chung-thuc-ban-sao-2")
    (folder / "chung-thuc-ban-sao-2.yaml").write_text(twin, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"2\.000815 is also used by chung-thuc-ban-sao"):
        load_catalogue(folder)
