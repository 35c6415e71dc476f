"""A small classifier for handwritten digits, trained on this machine: no model is shipped or
downloaded. Its training set is scikit-learn's bundled handwritten digits (`load_digits`, 1797
digits of 8×8) with scanner-like augmentation (slant, stroke width, blur), plus digits drawn
as pen strokes (`pen_digit`) and digits rendered in the italic and script fonts the machine has.
Every sample goes through the same `features` as a crop from a scan: the ink's bounding box
fitted into 32×32 (aspect kept), summed into 8×8 blocks of 0..16, as `load_digits` was made.

The trained model is kept in the user's cache dir (`$XDG_CACHE_HOME/motcua`, else
`~/.cache/motcua`), keyed by the training recipe and library versions; `python -m
extractors.fields.digits` trains it ahead (set-up does). Training takes a few seconds.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

log = logging.getLogger("extractors.fields.digits")

Array = np.ndarray[Any, Any]
RECIPE: Final = "digits-v3"  # change when the training data or model changes
SIDE: Final = 32

# Pen paths of each digit in a unit box (x right, y down): polylines and ellipse arcs
# ("arc", cx, cy, rx, ry, from°, to°; 0° points right, 90° down). Several hands per digit.
_Stroke = tuple[Any, ...]
_HANDS: Final[dict[int, tuple[tuple[_Stroke, ...], ...]]] = {
    0: ((("arc", 0.5, 0.5, 0.36, 0.48, -90, 270),), (("arc", 0.5, 0.5, 0.3, 0.48, -80, 285),)),
    1: (
        (((0.56, 0.0), (0.5, 1.0)),),
        (((0.3, 0.22), (0.56, 0.0), (0.5, 1.0)),),
        (((0.32, 0.2), (0.58, 0.0), (0.55, 1.0)), ((0.3, 1.0), (0.8, 1.0))),
        (((0.05, 0.4), (0.75, 0.0), (0.55, 1.0)),),  # a long lead-in stroke
        (((0.15, 0.3), (0.7, 0.0), (0.6, 1.0)),),
    ),
    2: (
        (("arc", 0.5, 0.3, 0.34, 0.28, -170, 25), ((0.8, 0.45), (0.12, 1.0), (0.9, 1.0))),
        (("arc", 0.5, 0.28, 0.32, 0.26, -160, 40), ((0.75, 0.46), (0.2, 0.95), (0.9, 0.98))),
    ),
    3: (
        (("arc", 0.5, 0.27, 0.33, 0.24, -150, 90), ("arc", 0.5, 0.73, 0.36, 0.26, -90, 150)),
        (((0.15, 0.02), (0.85, 0.02), (0.45, 0.42)), ("arc", 0.5, 0.7, 0.36, 0.29, -100, 150)),
    ),
    4: (
        (((0.62, 0.0), (0.08, 0.66), (0.92, 0.66)), ((0.7, 0.3), (0.7, 1.0))),
        (((0.22, 0.0), (0.14, 0.6), (0.88, 0.6)), ((0.68, 0.05), (0.68, 1.0))),
        (((0.3, 0.0), (0.12, 0.62), (0.9, 0.6)), ((0.72, 0.25), (0.66, 1.0))),
    ),
    5: (
        (((0.85, 0.02), (0.28, 0.02), (0.24, 0.46)), ("arc", 0.5, 0.7, 0.33, 0.29, -140, 150)),
        (
            ((0.28, 0.02), (0.22, 0.46)),
            ("arc", 0.5, 0.7, 0.34, 0.29, -140, 150),
            ((0.3, 0.03), (0.88, 0.0)),
        ),
    ),
    6: (
        (
            ((0.74, 0.02), (0.45, 0.2), (0.25, 0.45), (0.19, 0.72)),
            ("arc", 0.5, 0.72, 0.31, 0.27, 180, 540),
        ),
        (("arc", 0.7, 0.62, 0.52, 0.6, -105, -180), ("arc", 0.5, 0.74, 0.31, 0.25, 180, 540)),
    ),
    7: (
        (((0.1, 0.02), (0.9, 0.02), (0.4, 1.0)),),
        (((0.1, 0.0), (0.9, 0.02), (0.45, 1.0)), ((0.35, 0.5), (0.8, 0.5))),
        (((0.12, 0.12), (0.15, 0.02), (0.9, 0.02), (0.5, 1.0)),),
    ),
    8: (
        (("arc", 0.5, 0.26, 0.27, 0.24, 0, 360), ("arc", 0.5, 0.73, 0.33, 0.26, 0, 360)),
        (("arc", 0.5, 0.25, 0.3, 0.24, 90, 450), ("arc", 0.5, 0.73, 0.3, 0.26, -90, 270)),
    ),
    9: (
        (("arc", 0.5, 0.3, 0.31, 0.27, 0, 360), ((0.81, 0.3), (0.78, 0.6), (0.68, 1.0))),
        (("arc", 0.48, 0.28, 0.3, 0.26, 0, 360), ((0.78, 0.3), (0.74, 1.0))),
    ),
}
# Italic and script faces of the Debian fonts set-up installs or the machine has; missing
# ones are skipped (the pen strokes and load_digits are enough to train on).
_FONT_DIRS: Final = ("/usr/share/fonts", "/usr/local/share/fonts")
_FONT_HINTS: Final = ("Italic", "Oblique", "Z003", "Chancery")


def _points(stroke: _Stroke) -> list[tuple[float, float]]:
    if stroke and stroke[0] == "arc":
        _, cx, cy, rx, ry, a0, a1 = stroke
        steps = max(8, int(abs(a1 - a0) / 10))
        return [
            (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, steps)
        ]
    return [(float(x), float(y)) for x, y in stroke]


@dataclass(frozen=True)
class Pen:
    """How a hand writes: slant (shear, + leans right), width/height, stroke width (px at a
    48 px digit), wobble (px), blur sigma (px) and the digit height in pixels."""

    slant: float = 0.0
    aspect: float = 0.75
    stroke: float = 3.0
    wobble: float = 1.0
    blur: float = 0.6
    height: int = 48
    rotate: float = 0.0


def random_pen(rng: np.random.Generator, height: tuple[int, int] = (20, 64)) -> Pen:
    return Pen(
        slant=float(rng.uniform(-0.15, 0.45)),
        aspect=float(rng.uniform(0.55, 0.95)),
        stroke=float(rng.uniform(1.5, 6.5)),
        wobble=float(rng.uniform(0.0, 2.5)),
        blur=float(rng.uniform(0.0, 1.6)),
        height=int(rng.integers(*height)),
        rotate=float(rng.uniform(-8, 8)),
    )


def pen_digit(digit: int, pen: Pen, rng: np.random.Generator, hand: int | None = None) -> Array:
    """A digit drawn as pen strokes: ink 255 on 0, the digit `pen.height` pixels high."""
    hands = _HANDS[digit]
    strokes = hands[hand % len(hands) if hand is not None else int(rng.integers(len(hands)))]
    h = float(pen.height)
    w = h * pen.aspect
    pad = int(h * 0.5) + 4
    size = (int(w + h * abs(pen.slant) + 2 * pad), int(h + 2 * pad))
    canvas: Array = np.zeros((size[1], size[0]), np.uint8)
    angle = math.radians(pen.rotate)
    scale = h / 48.0
    thickness = max(1, round(pen.stroke * scale))
    for stroke in strokes:
        pts = []
        points = _points(stroke)
        # a hand wobbles smoothly along a stroke, not point by point
        phase = rng.uniform(0, 2 * math.pi, 2)
        shift = rng.normal(0, pen.wobble * scale, 2)
        for k, (x, y) in enumerate(points):
            px, py = x * w, y * h
            px += pen.slant * (h - py)  # lean: the top moves right
            along = 2 * math.pi * k / max(1, len(points) - 1)
            px += shift[0] + pen.wobble * scale * math.sin(along + phase[0])
            py += shift[1] + pen.wobble * scale * math.sin(along + phase[1])
            rx = px * math.cos(angle) - (py - h / 2) * math.sin(angle)
            ry = px * math.sin(angle) + (py - h / 2) * math.cos(angle) + h / 2
            pts.append((rx + pad, ry + pad))
        line = np.round(np.array(pts) * 4).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [line], False, 255, thickness, cv2.LINE_AA, shift=2)
    if pen.blur > 0.05:
        canvas = cv2.GaussianBlur(canvas, (0, 0), pen.blur)
    return canvas


def features(ink: Array) -> Array:
    """64 features of one digit crop (ink bright on dark, any size): the ink's box fitted into
    32×32 with its aspect kept, then summed in 4×4 blocks to 0..16, as `load_digits`."""
    ink = ink.astype(np.float32)
    if ink.max() > 0:
        ink = ink / ink.max()
    ys, xs = np.nonzero(ink > 0.25)
    out = np.zeros((SIDE, SIDE), np.float32)
    if len(xs) == 0:
        empty: Array = out.reshape(8, 4, 8, 4).sum(axis=(1, 3)).ravel()
        return empty
    box = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    bh, bw = box.shape
    factor = SIDE / max(bh, bw)
    nh, nw = max(1, round(bh * factor)), max(1, round(bw * factor))
    small = cv2.resize(box, (nw, nh), interpolation=cv2.INTER_AREA)
    top, left = (SIDE - nh) // 2, (SIDE - nw) // 2
    out[top : top + nh, left : left + nw] = np.clip(small * 1.3, 0, 1)
    blocks: Array = out.reshape(8, 4, 8, 4).sum(axis=(1, 3)).ravel()
    return blocks


def _augment(ink: Array, rng: np.random.Generator) -> Array:
    """Slant, thicken or thin, and blur a digit image (ink bright)."""
    h, w = ink.shape
    shear = float(rng.uniform(-0.2, 0.35))
    matrix = np.array([[1, -shear, shear * h / 2 + w * 0.3], [0, 1, 0]], np.float32)
    ink = cv2.warpAffine(ink, matrix, (int(w * 1.6 + abs(shear) * h), h))
    k = int(rng.integers(-1, 3))
    if k > 0:
        ink = cv2.dilate(ink, np.ones((k + 1, k + 1), np.uint8))
    elif k < 0:
        ink = cv2.erode(ink, np.ones((2, 2), np.uint8))
    sigma = float(rng.uniform(0, 1.2))
    return cv2.GaussianBlur(ink, (0, 0), sigma) if sigma > 0.1 else ink


def _font_paths() -> list[str]:
    found = []
    for root in _FONT_DIRS:
        for path in sorted(Path(root).rglob("*")):
            if path.suffix.lower() in (".ttf", ".otf") and any(h in path.name for h in _FONT_HINTS):
                found.append(str(path))
    return found


def _font_digits(rng: np.random.Generator, per_font: int) -> tuple[list[Array], list[int]]:
    from PIL import Image, ImageDraw, ImageFont

    images: list[Array] = []
    labels: list[int] = []
    for path in _font_paths():
        try:
            font = ImageFont.truetype(path, 56)
        except OSError:
            continue
        for _ in range(per_font):
            digit = int(rng.integers(10))
            canvas = Image.new("L", (96, 96), 0)
            ImageDraw.Draw(canvas).text((20, 10), str(digit), fill=255, font=font)
            images.append(_augment(np.asarray(canvas), rng))
            labels.append(digit)
    return images, labels


def training_set(seed: int = 18, pen_samples: int = 4000) -> tuple[Array, Array]:
    """(features, labels): load_digits augmented twice, pen digits, font digits."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    bundled = load_digits()
    rows: list[Array] = []
    labels: list[int] = []
    for image, label in zip(bundled.images, bundled.target, strict=True):
        big = cv2.resize((image * 16).astype(np.uint8), (32, 32), interpolation=cv2.INTER_LINEAR)
        rows.append(features(big))
        labels.append(int(label))
        for _ in range(2):
            rows.append(features(_augment(big, rng)))
            labels.append(int(label))
    for n in range(pen_samples):
        digit = n % 10
        rows.append(features(pen_digit(digit, random_pen(rng), rng)))
        labels.append(digit)
    fonts, font_labels = _font_digits(rng, per_font=40)
    rows += [features(f) for f in fonts]
    labels += font_labels
    return np.array(rows, np.float32), np.array(labels, np.int64)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua"


def _cache_key() -> str:
    import sklearn

    fonts = ",".join(Path(p).name for p in _font_paths())
    text = f"{RECIPE}|{sklearn.__version__}|{np.__version__}|{cv2.__version__}|{fonts}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _train() -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    x, y = training_set()
    # an RBF SVM, its scores calibrated into probabilities (3-fold)
    model = CalibratedClassifierCV(SVC(C=8.0, gamma="scale"), cv=3, ensemble=False)
    model.fit(x / 16.0, y)
    return model


@cache
def model() -> Any:
    """The trained classifier: from the cache, else trained now and cached."""
    path = _cache_dir() / f"{_cache_key()}.pkl"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    log.info("training the handwritten-digit classifier (first use)")
    trained = _train()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as out:
            pickle.dump(trained, out)
        os.replace(out.name, path)
    except OSError as exc:  # a read-only home: train again next time, still works
        log.warning("digit classifier not cached: %s", type(exc).__name__)
    return trained


def classify(crops: Sequence[Array]) -> list[tuple[int, float]]:
    """(digit, probability) for each crop (ink bright on dark)."""
    if not crops:
        return []
    x = np.array([features(c) for c in crops], np.float32) / 16.0
    probs = model().predict_proba(x)
    return [(int(p.argmax()), float(p.max())) for p in probs]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    model()
    print(f"digit classifier ready in {_cache_dir()}")
