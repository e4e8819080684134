"""`compare`: placement changes between two plans, and each plan scored by its own rules."""
from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import timedelta

import pytest
from click.testing import CliRunner

from conftest import TINY, edit
from scheduler.cli import main
from scheduler.dataset import load_dataset
from scheduler.export.compare import compare, compare_json, format_compare
from scheduler.planfile import write_plan
from scheduler.solver.run import plan_week

NEW_SEGMENT = ("thue-dat,Thuế sử dụng đất phi nông nghiệp,3,vi,audio/mot-cua.ogg,2,3,4,,,,,"
               "TTVHTT Chư Sê,\n")


@pytest.fixture(scope="module")
def plan_a(tiny):
    return plan_week(tiny, "2024-W10", workers=1)


def _plan_b(plan_a):
    """Plan A with one of the town's segments an hour later and one play added at the town."""
    placements = list(plan_a.placements)
    i = next(i for i, p in enumerate(placements) if p.site_id == "chu-se-tt" and p.kind == "segment")
    moved = placements[i]
    placements[i] = dataclasses.replace(moved, start=moved.start + timedelta(hours=1), end=moved.end + timedelta(hours=1))
    placements.append(dataclasses.replace(moved, start=moved.start + timedelta(days=1), listeners=800.0))
    return dataclasses.replace(plan_a, placements=tuple(placements))


def test_compare_counts_moved_added_removed(plan_a):
    plan_b = _plan_b(plan_a)
    n = len(plan_a.placements)
    result = compare(plan_a, plan_b)
    assert result["placements"] == {"unchanged": n - 1, "moved": 1, "added": 1, "removed": 0}
    assert result["top_sites"] == [{"site_id": "chu-se-tt", "site": "Thị trấn Chư Sê", "moved": 1, "added": 1,
                                    "removed": 0, "changes": 2}]
    prov = result["province"]["kpis"]
    assert prov["par_plays"]["delta"] == 1 and prov["listener_plays"]["delta"] == 800
    assert result["province"]["name"] == "Gia Lai"
    assert [d["district"] for d in result["districts"]] == ["Chư Sê"]
    reverse = compare(plan_b, plan_a)
    assert reverse["placements"]["removed"] == 1 and reverse["placements"]["added"] == 0
    assert json.loads(compare_json(result)) == result


def test_format_compare_in_both_languages(plan_a):
    result = compare(plan_a, _plan_b(plan_a))
    en, vi = format_compare(result), format_compare(result, "vi")
    assert "placements: 1 moved, 1 added, 0 removed" in en and "PAR plays" in en
    assert "Thị trấn Chư Sê (chu-se-tt): 2 (1 moved, 1 added, 0 removed)" in en
    assert "lượt phát: 1 dời giờ, 1 thêm, 0 bỏ" in vi and "Lượt phát CCHC" in vi


def test_a_plan_keeps_its_score_after_the_dataset_gains_a_segment(tiny_copy):
    """Before: `loa compare A B` scored A against the edited dataset, so A met only 76.9% of the
    required plays; A met all of them when it was made."""
    plan_a = plan_week(load_dataset(tiny_copy), "2024-W10", workers=1)
    with (tiny_copy / "segments.csv").open("a", encoding="utf-8") as fh:
        fh.write(NEW_SEGMENT)
    plan_b = plan_week(load_dataset(tiny_copy), "2024-W10", workers=1)
    assert any(p.item_id == "thue-dat" for p in plan_b.placements)

    prov = compare(plan_a, plan_b)["province"]["kpis"]
    assert prov["required_met_pct"] == {"a": 100, "b": 100, "delta": 0}
    assert prov["par_plays"]["delta"] > 0


def test_cli_compares_plan_files_without_their_dataset(tiny_copy, tmp_path):
    edit(tiny_copy / "policy.toml", "daily_cap_minutes = 120", "daily_cap_minutes = 100")
    a = write_plan(plan_week(load_dataset(TINY), "2024-W10", workers=1), tmp_path / "a" / "plan.json")
    b = write_plan(plan_week(load_dataset(tiny_copy), "2024-W10", workers=1), tmp_path / "b" / "plan.json")
    shutil.rmtree(tiny_copy)  # B's dataset is gone
    runner = CliRunner()
    res = runner.invoke(main, ["compare", str(a), str(b), "--json"])
    assert res.exit_code == 0, res.output
    busiest = json.loads(res.stdout)["province"]["kpis"]["airtime_cap_max_pct"]
    assert busiest["b"] == pytest.approx(busiest["a"] * 120 / 100, rel=0.02)  # each plan's own cap
    res = runner.invoke(main, ["compare", str(a), str(b), "--lang", "vi"])
    assert res.exit_code == 0 and "Lượt phát CCHC" in res.output
    help_text = runner.invoke(main, ["compare", "--help"]).output
    assert "Example:" in help_text and "loa compare " in help_text.split("Example:")[1]
