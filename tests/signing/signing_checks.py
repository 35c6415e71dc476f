"""Independent judges besides pyHanko: poppler's `pdfsig` and `openssl cms -verify` over the
signed byte ranges."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def pdfsig_report(path: Path) -> str:
    """poppler's verdict, as text."""
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout


def signature_ranges(data: bytes) -> list[tuple[bytes, bytes]]:
    """(signed bytes, CMS DER) for each /ByteRange in the file, in file order."""
    found = []
    for match in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data):
        a, b, c, d = (int(x) for x in match.groups())
        signed = data[a : a + b] + data[c : c + d]
        hex_contents = data[a + b : c].strip()[1:-1]  # <...>
        cms = bytes.fromhex(hex_contents.decode())
        found.append((signed, cms))
    return found


def openssl_cms_verify(signed: bytes, cms: bytes, root: Path, chain: Path, work: Path) -> str:
    """`openssl cms -verify` of a detached CMS over the signed bytes; returns stderr text."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "content.bin").write_bytes(signed)
    (work / "sig.der").write_bytes(_trim_der(cms))
    done = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(work / "sig.der"),
            "-content",
            str(work / "content.bin"),
            "-CAfile",
            str(root),
            "-certfile",
            str(chain),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return f"{done.returncode}: {done.stderr.strip()}"


def _trim_der(data: bytes) -> bytes:
    """The DER object at the start of `data` (the /Contents placeholder is zero-padded)."""
    length = data[1]
    if length < 0x80:
        return data[: 2 + length]
    count = length & 0x7F
    return data[: 2 + count + int.from_bytes(data[2 : 2 + count], "big")]
