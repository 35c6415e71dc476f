"""Result documents (A4) rendered from YAML templates with a dossier's extracted fields.

A template (`templates/<key>.yaml`) names a title, optional intro and closing lines with
`{field}` placeholders, and sections of labelled rows, each taking one field with a format
(`text`, `upper`, `date`, `date_words`). Besides the extracted fields, every template may use
`office_name`, `office_name_upper`, `signing_body` ("ỦY BAN NHÂN DÂN"), `office_place`,
`dossier_code` and `issued_on`. The signer's block sits at the bottom right;
`RenderedResult.signature_box` says where, so the signing step places the leader's appearance
there.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from dossiers.forms.pdf import BOLD, ITALIC, REGULAR, Office, Sheet, SignatureBox, date_line
from dossiers.forms.words import date_words
from dossiers.procedures import Procedure
from motcua.errors import BadArgumentError, ConfigurationError
from motcua.types import nfc

TEMPLATES_DIR = Path(__file__).parent / "templates"
SIGNATURE_BOX_HEIGHT = 32 * mm
_BLANK = "…………"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Row(_Model):
    label: str
    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    format: Literal["text", "upper", "date", "date_words"] = "text"
    required: bool = True
    bold: bool = False


class Section(_Model):
    heading: str | None = None
    rows: list[Row] = Field(min_length=1)


class Signer(_Model):
    role_lines: list[str] = Field(min_length=1)
    note: str | None = None


class Numbering(_Model):
    """The result's numbering book (dossiers.numbering): its symbol, and the field it fills."""

    symbol: str = Field(pattern=r"^[^\W_]+(?:[-.][^\W_]+)*$", description="ký hiệu, e.g. TLKS")
    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the field the number fills")


class ResultTemplate(_Model):
    key: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str
    subtitle: str | None = None
    number_line: str | None = None
    numbering: Numbering | None = None
    intro: list[str] = []
    sections: list[Section] = Field(min_length=1)
    closing: list[str] = []
    signer: Signer


@dataclass(frozen=True)
class RenderedResult:
    path: Path
    pages: int
    signature_box: SignatureBox


def template_keys(directory: Path = TEMPLATES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_template(key: str, directory: Path = TEMPLATES_DIR) -> ResultTemplate:
    path = directory / f"{key}.yaml"
    if not path.is_file():
        raise BadArgumentError(
            f"no result template {key!r} in {directory}",
            hint=f"known templates: {', '.join(template_keys(directory)) or '(none)'}",
        )
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        template = ResultTemplate.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"{path}: {where}: {first['msg']}") from None
    if template.key != key:
        raise ConfigurationError(f"{path}: key {template.key!r} differs from the file name")
    return template


def number_symbol(procedure: Procedure, directory: Path = TEMPLATES_DIR) -> str | None:
    """The symbol of the book that numbers `procedure`'s results: the procedure's
    `result.number_symbol`, else its template's `numbering.symbol`; None when neither says."""
    if procedure.result.number_symbol:
        return procedure.result.number_symbol
    if procedure.result.template is None:
        return None
    numbering = load_template(procedure.result.template, directory).numbering
    return numbering.symbol if numbering else None


def render_result(
    template_key: str,
    out: Path,
    *,
    fields: Mapping[str, Any],
    office: Office,
    dossier_code: str,
    issued_on: dt.date,
    signer_name: str | None = None,
    result_number: str | None = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> RenderedResult:
    """Render the result document; `BadArgumentError` lists required fields that are missing.

    `result_number` (`12/TLKS`, from `dossiers.numbering`) fills the template's numbering field
    and wins over a value typed in by the clerk; without it the field prints as a blank.
    """
    template = load_template(template_key, templates_dir)
    values: dict[str, Any] = {k: v for k, v in fields.items() if v not in (None, "")}
    if result_number is not None:
        if template.numbering is None:
            raise BadArgumentError(
                f"dossier {dossier_code}: the result {template.key} has no numbering book",
                hint="add `numbering: {symbol: ..., field: ...}` to its template",
            )
        values[template.numbering.field] = nfc(result_number.strip())
    values.update(
        office_name=office.name,
        office_name_upper=office.name.upper(),
        signing_body=office.signing_body,
        office_place=office.place,
        dossier_code=dossier_code,
        issued_on=issued_on,
    )
    missing = [
        f"{row.field} ({row.label})"
        for section in template.sections
        for row in section.rows
        if row.required and row.field not in values
    ]
    for line in [*template.intro, *template.closing, *template.signer.role_lines]:
        missing += [f"{name} (placeholder)" for name in _placeholders(line) if name not in values]
    if missing:
        raise BadArgumentError(
            f"dossier {dossier_code}: the result {template.key} lacks "
            + ", ".join(dict.fromkeys(missing)),
            hint="complete the extracted fields (the clerk can fill them in) and issue again",
        )

    sheet = Sheet(out, A4, title=f"{template.title.capitalize()} {dossier_code}")
    sheet.header(
        office,
        issuing_body=office.name,
        number_line=_fill(template.number_line, values, blanks=True)
        if template.number_line
        else None,
        place_date=date_line(office.place, issued_on),
    )
    sheet.space(10)
    sheet.centered(template.title, size=15, font=BOLD)
    if template.subtitle:
        sheet.centered(template.subtitle, font=ITALIC)
    sheet.space(10)
    for line in template.intro:
        sheet.paragraph(_fill(line, values), first_line_indent=20)
    for section in template.sections:
        if section.heading:
            sheet.paragraph(section.heading, font=BOLD)
        for row in section.rows:
            if row.field not in values:
                continue  # an optional row without a value (a father not declared)
            text = _format(row, values[row.field], dossier_code)
            sheet.labelled(row.label, text, value_font=BOLD if row.bold else REGULAR)
        sheet.space(6)
    for line in template.closing:
        sheet.paragraph(_fill(line, values), font=ITALIC, first_line_indent=20)
    sheet.space(12)
    box = sheet.signature_block(
        [_fill(line, values) for line in template.signer.role_lines],
        note=template.signer.note,
        signer_name=signer_name,
        box_height=SIGNATURE_BOX_HEIGHT,
        at_bottom=True,
    )
    return RenderedResult(out, sheet.save(), box)


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _fill(text: str, values: Mapping[str, Any], *, blanks: bool = False) -> str:
    """Replace `{field}` placeholders; with `blanks`, missing ones become a dotted blank."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        parts.append(literal)
        if name:
            value = values.get(name)
            parts.append(_BLANK if value is None and blanks else _as_text(value))
    return nfc("".join(parts))


def _as_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return nfc(str(value)).strip()


def _format(row: Row, value: Any, dossier_code: str) -> str:
    if row.format == "upper":
        return _as_text(value).upper()
    if row.format in {"date", "date_words"}:
        day = parse_date(value)
        if day is None:
            raise BadArgumentError(
                f"dossier {dossier_code}: field {row.field} ({row.label}) is not a date: {value!r}",
                hint="dates are YYYY-MM-DD or DD/MM/YYYY",
            )
        return day.strftime("%d/%m/%Y") if row.format == "date" else date_words(day)
    return _as_text(value)


def parse_date(value: Any) -> dt.date | None:
    """A date from a `date`, `YYYY-MM-DD`, `DD/MM/YYYY` or `DD-MM-YYYY`; None when unreadable."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None
