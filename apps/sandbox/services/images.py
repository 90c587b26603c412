"""Pictures the sandbox draws: Evotor product images (its "static host") and sample uploads."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw

# Soft colours; an image's colour follows from its id, so the same id always looks the same.
PALETTE = (
    (231, 111, 81),
    (244, 162, 97),
    (233, 196, 106),
    (42, 157, 143),
    (38, 70, 83),
    (131, 56, 236),
    (58, 134, 255),
    (255, 0, 110),
)
# Evotor stores one PNG of 300×300 per product (docs/evotor.md#product-images-e7).
EVOTOR_IMAGE_SIDE = 300


def _colour(key: str) -> tuple[int, int, int]:
    return PALETTE[hashlib.sha256(key.encode()).digest()[0] % len(PALETTE)]


@lru_cache(maxsize=len(PALETTE))
def _evotor_png(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (EVOTOR_IMAGE_SIDE, EVOTOR_IMAGE_SIDE), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 240, 240), outline=(255, 255, 255), width=12)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def evotor_image(image_id: str) -> bytes:
    return _evotor_png(_colour(image_id))


def evotor_image_size(image_id: str) -> int:
    return len(evotor_image(image_id))


def sample_image(
    width: int = 800, height: int = 800, image_format: str = "JPEG", key: str = ""
) -> bytes:
    """A valid image of the given size, e.g. to upload as a VK product photo."""
    image = Image.new("RGB", (width, height), _colour(key or f"{width}x{height}"))
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()
