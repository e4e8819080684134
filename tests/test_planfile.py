"""plan.json round-trips exactly, keeps Vietnamese text, and a bad file is a clear error."""
from __future__ import annotations

import json

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
    assert back.sites == plan.sites and back.items == plan.items
    text = path.read_text(encoding="utf-8")
    assert "Cải cách hành chính a" in text and "+07:00" in text
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe not utf-8", "UTF-8 JSON"),
    (b"{\"week\": \"2024-W10\"}", "plan.json written by `loa plan`"),
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
