"""Find a card in a photo and straighten it: quadrilateral → perspective warp to the card's
real aspect ratio (ID-1, 85.60 × 53.98 mm), upright.

A phone photo of a card on a desk: the card is the large bright, low-saturation quadrilateral.
Candidates come from two masks (brightness and "whiteness", both Otsu) and an edge map; each
outline is reduced to four corners whose sides are then re-fitted to the outline's points, so
rounded corners do not pull the corners inwards. Upside-down cards are turned by the caller,
which knows where the QR code sits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np

CARD_MM: Final = (85.60, 53.98)
CARD_ASPECT: Final = CARD_MM[0] / CARD_MM[1]
WARP_WIDTH: Final = 1712  # 20 px/mm: card text ~2 mm high becomes ~40 px for OCR

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class CardCrop:
    """The card, warped upright to `WARP_WIDTH` wide; `quad` its corners in the photo
    (top-left, top-right, bottom-right, bottom-left of the card)."""

    image: Array
    quad: tuple[tuple[float, float], ...]
    score: float


def _masks(small: Array) -> list[Array]:
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (7, 7), 0)
    whiteness = cv2.GaussianBlur(small.min(axis=2), (7, 7), 0)
    masks = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    for channel in (grey, whiteness):
        _, mask = cv2.threshold(channel, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
        masks.append(cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel))
    edges = cv2.Canny(grey, 40, 120)
    masks.append(cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel))
    return masks


def _order(points: Array) -> Array:
    """Clockwise from the top-left in image coordinates."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _refit(quad: Array, contour: Array) -> Array:
    """Fit a line to the outline points along each side; corners are the lines' crossings."""
    pts = contour.reshape(-1, 2).astype(np.float32)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1:
            return quad
        t = ((pts - a) @ d) / length**2
        rel = pts - a
        dist = np.abs(d[0] * rel[:, 1] - d[1] * rel[:, 0]) / length
        near = pts[(t > 0.12) & (t < 0.88) & (dist < 0.03 * length)]
        if len(near) < 5:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    corners = []
    for i in range(4):
        (p, r), (q, s) = lines[i - 1], lines[i]
        denom = float(r[0] * s[1] - r[1] * s[0])
        if abs(denom) < 1e-6:
            return quad
        qp = q - p
        corners.append(p + r * float(qp[0] * s[1] - qp[1] * s[0]) / denom)
    return np.array(corners, dtype=np.float32)


def _side_lengths(quad: Array) -> tuple[float, float]:
    sides = [float(np.hypot(*(quad[(i + 1) % 4] - quad[i]))) for i in range(4)]
    return (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2


def _candidates(small: Array) -> list[tuple[float, Array]]:
    area_total = small.shape[0] * small.shape[1]
    found: list[tuple[float, Array]] = []
    for mask in _masks(small):
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < 0.05 * area_total or area > 0.97 * area_total:
                continue
            hull = cv2.convexHull(contour)
            perimeter = cv2.arcLength(hull, True)
            approx = None
            for eps in (0.01, 0.02, 0.03, 0.04, 0.06):
                poly = cv2.approxPolyDP(hull, eps * perimeter, True)
                if len(poly) == 4:
                    approx = poly.reshape(4, 2).astype(np.float32)
                    break
            if approx is None:
                approx = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
            quad = _refit(_order(approx), contour)
            quad_area = cv2.contourArea(quad)
            if quad_area <= 0:
                continue
            solidity = cv2.contourArea(hull) / quad_area
            long_side, short_side = sorted(_side_lengths(quad), reverse=True)
            aspect = long_side / max(short_side, 1.0)
            aspect_fit = max(0.0, 1 - abs(aspect - CARD_ASPECT) / CARD_ASPECT * 2.5)
            if solidity < 0.85 or solidity > 1.1 or aspect_fit <= 0:
                continue
            score = aspect_fit * (1 - abs(1 - solidity)) * (quad_area / area_total) ** 0.25
            found.append((score, quad))
    return found


def find_card(image: Array) -> CardCrop | None:
    """The best card-shaped quadrilateral in a photo, warped flat; None when there is none."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    scale = 1000 / max(height, width)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    candidates = _candidates(small)
    if not candidates:
        return None
    score, quad = max(candidates, key=lambda c: c[0])
    quad = quad / scale
    top, side = _side_lengths(quad)
    if side > top:  # the card lies on its long side: start the corners one step later
        quad = np.roll(quad, -1, axis=0)
    out_h = round(WARP_WIDTH / CARD_ASPECT)
    target = np.array([(0, 0), (WARP_WIDTH, 0), (WARP_WIDTH, out_h), (0, out_h)], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    warped = cv2.warpPerspective(image, matrix, (WARP_WIDTH, out_h), flags=cv2.INTER_CUBIC)
    corners = tuple((float(x), float(y)) for x, y in quad)
    return CardCrop(image=warped, quad=corners, score=float(score))


def turn_half(crop: CardCrop) -> CardCrop:
    """The same card turned 180° (it lay upside down)."""
    quad = crop.quad[2:] + crop.quad[:2]
    return CardCrop(image=cv2.rotate(crop.image, cv2.ROTATE_180), quad=quad, score=crop.score)
