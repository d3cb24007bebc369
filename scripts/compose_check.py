#!/usr/bin/env python3
"""The compose stack, checked as a user meets it (issue 23): against the running stack of
docker-compose.yml (scripts/compose_podman.py up), through Immich's API only:

  sign up; choose cn-clip and PP-OCRv5; upload photos with Simplified and Traditional Chinese text and
  photos without text; wait for Immich's jobs; find them with `ocr:` in both scripts (each finds the
  other script's photo too) and with a cn-clip smart search; check that face detection reached the
  immich-machine-learning stand-in through the sidecar's proxy (its request counter moved).

    scripts/compose_check.py upload URL ML_URL     signs up, uploads, waits, checks; prints the asset ids
    scripts/compose_check.py search URL            logs in again, checks the same searches (after a restart)

Needs the project's Python environment (requests, Pillow, the CJK font of tests/support/imagegen.py).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.e2e_client import (  # noqa: E402
    EMAIL,
    PASSWORD,
    metadata_search,
    names_of,
    sign_up_admin,
    smart_search,
    upload,
    wait_for_jobs,
)

LIBRARY: dict[str, tuple[str, ...] | None] = {
    "invoice-simplified": ("上海增值税电子普通发票", "发票号码 12345678", "合计 128.00元"),
    "library-traditional": ("臺北市立圖書館", "開放時間 上午九點"),
    "sign-park": ("世纪公园", "东门入口"),
    "photo-1": None,
    "photo-2": None,
}
# query -> the photos it must find (Simplified and Traditional Chinese are one for `ocr:`)
OCR_SEARCHES = {
    "ocr:发票": ["invoice-simplified"],
    "ocr:發票": ["invoice-simplified"],
    "ocr:圖書館": ["library-traditional"],
    "ocr:图书馆": ["library-traditional"],
    "ocr:公园": ["sign-park"],
}
STATE = Path(".test-artifacts/compose-check.json")


class Api:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + "/api" + path, headers=headers, timeout=120, **kwargs)


def check_searches(stack: Api, token: str, ids: dict[str, str]) -> None:
    for query, wanted in OCR_SEARCHES.items():
        by_prefix = names_of(ids, smart_search(stack, token, query))
        by_metadata = names_of(ids, metadata_search(stack, token, ocr=query.removeprefix("ocr:")))
        assert by_prefix == wanted and by_metadata == wanted, (query, by_prefix, by_metadata)
        print(f"compose_check: {query} -> {by_prefix}", flush=True)
    # cn-clip smart search: random weights, so no order is meaningful; every photo has an embedding.
    found = names_of(ids, smart_search(stack, token, "海边的日落"))
    assert set(found) == set(LIBRARY), found
    print(f"compose_check: smart search 海边的日落 -> {len(found)} photos (cn-clip, random weights)", flush=True)


def upload_and_check(url: str, ml_url: str) -> None:
    stack = Api(url)
    started = time.monotonic()
    token, _ = sign_up_admin(stack)
    faces_before = requests.get(f"{ml_url}/aio-standin/requests", timeout=10).json()["predict"]
    ids = upload(stack, token, LIBRARY, device="compose-check")
    wait_for_jobs(stack, token)
    print(f"compose_check: uploaded {len(ids)} photos, jobs done in {time.monotonic() - started:.0f} s", flush=True)
    check_searches(stack, token, ids)
    faces = requests.get(f"{ml_url}/aio-standin/requests", timeout=10).json()["predict"] - faces_before
    assert faces >= len(LIBRARY), f"immich-machine-learning got {faces} face requests for {len(LIBRARY)} photos"
    print(f"compose_check: immich-machine-learning answered {faces} face requests through the sidecar", flush=True)
    STATE.parent.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(ids))


def search_again(url: str) -> None:
    stack = Api(url)
    ids = json.loads(STATE.read_text())
    token = stack.api("POST", "/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["accessToken"]
    check_searches(stack, token, ids)


if __name__ == "__main__":
    if sys.argv[1:2] == ["upload"] and len(sys.argv) == 4:
        upload_and_check(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["search"] and len(sys.argv) == 3:
        search_again(sys.argv[2])
    else:
        sys.exit(__doc__)
