"""Immich's API as the e2e tests drive it: the admin's first steps, uploads, waiting for jobs, searches."""

from __future__ import annotations

import io
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import ocr_small_text_set
from .imagegen import TextImage
from .photos import photo_jpeg

CLIP_MODEL = "cn-clip-ViT-B-16"
EMAIL, PASSWORD = "admin@example.com", "admin-password"


def sign_up_admin(stack) -> tuple[str, dict]:
    """The admin signed up and logged in, past the first-run screens, cn-clip and PP-OCRv5 chosen:
    (token, the system config as saved)."""
    assert stack.api("POST", "/auth/admin-sign-up", json={"email": EMAIL, "password": PASSWORD, "name": "Admin"}).ok
    token = stack.api("POST", "/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["accessToken"]
    # Past the first-run screens, as a user who has set up Immich would be.
    assert stack.api("POST", "/system-metadata/admin-onboarding", token, json={"isOnboarded": True}).ok
    assert stack.api("PUT", "/users/me/onboarding", token, json={"isOnboarded": True}).ok
    config = stack.api("GET", "/system-config", token).json()
    config["machineLearning"]["clip"]["modelName"] = CLIP_MODEL
    config["machineLearning"]["ocr"]["modelName"] = "PP-OCRv5_mobile"
    response = stack.api("PUT", "/system-config", token, json=config)
    assert response.ok, response.text
    return token, config


def image_bytes(name: str, lines: tuple[str, ...] | None, index: int) -> bytes:
    if lines is None:
        return photo_jpeg(1440, 1080, 1, seed=index)
    if name.startswith("smalltext-"):  # a photo of the small-text set (tests/support/ocr_small_text_set.py)
        return ocr_small_text_set.render(name.removeprefix("smalltext-")).jpeg
    return TextImage(name, lines, size=(1000, 800), font_size=44).jpeg()


def video_bytes(name: str, lines: tuple[str, ...]) -> bytes:
    """A 2-second H.264 clip (Debian's ffmpeg) whose every frame shows these lines, whichever frame Immich takes."""
    with tempfile.TemporaryDirectory() as scratch:
        frame, clip = Path(scratch) / "frame.png", Path(scratch) / "clip.mp4"
        TextImage(name, lines, size=(960, 720), font_size=44).render().save(frame)
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-loop", "1", "-i", str(frame), "-t", "2", "-r", "10", "-c:v", "libx264"]
            + ["-pix_fmt", "yuv420p", "-movflags", "+faststart", str(clip)],
            check=True,
            timeout=120,
        )
        return clip.read_bytes()


def upload(stack, token: str, photos: dict[str, tuple[str, ...] | None], device: str) -> dict[str, str]:
    """Each photo uploaded through the API, a day apart: name -> asset id. Names starting with "video-" are
    uploaded as short videos (video_bytes), "smalltext-<name>" as that photo of the small-text set."""
    ids = {}
    base = datetime(2024, 5, 1, tzinfo=UTC)
    for index, (name, lines) in enumerate(photos.items()):
        taken = (base + timedelta(days=index)).isoformat()
        response = stack.api(
            "POST",
            "/assets",
            token,
            files={
                "assetData": (f"{name}.mp4", io.BytesIO(video_bytes(name, lines)), "video/mp4")
                if name.startswith("video-") and lines
                else (f"{name}.jpg", io.BytesIO(image_bytes(name, lines, index)), "image/jpeg")
            },
            data={"deviceAssetId": name, "deviceId": device, "fileCreatedAt": taken, "fileModifiedAt": taken},
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


def wait_for_jobs(stack, token: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    idle_polls = 0
    while time.monotonic() < deadline:
        queues = stack.api("GET", "/jobs", token).json()
        busy = {
            name: q["jobCounts"]
            for name, q in queues.items()
            if q["jobCounts"]["active"] or q["jobCounts"]["waiting"] or q["jobCounts"]["delayed"]
        }
        idle_polls = 0 if busy else idle_polls + 1
        if idle_polls >= 3:
            return
        time.sleep(1)
    raise AssertionError(f"Immich's jobs did not finish: {busy}")


def names_of(ids: dict[str, str], assets: list[dict]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id.get(asset["id"], asset["id"]) for asset in assets]


def metadata_search(stack, token, **body) -> list[dict]:
    response = stack.api("POST", "/search/metadata", token, json=body)
    assert response.status_code == 200, response.text
    return response.json()["assets"]["items"]


def smart_search(stack, token, query: str) -> list[dict]:
    response = stack.api("POST", "/search/smart", token, json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()["assets"]["items"]
