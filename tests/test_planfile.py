"""plan.json round-trips exactly, keeps Vietnamese text and the rules each site was planned under,
and a bad or hostile file is a clear error naming the JSON path."""
from __future__ import annotations

import json
import shutil

import pytest

from scheduler.errors import DataError
from scheduler.planfile import read_plan, write_plan
from scheduler.solver.run import plan_week

from model_helpers import WEEK, dataset, policy, relay, segment


def test_round_trip_keeps_every_placement_and_diacritics(tmp_path):
    plan = plan_week(dataset(relays=[relay("vov", "06:00", 15)], segments=[segment("a", min_plays=2, max_plays=2)],
                             pol=policy(broadcast_days=["mon", "tue"])), WEEK, workers=1)
    path = write_plan(plan, tmp_path / "w" / "plan.json")
    back = read_plan(path)
    assert back.placements == plan.placements
    assert back.sites == plan.sites and back.items == plan.items and back.units == plan.units
    assert back.sites[0].rules.relays and back.sites[0].rules.segments == (("a", 2),)
    assert back.sites[0].availability(0) == plan.sites[0].availability(0)
    text = path.read_text(encoding="utf-8")
    assert "Cải cách hành chính a" in text and "+07:00" in text
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe not utf-8", "UTF-8 JSON"),
    (b"{\"week\": \"2024-W10\"}", "plan.json written by `loa plan`"),
    (b"[" * 100_000, "UTF-8 JSON"),
])
def test_bad_plan_file_is_a_data_error(tmp_path, content, expected):
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_plan(path)
    assert "plan.json" in str(err.value) and expected in str(err.value)


def test_missing_plan_file_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="run `loa plan` first"):
        read_plan(tmp_path / "nope.json")


def test_dataset_root_is_stored_relative_to_the_plan(tmp_path):
    plan = plan_week(dataset(segments=[segment("a")], pol=policy(broadcast_days=["mon"])), WEEK, workers=1)
    path = write_plan(plan, tmp_path / "plan.json")
    assert not json.loads(path.read_text())["dataset"]["root"].startswith("/")


@pytest.fixture
def plan_json(tmp_path):
    """(path, dict) of a real plan file, to be edited by hand as a careless or hostile user would."""
    plan = plan_week(dataset(relays=[relay("vov", "06:00", 15)], segments=[segment("a")],
                             pol=policy(broadcast_days=["mon"])), WEEK, workers=1)
    path = write_plan(plan, tmp_path / "plan.json")
    return path, json.loads(path.read_text(encoding="utf-8"))


def _rewrite(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_plan_of_the_first_format_asks_to_plan_again(plan_json):
    path, data = plan_json
    _rewrite(path, data | {"format": 1})
    with pytest.raises(DataError, match=r"field 'format', value 1: plan format 2; .*`loa plan`"):
        read_plan(path)


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["sites"][0].update(id="../../../../x"), "sites[0].id"),
    (lambda d: d["sites"][0].update(district_id="/etc"), "sites[0].district_id"),
    (lambda d: d["items"][0].update(audio="/etc/passwd") if d["items"][0]["kind"] == "segment"
        else d["items"][1].update(audio="/etc/passwd"), ".audio"),
    (lambda d: d.update(week="2024-W99"), "week"),
    (lambda d: d["placements"][0].update(score=[1, 2]), "placements[0].score"),
    (lambda d: d["placements"][0].update(listeners=float("nan")), "placements[0].listeners"),
    (lambda d: d["sites"][0]["rules"].update(daily_cap_minutes=-5), "sites[0].rules.daily_cap_minutes"),
    (lambda d: d["sites"][0].update(surprise=1), "sites[0].surprise"),
    (lambda d: d["placements"][0].update(site="nowhere"), "placements[0].site"),
    # the optional fields of reporting groups and producers are held to the same rules
    (lambda d: d["sites"][0].update(district_kind="Huyện\nX-INJECTED:1"), "sites[0].district_kind"),
    (lambda d: d["dataset"].update(province_kind="Tỉnh\x1b"), "dataset.province_kind"),
    (lambda d: d["dataset"].update(province_id="../gia-lai"), "dataset.province_id"),
    (lambda d: d["items"][0].update(producer_name="Sở\u2028VHTT"), "items[0].producer_name"),
    (lambda d: d["items"][0].update(producer_kind="Cụm\r"), "items[0].producer_kind"),
    (lambda d: d["items"][0].update(producer_id="/etc"), "items[0].producer_id"),
])
def test_a_hand_edited_plan_is_refused_with_the_json_path(plan_json, edit, where):
    path, data = plan_json
    edit(data)
    _rewrite(path, data)
    with pytest.raises(DataError) as err:
        read_plan(path)
    assert where in str(err.value) and str(path) in str(err.value)


def test_a_plan_needs_no_dataset_folder(tmp_path):
    from scheduler.dataset import load_dataset
    from scheduler.verify import verify
    from conftest import TINY

    data = tmp_path / "tiny"
    shutil.copytree(TINY, data)
    plan = plan_week(load_dataset(data), WEEK, workers=1)
    path = write_plan(plan, tmp_path / "out" / "plan.json")
    shutil.rmtree(data)
    back = read_plan(path)
    assert back.placements == plan.placements and verify(back) == []
    assert all(s.rules.segments for s in back.sites)
    seg = next(i for i in back.items if i.kind == "segment")
    assert len(seg.sha256) == 64 and seg.duration_s > 0
