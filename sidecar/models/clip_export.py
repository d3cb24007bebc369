"""Export a cn-clip checkpoint's image and text towers to ONNX (fp32), and quantise them (int8).

The checkpoint is loaded through the same cn-clip `load_from_name` path the torch backend uses; the
towers are exported with a dynamic batch axis so the batcher can run any batch size.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

from .clip_onnx import EXPORT_FORMAT, IMAGE_INPUT, OUTPUT, PRECISIONS, TEXT_INPUT, export_dir, tower_path
from .clip_preprocess import CONTEXT_LENGTH
from .names import ClipModelInfo

log = logging.getLogger(__name__)

OPSET = 17
# Protobuf cannot hold a single file over 2 GB: bigger towers keep their weights in a side file.
EXTERNAL_DATA_BYTES = 1_800_000_000


def export_model(
    info: ClipModelInfo,
    checkpoint_dir: Path,
    onnx_root: Path,
    precisions: Iterable[str] = PRECISIONS,
    allow_download: bool = False,
) -> dict[str, float]:
    """Writes the export; returns seconds spent per step. fp32 is always written (int8 is made from it)."""
    import torch

    from .clip import TorchClipModel

    precisions = list(dict.fromkeys(["fp32", *precisions]))
    for precision in precisions:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    model = TorchClipModel(info, checkpoint_dir, "cpu", allow_download).load().model.float()
    timings["load"] = time.perf_counter() - started

    target = export_dir(onnx_root, info)
    staging = target.with_name(target.name + ".partial")  # never leave a half export under the real name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    class Tower(torch.nn.Module):
        """One of the model's encoders as a module of its own, the way the exporter wants it."""

        def __init__(self, encoder: str) -> None:
            super().__init__()
            self.clip = model
            self.encoder = encoder

        def forward(self, inputs):
            return getattr(self.clip, self.encoder)(inputs)

    # The text tower takes any number of tokens (axis 1): the runtime cuts the padding off short queries.
    examples = {
        "visual": (
            Tower("encode_image"),
            torch.zeros(1, 3, info.image_size, info.image_size),
            IMAGE_INPUT,
            {0: "batch"},
        ),
        "textual": (
            Tower("encode_text"),
            torch.ones(1, CONTEXT_LENGTH, dtype=torch.long),
            TEXT_INPUT,
            {0: "batch", 1: "tokens"},
        ),
    }
    for tower, (module, example, input_name, input_axes) in examples.items():
        started = time.perf_counter()
        path = staging / f"{tower}.fp32.onnx"
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            # The TorchScript exporter: cn-clip's BERT and ViT trace cleanly; dynamo export does not yet.
            torch.onnx.export(
                module.eval(),
                (example,),
                str(path),
                input_names=[input_name],
                output_names=[OUTPUT],
                dynamic_axes={input_name: input_axes, OUTPUT: {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        timings[f"export {tower} fp32"] = time.perf_counter() - started
        if "int8" in precisions:
            started = time.perf_counter()
            _quantise(path, staging / f"{tower}.int8.onnx")
            timings[f"quantise {tower} int8"] = time.perf_counter() - started

    (staging / "export.json").write_text(
        json.dumps(
            {
                "format": EXPORT_FORMAT,
                "model": info.name,
                "arch": info.arch,
                "dim": info.dim,
                "image_size": info.image_size,
                "context_length": CONTEXT_LENGTH,
                "opset": OPSET,
                "precisions": precisions,
                "torch": torch.__version__,
                "checkpoint": info.checkpoint,
            },
            indent=2,
        )
        + "\n"
    )
    if target.exists():
        for precision in precisions:  # an export of other precisions already there stays
            for tower in ("visual", "textual"):
                tower_path(onnx_root, info, tower, precision).unlink(missing_ok=True)
        for item in staging.iterdir():
            item.replace(target / item.name)
        staging.rmdir()
    else:
        staging.replace(target)
    return timings


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights of MatMul/Gemm (the transformer's bulk); activations
    are quantised per batch at run time, so no calibration data is needed. Per-channel scales and 7-bit
    weights (reduce_range): on AVX2 CPUs without VNNI, full-range u8*s8 products saturate and the
    embeddings drift (cosine 0.987 to torch on ViT-B-16); with both, 0.9997 at the same speed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the quantiser logs a line per tensor on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(source),
                str(target),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gemm"],
                per_channel=True,
                reduce_range=True,
                use_external_data_format=source.stat().st_size > EXTERNAL_DATA_BYTES,
            )
    finally:
        root.setLevel(level)
