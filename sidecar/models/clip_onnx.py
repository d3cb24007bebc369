"""cn-clip on ONNX Runtime: the towers exported by `immich-sidecar export-onnx`, no torch at run time.

Layout of an export (one folder per model, so that weights of models over 2 GB can sit beside it):
    <AIO_CLIP_ONNX_DIR>/<model name>/visual.<precision>.onnx, textual.<precision>.onnx, export.json
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ModelUnavailable
from ..lanes import in_niced_thread
from .base import ClipBackend
from .clip_preprocess import ClipTokenizer, normalise, preprocess_images
from .names import ClipModelInfo

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
# Written to export.json. 2: the text tower takes any number of tokens (1 had all 52 fixed).
EXPORT_FORMAT = 2
IMAGE_INPUT, TEXT_INPUT, OUTPUT = "image", "text", "embedding"


def export_dir(onnx_root: Path, info: ClipModelInfo) -> Path:
    return onnx_root / info.name


def tower_path(onnx_root: Path, info: ClipModelInfo, tower: str, precision: str) -> Path:
    return export_dir(onnx_root, info) / f"{tower}.{precision}.onnx"


def export_exists(onnx_root: Path, info: ClipModelInfo, precision: str) -> bool:
    return all(tower_path(onnx_root, info, tower, precision).is_file() for tower in ("visual", "textual"))


def export_is_current(onnx_root: Path, info: ClipModelInfo, precision: str) -> bool:
    """The export exists and was made in today's format (an older one still runs, only slower)."""
    manifest = export_dir(onnx_root, info) / "export.json"
    if not export_exists(onnx_root, info, precision) or not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("format", 1) == EXPORT_FORMAT


def providers_for(device: str) -> list[str]:
    """ONNX Runtime execution providers for a device setting; CPU stays last as the fallback."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device in ("cuda", "auto") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise ModelUnavailable(
            "AIO_DEVICE=cuda but ONNX Runtime has no CUDA execution provider (install onnxruntime-gpu)"
        )
    return ["CPUExecutionProvider"]


class OnnxClipModel(ClipBackend):
    """Both towers of one exported cn-clip model; same interface as TorchClipModel."""

    def __init__(
        self,
        info: ClipModelInfo,
        onnx_root: Path,
        precision: str,
        device: str,
        threads: int = 0,
        inter_op_threads: int = 0,
        visual_nice: int = 0,
    ) -> None:
        self.info = info
        self.onnx_root = onnx_root
        self.precision = precision
        self.backend = f"onnx-{precision}"
        self.requested_device = device
        self.threads = threads
        self.inter_op_threads = inter_op_threads
        self.visual_nice = visual_nice
        self.device = "cpu"
        self._visual = self._textual = None
        self._tokenizer: ClipTokenizer | None = None
        self._trim_padding = False

    def load(self) -> OnnxClipModel:
        import onnxruntime as ort

        if not export_exists(self.onnx_root, self.info, self.precision):
            raise ModelUnavailable(
                f"{self.info.name}: no {self.precision} ONNX export in {export_dir(self.onnx_root, self.info)}; "
                f"run `immich-sidecar export-onnx --model {self.info.name}` or set AIO_CLIP_BACKEND=torch"
            )
        manifest = export_dir(self.onnx_root, self.info) / "export.json"
        if manifest.is_file():
            meta = json.loads(manifest.read_text())
            if meta.get("image_size", self.info.image_size) != self.info.image_size:
                raise ModelUnavailable(f"{manifest} was exported for another image size")
        providers = providers_for(self.requested_device)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle inference threads must not spin: request threads need those cores to decode and resize.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if self.threads > 0:
            options.intra_op_num_threads = self.threads
        if self.inter_op_threads > 0:
            options.inter_op_num_threads = self.inter_op_threads
            options.execution_mode = ort.ExecutionMode.ORT_PARALLEL

        def session(tower: str):
            return ort.InferenceSession(
                str(tower_path(self.onnx_root, self.info, tower, self.precision)), options, providers=providers
            )

        # Image embedding is background work: its session is built in a thread niced to `visual_nice`, whose
        # priority the session's intra-op threads inherit (sidecar/lanes.py); the text tower's stay normal.
        self._visual = in_niced_thread(lambda: session("visual"), self.visual_nice, name="visual-loader")
        self._textual = session("textual")
        # Exports since the token axis became dynamic take unpadded queries; older ones want all 52.
        self._trim_padding = not isinstance(self._textual.get_inputs()[0].shape[1], int)
        if not self._trim_padding:
            log.warning(
                "%s: the ONNX export predates dynamic text lengths; run `immich-sidecar export-onnx "
                "--model %s` again for faster text queries",
                self.info.name,
                self.info.name,
            )
        self.device = "cuda" if self._visual.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
        self._tokenizer = ClipTokenizer()
        log.info("loaded %s (ONNX %s) on %s", self.info.name, self.precision, self._visual.get_providers()[0])
        return self

    def prepare_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return preprocess_images(images, self.info.image_size)

    def prepare_texts(self, texts: Sequence[str]) -> np.ndarray:
        assert self._tokenizer is not None, "not loaded"
        return self._tokenizer(texts)

    def embed_images(self, batch: np.ndarray) -> np.ndarray:
        assert self._visual is not None, "not loaded"
        return normalise(self._visual.run([OUTPUT], {IMAGE_INPUT: batch.astype(np.float32, copy=False)})[0])

    def embed_texts(self, tokens: np.ndarray) -> np.ndarray:
        assert self._textual is not None, "not loaded"
        if self._trim_padding:
            # cn-clip masks [PAD] (id 0) out of attention, so trailing padding changes nothing but the cost:
            # a five-character query is 7 tokens, not 52.
            used = np.flatnonzero(tokens.any(axis=0))
            tokens = tokens[:, : int(used[-1]) + 1 if used.size else 1]
        return normalise(self._textual.run([OUTPUT], {TEXT_INPUT: tokens.astype(np.int64, copy=False)})[0])
