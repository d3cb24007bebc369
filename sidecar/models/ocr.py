"""Chinese OCR with RapidOCR 3 and the models its `rapidocr` wheel ships (PP-OCRv6 small detection and
recognition, PP-OCRv4 mobile direction classifier), or the ONNX files of AIO_OCR_MODEL_DIR.

The pipeline is RapidOCR's own parts (detector, angle classifier, recogniser) driven here so that each
request carries its own thresholds and resolution without mutating shared state (RapidOCR's one-call
API changes its engine's settings per call: not thread safe), and so that detection scores survive
(that API drops them; Immich stores them).

Immich asks for detection at 736 px on the short side by default, half of its 1440 px previews. With
AIO_OCR_SMALL_TEXT the photo itself is detected again where that pass found small or probable text, and
lines are read from the photo rather than its downscale (docs/ocr-small-text.md). Lines come in reading
order, vertical Chinese and Japanese columns right to left.
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
# Small-text reading (AIO_OCR_SMALL_TEXT). Immich's default request detects at 736 px on the short side,
# half of a 1440x1080 preview: text under ~2 % of the photo's height is then too small to find or read.
# Where the first pass saw small or probable text, the photo itself is detected again.
_SMALL_BOX_PX = 24.0  # a box whose short side (px of the detection image) is below this holds small text
_PROBABLE_TEXT = 0.15  # DB probability that counts as probable text where the first pass made no box,
_PROBABLE_PEAK = 0.4  # ... when it peaks at least this high
_PROBABLE_AREA = 20  # ... over at least this many px of the probability map (a texture's specks do not)
_REFINE_BUDGET = 0.2  # at most this share of the photo is detected again
_PROBABLE_BUDGET = 0.08  # ... of which at most this for probable text without a box
_READ_FROM_PHOTO_BELOW = 0.85  # lines are read from the photo when detection ran below this scale
_REPLACED_FROM = 0.6  # a first-pass box gives way to what detection again finds covering this share of it
_VERTICAL_RATIO = 2.0  # height / width from which a box is a column of vertical text
# What answers when AIO_OCR_MODEL_DIR is not set: the rapidocr wheel's bundled models.
BUNDLED_MODELS = "PP-OCRv6 small det+rec, PP-OCRv4 mobile cls (rapidocr wheel)"


class RapidOcrModel:
    """Implements `OcrModel` (models/base.py)."""

    backend = "rapidocr"

    @property
    def device(self) -> str:
        return "cuda" if self.use_cuda else "cpu"

    def __init__(
        self,
        model_dir: Path | None = None,
        use_cuda: bool = False,
        threads: int = 0,
        batch_size: int = 6,
        small_text: bool = True,
    ) -> None:
        self.model_dir = model_dir
        self.small_text = small_text  # AIO_OCR_SMALL_TEXT
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
        from rapidocr.ch_ppocr_rec import TextRecInput
        from rapidocr.utils.process_img import get_rotate_crop_image

        detector = self._detector
        if detector is None:
            raise RuntimeError("RapidOCR is not loaded")
        empty = OcrResult([], np.empty((0, 8), np.float32), np.empty(0, np.float32), np.empty(0, np.float32))
        if min(image.size) < _MIN_DETECTABLE_SIDE:
            return empty

        photo = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
        # Immich's semantics of maxResolution: the shortest side is brought down to it, never up.
        scale = min(1.0, max_resolution / min(image.size))
        detected = photo
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            detected = cv2.cvtColor(np.asarray(image.resize(size, Image.Resampling.LANCZOS)), cv2.COLOR_RGB2BGR)
        boxes, box_scores, probability = _detect(detector, detected, min_detection_score, max_resolution)
        if probability is None:
            return empty
        # Boxes are in px of the image detection ran on: with small-text reading, in px of the photo from
        # here on. Without it (or with nothing downscaled) everything stays as before the setting existed.
        to_photo = np.array([photo.shape[1] / detected.shape[1], photo.shape[0] / detected.shape[0]], np.float32)
        small_text = self.small_text and scale < 1.0
        if small_text:
            regions = _regions_to_refine(probability, boxes, detected.shape[:2])
            boxes = [box * to_photo for box in boxes]
            if regions:
                boxes, box_scores = _refine(detector, photo, to_photo, regions, boxes, box_scores, min_detection_score)
        if not boxes:
            return empty

        frame = photo if small_text else detected  # the image whose px the boxes are in
        if small_text and scale >= _READ_FROM_PHOTO_BELOW:
            # Hardly downscaled: the two are the same picture and the photo would only add its noise.
            crops = [get_rotate_crop_image(detected, (box / to_photo).astype(np.float32)) for box in boxes]
        else:
            crops = [get_rotate_crop_image(frame, copy.deepcopy(box)) for box in boxes]
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
        keep = [keep[i] for i in _reading_order([boxes[i] for i in keep], [texts[i] for i in keep])]
        height, width = frame.shape[:2]
        normalised = np.stack([boxes[i] for i in keep]).astype(np.float32)
        normalised[:, :, 0] /= width
        normalised[:, :, 1] /= height
        return OcrResult(
            text=[texts[i] for i in keep],
            box=np.clip(normalised.reshape(-1, 8), 0.0, 1.0),
            box_score=np.array([box_scores[i] for i in keep], np.float32),
            text_score=np.array([scores[i] for i in keep], np.float32),
        )


def _detect(
    detector, bgr: np.ndarray, min_detection_score: float, side: int
) -> tuple[list[np.ndarray], list[float], np.ndarray | None]:
    """RapidOCR's DB detection of `bgr` with its shortest side brought to `side` (rounded to a multiple
    of 32): boxes (4, 2) ordered clockwise from the top-left corner in px of `bgr` (clipped, slivers
    dropped), their scores, and the text probability map at the network's input size (None: nothing to
    detect)."""
    from rapidocr.ch_ppocr_det.utils import DBPostProcess, DetPreProcess

    batch = DetPreProcess(side, "min", detector.mean, detector.std)(bgr)
    if batch is None:
        return [], [], None
    prediction = detector.session(batch)
    postprocess = DBPostProcess(
        thresh=0.3,
        box_thresh=min_detection_score,
        max_candidates=1000,
        unclip_ratio=1.6,
        use_dilation=True,
        score_mode="fast",
    )
    boxes, scores = postprocess(prediction, bgr.shape[:2])
    return [np.asarray(box, np.float32) for box in boxes], [float(score) for score in scores], prediction[0, 0]


def _refine(
    detector,
    photo: np.ndarray,
    to_photo: np.ndarray,
    regions: list[tuple[float, float, float, float]],
    boxes: list[np.ndarray],
    box_scores: list[float],
    min_detection_score: float,
) -> tuple[list[np.ndarray], list[float]]:
    """Detection again over `regions` (px of the detection image) of the photo itself. What it finds
    replaces the first pass's boxes (px of the photo) whose centres lie in a region, unless it covers
    too little of one (a faint line found only in part): that box stays, and what was found inside it
    goes. Each box keeps the score of the pass that found it, against the same threshold: Immich's
    meaning of the score."""
    found: list[np.ndarray] = []
    found_scores: list[float] = []
    done: list[tuple[int, int, int, int]] = []
    for x0, y0, x1, y1 in regions:
        left, top = int(x0 * to_photo[0]), int(y0 * to_photo[1])
        right, bottom = int(np.ceil(x1 * to_photo[0])), int(np.ceil(y1 * to_photo[1]))
        if min(right - left, bottom - top) < _MIN_DETECTABLE_SIDE:
            continue
        crop = photo[top:bottom, left:right]
        more, more_scores, _ = _detect(detector, crop, min_detection_score, min(crop.shape[:2]))
        found += [box + np.array([left, top], np.float32) for box in more]
        found_scores += more_scores
        done.append((left, top, right, bottom))

    def redone(box: np.ndarray) -> bool:
        x, y = box.mean(axis=0)
        return any(left <= x <= right and top <= y <= bottom for left, top, right, bottom in done)

    kept: list[int] = []
    fragments: set[int] = set()
    for i, box in enumerate(boxes):
        if not redone(box):
            kept.append(i)
        elif (cover := _covered_by(box, found))[0] < _REPLACED_FROM:
            kept.append(i)
            fragments |= cover[1]
    refound = [j for j in range(len(found)) if j not in fragments]
    return (
        [boxes[i] for i in kept] + [found[j] for j in refound],
        [box_scores[i] for i in kept] + [found_scores[j] for j in refound],
    )


def _covered_by(box: np.ndarray, others: list[np.ndarray]) -> tuple[float, set[int]]:
    """The share of `box` that `others` cover, and which of them lie mostly inside it."""
    left, top = np.floor(box.min(axis=0)).astype(int)
    right, bottom = np.ceil(box.max(axis=0)).astype(int)
    shape = (bottom - top + 1, right - left + 1)
    origin = np.array([left, top], np.float32)
    own = np.zeros(shape, np.uint8)
    cv2.fillPoly(own, [np.round(box - origin).astype(np.int32)], 1)
    union = np.zeros(shape, np.uint8)
    inside: set[int] = set()
    for j, other in enumerate(others):
        if (other.max(axis=0) < (left, top)).any() or (other.min(axis=0) > (right, bottom)).any():
            continue
        mask = np.zeros(shape, np.uint8)
        cv2.fillPoly(mask, [np.round(other - origin).astype(np.int32)], 1)
        union |= mask
        if (mask & own).sum() > 0.5 * cv2.contourArea(other):
            inside.add(j)
    return float((own & union).sum() / max(1, own.sum())), inside


def _sides(box: np.ndarray) -> tuple[float, float]:
    """Width and height of a box (4, 2) ordered clockwise from the top-left corner."""
    width = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
    height = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    return float(width), float(height)


def _regions_to_refine(
    probability: np.ndarray, boxes: list[np.ndarray], shape: tuple[int, int]
) -> list[tuple[float, float, float, float]]:
    """Rectangles (x0, y0, x1, y1; px of the detection image of `shape`, where `boxes` are) worth
    detecting again at the photo's resolution: around boxes of small text, and around probable text
    that no box covers. Empty when the first pass saw only text large enough to read."""
    height, width = shape
    fx, fy = width / probability.shape[1], height / probability.shape[0]
    covered = np.zeros(probability.shape, np.uint8)
    small: list[tuple[float, list[float]]] = []
    for box in boxes:
        cv2.fillPoly(covered, [np.round(box / [fx, fy]).astype(np.int32)], 1)
        side = min(_sides(box))
        if side < _SMALL_BOX_PX:
            (x0, y0), (x1, y1) = box.min(axis=0), box.max(axis=0)
            small.append((side, [x0, y0, x1, y1, side]))
    probable: list[tuple[float, list[float]]] = []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (probability > _PROBABLE_TEXT).astype(np.uint8), connectivity=8
    )
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if area < _PROBABLE_AREA:
            continue
        component = labels[y : y + h, x : x + w] == label
        if covered[y : y + h, x : x + w][component].mean() > 0.5:
            continue
        peak = float(probability[y : y + h, x : x + w][component].max())
        if peak < _PROBABLE_PEAK:
            continue
        # The text's height: the component's short side, widened as DB widens its boxes (unclip ratio 1.6).
        side = min(w * fx, h * fy) * 1.6
        probable.append((-peak * area, [x * fx, y * fy, (x + w) * fx, (y + h) * fy, side]))

    def padded(x0: float, y0: float, x1: float, y1: float, side: float) -> list[float]:
        # A line's faint ends lie beyond where the first pass cut it: more room along the line.
        pad = max(8.0, 1.5 * side)
        return [max(0.0, x0 - 2 * pad), max(0.0, y0 - pad), min(width, x1 + 2 * pad), min(height, y1 + pad)]

    def share(rects: list[list[float]]) -> float:
        return sum((r[2] - r[0]) * (r[3] - r[1]) for r in rects) / (width * height)

    # Smallest text first: over the budget, the regions of the largest small text go first.
    chosen = _merge_overlapping([padded(*rect) for _, rect in sorted(small, key=lambda item: item[0])])
    while chosen and share(chosen) > _REFINE_BUDGET:
        chosen.pop()
    of_small = share(chosen)
    for _, rect in sorted(probable, key=lambda item: item[0]):  # the strongest and largest first
        trial = _merge_overlapping([*chosen, padded(*rect)])
        if share(trial) - of_small <= _PROBABLE_BUDGET and share(trial) <= _REFINE_BUDGET:
            chosen = trial
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in chosen]


def _merge_overlapping(rects: list[list[float]]) -> list[list[float]]:
    """Overlapping rectangles (x0, y0, x1, y1) merged into their bounding rectangles, until none overlap;
    in the order of each one's first member."""
    rects = [list(rect) for rect in rects]
    merged = True
    while merged and len(rects) > 1:
        merged = False
        out: list[list[float]] = []
        for rect in rects:
            for other in out:
                if rect[0] <= other[2] and other[0] <= rect[2] and rect[1] <= other[3] and other[1] <= rect[3]:
                    other[:] = [
                        min(other[0], rect[0]),
                        min(other[1], rect[1]),
                        max(other[2], rect[2]),
                        max(other[3], rect[3]),
                    ]
                    merged = True
                    break
            else:
                out.append(rect)
        rects = out
    return rects


def _reading_order(boxes: list[np.ndarray], texts: list[str] | None = None) -> list[int]:
    """The order to read boxes (4, 2) in. Horizontal text: lines top to bottom (boxes whose vertical
    centres are within half a line height share a line), each left to right. Vertical columns (a box at
    least twice as tall as wide holding two or more characters: a lone tall "1" is no column) are read as
    Chinese and Japanese are: a page is cut by its gaps into bands, read top to bottom, and bands into
    columns, read right to left; a column's crop is turned so that the recogniser reads it top to bottom."""
    vertical = {
        i
        for i, box in enumerate(boxes)
        if (sides := _sides(box))[1] >= _VERTICAL_RATIO * sides[0] and (texts is None or len(texts[i].strip()) >= 2)
    }
    return _order(list(range(len(boxes))), boxes, vertical)


def _order(indices: list[int], boxes: list[np.ndarray], vertical: set[int]) -> list[int]:
    if not vertical.intersection(indices):
        return _lines_order(indices, boxes)
    if len(indices) == 1:
        return indices
    if len(bands := _split_by_gaps(indices, boxes, axis=1)) > 1:
        return [i for band in bands for i in _order(band, boxes, vertical)]
    if len(columns := _split_by_gaps(indices, boxes, axis=0)) > 1:
        return [i for column in reversed(columns) for i in _order(column, boxes, vertical)]
    # No gap to cut at: the columns right to left, then the horizontal lines beside them.
    tall = sorted(
        vertical.intersection(indices), key=lambda i: (-float(boxes[i][:, 0].mean()), float(boxes[i][:, 1].min()))
    )
    return tall + _lines_order([i for i in indices if i not in vertical], boxes)


def _lines_order(indices: list[int], boxes: list[np.ndarray]) -> list[int]:
    spans = {i: (float(boxes[i][:, 1].min()), float(boxes[i][:, 1].max())) for i in indices}
    lines: list[list[int]] = []
    for i in sorted(indices, key=lambda i: sum(spans[i])):
        top, bottom = spans[i]
        if lines:
            line_top = float(np.median([spans[j][0] for j in lines[-1]]))
            line_bottom = float(np.median([spans[j][1] for j in lines[-1]]))
            offset = abs((top + bottom) - (line_top + line_bottom)) / 2
            if offset < 0.5 * min(bottom - top, line_bottom - line_top):
                lines[-1].append(i)
                continue
        lines.append([i])
    return [i for line in lines for i in sorted(line, key=lambda j: float(boxes[j][:, 0].min()))]


def _split_by_gaps(indices: list[int], boxes: list[np.ndarray], axis: int) -> list[list[int]]:
    """Boxes in groups separated by gaps along `axis` (0: x, 1: y), in increasing order."""
    groups: list[list[int]] = []
    end = -np.inf
    for low, high, i in sorted((float(boxes[i][:, axis].min()), float(boxes[i][:, axis].max()), i) for i in indices):
        if groups and low <= end:
            groups[-1].append(i)
            end = max(end, high)
        else:
            groups.append([i])
            end = high
    return groups


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
