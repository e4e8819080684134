"""`make bench`: plan the bundled province for one week, several times, and compare with the
hand-made baseline. Prints a Markdown report (machine, median wall time, peak memory, per
district objective / bound / gap, listener-plays ours vs baseline)."""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
from collections import defaultdict
from pathlib import Path

from scheduler.dataset import load_dataset
from scheduler.domain import SolveStatus
from scheduler.solver.baseline import baseline_plan
from scheduler.solver.run import plan_digest, plan_week
from scheduler.verify import verify


def reach(plan, weighted: bool = False) -> float:
    prio = {i.id: i.priority for i in plan.items if i.kind == "segment"}
    return sum(p.listeners * (prio[p.item_id] if weighted else 1) for p in plan.placements if p.kind == "segment")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("data/gia_lai_2024"))
    ap.add_argument("--week", default="2024-W10")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    dataset = load_dataset(args.data)
    walls, digests = [], set()
    plan = None
    for _ in range(args.runs):
        t = time.perf_counter()
        plan = plan_week(dataset, args.week, workers=args.workers)
        walls.append(time.perf_counter() - t)
        digests.add(plan_digest(plan))
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    broken = verify(plan)

    t = time.perf_counter()
    base = baseline_plan(dataset, args.week)
    base_wall = time.perf_counter() - t
    base_ok = [u for u in base.units if u.status.planned]
    base_broken = verify(base)

    print(f"# loa benchmark: {dataset.name}, week {args.week}\n")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"- sites planned: {len(plan.sites)} in {len(plan.units)} units; placements: {len(plan.placements)}")
    print(f"- wall time over {args.runs} runs: median {statistics.median(walls):.1f} s "
          f"(min {min(walls):.1f}, max {max(walls):.1f}); identical plans: {len(digests) == 1}")
    print(f"- peak memory: main process {peak_self:.0f} MiB, largest worker {peak_child:.0f} MiB")
    print(f"- verify.py on our plan: {len(broken)} broken rules; units not solved: "
          f"{sum(1 for u in plan.units if not u.status.planned)}")
    print(f"- baseline: {len(base_ok)}/{len(base.units)} units meet every rule "
          f"(verify.py: {len(base_broken)} broken rules), built in {base_wall:.1f} s")
    ours_units = {u.unit_id for u in plan.units if u.status.planned}
    common = ours_units & {u.unit_id for u in base_ok}
    common_sites = {s for u in plan.units if u.unit_id in common for s in u.site_ids}
    def on(p, sites):  # noqa: E306
        return type(p)(**{**p.__dict__, "placements": tuple(x for x in p.placements if x.site_id in sites)})
    ours_r, base_r = reach(on(plan, common_sites)), reach(on(base, common_sites))
    ours_w, base_w = reach(on(plan, common_sites), True), reach(on(base, common_sites), True)
    print(f"- expected listener-plays of PAR on the {len(common)} units both plan: ours {ours_r:,.0f}, "
          f"baseline {base_r:,.0f}, ratio {ours_r / base_r:.2f}; priority-weighted ratio {ours_w / base_w:.2f}\n")

    print("| district | units | optimal | objective | bound | gap |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = defaultdict(list)
    for u in plan.units:
        rows[u.district_id].append(u)
    worst = 0.0
    for district, units in sorted(rows.items()):
        ok = [u for u in units if u.status.planned]
        obj, bound = sum(u.objective for u in ok), sum(u.bound for u in ok)
        gap = (bound - obj) / bound if bound else 0.0
        worst = max(worst, gap)
        print(f"| {district} | {len(units)} | {sum(u.status is SolveStatus.OPTIMAL for u in units)} | {obj:,.0f} | "
              f"{bound:,.0f} | {gap:.3%} |")
    print(f"\nworst district gap: {worst:.3%}")


if __name__ == "__main__":
    main()
