"""`make bench` (loader part): validate a dataset of many site rows; print wall time and peak memory.

The dataset is the tiny fixture (tests/fixtures/tiny) grown to N sites, each with its own
commune row in areas.csv, written to a temporary folder. Validation runs in a fresh process so
its peak memory (ru_maxrss) is the loader's alone. Target: 100,000 site rows in at most 10 s and
500 MB. Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINY = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny"


def grow(dest: Path, rows: int) -> None:
    """The tiny dataset with `rows` extra sites, one commune each (all valid)."""
    shutil.copytree(TINY, dest)
    areas = (TINY / "areas.csv").read_text(encoding="utf-8").splitlines()
    sites = (TINY / "sites.csv").read_text(encoding="utf-8").splitlines()
    for i in range(rows):
        areas.append(f"xa-{i},Xã số {i},commune,chu-se,{100000 + i},,,GSO")
        sites.append(f"tram-{i},Trạm xã số {i},xa-{i},rural,fm,{1000 + i % 9000},estimate,vi,upland-coffee,wed,,yes")
    (dest / "areas.csv").write_text("\n".join(areas) + "\n", encoding="utf-8")
    (dest / "sites.csv").write_text("\n".join(sites) + "\n", encoding="utf-8")


CHILD = """
import resource, sys, time
from scheduler.dataset import load_dataset
t = time.perf_counter()
ds = load_dataset(sys.argv[1])
print(len(ds.sites), time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--max-mb", type=float, default=500.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "big"
        grow(data, args.rows)
        size = (data / "sites.csv").stat().st_size
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(data)], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
    sites, load_s, peak_mb = out.stdout.split()
    print(f"# loader benchmark: validate {args.rows:,} site rows (sites.csv {size / 2**20:.1f} MB)\n")
    print(f"- sites loaded: {int(sites):,}")
    print(f"- load_dataset: {float(load_s):.2f} s (process wall time {wall:.2f} s); target <= {args.max_seconds:g} s")
    print(f"- peak memory: {int(peak_mb)} MiB; target <= {args.max_mb:g} MB")
    ok = float(load_s) <= args.max_seconds and int(peak_mb) <= args.max_mb
    print(f"- result: {'within targets' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
