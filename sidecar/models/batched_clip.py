"""The CLIP model the registry hands out: a `ClipBackend` behind one micro-batcher per tower."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..batching import Batcher
from .base import ClipBackend


class BatchedClip:
    """Implements `ClipModel`. Each call prepares its input in the caller's thread; the tower's batcher
    embeds whatever rows are queued as one batch. Batch size 1 calls the backend directly."""

    def __init__(self, backend: ClipBackend, max_size: int, max_wait_s: float, visual_nice: int = 0) -> None:
        self.unbatched = backend
        self.info = backend.info
        self.backend = backend.backend
        self.device = backend.device
        self._images: Batcher | None = None
        self._texts: Batcher | None = None
        if max_size > 1:
            self._images = Batcher(
                backend.embed_images, max_size, max_wait_s, f"{backend.info.name}-visual", nice=visual_nice
            )
            self._texts = Batcher(backend.embed_texts, max_size, max_wait_s, f"{backend.info.name}-textual")

    def stats(self) -> dict[str, tuple[int, int]]:
        """(batches run, rows embedded) per tower; empty when batching is off."""
        return {
            tower: (batcher.batches, batcher.rows)
            for tower, batcher in (("visual", self._images), ("textual", self._texts))
            if batcher is not None
        }

    def encode_image(self, image: Image.Image) -> np.ndarray:
        row = self.unbatched.prepare_images([image])
        return self._images.submit(row[0]) if self._images else self.unbatched.embed_images(row)[0]

    def encode_text(self, text: str) -> np.ndarray:
        row = self.unbatched.prepare_texts([text])
        return self._texts.submit(row[0]) if self._texts else self.unbatched.embed_texts(row)[0]
