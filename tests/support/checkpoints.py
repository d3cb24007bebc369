"""Random-weights cn-clip checkpoints, made with cn-clip's own create_model (real weights cannot be
downloaded here). Latency and memory equal the real model's; only the answers are meaningless."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

# The two smallest cn-clip models get real (random-weights) checkpoints; bigger ones are covered by
# their published configuration, which is what decides their dimension.
TEST_MODELS = ("cn-clip-RN50", "cn-clip-ViT-B-16")


def checkpoint_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "immich-all-in-one" / "test-checkpoints" / "cn-clip-1.6.0"


def build_random_checkpoint(name: str, directory: Path) -> Path:
    """A checkpoint as cn-clip publishes them ({"state_dict": ...}), from cn-clip's own create_model."""
    import torch
    from cn_clip.clip.utils import _MODEL_INFO, create_model

    from sidecar.models.names import CN_CLIP_MODELS

    info = CN_CLIP_MODELS[name]
    target = directory / info.checkpoint
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1234)
    with contextlib.redirect_stdout(io.StringIO()):
        model = create_model(_MODEL_INFO[info.arch]["struct"])
    partial = target.with_suffix(".part")
    torch.save({"state_dict": model.state_dict()}, partial)
    partial.rename(target)  # never leave a half-written checkpoint under the real name
    return target
