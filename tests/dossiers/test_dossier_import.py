"""`motcua procedures import` and `motcua forms register`, run as a clerk runs them."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.procedures import load_catalogue
from dossiers.procedures.importing import CSV_COLUMNS, import_catalogue, read_catalogue_file
from motcua.errors import BadArgumentError, InputFileError

MOTCUA = [sys.executable, "-m", "motcua"]
HEADER = ",".join(CSV_COLUMNS)
GOOD_ROWS = [
    'cap-giay-phep-xay-dung,1.009999,false,"Cấp giấy phép xây dựng nhà ở riêng lẻ",Xây dựng,,'
    '"Luật Xây dựng 2014|Nghị định 15/2021/NĐ-CP",'
    '"don-de-nghi=Đơn đề nghị cấp giấy phép xây dựng|ban-ve?=Bản vẽ thiết kế",'
    "15,,75000,Mức thu do tỉnh quy định,false,Giấy phép xây dựng,,GPXD",
    "xac-nhan-cu-tru-tam,1.009998,,Xác nhận thông tin cư trú,Cư trú,,,"
    '"to-khai-cu-tru=Tờ khai thay đổi thông tin cư trú",0,15:00,0,,,Giấy xác nhận,,',
]


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOTCUA, *args], capture_output=True, text=True, timeout=120)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_csv_rows_become_procedures(tmp_path: Path) -> None:
    home = tmp_path / "home"
    imported = import_catalogue(write_csv(tmp_path / "c.csv", GOOD_ROWS), home)
    assert [i.procedure.key for i in imported] == ["cap-giay-phep-xay-dung", "xac-nhan-cu-tru-tam"]
    assert sorted(p.name for p in (home / "procedures").iterdir()) == [
        "cap-giay-phep-xay-dung.yaml",
        "xac-nhan-cu-tru-tam.yaml",
    ]  # and no staging folder left behind
    catalogue = load_catalogue(home=home)
    permit = catalogue.get("cap-giay-phep-xay-dung")
    assert permit.name == unicodedata.normalize("NFC", "Cấp giấy phép xây dựng nhà ở riêng lẻ")
    assert permit.legal_basis == ["Luật Xây dựng 2014", "Nghị định 15/2021/NĐ-CP"]
    assert [(c.kind, c.required) for c in permit.components] == [
        ("don-de-nghi", True),
        ("ban-ve", False),
    ]
    assert permit.processing.working_days == 15 and permit.fee.amount_vnd == 75000
    assert not permit.fee.confirmed and permit.result.number_symbol == "GPXD"
    assert permit.result.template is None
    residence = catalogue.get("xac-nhan-cu-tru-tam")
    assert residence.processing.cutoff is not None and residence.fee.label_vi == "Miễn lệ phí"
    assert "dang-ky-khai-sinh" in catalogue.procedures  # the shipped ones are still there


def test_json_layout(tmp_path: Path) -> None:
    shipped = load_catalogue().get("xac-nhan-tinh-trang-hon-nhan").model_dump(mode="json")
    item = {**shipped, "key": "xac-nhan-hon-nhan-2", "national_code": "1.009997"}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"procedures": [item]}, ensure_ascii=False), encoding="utf-8")
    [(row, procedure)] = read_catalogue_file(path)
    assert row == 1 and procedure.key == "xac-nhan-hon-nhan-2"
    path.write_text(json.dumps([item, {**item, "processing": {"working_days": "ba"}}]), "utf-8")
    with pytest.raises(BadArgumentError, match=r"dòng 2, cột processing\.working_days"):
        read_catalogue_file(path)


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (GOOD_ROWS[1].replace("1.009998", "1.9"), "dòng 3, cột national_code"),
        (GOOD_ROWS[1].replace(",0,15:00,", ",ba,15:00,"), "dòng 3, cột working_days"),
        (GOOD_ROWS[1].replace(",0,15:00,", ",2,15:00,"), "dòng 3, cột working_days"),
        (
            GOOD_ROWS[1].replace("to-khai-cu-tru=", "to-khai-cu-tru "),
            "dòng 3, cột components (mục 1)",
        ),
        (GOOD_ROWS[1].replace("to-khai-cu-tru=", "Tờ Khai="), "dòng 3, cột components (mục 1)"),
        (GOOD_ROWS[1].replace(",0,,,Giấy", ",miễn,,,Giấy"), "dòng 3, cột fee_vnd"),
        (GOOD_ROWS[1].replace("Giấy xác nhận,,", ",,"), "dòng 3, cột result_name"),
        (GOOD_ROWS[1].replace("1.009998", "1.009999"), "dòng 3, cột national_code"),
        (GOOD_ROWS[1].replace("xac-nhan-cu-tru-tam", "cap-giay-phep-xay-dung"), "dòng 3, cột key"),
        (GOOD_ROWS[1].replace("1.009998", "1.001193"), "dòng 3, cột national_code"),
    ],
)
def test_errors_name_row_and_column_and_nothing_is_written(
    tmp_path: Path, row: str, where: str
) -> None:
    home = tmp_path / "home"
    import_catalogue(write_csv(tmp_path / "first.csv", GOOD_ROWS[:1]), home)
    before = snapshot(home / "procedures")
    bad = write_csv(tmp_path / "bad.csv", [GOOD_ROWS[0].replace("1.009999", "1.009996").replace(
        "cap-giay-phep-xay-dung", "cap-phep-2"), row])  # fmt: skip
    with pytest.raises(BadArgumentError) as caught:
        import_catalogue(bad, home)
    assert where in str(caught.value), str(caught.value)
    assert "không thủ tục nào được nhập" in str(caught.value)
    assert snapshot(home / "procedures") == before  # not even the valid first row


def test_header_and_file_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("key,ten,national_code\nx,y,1.000001\n", encoding="utf-8")
    with pytest.raises(BadArgumentError, match=r"dòng 1 \(tiêu đề\): cột không biết: ten"):
        import_catalogue(wrong, home)
    sheet = tmp_path / "c.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputFileError, match=r"c\.xlsx: chỉ nhận tệp \.csv hoặc \.json"):
        import_catalogue(sheet, home)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "\nx,Đ\n".encode("cp1258"))
    with pytest.raises(InputFileError, match="không phải văn bản UTF-8"):
        import_catalogue(latin, home)
    assert not (home / "procedures").exists()


def test_import_command(tmp_path: Path, motcua_home: Path) -> None:
    good = write_csv(tmp_path / "c.csv", GOOD_ROWS)
    done = motcua("procedures", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "added cap-giay-phep-xay-dung" in done.stdout
    listed = json.loads(motcua("procedures", "list", "--json").stdout)
    assert len(listed) >= 15
    assert "cap-giay-phep-xay-dung" in {p["key"] for p in listed}  # the office's import is offered
    again = motcua("procedures", "import", str(good))
    assert again.returncode == 2
    assert "dòng 2, cột key" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = motcua("procedures", "import", "--replace", str(good))
    assert replaced.returncode == 0 and "replaced cap-giay-phep-xay-dung" in replaced.stdout
    bad = write_csv(tmp_path / "bad.csv", [GOOD_ROWS[0].replace(",15,", ",mười lăm,")])
    failed = motcua("procedures", "import", "--replace", str(bad))
    assert failed.returncode == 2 and "dòng 2, cột working_days" in failed.stderr
    missing = motcua("procedures", "import", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "none.csv" in missing.stderr


def test_every_door_offers_the_office_import(tmp_path: Path, motcua_home: Path) -> None:
    """The one builder reads `<home>/procedures`: CLI, web, hot folder and workers offer imports."""
    from motcua.office import build_office
    from motcua.settings import load_settings

    import_catalogue(write_csv(tmp_path / "c.csv", GOOD_ROWS), motcua_home)
    office = build_office(load_settings())
    assert office.catalogue.get("cap-giay-phep-xay-dung").key == "cap-giay-phep-xay-dung"
    office.register.engine.dispose()


def test_forms_register_command(tmp_path: Path, motcua_home: Path) -> None:
    import datetime as dt

    from dossiers.calendar import VN_TZ
    from dossiers.register import DocumentIn, DossierRegister

    register = DossierRegister(
        f"sqlite:///{motcua_home / 'catalog.sqlite3'}", unit_code="H40.29.10"
    )
    register.create_tables()
    procedure = load_catalogue().get("dang-ky-ket-hon")
    codes = []
    for day in (20, 24, 28):
        docs = [DocumentIn(f"/{day}/{k}.pdf", k, hashlib.sha256(f"{day}{k}".encode()).hexdigest())
                for k in procedure.required_kinds]  # fmt: skip
        at = dt.datetime(2026, 4, day, 9, tzinfo=VN_TZ)
        codes.append(register.intake(procedure, docs, received_at=at).dossier.code)
    register.engine.dispose()
    out = tmp_path / "so-theo-doi.pdf"
    done = motcua("forms", "register", "--from", "2026-04-21", "--to", "28/04/2026", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "2 dossier(s)" in done.stdout
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in PdfReader(out).pages))
    assert "SỔ THEO DÕI HỒ SƠ" in text and "Đăng ký kết hôn" in text
    assert codes[1] in text and codes[2] in text and codes[0] not in text
    for args, message in [
        (["--from", "2026-04-29", "--to", "2026-04-21"], "khoảng ngày không hợp lệ"),
        (["--from", "hôm qua", "--to", "2026-04-21"], "không phải một ngày hợp lệ"),
    ]:
        bad = motcua("forms", "register", *args, "-o", str(tmp_path / "x.pdf"))
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.pdf").exists()
