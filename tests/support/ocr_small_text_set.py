"""A labelled set of photos at Immich's preview size (1440x1080 and 1080x1440) for OCR of small and vertical
text, rendered deterministically from seeds with Debian's WenQuanYi Zen Hei font (fonts-wqy-zenhei).

Groups:
  small     36 photos with 2-3 blocks (paper, signs) of 2-6 lines each, Simplified and Traditional Chinese
            with digits and Latin; characters 1.2-2.5 % of the photo's height (13-36 px), on natural-looking
            backgrounds (gradients, blobs, bricks, fences, gravel), low contrast, rotated up to 3 degrees,
            in perspective, blurred, with noise, saved as JPEG;
  tiny      16 photos like small, characters 1.2-1.6 %: the low end, where detection at 736 px loses text;
  large     8 photos like small, characters 4-7 %, milder degradations;
  no-text   12 photos without text: facades, branches, fabric, textures;
  vertical  10 signs of text running down columns, read right to left: 6 of columns only, 4 mixed pages
            (a vertical title at the right beside horizontal lines at the left).

Used by tests/test_ocr.py and scripts/bench_ocr_small_text.py.
"""

from __future__ import annotations

import difflib
import io
import json
import random
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .imagegen import font_path

LANDSCAPE, PORTRAIT = (1440, 1080), (1080, 1440)  # Immich's previews: 1440 px on the long side

SIMPLIFIED = (
    "北京市朝阳区", "上海虹桥站", "营业时间", "欢迎光临", "停车收费标准", "每小时", "禁止吸烟", "出口", "地铁", "号线",
    "人民广场", "联系电话", "优惠活动", "会员价", "有效期至", "请勿触摸", "安全通道", "温馨提示", "小心地滑", "收银台",
    "价格", "产品型号", "生产日期", "电动车充电", "快递柜", "取件码", "小区物业", "消防通道", "医院门诊", "挂号处",
)  # fmt: skip
TRADITIONAL = (
    "臺北車站", "營業時間", "歡迎光臨", "停車場", "請勿吸煙", "電話", "會員價", "有效期限", "注意安全", "國立大學",
    "圖書館", "開放時間", "飲料", "價錢", "餐廳", "總計", "統一發票", "門診", "掛號", "銀行", "機場", "捷運", "醫院",
    "車輛高度限制", "閉路電視", "郵政編號", "麵包", "咖啡", "週一至週五", "區域",
)  # fmt: skip
LATIN = ("Wi-Fi", "Tel", "No.", "Exit", "Open", "NT$", "HK$", "VIP", "Taipei", "Shanghai", "B2", "ATM", "Park", "Menu")


@dataclass(frozen=True)
class SetPhoto:
    name: str
    group: str  # small, tiny, large, no-text, vertical
    jpeg: bytes  # as Immich sends a preview
    lines: tuple[str, ...]  # the text, in reading order
    char_px: tuple[int, ...]  # character height of each block of text

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.jpeg)).convert("RGB")


@dataclass(frozen=True)
class _Recipe:
    name: str
    group: str
    make: Callable[[], tuple[bytes, list[str], list[int]]]

    def render(self) -> SetPhoto:
        jpeg, lines, char_px = self.make()
        return SetPhoto(self.name, self.group, jpeg, tuple(lines), tuple(char_px))


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = font_path()
    if path is None:
        raise RuntimeError("CJK font missing: apt-get install fonts-wqy-zenhei")
    return ImageFont.truetype(str(path), size)


def _number(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return f"{rng.randrange(10, 24)}:{rng.choice(['00', '30'])}-{rng.randrange(17, 24)}:{rng.choice(['00', '30'])}"
    if kind == 1:
        return f"{rng.randrange(100, 9999)}.{rng.randrange(10, 99)}元"
    if kind == 2:
        return f"1{rng.randrange(30, 99)}{rng.randrange(1000, 9999)}{rng.randrange(1000, 9999)}"
    if kind == 3:
        return f"20{rng.randrange(10, 25)}年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日"
    if kind == 4:
        return f"{rng.choice('ABCDEFGHKMX')}{rng.choice('ABCDEFGHKMX')}-{rng.randrange(1000, 99999)}"
    return f"{rng.randrange(2, 99)}号"


def _line(rng: random.Random) -> str:
    words = SIMPLIFIED if rng.random() < 0.5 else TRADITIONAL
    parts = [rng.choice(words)]
    for _ in range(rng.randrange(1, 3)):
        draw = rng.random()
        parts.append(_number(rng) if draw < 0.45 else rng.choice(LATIN) if draw < 0.6 else rng.choice(words))
    return (" ".join(parts) if rng.random() < 0.6 else "".join(parts))[:20]


def _background(rng: random.Random, width: int, height: int) -> np.ndarray:
    """A scene without text, RGB uint8: a sky-to-ground gradient, blurred blobs (foliage, objects), and
    bricks, a fence or gravel in some."""
    kind = rng.randrange(5)
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    top = np.array([rng.randrange(60, 230) for _ in range(3)], np.float32)
    bottom = np.array([rng.randrange(30, 200) for _ in range(3)], np.float32)
    gradient = top * (1 - y) + bottom * y + 20 * np.sin(x * rng.uniform(2, 9) + rng.random() * 6)
    scene = Image.fromarray(np.clip(np.broadcast_to(gradient, (height, width, 3)), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(scene)
    for _ in range(rng.randrange(10, 40)):
        cx, cy, r = rng.randrange(width), rng.randrange(height), rng.randrange(20, 200)
        colour = tuple(rng.randrange(0, 255) for _ in range(3))
        draw.ellipse((cx - r, cy - r * rng.uniform(0.4, 1.2), cx + r, cy + r), fill=colour)
    if kind == 1:  # bricks
        brick_w, brick_h = rng.randrange(40, 120), rng.randrange(20, 60)
        for top_y in range(0, height, brick_h):
            draw.line((0, top_y, width, top_y), fill=(90, 90, 90), width=2)
            for left_x in range((top_y // brick_h % 2) * brick_w // 2, width, brick_w):
                draw.line((left_x, top_y, left_x, top_y + brick_h), fill=(90, 90, 90), width=2)
    if kind == 2:  # a fence
        step = rng.randrange(8, 40)
        for left_x in range(0, width, step):
            draw.line(
                (left_x, 0, left_x + rng.randrange(-50, 50), height), fill=(40, 40, 40), width=rng.randrange(1, 4)
            )
    pixels = np.asarray(scene.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 6.0)))).astype(np.float32)
    if kind == 3:  # gravel
        grain = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 30, (height, width)).astype(np.float32)
        pixels += cv2.GaussianBlur(grain, (0, 0), 1.2)[:, :, None]
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _photographed(rng: random.Random, pixels: np.ndarray, strength: float = 1.0) -> bytes:
    """As a phone takes it: turned a little, in perspective, blurred, noisy, saved as JPEG."""
    height, width = pixels.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-3, 3) * strength, 1.0)
    pixels = cv2.warpAffine(pixels, turn, (width, height), borderMode=cv2.BORDER_REFLECT)
    jitter = 0.015 * strength
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    moved = corners + np.float32(
        [[rng.uniform(-jitter, jitter) * width, rng.uniform(-jitter, jitter) * height] for _ in range(4)]
    )
    perspective = cv2.getPerspectiveTransform(corners, moved)
    pixels = cv2.warpPerspective(pixels, perspective, (width, height), borderMode=cv2.BORDER_REFLECT)
    pixels = cv2.GaussianBlur(pixels, (0, 0), rng.uniform(0.3, 0.8) * strength)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(1.5, 4) * strength, pixels.shape)
    pixels = np.clip(pixels.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=rng.randrange(75, 92))
    return buffer.getvalue()


def _text_photo(seed: int, size: tuple[int, int], char_share: tuple[float, float], blocks: tuple[int, int]):
    """Blocks of low-contrast lines on plates (paper, signs), each in its own cell of a 2x3 grid."""
    rng = random.Random(seed)
    width, height = size
    scene = Image.fromarray(_background(rng, width, height))
    draw = ImageDraw.Draw(scene)
    cells = [(column, row) for row in range(3) for column in range(2)]
    rng.shuffle(cells)
    cell_w, cell_h = width // 2, height // 3
    lines: list[str] = []
    char_px: list[int] = []
    for block in range(rng.randrange(*blocks)):
        px = max(8, round(rng.uniform(*char_share) * height))
        char_px.append(px)
        font = _font(px)
        block_lines = [_line(rng) for _ in range(rng.randrange(2, 7))]
        step = int(px * rng.uniform(1.5, 2.1))
        block_w = int(max(draw.textlength(text, font=font) for text in block_lines) + px * 1.5)
        while block_w > cell_w - 10:  # shorten the lines until the block fits its cell
            block_lines = [text[: max(3, len(text) * 3 // 4)] for text in block_lines]
            block_w = int(max(draw.textlength(text, font=font) for text in block_lines) + px * 1.5)
        while step * len(block_lines) + px > cell_h - 10 and len(block_lines) > 1:
            block_lines.pop()
        block_h = step * len(block_lines) + px
        column, row = cells[block]
        x0 = column * cell_w + rng.randrange(5, max(6, cell_w - block_w - 5))
        y0 = row * cell_h + rng.randrange(5, max(6, cell_h - block_h - 5))
        plate_level = rng.randrange(60, 230)
        contrast = rng.randrange(55, 130)
        plate = tuple(int(np.clip(plate_level + rng.randrange(-15, 15), 0, 255)) for _ in range(3))
        ink_level = plate_level - contrast if plate_level > 128 else plate_level + contrast
        ink = tuple(int(np.clip(ink_level + rng.randrange(-10, 10), 0, 255)) for _ in range(3))
        draw.rectangle((x0, y0, x0 + block_w, y0 + block_h), fill=plate)
        for index, text in enumerate(block_lines):
            draw.text((x0 + px * 0.75, y0 + px * 0.5 + index * step), text, fill=ink, font=font)
        lines.extend(block_lines)
    return _photographed(rng, np.asarray(scene)), lines, char_px


def _no_text_photo(seed: int, size: tuple[int, int]):
    rng = random.Random(seed)
    width, height = size
    scene = Image.fromarray(_background(rng, width, height))
    draw = ImageDraw.Draw(scene)
    kind = seed % 4
    if kind == 0:  # a facade's windows
        for top in range(50, height, rng.randrange(60, 120)):
            for left in range(30, width, rng.randrange(60, 120)):
                draw.rectangle((left, top, left + 35, top + 45), fill=(40, 50, 70))
    elif kind == 1:  # branches
        for _ in range(60):
            x, y = rng.randrange(width), rng.randrange(height)
            end = (x + rng.randrange(-200, 200), y + rng.randrange(-200, 200))
            draw.line((x, y, *end), fill=(50, 35, 20), width=rng.randrange(2, 8))
    elif kind == 2:  # dotted fabric
        for top in range(0, height, 14):
            for left in range(0, width, 14):
                draw.ellipse((left, top, left + 5, top + 5), fill=(200, 200, 190))
    return _photographed(rng, np.asarray(scene)), [], []


def _vertical_photo(seed: int, size: tuple[int, int], mixed: bool):
    """Columns of characters one below another on a plate, from the right; mixed: one column (a title)
    at the right beside horizontal lines at the left."""
    rng = random.Random(seed)
    width, height = size
    scene = Image.fromarray(_background(rng, width, height))
    draw = ImageDraw.Draw(scene)
    px = round(rng.uniform(0.03, 0.05) * height)
    font = _font(px)
    plate_left = int(width * 0.1)
    draw.rectangle((plate_left, int(height * 0.05), int(width * 0.9), int(height * 0.95)), fill=(235, 225, 200))
    words = SIMPLIFIED + TRADITIONAL
    columns = [rng.choice(words) + rng.choice(words) for _ in range(1 if mixed else rng.randrange(2, 5))]
    columns = [column[: int(height * 0.8 / (px * 1.1))] for column in columns]
    x = int(width * 0.85) - px
    for column in columns:
        for index, character in enumerate(column):
            draw.text((x, int(height * 0.08) + index * int(px * 1.1)), character, fill=(30, 20, 10), font=font)
        x -= int(px * 1.8)
    lines = list(columns)
    if mixed:
        line_px = round(px * 0.6)
        line_font = _font(line_px)
        for index in range(rng.randrange(3, 6)):
            text = _line(rng)[:10]
            draw.text(
                (plate_left + 20, int(height * 0.1) + index * line_px * 2), text, fill=(30, 20, 10), font=line_font
            )
            lines.append(text)
    return _photographed(rng, np.asarray(scene), 0.5), lines, [px]


def _recipes() -> list[_Recipe]:
    def alternate(index: int) -> tuple[int, int]:
        return LANDSCAPE if index % 2 == 0 else PORTRAIT

    recipes = []
    for i in range(36):
        make = lambda i=i: _text_photo(1000 + i, alternate(i), (0.012, 0.025), (2, 4))  # noqa: E731
        recipes.append(_Recipe(f"small-{i:02d}", "small", make))
    for i in range(16):
        make = lambda i=i: _text_photo(5000 + i, alternate(i), (0.012, 0.016), (2, 4))  # noqa: E731
        recipes.append(_Recipe(f"tiny-{i:02d}", "tiny", make))
    for i in range(8):
        make = lambda i=i: _text_photo(2000 + i, alternate(i), (0.04, 0.07), (1, 3))  # noqa: E731
        recipes.append(_Recipe(f"large-{i:02d}", "large", make))
    for i in range(12):
        recipes.append(_Recipe(f"no-text-{i:02d}", "no-text", lambda i=i: _no_text_photo(3000 + i, alternate(i))))
    for i in range(10):
        make = lambda i=i: _vertical_photo(4000 + i, alternate(i + 1), mixed=i >= 6)  # noqa: E731
        recipes.append(_Recipe(f"vertical-{i:02d}" if i < 6 else f"mixed-{i:02d}", "vertical", make))
    return recipes


RECIPES: dict[str, _Recipe] = {recipe.name: recipe for recipe in _recipes()}
GROUPS = ("small", "tiny", "large", "no-text", "vertical")


def render(name: str) -> SetPhoto:
    """One photo of the set, rendered in memory (a few tenths of a second)."""
    return RECIPES[name].render()


def photos(groups: tuple[str, ...] = GROUPS) -> Iterator[SetPhoto]:
    """The photos of these groups, rendered one at a time in the set's order."""
    for recipe in RECIPES.values():
        if recipe.group in groups:
            yield recipe.render()


def write(directory: Path, groups: tuple[str, ...] = GROUPS) -> Path:
    """The set as <name>.jpg in `directory`, with labels.json: name -> group, lines, char_px."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = {}
    for photo in photos(groups):
        (directory / f"{photo.name}.jpg").write_bytes(photo.jpeg)
        labels[photo.name] = {"group": photo.group, "lines": list(photo.lines), "char_px": list(photo.char_px)}
    path = directory / "labels.json"
    path.write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def plain_text(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def character_recall(expected: tuple[str, ...] | list[str], read: list[str], ordered: bool = False) -> float:
    """Share of the expected characters found in what was read (NFKC, whitespace ignored): each expected
    line aligned (difflib, no junk heuristic) against all the text read; `ordered` aligns the whole
    expected text at once, so that lines read out of their order lose what they cannot align."""
    got = plain_text("".join(read))
    wanted = [plain_text("".join(expected))] if ordered else [plain_text(line) for line in expected]
    total = sum(len(line) for line in wanted)
    if total == 0:
        return 1.0
    matched = 0
    for line in wanted:
        blocks = difflib.SequenceMatcher(None, line, got, autojunk=False).get_matching_blocks()
        matched += sum(block.size for block in blocks)
    return matched / total
