"""Bad input gets a 4xx JSON error that says what was wrong, and the service keeps answering."""

import io
import json
import struct
import zlib
from dataclasses import replace

import pytest
from PIL import Image

from sidecar.app import create_app

from .support.immich_requests import clip_textual, clip_visual, immich_form, jpeg_bytes, ocr_entries


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size in a few bytes: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


BAD_IMAGES = {
    "empty": (b"", 400, "empty"),
    "random-bytes": (bytes(range(256)) * 40, 400, "not an image"),
    "text-file": ("发票 not a picture".encode(), 400, "not an image"),
    "pdf": (b"%PDF-1.4\n1 0 obj <<>> endobj\n", 400, "not an image"),
    "truncated-jpeg": (jpeg_bytes(size=(800, 600))[:2000], 400, "corrupt or truncated"),
    "bomb": (png_header_only(30000, 30000), 413, "AIO_MAX_IMAGE_PIXELS"),
    "huge-claim": (png_header_only(2**31 - 1, 2**31 - 1), 413, "AIO_MAX_IMAGE_PIXELS"),
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
@pytest.mark.parametrize("entries", [clip_visual("cn-clip-RN50"), ocr_entries()], ids=["clip", "ocr"])
def test_bad_images_are_refused_clearly(client, name, entries):
    data, status, fragment = BAD_IMAGES[name]
    response = client.post("/predict", data=immich_form(entries, image=data))
    assert response.status_code == status, response.get_json()
    assert fragment in response.get_json()["error"]


@pytest.mark.parametrize(
    "image",
    [
        encoded(Image.new("RGBA", (300, 200), (255, 0, 0, 0)), "PNG"),
        encoded(Image.new("L", (300, 200), 128), "PNG"),
        encoded(Image.new("I;16", (300, 200), 40000), "PNG"),
        encoded(Image.new("P", (300, 200), 3), "GIF"),
        encoded(Image.new("RGB", (300, 200), "blue"), "WEBP"),
        encoded(Image.new("CMYK", (300, 200), (0, 50, 50, 0)), "JPEG"),
        encoded(Image.new("1", (300, 200), 1), "BMP"),
        encoded(Image.new("RGB", (300, 200), "green"), "TIFF"),
    ],
    ids=["rgba-png", "grey-png", "16bit-png", "gif", "webp", "cmyk-jpeg", "bilevel-bmp", "tiff"],
)
def test_every_common_image_mode_is_accepted(client, image):
    response = client.post("/predict", data=immich_form(clip_visual("cn-clip-RN50"), image=image))
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["imageWidth"], response.get_json()["imageHeight"]) == (300, 200)


@pytest.mark.parametrize(
    "form, status, fragment",
    [
        ({"entries": "{broken"}, 422, "not valid JSON"),
        ({"entry": json.dumps(clip_textual("cn-clip-RN50")), "text": "x"}, 422, "missing form field 'entries'"),
        ({"entries": '{"clip": {"textual": {"model": "cn-clip-RN50"}}}', "text": "x"}, 422, "found keys ['model']"),
        ({"entries": json.dumps(clip_textual("cn-clip-RN50"))}, 400, "either an 'image' file or a 'text' field"),
        (
            {"entries": json.dumps(clip_visual("cn-clip-RN50")), "file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
            400,
            "received fields: ['entries', 'file']",
        ),
        ({"entries": json.dumps(clip_visual("cn-clip-RN50")), "text": "no image"}, 400, "needs an 'image'"),
        (
            {"entries": json.dumps(clip_textual("cn-clip-RN50")), "image": (io.BytesIO(jpeg_bytes()), "blob")},
            400,
            "needs a 'text'",
        ),
        ({"entries": json.dumps(ocr_entries()), "text": "不是图片"}, 400, "needs an 'image'"),
        (
            {"entries": json.dumps(clip_textual("no-such-model")), "text": "x"},
            422,
            "unknown clip model name no-such-model",
        ),
        (
            {
                "entries": json.dumps(ocr_entries("KOREAN__PP-OCRv5_mobile")),
                "image": (io.BytesIO(jpeg_bytes()), "blob"),
            },
            422,
            "unknown ocr model name",
        ),
        (
            {
                "entries": json.dumps(
                    {"clip": {"visual": {"modelName": "cn-clip-RN50"}, "textual": {"modelName": "cn-clip-RN50"}}}
                ),
                "text": "x",
            },
            400,
            "exactly one of",
        ),
        (
            {"entries": json.dumps(ocr_entries(min_detection=7)), "image": (io.BytesIO(jpeg_bytes()), "blob")},
            422,
            "minScore must be within",
        ),
    ],
    ids=[
        "bad-json",
        "wrong-entries-name",
        "wrong-model-key",
        "no-payload",
        "file-instead-of-image",
        "visual-with-text",
        "textual-with-image",
        "ocr-with-text",
        "unknown-clip",
        "unserved-ocr-language",
        "two-clip-types",
        "out-of-range-option",
    ],
)
def test_bad_requests_say_what_was_wrong(client, form, status, fragment):
    response = client.post("/predict", data=form)
    assert response.status_code == status, response.get_json()
    assert fragment in response.get_json()["error"]


def test_not_multipart_at_all(client):
    response = client.post("/predict", data="just text", content_type="text/plain")
    assert response.status_code == 422
    assert "entries" in response.get_json()["error"]


def test_oversized_request_is_413(base_settings, registry):
    app = create_app(replace(base_settings, max_request_mb=1), registry)
    big = jpeg_bytes() + b"\0" * (2 * 1024 * 1024)
    response = app.test_client().post("/predict", data=immich_form(clip_visual("cn-clip-RN50"), image=big))
    assert response.status_code == 413
    assert "AIO_MAX_REQUEST_MB" in response.get_json()["error"]


def test_unknown_route_and_wrong_method_are_json(client):
    assert client.get("/nope").get_json()["error"]
    response = client.get("/predict")
    assert response.status_code == 405 and response.get_json()["error"]


def test_an_unexpected_failure_is_a_500_without_a_stack_trace(base_settings):
    from sidecar.models.registry import ModelRegistry

    class Broken:
        def encode_text(self, text):
            raise ZeroDivisionError("secret internals")

    app = create_app(base_settings, ModelRegistry(base_settings, clip_factory=lambda s, i: Broken()))
    response = app.test_client().post("/predict", data=immich_form(clip_textual("cn-clip-RN50"), text="x"))
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error: ZeroDivisionError"}


def test_service_still_answers_after_all_of_it(client):
    for name in sorted(BAD_IMAGES):
        client.post("/predict", data=immich_form(ocr_entries(), image=BAD_IMAGES[name][0]))
    assert client.get("/ping").data == b"pong"
    response = client.post("/predict", data=immich_form(clip_textual("cn-clip-RN50"), text="仍然工作"))
    assert response.status_code == 200
