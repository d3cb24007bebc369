"""Model names this sidecar serves. Pure data: no torch, no onnxruntime."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ClipModelInfo:
    name: str  # the name Immich is configured with, e.g. cn-clip-ViT-B-16
    arch: str  # cn-clip's own name, e.g. ViT-B-16
    dim: int  # embedding dimension (what Immich's smart_search column is resized to)
    image_size: int
    checkpoint: str  # file name cn-clip downloads and looks for in its download root


CN_CLIP_MODELS: dict[str, ClipModelInfo] = {
    info.name: info
    for info in (
        ClipModelInfo("cn-clip-RN50", "RN50", 1024, 224, "clip_cn_rn50.pt"),
        ClipModelInfo("cn-clip-ViT-B-16", "ViT-B-16", 512, 224, "clip_cn_vit-b-16.pt"),
        ClipModelInfo("cn-clip-ViT-L-14", "ViT-L-14", 768, 224, "clip_cn_vit-l-14.pt"),
        ClipModelInfo("cn-clip-ViT-L-14-336", "ViT-L-14-336", 768, 336, "clip_cn_vit-l-14-336.pt"),
        ClipModelInfo("cn-clip-ViT-H-14", "ViT-H-14", 1024, 224, "clip_cn_vit-h-14.pt"),
    )
}

# Immich's OCR model names (server/src/config.ts and the admin page) that a Chinese RapidOCR answers.
# Other language prefixes (EN__, KOREAN__, ...) are not served here and go upstream.
OCR_MODEL_NAMES = frozenset({"PP-OCRv5_mobile", "PP-OCRv5_server", "PP-OCRv4_mobile", "PP-OCRv4_server", "rapidocr"})
_OCR_LANGUAGE_PREFIXES = ("CH__",)


def _strip_namespace(name: str) -> str:
    # Immich ML accepts "org/model"; only the last component names the model.
    return name.rsplit("/", 1)[-1]


def resolve_clip_name(name: str, aliases: Mapping[str, str]) -> ClipModelInfo | None:
    """The cn-clip model a requested name means, or None when this sidecar does not serve it."""
    bare = _strip_namespace(name)
    target = aliases.get(name) or aliases.get(bare) or bare
    return CN_CLIP_MODELS.get(target)


def is_ocr_name(name: str) -> bool:
    bare = _strip_namespace(name)
    for prefix in _OCR_LANGUAGE_PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
    return bare in OCR_MODEL_NAMES
