"""The benchmark runner still works: ``python -m benchmarks --smoke`` writes its report.

This checks the report's structure only. It never looks at a time or a ratio: the
figures of a smoke run are meaningless, and CI machines are shared and noisy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.binaries import require_binary, require_module
from tests.support.processes import REPO

COMMITTED = REPO / "benchmarks" / "RESULTS.md"
SUITES = {"1", "2", "3", "4", "5", "2b", "5b", "6", "7", "8", "9"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench")
    before = COMMITTED.read_bytes() if COMMITTED.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after = COMMITTED.read_bytes() if COMMITTED.exists() else None
    assert before == after, "smoke mode must not overwrite benchmarks/RESULTS.md"
    return out, done.stdout


def test_prints_its_output_directory(smoke_run: tuple[Path, str]) -> None:
    out, stdout = smoke_run
    assert stdout.strip().splitlines()[-1] == str(out)


def test_results_md_has_machine_table_and_figures(smoke_run: tuple[Path, str]) -> None:
    out, _ = smoke_run
    text = (out / "RESULTS.md").read_text()
    assert text.startswith("# Benchmark results")
    assert "smoke mode" in text
    assert "## Machine" in text
    for key in ("CPU", "logical cores", "memory", "Python"):
        assert f"| {key} |" in text
    header = next(line for line in text.splitlines() if line.startswith("| # |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert columns == [
        "#", "workload", "figure", "median", "runs (min–max)", "baseline",
        "baseline median", "ratio", "target", "met",
    ]  # fmt: skip
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    assert {row.split("|")[1].strip() for row in rows} == SUITES
    for row in rows:
        assert len(row.strip().strip("|").split("|")) == len(columns), row
    assert "## How the other clients were pointed at the emulator" in text


def test_results_json_matches_the_table(smoke_run: tuple[Path, str]) -> None:
    out, _ = smoke_run
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["smoke"] is True
    assert data["meta"]["failed"] == []
    figures = data["figures"]
    assert {f["number"] for f in figures} == SUITES
    for figure in figures:
        if figure["status"] == "measured":
            assert figure["samples"] and figure["baseline_samples"], figure["key"]
            assert figure["median"] is not None and figure["ratio"] is not None
        else:
            assert figure["status"].startswith("not measured: "), figure["status"]
    own = {f["key"] for f in figures if f["status"] == "measured"}
    assert {"overhead", "decode", "refresh", "batch_throughput", "batch_memory", "memory"} <= own
    assert {"store_read_sqlite", "store_read_waiters"} <= own
    assert {"decode_default", "stream_memory"} <= own
    # #9's before/after needs this repository's history (git); httptools vs h11 does not.
    assert "emulator_parser" in own
    refresh = next(f for f in figures if f["key"] == "refresh")
    assert refresh["extra"]["token_requests"] and set(refresh["extra"]["token_requests"]) == {1}


def test_fast_server_batch_measures_the_raw_clients_and_the_sdk(
    smoke_run: tuple[Path, str],
) -> None:
    require_binary("node")
    out, _ = smoke_run
    figures = {f["key"]: f for f in json.loads((out / "results.json").read_text())["figures"]}
    for key in ("fast_sdk_cpu", "fast_sdk_vs_aiohttp_cpu", "fast_aiohttp_cpu"):
        assert figures[key]["status"] == "measured", figures[key]["status"]
    for key in ("fast_sdk_aiohttp_cpu", "fast_sdk_aiohttp_vs_aiohttp_cpu"):
        status = figures[key]["status"]
        assert status == "measured" or "http_backend" in status, status
        assert figures[key]["target_ratio"] is not None


def test_chart_is_a_png(smoke_run: tuple[Path, str]) -> None:
    require_module("matplotlib")  # the [dev] extra: under CI its absence fails
    out, _ = smoke_run
    png = (out / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "![ratios to baseline](results.png)" in (out / "RESULTS.md").read_text()
