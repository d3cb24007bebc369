"""Photo-like test images (smooth gradients, shapes, sensor noise) in the sizes and orientations
cameras and phones produce, as encoded files, so decoding and EXIF rotation are exercised too."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

# (width, height, EXIF orientation): landscape and portrait phone shots, a small web image, a panorama.
PHOTO_SHAPES = [
    (1440, 1080, 1),
    (1080, 1440, 1),
    (1440, 1080, 6),
    (1440, 1080, 3),
    (640, 480, 8),
    (300, 200, 1),
    (2400, 800, 1),
]


def photo(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width, y / height, (x + y) / (width + height)], axis=-1) * rng.uniform(120, 255, 3)
    image = Image.fromarray(np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        draw.ellipse([x0, y0, x0 + width // 4, y0 + height // 4], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def photo_jpeg(width: int, height: int, orientation: int = 1, seed: int = 0) -> bytes:
    image = photo(width, height, seed)
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()
