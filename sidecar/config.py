"""Settings, read once from the environment.

Names shared in meaning with Immich's own ML service keep its names (``IMMICH_HOST``, ``IMMICH_PORT``,
``MACHINE_LEARNING_*`` with ``__`` for nesting); settings of this project carry the ``AIO_`` prefix.
Every field documents its variable and default; README.md's configuration table is generated from the
same list (``immich-sidecar config``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value the sidecar cannot use; the message names the variable."""


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours CPU limits of containers and taskset
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _default_threads() -> int:
    return available_cores()


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    help: str


# One entry per variable: (attribute name, Setting). Order is the order of the README table.
SETTINGS: dict[str, Setting] = {
    "host": Setting("IMMICH_HOST", "0.0.0.0", "Listen address."),
    "port": Setting("IMMICH_PORT", "3003", "Listen port (Immich ML's port, so only the URL changes)."),
    "log_level": Setting("IMMICH_LOG_LEVEL", "info", "Log level: debug, info, warning, error."),
    "workers": Setting("MACHINE_LEARNING_WORKERS", "1", "gunicorn worker processes; each loads its own models."),
    "request_threads": Setting(
        "MACHINE_LEARNING_REQUEST_THREADS", "<cores>", "Threads per worker serving requests concurrently."
    ),
    "worker_timeout": Setting(
        "MACHINE_LEARNING_WORKER_TIMEOUT", "300", "Seconds before gunicorn restarts a stuck worker."
    ),
    "keepalive": Setting("MACHINE_LEARNING_HTTP_KEEPALIVE_TIMEOUT_S", "2", "HTTP keep-alive seconds."),
    "model_ttl": Setting(
        "MACHINE_LEARNING_MODEL_TTL", "300", "Unload a model idle this many seconds; 0 keeps models loaded."
    ),
    "model_ttl_poll": Setting("MACHINE_LEARNING_MODEL_TTL_POLL_S", "10", "How often idle models are checked."),
    "cache_folder": Setting(
        "MACHINE_LEARNING_CACHE_FOLDER", "~/.cache/immich_ml", "Root of model files (checkpoints, ONNX exports)."
    ),
    "preload_clip_visual": Setting(
        "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL", "", "CLIP model whose image tower loads at worker start."
    ),
    "preload_clip_textual": Setting(
        "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL", "", "CLIP model whose text tower loads at worker start."
    ),
    "preload_ocr": Setting(
        "MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION",
        "",
        "OCR model loaded at worker start (`__OCR__DETECTION` is read too: one engine answers both).",
    ),
    "intra_op_threads": Setting(
        "MACHINE_LEARNING_MODEL_INTRA_OP_THREADS",
        "0",
        "Threads inside one inference, torch and ONNX Runtime (0: the cores divided among the workers).",
    ),
    "inter_op_threads": Setting(
        "MACHINE_LEARNING_MODEL_INTER_OP_THREADS", "0", "Parallel operator threads (0: runtime default)."
    ),
    "device": Setting("AIO_DEVICE", "auto", "cpu, cuda or auto (cuda when torch sees a GPU)."),
    "clip_model": Setting(
        "AIO_CLIP_MODEL", "cn-clip-ViT-B-16", "CLIP model of the MT Photos endpoints and the default preload."
    ),
    "clip_model_dir": Setting(
        "AIO_CLIP_MODEL_DIR",
        "<cache>/cn-clip",
        "cn-clip download root: checkpoints named as cn-clip names them (clip_cn_vit-b-16.pt, ...).",
    ),
    "clip_backend": Setting(
        "AIO_CLIP_BACKEND",
        "auto",
        "torch, onnx, or auto (ONNX Runtime when `immich-sidecar export-onnx` files exist, else torch).",
    ),
    "clip_onnx_precision": Setting("AIO_CLIP_ONNX_PRECISION", "fp32", "ONNX exports to run: fp32 or int8."),
    "clip_onnx_dir": Setting("AIO_CLIP_ONNX_DIR", "<clip model dir>/onnx", "Where ONNX exports are written and read."),
    "batch_max_size": Setting(
        "AIO_BATCH_MAX_SIZE", "8", "Most concurrent CLIP requests run as one batch; 1 turns batching off."
    ),
    "batch_max_wait_ms": Setting(
        "AIO_BATCH_MAX_WAIT_MS", "0", "Extra wait for a batch to fill (0: take what is queued, add no latency)."
    ),
    "clip_download": Setting(
        "AIO_CLIP_DOWNLOAD", "false", "Let cn-clip download a missing checkpoint (needs network)."
    ),
    "clip_aliases": Setting(
        "AIO_CLIP_ALIASES",
        "",
        "Comma-separated name=cn-clip-name pairs for unpatched Immich, e.g. ViT-B-16__openai=cn-clip-ViT-B-16.",
    ),
    "ocr_model_dir": Setting(
        "AIO_OCR_MODEL_DIR",
        "",
        "Directory with det.onnx, rec.onnx, cls.onnx (and optional keys.txt) replacing RapidOCR's bundled models.",
    ),
    "ocr_batch_size": Setting(
        "MACHINE_LEARNING_MAX_BATCH_SIZE__OCR", "6", "Text lines the OCR recogniser reads per batch."
    ),
    "ocr_min_detection_score": Setting(
        "AIO_OCR_MIN_DETECTION_SCORE", "0.5", "Detection box threshold when the request gives none."
    ),
    "ocr_min_recognition_score": Setting(
        "AIO_OCR_MIN_RECOGNITION_SCORE", "0.8", "Recognition score threshold when the request gives none."
    ),
    "ocr_max_resolution": Setting(
        "AIO_OCR_MAX_RESOLUTION", "736", "Shortest side OCR detection works at when the request gives none."
    ),
    "upstream_url": Setting(
        "AIO_UPSTREAM_ML_URL", "", "Immich ML service that answers every task the sidecar does not serve (faces)."
    ),
    "upstream_timeout": Setting("AIO_UPSTREAM_TIMEOUT_S", "120", "Seconds to wait for the upstream's answer."),
    "mt_photos_api_key": Setting(
        "AIO_MT_PHOTOS_API_KEY", "", "api-key header the MT Photos endpoints require; empty disables them."
    ),
    "max_request_mb": Setting("AIO_MAX_REQUEST_MB", "64", "Largest request body accepted (413 above)."),
    "max_image_pixels": Setting(
        "AIO_MAX_IMAGE_PIXELS", "100000000", "Largest decoded image in pixels (decompression-bomb guard)."
    ),
}


log = logging.getLogger(__name__)

# Names that still work, each with one warning per process: Immich ML's names of earlier releases and
# this project's own earlier names. (old name, setting attributes it fills, why it is deprecated)
DEPRECATED: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "MACHINE_LEARNING_PRELOAD__CLIP",
        ("preload_clip_textual", "preload_clip_visual"),
        "Immich ML dropped it in v3: set MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL and __VISUAL",
    ),
    ("MACHINE_LEARNING_PRELOAD__OCR", ("preload_ocr",), "use Immich ML's MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION"),
    (
        "MACHINE_LEARNING_MAX_BATCH_SIZE__TEXT_RECOGNITION",
        ("ocr_batch_size",),
        "Immich ML renamed it in v3: use MACHINE_LEARNING_MAX_BATCH_SIZE__OCR",
    ),
)
# Other names Immich ML reads for the same setting, not deprecated.
ALTERNATIVES: dict[str, str] = {"preload_ocr": "MACHINE_LEARNING_PRELOAD__OCR__DETECTION"}
_warned: set[str] = set()


def _legacy_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with deprecated and alternative names moved onto the current ones (current wins)."""
    merged = dict(env)
    for attr, name in ALTERNATIVES.items():
        if env.get(name) and not env.get(SETTINGS[attr].env):
            merged[SETTINGS[attr].env] = env[name]
    for old, attrs, why in DEPRECATED:
        if old not in env:
            continue
        if old not in _warned:
            _warned.add(old)
            log.warning("%s is deprecated and still read: %s", old, why)
        for attr in attrs:
            merged.setdefault(SETTINGS[attr].env, env[old])
    return merged


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _parse_int(name: str, value: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {number}")
    return number


def _parse_float(name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be within [{low}, {high}], got {number}")
    return number


def parse_aliases(value: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        alias, sep, target = item.partition("=")
        if not sep or not alias.strip() or not target.strip():
            raise ConfigError(f"AIO_CLIP_ALIASES entries look like name=cn-clip-name, got {item!r}")
        aliases[alias.strip()] = target.strip()
    return aliases


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 3003
    log_level: str = "info"
    workers: int = 1
    request_threads: int = field(default_factory=_default_threads)
    worker_timeout: int = 300
    keepalive: int = 2
    model_ttl: int = 300
    model_ttl_poll: int = 10
    cache_folder: Path = Path("~/.cache/immich_ml").expanduser()
    preload_clip_visual: str = ""
    preload_clip_textual: str = ""
    preload_ocr: str = ""
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    device: str = "auto"
    clip_model: str = "cn-clip-ViT-B-16"
    clip_model_dir: Path | None = None
    clip_backend: str = "auto"
    clip_onnx_precision: str = "fp32"
    clip_onnx_dir: Path | None = None
    batch_max_size: int = 8
    batch_max_wait_ms: int = 0
    clip_download: bool = False
    clip_aliases: Mapping[str, str] = field(default_factory=dict)
    ocr_model_dir: Path | None = None
    ocr_batch_size: int = 6
    ocr_min_detection_score: float = 0.5
    ocr_min_recognition_score: float = 0.8
    ocr_max_resolution: int = 736
    upstream_url: str = ""
    upstream_timeout: float = 120.0
    mt_photos_api_key: str = ""
    max_request_mb: int = 64
    max_image_pixels: int = 100_000_000

    @property
    def checkpoint_dir(self) -> Path:
        return self.clip_model_dir or self.cache_folder / "cn-clip"

    @property
    def onnx_dir(self) -> Path:
        return self.clip_onnx_dir or self.checkpoint_dir / "onnx"

    @property
    def inference_threads(self) -> int:
        """Threads per inference: the setting, else the cores shared fairly among the workers."""
        return self.intra_op_threads or max(1, available_cores() // self.workers)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = _legacy_environment(os.environ if env is None else env)

        def raw(attr: str) -> str | None:
            value = env.get(SETTINGS[attr].env)
            return None if value is None else value.strip()

        values: dict[str, object] = {}
        for attr in (
            "host",
            "log_level",
            "preload_clip_visual",
            "preload_clip_textual",
            "preload_ocr",
            "clip_model",
            "upstream_url",
            "mt_photos_api_key",
        ):
            if (value := raw(attr)) is not None:
                values[attr] = value
        for attr, minimum in (
            ("port", 1),
            ("workers", 1),
            ("request_threads", 1),
            ("worker_timeout", 1),
            ("keepalive", 0),
            ("model_ttl", 0),
            ("model_ttl_poll", 1),
            ("intra_op_threads", 0),
            ("inter_op_threads", 0),
            ("ocr_max_resolution", 32),
            ("batch_max_size", 1),
            ("ocr_batch_size", 1),
            ("batch_max_wait_ms", 0),
            ("max_request_mb", 1),
            ("max_image_pixels", 1),
        ):
            if (value := raw(attr)) is not None and value != "":
                values[attr] = _parse_int(SETTINGS[attr].env, value, minimum)
        for attr in ("ocr_min_detection_score", "ocr_min_recognition_score"):
            if (value := raw(attr)) is not None and value != "":
                values[attr] = _parse_float(SETTINGS[attr].env, value, 0.0, 1.0)
        if (value := raw("upstream_timeout")) is not None and value != "":
            values["upstream_timeout"] = _parse_float(SETTINGS["upstream_timeout"].env, value, 0.1, 86400.0)
        if (value := raw("clip_download")) is not None:
            values["clip_download"] = _parse_bool(SETTINGS["clip_download"].env, value)
        if value := raw("cache_folder"):
            values["cache_folder"] = Path(value).expanduser()
        for attr, allowed in (("clip_backend", ("auto", "torch", "onnx")), ("clip_onnx_precision", ("fp32", "int8"))):
            if value := raw(attr):
                if value.lower() not in allowed:
                    raise ConfigError(f"{SETTINGS[attr].env} must be one of {', '.join(allowed)}, got {value!r}")
                values[attr] = value.lower()
        for attr in ("clip_model_dir", "clip_onnx_dir", "ocr_model_dir"):
            if value := raw(attr):
                values[attr] = Path(value).expanduser()
        if (value := raw("clip_aliases")) is not None:
            values["clip_aliases"] = parse_aliases(value)
        if (value := raw("device")) is not None and value != "":
            if value.lower() not in {"auto", "cpu", "cuda"}:
                raise ConfigError(f"AIO_DEVICE must be auto, cpu or cuda, got {value!r}")
            values["device"] = value.lower()
        if values.get("upstream_url"):
            url = str(values["upstream_url"])
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"AIO_UPSTREAM_ML_URL must start with http:// or https://, got {url!r}")
        return cls(**values)  # type: ignore[arg-type]


def settings_table() -> str:
    """The README's configuration table, from the same source the code reads."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SETTINGS.values():
        default = f"`{setting.default}`" if setting.default else "(empty)"
        rows.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(rows)


assert {f.name for f in fields(Settings)} == set(SETTINGS), "every setting is documented"
