"""Tier "e2e": the patched Immich (v2.4.1 and v3.1.0) with the sidecar and the aio schema, driven as a user
drives it.

Through the public API: admin sign-up, upload of a library of generated photos with Chinese text,
waiting for Immich's jobs, then OCR, combined, phrase, exclusion, hybrid and hostile searches,
refresh-ocr for one asset (seen at the sidecar) and deletion. Through headless Chromium: log in,
search `ocr:发票`, open a photo, "Regenerate OCR". Needs the Immich source (scripts/immich_build.sh gets it),
Redis and Chromium; skips loudly without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from .support import ocr_small_text_set
from .support.e2e_client import (
    CLIP_MODEL,
    EMAIL,
    PASSWORD,
    metadata_search,
    names_of,
    sign_up_admin,
    smart_search,
    upload,
    wait_for_jobs,
)
from .support.immich_native import ROOT, build_immich, node_env

pytestmark = [pytest.mark.immich, pytest.mark.postgres]


# The fixture library: name -> OCR lines (top to bottom); None is a photo without text.
LIBRARY: dict[str, tuple[str, ...] | None] = {
    "invoice-vat": ("上海增值税电子普通发票", "发票代码 031001900111", "发票号码 12345678", "合计 128.00元"),
    "invoice-special": ("增值税专用发票", "开票日期 2024年5月1日", "金额 3560.00"),
    "receipt-market": ("华联超市 购物小票", "如需发票请到服务台开具", "谢谢惠顾"),
    "sign-hospital": ("复旦大学附属华山医院", "门诊大楼"),
    "sign-park": ("世纪公园", "东门入口"),
    "sign-shop": ("老王烧烤 营业中", "欢迎光临"),
    "menu-sichuan": ("川菜馆菜单", "宫保鸡丁 38元", "麻婆豆腐 26元", "水煮鱼 68元"),
    "menu-cafe": ("街角咖啡厅", "拿铁 32元", "美式咖啡 28元"),
    "ticket-train": ("火车票", "上海南站 至 杭州东站", "G1234次 二等座"),
    "ticket-movie": ("星光影城 电影票", "3号厅 7排8座"),
    "ticket-plane": ("登机牌 BOARDING PASS", "浦东国际机场 T2", "航班 MU5101"),
    "doc-contract": ("劳动合同", "甲方 上海星辰科技有限公司", "乙方 张伟"),
    "doc-notice": ("停水通知", "本小区明日9点至17点停水"),
    "doc-exam": ("生物学期末考试", "第一题 简述细胞结构"),
    "sign-station": ("上海南站", "地铁1号线 3号线"),
    "wifi-card": ("WiFi 密码 immich2024", "网络名称 Home-5G"),
    "express": ("顺丰速运", "运单号 SF1234567890"),
    "mixed-en": ("Welcome to Shanghai 欢迎来到上海", "Open 9:00-21:00"),
    "sign-library-hant": ("臺北市立圖書館", "開放時間 09:00-21:00"),
    "sign-parking": ("停车场入口", "收费标准 每小时5元"),
    "video-party": ("公司年会节目单", "抽奖环节 20:00"),  # a short video (ffmpeg), its frames showing the text
    # Text 1.3-1.5 % of the photo's height, blurred, askew, low contrast (issue 22): a 1080x1440 preview
    "smalltext-tiny-15": ocr_small_text_set.render("tiny-15").lines,
    "photo-1": None,
    "photo-2": None,
    "photo-3": None,
    "photo-4": None,
}
HOSTILE = [
    '"',
    '"""',
    "OR",
    "-",
    "--",
    "- -发票",
    "!!!",
    "(发票",
    "发票)",
    "'; DROP TABLE asset; --",
    "🎉🎉",
    "\\",
    "&|!:*<->",
    "%%%",
    "发票 OR OR",
    "a" * 600,
    "ocr:",
    "　",
    "\u0000x",
]
# OCR text that reads like markup: put into sign-parking's OCR box as if OCR had read it off a poster.
PAYLOAD = '<img src=x onerror="window.aioXss=1;alert(1)"> 停车场入口 <script>window.aioXss=2</script>'


@pytest.fixture(scope="module", params=["2.4.1", "3.1.0"])
def stack(request, checkpoint_dir):
    for tool, package in (("redis-server", "redis-server"), ("chromium", "chromium"), ("ffmpeg", "ffmpeg")):
        if shutil.which(tool) is None:
            pytest.skip(f"e2e tier SKIPPED: {tool} is not installed (apt-get install {package})")
    work, reason = build_immich("--patched", "--web", version=request.param)
    if work is None:
        pytest.skip(f"e2e tier SKIPPED for v{request.param}: {reason}")
    from .support.e2e_stack import Stack

    # v3.1.0 resolves its ML requests relative to the URL: it gets one with a path, as behind a proxy.
    stack = Stack(work, checkpoint_dir, CLIP_MODEL, "" if request.param == "2.4.1" else "/immich-ml/").start()
    stack.version = request.param
    try:
        yield stack
    finally:
        keep = ROOT / "test-results" / "e2e" / work.name
        keep.mkdir(parents=True, exist_ok=True)
        for log in stack.logs.glob("*.log"):  # next to the screenshots, for whoever reads a failure
            shutil.copy(log, keep / log.name)
        stack.close()


@pytest.fixture(scope="module")
def library(stack):
    """Admin signed up, models chosen, the library uploaded and every job finished: name -> asset id."""
    token, config = sign_up_admin(stack)
    assert config["machineLearning"]["hybridSearch"] == {"enabled": True, "clipWeight": 1, "ocrWeight": 1}
    ids = upload(stack, token, LIBRARY, "e2e")
    wait_for_jobs(stack, token)
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        changed = conn.execute(
            """UPDATE asset_ocr SET text = %s WHERE "assetId" = %s AND text LIKE '%%停车场%%'""",
            (PAYLOAD, ids["sign-parking"]),
        ).rowcount
    assert changed == 1, "OCR did not read the parking sign's first line"
    return token, ids


def test_every_photo_with_text_has_its_ocr_document(stack, library):
    _, ids = library
    with psycopg.connect(stack.db_url) as conn:
        bodies = dict(conn.execute("SELECT asset_id::text, body FROM aio.ocr_document").fetchall())
    with_text = {name for name, lines in LIBRARY.items() if lines}
    assert {name for name in with_text if ids[name] in bodies} == with_text
    assert "发票" in bodies[ids["invoice-vat"]] and "华山医院" in bodies[ids["sign-hospital"]]
    assert not any(ids[name] in bodies for name, lines in LIBRARY.items() if lines is None)


def test_ocr_search_finds_exactly_the_invoices_best_first(stack, library):
    token, ids = library
    expected = {"invoice-vat", "invoice-special", "receipt-market"}
    by_metadata = names_of(ids, metadata_search(stack, token, ocr="发票"))
    by_prefix = names_of(ids, smart_search(stack, token, "ocr:发票"))  # the server understands the prefix
    for found in (by_metadata, by_prefix):
        assert set(found) == expected
        assert found[0] == "invoice-vat"  # three mentions of 发票 beat one
    assert by_metadata == by_prefix
    # Each match comes with the OCR lines that matched, the word marked.
    snippets = stack.api("POST", "/search/metadata", token, json={"ocr": "发票"}).json()["assets"]["ocrSnippets"]
    assert set(snippets) == {ids[name] for name in expected}
    assert "<b>发票</b>" in snippets[ids["receipt-market"]] and "如需" in snippets[ids["receipt-market"]]


def test_words_inside_compounds_and_bigram_coincidences(stack, library):
    token, ids = library
    assert names_of(ids, metadata_search(stack, token, ocr="医院")) == ["sign-hospital"]
    assert names_of(ids, metadata_search(stack, token, ocr="公园")) == ["sign-park"]
    if stack.search_mode == "zhparser":
        assert names_of(ids, metadata_search(stack, token, ocr="海南")) == []  # not 上海南站


def test_combined_context_and_ocr_term(stack, library):
    token, ids = library
    found = names_of(ids, smart_search(stack, token, "海边 ocr:发票"))
    assert set(found) == {"invoice-vat", "invoice-special", "receipt-market"}


def test_phrase_and_exclusion(stack, library):
    token, ids = library
    assert names_of(ids, smart_search(stack, token, 'ocr:"电子普通发票"')) == ["invoice-vat"]
    assert names_of(ids, smart_search(stack, token, "ocr:发票 -增值税")) == ["receipt-market"]


def test_hybrid_search_lifts_the_photo_whose_text_matches(stack, library):
    token, ids = library
    hybrid = names_of(ids, smart_search(stack, token, "火车票"))
    config = stack.api("GET", "/system-config", token).json()
    config["machineLearning"]["hybridSearch"]["enabled"] = False
    assert stack.api("PUT", "/system-config", token, json=config).ok
    try:
        clip_only = names_of(ids, smart_search(stack, token, "火车票"))
    finally:
        config["machineLearning"]["hybridSearch"]["enabled"] = True
        assert stack.api("PUT", "/system-config", token, json=config).ok
    assert hybrid[0] == "ticket-train"
    assert hybrid.index("ticket-train") <= clip_only.index("ticket-train")
    assert set(hybrid) == set(clip_only)  # fusion reorders; it neither loses nor invents photos


def test_hostile_input_never_errors(stack, library):
    token, _ = library
    for text in HOSTILE:
        for path, body in (
            ("/search/metadata", {"ocr": text}),
            ("/search/smart", {"query": f"ocr:{text}"}),
            ("/search/smart", {"query": text}),
        ):
            response = stack.api("POST", path, token, json=body)
            # 400 only where Immich's own validation refuses the shape (an empty term); never a 5xx.
            assert response.status_code in (200, 400), (path, text, response.status_code, response.text[:300])
            if response.status_code == 200:
                assert isinstance(response.json()["assets"]["items"], list)


def test_refresh_ocr_reruns_ocr_for_that_asset_alone(stack, library):
    token, ids = library
    before = stack.sidecar_requests("ocr")
    response = stack.api("POST", "/assets/jobs", token, json={"assetIds": [ids["sign-shop"]], "name": "refresh-ocr"})
    assert response.status_code == 204, response.text
    wait_for_jobs(stack, token)
    assert stack.sidecar_requests("ocr") - before == 1
    assert names_of(ids, metadata_search(stack, token, ocr="烧烤")) == ["sign-shop"]


def test_refresh_jobs_check_access(stack, library):
    token, ids = library
    response = stack.api(
        "POST",
        "/assets/jobs",
        token,
        json={"assetIds": ["00000000-0000-4000-8000-000000000000"], "name": "refresh-smart-search"},
    )
    assert response.status_code == 400


def test_browser_search_and_regenerate_ocr(stack, library):
    token, ids = library
    shots = ROOT / "test-results" / "e2e" / stack.immich.name
    shots.mkdir(parents=True, exist_ok=True)
    toolchain = Path(node_env()["PATH"].split(os.pathsep)[0]).parent
    before = stack.sidecar_requests("ocr")
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests" / "support" / "e2e_browser.mjs"),
            str(toolchain),
            stack.url,
            EMAIL,
            PASSWORD,
            str(shots),
            "3",
        ],
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
    assert result.returncode == 0, (
        f"{summary.get('error')}\ntoasts seen: {summary.get('toasts')}\n{result.stderr[-3000:]}\nscreenshots in {shots}"
    )
    assert "ocr" in summary["searchUrl"] and "发票" in summary["searchUrl"]
    assert names_of(ids, [{"id": i} for i in summary["thumbnails"]])[0] == "invoice-vat"
    assert set(names_of(ids, [{"id": i} for i in summary["thumbnails"]])) == {
        "invoice-vat",
        "invoice-special",
        "receipt-market",
    }
    assert summary["jobStatus"] == 204
    assert summary["jobRequest"] == {"assetIds": [summary["thumbnails"][0]], "name": "refresh-ocr"}
    assert summary["toasts"] == ["Regenerating OCR"]
    wait_for_jobs(stack, token)
    assert stack.sidecar_requests("ocr") - before == 1  # the opened photo's OCR ran again
    assert (shots / "2-search-ocr-invoice.png").is_file() and (shots / "3-regenerate-ocr-toast.png").is_file()


def test_deleting_an_asset_removes_its_ocr_document(stack, library):
    token, ids = library
    asset = ids["doc-notice"]
    response = stack.api("DELETE", "/assets", token, json={"ids": [asset], "force": True})
    assert response.status_code == 204, response.text
    wait_for_jobs(stack, token)
    deadline = time.monotonic() + 60
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            left = conn.execute("SELECT count(*) FROM aio.ocr_document WHERE asset_id = %s", (asset,)).fetchone()[0]
            if left == 0:
                break
            time.sleep(1)
    assert left == 0
    assert metadata_search(stack, token, ocr="停水") == []


def test_faces_went_to_the_upstream(stack, library):
    assert stack.faces.requests >= sum(1 for lines in LIBRARY.values()) - 1  # every photo's face detection


def test_every_ml_request_reached_the_sidecar(stack, library):
    """CLIP (visual at upload, textual at search), OCR and health checks through the sidecar, faces through
    it to the upstream; for v3.1.0 all of it under the ML URL's path."""
    assert stack.sidecar_requests("clip") >= sum(1 for _ in LIBRARY) and stack.sidecar_requests("ocr") >= 1
    log = (stack.logs / f"{stack.immich.name}.log").read_text(errors="replace")
    assert "Machine learning server became unhealthy" not in log


# --- why each photo matched (issue 20; the API and web of the v3.1.0 series) ----------------------------------


def ocr_answer(stack, token, ocr: str) -> dict:
    response = stack.api("POST", "/search/metadata", token, json={"ocr": ocr})
    assert response.status_code == 200, response.text
    return response.json()["assets"]


def marked(match: dict) -> list[str]:
    return [match["text"][start:end] for start, end in match["ranges"]]


def test_ocr_text_that_reads_like_markup_comes_back_inert(stack, library):
    token, ids = library
    answer = ocr_answer(stack, token, "停车场")
    assert names_of(ids, answer["items"]) == ["sign-parking"]
    snippet = answer["ocrSnippets"][ids["sign-parking"]]  # both series: the HTML form escaped (aio 0008)
    assert "&lt;img src=x" in snippet and "&lt;script&gt;" in snippet and "<b>停车场</b>" in snippet
    assert snippet.replace("<b>", "").replace("</b>", "").count("<") == 0
    if stack.version != "2.4.1":
        [match] = answer["ocrMatches"][ids["sign-parking"]]
        assert match["text"] == PAYLOAD and marked(match) == ["停车场"]  # plain text, as the photo has it


@pytest.mark.only_series("3.1.0")
def test_matched_lines_are_the_photos_own_text(stack, library):
    token, ids = library
    answer = ocr_answer(stack, token, "图书馆")
    assert names_of(ids, answer["items"]) == ["sign-library-hant"]
    [match] = answer["ocrMatches"][ids["sign-library-hant"]]
    assert "圖書館" in match["text"] and marked(match) == ["圖書館"]
    invoices = ocr_answer(stack, token, "发票")["ocrMatches"]
    assert all("发票" in marked(match) for matches in invoices.values() for match in matches)


@pytest.mark.only_series("3.1.0")
def test_the_matched_boxes_of_a_photo(stack, library):
    token, ids = library
    with psycopg.connect(stack.db_url) as conn:
        boxes = dict(
            conn.execute('SELECT id::text, text FROM asset_ocr WHERE "assetId" = %s', (ids["sign-library-hant"],))
        )
    answer = stack.api("GET", "/search/ocr-boxes", token, params={"id": ids["sign-library-hant"], "query": "图书馆"})
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["boxIds"]) == sorted(i for i, text in boxes.items() if "圖書館" in text)
    assert len(boxes) > len(answer.json()["boxIds"]) > 0
    for query in ("！？。，", "海边", '"\\'):
        none = stack.api("GET", "/search/ocr-boxes", token, params={"id": ids["sign-library-hant"], "query": query})
        assert none.status_code == 200 and none.json()["boxIds"] == [], (query, none.text)
    other = stack.api(
        "GET", "/search/ocr-boxes", token, params={"id": "00000000-0000-4000-8000-000000000000", "query": "x"}
    )
    assert other.status_code == 400


@pytest.mark.only_series("3.1.0")
def test_hybrid_results_say_which_list_found_them(stack, library):
    token, ids = library
    response = stack.api("POST", "/search/smart", token, json={"query": "火车票"})
    assets = response.json()["assets"]
    by = {name: assets["matchedBy"][ids[name]] for name in names_of(ids, assets["items"])}
    assert by["ticket-train"] in ("text", "both") and by["photo-1"] == "picture"
    assert set(assets["ocrMatches"]) == {ids[name] for name, found in by.items() if found != "picture"}


def test_small_text_is_read_at_immichs_default_request(stack, library):
    """Issue 22: Immich asks OCR for its default maxResolution (736); the sidecar still reads the small print."""
    token, ids = library
    with psycopg.connect(stack.db_url) as conn:
        read = [
            row[0]
            for row in conn.execute('SELECT text FROM asset_ocr WHERE "assetId" = %s', (ids["smalltext-tiny-15"],))
        ]
    assert ocr_small_text_set.character_recall(LIBRARY["smalltext-tiny-15"], read) >= 0.9, read
    # Words of its lines, top to bottom; 营业时间 finds its Traditional 營業時間.
    for query in ("消防通道", "收银台", "产品型号", "营业时间"):
        assert names_of(ids, metadata_search(stack, token, ocr=query)) == ["smalltext-tiny-15"], query


def test_a_query_of_punctuation_is_an_ordinary_empty_result(stack, library):
    token, _ = library
    for query in ("！？。，、", "...", "()"):
        answer = ocr_answer(stack, token, query)
        assert answer["items"] == [] and not answer.get("ocrMatches"), query


def test_a_video_is_found_by_the_text_in_its_frames_and_regenerated(stack, library):
    token, ids = library
    answer = ocr_answer(stack, token, "节目单")
    assert names_of(ids, answer["items"]) == ["video-party"]
    assert answer["items"][0]["type"] == "VIDEO"
    if stack.version != "2.4.1":
        [match] = answer["ocrMatches"][ids["video-party"]]
        assert marked(match) == ["节目单"]
    for job, task in (("refresh-ocr", "ocr"), ("refresh-smart-search", "clip")):
        before = stack.sidecar_requests(task)
        response = stack.api("POST", "/assets/jobs", token, json={"assetIds": [ids["video-party"]], "name": job})
        assert response.status_code == 204, response.text
        wait_for_jobs(stack, token)
        assert stack.sidecar_requests(task) - before >= 1, job
    assert names_of(ids, metadata_search(stack, token, ocr="节目单")) == ["video-party"]


@pytest.mark.only_series("3.1.0")
def test_browser_shows_why_each_photo_matched(stack, library):
    """Chromium on the results grid and the viewer: DOM and geometry, a screenshot of each step."""
    token, ids = library
    shots = ROOT / "test-results" / "e2e" / stack.immich.name
    shots.mkdir(parents=True, exist_ok=True)
    toolchain = Path(node_env()["PATH"].split(os.pathsep)[0]).parent
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "support" / "e2e_matches.mjs"), str(toolchain), stack.url, EMAIL, PASSWORD]
        + [str(shots), json.dumps(ids)],
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
    assert result.returncode == 0, f"{summary.get('error')}\n{result.stderr[-3000:]}\nscreenshots in {shots}"
    cells = {name: {c["id"]: c for c in summary[name]} for name in ("traditional", "focused", "hybrid", "payload")}

    # The Traditional line, as the photo has it, its matched characters marked; inside its photo, at the bottom.
    library_cell = cells["traditional"][ids["sign-library-hant"]]
    caption = library_cell["caption"]
    assert "圖書館" in caption["text"] and caption["marks"] == ["圖書館"] and caption["visible"]
    assert set(caption["elements"]) <= {"mark", "span"}
    assert abs(caption["rect"]["bottom"] - library_cell["cell"]["bottom"]) <= 1
    assert caption["rect"]["height"] < library_cell["cell"]["height"] / 2
    assert cells["focused"][ids["sign-library-hant"]]["caption"]["visible"]  # by keyboard focus, no hover
    [phone] = summary["phone"]
    assert phone["caption"]["visible"] and phone["caption"]["rect"]["right"] <= phone["cell"]["right"] + 1

    # The viewer: exactly the boxes that hold the match are lit, in a style of their own.
    lit = [box for box in summary["boxes"] if box["matched"]]
    assert lit and all("圖書館" in box["text"] for box in lit)
    assert not any("圖書館" in box["text"] for box in summary["boxes"] if not box["matched"])
    assert len(lit) < len(summary["boxes"])
    assert {box["border"] for box in lit}.isdisjoint({box["border"] for box in summary["boxes"] if not box["matched"]})

    # Hybrid: every result labelled; found by its picture alone: no caption, and the same box as its thumbnail.
    hybrid = cells["hybrid"]
    assert hybrid[ids["ticket-train"]]["label"]["by"] in ("text", "both") and hybrid[ids["ticket-train"]]["caption"]
    picture_only = [cell for cell in hybrid.values() if cell["label"] and cell["label"]["by"] == "picture"]
    assert picture_only and all(cell["caption"] is None for cell in picture_only)
    assert all(cell["label"] for cell in hybrid.values())
    for cell in hybrid.values():
        assert abs(cell["cell"]["height"] - cell["thumb"]["height"]) <= 1, "a caption must not change the layout"

    # The payload: shown as text, nothing made of it, nothing run.
    payload = cells["payload"][ids["sign-parking"]]["caption"]
    assert "<img src=x" in payload["text"] and "<script>" in payload["text"] and payload["marks"] == ["停车场"]
    assert set(payload["elements"]) <= {"mark", "span"}
    assert summary["payloadRan"] is None and summary["strayElements"] == 0 and summary["dialogs"] == []

    # Pure punctuation: the ordinary empty result. The video: found, its line shown.
    assert summary["punctuation"] == []
    [video] = summary["video"]
    assert video["id"] == ids["video-party"] and video["caption"]["marks"] == ["节目单"]
    for shot in ("4-caption-traditional", "5-viewer-matched-boxes", "6-hybrid-labels", "7-payload-inert"):
        assert (shots / f"{shot}.png").is_file()
