"""Runs after the browser modules (files run in name order): Playwright's sync API keeps an
asyncio loop running in the main thread while a browser is open, and the rest of the suite calls
`asyncio.run()` (pyHanko) and sync Prefect flows in that thread. Once a browser module is done,
no loop may be left running."""

from __future__ import annotations

import asyncio

import pytest


def test_no_asyncio_loop_is_left_running_after_the_browser_modules() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()
    assert asyncio.run(asyncio.sleep(0, result="ok")) == "ok"
