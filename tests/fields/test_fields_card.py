"""The card finder and the card-first reading of photos (no OCR here: geometry and QR only)."""

from __future__ import annotations

import datetime as dt
import random

import cv2
import numpy as np
import pytest

from extractors.fields.api import NO_CARD, NO_QR, read_card
from extractors.fields.card import CARD_ASPECT, WARP_WIDTH, find_card
from samples.documents import make_person, place_on_desk, qr_payload, render_card


def _photo(
    seed: int, level: str, angle: float, *, qr: bool = True, payload: str | None = None
) -> tuple[np.ndarray, list[tuple[float, float]], str]:
    rng = random.Random(seed)
    person = make_person(rng, born=(1960, 2000))
    issued = dt.date(2022, 3, 1)
    text = payload or qr_payload(person, issued, cmnd="", layout=7)
    card = render_card(person, issued, qr_text=text if qr else None, seed=seed)
    image, corners = place_on_desk(card, seed, level, angle=angle)
    return image, corners, person.number


def _corner_error(
    found: tuple[tuple[float, float], ...], truth: list[tuple[float, float]]
) -> float:
    a = np.array(found)
    b = np.array(truth)
    return float(np.max(np.hypot(*(a - b).T)))


@pytest.mark.parametrize(
    ("seed", "level", "angle"),
    [
        (1, "clean", 0.0),
        (2, "scanned", 25.0),
        (3, "harsh", -35.0),
        (4, "scanned", 90.0),
        (5, "harsh", 170.0),
        (6, "clean", -120.0),
    ],
)
def test_card_found_straightened_and_turned_upright(seed: int, level: str, angle: float) -> None:
    image, corners, number = _photo(seed, level, angle)
    crop, payload, warnings = read_card(image)
    assert crop is not None and warnings == []
    assert crop.image.shape[:2] == (round(WARP_WIDTH / CARD_ASPECT), WARP_WIDTH)
    # Corners within 1.5% of the card's width of where the card really lies, in card order.
    width = float(np.hypot(*(np.array(corners[1]) - np.array(corners[0]))))
    assert _corner_error(crop.quad, corners) < 0.015 * width
    assert payload is not None and payload.so_dinh_danh == number


def test_finder_alone_gives_a_card_shaped_crop_under_strong_perspective() -> None:
    image, corners, _ = _photo(7, "harsh", 40.0)
    crop = find_card(image)
    assert crop is not None
    errors = [_corner_error(crop.quad[k:] + crop.quad[:k], corners) for k in range(4)]
    width = float(np.hypot(*(np.array(corners[1]) - np.array(corners[0]))))
    assert min(errors) < 0.015 * width


def test_no_card_in_the_photo_is_a_warning() -> None:
    rng = np.random.default_rng(3)
    desk = np.clip(rng.normal(90, 20, (1200, 1600, 3)), 0, 255).astype(np.uint8)
    assert find_card(desk) is None
    crop, payload, warnings = read_card(desk)
    assert crop is None and payload is None
    assert NO_CARD in warnings and NO_QR in warnings


def test_card_without_readable_qr_is_a_warning() -> None:
    image, _, _ = _photo(8, "clean", 10.0, qr=False)
    crop, payload, warnings = read_card(image)
    assert crop is not None and payload is None
    assert warnings == [NO_QR]


def test_card_with_a_foreign_qr_is_a_warning_not_a_shift() -> None:
    image, _, _ = _photo(9, "clean", -5.0, payload="https://dichvucong.gov.vn/p/home/dvc-trang-chu")
    crop, payload, warnings = read_card(image)
    assert crop is not None and payload is None
    assert len(warnings) == 1 and "không phải mẫu 6 hoặc 7 trường" in warnings[0]


def test_a_flat_scan_of_just_the_card_is_taken_whole() -> None:
    rng = random.Random(10)
    person = make_person(rng)
    issued = dt.date(2023, 1, 5)
    card = render_card(
        person, issued, qr_text=qr_payload(person, issued, cmnd="", layout=6), px_per_mm=12.0
    )
    crop, payload, warnings = read_card(cv2.rotate(card, cv2.ROTATE_90_COUNTERCLOCKWISE))
    assert crop is not None and warnings == []
    assert payload is not None and payload.layout == 6 and payload.so_dinh_danh == person.number
