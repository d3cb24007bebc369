#!/usr/bin/env python3
"""OCR of small text at Immich's default request, AIO_OCR_SMALL_TEXT off against on, in one process. Off is
the behaviour before the setting existed (one detection pass at maxResolution, lines read from the
downscale), except for the reading order of vertical text, which is a fix either way.

Writes the labelled set of tests/support/ocr_small_text_set.py into a temporary directory, adds the hard
set (tests/support/hard_corpus.py) and the tests' OCR corpus (tests/support/imagegen.py), and reads each
photo as the sidecar does (decoded as an upload; one RapidOCR engine with the sidecar's threads) at
Immich's default request: maxResolution 736, minScore 0.5 for detection and 0.8 for recognition. The
configurations run on each photo before the next, in rotating order, and each time is the least of --reps
runs: a shared machine's speed drifts by tens of percent, and interleaving keeps the drift out of the
ratios. --raised N adds the setting off at maxResolution N: what raising Immich's own setting gives.

Prints per group: character recall off and on (mean over photos; for vertical text also of the whole text
in its reading order, off in the order before vertical text was read right to left), photos read empty,
lines read on photos without text, the CPU time of the process per photo, and the on/off time ratio
(geometric mean over photos) against the issue's bounds; exits 1 when a bound is exceeded.

    .venv/bin/python scripts/bench_ocr_small_text.py [--reps 2] [--groups small,no-text] [--raised 1080]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sidecar.config import available_cores  # noqa: E402
from sidecar.images import decode_image  # noqa: E402
from sidecar.models.ocr import RapidOcrModel  # noqa: E402
from tests.support import ocr_small_text_set  # noqa: E402
from tests.support.hard_corpus import PHOTOS as HARD_SET  # noqa: E402
from tests.support.imagegen import OCR_CORPUS  # noqa: E402
from tests.support.ocr_small_text_set import character_recall  # noqa: E402

MIN_DETECTION, MIN_RECOGNITION, MAX_RESOLUTION = 0.5, 0.8, 736  # Immich's default OCR request
# The issue's bounds on the time ratio (on / off), per group.
TIME_BOUNDS = {"no-text": 1.2, "large": 1.3}


@dataclass
class Group:
    """Per configuration (off, on, raised): recall and CPU seconds of each photo, photos read empty, lines."""

    photos: int = 0
    recall: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ordered: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    empty: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    lines: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    cpu: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def mean_recall(self, configuration: str) -> str:
        return f"{sum(self.recall[configuration]) / len(self.recall[configuration]):.3f}"

    def cpu_ms(self, configuration: str) -> str:
        return f"{1000 * sum(self.cpu[configuration]) / self.photos:.0f}"

    def ratio(self, configuration: str, to: str = "off") -> float:
        return geometric_mean([a / b for a, b in zip(self.cpu[configuration], self.cpu[to], strict=True)])


def labelled_photos(directory: Path, groups: set[str]):
    """(group, name, upload bytes, expected lines): the set as written to disk, then the hard set and corpus."""
    labels_file = ocr_small_text_set.write(directory, tuple(g for g in ocr_small_text_set.GROUPS if g in groups))
    labels = json.loads(labels_file.read_text(encoding="utf-8"))
    for name, label in labels.items():
        yield label["group"], name, (directory / f"{name}.jpg").read_bytes(), tuple(label["lines"])
    for group, corpus in (("hard set", HARD_SET), ("tests' corpus", OCR_CORPUS)):
        if group in groups:
            for photo in corpus:
                yield group, photo.name, photo.jpeg(), photo.lines


def order_before(boxes, size: tuple[int, int]) -> list[int]:
    """The reading order of the sidecar before vertical text was read in its order (boxes normalised (n, 8)):
    top-left corners in px of the detection image sorted top to bottom, those within 10 px of each other
    on one line, left to right."""
    scale = min(1.0, MAX_RESOLUTION / min(size))
    corners = [(box[0] * size[0] * scale, box[1] * size[1] * scale) for box in boxes]
    order = sorted(range(len(corners)), key=lambda i: (corners[i][1], corners[i][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            (ax, ay), (bx, by) = corners[order[j]], corners[order[j + 1]]
            if abs(by - ay) < 10 and bx < ax:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main() -> int:
    all_groups = [*ocr_small_text_set.GROUPS, "hard set", "tests' corpus"]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2, help="runs per photo and setting; the least time counts")
    parser.add_argument("--groups", default=",".join(all_groups), help="comma-separated, of: " + ", ".join(all_groups))
    parser.add_argument("--keep", type=Path, help="write the set here (kept) instead of a temporary directory")
    parser.add_argument("--verbose", action="store_true", help="one line per photo")
    parser.add_argument(
        "--raised",
        type=int,
        metavar="N",
        help="also run the setting off at maxResolution N (raising Immich's own setting instead) and compare",
    )
    args = parser.parse_args()
    groups = set(args.groups.split(","))
    if unknown := groups - set(all_groups):
        parser.error(f"unknown groups {sorted(unknown)}")

    # configuration -> (AIO_OCR_SMALL_TEXT, maxResolution)
    configurations = {"off": (False, MAX_RESOLUTION), "on": (True, MAX_RESOLUTION)}
    if args.raised:
        configurations["raised"] = (False, args.raised)
    names = list(configurations)
    threads = available_cores()
    model = RapidOcrModel(threads=threads).load()
    results: dict[str, Group] = {}
    with tempfile.TemporaryDirectory(prefix="ocr-small-text-") as scratch:
        directory = args.keep or Path(scratch)
        for index, (group, name, upload, expected) in enumerate(labelled_photos(directory, groups)):
            image = decode_image(upload, 100_000_000)
            row = results.setdefault(group, Group())
            row.photos += 1
            cpu = dict.fromkeys(names, math.inf)
            read: dict[str, list[str]] = {}
            for rep in range(args.reps):
                start = (index + rep) % len(names)
                for configuration in names[start:] + names[:start]:
                    model.small_text, max_resolution = configurations[configuration]
                    started = time.process_time()
                    result = model.predict(image, MIN_DETECTION, MIN_RECOGNITION, max_resolution)
                    cpu[configuration] = min(cpu[configuration], time.process_time() - started)
                    read[configuration] = result.text
                    if configuration == "off":  # also in the order before, for "in reading order"
                        read["before"] = [result.text[i] for i in order_before(result.box, image.size)]
            for configuration in names:
                row.cpu[configuration].append(cpu[configuration])
                row.lines[configuration] += len(read[configuration])
                if expected:
                    row.recall[configuration].append(character_recall(expected, read[configuration]))
                    in_order = read["before" if configuration == "off" else configuration]
                    row.ordered[configuration].append(character_recall(expected, in_order, ordered=True))
                    row.empty[configuration] += not read[configuration]
            if args.verbose:
                recall = " ".join(f"{c} {row.recall[c][-1]:.3f}" for c in names) if expected else "no text"
                print(f"  {name:24s} {recall}  cpu on/off {cpu['on'] / cpu['off']:.2f}", flush=True)

    print(
        f"OCR at Immich's default request (maxResolution {MAX_RESOLUTION}, minScore {MIN_DETECTION} / "
        f"{MIN_RECOGNITION}), CPU, {threads} threads, least of {args.reps} interleaved runs per photo"
    )
    header = (
        "| group | photos | recall off | recall on | empty off / on | CPU ms/photo off | on | on/off (geo) | bound |"
    )
    print(header)
    print("|---|---|---|---|---|---|---|---|---|")
    failed = []
    for group in all_groups:
        if (row := results.get(group)) is None:
            continue
        ratio = row.ratio("on")
        bound = TIME_BOUNDS.get(group)
        verdict = "" if bound is None else f"≤ {bound}× {'ok' if ratio <= bound else 'EXCEEDED'}"
        if bound is not None and ratio > bound:
            failed.append(group)
        if row.recall["off"]:
            recall = [row.mean_recall(c) for c in ("off", "on")]
            if group == "vertical":
                recall = [
                    f"{r} (in reading order {sum(row.ordered[c]) / len(row.ordered[c]):.3f})"
                    for r, c in zip(recall, ("off", "on"), strict=True)
                ]
            empty = f"{row.empty['off']} / {row.empty['on']}"
        else:
            recall = ["—", "—"]
            empty = f"lines read: {row.lines['off']} / {row.lines['on']}"
        cells = [group, str(row.photos), *recall, empty, row.cpu_ms("off"), row.cpu_ms("on"), f"{ratio:.2f}×", verdict]
        print("| " + " | ".join(cells) + " |")
    if args.raised:
        print(f"\nThe setting off at maxResolution {args.raised} (Immich's own setting raised), same runs:")
        print(f"| group | recall at {args.raised} | CPU ms/photo | against off at {MAX_RESOLUTION} | against on |")
        print("|---|---|---|---|---|")
        for group in all_groups:
            if (row := results.get(group)) is None:
                continue
            recall = row.mean_recall("raised") if row.recall["raised"] else f"lines read: {row.lines['raised']}"
            cells = [group, recall, row.cpu_ms("raised"), f"{row.ratio('raised'):.2f}×"]
            print("| " + " | ".join([*cells, f"{row.ratio('raised', 'on'):.2f}×"]) + " |")
    if failed:
        print(f"time bound exceeded: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
