from dataclasses import fields
from pathlib import Path

import pytest

from sidecar.config import SETTINGS, ConfigError, Settings, settings_table


def test_defaults_follow_immich_ml():
    settings = Settings.from_env({})
    assert settings.port == 3003
    assert settings.model_ttl == 300
    assert settings.checkpoint_dir == Settings().cache_folder / "cn-clip"
    assert settings.upstream_url == ""


def test_environment_is_read_with_immich_and_aio_names():
    settings = Settings.from_env(
        {
            "IMMICH_PORT": "4004",
            "MACHINE_LEARNING_WORKERS": "3",
            "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": "cn-clip-ViT-B-16",
            "MACHINE_LEARNING_CACHE_FOLDER": "/models",
            "AIO_CLIP_ALIASES": "ViT-B-16__openai=cn-clip-ViT-B-16, ViT-L-14__openai=cn-clip-ViT-L-14",
            "AIO_UPSTREAM_ML_URL": "http://immich-machine-learning:3003",
            "AIO_OCR_MIN_RECOGNITION_SCORE": "0.9",
            "AIO_DEVICE": "CUDA",
        }
    )
    assert (settings.port, settings.workers) == (4004, 3)
    assert settings.preload_clip_visual == "cn-clip-ViT-B-16"
    assert settings.checkpoint_dir == Path("/models/cn-clip")
    assert settings.clip_aliases == {"ViT-B-16__openai": "cn-clip-ViT-B-16", "ViT-L-14__openai": "cn-clip-ViT-L-14"}
    assert settings.ocr_min_recognition_score == 0.9
    assert settings.device == "cuda"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"IMMICH_PORT": "http"}, "IMMICH_PORT"),
        ({"MACHINE_LEARNING_WORKERS": "0"}, "MACHINE_LEARNING_WORKERS"),
        ({"AIO_DEVICE": "tpu"}, "AIO_DEVICE"),
        ({"AIO_CLIP_ALIASES": "ViT-B-16__openai"}, "AIO_CLIP_ALIASES"),
        ({"AIO_UPSTREAM_ML_URL": "immich-ml:3003"}, "AIO_UPSTREAM_ML_URL"),
        ({"AIO_OCR_MIN_DETECTION_SCORE": "1.5"}, "AIO_OCR_MIN_DETECTION_SCORE"),
        ({"AIO_CLIP_DOWNLOAD": "maybe"}, "AIO_CLIP_DOWNLOAD"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_alias_to_an_unknown_model_is_refused():
    from sidecar.models.registry import ModelRegistry

    with pytest.raises(ConfigError, match="not one of"):
        ModelRegistry(Settings(clip_aliases={"ViT-B-32__openai": "cn-clip-ViT-B-32"}))


def test_docs_document_every_variable():
    docs = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_table() in docs, "docs/configuration.md's table is stale: paste `immich-sidecar config`"
    assert len(SETTINGS) == settings_table().count("\n") - 1


def test_each_setting_is_one_declaration():
    """The dataclass fields, the environment names and the table rows are the same list, in one order."""
    names = [item.name for item in fields(Settings)]
    assert list(SETTINGS) == names
    assert [spec.env for spec in SETTINGS.values()] == [
        line.split("`")[1] for line in settings_table().splitlines()[2:]
    ]
    assert len({spec.env for spec in SETTINGS.values()}) == len(names), "one variable per setting"


def test_documented_defaults_are_the_defaults():
    defaults = Settings()
    for attr, spec in SETTINGS.items():
        if spec.default and not spec.default.startswith("<"):
            assert getattr(defaults, attr) == spec.parse(spec.env, spec.default), attr
    assert defaults.cache_folder == Path("~/.cache/immich_ml").expanduser()
    assert (defaults.upstream_timeout, defaults.clip_download, defaults.clip_aliases) == (120.0, False, {})
    assert defaults.clip_model_dir is None and defaults.ocr_model_dir is None


def test_an_empty_variable_keeps_the_default():
    empty = Settings.from_env({spec.env: " " for spec in SETTINGS.values()})
    assert empty == Settings(request_threads=empty.request_threads)


def test_every_variable_is_read():
    """A value for every variable reaches its field (no setting is declared but never parsed)."""
    values = {
        "IMMICH_HOST": "::",
        "IMMICH_LOG_LEVEL": "debug",
        "MACHINE_LEARNING_CACHE_FOLDER": "/cache",
        "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": "cn-clip-RN50",
        "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL": "cn-clip-RN50",
        "MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION": "PP-OCRv5_server",
        "AIO_DEVICE": "cpu",
        "AIO_CLIP_MODEL": "cn-clip-RN50",
        "AIO_CLIP_MODEL_DIR": "/clip",
        "AIO_CLIP_BACKEND": "onnx",
        "AIO_CLIP_ONNX_PRECISION": "int8",
        "AIO_CLIP_ONNX_DIR": "/onnx",
        "AIO_CLIP_DOWNLOAD": "true",
        "AIO_CLIP_ALIASES": "a=cn-clip-RN50",
        "AIO_OCR_MODEL_DIR": "/ocr",
        "AIO_OCR_MIN_DETECTION_SCORE": "0.25",
        "AIO_OCR_MIN_RECOGNITION_SCORE": "0.25",
        "AIO_OCR_SMALL_TEXT": "false",
        "AIO_UPSTREAM_ML_URL": "http://ml:3003",
        "AIO_UPSTREAM_TIMEOUT_S": "7.5",
        "AIO_MT_PHOTOS_API_KEY": "key",
        "AIO_INTERACTIVE_LANE": "false",
        "AIO_BACKGROUND_NICE": "7",  # 19 at most
    }
    # The integer settings: a value above every minimum and unlike every default.
    env = {spec.env: values.get(spec.env, "33") for spec in SETTINGS.values()}
    settings, defaults = Settings.from_env(env), Settings(request_threads=1)  # not the core count
    unchanged = [attr for attr in SETTINGS if getattr(settings, attr) == getattr(defaults, attr)]
    assert unchanged == []
    assert settings.cache_folder == Path("/cache") and settings.clip_aliases == {"a": "cn-clip-RN50"}
    assert (settings.upstream_timeout, settings.clip_download, settings.workers) == (7.5, True, 33)


def test_immich_ml_v3_names_and_earlier_names_with_one_warning_each(caplog):
    import logging

    from sidecar import config

    config._warned.clear()
    current = Settings.from_env(
        {"MACHINE_LEARNING_PRELOAD__OCR__DETECTION": "PP-OCRv5_mobile", "MACHINE_LEARNING_MAX_BATCH_SIZE__OCR": "12"}
    )
    assert (current.preload_ocr, current.ocr_batch_size) == ("PP-OCRv5_mobile", 12)
    assert not caplog.records, "Immich ML's current names warn about nothing"

    legacy = {
        "MACHINE_LEARNING_PRELOAD__CLIP": "cn-clip-ViT-B-16",
        "MACHINE_LEARNING_PRELOAD__OCR": "PP-OCRv5_server",
        "MACHINE_LEARNING_MAX_BATCH_SIZE__TEXT_RECOGNITION": "3",
    }
    with caplog.at_level(logging.WARNING, logger="sidecar.config"):
        for _ in range(3):
            settings = Settings.from_env(legacy)
    assert (settings.preload_clip_textual, settings.preload_clip_visual) == ("cn-clip-ViT-B-16",) * 2
    assert (settings.preload_ocr, settings.ocr_batch_size) == ("PP-OCRv5_server", 3)
    warned = [record.getMessage() for record in caplog.records]
    assert len(warned) == 3, warned  # one per name, however often settings are read
    assert any("MACHINE_LEARNING_MAX_BATCH_SIZE__OCR" in message for message in warned)

    both = Settings.from_env({**legacy, "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL": "cn-clip-RN50"})
    assert (both.preload_clip_visual, both.preload_clip_textual) == ("cn-clip-RN50", "cn-clip-ViT-B-16"), (
        "the current name wins"
    )
