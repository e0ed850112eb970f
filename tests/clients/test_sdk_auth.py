"""Client credentials: token reuse, renewal before expiry and after a 401, refusals."""

from __future__ import annotations

import pytest
from crossforce_sdk import AuthError

from tests.clients.builders import case, client_for
from tests.clients.fake_hub import Failure, FakeHub


async def test_one_token_serves_many_calls(hub: FakeHub, hub_url: str) -> None:
    async with client_for(hub_url, batch_size=1) as client:
        await client.sync([case(1), case(2)])
        await client.sync([case(3)])

    assert len(hub.cases_calls) == 3
    assert len(hub.token_calls) == 1


async def test_the_token_is_renewed_shortly_before_it_expires(hub: FakeHub, hub_url: str) -> None:
    hub.token_lifetime = 100
    now = [1000.0]
    async with client_for(hub_url, clock=lambda: now[0], refresh_margin=30) as client:
        await client.sync([case(1)])
        now[0] += 69  # still more than the 30 s margin before expiry
        await client.sync([case(2)])
        assert len(hub.token_calls) == 1
        now[0] += 2  # now within the margin: renewed before use, no 401 needed
        await client.sync([case(3)])

    assert len(hub.token_calls) == 2
    assert [call.status for call in hub.cases_calls] == [200, 200, 200]
    assert hub.cases_calls[1].token != hub.cases_calls[2].token


async def test_a_401_gets_one_new_token_and_the_batch_is_sent_again(
    hub: FakeHub, hub_url: str
) -> None:
    hub.failures = [Failure(401)]
    async with client_for(hub_url) as client:
        report = await client.sync([case(1), case(2)])

    assert report.applied == 2
    assert [call.status for call in hub.cases_calls] == [401, 200]
    assert len(hub.token_calls) == 2
    assert hub.cases_calls[0].token != hub.cases_calls[1].token


async def test_a_second_401_is_an_auth_error(hub: FakeHub, hub_url: str) -> None:
    hub.failures = [Failure(401), Failure(401)]
    async with client_for(hub_url) as client:
        with pytest.raises(AuthError) as raised:
            await client.sync([case(1, summary="Secret summary text")])

    assert raised.value.status == 401
    assert len(hub.token_calls) == 2
    assert len(hub.cases_calls) == 2
    assert "Secret summary text" not in str(raised.value)


async def test_a_wrong_secret_is_an_auth_error_naming_the_oauth_error(
    hub: FakeHub, hub_url: str
) -> None:
    async with client_for(hub_url, secret="not-the-secret") as client:
        with pytest.raises(AuthError) as raised:
            await client.sync([case(1)])

    assert "invalid_client" in str(raised.value)
    assert "not-the-secret" not in str(raised.value)
    assert "not-the-secret" not in repr(client)
    assert hub.cases_calls == []
    assert raised.value.report is not None and raised.value.report.processed == 0


async def test_a_client_without_the_scope_or_force_gets_an_auth_error(
    hub: FakeHub, hub_url: str
) -> None:
    async with client_for(hub_url, client_id="coordinator", secret="c") as client:
        with pytest.raises(AuthError) as raised:
            await client.sync([case(1)])

    assert raised.value.status == 403
    assert "coordinator" in str(raised.value)


async def test_credentials_are_form_encoded_for_basic_auth(hub: FakeHub, hub_url: str) -> None:
    hub.clients["force-AS"] = "s3:cr/et+ %x"  # characters that Basic auth would mangle raw
    async with client_for(hub_url, secret="s3:cr/et+ %x") as client:
        report = await client.sync([case(1)])

    assert report.applied == 1
    assert hub.token_calls[0].granted
