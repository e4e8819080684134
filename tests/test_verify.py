"""The independent checker catches every kind of broken rule on a tampered plan."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.solver.run import plan_week
from scheduler.verify import verify

from model_helpers import WEEK, dataset, policy, relay, segment, site


@pytest.fixture(scope="module")
def solved():
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2")],
                 relays=[relay("vov", "06:00", 15), relay("gl", "18:00", 10, mode="deferred", max_delay=30)],
                 segments=[segment("x", min_plays=2, max_plays=3), segment("y", minutes=5, min_plays=1, max_plays=2)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"], max_session_minutes=30))
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == []
    return ds, plan


def tamper(plan, pred, change):
    return replace(plan, placements=tuple(change(p) if pred(p) else p for p in plan.placements))


def drop(plan, pred):
    return replace(plan, placements=tuple(p for p in plan.placements if not pred(p)))


def shift(minutes):
    return lambda p: replace(p, start=p.start + timedelta(minutes=minutes), end=p.end + timedelta(minutes=minutes))


def test_missing_mandatory_relay(solved):
    ds, plan = solved
    bad = drop(plan, lambda p: p.item_id == "vov" and p.start.day == 5)
    assert any("mandatory relay vov missing on 2024-03-05" in v for v in verify(bad))


def test_moved_live_relay_and_late_deferred_relay(solved):
    ds, plan = solved
    bad = tamper(plan, lambda p: p.item_id == "vov", shift(5))
    assert any("live relay moved by 5 min" in v for v in verify(bad))
    bad = tamper(plan, lambda p: p.item_id == "gl", shift(45))
    assert any("relay gl" in v and "delayed" in v for v in verify(bad))


def test_overlap_and_window(solved):
    ds, plan = solved
    first = next(p for p in plan.placements if p.item_id == "x")
    bad = tamper(plan, lambda p: p is first, lambda p: replace(p, start=p.start.replace(hour=6, minute=5),
                                                               end=p.start.replace(hour=6, minute=8)))
    found = verify(bad)
    assert any("overlaps" in v for v in found)
    bad = tamper(plan, lambda p: p is first, lambda p: replace(p, start=p.start.replace(hour=14, minute=0),
                                                               end=p.start.replace(hour=14, minute=3)))
    assert any("outside every broadcast window" in v for v in verify(bad))


def test_plays_count_and_once_a_day(solved):
    ds, plan = solved
    assert any("segment y: 0 plays, required 1..2" in v for v in verify(drop(plan, lambda p: p.item_id == "y")))
    x = [p for p in plan.placements if p.item_id == "x" and p.site_id == "a"]
    dup = replace(x[0], start=x[0].start.replace(hour=6, minute=20), end=x[0].start.replace(hour=6, minute=23))
    bad = replace(plan, placements=plan.placements + (dup,))
    assert any("more than one play on a day" in v for v in verify(bad))


def test_session_limits(solved):
    ds, plan = solved
    tight = replace(plan, sites=tuple(
        replace(s, rules=replace(s.rules, max_session_minutes=10, max_sessions_per_day=1, daily_cap_minutes=20))
        for s in plan.sites))
    found = verify(tight)
    assert any("lasts" in v for v in found)
    assert any("sessions, at most 1" in v for v in found)
    assert any("cap 20" in v for v in found)


def test_sync_group_must_match(solved):
    ds, plan = solved
    target = next(p for p in plan.placements if p.site_id == "b" and p.item_id == "x")
    bad = tamper(plan, lambda p: p is target, shift(5))
    assert any("sync group g: b differs from a" in v for v in verify(bad))


def test_relay_minimum_must_be_met():
    ds = dataset(relays=[relay("vov", "06:00", 15), relay("vtv", "18:30", 20, mandatory=False)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"], relay_minimums={"vtv": 2}))
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == [] and len([p for p in plan.placements if p.item_id == "vtv"]) >= 2
    first = next(p for p in plan.placements if p.item_id == "vtv")
    found = verify(drop(plan, lambda p: p is first or (p.item_id == "vtv" and p.start.day != first.start.day)))
    assert any("relay minimum vtv: aired 0 time(s) this week, at least 2 required" in v for v in found)
