"""The yardsticks of `make bench` keep every hard rule too, and each does what its name says."""
import pytest

from scheduler.solver.baseline import baseline_plan, evening_plan, greedy_plan
from scheduler.solver.run import plan_week
from scheduler.verify import verify

from model_helpers import WEEK, curve, dataset, policy, profile, relay, segment


def reach(plan):
    return sum(p.listeners for p in plan.placements if p.kind == "segment")


def week_with_evening_news():
    return dataset(relays=[relay("vov", "06:00", 15), relay("news", "18:00", 15, mode="deferred", max_delay=60)],
                   segments=[segment(f"s{i}", minutes=3, min_plays=2, max_plays=3, priority=1 + i % 5)
                             for i in range(6)],
                   profiles={"p": profile(points=curve(("00:00", 0.1), ("06:00", 0.2), ("18:00", 0.3),
                                                       ("19:00", 0.9), ("20:00", 0.1)))},
                   pol=policy(broadcast_days=["mon", "tue", "wed", "thu", "fri"], max_session_minutes=40))


def test_handmade_baseline_is_valid_and_the_optimiser_reaches_more_people():
    ds = dataset(relays=[relay("vov", "06:00", 15)],
                 segments=[segment(f"s{i}", minutes=3, min_plays=2, max_plays=2) for i in range(4)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    base = baseline_plan(ds, WEEK)
    assert verify(base) == []
    first = sorted(p.start for p in base.placements if p.kind == "segment")[0]
    assert (first.hour, first.minute) == (6, 15)  # right after the morning relay
    assert reach(plan_week(ds, WEEK, workers=1)) > 2 * reach(base)


@pytest.mark.parametrize("planner", [baseline_plan, greedy_plan, evening_plan])
def test_every_baseline_meets_every_hard_rule(planner):
    plan = planner(week_with_evening_news(), WEEK)
    assert verify(plan) == []
    assert all(u.status.planned for u in plan.units)
    assert sum(p.kind == "segment" for p in plan.placements) >= 12  # the required plays at least


def test_greedy_puts_segments_where_the_audience_is():
    plan = greedy_plan(week_with_evening_news(), WEEK)
    segs = [p for p in plan.placements if p.kind == "segment"]
    assert all(p.start.hour == 19 for p in segs)  # 19:00-20:00 is the best hour of the curve
    assert reach(plan) > reach(baseline_plan(week_with_evening_news(), WEEK))


def test_evening_baseline_airs_after_the_news_on_rotating_days():
    plan = evening_plan(week_with_evening_news(), WEEK)
    news = {p.start.date(): p.end for p in plan.placements if p.item_id == "news"}
    firsts = {}
    for p in sorted(plan.placements, key=lambda p: p.start):
        if p.kind == "segment":
            firsts.setdefault(p.start.date(), p.start)
            if p.item_id == "s0":
                assert p.start.hour >= 18
    assert all(firsts[d] == news[d] for d in firsts)  # each evening's items start as the news ends
    days: dict[str, set] = {}
    for p in plan.placements:
        if p.kind == "segment":
            days.setdefault(p.item_id, set()).add(p.start.weekday())
    assert len({frozenset(d) for d in days.values()}) >= 4  # each segment has its own days
    per_day = [sum(d in ds for ds in days.values()) for d in range(5)]
    assert min(per_day) >= 2  # every evening carries some of them
