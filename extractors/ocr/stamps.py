"""Red rubber stamps in a frame: urgency (`HỎA TỐC`, `KHẨN`) and received (`CV ĐẾN`) stamps.

Clean-up turns saturated ink light so that seals and signatures do not cover the text
(`cleanup.to_grey`); that also washes out the red stamps whose words matter (the urgency of a
letter, or a received stamp that must be recognised to be kept out of its number and date).
Here a red ink mask of the page is searched for rectangular frames (a round seal is no
rectangle), and the inside of each frame is read on its own from the mask. Only pages whose
colour was suppressed are searched; a page with no framed stamp costs one mask.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from extractors.ocr.engine import EngineWord, OcrEngine

Array = np.ndarray[Any, Any]
MIN_EDGE = 0.6  # share of a frame's top and bottom rows that must be red ink


def red_mask(image: Array) -> Array:
    """255 where the ink is red (rubber stamps, seals), else 0."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    red = ((hue <= 10) | (hue >= 165)) & (sat > 80) & (val > 60)
    return red.astype(np.uint8) * 255


def _framed(mask: Array, x: int, y: int, w: int, h: int) -> bool:
    band = max(2, h // 25)
    rows = mask[y : y + h, x : x + w]
    top = rows[:band].max(axis=0).mean() / 255
    bottom = rows[-band:].max(axis=0).mean() / 255
    side = max(2, w // 60)
    left = rows[:, :side].max(axis=1).mean() / 255
    right = rows[:, -side:].max(axis=1).mean() / 255
    return bool(min(top, bottom, left, right) >= MIN_EDGE)


def stamp_boxes(image: Array, dpi: float) -> tuple[list[tuple[int, int, int, int]], Array]:
    """(boxes (left, top, right, bottom) of red framed stamps, the red mask)."""
    if image.ndim != 3:
        return [], np.zeros(image.shape[:2], np.uint8)
    mask = red_mask(image[..., :3])
    mm = dpi / 25.4
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (15 * mm <= w <= 110 * mm and 5 * mm <= h <= 45 * mm and w >= 1.2 * h):
            continue
        if _framed(mask, x, y, w, h):
            boxes.append((x, y, x + w, y + h))
    return boxes, mask


def read_stamps(
    image: Array, dpi: float, engine: OcrEngine, *, lang: str, timeout: float
) -> list[EngineWord]:
    """Words inside the red framed stamps of a colour page, in the page's pixels; each stamp
    is its own block (engine keys from 10 000 up)."""
    boxes, mask = stamp_boxes(image, dpi)
    words: list[EngineWord] = []
    for n, (left, top, right, bottom) in enumerate(boxes):
        inset = max(4, (bottom - top) // 12)
        inner = mask[top + inset : bottom - inset, left + inset : right - inset]
        if inner.size == 0 or not inner.any():
            continue
        ink = cv2.bitwise_not(cv2.dilate(inner, np.ones((2, 2), np.uint8)))
        padded = cv2.copyMakeBorder(ink, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
        found = engine.recognise(padded, lang=lang, psm=6, dpi=round(dpi), timeout=timeout)
        for word in found:
            a, b, c, d = word.bbox
            dx, dy = left + inset - 20, top + inset - 20
            words.append(
                EngineWord(
                    word.text,
                    (a + dx, b + dy, c + dx, d + dy),
                    word.confidence,
                    (10_000 + n, word.key[1], word.key[2]),
                )
            )
    return words
