"""Decoding uploaded images safely: size limits before pixels are decoded, EXIF orientation applied."""

from __future__ import annotations

import warnings
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadRequest, PayloadTooLarge

# Our own pixel limit (AIO_MAX_IMAGE_PIXELS) is checked from the header; Pillow's global guard would
# otherwise reject large-but-legitimate panoramas with a warning-turned-error of its own.
Image.MAX_IMAGE_PIXELS = None


SOURCE_SIZE = "aio.source_size"  # image.info key: the upload's upright size when decoded smaller


def decode_image(data: bytes, max_pixels: int, min_side: int = 0) -> Image.Image:
    """An RGB image, upright as a person sees it, or a 4xx error saying what is wrong with the upload.

    With `min_side`, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, about twice
    as fast) as long as both sides stay at least that long; `source_size` still gives the upload's size.
    """
    if not data:
        raise BadRequest("the uploaded image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(BytesIO(data))
    except UnidentifiedImageError:
        raise BadRequest(f"the upload ({len(data)} bytes) is not an image format this service can decode") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise BadRequest(f"the uploaded image could not be read: {error}") from None

    width, height = image.size
    if width <= 0 or height <= 0:
        raise BadRequest(f"the uploaded image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise PayloadTooLarge(
            f"the uploaded image is {width}x{height} = {width * height} pixels, more than the limit of "
            f"{max_pixels} (AIO_MAX_IMAGE_PIXELS)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if min_side and image.format == "JPEG":
                image.draft("RGB", (min_side, min_side))
                if image.size != (width, height):
                    image.info[SOURCE_SIZE] = (width, height)
            image.load()
            transposed = ImageOps.exif_transpose(image) or image
            if SOURCE_SIZE in image.info and transposed.size != image.size:  # turned a quarter
                transposed.info[SOURCE_SIZE] = (height, width)
            image = transposed
            if image.mode != "RGB":
                image = _to_rgb(image)
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError) as error:
        raise BadRequest(f"the uploaded image is corrupt or truncated: {error}") from None
    return image


def source_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) of the upload as a person sees it, even when it was decoded smaller."""
    return image.info.get(SOURCE_SIZE, image.size)


def _to_rgb(image: Image.Image) -> Image.Image:
    # Transparent pixels become white, as a viewer shows them, rather than whatever colour they hide.
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything to white.
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")
