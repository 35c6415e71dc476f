"""Data at rest is the owner's alone: the process umask, and a start-up check of MOTCUA_HOME.

`MOTCUA_HOME` holds the catalogue (full ID numbers, password hashes), uploads, dossiers, the
embedded store's volume files and TEST PKI keys. Every motcua process (CLI, web server, workers
and the flows they run, the object store it starts) sets umask 077 before creating anything, so
new files are 0600 and new folders 0700. Files made by an older version or another tool may be
looser: `loose_paths` finds them and `check_home` logs one warning naming a few and the fix;
nothing is changed behind the operator's back.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
_SHOWN = 5
_MAX_WALK = 20000  # entries looked at; a large store's volume folder is not walked to the end


def apply_private_umask() -> int:
    """Set umask 077 for this process and the processes it starts; returns the previous one."""
    return os.umask(PRIVATE_UMASK)


def loose_paths(home: Path, limit: int = _MAX_WALK) -> list[Path]:
    """Files and folders under `home` (itself included) that the group or others can reach: the
    entry's own mode is loose and every folder above it up to `home` lets them through (what
    sits in a 0700 folder is unreachable whatever its own mode, so it is not walked)."""
    if not home.exists():
        return []
    loose: list[Path] = []
    seen = 0
    for root, dirs, files in os.walk(home):
        here = Path(root)
        try:
            here_mode = here.lstat().st_mode
        except OSError:
            dirs[:] = []
            continue
        if here_mode & 0o077:
            loose.append(here)
        if not here_mode & 0o011:  # nobody but the owner may enter: the rest is private
            dirs[:] = []
            continue
        for name in files:
            seen += 1
            try:
                mode = (here / name).lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
                continue  # a socket's folder is what guards it
            if mode & 0o077:
                loose.append(here / name)
        if seen >= limit:
            break
    return loose


def check_home(home: Path) -> list[Path]:
    """Warn (once, in the log) when files under `home` are readable by other users."""
    loose = loose_paths(home)
    if loose:
        shown = ", ".join(str(p) for p in loose[:_SHOWN])
        more = f" and {len(loose) - _SHOWN} more" if len(loose) > _SHOWN else ""
        log.warning(
            "%d file(s)/folder(s) under %s are accessible to other users: %s%s; "
            "fix with: chmod -R go-rwx %s",
            len(loose),
            home,
            shown,
            more,
            home,
        )
    return loose


def prepare_process(home: Path) -> None:
    """What every motcua process does first: private umask, a private home, the check."""
    apply_private_umask()
    if not home.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_home(home)
