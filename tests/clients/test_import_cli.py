"""`crossforce import cybertipline FILE --client C` beside a hub started by `crossforce serve`:
the file is checked whole, then pushed with the SDK under the client's credentials."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.clients.test_token_cli import Served, crossforce, served

__all__ = ["served"]

SAMPLES = Path(__file__).parents[1] / "federation" / "data" / "referrals"


def run_import(served: Served, file: Path, *options: str) -> tuple[int, str, str]:
    done = crossforce(
        served.env, "import", "cybertipline", str(file), "--client", "force-WI", *options
    )
    return done.returncode, done.stdout, done.stderr


def test_a_referral_file_is_imported_then_found_already_held(
    served: Served, tmp_path: Path
) -> None:
    file = Path(shutil.copy(SAMPLES / "cybertipline.xml", tmp_path / "referrals.xml"))

    code, out, err = run_import(served, file)
    again_code, again, _ = run_import(served, file)

    assert code == 0, out + err
    assert "2 referral(s) read: 2 importable, 0 refused, 1 with parts not mapped" in out
    assert "not mapped: line 6 (170044501)" in out and "SHA256" in out
    assert "2 applied, 0 already held, 0 rejected" in out
    assert again_code == 0 and "0 applied, 2 already held" in again
    assert "jd_coach81" not in out + err  # values stay out of the output


def test_a_file_with_an_unmappable_report_imports_nothing_unless_partial(
    served: Served, tmp_path: Path
) -> None:
    file = Path(shutil.copy(SAMPLES / "cybertipline-missing-element.xml", tmp_path / "r.xml"))

    code, out, err = run_import(served, file)
    partial_code, partial, _ = run_import(served, file, "--partial")

    assert code == 1
    assert "refused: line 17 (170044702): report/incidentSummary/incidentType is missing" in out
    assert "nothing was imported" in err
    # Had the first run sent the good referral, this one would find it already held.
    assert partial_code == 1  # one referral of the file still could not be imported
    assert "1 applied, 0 already held, 0 rejected" in partial


def test_a_malformed_file_is_refused_with_its_line(served: Served, tmp_path: Path) -> None:
    file = Path(shutil.copy(SAMPLES / "cybertipline-malformed.xml", tmp_path / "bad.xml"))

    code, _, err = run_import(served, file)

    assert code == 1
    assert "line 16: not well-formed XML (mismatched tag); nothing was imported" in err


def test_a_client_of_no_force_cannot_import(served: Served, tmp_path: Path) -> None:
    file = Path(shutil.copy(SAMPLES / "cybertipline.xml", tmp_path / "referrals.xml"))

    done = crossforce(served.env, "import", "cybertipline", str(file), "--client", "coordinator")

    assert done.returncode == 2
    assert "acts for no force" in done.stderr


def test_a_hash_list_is_imported_as_a_region_hash_set(served: Served, tmp_path: Path) -> None:
    hashes = [f"{n:032x}" for n in range(1, 4)]
    listing = tmp_path / "caid.csv"
    listing.write_text("md5,category\n" + "".join(f"{h},A\n" for h in hashes) + "zz,A\n")

    done = crossforce(
        served.env, "hashsets", "import", str(listing), "--source", "CAID", "--date", "2026-11-01"
    )
    bad_date = crossforce(served.env, "hashsets", "import", str(listing), "--date", "November")
    no_list = tmp_path / "empty.csv"
    no_list.write_text("md5,category\n")
    empty = crossforce(served.env, "hashsets", "import", str(no_list))

    assert done.returncode == 0, done.stderr
    assert f"CAID: caid: {len(hashes)} hashes listed" in done.stdout
    assert "skipped: line 5: not a valid md5 hash" in done.stdout
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    assert empty.returncode == 1 and "nothing was imported" in empty.stderr
    # Audited with its counts, in the chain `audit verify` checks; no hash in the entry.
    mirror = (served.data_dir / "audit" / "entries.jsonl").read_text()
    entry = next(line for line in mirror.splitlines() if '"hashset.import"' in line)
    assert f"listed={len(hashes)}" in entry and not any(h in entry for h in hashes)
    assert crossforce(served.env, "audit", "verify").returncode == 0


def test_a_csv_package_is_imported_with_what_was_not_mapped(served: Served, tmp_path: Path) -> None:
    file = Path(shutil.copy(SAMPLES / "package.csv", tmp_path / "package.csv"))

    done = crossforce(served.env, "import", "csv", str(file), "--client", "force-DC")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 referral(s) read: 2 importable, 0 refused, 1 with parts not mapped" in done.stdout
    assert "not mapped: line 2 (NCA-PKG-55120): analystNote: not a column" in done.stdout
    assert "2 applied, 0 already held, 0 rejected" in done.stdout
