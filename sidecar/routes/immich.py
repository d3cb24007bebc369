"""Immich's ML endpoints: GET /ping, GET /, POST /predict (local tasks, forwarded tasks, or both)."""

from __future__ import annotations

import os

from flask import Blueprint, Response, g, jsonify, request

from .. import __version__
from ..errors import BadRequest, NotConfigured, UnprocessableRequest
from ..images import decode_image
from ..inference import decode_min_side, load_models, run_local
from ..lanes import BACKGROUND, classify
from ..models.names import CN_CLIP_MODELS, OCR_MODEL_NAMES
from ..protocol import CLIP, OCR, PredictEntries, parse_entries
from ..state import Sidecar, current_sidecar

bp = Blueprint("immich", __name__)


# Immich v3 resolves `ping` and `predict` relative to each ML URL, so a URL with a path (behind a
# proxy that keeps it) asks for <path>/ping and <path>/predict: both are answered under any prefix.
@bp.get("/ping")
@bp.get("/<path:prefix>/ping")
def ping(prefix: str = "") -> Response:
    return Response("pong", mimetype="text/plain")


@bp.get("/")
def root():
    state = current_sidecar()
    return jsonify(
        message="Immich ML",  # what Immich ML answers here; the rest is this service's own
        service="immich-all-in-one sidecar",
        version=__version__,
        device=state.settings.device,  # the setting; "models" says where each loaded model actually runs
        loaded=state.registry.loaded(),
        models=state.registry.describe(),
        ocr_small_text=state.settings.ocr_small_text,  # AIO_OCR_SMALL_TEXT: small text read at maxResolution
        upstream=state.settings.upstream_url or None,
        pid=os.getpid(),  # which worker answered: useful behind several workers
    )


@bp.post("/predict")
@bp.post("/<path:prefix>/predict")
def predict(prefix: str = ""):
    state = current_sidecar()
    body = request.get_data(cache=True)  # the exact bytes, for forwarding unchanged
    entries = parse_entries(request.form.get("entries"))
    local = {task: items for task, items in entries.by_task.items() if state.registry.serves_task(items)}
    remote = [task for task in entries.by_task if task not in local]
    g.task = "+".join(f"{e.task}/{e.type}" for items in entries.by_task.values() for e in items)
    g.model = ",".join(sorted({e.model_name for items in entries.by_task.values() for e in items}))

    if remote and state.upstream is None:
        _refuse_unserved(entries, remote, state)
    lane = classify(local)
    if not local:  # waits on the network, not the cores: no background slot
        answer = state.in_lane(lane, lambda: state.upstream.forward("/predict", body, request.content_type or ""))
        return Response(answer.body, status=answer.status, content_type=answer.content_type or None)

    upload = request.files.get("image")
    text = request.form.get("text")
    if upload is None and text is None:
        received = sorted(set(request.form) | set(request.files))
        raise BadRequest(f"either an 'image' file or a 'text' field must be provided (received fields: {received})")
    image_bytes = upload.read() if upload is not None else None

    pending = None
    if remote:
        pending = state.pool.submit(
            state.upstream.predict, entries.subset(remote), image_bytes, None if image_bytes is not None else text
        )

    def work() -> dict:
        image = None
        if image_bytes is not None:
            image = decode_image(image_bytes, state.settings.max_image_pixels, decode_min_side(state.registry, local))
        return run_local(state.registry, state.settings, local, image, None if image is not None else text)

    try:
        if lane == BACKGROUND:
            load_models(state.registry, local)  # here, at normal priority: see load_models
        answer = state.in_lane(lane, work)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if pending is not None:
        remote_answer = pending.result()
        for key, value in remote_answer.items():
            answer.setdefault(key, value)  # local image dimensions win; they describe the same upload
    return jsonify(answer)


def _refuse_unserved(entries: PredictEntries, remote: list[str], state: Sidecar) -> None:
    for task in remote:
        if task in (CLIP, OCR):
            names = sorted({e.model_name for e in entries.by_task[task] if not state.registry.serves(e)})
            raise UnprocessableRequest(
                f"unknown {task} model name {', '.join(names)}: this sidecar serves "
                f"{_served(task, state)}; set AIO_UPSTREAM_ML_URL to forward other models to Immich ML"
            )
    raise NotConfigured(
        f"task {', '.join(remote)} is not served by this sidecar and no upstream is configured: "
        "set AIO_UPSTREAM_ML_URL to the Immich machine-learning service"
    )


def _served(task: str, state: Sidecar) -> str:
    if task == CLIP:
        return ", ".join(list(CN_CLIP_MODELS) + list(state.settings.clip_aliases))
    return ", ".join(sorted(OCR_MODEL_NAMES))
