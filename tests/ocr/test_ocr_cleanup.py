"""Each clean-up stage on generated images with known answers (no OCR needed)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from extractors.ocr.cleanup import (
    NO_CLEANUP,
    CleanupOptions,
    Components,
    PageImage,
    clean,
    estimate_skew,
    estimate_text_height,
    speckle_ratio,
    to_grey,
    turn,
)
from samples.pages import (
    Page,
    add_scanner_border,
    add_seal_and_signature,
    degrade,
    rotate,
    uneven_lighting,
)


def grey(page: Page) -> np.ndarray:
    return cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("angle", [-14.6, -9.3, -2.5, -0.4, 0.0, 1.7, 4.5, 12.2, 14.8])
def test_deskew_finds_a_known_angle_within_0_2_degrees(full_page: Page, angle: float) -> None:
    image = rotate(grey(full_page), angle)
    height = estimate_text_height(image)
    assert height is not None
    found, sideways = estimate_skew(image, height)
    assert not sideways
    assert abs(found + angle) <= 0.2  # the correction turns the page back


def test_deskew_of_a_scanned_page_comes_back_level(full_page: Page) -> None:
    scanned = degrade(full_page, "scanned", seed=5)  # ±2.5° skew, blur, noise, JPEG, border
    page = clean(scanned.image, 300)
    assert "deskew" in page.stages
    assert abs(page.skew + scanned.skew) <= 0.2
    residual, _ = estimate_skew(page.image, estimate_text_height(page.image) or 30)
    assert abs(residual) <= 0.2


def test_a_sideways_page_is_flagged_not_deskewed(full_page: Page) -> None:
    page = clean(rotate(full_page.image, 90), 300)
    assert page.sideways
    assert "deskew" not in page.stages


@pytest.mark.parametrize("dpi", [100, 150, 600])
def test_resolution_is_normalised_to_the_target_text_height(full_page: Page, dpi: int) -> None:
    factor = dpi / 300
    image = cv2.resize(full_page.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    options = replace(NO_CLEANUP, normalise_resolution=True)
    page = clean(image, dpi, options)
    assert "resolution" in page.stages
    height = estimate_text_height(page.image)
    assert height is not None
    assert abs(height - options.target_text_height) <= 3
    assert page.dpi == pytest.approx(dpi * page.scale)


def test_text_already_at_the_target_height_is_not_rescaled(full_page: Page) -> None:
    options = replace(NO_CLEANUP, normalise_resolution=True)
    measured = estimate_text_height(grey(full_page))
    assert measured is not None
    factor = options.target_text_height / measured
    image = cv2.resize(full_page.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    page = clean(image, 300 * factor, options)
    assert "resolution" not in page.stages
    assert page.image.shape == image.shape[:2]


def test_scanner_borders_are_painted_white(full_page: Page) -> None:
    bordered = add_scanner_border(full_page.image, random.Random(3))
    before = cv2.cvtColor(bordered, cv2.COLOR_BGR2GRAY)
    assert before[:, :20].mean() < 80 and before[-10:, :].mean() < 80
    page = clean(bordered, 300, replace(NO_CLEANUP, remove_borders=True))
    assert "borders" in page.stages
    assert page.image[:, :20].mean() > 250 and page.image[-10:, :].mean() > 250
    # the text is untouched: the same ink as the page without a border
    ink_before = np.count_nonzero(grey(full_page)[200:-200, 200:-200] < 128)
    ink_after = np.count_nonzero(page.image[200:-200, 200:-200] < 128)
    assert abs(ink_after - ink_before) <= 0.01 * ink_before


def test_a_clean_page_has_no_border_to_remove(full_page: Page) -> None:
    page = clean(full_page.image, 300, replace(NO_CLEANUP, remove_borders=True))
    assert "borders" not in page.stages


def _otsu_ink(image: np.ndarray) -> float:
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return float(np.count_nonzero(ink)) / ink.size


def test_uneven_lighting_is_flattened(full_page: Page) -> None:
    shaded = uneven_lighting(full_page.image, random.Random(1), depth=0.6)
    shaded_grey = cv2.cvtColor(shaded, cv2.COLOR_BGR2GRAY)
    clean_ink = _otsu_ink(grey(full_page))
    # a global threshold turns the shadow into a black blot ...
    assert _otsu_ink(shaded_grey) > 3 * clean_ink
    page = clean(shaded, 300, replace(NO_CLEANUP, flatten_lighting=True))
    assert "lighting" in page.stages
    # ... after flattening it finds about the ink of the evenly lit page
    assert _otsu_ink(page.image) == pytest.approx(clean_ink, rel=0.25)


def test_even_lighting_is_left_alone(full_page: Page) -> None:
    page = clean(full_page.image, 300, replace(NO_CLEANUP, flatten_lighting=True))
    assert "lighting" not in page.stages


def test_speckle_is_removed_and_characters_are_kept(full_page: Page) -> None:
    rng = np.random.default_rng(2)
    image = grey(full_page).copy()
    h, w = image.shape
    ys, xs = rng.integers(0, h, 6000), rng.integers(0, w, 6000)
    image[ys, xs] = 0
    before = Components.of(image)
    assert speckle_ratio(before) > 0.2
    page = clean(image, 300, replace(NO_CLEANUP, denoise=True))
    assert "denoise" in page.stages
    after = Components.of(page.image)
    assert speckle_ratio(after) < 0.02
    characters = Components.of(grey(full_page)).stats[:, 4] >= 8
    kept = after.stats[:, 4] >= 8
    assert np.count_nonzero(kept) == pytest.approx(np.count_nonzero(characters), rel=0.02)


def test_a_clean_page_is_not_denoised(full_page: Page) -> None:
    page = clean(full_page.image, 300, replace(NO_CLEANUP, denoise=True))
    assert "denoise" not in page.stages


def test_red_seal_and_blue_signature_are_suppressed(full_page: Page) -> None:
    stamped = add_seal_and_signature(full_page, seed=1).image
    coloured = np.any(stamped != full_page.image, axis=2)
    text = grey(full_page) < 100
    seal_only = coloured & ~text
    plain = cv2.cvtColor(stamped, cv2.COLOR_BGR2GRAY)
    assert np.median(plain[seal_only]) < 150  # a plain grey conversion keeps the seal dark
    suppressed, changed = to_grey(stamped, suppress_colour=True)
    assert changed
    assert np.median(suppressed[seal_only]) > 200
    # black text stays black, also where the seal lies over it
    assert np.median(suppressed[text & coloured]) < 100
    assert np.median(suppressed[text]) < 100


def test_black_and_white_pages_are_not_touched_by_colour_suppression(full_page: Page) -> None:
    _, changed = to_grey(full_page.image, suppress_colour=True)
    assert not changed


def test_boxes_map_back_to_the_source_image() -> None:
    source = np.full((1000, 800), 255, np.uint8)
    cv2.rectangle(source, (300, 400), (420, 440), 0, -1)  # a "word"
    page = PageImage(source, 300)
    page = turn(page, 90, "orientation")
    page = turn(page, 7.5, "deskew")
    resized = cv2.resize(page.image, None, fx=1.5, fy=1.5)
    page = page.then(resized, "resolution", np.diag([1.5, 1.5, 1.0]))
    ys, xs = np.nonzero(page.image < 128)
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    left, top, right, bottom = page.to_source(box)
    # the axis-aligned box of a turned box is a little larger, never elsewhere
    assert left <= 302 and top <= 402 and right >= 418 and bottom >= 438
    assert left >= 280 and top >= 380 and right <= 440 and bottom <= 460


def test_debug_images_are_written_for_each_stage(full_page: Page, tmp_path: Path) -> None:
    scanned = degrade(full_page, "harsh", seed=2)
    page = clean(scanned.image, scanned.dpi, CleanupOptions(), debug_dir=tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written[0] == "page-00-grey.png"
    for stage in page.stages:
        assert any(name.endswith(f"-{stage}.png") for name in written), stage
    assert cv2.imread(str(tmp_path / written[-1])) is not None
