"""Fixtures for the OCR tests: generated pages (no binary fixtures) and text comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from samples.pages import Page, crop, render_page, write_image


@pytest.fixture(scope="session")
def full_page() -> Page:
    """A whole A4 page at 300 dpi: official-document header and body."""
    return render_page(4, font="Liberation Serif", size_pt=12.0)


@pytest.fixture(scope="session")
def header_page(full_page: Page) -> Page:
    """The top of `full_page`: header, type, subject and six body lines (fast to OCR)."""
    return crop(full_page, 1200)


@pytest.fixture(scope="session")
def header_png(header_page: Page, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ocr") / "header.png"
    write_image(header_page.image, str(path), 300)
    return path
