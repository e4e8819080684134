"""`loa tune`: one row per setting of the sweep, the same output every run, dominated settings
marked, bad values refused before anything is planned."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scheduler.cli import main
from scheduler.errors import DataError
from scheduler.export.planstats import PlanStats, dominates
from scheduler.tune import parse_sweep, sweep_settings

WEEK = "2024-W10"


def run(tiny_dir, *args):
    return CliRunner().invoke(main, ["tune", "--data", str(tiny_dir), "--week", WEEK, "--district", "chu-se",
                                     "--workers", "1", *args])


def test_the_sweep_prints_one_row_per_setting_the_same_every_run(tiny_dir):
    args = ("--sweep", "weights.spread_days=0,200", "--sweep", "weights.delay=0,50")
    first = run(tiny_dir, *args)
    assert first.exit_code == 0, first.output
    rows = [line for line in first.stdout.splitlines() if line[:1].isdigit()]
    assert [r.split()[:3] for r in rows] == [["1", "0", "0"], ["2", "0", "50"], ["3", "200", "0"], ["4", "200", "50"]]
    assert "frontier (dominated by no other setting): " in first.stdout
    again = run(tiny_dir, *args, "--no-cache")  # solved again, not taken from the cache
    assert again.exit_code == 0 and again.stdout == first.stdout


def test_json_rows_mark_what_dominates_what(tiny_dir):
    result = run(tiny_dir, "--sweep", "weights.spread_days=0,200", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    rows = out["settings"]
    assert [r["settings"] for r in rows] == [["weights.spread_days=0"], ["weights.spread_days=200"]]
    assert out["sites"] == 3 and all(r["planned"] == r["units"] == 2 for r in rows)
    # spreading over days costs nothing here, so the setting without it repeats more for nothing
    assert rows[1]["consecutive_days"] < rows[0]["consecutive_days"]
    assert rows[0]["dominated_by"] == [2] and rows[1]["dominated_by"] == []


def test_out_writes_one_plan_per_setting(tiny_dir, tmp_path):
    result = run(tiny_dir, "--sweep", "weights.variety=0,300", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    plans = sorted(p.relative_to(tmp_path).parts[0] for p in tmp_path.glob("*/audio_manifests/*/plan.json"))
    assert plans == ["01_weights.variety=0", "02_weights.variety=300"]


def test_without_out_nothing_is_written(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(tiny_dir, "--sweep", "weights.delay=0,5").exit_code == 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sweep", ["weights.delay=0,-1", "weights.nope=1,2", "policy.max_session_minutes=30,x",
                                   "weights.delay"])
def test_a_bad_value_is_refused_before_planning(tiny_dir, sweep):
    result = run(tiny_dir, "--sweep", sweep)
    assert result.exit_code == 2 and "Error" in result.output and "Settings" not in result.output


def test_sweeps_combine_in_order_and_lists_take_bars():
    assert sweep_settings(["weights.delay=0,5", "policy.quiet_hours=21:00-05:30|21:00-06:00"]) == [
        ("weights.delay=0", "policy.quiet_hours=21:00-05:30"), ("weights.delay=0", "policy.quiet_hours=21:00-06:00"),
        ("weights.delay=5", "policy.quiet_hours=21:00-05:30"), ("weights.delay=5", "policy.quiet_hours=21:00-06:00")]
    assert parse_sweep("weights.delay= 0, 2") == ("weights.delay", ("0", "2"))
    with pytest.raises(DataError):
        sweep_settings(["weights.delay=0", "weights.delay=1"])
    with pytest.raises(DataError):
        sweep_settings(["weights.delay=" + ",".join(str(i) for i in range(65))])


def test_dominance_needs_every_figure_at_least_as_good_and_one_better():
    base = PlanStats(100.0, 80.0, 300.0, 10, 5, 1.5, 4.0, 20, 0.0)
    better_reach = PlanStats(101.0, 80.0, 300.0, 10, 5, 1.5, 4.0, 20, 0.0)
    more_delay = PlanStats(101.0, 80.0, 300.0, 11, 5, 1.5, 4.0, 20, 0.0)
    assert dominates(better_reach, base) and not dominates(base, better_reach)
    assert not dominates(more_delay, base) and not dominates(base, more_delay)
    assert not dominates(base, base)
