"""A role with no web UI pages (the operator's `admin`) signs in and is told where to go instead
of being shown the sign-in form again, as if the secret had been wrong."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.federation.conftest import Hub

from .conftest import Console
from .helpers import sign_in

pytestmark = pytest.mark.browser


async def test_admin_is_told_the_web_ui_has_no_pages_for_it(
    ui_hub: Hub, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await sign_in(page, ui_hub, "admin")
    await expect(page.get_by_role("heading", name="No pages for this role")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("crossforce command line")
    await expect(page.get_by_test_id("signed-in-as")).to_contain_text("admin")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_hidden()
    assert console.errors == []
