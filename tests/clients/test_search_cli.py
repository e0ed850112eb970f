"""`crossforce search KIND VALUE --purpose P --client C` beside a hub started by `crossforce serve`:
a token for the client from the data dir, the hub's own `holders`, a table on stdout."""

from __future__ import annotations

import httpx

from policies.devidp import mint_token
from tests.clients.test_token_cli import Served, crossforce, served
from tests.gateway.graphql_client import summary

__all__ = ["served"]

PURPOSE = "deconflict a new referral"


def sync(served: Served, force: str, number: int, phone: str) -> None:
    record = summary(
        force,
        number,
        officer={"name": f"DC {force}", "phone": "01000 000000"},
        suspects=[{"ref": "P1", "phones": [phone]}],
    )
    token = mint_token(served.data_dir, served.url, "crossforce", f"force-{force}")
    answer = httpx.post(
        f"{served.url}/federation/v1/cases",
        json=[record],
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "applied", answer.text


def test_search_prints_the_forces_holding_an_identifier_as_a_table(served: Served) -> None:
    sync(served, "AS", 1, "07700 900111")
    sync(served, "GL", 2, "+44 7700 900111")

    done = crossforce(
        served.env, "search", "phone", "07700900111", "--purpose", PURPOSE, "--client", "analyst-AS"
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("AS" in line and "AS-T-0001" in line and "DC AS" in line for line in lines)
    assert any("GL" in line and "GL-T-0002" in line and "DC GL" in line for line in lines)


def test_search_finding_nothing_says_so_and_exits_0(served: Served) -> None:
    done = crossforce(
        served.env, "search", "IMEI", "490154203237518", "--purpose", PURPOSE, "--client",
        "analyst-GL",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "No force holds this identifier" in done.stdout


def test_search_refused_by_the_hub_says_why_and_exits_1(served: Served) -> None:
    done = crossforce(
        served.env, "search", "PHONE", "07700 900111", "--purpose", "why", "--client", "analyst-AS"
    )
    assert done.returncode == 1
    assert "purpose" in done.stderr and "FORBIDDEN" in done.stderr
