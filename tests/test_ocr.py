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
