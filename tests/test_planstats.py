"""The figures `make bench` compares plans by, on plans whose answer is known."""
from dataclasses import replace

from scheduler.export.planstats import plan_stats
from scheduler.solver.baseline import greedy_plan

from model_helpers import WEEK, dataset, policy, relay, segment


def test_people_reached_at_least_once_counts_each_person_once():
    ds = dataset(relays=[relay("gl", "18:00", 15, mode="deferred", max_delay=60)],
                 segments=[segment("x", min_plays=2, max_plays=2, priority=3, topic=4)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    plan = greedy_plan(ds, WEEK)
    # both plays heard by half the people: 1 - 0.5 * 0.5 of them hear it at least once
    plan = replace(plan, placements=tuple(replace(p, listeners=500.0) if p.kind == "segment" else p
                                          for p in plan.placements))
    stats = plan_stats(plan)
    assert stats.plays == 2 and stats.listener_plays == 1000.0
    assert abs(stats.people_reached - 750.0) < 1e-9
    assert stats.weighted_reach == 3000.0
    assert stats.topics == 1.0
    delays = [p.start.hour * 60 + p.start.minute - 18 * 60 for p in plan.placements if p.item_id == "gl"]
    assert stats.relay_delay_min == sum(delays)
    days = sorted(p.start.weekday() for p in plan.placements if p.kind == "segment")
    assert stats.consecutive_days == (1 if days[1] - days[0] == 1 else 0)
    assert plan_stats(plan, site_ids=set()).plays == 0


def test_model_reach_counts_a_sync_group_once():
    """Members of a sync group share one solve and carry its score: the model's reach of the
    group is counted once, split by population, so it equals what is measured where the
    audience is flat over the bins."""
    from scheduler.solver.run import plan_week
    from model_helpers import curve, profile, site

    flat = curve(("00:00", 0.5))
    ds = dataset(sites=[site("a", population=1000, sync_group="g"), site("b", population=3000, sync_group="g")],
                 relays=[relay("vov", "18:00", 15)], segments=[segment("x", min_plays=1, max_plays=2, priority=2)],
                 profiles={"p": profile(points=flat)}, pol=policy(broadcast_days=["mon", "tue", "wed"]))
    stats = plan_stats(plan_week(ds, WEEK, workers=1))
    assert stats.plays == 4  # two plays at each member
    assert abs(stats.model_reach - stats.weighted_reach) < 1e-3 * stats.weighted_reach
