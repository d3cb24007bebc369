"""The models of one worker process: which names are served, loading each once, unloading idle ones."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..config import ConfigError, Settings
from ..errors import ModelUnavailable
from ..lanes import in_niced_thread
from ..protocol import CLIP, OCR, ModelEntry
from .base import ClipBackend, ClipModel, OcrModel
from .batched_clip import BatchedClip
from .names import CN_CLIP_MODELS, OCR_MODEL_NAMES, ClipModelInfo, is_ocr_name, resolve_clip_name

log = logging.getLogger(__name__)

OCR_KEY = "rapidocr"  # every served OCR name is answered by the same RapidOCR engine

ClipFactory = Callable[[Settings, ClipModelInfo], ClipModel]
OcrFactory = Callable[[Settings], OcrModel]
M = TypeVar("M")


@dataclass
class _Slot(Generic[M]):
    """Where one model lives: loaded at most once at a time, dropped when idle."""

    name: str  # as loaded() lists it: clip/<model name> or ocr/rapidocr
    model: M | None = None
    last_used: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)  # held while loading


def clip_backend(settings: Settings, info: ClipModelInfo) -> str:
    """torch or onnx for this model: the setting, or with `auto` ONNX when its export is present."""
    if settings.clip_backend != "auto":
        return settings.clip_backend
    from .clip_onnx import export_exists

    return "onnx" if export_exists(settings.onnx_dir, info, settings.clip_onnx_precision) else "torch"


def background_nice(settings: Settings) -> int:
    """The nice value of the threads that run background work (OCR, CLIP image); 0 with the lanes off."""
    return settings.background_nice if settings.interactive_lane else 0


def _load_clip(settings: Settings, info: ClipModelInfo) -> ClipModel:
    # The runtimes are imported only for the backend in use: the ONNX path never imports torch.
    nice = background_nice(settings)
    if clip_backend(settings, info) == "onnx":
        from .clip_onnx import OnnxClipModel

        backend: ClipBackend = OnnxClipModel(
            info,
            settings.onnx_dir,
            settings.clip_onnx_precision,
            settings.device,
            settings.inference_threads,
            settings.inter_op_threads,
            visual_nice=nice,
        ).load()
    else:
        from .clip import TorchClipModel, resolve_device

        backend = TorchClipModel(
            info,
            settings.checkpoint_dir,
            resolve_device(settings.device),
            settings.clip_download,
            settings.inference_threads,
        ).load()
    # Torch's OpenMP workers belong to the thread that runs a batch: the visual batcher's thread is niced.
    return BatchedClip(backend, settings.batch_max_size, settings.batch_max_wait_ms / 1000, visual_nice=nice)


def _rapid_ocr(settings: Settings) -> OcrModel:
    from .ocr import RapidOcrModel

    use_cuda = settings.device == "cuda"
    model = RapidOcrModel(
        settings.ocr_model_dir,
        use_cuda,
        settings.inference_threads,
        settings.ocr_batch_size,
        small_text=settings.ocr_small_text,
    )
    # OCR is background work: its sessions are built in a niced thread, whose nice value ONNX Runtime's
    # intra-op threads inherit.
    return in_niced_thread(model.load, background_nice(settings), name="ocr-loader")


class ModelRegistry:
    def __init__(
        self,
        settings: Settings,
        clip_factory: ClipFactory = _load_clip,
        ocr_factory: OcrFactory = _rapid_ocr,
    ) -> None:
        for alias, target in settings.clip_aliases.items():
            if target not in CN_CLIP_MODELS:
                raise ConfigError(
                    f"AIO_CLIP_ALIASES maps {alias!r} to {target!r}, which is not one of {sorted(CN_CLIP_MODELS)}"
                )
        self.settings = settings
        self._clip_factory = clip_factory
        self._ocr_factory = ocr_factory
        self._clip_slots: dict[str, _Slot[ClipModel]] = {}  # by cn-clip model name
        self._ocr_slot: _Slot[OcrModel] = _Slot(f"{OCR}/{OCR_KEY}")
        self._lock = threading.Lock()
        self._ttl_thread: threading.Thread | None = None
        self._stop = threading.Event()

    # --- which names are served here -------------------------------------------------------------
    def clip_info(self, name: str) -> ClipModelInfo | None:
        return resolve_clip_name(name, self.settings.clip_aliases)

    def serves(self, entry: ModelEntry) -> bool:
        if entry.task == CLIP:
            return self.clip_info(entry.model_name) is not None
        if entry.task == OCR:
            return is_ocr_name(entry.model_name)
        return False

    def serves_task(self, entries: tuple[ModelEntry, ...]) -> bool:
        return all(self.serves(entry) for entry in entries)

    # --- loading ---------------------------------------------------------------------------------
    def clip(self, name: str) -> ClipModel:
        info = self.clip_info(name)
        if info is None:
            raise ModelUnavailable(f"CLIP model {name!r} is not served here")
        with self._lock:
            slot = self._clip_slots.setdefault(info.name, _Slot(f"{CLIP}/{info.name}"))
        return self._get(slot, lambda: self._clip_factory(self.settings, info))

    def ocr(self) -> OcrModel:
        return self._get(self._ocr_slot, lambda: self._ocr_factory(self.settings))

    def _get(self, slot: _Slot[M], load: Callable[[], M]) -> M:
        model = slot.model
        if model is None:
            with slot.lock:  # one load per worker, however many requests wait for it
                if (model := slot.model) is None:
                    started = time.perf_counter()
                    model = slot.model = load()
                    log.info("model %s ready in %.1f s", slot.name, time.perf_counter() - started)
        slot.last_used = time.monotonic()
        return model

    def _slots(self) -> list[_Slot[ClipModel] | _Slot[OcrModel]]:
        return [*self._clip_slots.values(), self._ocr_slot]

    def loaded(self) -> list[str]:
        with self._lock:
            return sorted(slot.name for slot in self._slots() if slot.model is not None)

    def describe(self) -> dict[str, dict[str, str]]:
        """What each loaded model runs on: backend (torch, onnx-fp32, onnx-int8, rapidocr) and device; for OCR
        also the Immich model names it answers and the model files that answer them."""
        with self._lock:
            clips = sorted((slot.name, slot.model) for slot in self._clip_slots.values() if slot.model is not None)
            ocr = self._ocr_slot.model
        described = {name: {"backend": model.backend, "device": model.device} for name, model in clips}
        if ocr is not None:
            # Immich asks for PP-OCRv5 names; say which files really answer them.
            described[self._ocr_slot.name] = {
                "backend": ocr.backend,
                "device": ocr.device,
                "answers": ", ".join(sorted(OCR_MODEL_NAMES)),
                "weights": ocr.weights,
            }
        return described

    def preload(self) -> None:
        for name in {self.settings.preload_clip_visual, self.settings.preload_clip_textual} - {""}:
            self.clip(name)
        if self.settings.preload_ocr:
            if not is_ocr_name(self.settings.preload_ocr):
                raise ConfigError(
                    f"MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION={self.settings.preload_ocr!r} "
                    "is not an OCR model served here"
                )
            self.ocr()

    # --- idle unloading (MACHINE_LEARNING_MODEL_TTL) ---------------------------------------------
    def unload_idle(self, now: float | None = None) -> list[str]:
        ttl = self.settings.model_ttl
        if ttl <= 0:
            return []
        now = time.monotonic() if now is None else now
        unloaded = []
        with self._lock:
            for slot in self._slots():
                if slot.model is not None and now - slot.last_used > ttl and slot.lock.acquire(blocking=False):
                    try:
                        slot.model = None  # requests still holding it finish with their own reference
                        unloaded.append(slot.name)
                    finally:
                        slot.lock.release()
        for name in unloaded:
            log.info("unloaded %s after %d s idle", name, ttl)
        return unloaded

    def start_idle_unloader(self) -> None:
        if self.settings.model_ttl <= 0 or self._ttl_thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(self.settings.model_ttl_poll):
                self.unload_idle()

        self._ttl_thread = threading.Thread(target=run, name="model-ttl", daemon=True)
        self._ttl_thread.start()

    def unload_all(self) -> list[str]:
        with self._lock:
            names = [slot.name for slot in self._slots() if slot.model is not None]
            for slot in self._slots():
                slot.model = None
        return names

    def stop(self) -> None:
        self._stop.set()
