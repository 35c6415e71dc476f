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
    # a procedure without a template has its result uploaded; every template named exists
    named = {p.result.template for p in catalogue if p.result.template is not None}
    assert named <= set(template_keys())
    assert {"trich-luc-khai-sinh", "loi-chung-ban-sao", "xac-nhan-tinh-trang-hon-nhan"} <= named


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
        catalogue.get("cap-giay-phep-xay-dung")


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


def test_the_commune_desk_catalogue(catalogue: Catalogue) -> None:
    keys = {p.key for p in catalogue}
    assert len(catalogue) >= 15
    assert {
        "dang-ky-khai-sinh",
        "dang-ky-ket-hon",
        "dang-ky-khai-tu",
        "dang-ky-nhan-cha-me-con",
        "thay-doi-cai-chinh-ho-tich",
        "cap-ban-sao-trich-luc-ho-tich",
        "xac-nhan-tinh-trang-hon-nhan",
        "chung-thuc-ban-sao",
        "chung-thuc-chu-ky",
        "chung-thuc-hop-dong",
    } <= keys
    assert {p.field for p in catalogue} == {"Hộ tịch", "Chứng thực"}
    assert len({p.national_code for p in catalogue}) == len(catalogue)
    for p in catalogue:
        assert p.required_kinds, p.key
        assert p.name == nfc(p.name) and all(c.label == nfc(c.label) for c in p.components)
    contract = catalogue.get("chung-thuc-hop-dong")
    assert contract.processing.label_vi == "2 ngày làm việc"
    assert contract.fee.label_vi == "50.000 đồng"
    marriage = catalogue.get("dang-ky-ket-hon")
    assert not marriage.result.draftable and marriage.result.number_symbol == "ĐKKH"
    with pytest.raises(BadArgumentError, match="không soạn được kết quả"):
        marriage.draft_template()
    assert catalogue.get("dang-ky-khai-sinh").draft_template() == "trich-luc-khai-sinh"


def test_result_number_symbols(catalogue: Catalogue) -> None:
    from dossiers.forms.results import number_symbol

    assert number_symbol(catalogue.get("dang-ky-khai-sinh")) == "TLKS"  # from its template
    assert number_symbol(catalogue.get("chung-thuc-ban-sao")) == "SCT-BS"
    assert number_symbol(catalogue.get("dang-ky-khai-tu")) == "TLKT"  # from the procedure
    symbols = [number_symbol(p) for p in catalogue]
    assert None not in symbols and len(set(symbols)) == len(symbols)  # one book each


def test_unlisted_kinds_read_giay_to_khac(catalogue: Catalogue) -> None:
    copy = catalogue.get("chung-thuc-ban-sao")
    assert copy.label_of("unknown") == "Giấy tờ khác"
    assert copy.label_of("cccd") == "Giấy tờ khác"  # not a component of this procedure
    assert copy.label_of("ban-chinh").startswith("Bản chính")


def test_office_procedures_join_the_shipped_ones(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "procedures").mkdir(parents=True)
    source = (PROCEDURES_DIR / "chung-thuc-ban-sao.yaml").read_text(encoding="utf-8")
    (home / "procedures" / "chung-thuc-ban-sao.yaml").write_text(
        source.replace("amount_vnd: 2000", "amount_vnd: 3000"), encoding="utf-8"
    )
    shipped = load_catalogue()
    merged = load_catalogue(home=home)
    assert len(merged) == len(shipped)
    assert merged.get("chung-thuc-ban-sao").fee.amount_vnd == 3000  # the office's file wins
    assert (
        load_catalogue(home=tmp_path / "nothing-here").procedures.keys()
        == shipped.procedures.keys()
    )
