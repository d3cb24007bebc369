"""Forwarding to a real upstream HTTP server: unchanged bytes, split-and-merge, down, slow, absent."""

import json
from dataclasses import replace
from email.parser import BytesParser
from email.policy import HTTP

import numpy as np
import pytest
import requests

from sidecar.app import create_app

from .support.immich_requests import clip_textual, clip_visual, face_entries, jpeg_bytes, ocr_entries
from .support.upstream import UpstreamServer, free_port

FACES = {
    "facial-recognition": [
        {"boundingBox": {"x1": 1, "y1": 2, "x2": 30, "y2": 40}, "embedding": "[0.1,0.2]", "score": 0.98}
    ],
    "imageHeight": 480,
    "imageWidth": 640,
}


@pytest.fixture()
def upstream():
    server = UpstreamServer().start()
    server.answer_json(FACES)
    yield server
    server.stop()


def client_for(base_settings, registry, url, timeout=30.0):
    settings = replace(base_settings, upstream_url=url, upstream_timeout=timeout)

    # Share the loaded models; only the upstream differs.
    app = create_app(settings, registry)
    return app.test_client()


def multipart(fields):
    """Encode like a browser/undici would: one body, returned with its content type."""
    prepared = requests.Request("POST", "http://x/predict", files=fields).prepare()
    return prepared.body, prepared.headers["Content-Type"]


def parts(body: bytes, content_type: str) -> dict[str, bytes]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


def test_face_request_is_forwarded_byte_for_byte(base_settings, registry, upstream):
    client = client_for(base_settings, registry, upstream.url)
    image = jpeg_bytes()
    body, content_type = multipart({"entries": (None, json.dumps(face_entries())), "image": ("blob", image)})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 200
    assert response.data == upstream.body, "the answer comes back unchanged"
    (seen,) = upstream.requests
    assert seen.path == "/predict"
    assert seen.body == body, "the request goes on unchanged"
    assert seen.headers["Content-Type"] == content_type


def test_upstream_error_status_and_body_come_back_unchanged(base_settings, registry, upstream):
    upstream.answer_json({"detail": "Invalid request format."}, status=422)
    client = client_for(base_settings, registry, upstream.url)
    body, content_type = multipart({"entries": (None, json.dumps(face_entries())), "image": ("blob", jpeg_bytes())})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 422
    assert response.data == upstream.body


def test_unknown_task_is_forwarded_too(base_settings, registry, upstream):
    upstream.answer_json({"future-task": [1, 2, 3]})
    client = client_for(base_settings, registry, upstream.url)
    entries = {"future-task": {"anything": {"modelName": "m"}}}
    body, content_type = multipart({"entries": (None, json.dumps(entries)), "text": (None, "x")})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.get_json() == {"future-task": [1, 2, 3]}
    assert upstream.requests[0].body == body


def test_unserved_clip_model_goes_upstream_when_one_is_configured(base_settings, registry, upstream):
    upstream.answer_json({"clip": "[0.5,0.5]"})
    client = client_for(base_settings, registry, upstream.url)
    body, content_type = multipart(
        {"entries": (None, json.dumps(clip_textual("ViT-B-32__openai"))), "text": (None, "cat")}
    )
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.get_json() == {"clip": "[0.5,0.5]"}


def test_mixed_request_is_split_and_merged(base_settings, registry, upstream):
    client = client_for(base_settings, registry, upstream.url)
    image = jpeg_bytes()
    entries = {**clip_visual("cn-clip-RN50"), **ocr_entries(), **face_entries()}
    body, content_type = multipart({"entries": (None, json.dumps(entries)), "image": ("blob", image)})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert set(answer) == {"clip", "ocr", "facial-recognition", "imageHeight", "imageWidth"}
    assert answer["facial-recognition"] == FACES["facial-recognition"]
    assert len(json.loads(answer["clip"])) == 1024
    assert (answer["imageWidth"], answer["imageHeight"]) == (640, 480)
    (seen,) = upstream.requests
    forwarded = parts(seen.body, seen.headers["Content-Type"])
    assert json.loads(forwarded["entries"]) == face_entries(), "only the upstream's task goes upstream"
    assert forwarded["image"] == image, "with the same image bytes"


def test_mixed_request_with_upstream_failure_is_an_error_not_a_partial_answer(base_settings, registry, upstream):
    upstream.answer_json({"detail": "boom"}, status=500)
    client = client_for(base_settings, registry, upstream.url)
    entries = {**clip_visual("cn-clip-RN50"), **face_entries()}
    body, content_type = multipart({"entries": (None, json.dumps(entries)), "image": ("blob", jpeg_bytes())})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 502
    assert "boom" in response.get_json()["error"]


def test_upstream_down_is_502_with_a_clear_error(base_settings, registry):
    client = client_for(base_settings, registry, f"http://127.0.0.1:{free_port()}")
    body, content_type = multipart({"entries": (None, json.dumps(face_entries())), "image": ("blob", jpeg_bytes())})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 502
    assert "unreachable" in response.get_json()["error"]


def test_upstream_too_slow_is_504(base_settings, registry, upstream):
    upstream.delay = 2.0
    client = client_for(base_settings, registry, upstream.url, timeout=0.5)
    body, content_type = multipart({"entries": (None, json.dumps(face_entries())), "image": ("blob", jpeg_bytes())})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 504
    assert "AIO_UPSTREAM_TIMEOUT_S" in response.get_json()["error"]


def test_no_upstream_configured_is_501_naming_the_setting(client):
    body, content_type = multipart({"entries": (None, json.dumps(face_entries())), "image": ("blob", jpeg_bytes())})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 501
    assert "AIO_UPSTREAM_ML_URL" in response.get_json()["error"]


def test_unknown_clip_model_without_upstream_is_422_listing_served_models(client):
    body, content_type = multipart(
        {"entries": (None, json.dumps(clip_textual("ViT-B-32__openai"))), "text": (None, "x")}
    )
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "ViT-B-32__openai" in error and "cn-clip-ViT-B-16" in error


def test_local_answers_do_not_touch_the_upstream(base_settings, registry, upstream):
    client = client_for(base_settings, registry, upstream.url)
    body, content_type = multipart({"entries": (None, json.dumps(clip_textual("cn-clip-RN50"))), "text": (None, "猫")})
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 200
    assert np.array(json.loads(response.get_json()["clip"])).shape == (1024,)
    assert upstream.requests == []
