"""MT Photos' AI API (/check, /ocr, /clip/img, /clip/txt, /restart), so MT Photos can use this service.

MT Photos sends the key in an `api-key` header and reads every number as a string.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, g, jsonify, request

from ..errors import BadRequest, SidecarError
from ..images import decode_image
from ..inference import decode_min_side, ocr_options
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


def _uploaded_image(min_side: int = 0):
    upload = request.files.get("file")
    if upload is None:
        received = sorted(set(request.form) | set(request.files))
        raise BadRequest(f"an image file in the form field 'file' is required (received fields: {received})")
    return decode_image(upload.read(), current_sidecar().settings.max_image_pixels, min_side)


@bp.post("/ocr")
def ocr():
    state = current_sidecar()
    g.task, g.model = "ocr", "rapidocr"
    image = _uploaded_image()
    min_detection, min_recognition, max_resolution = ocr_options(state.settings, ())
    result = state.registry.ocr().predict(image, min_detection, min_recognition, max_resolution)
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
    image = _uploaded_image(decode_min_side(state.registry, {CLIP: (entry,)}))
    embedding = state.registry.clip(state.settings.clip_model).encode_image(image)
    return jsonify(result=[f"{value:.16f}" for value in embedding.tolist()])


@bp.post("/clip/txt")
def clip_text():
    state = current_sidecar()
    g.task, g.model = "clip/textual", state.settings.clip_model
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BadRequest('a JSON body {"text": "..."} with a non-empty string is required')
    embedding = state.registry.clip(state.settings.clip_model).encode_text(text)
    return jsonify(result=[f"{value:.16f}" for value in embedding.tolist()])
