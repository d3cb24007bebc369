"""MT Photos' API shapes over the same models."""

import io

import numpy as np
import pytest

from .support.imagegen import OCR_CORPUS, font_path
from .support.immich_requests import jpeg_bytes

KEY = {"api-key": "mt_photos_ai_extra"}


def test_check(client):
    response = client.post("/check", headers=KEY)
    assert response.status_code == 200 and response.get_json()["result"] == "pass"


@pytest.mark.parametrize("headers", [{}, {"api-key": "wrong"}])
def test_api_key_is_required(client, headers):
    response = client.post("/check", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["result"] == [] and "api-key" in response.get_json()["msg"]


def test_disabled_without_a_key(base_settings, registry):
    from dataclasses import replace

    from sidecar.app import create_app

    app = create_app(replace(base_settings, mt_photos_api_key=""), registry)
    response = app.test_client().post("/check", headers=KEY)
    assert response.status_code == 501 and "AIO_MT_PHOTOS_API_KEY" in response.get_json()["msg"]


def test_clip_image_and_text_are_string_vectors_of_the_configured_model(client, registry):
    image = client.post("/clip/img", headers=KEY, data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    text = client.post("/clip/txt", headers=KEY, json={"text": "海边的日落"})
    for response in (image, text):
        assert response.status_code == 200
        values = response.get_json()["result"]
        assert len(values) == 1024 and all(isinstance(v, str) for v in values)
        assert abs(np.linalg.norm(np.array(values, dtype=np.float64)) - 1) < 1e-4
    expected = registry.clip("cn-clip-RN50").encode_text("海边的日落")
    assert np.allclose(np.array(text.get_json()["result"], dtype=np.float32), expected, atol=1e-6)


@pytest.mark.skipif(font_path() is None, reason="CJK font missing: apt-get install fonts-wqy-zenhei")
def test_ocr_shape(client):
    sample = OCR_CORPUS[3]
    response = client.post("/ocr", headers=KEY, data={"file": (io.BytesIO(sample.jpeg()), "menu.jpg")})
    assert response.status_code == 200
    result = response.get_json()["result"]
    assert result["texts"][0] == "今日菜单"
    assert len(result["texts"]) == len(result["scores"]) == len(result["boxes"])
    box = result["boxes"][0]
    assert set(box) == {"x", "y", "width", "height"} and all(isinstance(v, str) for v in box.values())
    assert 0 < float(box["width"]) < sample.size[0]


@pytest.mark.parametrize(
    "path, kwargs, fragment",
    [
        ("/clip/img", {"data": {"image": (io.BytesIO(jpeg_bytes()), "a.jpg")}}, "form field 'file'"),
        ("/ocr", {"data": {"file": (io.BytesIO(b"junk"), "a.jpg")}}, "not an image"),
        ("/clip/txt", {"json": {"query": "x"}}, '{"text": "..."}'),
        ("/clip/txt", {"data": "not json"}, '{"text": "..."}'),
    ],
)
def test_bad_input_in_mt_photos_shape(client, path, kwargs, fragment):
    response = client.post(path, headers=KEY, **kwargs)
    assert response.status_code == 400
    assert fragment in response.get_json()["msg"] and response.get_json()["result"] == []
