"""RapidOCR with the wheel's own models on generated Chinese images, through Immich's protocol."""

import pytest

from .support.imagegen import OCR_CORPUS, font_path
from .support.immich_requests import immich_form, ocr_entries
from .support.ocr_search_eval import edit_distance

pytestmark = pytest.mark.skipif(font_path() is None, reason="CJK font missing: apt-get install fonts-wqy-zenhei")


def normalise(text: str) -> str:
    # Full-width and half-width forms of the same symbol are the same character to a reader.
    table = str.maketrans({"￥": "¥", "：": ":", "，": ",", "（": "(", "）": ")", "－": "-"})
    return "".join(text.translate(table).split())


@pytest.fixture(scope="module")
def ocr_answers(app):
    client = app.test_client()
    answers = {}
    for sample in OCR_CORPUS:
        response = client.post("/predict", data=immich_form(ocr_entries(), image=sample.jpeg()))
        assert response.status_code == 200, (sample.name, response.get_json())
        answers[sample.name] = response.get_json()
    return answers


def test_character_accuracy_is_at_least_95_percent(ocr_answers):
    errors = total = 0
    report = []
    for sample in OCR_CORPUS:
        expected = normalise("".join(sample.lines))
        got = normalise("".join(ocr_answers[sample.name]["ocr"]["text"]))
        if sample.rotate == 180:
            # Reading order of an upside-down page is bottom line first; compare the multiset of lines.
            got = normalise("".join(sorted(ocr_answers[sample.name]["ocr"]["text"], key=len, reverse=True)))
            expected = normalise("".join(sorted(sample.lines, key=len, reverse=True)))
        distance = edit_distance(expected, got)
        errors += distance
        total += len(expected)
        report.append(f"{sample.name}: {1 - distance / len(expected):.3f} {got!r}")
    accuracy = 1 - errors / total
    print("\n".join(report) + f"\ncharacter accuracy {accuracy:.4f} over {total} characters")
    assert len(OCR_CORPUS) >= 12
    assert accuracy >= 0.95, "\n".join(report)


def test_answer_has_the_shape_immich_parses(ocr_answers):
    for sample in OCR_CORPUS:
        answer = ocr_answers[sample.name]
        ocr = answer["ocr"]
        assert set(ocr) == {"text", "box", "boxScore", "textScore"}
        count = len(ocr["text"])
        assert count > 0, sample.name
        assert len(ocr["box"]) == 8 * count and len(ocr["boxScore"]) == count and len(ocr["textScore"]) == count
        assert all(0.0 <= value <= 1.0 for value in ocr["box"]), "boxes are normalised to the image"
        assert all(0.0 < score <= 1.0 for score in ocr["boxScore"] + ocr["textScore"])
        width, height = sample.render().size
        assert (answer["imageWidth"], answer["imageHeight"]) == (width, height), "the upright size"


def test_boxes_are_clockwise_from_top_left_and_in_reading_order(ocr_answers):
    ocr = ocr_answers["menu"]["ocr"]
    boxes = [ocr["box"][i : i + 8] for i in range(0, len(ocr["box"]), 8)]
    for x1, y1, x2, y2, x3, y3, x4, y4 in boxes:
        assert x1 < x2 and y2 < y3 and x4 < x3 and y1 < y4
    tops = [box[1] for box in boxes]
    assert tops == sorted(tops)
    assert ocr["text"][0] == "今日菜单"


def test_exif_orientation_is_applied_before_reading(ocr_answers):
    assert "万达影城" in "".join(ocr_answers["exif-rotated"]["ocr"]["text"])


def test_recognition_min_score_filters_and_detection_min_score_is_honoured(client):
    sample = OCR_CORPUS[0]
    strict = client.post("/predict", data=immich_form(ocr_entries(min_recognition=1.0), image=sample.jpeg()))
    assert strict.status_code == 200
    assert strict.get_json()["ocr"]["text"] == []
    loose = client.post("/predict", data=immich_form(ocr_entries(min_detection=0.99), image=sample.jpeg()))
    normal = client.post("/predict", data=immich_form(ocr_entries(), image=sample.jpeg()))
    assert len(loose.get_json()["ocr"]["text"]) < len(normal.get_json()["ocr"]["text"])


def test_max_resolution_is_honoured(client, registry, monkeypatch):
    from rapidocr.ch_ppocr_det import utils

    shapes = []
    original = utils.DetPreProcess.__call__

    def spy(self, image):
        batch = original(self, image)
        shapes.append(batch.shape[2:])
        return batch

    monkeypatch.setattr(utils.DetPreProcess, "__call__", spy)
    sample = OCR_CORPUS[0]
    client.post("/predict", data=immich_form(ocr_entries(max_resolution=320), image=sample.jpeg()))
    client.post("/predict", data=immich_form(ocr_entries(max_resolution=736), image=sample.jpeg()))
    assert min(shapes[0]) == 320 and min(shapes[1]) == 736


def test_images_without_text_and_tiny_images_give_empty_lists(client):
    from .support.immich_requests import jpeg_bytes

    for data in (jpeg_bytes(), jpeg_bytes(size=(20, 20))):
        response = client.post("/predict", data=immich_form(ocr_entries(), image=data))
        assert response.status_code == 200
        assert response.get_json()["ocr"] == {"text": [], "box": [], "boxScore": [], "textScore": []}


def test_language_prefixed_chinese_name_is_served_locally(client):
    response = client.post("/predict", data=immich_form(ocr_entries("CH__PP-OCRv5_server"), image=OCR_CORPUS[1].jpeg()))
    assert response.status_code == 200 and response.get_json()["ocr"]["text"]


def test_root_says_which_model_answers_immichs_ocr_names(client, ocr_answers):
    described = client.get("/").get_json()["models"]["ocr/rapidocr"]
    assert "PP-OCRv5_mobile" in described["answers"] and "PP-OCRv5_server" in described["answers"]
    assert described["weights"].startswith("PP-OCRv6 small")  # the rapidocr wheel's bundled models


def test_model_dir_replaces_the_bundled_models(tmp_path):
    """AIO_OCR_MODEL_DIR: det.onnx, rec.onnx, cls.onnx of the operator's choice answer instead."""
    import io
    import shutil
    from pathlib import Path

    import rapidocr
    from PIL import Image

    from sidecar.errors import ModelUnavailable
    from sidecar.models.ocr import RapidOcrModel

    bundled = Path(rapidocr.__file__).parent / "models"
    with pytest.raises(ModelUnavailable, match="det.onnx"):
        RapidOcrModel(tmp_path).load()
    for target, source in (
        ("det.onnx", "PP-OCRv6_det_small.onnx"),
        ("rec.onnx", "PP-OCRv6_rec_small.onnx"),
        ("cls.onnx", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
    ):
        shutil.copy(bundled / source, tmp_path / target)
    custom = RapidOcrModel(tmp_path).load()
    assert str(tmp_path) in custom.weights
    image = Image.open(io.BytesIO(OCR_CORPUS[0].jpeg())).convert("RGB")
    expected = RapidOcrModel().load().predict(image, 0.5, 0.8, 736)
    got = custom.predict(image, 0.5, 0.8, 736)
    assert got.text == expected.text and got.text


# --- small text (AIO_OCR_SMALL_TEXT) and vertical text: tests/support/ocr_small_text_set.py -------------------
# Photos of the set that the setting off reads with character recall below 0.97 (0.94, 0.93, 0.89 when measured).
SMALL_TEXT_PHOTOS = ("small-02", "small-14", "tiny-02")


@pytest.fixture(scope="module")
def rapid_ocr(registry):
    model = registry.ocr()
    assert model.small_text, "AIO_OCR_SMALL_TEXT is on by default"
    return model


@pytest.fixture(scope="module")
def small_text_photos():
    from .support.ocr_small_text_set import render

    return [render(name) for name in SMALL_TEXT_PHOTOS]


@pytest.fixture()
def pipeline_spy(monkeypatch):
    """What each predict ran on: the shapes (height, width) of the images detection was given, and of the
    images recognition's crops were cut from."""
    from rapidocr.ch_ppocr_det import utils
    from rapidocr.utils import process_img

    seen: dict[str, list[tuple[int, int]]] = {"detected": [], "cropped from": []}
    detect, crop = utils.DetPreProcess.__call__, process_img.get_rotate_crop_image

    def spy_detect(self, image):
        seen["detected"].append(image.shape[:2])
        return detect(self, image)

    def spy_crop(image, points):
        seen["cropped from"].append(image.shape[:2])
        return crop(image, points)

    monkeypatch.setattr(utils.DetPreProcess, "__call__", spy_detect)
    monkeypatch.setattr(process_img, "get_rotate_crop_image", spy_crop)
    return seen


def test_small_text_is_read_at_immichs_default_request(rapid_ocr, small_text_photos):
    from .support.ocr_small_text_set import character_recall

    for photo in small_text_photos:
        result = rapid_ocr.predict(photo.image(), 0.5, 0.8, 736)
        recall = character_recall(photo.lines, result.text)
        assert recall >= 0.97, (photo.name, recall, result.text)
        assert (result.box_score >= 0.5).all() and (result.text_score > 0.8).all(), "Immich's meaning of the scores"


def test_small_text_off_is_one_detection_pass_read_from_the_downscale(
    rapid_ocr, small_text_photos, pipeline_spy, monkeypatch
):
    from .support.ocr_small_text_set import character_recall

    landscape = next(photo for photo in small_text_photos if photo.image().size == (1440, 1080))
    downscaled = (736, 981)  # 1440x1080 with its short side brought to maxResolution

    rapid_ocr.predict(landscape.image(), 0.5, 0.8, 736)
    assert len(pipeline_spy["detected"]) > 1, "on: detected again where the text is small"
    assert pipeline_spy["detected"][0] == downscaled and set(pipeline_spy["cropped from"]) == {(1080, 1440)}

    monkeypatch.setattr(rapid_ocr, "small_text", False)
    recalls = []
    for photo in small_text_photos:
        for seen in pipeline_spy.values():
            seen.clear()
        result = rapid_ocr.predict(photo.image(), 0.5, 0.8, 736)
        height, width = pipeline_spy["detected"][0]
        assert len(pipeline_spy["detected"]) == 1 and min(height, width) == 736, "one pass at maxResolution"
        assert set(pipeline_spy["cropped from"]) == {(height, width)}, "lines read from the downscale"
        recalls.append(character_recall(photo.lines, result.text))
    assert sum(recalls) / len(recalls) < 0.97, f"these photos show what the setting is for: {recalls}"


def test_photos_without_text_give_nothing(rapid_ocr):
    from .support.ocr_small_text_set import render

    for name in ("no-text-00", "no-text-01", "no-text-02"):  # windows of a facade, branches, dotted fabric
        result = rapid_ocr.predict(render(name).image(), 0.5, 0.8, 736)
        assert result.text == [] and result.box.shape == (0, 8), (name, result.text)


@pytest.mark.parametrize("size", [(1440, 1080), (1080, 1440)])
def test_boxes_are_normalised_to_the_photo_immich_sent(client, size):
    """Small lines (found again at the photo's resolution) and a large one (found by the first pass alone) at
    known places: each box lies where its line was drawn, as a share of the photo's width and height."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    from .support.ocr_small_text_set import character_recall

    width, height = size
    image = Image.new("RGB", size, (214, 208, 196))
    draw = ImageDraw.Draw(image)
    lines = {
        "营业时间 09:00-21:00": (0.08, 0.10, 0.015),  # left, top (shares of the photo), character height
        "联系电话 021-6888 1234": (0.55, 0.45, 0.015),
        "停车收费标准 每小时5元": (0.30, 0.88, 0.016),
        "欢迎光临": (0.10, 0.60, 0.06),
    }
    drawn = {}
    for text, (left, top, share) in lines.items():
        font = ImageFont.truetype(str(font_path()), round(share * height))
        position = (round(left * width), round(top * height))
        draw.text(position, text, fill=(60, 56, 50), font=font)
        x0, y0, x1, y1 = draw.textbbox(position, text, font=font)
        drawn[text] = (x0 / width, y0 / height, x1 / width, y1 / height)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)

    response = client.post("/predict", data=immich_form(ocr_entries(), image=buffer.getvalue()))
    answer = response.get_json()
    assert (answer["imageWidth"], answer["imageHeight"]) == size
    ocr = answer["ocr"]
    assert all(0.0 <= value <= 1.0 for value in ocr["box"])
    assert character_recall(tuple(lines), ocr["text"]) >= 0.97, ocr["text"]
    for index, text in enumerate(ocr["text"]):
        xs, ys = ocr["box"][8 * index : 8 * index + 8 : 2], ocr["box"][8 * index + 1 : 8 * index + 8 : 2]
        centre = (sum(xs) / 4, sum(ys) / 4)
        line = max(drawn, key=lambda candidate: character_recall((candidate,), [text]))
        x0, y0, x1, y1 = drawn[line]
        assert x0 < centre[0] < x1 and y0 < centre[1] < y1, (text, centre, line, drawn[line])
        assert min(xs) > x0 - 0.03 and max(xs) < x1 + 0.03 and min(ys) > y0 - 0.03 and max(ys) < y1 + 0.03


def test_root_says_whether_small_text_is_read(client, base_settings, registry, monkeypatch):
    from dataclasses import replace

    from sidecar.app import create_app
    from sidecar.config import Settings
    from sidecar.models.ocr import RapidOcrModel
    from sidecar.models.registry import _rapid_ocr

    assert Settings.from_env({}).ocr_small_text is True
    assert Settings.from_env({"AIO_OCR_SMALL_TEXT": "false"}).ocr_small_text is False
    assert client.get("/").get_json()["ocr_small_text"] is True
    off = replace(base_settings, ocr_small_text=False)
    assert create_app(off, registry).test_client().get("/").get_json()["ocr_small_text"] is False
    monkeypatch.setattr(RapidOcrModel, "load", lambda model: model)  # what the registry builds, unloaded
    assert _rapid_ocr(off).small_text is False and _rapid_ocr(base_settings).small_text is True


# --- reading order ------------------------------------------------------------------------------------------
def _rect(x0: float, y0: float, x1: float, y1: float):
    import numpy as np

    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _read(boxes: dict[str, tuple], shuffle_seed: int = 7, with_texts: bool = True) -> list[str]:
    """The texts of `boxes` (text -> rectangle) in the order `_reading_order` gives, from a shuffled start."""
    import random

    from sidecar.models.ocr import _reading_order

    texts = list(boxes)
    random.Random(shuffle_seed).shuffle(texts)
    order = _reading_order([_rect(*boxes[text]) for text in texts], texts if with_texts else None)
    return [texts[i] for i in order]


def test_vertical_columns_are_read_right_to_left_each_top_to_bottom():
    columns = {
        "第三列文字": (100, 50, 140, 400),
        "第二列上": (200, 50, 240, 200),
        "第二列下": (200, 250, 240, 400),  # the same column, after a gap
        "第一列文字": (300, 50, 340, 400),
    }
    for seed in range(5):
        assert _read(columns, seed) == ["第一列文字", "第二列上", "第二列下", "第三列文字"]


def test_a_mixed_page_is_read_title_column_first_then_its_lines():
    page = {
        "营业时间九点": (800, 50, 850, 500),  # a vertical title at the right
        "生产日期 小心地滑": (100, 60, 500, 90),
        "产品型号 96号": (100, 120, 420, 150),
        "出口 13:00": (100, 180, 380, 210),
    }
    assert _read(page) == ["营业时间九点", "生产日期 小心地滑", "产品型号 96号", "出口 13:00"]
    sign = {  # columns of a sign above a horizontal caption
        "左列": (100, 50, 140, 300),
        "右列": (200, 50, 240, 300),
        "caption 说明": (80, 350, 260, 380),
    }
    assert _read(sign) == ["右列", "左列", "caption 说明"]


def test_horizontal_lines_are_read_top_to_bottom_each_left_to_right():
    page = {
        "right word": (300, 100, 500, 140),
        "left word": (100, 112, 280, 152),  # the same line, photographed askew: its top 12 px lower
        "second line": (100, 200, 500, 240),
        "third": (100, 300, 200, 340),
    }
    assert _read(page) == ["left word", "right word", "second line", "third"]


def test_a_lone_tall_character_is_no_column():
    line = {"营业时间": (100, 100, 400, 130), "1": (420, 95, 432, 135)}  # a "1" is as tall as three times wide
    assert _read(line) == ["营业时间", "1"]
    assert _read(line, with_texts=False) == ["1", "营业时间"], "without its text, a tall box is a column"


@pytest.mark.parametrize("name", ["vertical-04", "mixed-07"])
def test_rendered_vertical_text_is_read_in_its_order(client, name):
    """Columns right to left and each top to bottom; on the mixed page the title column, then the lines. A
    phrase that runs down a column is found in the text Immich stores, as a search for it would."""
    from .support.ocr_small_text_set import character_recall, plain_text, render

    photo = render(name)
    assert len(photo.lines) >= 4
    response = client.post("/predict", data=immich_form(ocr_entries(), image=photo.jpeg))
    read = response.get_json()["ocr"]["text"]
    assert character_recall(photo.lines, read, ordered=True) >= 0.95, (photo.lines, read)
    stored = plain_text("".join(read))
    columns = photo.lines if name.startswith("vertical") else photo.lines[:1]
    for column in columns:
        assert plain_text(column) in stored, (column, read)
