"""The hand-made yardstick of `make bench` keeps every hard rule too."""
from scheduler.solver.baseline import baseline_plan
from scheduler.solver.run import plan_week
from scheduler.verify import verify

from model_helpers import WEEK, dataset, policy, relay, segment


def test_baseline_is_valid_and_the_optimiser_reaches_more_people():
    ds = dataset(relays=[relay("vov", "06:00", 15)],
                 segments=[segment(f"s{i}", minutes=3, min_plays=2, max_plays=2) for i in range(4)],
                 pol=policy(broadcast_days=["mon", "tue", "wed"]))
    base = baseline_plan(ds, WEEK)
    assert verify(base) == []
    first = sorted(p.start for p in base.placements if p.kind == "segment")[0]
    assert (first.hour, first.minute) == (6, 15)  # right after the morning relay
    ours = plan_week(ds, WEEK, workers=1)
    reach = lambda plan: sum(p.listeners for p in plan.placements if p.kind == "segment")  # noqa: E731
    assert reach(ours) > 2 * reach(base)
