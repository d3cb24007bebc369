"""Chinese OCR with RapidOCR 3 and the models its `rapidocr` wheel ships (PP-OCRv6 small detection and
recognition, PP-OCRv4 mobile direction classifier), or the ONNX files of AIO_OCR_MODEL_DIR.

The pipeline is RapidOCR's own parts (detector, angle classifier, recogniser) driven here so that each
request carries its own thresholds and resolution without mutating shared state (RapidOCR's one-call
API changes its engine's settings per call: not thread safe), and so that detection scores survive
(that API drops them; Immich stores them).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import ModelUnavailable
from .base import OcrResult

log = logging.getLogger(__name__)

_MIN_DETECTABLE_SIDE = 32  # below this the detector has nothing to work with (Immich ML does the same)
# What answers when AIO_OCR_MODEL_DIR is not set: the rapidocr wheel's bundled models.
BUNDLED_MODELS = "PP-OCRv6 small det+rec, PP-OCRv4 mobile cls (rapidocr wheel)"


class RapidOcrModel:
    """Implements `OcrModel` (models/base.py)."""

    backend = "rapidocr"

    @property
    def device(self) -> str:
        return "cuda" if self.use_cuda else "cpu"

    def __init__(
        self, model_dir: Path | None = None, use_cuda: bool = False, threads: int = 0, batch_size: int = 6
    ) -> None:
        self.model_dir = model_dir
        self.use_cuda = use_cuda
        self.threads = threads
        self.batch_size = batch_size
        self.weights = BUNDLED_MODELS if model_dir is None else f"det.onnx, rec.onnx, cls.onnx of {model_dir}"
        self._detector = self._classifier = self._recogniser = None

    def load(self) -> RapidOcrModel:
        from rapidocr import RapidOCR

        params: dict[str, object] = {
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.use_cuda": self.use_cuda,
            "Rec.rec_batch_num": self.batch_size,
        }
        if self.threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
        if self.model_dir is not None:
            files = {"Det.model_path": "det.onnx", "Cls.model_path": "cls.onnx", "Rec.model_path": "rec.onnx"}
            for key, name in files.items():
                path = self.model_dir / name
                if not path.is_file():
                    raise ModelUnavailable(
                        f"OCR model {path} is missing (AIO_OCR_MODEL_DIR needs {sorted(files.values())})"
                    )
                params[key] = str(path)
            if (keys := self.model_dir / "keys.txt").is_file():
                params["Rec.rec_keys_path"] = str(keys)
        # Without idle spinning (as CLIP's sessions): spinning threads burn cores shared with other work.
        with _sessions_without_spinning():
            engine = RapidOCR(params=params)
            # The three sessions load now, not on the first request; they hold no per-request state.
            self._detector = engine._load_det_model()
            self._classifier = engine._load_cls_model()
            self._recogniser = engine._load_rec_model()
        log.info("loaded RapidOCR: %s", self.weights)
        return self

    def predict(
        self, image: Image.Image, min_detection_score: float, min_recognition_score: float, max_resolution: int
    ) -> OcrResult:
        from rapidocr.ch_ppocr_det.utils import DBPostProcess, DetPreProcess
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        detector = self._detector
        if detector is None:
            raise RuntimeError("RapidOCR is not loaded")
        empty = OcrResult([], np.empty((0, 8), np.float32), np.empty(0, np.float32), np.empty(0, np.float32))
        if min(image.size) < _MIN_DETECTABLE_SIDE:
            return empty

        # Immich's semantics of maxResolution: the shortest side is brought down to it, never up.
        scale = min(1.0, max_resolution / min(image.size))
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        bgr = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
        height, width = bgr.shape[:2]

        batch = DetPreProcess(max_resolution, "min", detector.mean, detector.std)(bgr)
        if batch is None:
            return empty
        prediction = detector.session(batch)
        postprocess = DBPostProcess(
            thresh=0.3,
            box_thresh=min_detection_score,
            max_candidates=1000,
            unclip_ratio=1.6,
            use_dilation=True,
            score_mode="fast",
        )
        # Boxes come ordered clockwise from the top-left corner, clipped, slivers dropped.
        raw_boxes, raw_scores = postprocess(prediction, (height, width))
        boxes = [np.asarray(box, np.float32) for box in raw_boxes]
        box_scores = [float(score) for score in raw_scores]
        if not boxes:
            return empty

        order = _reading_order(boxes)
        boxes = [boxes[i] for i in order]
        box_scores = [box_scores[i] for i in order]
        crops = [get_rotate_crop_image(bgr, copy.deepcopy(box)) for box in boxes]
        crops = self._classifier(crops).img_list
        recognised = self._recogniser(TextRecInput(img=crops))
        texts, scores = list(recognised.txts or ()), list(recognised.scores)

        keep = [
            i
            for i, (text, score) in enumerate(zip(texts, scores, strict=True))
            if text.strip() and score > min_recognition_score
        ]
        if not keep:
            return empty
        normalised = np.stack([boxes[i] for i in keep]).astype(np.float32)
        normalised[:, :, 0] /= width
        normalised[:, :, 1] /= height
        return OcrResult(
            text=[texts[i] for i in keep],
            box=np.clip(normalised.reshape(-1, 8), 0.0, 1.0),
            box_score=np.array([box_scores[i] for i in keep], np.float32),
            text_score=np.array([scores[i] for i in keep], np.float32),
        )


def _reading_order(boxes: list[np.ndarray]) -> list[int]:
    """Top to bottom, then left to right within a line (boxes whose tops are within 10 px share a line)."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = boxes[order[j]], boxes[order[j + 1]]
            if abs(b[0][1] - a[0][1]) < 10 and b[0][0] < a[0][0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


@contextmanager
def _sessions_without_spinning() -> Iterator[None]:
    """RapidOCR builds its SessionOptions in OrtInferSession._init_sess_opts, with ONNX Runtime's default of
    idle intra-op threads spinning; while the OCR sessions load, the options it builds also stop that."""
    try:
        from rapidocr.inference_engine.onnxruntime.main import OrtInferSession
    except ImportError:  # another rapidocr layout: its defaults stay
        yield
        return
    original = OrtInferSession.__dict__.get("_init_sess_opts")
    if not isinstance(original, staticmethod):
        yield
        return

    def options(cfg):
        made = original.__func__(cfg)
        made.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return made

    with _ORT_PATCH_LOCK:
        OrtInferSession._init_sess_opts = staticmethod(options)
        try:
            yield
        finally:
            OrtInferSession._init_sess_opts = original


_ORT_PATCH_LOCK = threading.Lock()
