"""The procedure catalogue (thủ tục hành chính): one YAML file per procedure in this folder.

A procedure names its code in the national procedure database (mã thủ tục), its field (lĩnh vực),
the document kinds a complete dossier holds (thành phần hồ sơ), its processing time (working
days, or same day with a cut-off), its fee and its result document's template. Files are
validated by pydantic when loaded; an error names the file and the line. A new procedure is a
new file, not new code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dossiers.calendar import WorkingCalendar
from motcua.errors import BadArgumentError, ConfigurationError
from motcua.types import nfc

PROCEDURES_DIR = Path(__file__).parent
# What a document that is none of the procedure's components is called on every page and form.
OTHER_DOCUMENT_KIND = "giay-to-khac"
OTHER_DOCUMENT_LABEL = "Giấy tờ khác"
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

Slug = Annotated[str, Field(pattern=_SLUG)]
VietnameseText = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _nfc(cls, value: Any) -> Any:
        return nfc(value) if isinstance(value, str) else value


class Component(_Frozen):
    """One component of a dossier (thành phần hồ sơ): a document kind and how it is handed in."""

    kind: Slug = Field(description="document kind, e.g. to-khai-khai-sinh, cccd")
    label: VietnameseText = Field(description="Vietnamese label printed on receipts")
    required: bool = True
    form: str | None = Field(default=None, description="official form (mẫu) the document follows")
    copies: int = Field(default=1, ge=1)
    note: str | None = None


class ProcessingTime(_Frozen):
    """`working_days: 0` is a same-day procedure; `cutoff` moves later arrivals to the next day."""

    working_days: int = Field(ge=0, le=365)
    cutoff: dt.time | None = Field(
        default=None, description="same-day only: received at or after this time → next working day"
    )
    legal_basis: str | None = None

    @model_validator(mode="after")
    def _cutoff_only_same_day(self) -> ProcessingTime:
        if self.cutoff is not None and self.working_days != 0:
            raise ValueError("cutoff applies to same-day procedures (working_days: 0) only")
        return self

    @property
    def same_day(self) -> bool:
        return self.working_days == 0

    @property
    def label_vi(self) -> str:
        if self.same_day:
            if self.cutoff is None:
                return "Trong ngày"
            cutoff = f"{self.cutoff.hour} giờ" + (
                f" {self.cutoff.minute:02d}" if self.cutoff.minute else ""
            )
            return f"Trong ngày (sau {cutoff} trả kết quả vào ngày làm việc tiếp theo)"
        return f"{self.working_days} ngày làm việc"


class Fee(_Frozen):
    amount_vnd: int = Field(ge=0, description="fee or charge in đồng; 0 = free")
    note: str | None = None
    confirmed: bool = Field(default=True, description="false: amount not checked against a source")

    @property
    def label_vi(self) -> str:
        if self.amount_vnd == 0:
            return "Miễn lệ phí"
        return f"{self.amount_vnd:,}".replace(",", ".") + " đồng"


class ResultSpec(_Frozen):
    """What the citizen receives. Without `template` motcua cannot draft it: the result is
    uploaded (signed or scanned) and the dossier still goes through the whole lifecycle."""

    name: VietnameseText = Field(description="the result the citizen receives, in Vietnamese")
    template: Slug | None = Field(
        default=None, description="key of the result document template in dossiers/forms"
    )
    number_symbol: str | None = Field(
        default=None,
        pattern=r"^[^\W_]+(?:[-.][^\W_]+)*$",
        description="ký hiệu of the result's numbering book (12/TLKS); overrides the template's",
    )

    @property
    def draftable(self) -> bool:
        return self.template is not None


class Procedure(_Frozen):
    key: Slug
    national_code: str = Field(pattern=r"^\d\.\d{6}$", description="mã thủ tục, e.g. 1.001193")
    national_code_confirmed: bool = Field(
        default=False, description="true once checked against the national procedure database"
    )
    name: VietnameseText
    field: VietnameseText = Field(description="lĩnh vực: Hộ tịch, Chứng thực ...")
    level: str = "Cấp xã"
    legal_basis: list[str] = []
    components: list[Component] = Field(min_length=1)
    processing: ProcessingTime
    fee: Fee
    result: ResultSpec

    @model_validator(mode="after")
    def _unique_kinds(self) -> Procedure:
        kinds = [c.kind for c in self.components]
        duplicates = sorted({k for k in kinds if kinds.count(k) > 1})
        if duplicates:
            raise ValueError(f"component kinds listed twice: {', '.join(duplicates)}")
        return self

    @property
    def required_kinds(self) -> list[str]:
        return [c.kind for c in self.components if c.required]

    def missing_components(self, kinds_present: Iterable[str]) -> list[Component]:
        """The required components whose kind is not among `kinds_present`."""
        present = set(kinds_present)
        return [c for c in self.components if c.required and c.kind not in present]

    def draft_template(self) -> str:
        """The result template's key; `BadArgumentError` for a result motcua cannot draft."""
        if self.result.template is None:
            raise BadArgumentError(
                f"thủ tục {self.key} ({self.name}): motcua không soạn được kết quả "
                f'"{self.result.name}"',
                hint="tải lên kết quả đã ký hoặc bản quét (upload the signed or scanned result)",
            )
        return self.result.template

    def component(self, kind: str) -> Component | None:
        return next((c for c in self.components if c.kind == kind), None)

    def label_of(self, kind: str) -> str:
        """The Vietnamese label of a document kind; "Giấy tờ khác" for one the procedure does
        not list (a raw key such as `unknown` is never shown to a citizen)."""
        found = self.component(kind)
        return found.label if found else OTHER_DOCUMENT_LABEL


@dataclass(frozen=True)
class Catalogue:
    """The procedures an office handles, by key."""

    procedures: Mapping[str, Procedure]

    def get(self, key: str) -> Procedure:
        try:
            return self.procedures[key]
        except KeyError:
            known = ", ".join(sorted(self.procedures)) or "(none)"
            raise BadArgumentError(
                f"unknown procedure {key!r}",
                hint=f"use one of: {known} (see `motcua procedures list`)",
            ) from None

    def __iter__(self) -> Any:
        return iter(sorted(self.procedures.values(), key=lambda p: p.key))

    def __len__(self) -> int:
        return len(self.procedures)


def load_procedure(path: Path) -> Procedure:
    """Read and validate one procedure file; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigurationError(
            f"{path}:{line}: not valid YAML: {exc.problem}", hint="fix the YAML syntax"
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}:1: a procedure file holds a mapping of fields")
    try:
        procedure = Procedure.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc) or "(top)"
        line = _line_of(node, loc)
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigurationError(
            f"{path}:{line}: {where}: {first['msg']}{more}",
            hint="fix the procedure file (fields: see dossiers/procedures/__init__.py)",
        ) from None
    if procedure.key != path.stem:
        raise ConfigurationError(
            f"{path}:{_line_of(node, ('key',))}: key {procedure.key!r} differs from the file name",
            hint=f"name the file {procedure.key}.yaml",
        )
    return procedure


def load_catalogue(directory: Path | None = None, *, home: Path | None = None) -> Catalogue:
    """All `*.yaml` procedures of `directory` (default: the ones shipped with motcua).

    With `home` (MOTCUA_HOME), the office's own procedures in `<home>/procedures/*.yaml` (those
    `motcua procedures import` writes) join them; an office file with the key of a shipped one
    replaces it (an office may correct a fee or a code for its province).
    """
    folder = directory or PROCEDURES_DIR
    if not folder.is_dir():
        raise ConfigurationError(f"{folder}: no such procedure folder")
    paths = {path.stem: path for path in sorted(folder.glob("*.yaml"))}
    if home is not None and office_procedures_dir(home).is_dir():
        paths.update({p.stem: p for p in sorted(office_procedures_dir(home).glob("*.yaml"))})
    procedures: dict[str, Procedure] = {}
    by_code: dict[str, str] = {}
    for path in paths.values():
        procedure = load_procedure(path)
        other = by_code.get(procedure.national_code)
        if other is not None:
            raise ConfigurationError(
                f"{path}: national code {procedure.national_code} is also used by {other}",
                hint="each procedure has its own code in the national database",
            )
        by_code[procedure.national_code] = procedure.key
        procedures[procedure.key] = procedure
    if not procedures:
        raise ConfigurationError(f"{folder}: no procedure files (*.yaml)")
    return Catalogue(procedures)


def office_procedures_dir(home: Path) -> Path:
    """Where an office's own (imported) procedure files live: `<home>/procedures`."""
    return home / "procedures"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the YAML node at `loc`, or of its closest existing parent."""
    if node is None:
        return 1
    current = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == part:
                    child = value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1


def due_date(procedure: Procedure, calendar: WorkingCalendar, received_at: dt.datetime) -> dt.date:
    """When `procedure`'s result is due for a complete dossier received at `received_at`."""
    return calendar.due_date(
        received_at,
        working_days=procedure.processing.working_days,
        cutoff=procedure.processing.cutoff,
    )
