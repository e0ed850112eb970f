"""The gateway's end-to-end tests use the same real hub, per engine, as the federation tests."""

from tests.federation.conftest import hub, hub_server

__all__ = ["hub", "hub_server"]
