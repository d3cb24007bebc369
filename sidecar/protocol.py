"""Immich v2.4.1's machine-learning protocol: parse `entries`, shape answers. No model code here.

Immich builds a request as multipart form data: `entries` (JSON, task -> type -> {modelName, options})
and either `image` (file) or `text` (see server/src/repositories/machine-learning.repository.ts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import UnprocessableRequest

CLIP = "clip"
OCR = "ocr"
FACIAL_RECOGNITION = "facial-recognition"

VISUAL = "visual"
TEXTUAL = "textual"
DETECTION = "detection"
RECOGNITION = "recognition"

# The model types each locally known task may carry; anything else is not Immich's protocol.
KNOWN_TYPES = {CLIP: {VISUAL, TEXTUAL}, OCR: {DETECTION, RECOGNITION}}


@dataclass(frozen=True)
class ModelEntry:
    task: str
    type: str
    model_name: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictEntries:
    """The parsed `entries` field: the raw JSON (to forward unchanged) and its entries per task."""

    raw: Mapping[str, Any]
    by_task: Mapping[str, tuple[ModelEntry, ...]]

    @property
    def tasks(self) -> list[str]:
        return list(self.by_task)

    def subset(self, tasks: Iterable[str]) -> dict[str, Any]:
        """The JSON for only these tasks, as Immich would have sent it."""
        wanted = set(tasks)
        return {task: value for task, value in self.raw.items() if task in wanted}


def parse_entries(text: str | None) -> PredictEntries:
    if text is None or not text.strip():
        raise UnprocessableRequest("missing form field 'entries' (JSON: task -> type -> {modelName, options})")
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnprocessableRequest(f"'entries' is not valid JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise UnprocessableRequest("'entries' must be a non-empty JSON object of tasks, e.g. {\"clip\": {...}}")

    by_task: dict[str, tuple[ModelEntry, ...]] = {}
    for task, types in raw.items():
        if not isinstance(types, dict) or not types:
            raise UnprocessableRequest(f"entries.{task} must be a non-empty object of model types")
        known = KNOWN_TYPES.get(task)
        parsed: list[ModelEntry] = []
        for model_type, entry in types.items():
            where = f"entries.{task}.{model_type}"
            if known is not None and model_type not in known:
                raise UnprocessableRequest(f"{where}: unknown type for task '{task}'; expected one of {sorted(known)}")
            if not isinstance(entry, dict):
                raise UnprocessableRequest(f"{where} must be an object with 'modelName'")
            name = entry.get("modelName")
            if not isinstance(name, str) or not name.strip():
                hint = f" (found keys {sorted(entry)})" if entry else ""
                raise UnprocessableRequest(f"{where}.modelName must be a non-empty string{hint}")
            options = entry.get("options", {})
            if options is None:
                options = {}
            if not isinstance(options, dict):
                raise UnprocessableRequest(f"{where}.options must be an object")
            parsed.append(ModelEntry(task, model_type, name.strip(), options))
        by_task[task] = tuple(parsed)
    return PredictEntries(raw=raw, by_task=by_task)


def option_number(entry: ModelEntry, key: str, default: float, low: float, high: float) -> float:
    """A numeric option, checked: Immich sends numbers; anything else is a client error."""
    value = entry.options.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise UnprocessableRequest(f"entries.{entry.task}.{entry.type}.options.{key} must be a number, got {value!r}")
    if not low <= value <= high:
        raise UnprocessableRequest(
            f"entries.{entry.task}.{entry.type}.options.{key} must be within [{low}, {high}], got {value}"
        )
    return float(value)


def serialize_embedding(embedding: np.ndarray) -> str:
    """A JSON array as a string, as Immich stores it straight into pgvector (float32 precision)."""
    values = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("embedding is empty or not finite")
    return "[" + ",".join(str(v) for v in values) + "]"
