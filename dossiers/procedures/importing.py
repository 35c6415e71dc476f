"""Importing procedures from a CSV or JSON catalogue into an office's procedure folder.

JSON holds a list of procedures (or `{"procedures": [...]}`), each an object with the fields of
a procedure YAML file. CSV holds one procedure a row, UTF-8 (a BOM is allowed), with the columns

    key, national_code, national_code_confirmed, name, field, level, legal_basis,
    components, working_days, cutoff, fee_vnd, fee_note, fee_confirmed,
    result_name, result_template, result_number_symbol

where `legal_basis` lists its items separated by `|`, and `components` lists `kind=label` items
separated by `|`, a kind ending in `?` being optional (`cccd=Căn cước công dân|ban-sao?=Bản
sao`). Only `key`, `national_code`, `name`, `field`, `components`, `working_days`, `fee_vnd`
and `result_name` are required; empty cells take the defaults. Every row is validated by the
same pydantic models as the YAML files, and an error names the row and the column; nothing is
written unless every row is valid (the README documents the layout for offices).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dossiers.procedures import Catalogue, Procedure, load_catalogue, office_procedures_dir
from motcua.errors import BadArgumentError, InputFileError
from motcua.types import nfc

CSV_COLUMNS = (
    "key",
    "national_code",
    "national_code_confirmed",
    "name",
    "field",
    "level",
    "legal_basis",
    "components",
    "working_days",
    "cutoff",
    "fee_vnd",
    "fee_note",
    "fee_confirmed",
    "result_name",
    "result_template",
    "result_number_symbol",
)
REQUIRED_COLUMNS = frozenset(
    {"key", "national_code", "name", "field", "components", "working_days", "fee_vnd",
     "result_name"}
)  # fmt: skip
# Where a model field's error shows in the CSV: (top field, sub field) → column.
_CSV_COLUMN_OF: Mapping[tuple[str, str], str] = {
    ("processing", "working_days"): "working_days",
    ("processing", "cutoff"): "cutoff",
    ("fee", "amount_vnd"): "fee_vnd",
    ("fee", "note"): "fee_note",
    ("fee", "confirmed"): "fee_confirmed",
    ("result", "name"): "result_name",
    ("result", "template"): "result_template",
    ("result", "number_symbol"): "result_number_symbol",
}
_TRUE = {"true", "1", "yes", "có", "x"}
_FALSE = {"false", "0", "no", "không", ""}
MAX_REPORTED = 20


@dataclass(frozen=True)
class ImportProblem:
    """One invalid cell: `row` is the CSV line (header = 1) or the JSON item (first = 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"dòng {self.row}, cột {self.column}: {self.message}"


@dataclass(frozen=True)
class ImportedProcedure:
    procedure: Procedure
    path: Path
    replaced: bool


def read_catalogue_file(path: Path) -> list[tuple[int, Procedure]]:
    """Validate every procedure of a CSV or JSON file; `BadArgumentError` lists the problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"không đọc được tệp: {exc.strerror}") from None
    try:
        text = nfc(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path, f"không phải văn bản UTF-8 (byte {exc.start})", hint="save the file as UTF-8"
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        items = _json_items(path, text)
    elif suffix == ".csv":
        items = _csv_items(path, text)
    else:
        raise InputFileError(
            path, "chỉ nhận tệp .csv hoặc .json", hint="see README: Importing procedures"
        )
    if not items:
        raise InputFileError(path, "tệp không có thủ tục nào")
    problems: list[ImportProblem] = []
    valid: list[tuple[int, Procedure]] = []
    for row, data, columns in items:
        problems += columns
        if columns:
            continue
        try:
            valid.append((row, Procedure.model_validate(data)))
        except ValidationError as exc:
            problems += [_problem(row, e, csv_file=suffix == ".csv") for e in exc.errors()]
    seen: dict[str, int] = {}
    codes: dict[str, int] = {}
    for row, procedure in valid:
        if procedure.key in seen:
            problems.append(
                ImportProblem(
                    row, "key", f"mã {procedure.key!r} trùng với dòng {seen[procedure.key]}"
                )
            )
        if procedure.national_code in codes:
            problems.append(
                ImportProblem(
                    row,
                    "national_code",
                    f"mã thủ tục {procedure.national_code} trùng với dòng "
                    f"{codes[procedure.national_code]}",
                )
            )
        seen.setdefault(procedure.key, row)
        codes.setdefault(procedure.national_code, row)
    _raise_if(path, problems)
    return valid


def import_catalogue(
    path: Path,
    home: Path,
    *,
    replace: bool = False,
    shipped: Catalogue | None = None,
) -> list[ImportedProcedure]:
    """Validate `path` and write each procedure to `<home>/procedures/<key>.yaml`.

    Nothing is written when a row is invalid, when a national code is already another
    procedure's, or (without `replace`) when the office already has a procedure of that key.
    """
    rows = read_catalogue_file(path)
    folder = office_procedures_dir(home)
    current = load_catalogue(home=home) if shipped is None else shipped
    problems: list[ImportProblem] = []
    for row, procedure in rows:
        target = folder / f"{procedure.key}.yaml"
        if target.exists() and not replace:
            problems.append(
                ImportProblem(
                    row, "key", f"văn phòng đã có thủ tục {procedure.key} ({target}); "
                    "dùng --replace để thay"
                )
            )  # fmt: skip
        holder = next((p.key for p in current if p.national_code == procedure.national_code), None)
        if holder is not None and holder != procedure.key:
            problems.append(
                ImportProblem(
                    row,
                    "national_code",
                    f"mã thủ tục {procedure.national_code} đã thuộc thủ tục {holder}",
                )
            )
    _raise_if(path, problems)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
    except OSError as exc:
        raise InputFileError(folder, f"không tạo được thư mục: {exc.strerror}") from None
    written: list[ImportedProcedure] = []
    try:
        files = []
        for row, procedure in rows:
            tmp = staged / f"{procedure.key}.yaml"
            tmp.write_text(_as_yaml(procedure, path, row), encoding="utf-8")
            files.append((tmp, procedure))
        for tmp, procedure in files:  # renames within one folder: nothing half-written
            target = folder / tmp.name
            replaced = target.exists()
            os.replace(tmp, target)
            written.append(ImportedProcedure(procedure, target, replaced))
    except OSError as exc:
        raise InputFileError(folder, f"không ghi được thủ tục: {exc.strerror}") from None
    finally:
        for leftover in staged.glob("*"):
            leftover.unlink(missing_ok=True)
        staged.rmdir()
    return written


def _as_yaml(procedure: Procedure, source: Path, row: int) -> str:
    data = procedure.model_dump(mode="json", exclude_none=True)
    head = f"# Imported by `motcua procedures import` from {source.name}, item {row}.\n"
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _raise_if(path: Path, problems: Sequence[ImportProblem]) -> None:
    if not problems:
        return
    shown = "\n".join(f"  {p}" for p in problems[:MAX_REPORTED])
    more = len(problems) - MAX_REPORTED
    tail = f"\n  (và {more} lỗi khác)" if more > 0 else ""
    raise BadArgumentError(
        f"{path}: {len(problems)} lỗi, không thủ tục nào được nhập:\n{shown}{tail}",
        hint="fix the rows named above and import again (layout: README, Importing procedures)",
    )


def _problem(row: int, error: Any, *, csv_file: bool) -> ImportProblem:
    loc = tuple(str(p) for p in error["loc"])
    column = _csv_column(loc) if csv_file else ".".join(loc) or "(thủ tục)"
    return ImportProblem(row, column, str(error["msg"]))


def _csv_column(loc: tuple[str, ...]) -> str:
    if not loc:
        return "(dòng)"
    if loc[0] == "components" and len(loc) > 1 and loc[1].isdigit():
        return f"components (mục {int(loc[1]) + 1})"
    if len(loc) >= 2 and (loc[0], loc[1]) in _CSV_COLUMN_OF:
        return _CSV_COLUMN_OF[(loc[0], loc[1])]
    return {"processing": "working_days", "fee": "fee_vnd", "result": "result_name"}.get(
        loc[0], loc[0]
    )


# --- JSON -----------------------------------------------------------------------------------


def _json_items(path: Path, text: str) -> list[tuple[int, Any, list[ImportProblem]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(data, dict) and "procedures" in data:
        data = data["procedures"]
    if not isinstance(data, list):
        raise InputFileError(path, 'JSON phải là một danh sách thủ tục, hoặc {"procedures": [...]}')
    out: list[tuple[int, Any, list[ImportProblem]]] = []
    for i, item in enumerate(data, start=1):
        problems = []
        if not isinstance(item, dict):
            problems.append(ImportProblem(i, "(thủ tục)", "mỗi thủ tục là một đối tượng JSON"))
        out.append((i, item, problems))
    return out


# --- CSV ------------------------------------------------------------------------------------


def _csv_items(path: Path, text: str) -> list[tuple[int, Any, list[ImportProblem]]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if unknown or missing:
        parts = []
        if unknown:
            parts.append("cột không biết: " + ", ".join(unknown))
        if missing:
            parts.append("thiếu cột: " + ", ".join(missing))
        raise BadArgumentError(
            f"{path}, dòng 1 (tiêu đề): " + "; ".join(parts),
            hint="columns: " + ", ".join(CSV_COLUMNS),
        )
    reader.fieldnames = header
    out: list[tuple[int, Any, list[ImportProblem]]] = []
    try:
        for record in reader:
            row = reader.line_num
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue  # a blank line
            out.append((row, *_csv_procedure(row, record)))
    except csv.Error as exc:
        raise InputFileError(path, f"CSV không hợp lệ ở dòng {reader.line_num}: {exc}") from None
    return out


def _csv_procedure(row: int, record: Mapping[str, Any]) -> tuple[Any, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    if None in record:  # more cells than header columns
        problems.append(ImportProblem(row, "(dòng)", "nhiều ô hơn số cột của tiêu đề"))

    def cell(name: str) -> str:
        value = record.get(name)
        return value.strip() if isinstance(value, str) else ""

    def flag(name: str, default: bool) -> bool:
        value = cell(name).lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        problems.append(ImportProblem(row, name, f"{value!r} không phải true/false"))
        return default

    data: dict[str, Any] = {
        "key": cell("key"),
        "national_code": cell("national_code"),
        "national_code_confirmed": flag("national_code_confirmed", False),
        "name": cell("name"),
        "field": cell("field"),
        "legal_basis": _split(cell("legal_basis")),
        "components": [],
        "processing": {"working_days": cell("working_days")},
        "fee": {"amount_vnd": cell("fee_vnd").replace(".", "").replace(" ", "")},
        "result": {"name": cell("result_name")},
    }
    if cell("level"):
        data["level"] = cell("level")
    if cell("cutoff"):
        data["processing"]["cutoff"] = cell("cutoff")
    if cell("fee_note"):
        data["fee"]["note"] = cell("fee_note")
    data["fee"]["confirmed"] = flag("fee_confirmed", True)
    for name, key in (("result_template", "template"), ("result_number_symbol", "number_symbol")):
        if cell(name):
            data["result"][key] = cell(name)
    for i, item in enumerate(_split(cell("components")), start=1):
        kind, sep, label = item.partition("=")
        if not sep:
            problems.append(
                ImportProblem(row, f"components (mục {i})", f"{item!r} không có dạng kind=nhãn")
            )
            continue
        kind = kind.strip()
        optional = kind.endswith("?")
        data["components"].append(
            {"kind": kind.rstrip("?").strip(), "label": label.strip(), "required": not optional}
        )
    return data, problems


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split("|") if part.strip()]
