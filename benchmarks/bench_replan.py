"""`make bench` (part): the week as it runs. Wall time of `loa replan` and `loa bulletin` on the
bundled province, as a district centre runs them mid-week, next to the full plan's time.

The province is planned once (into a scratch folder, as `loa plan` would); then each scenario
starts again from that plan and a fresh copy of the dataset, with an empty solution cache (a
cold re-plan: nothing is reused but what the plan itself keeps; the audio probes of the dataset's
files and the index of the calendars written are kept, as on the centre's machine), `--runs` times; the median is reported. Every run is checked: the plan still holds every site, and nothing before `--from`
changed. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scheduler.planfile import read_plan  # noqa: E402

STORM = ("Thông báo khẩn của Ban chỉ huy phòng chống thiên tai: bão số ba sắp đổ bộ. Đề nghị bà con "
         "chằng chống nhà cửa, không ra đồng, theo dõi tin tức trên loa truyền thanh.")


def loa(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "scheduler.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"loa {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - t


def scenarios(week: str, week_monday: str, district: str, site: str) -> list[tuple[str, list[list[str]]]]:
    """(label, commands) with {data}, {plan}, {out}, {audio}, {text} filled in per run; the last
    command is timed."""
    wed = f"{week_monday[:8]}{int(week_monday[8:]) + 2:02d}"
    return [
        (f"plan --district {district} from scratch, into the week's plan (province kept)",
         [["plan", "--data", "{data}", "--week", week, "--out", "{out}", "--district", district]]),
        ("re-plan, nothing changed (province)", [["replan", "--plan", "{plan}", "--from", f"{wed} 12:00"]]),
        (f"add-item for one site ({site}) + re-plan (province)",
         [["add-item", "--data", "{data}", "{audio}", "--title", "Lịch tiếp công dân tuần này", "--topic", "7",
           "--scope", site, "--plays", "2..3"],
          ["replan", "--plan", "{plan}", "--from", f"{wed} 12:00"]]),
        (f"add-item for a district ({district}) + re-plan (province)",
         [["add-item", "--data", "{data}", "{audio}", "--title", "Lịch tiếp công dân tuần này", "--topic", "7",
           "--scope", district, "--plays", "2..3"],
          ["replan", "--plan", "{plan}", "--from", f"{wed} 12:00"]]),
        ("add-item for the whole province + re-plan (province: every unit solved again)",
         [["add-item", "--data", "{data}", "{audio}", "--title", "Lịch tiếp công dân tuần này", "--topic", "7",
           "--scope", "{province}", "--plays", "2..3"],
          ["replan", "--plan", "{plan}", "--from", f"{wed} 12:00"]]),
        (f"add-item for a district + re-plan --district {district}",
         [["add-item", "--data", "{data}", "{audio}", "--title", "Lịch tiếp công dân tuần này", "--topic", "7",
           "--scope", district, "--plays", "2..3"],
          ["replan", "--plan", "{plan}", "--from", f"{wed} 12:00", "--district", district]]),
        (f"emergency bulletin, text, one district ({district}), 3 airings",
         [["bulletin", "--plan", "{plan}", "--level", "emergency", "--text", "{text}", "--title", "Cảnh báo bão số 3",
           "--scope", district, "--from", f"{wed} 14:10", "--repeat", "3", "--every", "60"]]),
        ("emergency bulletin, text, whole province, 3 airings",
         [["bulletin", "--plan", "{plan}", "--level", "emergency", "--text", "{text}", "--title", "Cảnh báo bão số 3",
           "--scope", "{province}", "--from", f"{wed} 14:10", "--repeat", "3", "--every", "60"]]),
        (f"priority bulletin, one district ({district})",
         [["bulletin", "--plan", "{plan}", "--level", "priority", "--text", "{text}", "--title", "Thông báo ưu tiên",
           "--scope", district, "--from", f"{wed} 11:00"]]),
        ("priority bulletin, whole province",
         [["bulletin", "--plan", "{plan}", "--level", "priority", "--text", "{text}", "--title", "Thông báo ưu tiên",
           "--scope", "{province}", "--from", f"{wed} 11:00"]]),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=REPO / "data" / "gia_lai_2024")
    ap.add_argument("--week", default="2024-W10")
    ap.add_argument("--district", default="chu-se")
    ap.add_argument("--site", default="chu-se-ia-blang")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="loa-bench-replan-") as tmp:
        tmp = Path(tmp)
        base_data, base_out = tmp / "base" / "data", tmp / "base" / "out"
        shutil.copytree(args.data, base_data)
        env = dict(os.environ, LOA_CACHE_DIR=str(tmp / "plan-cache"))
        full = loa(["plan", "--data", str(base_data), "--week", args.week, "--out", str(base_out)], env)
        plan_file = base_out / "audio_manifests" / args.week / "plan.json"
        old = read_plan(plan_file)
        province = _province(base_data)
        text = tmp / "storm.txt"
        text.write_text(STORM + "\n", encoding="utf-8")
        audio = tmp / "tiep-cong-dan.wav"
        subprocess.run(["espeak-ng", "-v", "vi", "-w", str(audio), "Lịch tiếp công dân tuần này: thứ năm, từ "
                        "bảy giờ rưỡi sáng, tại trụ sở ủy ban nhân dân xã."], check=True)
        rows = []
        for label, commands in scenarios(args.week, old.monday.isoformat(), args.district, args.site):
            times = []
            for run in range(args.runs):
                work = tmp / f"run-{len(rows)}-{run}"
                shutil.copytree(base_data, work / "data")
                shutil.copytree(base_out, work / "out", symlinks=True)
                plan = work / "out" / "audio_manifests" / args.week / "plan.json"
                # the copied plan names its dataset relative to itself: point it at the copy
                fill = {"{data}": str(work / "data"), "{plan}": str(plan), "{out}": str(work / "out"),
                        "{audio}": str(audio),
                        "{text}": str(text), "{province}": province}
                # a district centre's machine keeps its audio probes and what it knows of the
                # calendars it wrote; the solved units are dropped
                (work / "cache").mkdir()
                if (tmp / "plan-cache" / "audio.json").exists():
                    shutil.copy(tmp / "plan-cache" / "audio.json", work / "cache" / "audio.json")
                if (tmp / "plan-cache" / "calendars").is_dir():
                    shutil.copytree(tmp / "plan-cache" / "calendars", work / "cache" / "calendars")
                run_env = dict(os.environ, LOA_CACHE_DIR=str(work / "cache"))
                for i, command in enumerate(commands):
                    argv = [fill.get(a, a) for a in command]
                    if argv[0] in ("replan", "bulletin"):
                        argv += ["--data", str(work / "data")]
                    seconds = loa(argv, run_env)
                    if i == len(commands) - 1:
                        times.append(seconds)
                _check(old, read_plan(plan), commands[-1])
                shutil.rmtree(work)
            rows.append((label, statistics.median(times), times))
    print(f"## Re-planning a week under way ({args.week}, {len(old.sites)} sites)\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end. Each command as a user runs it "
          f"(`loa …` in a new process, exports included), empty solution cache (audio probes and the index "
          f"of the calendars written kept), median of {args.runs}.\n")
    print("| command | median wall (s) | runs (s) |")
    print("|---|---:|---|")
    print(f"| full plan of the province, cold (`loa plan`, for comparison) | {full:.1f} | 1 run |")
    for label, median, times in rows:
        print(f"| {label} | {median:.1f} | {', '.join(f'{t:.1f}' for t in times)} |")


def _province(data: Path) -> str:
    from scheduler.dataset import load_dataset

    return next(a.id for a in load_dataset(data).areas if a.parent_id is None)


def _check(old, new, command: list[str]) -> None:
    if {s.id for s in old.sites} != {s.id for s in new.sites}:
        raise SystemExit(f"{' '.join(command)}: the plan lost or gained sites")
    if "--from" not in command:
        return
    cut = command[command.index("--from") + 1]
    from datetime import datetime

    when = datetime.strptime(cut, "%Y-%m-%d %H:%M")
    before = sorted((p for p in old.placements if p.start < when), key=lambda p: (p.site_id, p.start, p.item_id))
    after = sorted((p for p in new.placements if p.start < when), key=lambda p: (p.site_id, p.start, p.item_id))
    if before != after:
        raise SystemExit(f"{' '.join(command)}: placements before {cut} changed")


if __name__ == "__main__":
    main()
