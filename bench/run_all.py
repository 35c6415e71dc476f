"""Run every benchmark in bench/ in turn and print their tables (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    scripts = sorted(p for p in here.glob("*.py") if p.name != Path(__file__).name)
    failed = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=False)
        print(f"--- {script.name}: exit {result.returncode}, {time.monotonic() - started:.0f} s")
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
