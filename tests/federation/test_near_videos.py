"""Near-duplicate videos (vPDQ), on each engine: a re-encoded and resized copy of a video links
cases as the video does; a different video, or one sharing only half its frames, does not.
Videos are sequences of synthetic pictures with their real PDQ hashes and qualities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pdqhash
import pytest
from PIL import Image

from federation.near_images import hamming
from federation.near_videos import same_video, shares
from tests.federation.conftest import Hub
from tests.federation.pictures import picture, recompressed, resized
from tests.gateway.graphql_client import data, summary, sync_all

THRESHOLD = 31  # the linking rules' default
FRAMES = 10
LINKS = """query C($f: String!, $r: String!) { case(force: $f, caseRef: $r) {
  links { force caseRef } } }"""
STORED = "MATCH (c:Case {key: $key}) RETURN properties(c) AS c"

Video = list[dict[str, Any]]


def frame(number: int, image: Image.Image) -> dict[str, Any]:
    """One vPDQ frame as vpdq writes it: number, timestamp (one frame a second), quality."""
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    pdq = bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()
    return {"frame": number, "timestamp": float(number), "quality": int(quality), "pdq": pdq}


def video(seeds: list[int], copy: bool = False) -> Video:
    """A video of one picture a second; as a copy, every frame resized, every other one also
    recompressed, as a phone re-encoding it would."""
    frames = []
    for n, seed in enumerate(seeds):
        image = picture(seed)
        if copy:
            image = resized(image, 0.5)
            image = recompressed(image) if n % 2 else image
        frames.append(frame(n, image))
    return frames


@pytest.fixture(scope="module")
def videos() -> dict[str, Video]:
    seeds = list(range(100, 100 + FRAMES))
    return {
        "original": video(seeds),
        "copy": video(seeds, copy=True),
        "other": video(list(range(200, 200 + FRAMES))),
        # Half the original's frames, half its own: a clip spliced into another video.
        "half": video(seeds[: FRAMES // 2] + list(range(300, 300 + FRAMES // 2))),
    }


def test_a_copys_frames_are_near_and_not_exact(videos: dict[str, Video]) -> None:
    for original, copied in zip(videos["original"], videos["copy"], strict=True):
        assert original["pdq"] != copied["pdq"]
        assert hamming(original["pdq"], copied["pdq"]) <= THRESHOLD
        assert original["quality"] >= 50  # every frame counts in the match
    for first, other in zip(videos["original"], videos["other"], strict=True):
        assert hamming(first["pdq"], other["pdq"]) > THRESHOLD


def case_with(force: str, number: int, frames: Video) -> dict[str, object]:
    """A case holding one video: its own file (MD5) and its vPDQ hash."""
    media = {"md5": f"{number:032x}", "vpdq": frames, "category": "B"}
    return summary(force, number, schema="crossforce/case-summary/v1.1", media=[media])


async def links_of(hub: Hub, force: str, ref: str) -> list[tuple[str, str]]:
    found = await data(hub, f"analyst-{force}", LINKS, {"f": force, "r": ref})
    return [(x["force"], x["caseRef"]) for x in found["case"]["links"]]


async def test_a_copy_of_a_video_links_cases_and_other_videos_do_not(
    hub: Hub, videos: dict[str, Video]
) -> None:
    await sync_all(
        hub, [case_with("AS", 1, videos["original"]), case_with("WI", 3, videos["other"])]
    )
    await sync_all(hub, [case_with("GL", 2, videos["copy"]), case_with("DC", 4, videos["half"])])

    assert await links_of(hub, "AS", "AS-T-0001") == [("GL", "GL-T-0002")]
    assert await links_of(hub, "GL", "GL-T-0002") == [("AS", "AS-T-0001")]
    assert await links_of(hub, "WI", "WI-T-0003") == []
    assert await links_of(hub, "DC", "DC-T-0004") == []
    # Frame hashes are sealed with the case, none kept in clear.
    stored = repr(await hub.store.read(STORED, {"key": "GL:GL-T-0002"}))
    stored += repr(await hub.store.read("MATCH (v:VideoCluster) RETURN properties(v) AS v"))
    for copied in videos["copy"]:
        assert copied["pdq"] not in stored


def test_two_videos_are_one_when_each_has_four_fifths_of_its_frames_in_the_other() -> None:
    video_a = frozenset(f"frame-{n}" for n in range(10))
    eight_shared = frozenset(f"frame-{n}" for n in range(8)) | {"x-1", "x-2"}
    seven_shared = frozenset(f"frame-{n}" for n in range(7)) | {"x-1", "x-2", "x-3"}
    clip = frozenset(f"frame-{n}" for n in range(4))  # all its frames in A, but A's not in it

    assert shares(video_a, eight_shared) == (0.8, 0.8) and same_video(video_a, eight_shared)
    assert not same_video(video_a, seven_shared)
    assert shares(clip, video_a) == (1.0, 0.4) and not same_video(clip, video_a)
