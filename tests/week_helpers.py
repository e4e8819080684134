"""A week under way, as a district centre has it: a copy of the tiny dataset planned and exported
into a temp folder by `loa plan`; `loa add-item`, `loa replan`, `loa bulletin` and `loa export`
are then run on it the way an operator runs them (click's CliRunner, in process)."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from conftest import TINY, edit, snapshot, speak
from scheduler.cli import main
from scheduler.domain import Placement, PlanSite, WeekPlan
from scheduler.planfile import read_plan
from scheduler.rules import split_sessions

WEEK = "2024-W10"  # Monday 4 March 2024; the tiny dataset's blackouts: Wed 06-12 at Ia Blang, all Friday
MONDAY = datetime(2024, 3, 4)


def loa(*args) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def hhmm(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Week:
    data: Path  # the dataset folder (a private copy)
    out: Path  # the output root: audio_manifests/<week>/plan.json, calendars/, manifests

    @property
    def plan_path(self) -> Path:
        return self.out / "audio_manifests" / WEEK / "plan.json"

    def plan(self) -> WeekPlan:
        return read_plan(self.plan_path)

    def outputs(self) -> dict[str, bytes]:
        return snapshot(self.out)

    def calendar(self, site: PlanSite) -> Path:
        return self.out / "calendars" / WEEK / site.district_id / f"{site.id}.ics"

    def site_files(self, site: PlanSite) -> dict[str, bytes]:
        """The site's own exports: its calendar and its day manifests."""
        files = {f"calendar/{site.id}.ics": self.calendar(site).read_bytes()}
        folder = self.out / "audio_manifests" / WEEK / site.id
        files |= {f"manifests/{k}": v for k, v in snapshot(folder).items()}
        return files

    def add_item(self, audio: Path, *args) -> str:
        result = loa("add-item", "--data", self.data, audio, *args)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()[0]

    def replan(self, cutoff: str, *args) -> Result:
        return loa("replan", "--plan", self.plan_path, "--from", cutoff, "--workers", 1, *args)

    def bulletin(self, level: str, cutoff: str, *args) -> Result:
        return loa("bulletin", "--plan", self.plan_path, "--level", level, "--from", cutoff, "--data", self.data,
                   "--workers", 1, *args)


def copy_tiny(tmp: Path, name: str = "tiny") -> Path:
    data = tmp / "data" / name
    shutil.copytree(TINY, data)
    return data


def with_second_district(data: Path) -> Path:
    """The dataset with a second district, Krông Pa, and one commune of it with a station."""
    with open(data / "areas.csv", "a", encoding="utf-8") as f:
        f.write("krong-pa,Krông Pa,Huyện,gia-lai,637,13.2000,108.6600,GSO\n"
                "krong-pa-ia-rsai,Ia RSai,Xã,krong-pa,24079,,,GSO\n")
    with open(data / "sites.csv", "a", encoding="utf-8") as f:
        f.write("krong-pa-ia-rsai,Xã Ia RSai,krong-pa-ia-rsai,rural,fm,4880,test value,vi;jra,upland-coffee,sun,,yes\n")
    return data


def with_policy(data: Path, old: str, new: str) -> Path:
    edit(data / "policy.toml", old, new)
    return data


def plan_week(data: Path, out: Path, *args) -> Week:
    """`loa plan` of the whole dataset for WEEK (one worker), exported: the week as it was sent out."""
    result = loa("plan", "--data", data, "--week", WEEK, "--out", out, "--workers", 1, *args)
    assert result.exit_code == 0, result.output
    return Week(data, out)


def long_speech(path: Path, seconds: float, text: str | None = None) -> Path:
    """Speech by espeak-ng repeated by sox to last about `seconds` (a long recorded announcement)."""
    one = speak(path.with_suffix(".one.wav"), *([text] if text else []))
    once = float(subprocess.run(["soxi", "-D", str(one)], check=True, capture_output=True, text=True,
                                timeout=30).stdout)
    wav = path.with_suffix(".long.wav")
    subprocess.run(["sox", str(one), str(wav), "repeat", str(max(0, round(seconds / once) - 1))], check=True,
                   timeout=60)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), str(path)], check=True, timeout=60)
    one.unlink()
    wav.unlink()
    return path


def by_site(plan: WeekPlan) -> dict[str, list[Placement]]:
    out: dict[str, list[Placement]] = defaultdict(list)
    for p in sorted(plan.placements, key=lambda p: (p.site_id, p.start, p.kind, p.item_id)):
        out[p.site_id].append(p)
    return out


def sessions(plan: WeekPlan, site_id: str) -> list[list[Placement]]:
    """The site's sessions (buổi phát) of the week, as the plan's own rules split them."""
    site = next(s for s in plan.sites if s.id == site_id)
    days: dict = defaultdict(list)
    for p in by_site(plan)[site_id]:
        days[p.start.date()].append(p)
    return [run for day in sorted(days) for run in split_sessions(days[day], site.rules.session_gap_minutes)]


def changes(result: Result) -> list[dict]:
    """The changes `loa replan/bulletin --json` lists (site, change, kind, id, before, after)."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["changes"]


def minutes(a: datetime, b: datetime) -> int:
    return int((b - a) / timedelta(minutes=1))
