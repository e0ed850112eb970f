"""One fake hub on a loopback socket for the session; each test gets it reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.builders import RecordedSleeps
from tests.clients.fake_hub import FakeHub, RunningHub


@pytest.fixture(scope="session")
def running_hub() -> Iterator[RunningHub]:
    server = RunningHub(FakeHub())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hub(running_hub: RunningHub) -> FakeHub:
    running_hub.hub.reset()
    return running_hub.hub


@pytest.fixture
def hub_url(running_hub: RunningHub, hub: FakeHub) -> str:
    return running_hub.url


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()
