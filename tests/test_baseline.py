"""The yardsticks of `make bench` keep every hard rule too (weekly relay minimums and several
sessions in one window included), and each does what its name says."""
import pytest

from conftest import BUNDLED
from scheduler.dataset import load_dataset
from scheduler.pipeline import select_sites
from scheduler.solver.baseline import (BASELINES, _Relays, baseline_plan, evening_plan, greedy_plan, plan_with)
from scheduler.solver.problem import build_problem, build_units
from scheduler.solver.run import plan_week
from scheduler.verify import verify

from model_helpers import WEEK, curve, dataset, policy, profile, relay, segment

PLANNERS = [baseline_plan, greedy_plan, evening_plan]


def reach(plan):
    return sum(p.listeners for p in plan.placements if p.kind == "segment")


def week_with_evening_news():
    return dataset(relays=[relay("vov", "06:00", 15), relay("news", "18:00", 15, mode="deferred", max_delay=60)],
                   segments=[segment(f"s{i}", minutes=3, min_plays=2, max_plays=3, priority=1 + i % 5)
                             for i in range(6)],
                   profiles={"p": profile(points=curve(("00:00", 0.1), ("06:00", 0.2), ("18:00", 0.3),
                                                       ("19:00", 0.9), ("20:00", 0.1)))},
                   pol=policy(broadcast_days=["mon", "tue", "wed", "thu", "fri"], max_session_minutes=40))


def week_with_relay_minimums():
    """The bundled week in small: the news deferred, two evening relays each due 3 evenings of 5,
    sessions of at most 45 min: an evening with the TV news holds two sessions."""
    return dataset(relays=[relay("vov", "06:00", 15), relay("news", "17:00", 15, mode="deferred", max_delay=150),
                           relay("radio", "18:00", 30, mandatory=False), relay("tv", "19:00", 45, mandatory=False)],
                   segments=[segment(f"s{i}", minutes=2 + i % 3, min_plays=1, max_plays=3, priority=1 + i % 5,
                                     topic=1 + i % 4) for i in range(8)],
                   profiles={"p": profile(points=curve(("00:00", 0.05), ("06:00", 0.3), ("07:00", 0.1),
                                                       ("17:00", 0.3), ("18:00", 0.7), ("20:00", 0.1)))},
                   pol=policy(broadcast_days=["mon", "tue", "wed", "thu", "fri"], max_session_minutes=45,
                              windows={"morning": "05:30-07:30", "evening": "16:30-20:30"}, slot_minutes=15,
                              max_sessions_per_day=3, relay_minimums={"radio": 3, "tv": 3}))


def test_handmade_baseline_is_valid_and_the_optimiser_reaches_more_people():
    ds = dataset(relays=[relay("vov", "06:00", 15)],
                 segments=[segment(f"s{i}", minutes=3, min_plays=2, max_plays=2) for i in range(4)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    base = baseline_plan(ds, WEEK)
    assert verify(base) == []
    first = sorted(p.start for p in base.placements if p.kind == "segment")[0]
    assert (first.hour, first.minute) == (6, 15)  # right after the morning relay
    assert reach(plan_week(ds, WEEK, workers=1)) > 2 * reach(base)


@pytest.mark.parametrize("planner", PLANNERS)
def test_every_baseline_meets_every_hard_rule(planner):
    plan = planner(week_with_evening_news(), WEEK)
    assert verify(plan) == []
    assert all(u.status.planned for u in plan.units)
    assert sum(p.kind == "segment" for p in plan.placements) >= 12  # the required plays at least


@pytest.mark.parametrize("planner", PLANNERS)
def test_every_baseline_keeps_the_weekly_relay_minimums(planner):
    plan = planner(week_with_relay_minimums(), WEEK)
    assert verify(plan) == [] and all(u.status.planned for u in plan.units)
    aired = [p for p in plan.placements if p.kind == "relay"]
    assert sum(p.item_id == "radio" for p in aired) >= 3 and sum(p.item_id == "tv" for p in aired) >= 3
    # an evening with the TV news has the provincial news in a session of its own before it
    tv_days = {p.start.date() for p in aired if p.item_id == "tv"}
    news = {p.start.date(): p for p in aired if p.item_id == "news"}
    assert all(news[d].end.hour * 60 + news[d].end.minute <= 18 * 60 + 50 for d in tv_days)


def test_relay_days_are_searched_again_when_a_first_choice_leaves_a_minimum_no_room():
    """Two morning relays cannot share a morning (45-min sessions after a 30-min news), and an
    evening relay cannot join a day that already has two morning sessions: a planner who puts
    the evening relay on the wrong days first must take them back."""
    ds = dataset(relays=[relay("vov", "06:00", 30), relay("jrai", "06:30", 15, mandatory=False),
                         relay("bahnar", "06:45", 15, mandatory=False),
                         relay("news", "17:00", 15, mode="deferred", max_delay=150),
                         relay("tv", "19:00", 45, mandatory=False)],
                 segments=[segment("s0", min_plays=1, max_plays=2)],
                 pol=policy(broadcast_days=["mon", "tue", "wed", "thu", "fri"], max_session_minutes=45,
                            windows={"morning": "05:30-07:30", "evening": "16:30-20:30"}, slot_minutes=15,
                            max_sessions_per_day=3, relay_minimums={"jrai": 3, "bahnar": 2, "tv": 3}))
    problem = build_problem(ds, build_units(ds)[0], WEEK)
    relays = _Relays(problem)
    tried = []

    def worst_order(key, candidates):  # Jrai on Mon-Wed, then the TV news on Thu and Fri first
        tried.extend(c for c in candidates if c[0] == key)
        return sorted(candidates, key=lambda rd: ((rd[1] in (3, 4)) != (key == "tv"), rd))

    assert relays.choose_minimums(worst_order)
    days = {rid: {d for d, ids in relays.needed.items() if rid in ids} for rid in ("jrai", "bahnar", "tv")}
    assert days == {"jrai": {0, 1, 2}, "bahnar": {3, 4}, "tv": {0, 1, 2}}
    assert ("tv", 3) in tried  # tried first, and taken back
    for planner in PLANNERS:
        assert verify(planner(ds, WEEK)) == []


def test_greedy_puts_segments_where_the_audience_is():
    plan = greedy_plan(week_with_evening_news(), WEEK)
    segs = [p for p in plan.placements if p.kind == "segment"]
    assert all(p.start.hour == 19 for p in segs)  # 19:00-20:00 is the best hour of the curve
    assert reach(plan) > reach(baseline_plan(week_with_evening_news(), WEEK))


def test_greedy_gives_the_relay_minimums_the_days_that_cost_the_items_least():
    """The TV news fills the best evening hour: the greedy carries it where the items lose least
    (here Sunday, when the evening audience is lowest), the evening planner by rotation."""
    sunday_low = curve(("00:00", 0.05), ("17:00", 0.3), ("19:00", 0.4), ("20:00", 0.1))
    weekday = curve(("00:00", 0.05), ("17:00", 0.3), ("19:00", 0.9), ("20:00", 0.1))
    prof = profile(points=weekday)
    prof.curves["sunday"] = sunday_low
    ds = dataset(relays=[relay("news", "17:00", 15, mode="deferred", max_delay=150),
                         relay("tv", "19:00", 45, mandatory=False)],
                 segments=[segment(f"s{i}", min_plays=1, max_plays=1) for i in range(3)],
                 profiles={"p": prof},
                 pol=policy(windows={"evening": "16:30-20:30"}, slot_minutes=15, max_session_minutes=45,
                            relay_minimums={"tv": 1}))
    plan = greedy_plan(ds, WEEK)
    assert verify(plan) == []
    assert [p.start.weekday() for p in plan.placements if p.item_id == "tv"] == [6]


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


@pytest.fixture(scope="module")
def bundled():
    return load_dataset(BUNDLED)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_meets_every_hard_rule_on_the_bundled_week(bundled, name):
    """One district of the bundled week (Chư Sê: VOV1 18:00, VTV1 19:00 and VOV4 Jrai minimums)."""
    plan = plan_with(BASELINES[name], bundled, "2024-W10", select_sites(bundled, ("chu-se",)))
    assert len(plan.sites) == 15 and all(u.status.planned for u in plan.units)
    assert verify(plan) == []


def test_no_plan_exceeds_the_reach_bound_and_the_greedy_meets_it_where_the_best_hour_has_room():
    from scheduler.export.planstats import plan_stats
    from scheduler.solver.baseline import reach_bound

    ds = week_with_evening_news()
    bound = reach_bound(ds, WEEK)
    for planner in PLANNERS:
        stats = plan_stats(planner(ds, WEEK))
        assert stats.listener_plays <= bound.listener_plays + 1e-6
        assert stats.people_reached <= bound.people_reached + 1e-6
        assert stats.weighted_reach <= bound.weighted_reach + 1e-6
    ours = plan_stats(plan_week(ds, WEEK, workers=1))
    assert ours.weighted_reach <= bound.weighted_reach + 1e-6
    greedy = plan_stats(greedy_plan(ds, WEEK))  # every play in 19:00-20:00, the best hour
    assert abs(greedy.listener_plays - bound.listener_plays) < 1e-6
