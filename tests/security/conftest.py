"""Security suites run against the same real hub, per engine, as the end-to-end tests."""

from tests.federation.conftest import hub, hub_server

__all__ = ["hub", "hub_server"]
