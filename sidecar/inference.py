"""Running the locally served tasks of one /predict request and shaping Immich's answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image

from .config import Settings
from .errors import BadRequest
from .images import source_size
from .models.clip_preprocess import REDUCING_GAP
from .models.registry import ModelRegistry
from .protocol import CLIP, DETECTION, OCR, RECOGNITION, TEXTUAL, VISUAL, ModelEntry, option_number, serialize_embedding


def run_local(
    registry: ModelRegistry,
    settings: Settings,
    tasks: Mapping[str, tuple[ModelEntry, ...]],
    image: Image.Image | None,
    text: str | None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for task, entries in tasks.items():
        if task == CLIP:
            answer[CLIP] = _clip(registry, entries, image, text)
        elif task == OCR:
            answer[OCR] = _ocr(registry, settings, entries, image)
        else:  # the router only hands over served tasks
            raise AssertionError(f"task {task} is not served locally")
    if image is not None:
        answer["imageWidth"], answer["imageHeight"] = source_size(image)
    return answer


def load_models(registry: ModelRegistry, tasks: Mapping[str, tuple[ModelEntry, ...]]) -> None:
    """Load the models these tasks need, if they are not loaded yet. Called in the request thread before
    background work goes to its niced slot: a CLIP model loaded there would build its text tower in a
    niced thread too, and that priority would stay with every later search (sidecar/lanes.py)."""
    for task, entries in tasks.items():
        if task == CLIP:
            for entry in entries:
                registry.clip(entry.model_name)
        elif task == OCR:
            registry.ocr()


def decode_min_side(registry: ModelRegistry, tasks: Mapping[str, tuple[ModelEntry, ...]]) -> int:
    """How small the upload may be decoded for these tasks (0: full size). CLIP alone looks at a
    224-pixel square (336 for the -336 models), so twice that, as the preprocessing keeps, is enough."""
    if set(tasks) != {CLIP}:
        return 0
    sides = [
        info.image_size
        for entry in tasks[CLIP]
        if entry.type == VISUAL and (info := registry.clip_info(entry.model_name)) is not None
    ]
    return int(REDUCING_GAP * max(sides)) if sides else 0


def _clip(registry: ModelRegistry, entries: tuple[ModelEntry, ...], image: Image.Image | None, text: str | None) -> str:
    if len(entries) != 1:
        raise BadRequest("entries.clip must hold exactly one of 'visual' or 'textual'")
    entry = entries[0]
    model = registry.clip(entry.model_name)
    if entry.type == VISUAL:
        if image is None:
            raise BadRequest("entries.clip.visual needs an 'image' file in the form")
        return serialize_embedding(model.encode_image(image))
    assert entry.type == TEXTUAL
    if text is None:
        raise BadRequest("entries.clip.textual needs a 'text' field in the form")
    return serialize_embedding(model.encode_text(text))


def ocr_options(settings: Settings, entries: tuple[ModelEntry, ...]) -> tuple[float, float, int]:
    by_type = {entry.type: entry for entry in entries}
    detection, recognition = by_type.get(DETECTION), by_type.get(RECOGNITION)
    min_detection = settings.ocr_min_detection_score
    max_resolution = float(settings.ocr_max_resolution)
    min_recognition = settings.ocr_min_recognition_score
    if detection is not None:
        min_detection = option_number(detection, "minScore", min_detection, 0.0, 1.0)
        max_resolution = option_number(detection, "maxResolution", max_resolution, 32, 10000)
    if recognition is not None:
        min_recognition = option_number(recognition, "minScore", min_recognition, 0.0, 1.0)
    return min_detection, min_recognition, int(max_resolution)


def _ocr(
    registry: ModelRegistry, settings: Settings, entries: tuple[ModelEntry, ...], image: Image.Image | None
) -> dict:
    if image is None:
        raise BadRequest("entries.ocr needs an 'image' file in the form")
    min_detection, min_recognition, max_resolution = ocr_options(settings, entries)
    result = registry.ocr().predict(image, min_detection, min_recognition, max_resolution)
    return {
        "text": result.text,
        "box": [round(float(v), 6) for v in result.box.reshape(-1)],
        "boxScore": [round(float(v), 6) for v in result.box_score],
        "textScore": [round(float(v), 6) for v in result.text_score],
    }
