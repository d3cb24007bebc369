"""Settings, read once from the environment.

Names shared in meaning with Immich's own ML service keep its names (``IMMICH_HOST``, ``IMMICH_PORT``,
``MACHINE_LEARNING_*`` with ``__`` for nesting); settings of this project carry the ``AIO_`` prefix.
Each setting is declared once, as a field of `Settings` made by `setting(...)`: its variable, documented
default, help text and parser. Reading the environment (`Settings.from_env`) and the configuration table
of docs/configuration.md (`immich-sidecar config`) both come from those declarations.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting has a value the sidecar cannot use; the message names the variable."""


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours CPU limits of containers and taskset
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_request_threads() -> int:
    """Request threads are cheap waiting slots: background requests wait in theirs for a background slot
    (sidecar/lanes.py), and enough must stay free for a search to start at once."""
    return max(16, 4 * available_cores())


# --- parsers: (variable name, stripped non-empty value) -> the setting's value ------------------------
Parse = Callable[[str, str], Any]


def text(name: str, value: str) -> str:
    return value


def boolean(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def integer(minimum: int, maximum: int | None = None) -> Parse:
    def parse(name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{name} must be >= {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise ConfigError(f"{name} must be <= {maximum}, got {number}")
        return number

    return parse


def number(low: float, high: float) -> Parse:
    def parse(name: str, value: str) -> float:
        try:
            result = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
        if not low <= result <= high:
            raise ConfigError(f"{name} must be within [{low}, {high}], got {result}")
        return result

    return parse


def choice(*allowed: str, listed: str = "") -> Parse:
    """One of `allowed`, case-insensitive; `listed` words the error (default: "one of a, b, c")."""

    def parse(name: str, value: str) -> str:
        if value.lower() not in allowed:
            raise ConfigError(f"{name} must be {listed or 'one of ' + ', '.join(allowed)}, got {value!r}")
        return value.lower()

    return parse


def path(name: str, value: str) -> Path:
    return Path(value).expanduser()


def http_url(name: str, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {value!r}")
    return value


def alias_pairs(name: str, value: str) -> dict[str, str]:
    """`a=b, c=d` as {a: b, c: d}."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        alias, sep, target = item.partition("=")
        if not sep or not alias.strip() or not target.strip():
            raise ConfigError(f"{name} entries look like name=cn-clip-name, got {item!r}")
        pairs[alias.strip()] = target.strip()
    return pairs


# --- declaring a setting -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    env: str
    default: str  # as documented; "" shows as (empty), <...> describes a computed default
    help: str
    parse: Parse = text


_SETTING = "setting"  # the key of a field's metadata that holds its Setting
_UNSET: Any = object()


def setting(
    env: str,
    default: str,
    help: str,
    parse: Parse = text,
    *,
    value: Any = _UNSET,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A `Settings` field: the field's default is `parse(default)`, unless the documented default only
    describes it (<cores>, <cache>/cn-clip, (empty) for no path): then `value`, or `factory` for one that
    is computed or mutable."""
    metadata = {_SETTING: Setting(env, default, help, parse)}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=parse(env, default) if value is _UNSET else value, metadata=metadata)


# Field order is the order of the documented table.
@dataclass(frozen=True)
class Settings:
    host: str = setting("IMMICH_HOST", "0.0.0.0", "Listen address.")
    port: int = setting("IMMICH_PORT", "3003", "Listen port (Immich ML's port, so only the URL changes).", integer(1))
    log_level: str = setting("IMMICH_LOG_LEVEL", "info", "Log level: debug, info, warning, error.")
    workers: int = setting(
        "MACHINE_LEARNING_WORKERS", "1", "gunicorn worker processes; each loads its own models.", integer(1)
    )
    request_threads: int = setting(
        "MACHINE_LEARNING_REQUEST_THREADS",
        "<max(16, 4 × cores)>",
        "Threads per worker serving requests concurrently. Background requests wait in theirs for a "
        "background slot, so keep it well above Immich's total ML job concurrency (5 by default).",
        integer(1),
        factory=default_request_threads,
    )
    interactive_lane: bool = setting(
        "AIO_INTERACTIVE_LANE",
        "true",
        "Run searches (CLIP text) ahead of background work (OCR, CLIP image); false: every request alike, "
        "in its request thread (see docs/search-during-indexing.md).",
        boolean,
    )
    background_slots: int = setting(
        "AIO_BACKGROUND_SLOTS",
        "<cores>",
        "Background inferences (OCR, CLIP image) running at once per worker; more wait, never refused.",
        integer(1),
        factory=available_cores,
    )
    background_nice: int = setting(
        "AIO_BACKGROUND_NICE",
        "19",
        "CPU nice value of the threads running background work, so that a search takes the cores at once "
        "(0: normal priority).",
        integer(0, 19),
    )
    worker_timeout: int = setting(
        "MACHINE_LEARNING_WORKER_TIMEOUT", "300", "Seconds before gunicorn restarts a stuck worker.", integer(1)
    )
    keepalive: int = setting("MACHINE_LEARNING_HTTP_KEEPALIVE_TIMEOUT_S", "2", "HTTP keep-alive seconds.", integer(0))
    model_ttl: int = setting(
        "MACHINE_LEARNING_MODEL_TTL", "300", "Unload a model idle this many seconds; 0 keeps models loaded.", integer(0)
    )
    model_ttl_poll: int = setting(
        "MACHINE_LEARNING_MODEL_TTL_POLL_S", "10", "How often idle models are checked.", integer(1)
    )
    cache_folder: Path = setting(
        "MACHINE_LEARNING_CACHE_FOLDER", "~/.cache/immich_ml", "Root of model files (checkpoints, ONNX exports).", path
    )
    preload_clip_visual: str = setting(
        "MACHINE_LEARNING_PRELOAD__CLIP__VISUAL", "", "CLIP model whose image tower loads at worker start."
    )
    preload_clip_textual: str = setting(
        "MACHINE_LEARNING_PRELOAD__CLIP__TEXTUAL", "", "CLIP model whose text tower loads at worker start."
    )
    preload_ocr: str = setting(
        "MACHINE_LEARNING_PRELOAD__OCR__RECOGNITION",
        "",
        "OCR model loaded at worker start (`__OCR__DETECTION` is read too: one engine answers both).",
    )
    intra_op_threads: int = setting(
        "MACHINE_LEARNING_MODEL_INTRA_OP_THREADS",
        "0",
        "Threads inside one inference, torch and ONNX Runtime (0: the cores divided among the workers).",
        integer(0),
    )
    inter_op_threads: int = setting(
        "MACHINE_LEARNING_MODEL_INTER_OP_THREADS", "0", "Parallel operator threads (0: runtime default).", integer(0)
    )
    device: str = setting(
        "AIO_DEVICE",
        "auto",
        "cpu, cuda or auto (cuda when torch sees a GPU).",
        choice("auto", "cpu", "cuda", listed="auto, cpu or cuda"),
    )
    clip_model: str = setting(
        "AIO_CLIP_MODEL", "cn-clip-ViT-B-16", "CLIP model of the MT Photos endpoints and the default preload."
    )
    clip_model_dir: Path | None = setting(
        "AIO_CLIP_MODEL_DIR",
        "<cache>/cn-clip",
        "cn-clip download root: checkpoints named as cn-clip names them (clip_cn_vit-b-16.pt, ...).",
        path,
        value=None,  # see checkpoint_dir
    )
    clip_backend: str = setting(
        "AIO_CLIP_BACKEND",
        "auto",
        "torch, onnx, or auto (ONNX Runtime when `immich-sidecar export-onnx` files exist, else torch).",
        choice("auto", "torch", "onnx"),
    )
    clip_onnx_precision: str = setting(
        "AIO_CLIP_ONNX_PRECISION", "fp32", "ONNX exports to run: fp32 or int8.", choice("fp32", "int8")
    )
    clip_onnx_dir: Path | None = setting(
        "AIO_CLIP_ONNX_DIR",
        "<clip model dir>/onnx",
        "Where ONNX exports are written and read.",
        path,
        value=None,  # see onnx_dir
    )
    batch_max_size: int = setting(
        "AIO_BATCH_MAX_SIZE", "8", "Most concurrent CLIP requests run as one batch; 1 turns batching off.", integer(1)
    )
    batch_max_wait_ms: int = setting(
        "AIO_BATCH_MAX_WAIT_MS",
        "0",
        "Extra wait for a batch to fill (0: take what is queued, add no latency).",
        integer(0),
    )
    clip_download: bool = setting(
        "AIO_CLIP_DOWNLOAD", "false", "Let cn-clip download a missing checkpoint (needs network).", boolean
    )
    clip_aliases: Mapping[str, str] = setting(
        "AIO_CLIP_ALIASES",
        "",
        "Comma-separated name=cn-clip-name pairs for unpatched Immich, e.g. ViT-B-16__openai=cn-clip-ViT-B-16.",
        alias_pairs,
        factory=dict,
    )
    ocr_model_dir: Path | None = setting(
        "AIO_OCR_MODEL_DIR",
        "",
        "Directory with det.onnx, rec.onnx, cls.onnx (and optional keys.txt) replacing RapidOCR's bundled models.",
        path,
        value=None,  # RapidOCR's bundled models
    )
    ocr_batch_size: int = setting(
        "MACHINE_LEARNING_MAX_BATCH_SIZE__OCR", "6", "Text lines the OCR recogniser reads per batch.", integer(1)
    )
    ocr_min_detection_score: float = setting(
        "AIO_OCR_MIN_DETECTION_SCORE", "0.5", "Detection box threshold when the request gives none.", number(0.0, 1.0)
    )
    ocr_min_recognition_score: float = setting(
        "AIO_OCR_MIN_RECOGNITION_SCORE",
        "0.8",
        "Recognition score threshold when the request gives none.",
        number(0.0, 1.0),
    )
    ocr_max_resolution: int = setting(
        "AIO_OCR_MAX_RESOLUTION",
        "736",
        "Shortest side OCR detection works at when the request gives none.",
        integer(32),
    )
    ocr_small_text: bool = setting(
        "AIO_OCR_SMALL_TEXT",
        "true",
        "Read small text at Immich's default OCR resolution: detect again at the photo's own resolution where "
        "the first pass found small or unresolved text, and read lines from the photo, not its downscale; "
        "false: one pass at maxResolution (see docs/ocr-small-text.md).",
        boolean,
    )
    upstream_url: str = setting(
        "AIO_UPSTREAM_ML_URL",
        "",
        "Immich ML service that answers every task the sidecar does not serve (faces).",
        http_url,
        value="",
    )
    upstream_timeout: float = setting(
        "AIO_UPSTREAM_TIMEOUT_S", "120", "Seconds to wait for the upstream's answer.", number(0.1, 86400.0)
    )
    mt_photos_api_key: str = setting(
        "AIO_MT_PHOTOS_API_KEY", "", "api-key header the MT Photos endpoints require; empty disables them."
    )
    max_request_mb: int = setting("AIO_MAX_REQUEST_MB", "64", "Largest request body accepted (413 above).", integer(1))
    max_image_pixels: int = setting(
        "AIO_MAX_IMAGE_PIXELS", "100000000", "Largest decoded image in pixels (decompression-bomb guard).", integer(1)
    )

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
        """Settings from these variables (default: the process environment). A variable that is unset or
        empty leaves its default."""
        env = _legacy_environment(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for attr, spec in SETTINGS.items():
            raw = env.get(spec.env, "").strip()
            if raw:
                values[attr] = spec.parse(spec.env, raw)
        return cls(**values)


# attribute name -> its Setting, in table order. A field declared without `setting(...)` fails here.
SETTINGS: dict[str, Setting] = {item.name: item.metadata[_SETTING] for item in fields(Settings)}


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


def settings_table() -> str:
    """docs/configuration.md's table, from the same declarations the code reads."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for spec in SETTINGS.values():
        default = f"`{spec.default}`" if spec.default else "(empty)"
        rows.append(f"| `{spec.env}` | {default} | {spec.help} |")
    return "\n".join(rows)
