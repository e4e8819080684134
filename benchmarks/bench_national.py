"""`make bench-national`: plan synthetic nations of N sites (benchmarks/make_national.py) and print
a Markdown scale table: wall (load + plan + verify + write plan.json), of which planning, export
of every calendar and manifest, peak memory, units and distinct solves; per executor.

Each measurement runs in a fresh process (`--one`), so peak memory is that run's alone: the main
process and the largest worker (the process pool's, or a Dask LocalCluster's).

Example:
    python benchmarks/bench_national.py --sites 1000 5000 10500 --modes distinct realistic
    python benchmarks/bench_national.py --sites 1000 --modes realistic --executors local dask
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
WEEK = "2024-W10"


def one(data: Path, executor: str, out: Path, export: bool) -> dict:
    """One national plan in this process; returns the figures as a dict."""
    from scheduler.dataset import load_dataset
    from scheduler.pipeline import plan_and_write

    t0 = time.perf_counter()
    dataset = load_dataset(data)
    loaded = time.perf_counter() - t0
    cluster = None
    scheduler = None
    if executor == "dask":
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        scheduler = cluster.scheduler_address
    try:
        t1 = time.perf_counter()
        outcome = plan_and_write(dataset, WEEK, out, executor=executor, scheduler=scheduler)
        planned = time.perf_counter() - t1
    finally:
        if cluster is not None:
            cluster.close()
    wall = time.perf_counter() - t0
    rss_plan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak before exporting
    export_s = None
    if export:
        from scheduler.export import export_all

        t2 = time.perf_counter()
        export_all(outcome.plan, out)
        export_s = time.perf_counter() - t2
    return {"sites": len(outcome.plan.sites), "units": outcome.stats["units"],
            "distinct": outcome.stats["distinct"], "load_s": loaded, "plan_s": planned, "wall_s": wall,
            "export_s": export_s, "placements": len(outcome.plan.placements),
            "cpu_s": sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                         for f in ("ru_utime", "ru_stime")),
            "rss_main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_plan_mib": rss_plan,
            "rss_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "infeasible": len(outcome.infeasible)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, nargs="+", default=[1000, 5000, 10500])
    ap.add_argument("--modes", nargs="+", default=["distinct", "realistic"], choices=["distinct", "realistic"])
    ap.add_argument("--executors", nargs="+", default=["local"], choices=["local", "dask"])
    ap.add_argument("--export", action="store_true", help="also export every calendar and manifest (timed apart)")
    ap.add_argument("--one", nargs=3, metavar=("DATA", "EXECUTOR", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        data, executor, out = args.one
        print(json.dumps(one(Path(data), executor, Path(out), args.export)))
        return

    from make_national import generate

    print(f"# loa national benchmark (SYNTHETIC data), week {WEEK}\n")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average at start {os.getloadavg()[0]:.1f}; every unit solved (no solution cache); CPU is "
          f"the run's processes' user + system seconds\n")
    print("| sites | mode | executor | units | distinct solves | wall (s) | of which planning (s) | "
          "export (s) | CPU (s) | peak RSS main, planning (MiB) | with export (MiB) | peak RSS worker (MiB) | "
          "CPU s per distinct solve |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sites:
        for mode in args.modes:
            with tempfile.TemporaryDirectory() as tmp:
                data = generate(n, Path(tmp) / "data", mode)
                for executor in args.executors:
                    cmd = [sys.executable, str(Path(__file__)), "--one", str(data), executor, str(Path(tmp) / executor)]
                    cmd += ["--export"] if args.export else []
                    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
                    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
                    r = json.loads(res.stdout.strip().splitlines()[-1])
                    export = f"{r['export_s']:.0f}" if r["export_s"] is not None else "-"
                    print(f"| {r['sites']:,} | {mode} | {executor} | {r['units']:,} | {r['distinct']:,} | "
                          f"{r['wall_s']:.0f} | {r['plan_s']:.0f} | {export} | {r['cpu_s']:.0f} | "
                          f"{r['rss_plan_mib']:.0f} | {r['rss_main_mib']:.0f} | {r['rss_worker_mib']:.0f} | "
                          f"{r['cpu_s'] / r['distinct']:.2f} |",
                          flush=True)


if __name__ == "__main__":
    main()
