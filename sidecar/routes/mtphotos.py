"""MT Photos' AI API (/check, /ocr, /clip/img, /clip/txt, /restart), so MT Photos can use this service.

MT Photos sends the key in an `api-key` header and reads every number as a string.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, g, jsonify, request

from ..errors import BadRequest, SidecarError
from ..images import decode_image
from ..inference import decode_min_side, ocr_options
from ..lanes import BACKGROUND, INTERACTIVE
from ..protocol import CLIP, VISUAL, ModelEntry
from ..state import current_sidecar

bp = Blueprint("mtphotos", __name__)


@bp.errorhandler(SidecarError)
def mt_photos_error(error: SidecarError):
    # MT Photos reads `msg`; `error` keeps this service's own shape.
    return jsonify(result=[], msg=error.message, error=error.message), error.status


@bp.before_request
def check_api_key():
    key = current_sidecar().settings.mt_photos_api_key
    if not key:
        raise SidecarError("the MT Photos API is disabled: set AIO_MT_PHOTOS_API_KEY", 501)
    if not hmac.compare_digest(request.headers.get("api-key", ""), key):
        raise SidecarError("invalid or missing api-key header", 401)


@bp.post("/check")
def check():
    return jsonify(result="pass", title="immich-all-in-one sidecar", help="https://immich.app")


@bp.post("/restart")
def restart():
    state = current_sidecar()
    state.registry.unload_all()
    return jsonify(result="pass")


def _upload() -> bytes:
    upload = request.files.get("file")
    if upload is None:
        received = sorted(set(request.form) | set(request.files))
        raise BadRequest(f"an image file in the form field 'file' is required (received fields: {received})")
    return upload.read()


@bp.post("/ocr")
def ocr():
    state = current_sidecar()
    g.task, g.model = "ocr", "rapidocr"
    upload = _upload()
    min_detection, min_recognition, max_resolution = ocr_options(state.settings, ())
    model = state.registry.ocr()  # loaded here, at normal priority (inference.load_models says why)

    def work():
        image = decode_image(upload, state.settings.max_image_pixels)
        return image, model.predict(image, min_detection, min_recognition, max_resolution)

    image, result = state.in_lane(BACKGROUND, work)
    boxes = []
    for box in result.box.reshape(-1, 4, 2):
        xs, ys = box[:, 0] * image.width, box[:, 1] * image.height
        boxes.append(
            {
                "x": f"{xs.min():.0f}",
                "y": f"{ys.min():.0f}",
                "width": f"{xs.max() - xs.min():.0f}",
                "height": f"{ys.max() - ys.min():.0f}",
            }
        )
    scores = [f"{score:.2f}" for score in result.text_score]
    return jsonify(result={"texts": result.text, "scores": scores, "boxes": boxes})


@bp.post("/clip/img")
def clip_image():
    state = current_sidecar()
    g.task, g.model = "clip/visual", state.settings.clip_model
    entry = ModelEntry(CLIP, VISUAL, state.settings.clip_model)
    upload = _upload()
    model = state.registry.clip(state.settings.clip_model)  # loaded here, at normal priority

    def work():
        image = decode_image(upload, state.settings.max_image_pixels, decode_min_side(state.registry, {CLIP: (entry,)}))
        return model.encode_image(image)

    embedding = state.in_lane(BACKGROUND, work)
    return jsonify(result=[f"{value:.16f}" for value in embedding.tolist()])


@bp.post("/clip/txt")
def clip_text():
    state = current_sidecar()
    g.task, g.model = "clip/textual", state.settings.clip_model
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BadRequest('a JSON body {"text": "..."} with a non-empty string is required')
    model = state.registry.clip(state.settings.clip_model)
    embedding = state.in_lane(INTERACTIVE, lambda: model.encode_text(text))
    return jsonify(result=[f"{value:.16f}" for value in embedding.tolist()])
