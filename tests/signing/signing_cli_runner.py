"""Run `motcua` in-process, as a user would, and collect exit code and output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from motcua.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_motcua(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Run(code=code, out=captured.out, err=captured.err)
