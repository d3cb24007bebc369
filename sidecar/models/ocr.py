"""Chinese OCR with RapidOCR's ONNX models (the ones the `rapidocr-onnxruntime` wheel ships).

The pipeline is RapidOCR's own parts (detector, angle classifier, recogniser) driven here so that each
request carries its own thresholds and resolution without mutating shared state (thread safety), and
so that detection scores survive (RapidOCR's one-call API drops them; Immich stores them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import ModelUnavailable

log = logging.getLogger(__name__)

_MIN_DETECTABLE_SIDE = 32  # below this the detector has nothing to work with (Immich ML does the same)


@dataclass(frozen=True)
class OcrResult:
    text: list[str]
    box: np.ndarray  # (n, 8): x1 y1 .. x4 y4, normalised to 0..1, clockwise from top-left
    box_score: np.ndarray
    text_score: np.ndarray


class RapidOcrModel:
    backend = "rapidocr"

    @property
    def device(self) -> str:
        return "cuda" if self.use_cuda else "cpu"

    def __init__(self, model_dir: Path | None = None, use_cuda: bool = False, threads: int = 0) -> None:
        self.model_dir = model_dir
        self.use_cuda = use_cuda
        self.threads = threads
        self._engine = None

    def load(self) -> "RapidOcrModel":
        from rapidocr_onnxruntime import RapidOCR

        kwargs: dict[str, object] = {"det_use_cuda": self.use_cuda, "cls_use_cuda": self.use_cuda,
                                     "rec_use_cuda": self.use_cuda}
        if self.threads > 0:
            kwargs["intra_op_num_threads"] = self.threads
        if self.model_dir is not None:
            files = {"det_model_path": "det.onnx", "cls_model_path": "cls.onnx", "rec_model_path": "rec.onnx"}
            for key, name in files.items():
                path = self.model_dir / name
                if not path.is_file():
                    raise ModelUnavailable(f"OCR model {path} is missing (AIO_OCR_MODEL_DIR needs {sorted(files.values())})")
                kwargs[key] = str(path)
            if (keys := self.model_dir / "keys.txt").is_file():
                kwargs["rec_keys_path"] = str(keys)
        self._engine = RapidOCR(**kwargs)
        log.info("loaded RapidOCR from %s", self.model_dir or "the rapidocr-onnxruntime wheel")
        return self

    def predict(
        self, image: Image.Image, min_detection_score: float, min_recognition_score: float, max_resolution: int
    ) -> OcrResult:
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess, DetPreProcess

        engine = self._engine
        if engine is None:
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

        detector = engine.text_det
        batch = DetPreProcess(max_resolution, "min", detector.mean, detector.std)(bgr)
        if batch is None:
            return empty
        prediction = detector.infer(batch)[0]
        postprocess = DBPostProcess(
            thresh=0.3, box_thresh=min_detection_score, max_candidates=1000, unclip_ratio=1.6,
            use_dilation=True, score_mode="fast",
        )
        raw_boxes, raw_scores = postprocess(prediction, (height, width))
        boxes, box_scores = [], []
        for box, score in zip(raw_boxes, raw_scores):
            box = detector.clip_det_res(detector.order_points_clockwise(np.asarray(box, np.float32)), height, width)
            if int(np.linalg.norm(box[0] - box[1])) <= 3 or int(np.linalg.norm(box[0] - box[3])) <= 3:
                continue
            boxes.append(box)
            box_scores.append(float(score))
        if not boxes:
            return empty

        order = _reading_order(boxes)
        boxes = [boxes[i] for i in order]
        box_scores = [box_scores[i] for i in order]
        crops = engine.get_crop_img_list(bgr, boxes)
        crops, _, _ = engine.text_cls(crops)
        recognised, _ = engine.text_rec(crops)

        keep = [i for i, (text, score) in enumerate(recognised) if text.strip() and score > min_recognition_score]
        if not keep:
            return empty
        normalised = np.stack([boxes[i] for i in keep]).astype(np.float32)
        normalised[:, :, 0] /= width
        normalised[:, :, 1] /= height
        return OcrResult(
            text=[recognised[i][0] for i in keep],
            box=np.clip(normalised.reshape(-1, 8), 0.0, 1.0),
            box_score=np.array([box_scores[i] for i in keep], np.float32),
            text_score=np.array([recognised[i][1] for i in keep], np.float32),
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
