"""Sample handwritten-signature and seal images for the TEST PKI and the demo, drawn with Pillow.

Decree 30/2020 shows the leader's signature as a blue transparent PNG and the organisation's seal
as a red transparent PNG; these samples are clearly marked as test material (the seal says MẪU).
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from motcua.errors import MissingDependencyError
from motcua.types import nfc

FONT_DIR: Final = Path("/usr/share/fonts/truetype/liberation2")
SERIF_REGULAR: Final = FONT_DIR / "LiberationSerif-Regular.ttf"
SERIF_BOLD: Final = FONT_DIR / "LiberationSerif-Bold.ttf"

# Basic Latin, Latin-1, Latin Extended-A/B, combining marks, Latin Extended Additional (the
# precomposed Vietnamese letters), general punctuation, currency and letterlike symbols.
_VIETNAMESE_LATIN: Final = [
    *range(0x20, 0x250),
    *range(0x300, 0x370),
    *range(0x1E00, 0x1F00),
    *range(0x2000, 0x2070),
    *range(0x20A0, 0x20C0),
    *range(0x2100, 0x2150),
]

SIGNATURE_BLUE: Final = (20, 50, 190, 255)
SEAL_RED: Final = (215, 25, 32, 255)


def font_path(bold: bool = False) -> Path:
    """The Times-like Liberation Serif font file; raises when fonts-liberation2 is missing."""
    path = SERIF_BOLD if bold else SERIF_REGULAR
    if not path.is_file():
        raise MissingDependencyError(
            f"font not found: {path}",
            hint="install the Debian package fonts-liberation2 (scripts/bootstrap does)",
        )
    return path


@functools.cache
def pdf_font_path(bold: bool = False) -> Path:
    """Liberation Serif rescaled to 1000 units per em, for embedding with pyHanko.

    pyHanko 0.38 writes a CID font's /W widths in the font's own units, which is only right
    for 1000-unit fonts; Liberation's 2048 units made viewers space the glyphs twice too far.
    The rescaled copy is generated once (about 1 s) into a per-user cache folder.
    """
    source = font_path(bold)
    stat = source.stat()
    cache = Path(tempfile.gettempdir()) / f"motcua-fonts-{os.getuid()}"
    target = cache / f"{source.stem}-vi-upem1000-{stat.st_size}-{int(stat.st_mtime)}.ttf"
    if not target.is_file():
        from fontTools import subset
        from fontTools.ttLib import TTFont
        from fontTools.ttLib.scaleUpem import scale_upem

        cache.mkdir(parents=True, exist_ok=True)
        font = TTFont(str(source))
        scale_upem(font, 1000)
        # Keep Latin and Vietnamese only: pyHanko subsets the font again for every signature,
        # and a small source makes that several times faster.
        options = subset.Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(unicodes=_VIETNAMESE_LATIN)
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.part")
        font.save(str(partial))
        partial.replace(target)
    return target


def draw_signature(path: Path, width: int = 600, height: int = 240) -> Path:
    """Write a blue handwritten-looking signature on a transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points: list[tuple[float, float]] = []
    for step in range(400):
        t = step / 399
        x = 40 + t * (width - 120)
        y = height / 2 + math.sin(t * 5.5 * math.pi) * 55 * (1 - 0.5 * t) - t * 30
        points.append((x, y))
    draw.line(points, fill=SIGNATURE_BLUE, width=9, joint="curve")
    loop = [
        (width * 0.3 + math.cos(a / 30) * 45, height * 0.45 + math.sin(a / 30) * 70)
        for a in range(0, 190)
    ]
    draw.line(loop, fill=SIGNATURE_BLUE, width=7, joint="curve")
    draw.line([(60, height - 45), (width - 50, height - 70)], fill=SIGNATURE_BLUE, width=6)
    image.save(path, "PNG")
    return path


def draw_seal(
    path: Path,
    ring_text: str = "ỦY BAN NHÂN DÂN XÃ HÒA PHÚ * MẪU THỬ NGHIỆM *",
    centre_text: str = "MẪU",
    size: int = 420,
) -> Path:
    """Write a round red seal with Vietnamese text around the ring on a transparent background."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = size / 2
    draw.ellipse((6, 6, size - 6, size - 6), outline=SEAL_RED, width=12)
    draw.ellipse((size * 0.2, size * 0.2, size * 0.8, size * 0.8), outline=SEAL_RED, width=5)
    font = ImageFont.truetype(str(font_path(bold=True)), int(size * 0.075))
    text = nfc(ring_text)
    radius = size * 0.39
    for index, char in enumerate(text):
        angle = -math.pi / 2 + 2 * math.pi * index / len(text)  # clockwise from the top
        glyph = Image.new("RGBA", (int(size * 0.12), int(size * 0.12)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, font=font, fill=SEAL_RED, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(angle) - glyph.width / 2
        y = c + radius * math.sin(angle) - glyph.height / 2
        image.alpha_composite(glyph, (int(x), int(y)))
    star = [
        (
            c
            + (size * 0.09 if k % 2 == 0 else size * 0.035)
            * math.cos(-math.pi / 2 + k * math.pi / 5),
            c
            - size * 0.07
            + (size * 0.09 if k % 2 == 0 else size * 0.035)
            * math.sin(-math.pi / 2 + k * math.pi / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=SEAL_RED)
    centre_font = ImageFont.truetype(str(font_path(bold=True)), int(size * 0.11))
    draw.text((c, c + size * 0.1), nfc(centre_text), font=centre_font, fill=SEAL_RED, anchor="mm")
    image.save(path, "PNG")
    return path


def compose_leader_image(signature: Path, seal: Path) -> Image.Image:
    """The signature with the seal overlapping its left third, as one transparent image.

    The seal is drawn at the signature's height and centred on the boundary of the signature's
    first third, so it covers about the left third of the signature (Decree 30/2020, App. I).
    """
    sig = Image.open(signature).convert("RGBA")
    seal_img = Image.open(seal).convert("RGBA")
    seal_side = sig.height
    seal_img = seal_img.resize((seal_side, seal_side), Image.Resampling.LANCZOS)
    # The seal's right edge reaches one third into the signature.
    offset = max(0, seal_side - sig.width // 3)
    canvas = Image.new("RGBA", (offset + sig.width, seal_side), (0, 0, 0, 0))
    canvas.alpha_composite(sig, (offset, 0))
    canvas.alpha_composite(seal_img, (0, 0))
    return canvas
