"""Requests as Immich and mt-photos send them to the sidecar: the multipart form and its entries, a JPEG."""

from __future__ import annotations

import io
import json
from typing import Any


def immich_form(entries: dict[str, Any], image: bytes | None = None, text: str | None = None) -> dict[str, Any]:
    """The multipart fields exactly as Immich's machine-learning.repository.ts appends them."""
    form: dict[str, Any] = {"entries": json.dumps(entries, separators=(",", ":"))}  # JSON.stringify
    if image is not None:
        form["image"] = (io.BytesIO(image), "blob", "application/octet-stream")  # FormData Blob
    if text is not None:
        form["text"] = text
    return form


def clip_visual(model: str) -> dict:
    return {"clip": {"visual": {"modelName": model}}}


def clip_textual(model: str, language: str = "zh-CN") -> dict:
    return {"clip": {"textual": {"modelName": model, "options": {"language": language}}}}


def ocr_entries(
    model: str = "PP-OCRv5_mobile", min_detection: float = 0.5, min_recognition: float = 0.8, max_resolution: int = 736
) -> dict:
    return {
        "ocr": {
            "detection": {"modelName": model, "options": {"minScore": min_detection, "maxResolution": max_resolution}},
            "recognition": {"modelName": model, "options": {"minScore": min_recognition}},
        }
    }


def face_entries(model: str = "buffalo_l") -> dict:
    return {
        "facial-recognition": {
            "detection": {"modelName": model, "options": {"minScore": 0.7}},
            "recognition": {"modelName": model},
        }
    }


def jpeg_bytes(size=(640, 480), color=(200, 80, 40)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()
