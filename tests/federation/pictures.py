"""Synthetic pictures (smooth random shapes, nothing depicted) and their real PDQ hashes, with
the copies an offender's phone makes of a picture: resized, recompressed, lightly cropped."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
from PIL import Image, ImageDraw

SIZE = 320


def picture(seed: int) -> Image.Image:
    """A picture of overlapping coloured shapes, different for every seed."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (SIZE, SIZE), _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, SIZE, 2))
        w, h = (int(v) for v in rng.integers(20, SIZE // 2, 2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x, y, x + w, y + h], fill=_colour(rng))
    return image


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return r, g, b


def resized(image: Image.Image, scale: float = 0.6) -> Image.Image:
    return image.resize((int(image.width * scale), int(image.height * scale)), Image.LANCZOS)


def recompressed(image: Image.Image, quality: int = 35) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def cropped(image: Image.Image, share: float = 0.01) -> Image.Image:
    dx, dy = int(image.width * share), int(image.height * share)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def pdq(image: Image.Image) -> str:
    """The picture's PDQ hash as 64 hex digits."""
    bits, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()
