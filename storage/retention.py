"""Retention classes (thời hạn bảo quản): how long an archived version is locked, and how.

The classes are data (`retention_classes.toml` beside this module, or an office's own file),
validated by pydantic when loaded; errors name the file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from motcua.errors import BadArgumentError, ConfigurationError

DEFAULT_FILE = Path(__file__).with_name("retention_classes.toml")
PERMANENT_YEARS = 1000  # S3 has no unbounded retention; a millennium stands for "vĩnh viễn"


class _ClassModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: int | None = Field(default=None, ge=1, le=PERMANENT_YEARS)
    mode: Literal["COMPLIANCE", "GOVERNANCE"]
    label: str


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: str
    classes: dict[str, _ClassModel]

    @model_validator(mode="after")
    def _default_exists(self) -> _FileModel:
        if self.default not in self.classes:
            raise ValueError(f"default class {self.default!r} is not among the classes")
        return self


@dataclass(frozen=True)
class RetentionClass:
    """One retention class: a name, a period (None = permanent) and an object-lock mode."""

    name: str
    years: int | None
    mode: str  # "COMPLIANCE" | "GOVERNANCE"
    label: str  # Vietnamese, as printed in metadata ("10 năm", "Vĩnh viễn")

    @property
    def permanent(self) -> bool:
        return self.years is None

    def retain_until(self, now: dt.datetime) -> dt.datetime:
        """The retain-until date for a version written at `now` (calendar years, UTC)."""
        years = self.years if self.years is not None else PERMANENT_YEARS
        try:
            return now.replace(year=now.year + years)
        except ValueError:  # 29 February
            return now.replace(year=now.year + years, day=28)


@dataclass(frozen=True)
class RetentionPolicy:
    """The classes an archive knows, and the one used when a record names none."""

    classes: dict[str, RetentionClass]
    default: str

    def get(self, name: str | None) -> RetentionClass:
        key = name or self.default
        try:
            return self.classes[key]
        except KeyError:
            raise BadArgumentError(
                f"unknown retention class {key!r}",
                hint=f"use one of: {', '.join(self.classes)}",
            ) from None


def load_retention_policy(path: Path | None = None) -> RetentionPolicy:
    """Read and validate a retention-class file (default: the one shipped with motcua)."""
    source = path or DEFAULT_FILE
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
        model = _FileModel.model_validate(raw)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{source}: cannot read ({exc})", hint="fix the file") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"{source}: {problems}", hint="fix the file") from None
    classes = {
        name: RetentionClass(name=name, years=c.years, mode=c.mode, label=c.label)
        for name, c in model.classes.items()
    }
    return RetentionPolicy(classes=classes, default=model.default)
