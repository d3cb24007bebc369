"""The model interfaces the rest of the sidecar relies on: a CLIP model and an OCR model.

The registry hands out `ClipModel` and `OcrModel`; the HTTP layer and `inference.py` use nothing else.
Implementations: `TorchClipModel` and `OnnxClipModel` (both `ClipBackend`s), `BatchedClip` (what the
registry returns for CLIP), `RapidOcrModel`. Only NumPy and Pillow here: no torch, no onnxruntime.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

from .names import ClipModelInfo


class ClipModel(Protocol):
    """A loaded CLIP model: one image or one text in, one L2-normalised float32 embedding (info.dim) out."""

    @property
    def info(self) -> ClipModelInfo:
        """Which model: Immich's name, cn-clip's architecture, embedding dimension, input size."""
        ...

    @property
    def backend(self) -> str:
        """What runs it, as GET / reports it: torch, onnx-fp32 or onnx-int8."""
        ...

    @property
    def device(self) -> str:
        """Where it runs: cpu or cuda."""
        ...

    def encode_image(self, image: Image.Image) -> np.ndarray: ...

    def encode_text(self, text: str) -> np.ndarray: ...


class ClipBackend(ABC):
    """A CLIP model on one runtime (torch, ONNX Runtime). Encoding is two steps, preparing inputs and
    embedding a prepared batch, so that the batcher can prepare in each request's thread and embed the
    rows of many requests at once."""

    info: ClipModelInfo
    backend: str
    device: str

    @abstractmethod
    def prepare_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Model input for these images: float32 (n, 3, size, size)."""

    @abstractmethod
    def prepare_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Token ids for these texts: int64 (n, context length)."""

    @abstractmethod
    def embed_images(self, batch: np.ndarray) -> np.ndarray:
        """L2-normalised float32 embeddings (n, dim) of prepared images."""

    @abstractmethod
    def embed_texts(self, tokens: np.ndarray) -> np.ndarray:
        """L2-normalised float32 embeddings (n, dim) of prepared texts."""

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return self.embed_images(self.prepare_images(images))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_texts(self.prepare_texts(texts))

    def encode_image(self, image: Image.Image) -> np.ndarray:
        return self.encode_images([image])[0]

    def encode_text(self, text: str) -> np.ndarray:
        return self.encode_texts([text])[0]


@dataclass(frozen=True)
class OcrResult:
    text: list[str]
    box: np.ndarray  # (n, 8): x1 y1 .. x4 y4, normalised to 0..1, clockwise from top-left
    box_score: np.ndarray
    text_score: np.ndarray


class OcrModel(Protocol):
    """A loaded OCR engine; each call carries its own thresholds, so one engine serves every request."""

    @property
    def backend(self) -> str:
        """What runs it, as GET / reports it: rapidocr."""
        ...

    @property
    def device(self) -> str:
        """Where it runs: cpu or cuda."""
        ...

    @property
    def weights(self) -> str:
        """Which model files answer (Immich asks for PP-OCRv5 names; GET / says what really answers)."""
        ...

    def predict(
        self, image: Image.Image, min_detection_score: float, min_recognition_score: float, max_resolution: int
    ) -> OcrResult:
        """Text lines of the image in reading order; detection works at `max_resolution` (shortest side)."""
        ...
