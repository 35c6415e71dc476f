"""The route modules stand on their own: none imports the application module (issue 16, item 8)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROUTES = Path(__file__).resolve().parents[2] / "motcua" / "web" / "routes"


def test_no_route_module_imports_the_app() -> None:
    offenders = []
    for path in sorted(ROUTES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "motcua.web.app":
                offenders.append(path.name)
            if isinstance(node, ast.Import) and any(a.name == "motcua.web.app" for a in node.names):
                offenders.append(path.name)
    assert offenders == []


def test_intake_routes_import_first_in_a_fresh_interpreter() -> None:
    code = (
        "import sys, motcua.web.routes.intake as i; "
        "assert 'motcua.web.app' not in sys.modules, 'intake pulled in the app'; "
        "from motcua.web.uploads import MAX_FILES_PER_REQUEST; "
        "assert i.MAX_FILES == MAX_FILES_PER_REQUEST"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_page_links_a_favicon_that_exists() -> None:
    web = ROUTES.parent
    base = (web / "templates" / "base.html").read_text(encoding="utf-8")
    assert 'rel="icon"' in base and "favicon.svg" in base
    assert (web / "static" / "favicon.svg").read_text(encoding="utf-8").startswith("<svg")
