"""Each hard rule of the planner, alone: the plan keeps it (verify.py agrees), and the objective
puts PAR where people listen. Small in-memory datasets with known optima."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from scheduler.domain import Blackout
from scheduler.solver.run import plan_week
from scheduler.rules import split_sessions
from scheduler.verify import verify

from model_helpers import WEEK, curve, dataset, policy, profile, relay, segment, site


def solve(ds, **kw):
    plan = plan_week(ds, WEEK, workers=1, **kw)
    assert verify(plan) == []
    return plan


def segs(plan, sid=None):
    return [p for p in plan.placements if p.kind == "segment" and (sid is None or p.item_id == sid)]


def test_segment_lands_in_the_window_with_more_listeners():
    ds = dataset(segments=[segment("a")], pol=policy(broadcast_days=["mon"]))
    [p] = segs(solve(ds))
    assert p.start.hour in (18, 19)  # evening availability 0.8 vs morning 0.2
    assert p.listeners == pytest.approx(800)


def test_listeners_follow_the_curve_within_the_window():
    points = curve(("00:00", 0.1), ("18:00", 0.3), ("19:00", 0.9), ("19:30", 0.3))
    ds = dataset(segments=[segment("a")], pol=policy(broadcast_days=["mon"]), profiles={"p": profile("p", points)})
    [p] = segs(solve(ds))
    assert datetime(2024, 3, 4, 19, 0) <= p.start <= datetime(2024, 3, 4, 19, 27)


def test_items_never_overlap_even_when_all_want_the_same_minutes():
    points = curve(("00:00", 0.1), ("18:00", 0.2), ("19:00", 0.9), ("19:10", 0.2))
    ds = dataset(segments=[segment(f"s{i}", minutes=6) for i in range(4)], pol=policy(broadcast_days=["mon"]),
                 profiles={"p": profile("p", points)})
    ps = sorted(segs(solve(ds)), key=lambda p: p.start)
    assert len(ps) == 4
    assert all(a.end <= b.start for a, b in zip(ps, ps[1:]))


def test_mandatory_live_relay_airs_at_source_time_every_broadcast_day():
    ds = dataset(relays=[relay("vov", "06:00", 30)], pol=policy(broadcast_days=["mon", "tue", "wed"]))
    ps = [p for p in solve(ds).placements if p.kind == "relay"]
    assert [(p.start.day, p.start.hour, p.start.minute, p.minutes) for p in ps] == [(4, 6, 0, 30), (5, 6, 0, 30), (6, 6, 0, 30)]


def test_deferred_relay_waits_only_as_long_as_it_must():
    # source 18:00, but a live relay holds 18:00-18:30: the deferred one starts right after
    ds = dataset(relays=[relay("live", "18:00", 30), relay("gl", "18:00", 15, mode="deferred", max_delay=60)],
                 pol=policy(broadcast_days=["mon"], weights={"delay": 5.0}))
    [p] = [p for p in solve(ds).placements if p.item_id == "gl"]
    assert (p.start.hour, p.start.minute) == (18, 30)
    assert dict(p.score)["delay_min"] == 30


def test_optional_relay_outside_windows_is_dropped_not_fatal():
    ds = dataset(relays=[relay("late", "21:30", 30, mandatory=False)], pol=policy(broadcast_days=["mon"]))
    assert solve(ds).placements == ()


def test_weekly_plays_between_min_and_max_once_a_day():
    ds = dataset(segments=[segment("a", min_plays=3, max_plays=5), segment("b", min_plays=2, max_plays=2)])
    plan = solve(ds)
    per_day = Counter((p.item_id, p.start.date()) for p in segs(plan))
    assert max(per_day.values()) == 1
    assert len(segs(plan, "a")) == 5  # every play adds reach: the maximum
    assert len(segs(plan, "b")) == 2  # capped by max_plays


def test_min_gap_between_plays():
    ds = dataset(segments=[segment("a", min_plays=2, max_plays=4, min_gap_min=3 * 1440)])
    starts = sorted(p.start for p in segs(solve(ds), "a"))
    assert len(starts) == 3  # three days apart: Mon, Thu, Sun is the most a week holds
    assert all((b - a).total_seconds() >= 3 * 86400 for a, b in zip(starts, starts[1:]))


def test_validity_and_language_and_scope():
    from datetime import date
    ds = dataset(segments=[segment("late", min_plays=1, max_plays=7, valid_from=date(2024, 3, 8)),
                           segment("jrai", language="jra", max_plays=7),
                           segment("other", max_plays=7, scope=("c2",))])
    plan = solve(ds)
    assert {p.start.date() for p in segs(plan, "late")} == {date(2024, 3, d) for d in (8, 9, 10)}
    assert segs(plan, "jrai") == [] and segs(plan, "other") == []


def test_session_count_length_and_daily_cap():
    # morning relay + evening relay; a third session would be needed for noon items: forbidden
    pol = policy(broadcast_days=["mon"], max_sessions_per_day=2, max_session_minutes=20, daily_cap_minutes=50,
                 windows={"morning": "06:00-07:00", "noon": "11:00-12:00", "evening": "18:00-20:00"})
    points = curve(("00:00", 0.1), ("11:00", 0.9), ("12:00", 0.1))
    ds = dataset(relays=[relay("m", "06:00", 10), relay("e", "18:00", 10)],
                 segments=[segment(f"s{i}", minutes=5, max_plays=1, min_plays=0) for i in range(6)],
                 pol=pol, profiles={"p": profile("p", points)})
    plan = solve(ds)
    runs = split_sessions(plan.placements, 10)
    assert len(runs) <= 2
    assert all((max(p.end for p in r) - r[0].start).total_seconds() <= 20 * 60 for r in runs)
    assert sum(p.minutes for p in plan.placements) <= 50
    assert not any(p.start.hour == 11 for p in plan.placements)


def test_sync_group_airs_identical_schedules():
    ds = dataset(sites=[site("a", sync_group="g"), site("b", population=5000, sync_group="g", area="c2")],
                 relays=[relay("vov", "06:00", 15)], segments=[segment("x", min_plays=2, max_plays=3)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    plan = solve(ds)
    shape = lambda sid: [(p.kind, p.item_id, p.start) for p in plan.placements if p.site_id == sid]  # noqa: E731
    assert shape("a") == shape("b") and shape("a")
    assert len(plan.units) == 1


def test_blackout_cancels_relay_and_blocks_segments():
    black = Blackout("b", "Quốc tang", datetime(2024, 3, 4), datetime(2024, 3, 5))
    ds = dataset(relays=[relay("vov", "06:00", 15)], segments=[segment("x", max_plays=7)],
                 pol=policy(broadcast_days=["mon", "tue"]), blackouts=(black,))
    plan = solve(ds)
    assert {p.start.day for p in plan.placements} == {5}


def test_spread_dayparts_weight_moves_a_repeat_to_another_daypart():
    pol = policy(broadcast_days=["mon", "tue"], weights={"spread_dayparts": 5000.0})  # > reach lost (3 x 600)
    ds = dataset(segments=[segment("a", min_plays=2, max_plays=2)], pol=pol)
    parts = {p.start.hour < 12 for p in segs(solve(ds))}
    assert parts == {True, False}
    ds0 = dataset(segments=[segment("a", min_plays=2, max_plays=2)], pol=policy(broadcast_days=["mon", "tue"]))
    assert {p.start.hour < 12 for p in segs(solve(ds0))} == {False}


def test_sync_group_keeps_the_strictest_member_rules():
    from scheduler.policy import policy_from_tree

    pol = policy_from_tree({
        "policy": {"windows": {"morning": "05:00-07:00", "evening": "18:00-20:00"}, "quiet_hours": ["21:00-05:00"],
                   "broadcast_days": ["mon", "tue"], "time_budget": 2.0, "max_session_minutes": 60},
        "weights": {"spread_days": 0.0, "spread_dayparts": 0.0, "variety": 0.0},
        "site": {"b": {"quiet_hours": ["19:30-06:30"], "daily_cap_minutes": 10}}})
    points = curve(("00:00", 0.1), ("05:00", 0.9), ("06:00", 0.1), ("19:30", 0.9), ("20:00", 0.1))
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2")],
                 segments=[segment(f"x{i}", minutes=4, min_plays=0, max_plays=2) for i in range(4)],
                 pol=pol, profiles={"p": profile("p", points)})
    plan = solve(ds)  # verify checks each member with its own rules
    assert plan.placements
    assert all(6 * 60 + 30 <= p.start.hour * 60 + p.start.minute < 19 * 60 + 30 for p in plan.placements)


def test_session_around_a_relay_never_exceeds_the_limit():
    # found by the property test: a 16-min relay at 19:00 with 17-min sessions on a 5-min grid
    ds = dataset(relays=[relay("r", "19:00", 16)], segments=[segment("a", minutes=2, min_plays=0, max_plays=1)],
                 pol=policy(broadcast_days=["wed"], max_session_minutes=17, max_sessions_per_day=1,
                            daily_cap_minutes=20))
    plan = solve(ds)
    assert [p.item_id for p in plan.placements] in (["r"], ["r", "a"])


def test_four_relays_in_one_evening_window_plan_as_separate_sessions():
    """VOV1 06:00, GLTV 17:00, VOV1 18:00 and VTV1 19:00, with ONE evening window: the evening holds
    three sessions, which a one-session-per-window model could only plan by cutting the window."""
    pol = policy(broadcast_days=["mon", "tue"], max_sessions_per_day=4, max_session_minutes=45, daily_cap_minutes=150,
                 windows={"morning": "05:30-07:30", "evening": "16:30-20:30"})
    ds = dataset(relays=[relay("vov6", "06:00", 30), relay("gltv", "17:00", 15), relay("vov18", "18:00", 30),
                         relay("vtv19", "19:00", 45)],
                 segments=[segment("a", minutes=3, min_plays=2, max_plays=2)], pol=pol)
    plan = solve(ds)
    for day in (4, 5):
        runs = split_sessions([p for p in plan.placements if p.start.day == day], 10)
        evening = [r for r in runs if r[0].start.hour >= 16]
        assert len(evening) == 3, [[(p.item_id, p.start.strftime("%H:%M")) for p in r] for r in runs]
        aired = {p.item_id: p.start.strftime("%H:%M") for p in plan.placements if p.start.day == day and p.kind == "relay"}
        assert aired == {"vov6": "06:00", "gltv": "17:00", "vov18": "18:00", "vtv19": "19:00"}


def test_two_sessions_in_one_window_only_with_the_gap_between():
    """Two live relays 45 min apart in a 2-hour window, sessions of at most 30 min: they air as two
    sessions whose silence is at least session_gap_minutes."""
    pol = policy(broadcast_days=["mon"], max_session_minutes=30, max_sessions_per_day=2, session_gap_minutes=10,
                 windows={"evening": "17:00-19:00"})
    ds = dataset(relays=[relay("a", "17:00", 20), relay("b", "17:45", 20)], pol=pol)
    runs = split_sessions(solve(ds).placements, 10)
    assert len(runs) == 2 and (runs[1][0].start - runs[0][-1].end).total_seconds() >= 10 * 60
    too_close = dataset(relays=[relay("a", "17:00", 20), relay("b", "17:25", 20)], pol=pol)  # 5 min apart
    unit = plan_week(too_close, WEEK, workers=1).units[0]
    assert unit.status == "INFEASIBLE"
    assert any("sessions at least 10 min apart" in c for c in unit.conflicts)


def test_relay_minimum_airs_an_optional_relay_on_enough_days():
    pol = policy(broadcast_days=["mon", "tue", "wed", "thu"], max_sessions_per_day=3,
                 windows={"morning": "05:30-07:30", "evening": "16:30-20:30"},
                 relay_minimums={"vtv19": 3})
    ds = dataset(relays=[relay("vov6", "06:00", 30), relay("vtv19", "19:00", 45, mandatory=False)],
                 segments=[segment("a", minutes=3)], pol=pol)
    plan = solve(ds)
    assert len([p for p in plan.placements if p.item_id == "vtv19"]) >= 3
    assert plan.sites[0].rules.relay_minimums == (("vtv19", 3),)


def test_a_relay_minimum_by_source_counts_every_relay_of_the_source():
    pol = policy(broadcast_days=["mon", "tue"], relay_minimums={"VOV1": 3},
                 windows={"morning": "05:30-07:30", "evening": "16:30-20:30"})
    ds = dataset(relays=[relay("vov6", "06:00", 30, mandatory=False), relay("vov18", "18:00", 30, mandatory=False)],
                 pol=pol)  # the helper's relays are all of source VOV1
    assert len([p for p in solve(ds).placements if p.kind == "relay"]) >= 3


def test_a_relay_minimum_that_cannot_fit_is_explained():
    pol = policy(broadcast_days=["mon", "tue", "wed"], daily_cap_minutes=40, relay_minimums={"vtv19": 2},
                 windows={"morning": "05:30-07:30", "evening": "16:30-20:30"})
    ds = dataset(relays=[relay("vov6", "06:00", 30), relay("vtv19", "19:00", 45, mandatory=False)], pol=pol)
    unit = plan_week(ds, WEEK, workers=1).units[0]
    assert unit.status == "INFEASIBLE"
    text = "\n".join(unit.conflicts)
    assert 'relays "vtv19" air at least 2 time(s) this week' in text
