"""Whole-week runs: determinism, parallel = serial, and random small weeks either plan
cleanly (verify passes) or are explained."""
from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings, strategies as st

from scheduler.domain import SolveStatus
from scheduler.planfile import plan_to_dict, write_plan
from scheduler.solver.run import plan_week
from scheduler.verify import verify

from model_helpers import WEEK, dataset, policy, relay, segment, site


def sample():
    return dataset(sites=[site("a"), site("b", population=3000, area="c2", languages=("vi", "jra")),
                          site("c", sync_group="g"), site("d", sync_group="g", area="c2")],
                   relays=[relay("vov", "06:00", 15), relay("jr", "06:30", 15, language="jra", mandatory=False)],
                   segments=[segment(f"s{i}", minutes=2 + i % 4, min_plays=1, max_plays=3, topic=1 + i % 10,
                                     priority=1 + i % 5) for i in range(8)],
                   pol=policy(max_session_minutes=30, weights={"spread_days": 200.0, "variety": 300.0,
                                                               "spread_dayparts": 100.0}))


def test_same_input_gives_byte_identical_plan_json(tmp_path):
    ds = sample()
    a = write_plan(plan_week(ds, WEEK, workers=2), tmp_path / "a" / "plan.json").read_bytes()
    b = write_plan(plan_week(ds, WEEK, workers=1), tmp_path / "b" / "plan.json").read_bytes()
    assert a == b
    assert b'"site": "a"' in a


def test_every_unit_reports_status_and_gap():
    plan = plan_week(sample(), WEEK, workers=1)
    assert sorted(u.unit_id for u in plan.units) == ["a", "b", "group:g"]
    for u in plan.units:
        assert u.status.planned
        assert 0 <= u.gap <= 0.01
    assert plan_to_dict(plan)["units"][0]["gap"] is not None


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])  # solver budgets: fixed examples
@given(
    relays=st.lists(st.tuples(st.sampled_from(["05:30", "06:00", "06:45", "18:00", "19:00", "21:30"]),
                              st.integers(5, 45), st.booleans(), st.sampled_from(["live", "deferred"])),
                    max_size=3),
    segs=st.lists(st.tuples(st.integers(1, 15), st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=5),
    cap=st.integers(20, 150), sessions=st.integers(1, 3), length=st.integers(10, 60),
)
# found by hypothesis in CI: infeasible, and the search with the objective ran out of its budget
# before proving it; the explanation (no objective) proves it and names the conflict
@example(relays=[], segs=[(1, 2, 0), (9, 2, 0), (10, 3, 0)], cap=20, sessions=1, length=19)
def test_random_weeks_plan_cleanly_or_are_explained(relays, segs, cap, sessions, length):
    rs = [relay(f"r{i}", t, m, mandatory=mand, mode=mode, max_delay=30 if mode == "deferred" else 0)
          for i, (t, m, mand, mode) in enumerate(relays)]
    ss = [segment(f"s{i}", minutes=m, min_plays=min(lo, lo + extra), max_plays=lo + extra)
          for i, (m, lo, extra) in enumerate(segs)]
    ds = dataset(relays=rs, segments=ss,
                 pol=policy(broadcast_days=["mon", "tue", "wed"], daily_cap_minutes=cap,
                            max_sessions_per_day=sessions, max_session_minutes=length, time_budget=1.0))
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == []
    for u in plan.units:
        if u.status == "INFEASIBLE":
            assert u.conflicts and all(isinstance(c, str) and c for c in u.conflicts)
        else:
            assert u.status.planned, u


def test_identical_sites_share_one_solve_and_keep_their_own_listeners():
    ds = dataset(sites=[site("a", population=1000), site("b", population=4000, area="c2")],
                 relays=[relay("vov", "06:00", 15)], segments=[segment("x", min_plays=2, max_plays=3)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == []
    a = [(p.item_id, p.start, p.listeners * 4) for p in plan.placements if p.site_id == "a"]
    b = [(p.item_id, p.start, p.listeners) for p in plan.placements if p.site_id == "b"]
    assert [x[:2] for x in a] == [x[:2] for x in b]
    assert all(abs(x[2] - y[2]) < 1e-6 for x, y in zip(a, b))
    ua, ub = sorted(plan.units, key=lambda u: u.unit_id)
    assert abs(ub.objective - 4 * ua.objective) < 1e-6 and ub.status == ua.status


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])  # solver budgets: fixed examples
@given(
    black=st.lists(st.tuples(st.integers(0, 2), st.integers(4, 20), st.integers(1, 6)), max_size=2),
    windows=st.sampled_from([{"morning": "05:30-07:30", "evening": "17:00-20:30"},
                             {"morning": "06:00-06:45", "noon": "11:00-12:00", "evening": "18:00-19:00"},
                             {"day": "06:00-20:00"}]),
    deferred=st.integers(5, 30), gap=st.sampled_from([1, 5, 10, 20]), slot=st.sampled_from([5, 15]),
    plays=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=4),
)
def test_random_groups_and_blackouts_plan_cleanly_or_are_explained(black, windows, deferred, gap, slot, plays):
    from datetime import datetime, timedelta
    from scheduler.domain import Blackout
    blackouts = tuple(Blackout(f"b{i}", "Mất điện", datetime(2024, 3, 4 + d, h), datetime(2024, 3, 4 + d, h) +
                               timedelta(hours=n)) for i, (d, h, n) in enumerate(black))
    ds = dataset(sites=[site("a", sync_group="g"), site("b", population=3000, sync_group="g", area="c2"), site("c")],
                 relays=[relay("live", "06:00", 15), relay("gl", "17:00", deferred, mode="deferred", max_delay=90)],
                 segments=[segment(f"s{i}", minutes=m, min_plays=lo, max_plays=lo + extra, topic=1 + i)
                           for i, (m, lo, extra) in enumerate(plays)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"], windows=windows, session_gap_minutes=gap,
                            slot_minutes=slot, max_session_minutes=40, time_budget=1.0),
                 blackouts=blackouts)
    plan = plan_week(ds, WEEK, workers=1)
    assert verify(plan) == []
    for u in plan.units:
        assert u.status.planned or (u.status is SolveStatus.INFEASIBLE and u.conflicts), u
