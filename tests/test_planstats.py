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
