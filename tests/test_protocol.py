import json

import numpy as np
import pytest

from sidecar.errors import UnprocessableRequest
from sidecar.protocol import option_number, parse_entries, serialize_embedding

from .support.immich_requests import clip_textual, face_entries, ocr_entries


def test_parses_every_immich_request_shape():
    for entries in (clip_textual("cn-clip-ViT-B-16"), ocr_entries(), face_entries()):
        parsed = parse_entries(json.dumps(entries))
        assert parsed.raw == entries
        assert parsed.tasks == list(entries)
    ocr = parse_entries(json.dumps(ocr_entries())).by_task["ocr"]
    assert {e.type for e in ocr} == {"detection", "recognition"}
    assert ocr[0].options == {"minScore": 0.5, "maxResolution": 736}


def test_subset_keeps_the_original_json_of_the_chosen_tasks():
    entries = {**clip_textual("cn-clip-RN50"), **face_entries()}
    parsed = parse_entries(json.dumps(entries))
    assert parsed.subset(["facial-recognition"]) == face_entries()


@pytest.mark.parametrize(
    "text, fragment",
    [
        (None, "missing form field 'entries'"),
        ("", "missing form field 'entries'"),
        ("{not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ('{"clip": []}', "entries.clip must be a non-empty object"),
        ('{"clip": {"visual": "ViT"}}', "must be an object with 'modelName'"),
        (
            '{"clip": {"visual": {"model_name": "x"}}}',
            "modelName must be a non-empty string (found keys ['model_name'])",
        ),
        ('{"clip": {"visual": {"modelName": "  "}}}', "modelName must be a non-empty string"),
        ('{"clip": {"pictorial": {"modelName": "x"}}}', "unknown type for task 'clip'"),
        ('{"ocr": {"detection": {"modelName": "x", "options": [1]}}}', "options must be an object"),
        ("[" * 100000, "not valid JSON"),
    ],
)
def test_malformed_entries_name_what_is_wrong(text, fragment):
    with pytest.raises(UnprocessableRequest) as caught:
        parse_entries(text)
    assert fragment in caught.value.message


def test_unknown_tasks_are_accepted_for_forwarding():
    parsed = parse_entries('{"future-task": {"anything": {"modelName": "m"}}}')
    assert parsed.tasks == ["future-task"]


@pytest.mark.parametrize("value", ["0.5", True, float("nan"), 2.0, -1])
def test_option_numbers_are_checked(value):
    entry = parse_entries(json.dumps(ocr_entries())).by_task["ocr"][0]
    entry = type(entry)(entry.task, entry.type, entry.model_name, {"minScore": value})
    with pytest.raises(UnprocessableRequest):
        option_number(entry, "minScore", 0.5, 0.0, 1.0)


def test_embedding_serialises_as_a_json_array_string_with_float32_values():
    values = np.array([0.1, -0.25, 1e-8], dtype=np.float32)
    text = serialize_embedding(values)
    assert text.startswith("[") and text.endswith("]")
    assert np.allclose(np.array(json.loads(text), dtype=np.float32), values)
    with pytest.raises(ValueError):
        serialize_embedding(np.array([np.nan], dtype=np.float32))


def test_ping_and_predict_answer_under_a_path_prefix(client):
    """Immich v3 joins `ping` and `predict` to each ML URL relatively: http://host/ml/ asks /ml/predict."""
    from .support.immich_requests import clip_textual, immich_form

    assert client.get("/ml/ping").get_data(as_text=True) == "pong"
    assert client.get("/a/b/ping").status_code == 200
    plain = client.post("/predict", data=immich_form(clip_textual("cn-clip-RN50"), text="海边的日落"))
    prefixed = client.post("/ml/predict", data=immich_form(clip_textual("cn-clip-RN50"), text="海边的日落"))
    assert prefixed.status_code == 200 and prefixed.get_json() == plain.get_json()
    assert client.post("/ml/nothing").status_code == 404
