"""`python -m bench --quick`: the cross-mode benchmark's smoke preset, as CI runs it.
Only that it finishes, loses nothing and writes its report is asserted; the
figures themselves are the report's business."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Services

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(400)]

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_preset_loses_nothing_and_writes_its_report(
    services: Services, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    env = {
        **os.environ,
        "DATABASE_URL": services.admin_database_url,
        "REDIS_URL": services.redis_url,
    }
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    document = json.loads((out / "results.json").read_text())
    assert {r["mode"] for r in document["runs"]} == {"workers-1", "lambda-nudge-c4"}
    assert {r["scenario"] for r in document["runs"]} == {
        "drain",
        "steady",
        "burst",
        "failures",
        "io",
    }
    for result in document["runs"]:
        figures = result["figures"]
        assert figures["submitted"] > 0, result
        assert figures["lost"] == 0, result
        assert figures["unfinished"] == 0, result
        assert figures["unsent"] == 0, result
        assert figures["unexpected"] == 0, result
        assert figures["processed"] == figures["submitted"], result
    page = (out / "RESULTS.md").read_text()
    for heading in ("## Goals", "## drain", "## steady", "## burst", "## failures", "## io"):
        assert heading in page
    plots = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert "drain.png" in plots and "burst-timeline.png" in plots
    assert all(f"plots/{name}" in page for name in plots)
