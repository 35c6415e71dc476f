"""Form templates: one YAML file per document kind, validated by pydantic at load time.

A template names the labels (with aliases, since OCR misreads labels too), where the value sits
(`right`, `below`, continuation lines), how to normalise it, which checks it must pass, and the
cross-field checks. A field may instead name a `locate` method for values without a label (the
Decree 30/2020 header). A new form is a new file in `templates/`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motcua.errors import ConfigurationError

Normaliser = Literal[
    "text",
    "name",
    "digits",
    "id_paper",
    "date",
    "expiry",
    "sex",
    "year",
    "choice",
    "symbol",
    "caps",
    "list",
]
FieldCheck = Literal["cccd", "name", "caps", "address"]
Locator = Literal[
    "label",
    "issuing_body",
    "parent_body",
    "header_number",
    "urgency",
    "place",
    "issue_date",
    "doc_type",
    "subject",
    "recipients",
    "signer",
    "signer_title",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recognise(_Strict):
    keywords: tuple[str, ...]
    min_matches: int = 2


class Section(_Strict):
    name: str
    start: tuple[str, ...]


class FieldSpec(_Strict):
    key: str
    section: str | None = None
    labels: tuple[str, ...] = ()
    title: str | None = None  # what people read (a form); default: the first label
    at_start: bool = False
    locate: Locator = "label"
    read: Literal["right", "below", "right_or_below"] = "right_or_below"
    lines: int = Field(default=1, ge=1, le=6)  # value lines, counting the first
    normalise: Normaliser = "text"
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    checks: tuple[FieldCheck, ...] = ()
    qr: str | None = None  # attribute of the QR payload that gives this field
    output: bool = True  # false for helper fields (a date in words)
    optional: bool = False  # a document may lack it (a parent body, an urgency mark)

    @model_validator(mode="after")
    def _labels_for_label_fields(self) -> FieldSpec:
        if self.locate in ("label", "header_number") and not self.labels:
            raise ValueError(f"field {self.key}: a label field needs `labels`")
        if self.normalise == "choice" and not self.choices:
            raise ValueError(f"field {self.key}: `choice` needs `choices`")
        return self


class CrossCheck(_Strict):
    check: Literal["cccd_consistent", "date_order", "card_expiry", "date_words", "drafting_unit"]
    number: str | None = None
    birth: str | None = None
    birth_year: str | None = None
    sex: str | None = None  # a field key, or the literal `=Nam` / `=Nữ`
    fields: tuple[str, ...] = ()
    expiry: str | None = None
    issued: str | None = None
    words: str | None = None
    digits: str | None = None
    symbol: str | None = None
    recipients: str | None = None
    doc_type: str | None = None


class Template(_Strict):
    kind: str
    title: str
    recognise: Recognise
    card: bool = False
    review_below: float = Field(default=0.8, ge=0, le=1)
    sections: tuple[Section, ...] = ()
    fields: tuple[FieldSpec, ...]
    checks: tuple[CrossCheck, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        keys = {f.key for f in self.fields}
        if len(keys) != len(self.fields):
            raise ValueError("field keys must be unique")
        sections = {s.name for s in self.sections}
        for spec in self.fields:
            if spec.section and spec.section not in sections:
                raise ValueError(f"field {spec.key}: unknown section {spec.section}")
        for check in self.checks:
            named = [
                check.number,
                check.birth,
                check.birth_year,
                check.expiry,
                check.issued,
                check.words,
                check.digits,
                *check.fields,
            ]
            if check.sex and not check.sex.startswith("="):
                named.append(check.sex)
            for key in named:
                if key and key not in keys:
                    raise ValueError(f"check {check.check}: unknown field {key}")
        return self


def _line_of(text: str, error: dict[str, Any]) -> str:
    """Best effort: the line in the YAML where the failing key's field starts."""
    loc = [str(p) for p in error.get("loc", ())]
    for i, part in enumerate(loc):
        if part == "fields" and i + 1 < len(loc) and loc[i + 1].isdigit():
            index = int(loc[i + 1])
            starts = [
                n
                for n, line in enumerate(text.splitlines(), 1)
                if line.lstrip().startswith("- key:")
            ]
            if index < len(starts):
                return f" (line {starts[index]})"
    return ""


def parse_template(text: str, source: str) -> Template:
    """Validate one template's YAML text; `ConfigurationError` names the file and line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigurationError(
            f"{source}{where}: not valid YAML ({exc})", hint="fix the template file"
        ) from None
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigurationError(
            f"{source}{_line_of(text, dict(first))}: {'.'.join(map(str, first['loc']))}: "
            f"{first['msg']}",
            hint="fix the template file (see extractors/fields/templates/*.yaml)",
        ) from None


def load_template_file(path: Path) -> Template:
    return parse_template(path.read_text(encoding="utf-8"), str(path))


@cache
def templates() -> dict[str, Template]:
    """All templates shipped in `extractors/fields/templates/`, by kind."""
    found: dict[str, Template] = {}
    folder = resources.files("extractors.fields").joinpath("templates")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            template = parse_template(entry.read_text(encoding="utf-8"), entry.name)
            found[template.kind] = template
    return found
