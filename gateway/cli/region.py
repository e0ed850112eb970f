"""`crossforce region`: write a synthetic region's case summaries as JSON Lines.

    crossforce region --seed 7 --forces 5 --cases 5000 --out region.jsonl
    crossforce region --cases 5000 --start 2025-10 --out fixed.jsonl   # the same whenever run
    crossforce region --cases 200 --out - | head -1
    crossforce region --cases 5000 --out region.jsonl --by-force   # region-AS.jsonl, ...

Records are written as they are generated, so any size streams in constant memory. A progress
bar goes to stderr when writing to a file; the output stays clean when writing to stdout.

By default the months end with the last complete one, so that a region synced today holds cases
still open and inside their targets, as a force's would; `--start YYYY-MM` fixes the period for a
region that is the same record for record whenever it is generated.
"""

from __future__ import annotations

import os
import re
import sys
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gateway.demo.region import RegionParams, counts, recent_start, region_cases

PROGRESS_FROM = 2_000  # records; smaller regions are written before a bar would show
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_start(value: str, months: int) -> date:
    """`YYYY-MM`, or `recent` for the months that end with the last complete one."""
    if value == "recent":
        return recent_start(months)
    match = _MONTH.match(value)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter("expected YYYY-MM (e.g. 2025-10) or recent", param_hint="--start")
    return date(int(match.group(1)), int(match.group(2)), 1)


def force_file(out: Path, force: str) -> Path:
    """`region.jsonl` -> `region-AS.jsonl`: one file per force, for `crossforce sync`."""
    return out.with_name(f"{out.stem}-{force}{out.suffix}")


class _Sink:
    """Where records go: one stream, or one file per force opened on its first record."""

    def __init__(self, stack: ExitStack, out: str, by_force: bool) -> None:
        self._stack, self._by_force = stack, by_force
        self._out = Path(out)
        self._files: dict[str, IO[bytes]] = {}
        self._single: IO[bytes] | None = None
        if out == "-":
            self._single = sys.stdout.buffer
            stack.callback(sys.stdout.buffer.flush)
        elif not by_force:
            self._single = stack.enter_context(self._out.open("wb"))

    def write(self, case: dict[str, Any]) -> None:
        line = orjson.dumps(case, option=orjson.OPT_APPEND_NEWLINE)
        if self._single is not None:
            self._single.write(line)
            return
        force = case["force"]
        handle = self._files.get(force)
        if handle is None:
            handle = self._stack.enter_context(force_file(self._out, force).open("wb"))
            self._files[force] = handle
        handle.write(line)


def write_region(params: RegionParams, out: str, *, by_force: bool = False) -> int:
    """Write every case of the region to `out` (a path, or `-` for stdout), or with `by_force`
    to one file per force beside it; the count written."""
    if by_force and out == "-":
        raise ValueError("one file per force needs a file name, not -")
    total = sum(map(sum, counts(params)))
    show = out != "-" and total >= PROGRESS_FROM
    progress = Progress(
        TextColumn("generating"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    )
    written = 0
    with ExitStack() as stack, progress:
        sink = _Sink(stack, out, by_force)
        task = progress.add_task("region", total=total)
        for case in region_cases(params):
            sink.write(case)
            written += 1
            if written % 1000 == 0:
                progress.update(task, completed=written)
        progress.update(task, completed=written)
    return written


def run_region_command(
    *,
    seed: int,
    forces: int,
    cases: int | None,
    months: int,
    start: str,
    monthly_base: float,
    growth: float,
    overlap: float,
    low_with_high_signs: float,
    series_share: float,
    media_per_case: float,
    out: str,
    by_force: bool = False,
) -> None:
    if by_force and out == "-":
        raise typer.BadParameter("needs a file name, not -", param_hint="--by-force")
    try:
        params = RegionParams(
            seed=seed,
            forces=forces,
            cases=cases,
            months=months,
            start=parse_start(start, months),
            monthly_base=monthly_base,
            monthly_growth=growth,
            overlap=overlap,
            low_with_high_signs=low_with_high_signs,
            series_share=series_share,
            media_per_case=media_per_case,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if params.end > datetime.now(UTC):
        raise typer.BadParameter(
            f"the region's months end on {params.end.date()}, in the future: the hub refuses "
            "future dates; choose an earlier --start, fewer --months, or --start recent"
        )
    started = time.perf_counter()
    try:
        written = write_region(params, out, by_force=by_force)
    except BrokenPipeError:
        if out != "-":
            raise
        # `| head`: the reader has what it wanted. Stop quietly, as other command line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as error:
        Console(stderr=True).print(f"crossforce region: cannot write {out}: {error.strerror}")
        raise typer.Exit(2) from None
    seconds = time.perf_counter() - started
    rate = written / seconds if seconds else 0.0
    where = "stdout" if out == "-" else out
    if by_force:
        where = f"{force_file(Path(out), '<force>')}"
    Console(stderr=True).print(
        f"{written} case summaries of {forces} forces, {params.start:%Y-%m} to "
        f"{params.end:%Y-%m} (exclusive), to {where} in {seconds:.1f} s ({rate:,.0f}/s)",
        highlight=False,
    )


def region(
    seed: int = typer.Option(7, help="same seed, same region, record for record"),
    forces: int = typer.Option(5, min=5, max=43, help="forces; the first five are AS GL WI DC DO"),
    cases: int | None = typer.Option(
        None, min=0, help="total cases (default: volumes from --monthly-base and --growth)"
    ),
    months: int = typer.Option(12, min=1, max=120, help="calendar months of referrals"),
    start: str = typer.Option(
        "recent", help="first month, YYYY-MM, or recent (ending with the last complete month)"
    ),
    monthly_base: float = typer.Option(
        70.0, min=0, help="referrals a month of a force of weight 1.0 in the first month"
    ),
    growth: float = typer.Option(0.066, help="monthly growth of referral volumes (0.066: 6.6 %)"),
    overlap: float = typer.Option(
        0.03, min=0, max=1, help="chance an identity of a case is another force's"
    ),
    low_with_high_signs: float = typer.Option(
        0.08, min=0, max=1, help="share of LOW cases carrying high-risk signs"
    ),
    series_share: float = typer.Option(
        0.05, min=0, max=1, help="share of cases holding images of a known series"
    ),
    media_per_case: float = typer.Option(3.0, min=0, help="mean media items per case"),
    out: str = typer.Option(..., "--out", "-o", help="JSON Lines file to write, or - for stdout"),
    by_force: bool = typer.Option(
        False, "--by-force", help="one file per force beside --out: region-AS.jsonl, ..."
    ),
) -> None:
    """Write a synthetic region's case summaries as JSON Lines (docs/region.md)."""
    run_region_command(
        seed=seed,
        forces=forces,
        cases=cases,
        months=months,
        start=start,
        monthly_base=monthly_base,
        growth=growth,
        overlap=overlap,
        low_with_high_signs=low_with_high_signs,
        series_share=series_share,
        media_per_case=media_per_case,
        out=out,
        by_force=by_force,
    )
