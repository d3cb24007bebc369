"""cn-clip on ONNX Runtime: export through the CLI, agreement with torch, torch-free inputs, serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sidecar.images import decode_image
from sidecar.models.clip_onnx import EXPORT_FORMAT, export_is_current
from sidecar.models.names import CN_CLIP_MODELS

from .support.immich_requests import clip_textual, clip_visual, immich_form
from .support.photos import PHOTO_SHAPES, photo_jpeg

MODEL = "cn-clip-ViT-B-16"
INFO = CN_CLIP_MODELS[MODEL]
TEXTS = [
    "海边的日落",
    "发票",
    "一只猫在沙发上",
    "a dog running on the beach",
    "上海南站 G1234 次列车 2024-05-01",
    "🎉生日快乐🎂",
    "",
    "很长的句子" * 30,
]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)


@pytest.fixture(scope="session")
def onnx_dir(checkpoint_dir, tmp_path_factory) -> Path:
    """fp32 and int8 exports of the random-weights ViT-B-16, made by the user's command."""
    target = tmp_path_factory.mktemp("onnx")
    env = dict(os.environ, AIO_CLIP_MODEL_DIR=str(checkpoint_dir), AIO_CLIP_ONNX_DIR=str(target))
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "export-onnx", "--model", MODEL],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"exported {MODEL}" in result.stdout
    return target


@pytest.fixture(scope="session")
def torch_model(checkpoint_dir):
    from sidecar.models.clip import TorchClipModel
    from sidecar.models.names import CN_CLIP_MODELS

    return TorchClipModel(CN_CLIP_MODELS[MODEL], checkpoint_dir, "cpu").load()


def onnx_model(onnx_dir, precision):
    from sidecar.models.clip_onnx import OnnxClipModel
    from sidecar.models.names import CN_CLIP_MODELS

    return OnnxClipModel(CN_CLIP_MODELS[MODEL], onnx_dir, precision, "cpu").load()


@pytest.fixture(scope="session")
def photos():
    return [decode_image(photo_jpeg(w, h, o, seed), 10**8) for seed, (w, h, o) in enumerate(PHOTO_SHAPES)]


def test_export_layout(onnx_dir):
    folder = onnx_dir / MODEL
    assert {p.name for p in folder.iterdir()} == {
        "visual.fp32.onnx",
        "textual.fp32.onnx",
        "visual.int8.onnx",
        "textual.int8.onnx",
        "export.json",
    }
    meta = json.loads((folder / "export.json").read_text())
    assert (meta["dim"], meta["image_size"], meta["precisions"]) == (512, 224, ["fp32", "int8"])
    assert meta["format"] == EXPORT_FORMAT and all(export_is_current(onnx_dir, INFO, p) for p in ("fp32", "int8"))
    # int8 stores MatMul weights in one byte: the file shrinks to well under half.
    assert (folder / "visual.int8.onnx").stat().st_size < 0.4 * (folder / "visual.fp32.onnx").stat().st_size


def test_export_of_a_missing_checkpoint_says_what_to_do(tmp_path):
    env = dict(os.environ, AIO_CLIP_MODEL_DIR=str(tmp_path), AIO_CLIP_ONNX_DIR=str(tmp_path / "onnx"))
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "export-onnx", "--model", MODEL],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "clip_cn_vit-b-16.pt" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "onnx" / MODEL).exists()
    unknown = subprocess.run(
        [sys.executable, "-m", "sidecar", "export-onnx", "--model", "ViT-B-32"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 2 and "not a cn-clip model name" in unknown.stderr


@pytest.mark.parametrize("precision, floor", [("fp32", 0.999), ("int8", 0.99)])
def test_image_embeddings_agree_with_torch(onnx_dir, torch_model, photos, precision, floor):
    model = onnx_model(onnx_dir, precision)
    expected = torch_model.encode_images(photos)
    actual = model.encode_images(photos)
    assert actual.shape == (len(photos), 512)
    assert np.allclose(np.linalg.norm(actual, axis=1), 1, atol=1e-5)
    assert cosine(expected, actual).min() >= floor


@pytest.mark.parametrize("precision, floor", [("fp32", 0.999), ("int8", 0.99)])
def test_text_embeddings_agree_with_torch(onnx_dir, torch_model, precision, floor):
    model = onnx_model(onnx_dir, precision)
    assert cosine(torch_model.encode_texts(TEXTS), model.encode_texts(TEXTS)).min() >= floor


def test_batches_give_the_same_rows_as_single_inputs(onnx_dir, photos):
    model = onnx_model(onnx_dir, "fp32")
    together = model.encode_images(photos[:4])
    alone = np.concatenate([model.encode_images([image]) for image in photos[:4]])
    assert cosine(together, alone).min() >= 0.99999


def test_short_queries_run_without_their_padding(onnx_dir):
    import onnx

    model = onnx_model(onnx_dir, "fp32")  # exact; int8 quantises activations per batch, padding included
    tokens = model.prepare_texts(["发票", "海边的日落", "很长的句子" * 30])
    assert model._trim_padding
    padded = model._textual.run(["embedding"], {"text": tokens[:1]})[0]  # all 52 positions
    assert cosine(model.embed_texts(tokens[:1]), padded)[0] >= 0.99999
    # Rows of different lengths in one batch: each row as it is alone.
    together = model.embed_texts(tokens)
    alone = np.concatenate([model.embed_texts(tokens[i : i + 1]) for i in range(3)])
    assert cosine(together, alone).min() >= 0.99999
    # An export made before the token axis was dynamic takes 52 tokens: it is given them.
    legacy = onnx_dir.parent / "legacy-export"
    (legacy / MODEL).mkdir(parents=True, exist_ok=True)
    graph = onnx.load(str(onnx_dir / MODEL / "textual.int8.onnx"))
    graph.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 52
    onnx.save(graph, str(legacy / MODEL / "textual.int8.onnx"))
    (legacy / MODEL / "visual.int8.onnx").write_bytes((onnx_dir / MODEL / "visual.int8.onnx").read_bytes())
    old = onnx_model(legacy, "int8")
    assert not old._trim_padding and not export_is_current(legacy, INFO, "int8")
    assert cosine(old.embed_texts(tokens), onnx_model(onnx_dir, "int8").embed_texts(tokens)).min() >= 0.999


def test_clip_decodes_large_jpegs_at_a_reduced_scale(onnx_dir):
    import io

    from PIL import Image

    from sidecar.images import source_size

    model = onnx_model(onnx_dir, "fp32")
    for seed, (width, height, orientation) in enumerate(PHOTO_SHAPES):
        data = photo_jpeg(width, height, orientation, seed)
        full, reduced = decode_image(data, 10**8), decode_image(data, 10**8, 448)
        assert source_size(reduced) == source_size(full) == full.size  # what Immich is told
        assert min(reduced.size) >= min(448, min(full.size))
        assert reduced.size[0] * full.size[1] == reduced.size[1] * full.size[0]  # the same shape
        assert cosine(model.encode_images([full]), model.encode_images([reduced]))[0] >= 0.999
    big = photo_jpeg(4000, 3000, 6, 0)
    reduced = decode_image(big, 10**8, 448)
    assert (reduced.size, source_size(reduced)) == ((750, 1000), (3000, 4000))  # 1/4 scale, upright
    png = io.BytesIO()
    Image.new("RGB", (2000, 1000), "red").save(png, "PNG")
    assert decode_image(png.getvalue(), 10**8, 448).size == (2000, 1000)  # only JPEG decodes at a scale


def test_torch_free_preprocessing_matches_cn_clip_transform(torch_model, photos):
    from sidecar.models.clip_preprocess import preprocess_images

    for image in photos:  # several sizes and all orientations, as decoded for Immich
        expected = torch_model.prepare_images([image])
        actual = preprocess_images([image], 224)
        assert actual.shape == expected.shape == (1, 3, 224, 224)
        assert cosine(expected.reshape(1, -1), actual.reshape(1, -1))[0] >= 0.9999
        # Equal up to the pre-shrink of large photos (REDUCING_GAP); the normalised range is about 4 wide.
        assert np.abs(expected - actual).max() < 0.15
        if max(image.size) < 2 * 224:
            assert np.abs(expected - actual).max() < 1e-4  # no pre-shrink: the very same pixels


def test_torch_free_tokenizer_matches_cn_clip(torch_model):
    from sidecar.models.clip_preprocess import ClipTokenizer

    texts = TEXTS + ["Hello, World! 你好，世界。", "ÀÉÎ naïve café", "\u200b\u3000 \t", "12345678901234567890"]
    assert np.array_equal(ClipTokenizer()(texts), torch_model.prepare_texts(texts))


def test_onnx_path_never_imports_torch(onnx_dir):
    code = f"""
import sys
from pathlib import Path
from PIL import Image
from sidecar.models.clip_onnx import OnnxClipModel
from sidecar.models.names import CN_CLIP_MODELS
model = OnnxClipModel(CN_CLIP_MODELS[{MODEL!r}], Path({str(onnx_dir)!r}), "int8", "cpu").load()
model.encode_images([Image.new("RGB", (320, 240), (10, 200, 30))])
model.encode_texts(["海边的日落"])
print("torch" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def test_backend_choice(onnx_dir, base_settings):
    from sidecar.models.names import CN_CLIP_MODELS
    from sidecar.models.registry import clip_backend

    info = CN_CLIP_MODELS[MODEL]
    auto = replace(base_settings, clip_backend="auto", clip_onnx_dir=onnx_dir)
    assert clip_backend(auto, info) == "onnx"
    assert clip_backend(replace(auto, clip_onnx_dir=onnx_dir / "nothing"), info) == "torch"
    assert clip_backend(replace(auto, clip_backend="torch"), info) == "torch"


def test_served_over_http_with_onnx_int8(onnx_dir, base_settings, photos):
    from sidecar.app import create_app
    from sidecar.models.registry import ModelRegistry

    settings = replace(base_settings, clip_backend="onnx", clip_onnx_precision="int8", clip_onnx_dir=onnx_dir)
    client = create_app(settings, ModelRegistry(settings)).test_client()
    response = client.post("/predict", data=immich_form(clip_visual(MODEL), image=photo_jpeg(1440, 1080, 6)))
    assert response.status_code == 200
    body = response.get_json()
    embedding = json.loads(body["clip"])
    assert len(embedding) == 512 and abs(np.linalg.norm(embedding) - 1) < 1e-5
    assert (body["imageWidth"], body["imageHeight"]) == (1080, 1440)  # EXIF-rotated portrait
    text = client.post("/predict", data=immich_form(clip_textual(MODEL), text="海边的日落")).get_json()
    assert len(json.loads(text["clip"])) == 512
    assert client.get("/").get_json()["models"] == {f"clip/{MODEL}": {"backend": "onnx-int8", "device": "cpu"}}


def test_missing_export_is_a_clear_503(base_settings, tmp_path):
    from sidecar.app import create_app
    from sidecar.models.registry import ModelRegistry

    settings = replace(base_settings, clip_backend="onnx", clip_onnx_dir=tmp_path)
    client = create_app(settings, ModelRegistry(settings)).test_client()
    response = client.post("/predict", data=immich_form(clip_textual(MODEL), text="发票"))
    assert response.status_code == 503
    assert "export-onnx" in response.get_json()["error"]
