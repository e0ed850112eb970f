"""The read model measured against an embedded analytical engine: the hand-written sorted lists
of `RegionIndex` beside DuckDB (in-process, columnar), on the same synthetic case facts, in one
run. No graph: both hold the facts in this process, as a replica does.

Each of the dashboard's figures is asked of both, side by side, repeatedly: the per-force and
per-risk figures, the 28-day activity, and each named list's first page with its total. On the
DuckDB side each is one SQL statement. Both answers are checked against each other (totals and
first pages), so the timings compare equal work. Load time and the resident memory each adds are
measured too.

    python -m bench.bench_read_model --cases 100000 --out bench/results

DuckDB is a bench extra (`pip install -e '.[bench]'`), not a runtime dependency.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import platform
import random
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.app import serving_heap
from gateway.demo.region.params import (
    FORCE_CODES,
    FORCE_WEIGHTS,
    PAST_TARGET_SHARE,
    RISK_MIX,
    SOURCE_SHARES,
)
from gateway.demo.region.timeline import DAY, timeline
from gateway.open_lists import quiet_since
from gateway.region_index import OpenAsked, RegionIndex
from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import CaseRules, default_case_rules

PAGE = 25
TARGET_MS = 50.0  # issue 22: each dashboard read, p99
YEARS = 3  # referrals received over this many years before now
TEAMS = (("SPECIALIST", 0.55), ("LOCAL", 0.35), (None, 0.10))
DEVICE_SHARE = 0.6  # of enforced cases, those with devices seized
SAFEGUARDING_SHARE = 0.5


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    x = rng.random() * sum(w for _, w in weighted)
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def generate(count: int, now_ms: int, rules: CaseRules, seed: int = 7) -> list[CaseFacts]:
    """`count` cases of a region of 43 forces received over `YEARS` years, each with the life
    the demo generator gives it (gateway/demo/region/timeline.py), cut at now."""
    rng = random.Random(seed)
    forces = [(f, FORCE_WEIGHTS[f]) for f in FORCE_CODES]
    levels = list(RISK_MIX.items())
    sources = list(SOURCE_SHARES.items())
    end = now_ms // 1000
    start = end - YEARS * 365 * DAY
    out = []
    for i in range(count):
        force = _pick(rng, forces)
        level = _pick(rng, levels)
        received = rng.randint(start, end)
        life = timeline(rng, level, received, end, PAST_TARGET_SHARE[level])
        enforced = None if life.enforced is None else life.enforced * 1000
        times: tuple[int, ...] = ()
        methods: tuple[str, ...] = ()
        if enforced is not None:
            times = (enforced,)
            methods = ("ARREST" if life.arrested else "VOLUNTARY_ATTENDANCE",)
            if rng.random() < 0.2:
                times += (enforced + rng.randint(1, 60) * DAY_MS,)
                methods += ("WARRANT",)
            times = tuple(t for t in times if t <= now_ms)
            methods = methods[: len(times)]
        devices = 0
        seized = None
        if enforced is not None and life.examined is None and rng.random() < DEVICE_SHARE:
            devices, seized = rng.randint(1, 4), enforced
        open_ = rules.is_open(life.status)
        resolved = None if open_ else life.status_at * 1000
        out.append(
            CaseFacts(
                key=f"{force}:{i}",
                force=force,
                case_ref=str(i),
                risk_level=level,
                status=life.status,
                open=open_,
                source=_pick(rng, sources),
                received_at=received * 1000,
                rules=rules,
                enforcement_at=enforced,
                last_activity_at=life.last_activity * 1000,
                opened_at=life.opened * 1000,
                devices_unexamined=devices,
                oldest_unexamined_seized_at=seized,
                first_safeguarding_at=(
                    life.assessed * 1000 if rng.random() < SAFEGUARDING_SHARE else None
                ),
                enforcement_times=times,
                enforcement_methods=methods,
                outcome_kind=None if open_ else life.status,
                outcome_at=resolved,
                resolved_at=resolved,
                team=_pick(rng, TEAMS),
                seq=i + 1,
            )
        )
    return out


# The DuckDB side: the facts as two tables, every figure one statement.

_NULL = -1


def load_duckdb(facts: Sequence[CaseFacts], rules: CaseRules) -> Any:
    import duckdb
    import numpy as np

    def ints(values: Any) -> Any:
        return np.fromiter((_NULL if v is None else v for v in values), dtype=np.int64)

    def texts(values: Any) -> Any:
        return np.array(list(values), dtype=object)

    con = duckdb.connect()
    cases = {
        "key": texts(f.key for f in facts),
        "force": texts(f.force for f in facts),
        "risk": texts(f.risk_level for f in facts),
        "source": texts(f.source for f in facts),
        "team": texts(f.team or "" for f in facts),
        "open": np.fromiter((f.open for f in facts), dtype=bool),
        "received": ints(f.received_at for f in facts),
        "enforced": ints(f.enforcement_at for f in facts),
        "activity": ints(f.last_activity_at for f in facts),
        "opened": ints(f.opened_at for f in facts),
        "devices": ints(f.devices_unexamined for f in facts),
        "seized": ints(f.oldest_unexamined_seized_at for f in facts),
        "safeguarded": ints(f.first_safeguarding_at for f in facts),
        "outcome": texts(f.outcome_kind or "" for f in facts),
        "outcome_at": ints(f.outcome_at for f in facts),
        "resolved": ints(f.resolved_at for f in facts),
        "target_days": ints(f.target_days for f in facts),
    }
    con.register("cases_in", cases)
    nullable = [k for k, v in cases.items() if v.dtype == np.int64]
    columns = ", ".join(
        f"NULLIF({c}, {_NULL}) AS {c}"
        if c in nullable
        else (f"NULLIF({c}, '') AS {c}" if c in ("team", "outcome") else c)
        for c in cases
    )
    con.execute(f"CREATE TABLE cases AS SELECT {columns} FROM cases_in")  # noqa: S608
    con.unregister("cases_in")
    actions = [
        (f.force, at, method)
        for f in facts
        for at, method in zip(f.enforcement_times, f.enforcement_methods, strict=True)
    ]
    con.register(
        "actions_in",
        {
            "force": texts(a[0] for a in actions),
            "at": np.fromiter((a[1] for a in actions), dtype=np.int64),
            "method": texts(a[2] for a in actions),
        },
    )
    con.execute("CREATE TABLE actions AS SELECT * FROM actions_in")
    con.unregister("actions_in")
    return con


RISK_FIGURES_SQL = """
SELECT force, risk, count(*) AS cases, count_if(open) AS open,
  count_if(open AND enforced IS NULL AND received + target_days * 86400000::BIGINT < $now) AS past,
  count_if(open AND enforced IS NULL AND received + target_days * 86400000::BIGINT >= $now
           AND received + target_days * 86400000::BIGINT <= $now + 172800000::BIGINT) AS due_soon,
  avg(CASE WHEN enforced IS NULL THEN NULL
           WHEN (enforced - received) / 86400000.0 <= target_days THEN 1.0 ELSE 0.0 END)
    AS within_target,
  median((enforced - received) / 86400000.0) AS median_days,
  quantile_cont((enforced - received) / 86400000.0, 0.9) AS p90_days,
  count_if(open AND enforced IS NULL AND received > $now - 7 * 86400000::BIGINT) AS age_0_7,
  count_if(open AND enforced IS NULL AND received <= $now - 7 * 86400000::BIGINT
           AND received > $now - 14 * 86400000::BIGINT) AS age_8_14,
  count_if(open AND enforced IS NULL AND received <= $now - 14 * 86400000::BIGINT
           AND received > $now - 30 * 86400000::BIGINT) AS age_15_30,
  count_if(open AND enforced IS NULL AND received <= $now - 30 * 86400000::BIGINT
           AND received > $now - 90 * 86400000::BIGINT) AS age_31_90,
  count_if(open AND enforced IS NULL AND received <= $now - 90 * 86400000::BIGINT) AS age_91
FROM cases GROUP BY force, risk ORDER BY force, risk
"""

FORCE_FIGURES_SQL = """
SELECT force,
  count_if(received >= $now - 28 * 86400000::BIGINT AND received <= $now) AS new_28,
  count_if(enforced >= $now - 28 * 86400000::BIGINT AND enforced <= $now) AS enforced_28,
  count_if(open AND coalesce(activity, opened, received) < $now - 30 * 86400000::BIGINT)
    AS inactive_30,
  sum(devices) FILTER (WHERE seized IS NOT NULL) AS devices_waiting,
  median((safeguarded - received) / 86400000.0) AS median_safeguarding_days
FROM cases GROUP BY force ORDER BY force
"""

REFERRALS_BY_MONTH_SQL = """
SELECT force, strftime(make_timestamp(received * 1000), '%Y-%m') AS month, source, count(*)
FROM cases GROUP BY ALL ORDER BY ALL
"""

ACTIVITY_SQL = """
WITH c AS (
  SELECT force,
    count_if(received >= $low AND received < $high) AS received,
    count_if(resolved >= $low AND resolved < $high) AS resolved,
    count_if(outcome_at >= $low AND outcome_at < $high AND outcome = 'CHARGED') AS charged,
    count_if(outcome_at >= $low AND outcome_at < $high AND outcome = 'NO_FURTHER_ACTION') AS nfa
  FROM cases GROUP BY force
), a AS (
  SELECT force, count_if(method = 'ARREST') AS arrests, count_if(method = 'WARRANT') AS warrants,
    count_if(method = 'VOLUNTARY_ATTENDANCE') AS voluntary, count(*) AS actions
  FROM actions WHERE "at" >= $low AND "at" < $high GROUP BY force
)
SELECT c.*, coalesce(a.arrests, 0), coalesce(a.warrants, 0), coalesce(a.voluntary, 0),
  coalesce(a.actions, 0)
FROM c LEFT JOIN a USING (force) ORDER BY force
"""

LIST_SQL = """
SELECT key, count(*) OVER () AS total FROM cases
WHERE open AND {where} ORDER BY received, key LIMIT {page}
"""

DEVICES_SQL = """
SELECT key, count(*) OVER () AS total FROM cases
WHERE devices > 0 AND seized IS NOT NULL ORDER BY seized, key LIMIT 25
"""


@dataclass(frozen=True)
class NamedList:
    name: str
    asked: Callable[[int], OpenAsked]
    where: str  # the same selection in SQL, of `open` cases


def named_lists(forces: frozenset[str]) -> list[NamedList]:
    return [
        NamedList(
            "no activity for 90 days",
            lambda now: OpenAsked(forces, now=now, quiet_before=now - 90 * DAY_MS),
            "coalesce(activity, received) < $now - 90 * 86400000::BIGINT",
        ),
        NamedList(
            "no activity for 365 days",
            lambda now: OpenAsked(forces, now=now, quiet_before=now - 365 * DAY_MS),
            "coalesce(activity, received) < $now - 365 * 86400000::BIGINT",
        ),
        NamedList(
            "past target",
            lambda now: OpenAsked(forces, past_target=True, now=now),
            "enforced IS NULL AND received + target_days * 86400000::BIGINT < $now",
        ),
        NamedList(
            "awaiting enforcement",
            lambda now: OpenAsked(forces, now=now, awaiting=True),
            "enforced IS NULL",
        ),
        NamedList(
            "LOCAL team, waiting over 30 days",
            lambda now: OpenAsked(forces, now=now, team="LOCAL", received_before=now - 30 * DAY_MS),
            "team = 'LOCAL' AND received < $now - 30 * 86400000::BIGINT",
        ),
    ]


def timed(call: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    result = call()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(times[len(times) // 2], 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }, result


def run(count: int, repeat: int, seed: int) -> dict[str, Any]:
    rules = default_case_rules()
    now = int(datetime.now(UTC).timestamp() * 1000)
    started = time.perf_counter()
    facts = generate(count, now, rules, seed)
    generated_s = time.perf_counter() - started
    forces = frozenset(f.force for f in facts)

    gc.collect()
    base = rss_bytes()
    started = time.perf_counter()
    index = RegionIndex(facts)
    index_load = time.perf_counter() - started
    gc.collect()
    index_rss = rss_bytes() - base

    base = rss_bytes()
    started = time.perf_counter()
    con = load_duckdb(facts, rules)
    duck_load = time.perf_counter() - started
    gc.collect()
    duck_rss = rss_bytes() - base

    heap = serving_heap()  # the collector as the app tunes it once loaded (gateway/app.py)
    heap.__enter__()

    def sql(statement: str, **given: int) -> Callable[[], list[Any]]:
        params = {name: value for name, value in given.items() if f"${name}" in statement}
        return lambda: con.execute(statement, params).fetchall()

    low, high = now - 28 * DAY_MS, now
    figures: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "risk figures": (
            lambda: index.risk_figures(None, now),
            sql(RISK_FIGURES_SQL, now=now),
        ),
        "force figures": (
            lambda: index.force_figures(None, now),
            sql(FORCE_FIGURES_SQL, now=now),
        ),
        "referrals by month": (lambda: None, sql(REFERRALS_BY_MONTH_SQL)),
        "activity, 28 days": (
            lambda: index.activity(None, low, high),
            sql(ACTIVITY_SQL, low=low, high=high),
        ),
    }
    checks: dict[str, bool] = {}
    listed: dict[str, Callable[[int], tuple[int, list[str]]]] = {}
    for named in named_lists(forces):

        def page_at(at: int, named: NamedList = named) -> tuple[int, list[str]]:
            asked = named.asked(at)
            keys = [f.key for f in itertools.islice(index.open_oldest_first(asked), PAGE)]
            return index.open_count(asked), keys

        # Each call a new request: a new instant, so nothing selected for the last is reused.
        earlier = itertools.count(1)

        def request(
            page_at: Callable[[int], tuple[int, list[str]]] = page_at,
            earlier: Iterator[int] = earlier,
        ) -> tuple[int, list[str]]:
            return page_at(now - next(earlier))

        statement = LIST_SQL.format(where=named.where, page=PAGE)
        figures[f"list: {named.name}"] = (request, sql(statement, now=now))
        listed[f"list: {named.name}"] = page_at
    figures["list: devices awaiting examination"] = (
        lambda: (
            index.devices_count(set(forces), None),
            [
                f.key
                for f in itertools.islice(index.devices_oldest_first(set(forces), None, None), PAGE)
            ],
        ),
        sql(DEVICES_SQL),
    )

    rows = []
    for name, (by_index, by_duck) in figures.items():
        index_times, index_answer = timed(by_index, repeat)
        duck_times, duck_answer = timed(by_duck, repeat)
        if name.startswith("list:"):
            total, keys = listed[name](now) if name in listed else index_answer
            checks[name] = duck_answer == [(key, total) for key in keys] or (
                total == 0 and duck_answer == []
            )
        rows.append({"figure": name, "index": index_times, "duckdb": duck_times})
    checks["open cases"] = (
        sum(r.open for r in index.risk_figures(None, now))
        == con.execute("SELECT count_if(open) FROM cases").fetchone()[0]
    )
    checks["past target"] = sum(r.past_target for r in index.risk_figures(None, now)) == sum(
        row[4] for row in con.execute(RISK_FIGURES_SQL, {"now": now}).fetchall()
    )
    heap.__exit__(None, None, None)
    open_cases = sum(1 for f in facts if f.open)
    return {
        "cases": count,
        "open": open_cases,
        "inactive_90_days": sum(1 for f in facts if f.open and quiet_since(f) < now - 90 * DAY_MS),
        "seed": seed,
        "repeat": repeat,
        "generated_s": round(generated_s, 1),
        "load": {
            "index": {"seconds": round(index_load, 2), "rss_mb": round(index_rss / 2**20, 1)},
            "duckdb": {"seconds": round(duck_load, 2), "rss_mb": round(duck_rss / 2**20, 1)},
        },
        "figures": rows,
        "answers_agree": checks,
        "environment": environment(),
    }


def environment() -> dict[str, Any]:
    import duckdb

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    with open("/proc/loadavg", encoding="ascii") as load:
        load_average = load.read().split()[:3]
    return {
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "commit": commit,
        "load_average": load_average,
        "cpus": len(open("/proc/cpuinfo", encoding="ascii").read().split("processor")) - 1,
    }


def _ratio(index: float, duck: float) -> str:
    return f"{duck / index:.1f} x" if index > 0 else "—"


def markdown(result: dict[str, Any]) -> str:
    load = result["load"]
    env = result["environment"]
    lines = [
        f"# Read model: sorted lists against DuckDB, {result['cases']:,} cases",
        "",
        f"`python -m bench.bench_read_model --cases {result['cases']} --repeat "
        f"{result['repeat']}` at {env['commit']}, DuckDB {env['duckdb']}, Python "
        f"{env['python']}, {env['cpus']} CPUs shared with other work (load average "
        f"{' '.join(env['load_average'])} at the end of the run).",
        "",
        f"{result['open']:,} open cases, {result['inactive_90_days']:,} of them with no activity "
        f"for 90 days. Both in this process, on the same facts; every figure asked "
        f"{result['repeat']} times of each after one warm-up call. DuckDB: each figure one SQL "
        f"statement; a list's page and total in one (`count(*) OVER ()`). The garbage collector "
        "as the app tunes it once loaded (`serving_heap`).",
        "",
        "| | load (s) | resident memory added (MB) |",
        "| --- | ---: | ---: |",
        f"| sorted lists (`RegionIndex`) | {load['index']['seconds']} | "
        f"{load['index']['rss_mb']} |",
        f"| DuckDB (in-process, two tables) | {load['duckdb']['seconds']} | "
        f"{load['duckdb']['rss_mb']} |",
        "",
        "| figure | index p50 ms | index p99 ms | DuckDB p50 ms | DuckDB p99 ms | "
        "DuckDB / index (p99) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["figures"]:
        i, d = row["index"], row["duckdb"]
        if row["figure"] == "referrals by month":  # part of the force figures on the index
            lines.append(
                f"| {row['figure']} | (in force figures) | | {d['p50_ms']} | {d['p99_ms']} | |"
            )
            continue
        lines.append(
            f"| {row['figure']} | {i['p50_ms']} | {i['p99_ms']} | {d['p50_ms']} | "
            f"{d['p99_ms']} | {_ratio(i['p99_ms'], d['p99_ms'])} |"
        )
    agree = result["answers_agree"]
    lines += [
        "",
        "Answers agree (lists: total and first page's keys; open and past-target totals): "
        + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in agree.items())
        + ".",
        "",
        f"Target (issue 22): each read's p99 under {TARGET_MS:.0f} ms.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.cases, args.repeat, args.seed)
    text = markdown(result)
    print(text)
    if args.out is not None:
        stem = args.out / f"read-model-{args.cases}"
        stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
        stem.with_suffix(".md").write_text(text)


if __name__ == "__main__":
    main()
