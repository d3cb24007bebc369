"""cn-clip through the user's code path: checkpoint file in the download root, load_from_name, HTTP."""

import json
from pathlib import Path

import numpy as np
import pytest

from sidecar.models.names import CN_CLIP_MODELS

from .support.checkpoints import TEST_MODELS
from .support.immich_requests import clip_textual, clip_visual, immich_form, jpeg_bytes


def embedding(response) -> np.ndarray:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert isinstance(body["clip"], str), "Immich stores the embedding string as it comes"
    return np.array(json.loads(body["clip"]), dtype=np.float32)


def test_every_model_name_matches_cn_clip_published_configuration():
    import cn_clip.clip.utils as utils

    configs = Path(utils.__file__).parent / "model_configs"
    assert {info.arch for info in CN_CLIP_MODELS.values()} == set(utils.available_models())
    for info in CN_CLIP_MODELS.values():
        vision = utils._MODEL_INFO[info.arch]["struct"].split("@")[0]
        config = json.loads((configs / f"{vision}.json").read_text())
        assert config["embed_dim"] == info.dim, info.name
        assert utils._MODEL_INFO[info.arch]["input_resolution"] == info.image_size
        assert utils._MODELS[info.arch][1] == info.checkpoint


@pytest.mark.parametrize("model", TEST_MODELS)
def test_image_embedding_shape_and_norm(client, model):
    response = client.post("/predict", data=immich_form(clip_visual(model), image=jpeg_bytes()))
    vector = embedding(response)
    assert vector.shape == (CN_CLIP_MODELS[model].dim,)
    assert abs(np.linalg.norm(vector) - 1) < 1e-4
    body = response.get_json()
    assert (body["imageWidth"], body["imageHeight"]) == (640, 480)


@pytest.mark.parametrize("model", TEST_MODELS)
def test_text_embedding_shape_norm_and_no_image_size(client, model):
    response = client.post("/predict", data=immich_form(clip_textual(model), text="海边的日落"))
    vector = embedding(response)
    assert vector.shape == (CN_CLIP_MODELS[model].dim,)
    assert abs(np.linalg.norm(vector) - 1) < 1e-4
    assert set(response.get_json()) == {"clip"}


def test_embeddings_are_deterministic_and_input_dependent(client):
    def text(value):
        return embedding(client.post("/predict", data=immich_form(clip_textual("cn-clip-ViT-B-16"), text=value)))

    def image(color):
        data = jpeg_bytes(color=color)
        return embedding(client.post("/predict", data=immich_form(clip_visual("cn-clip-ViT-B-16"), image=data)))

    assert np.array_equal(text("海边的日落"), text("海边的日落"))
    assert not np.allclose(text("海边的日落"), text("发票"), atol=1e-3)
    assert np.array_equal(image((10, 200, 30)), image((10, 200, 30)))
    assert not np.allclose(image((10, 200, 30)), image((250, 250, 250)), atol=1e-3)


def test_http_answer_equals_the_model_called_directly(client, registry):
    import io

    from PIL import Image

    data = jpeg_bytes(color=(90, 90, 200))
    direct = registry.clip("cn-clip-RN50").encode_image(Image.open(io.BytesIO(data)).convert("RGB"))
    served = embedding(client.post("/predict", data=immich_form(clip_visual("cn-clip-RN50"), image=data)))
    assert np.allclose(direct, served, atol=1e-6)


def test_alias_serves_stock_immich_names_with_the_same_model(client):
    aliased = embedding(client.post("/predict", data=immich_form(clip_textual("ViT-B-16__openai"), text="猫")))
    direct = embedding(client.post("/predict", data=immich_form(clip_textual("cn-clip-ViT-B-16"), text="猫")))
    assert np.array_equal(aliased, direct)


def test_long_text_is_truncated_not_refused(client):
    vector = embedding(client.post("/predict", data=immich_form(clip_textual("cn-clip-RN50"), text="日落" * 500)))
    assert vector.shape == (1024,)


def test_missing_checkpoint_is_a_503_that_names_the_file(tmp_path):
    from sidecar.app import create_app
    from sidecar.config import Settings

    app = create_app(Settings(clip_model_dir=tmp_path, device="cpu", model_ttl=0))
    response = app.test_client().post("/predict", data=immich_form(clip_textual("cn-clip-ViT-L-14"), text="猫"))
    assert response.status_code == 503
    message = response.get_json()["error"]
    assert "clip_cn_vit-l-14.pt" in message and "AIO_CLIP_MODEL_DIR" in message


def test_models_load_once_under_concurrent_requests(base_settings):
    import threading

    from sidecar.models.registry import ModelRegistry

    loads = []

    def factory(settings, info):
        loads.append(info.name)
        threading.Event().wait(0.2)  # a slow load that concurrent requests all wait for
        return object()

    registry = ModelRegistry(base_settings, clip_factory=factory)
    results = []
    threads = [threading.Thread(target=lambda: results.append(registry.clip("cn-clip-RN50"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["cn-clip-RN50"]
    assert len({id(result) for result in results}) == 1


def test_idle_models_are_unloaded_after_the_ttl(base_settings):
    import time
    from dataclasses import replace

    from sidecar.models.registry import ModelRegistry

    registry = ModelRegistry(replace(base_settings, model_ttl=5), clip_factory=lambda s, i: object())
    registry.clip("cn-clip-RN50")
    assert registry.loaded() == ["clip/cn-clip-RN50"]
    assert registry.unload_idle(time.monotonic() + 1) == []
    assert registry.unload_idle(time.monotonic() + 6) == ["clip/cn-clip-RN50"]
    assert registry.loaded() == []
