"""`make bench`: plan the bundled province for one week and print a Markdown report.

- cold plans (no solution cache) several times: median wall, peak memory, identical plans;
- `loa plan --no-export` as a user runs it, cold and then unchanged (the per-unit solution cache);
- where the time goes, phase by phase (load and audio probing, building options, building the
  model, solving, assembling, verifying, writing, exporting);
- per district: status, objective, bound, gap;
- the optimiser against three baselines that keep every hard rule (hand-made, greedy by
  availability, evening after the news), on the figures of `scheduler/export/planstats.py`.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from scheduler.dataset import load_dataset
from scheduler.domain import SolveStatus
from scheduler.export import export_all
from scheduler.export.planstats import plan_stats
from scheduler.planfile import write_plan
from scheduler.solver.baseline import BASELINES, plan_with
from scheduler.solver.run import GAP_LIMIT, plan_digest, plan_week
from scheduler.verify import verify

REPO = Path(__file__).resolve().parent.parent


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}; load average at start {os.getloadavg()[0]:.1f}")


def cli_wall(args: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU seconds of one `loa` process (and its workers)."""
    t, c = time.perf_counter(), cpu()
    subprocess.run([sys.executable, "-m", "scheduler.cli", *args], check=True, env=env, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, cpu() - c


def cpu() -> float:
    """CPU seconds of this process and its finished children (the pool's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def phases(data: Path, week: str, workers: int | None) -> tuple[list[tuple[str, float | None, float]], dict]:
    """One cold run, timed step by step (wall and CPU seconds), with an empty audio-probe cache."""
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("LOA_CACHE_DIR")
        os.environ["LOA_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            rows: list[tuple[str, float | None, float]] = []

            def step(name, fn):
                t, c = time.perf_counter(), cpu()
                value = fn()
                rows.append((name, time.perf_counter() - t, cpu() - c))
                return value

            dataset = step("load dataset and probe audio", lambda: load_dataset(data))
            stats: dict = {}
            plan = step("plan_week (all of the four below)",
                        lambda: plan_week(dataset, week, workers=workers, stats=stats))
            for name, label in (("problem", "build session options (workers)"),
                                ("model", "build CP-SAT models (workers)"), ("solve", "solve (workers)")):
                rows.append((f"  {label}", None, stats["worker_seconds"].get(name, 0.0)))
            rows.append(("  assemble the plan (main process)", None, stats.get("assemble_seconds", 0.0)))
            broken = step("verify", lambda: verify(plan))
            step("write plan.json", lambda: write_plan(plan, Path(tmp) / "out" / "audio_manifests" / week / "plan.json"))
            step("export calendars and manifests", lambda: export_all(plan, Path(tmp) / "out", detail="sessions"))
            assert not broken, broken[:5]
            return rows, stats
        finally:
            if old is None:
                os.environ.pop("LOA_CACHE_DIR", None)
            else:
                os.environ["LOA_CACHE_DIR"] = old


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO / "data" / "gia_lai_2024")
    ap.add_argument("--week", default="2024-W10")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    data = args.data.resolve()
    print(f"# loa benchmark: week {args.week}\n")
    print(f"- machine: {machine()}")

    dataset = load_dataset(data)
    walls, cpus, digests = [], [], set()
    plan, stats = None, {}
    for _ in range(args.runs):
        t, c = time.perf_counter(), cpu()
        plan = plan_week(dataset, args.week, workers=args.workers, stats=stats)
        walls.append(time.perf_counter() - t)
        cpus.append(cpu() - c)
        digests.add(plan_digest(plan))
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    broken = verify(plan)
    planned = [u for u in plan.units if u.status.planned]
    worst = max(planned, key=lambda u: u.gap)
    print(f"- dataset: {dataset.name}; {len(plan.sites)} sites in {len(plan.units)} units, "
          f"{stats['distinct']} distinct solves; placements: {len(plan.placements)}")
    print(f"- **cold plan** (plan_week, no solution cache) over {args.runs} runs: median "
          f"**{statistics.median(walls):.1f} s** (min {min(walls):.1f}, max {max(walls):.1f}); identical plans: "
          f"{len(digests) == 1}; CPU median {statistics.median(cpus):.1f} s (main + workers); CP-SAT "
          f"deterministic time {stats['worker_seconds'].get('deterministic', 0.0):.1f} over the distinct solves")
    print(f"- peak memory: main process {peak_self:.0f} MiB, largest worker {peak_child:.0f} MiB")
    print(f"- status: {sum(u.status is SolveStatus.OPTIMAL for u in planned)} units proven optimal, "
          f"{sum(u.status is SolveStatus.FEASIBLE for u in planned)} proven within {GAP_LIMIT:.1%} of optimum; "
          f"worst unit gap **{worst.gap:.3%}** ({worst.unit_id}); verify.py: {len(broken)} broken rules; "
          f"units not planned: {len(plan.units) - len(planned)}")

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LOA_CACHE_DIR": str(Path(tmp) / "cache"), "PYTHONPATH": str(REPO)}
        cmd = ["plan", "--data", str(data), "--week", args.week, "--out", str(Path(tmp) / "out"), "--no-export"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        cold, cold_cpu = cli_wall(cmd, env)
        first = (Path(tmp) / "out" / "audio_manifests" / args.week / "plan.json").read_bytes()
        runs = [cli_wall(cmd, env) for _ in range(max(3, args.runs))]
        warm, warm_cpu = [w for w, _ in runs], [c for _, c in runs]
        same = (Path(tmp) / "out" / "audio_manifests" / args.week / "plan.json").read_bytes() == first
    print(f"- **`loa plan --no-export`** (whole process): cold {cold:.1f} s wall, {cold_cpu:.1f} s CPU; "
          f"**unchanged re-run** (solution cache) median **{statistics.median(warm):.1f} s** wall over {len(warm)} "
          f"runs (min {min(warm):.1f}, max {max(warm):.1f}), {statistics.median(warm_cpu):.1f} s CPU; "
          f"plan.json byte-identical: {same}\n")

    rows, _ = phases(data, args.week, args.workers)
    print("## Where the time goes (one cold run, empty caches)\n")
    print("| phase | wall (s) | CPU (s) |\n|---|---:|---:|")
    for name, wall, seconds in rows:
        print(f"| {name} | {'' if wall is None else f'{wall:.2f}'} | {seconds:.2f} |")

    print("\n## Per district\n")
    print("| district | units | proven optimal | objective | bound | gap |")
    print("|---|---:|---:|---:|---:|---:|")
    by_district = defaultdict(list)
    for u in plan.units:
        by_district[u.district_id].append(u)
    worst_district = 0.0
    for district, units in sorted(by_district.items()):
        ok = [u for u in units if u.status.planned]
        obj, bound = sum(u.objective for u in ok), sum(u.bound for u in ok)
        gap = (bound - obj) / bound if bound else 0.0
        worst_district = max(worst_district, gap)
        print(f"| {district} | {len(units)} | {sum(u.status is SolveStatus.OPTIMAL for u in units)} | {obj:,.0f} | "
              f"{bound:,.0f} | {gap:.3%} |")
    print(f"\nworst district gap: {worst_district:.3%}; worst unit gap: {worst.gap:.3%}")

    print("\n## Against baselines that keep every hard rule\n")
    plans = {"CP-SAT (ours)": plan}
    for name, strategy in BASELINES.items():
        t = time.perf_counter()
        base = plan_with(strategy, dataset, args.week)
        wall = time.perf_counter() - t
        ok = sum(u.status.planned for u in base.units)
        print(f"- {name}: {ok}/{len(base.units)} units planned, verify.py: {len(verify(base))} broken rules, "
              f"{wall:.1f} s")
        plans[name] = base
    common = set.intersection(*({s for u in p.units if u.status.planned for s in u.site_ids} for p in plans.values()))
    figures = {name: plan_stats(p, common) for name, p in plans.items()}
    ours = figures["CP-SAT (ours)"]
    print(f"\nOn the {len(common)} sites every plan covers. Ratios are ours / baseline.\n")
    print("| plan | listener-plays | people reached at least once | priority-weighted reach | relay delay (min) | "
          "repeats on consecutive days | dayparts per segment | topics per site |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, f in figures.items():
        ratio = "" if name.startswith("CP-SAT") else (
            f" ({ours.listener_plays / f.listener_plays:.3f}x)")
        print(f"| {name} | {f.listener_plays:,.0f}{ratio} | {f.people_reached:,.0f}"
              f"{'' if name.startswith('CP-SAT') else f' ({ours.people_reached / f.people_reached:.3f}x)'} | "
              f"{f.weighted_reach:,.0f}"
              f"{'' if name.startswith('CP-SAT') else f' ({ours.weighted_reach / f.weighted_reach:.3f}x)'} | "
              f"{f.relay_delay_min:,} | {f.consecutive_days:,} | {f.dayparts:.2f} | {f.topics:.2f} |")
    print(f"\nThe model's reach term against what the plan measures (ours): the objective counted "
          f"{ours.model_reach:,.0f} priority-weighted listener-plays (the audience of each bin's first quarter "
          f"hour), the minutes actually aired give {ours.weighted_reach:,.0f}: the model over-counts by "
          f"{ours.model_reach / ours.weighted_reach - 1:+.2%}.")


if __name__ == "__main__":
    main()
