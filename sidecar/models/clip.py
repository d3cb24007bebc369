"""Chinese CLIP (cn-clip) on torch, loaded through cn-clip's own `load_from_name`."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ModelUnavailable
from .base import ClipBackend
from .clip_preprocess import CONTEXT_LENGTH, normalise
from .names import ClipModelInfo

log = logging.getLogger(__name__)


def resolve_device(setting: str) -> str:
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable("AIO_DEVICE=cuda but torch sees no CUDA device")
    return setting


class TorchClipModel(ClipBackend):
    """Both towers of one cn-clip model; embeddings come back L2-normalised, float32."""

    backend = "torch"

    def __init__(
        self, info: ClipModelInfo, checkpoint_dir: Path, device: str, allow_download: bool = False, threads: int = 0
    ) -> None:
        self.info = info
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.allow_download = allow_download
        self.threads = threads
        self._model = None
        self._transform = None

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_dir / self.info.checkpoint

    def load(self) -> TorchClipModel:
        import torch
        from cn_clip.clip import load_from_name

        if not self.checkpoint_path.is_file() and not self.allow_download:
            raise ModelUnavailable(
                f"{self.info.name}: checkpoint {self.checkpoint_path} is missing; put cn-clip's "
                f"{self.info.checkpoint} there (AIO_CLIP_MODEL_DIR) or set AIO_CLIP_DOWNLOAD=true"
            )
        if self.threads > 0:
            torch.set_num_threads(self.threads)
        # cn-clip prints its whole model configuration while loading; keep the log to one line.
        with contextlib.redirect_stdout(io.StringIO()):
            model, transform = load_from_name(
                self.info.arch, device=self.device, download_root=str(self.checkpoint_dir)
            )
        model.eval()
        self._model, self._transform = model, transform
        log.info("loaded %s from %s on %s", self.info.name, self.checkpoint_path, self.device)
        return self

    @property
    def model(self):
        if self._model is None:
            raise RuntimeError(f"{self.info.name} is not loaded")
        return self._model

    def prepare_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        import torch

        return torch.stack([self._transform(image) for image in images]).numpy()

    def prepare_texts(self, texts: Sequence[str]) -> np.ndarray:
        from cn_clip.clip import tokenize

        return tokenize(list(texts), context_length=CONTEXT_LENGTH).numpy()

    def embed_images(self, batch: np.ndarray) -> np.ndarray:
        import torch

        tensor = torch.from_numpy(batch).to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            features = self.model.encode_image(tensor)
        return normalise(features.float().cpu().numpy())

    def embed_texts(self, tokens: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = self.model.encode_text(torch.from_numpy(tokens).to(self.device))
        return normalise(features.float().cpu().numpy())
