"""A small real week for the exporter tests: 2 sites in 1 district, real Vietnamese speech.

Relays: VOV1 06:00 live with a stream; the provincial news 18:00, deferred, aired at its source
time (so relayed live) except on Thursday, when it airs at 18:05 from a recording.

Audio is spoken by espeak-ng (-v vi) into the test's temp folder and converted by ffmpeg to mp3
and ogg, so pydub decodes three real formats. The plan is written with planfile.write_plan and
read back, so the dataset root is resolved exactly as `loa export` resolves it.
"""
from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import icalendar

from scheduler.domain import Placement, PlanItem, PlanSite, SiteRules, WeekPlan, Window, week_days
from scheduler.planfile import read_plan, write_plan

WEEK = "2024-W10"  # Monday 2024-03-04
DISTRICT = "chu-pah"


def _rules(segments: tuple[tuple[str, int], ...]) -> SiteRules:
    """The rules the hand-made week below keeps (relays every day, three windows)."""
    return SiteRules(
        windows=(Window("sáng", 5 * 60, 8 * 60), Window("trưa", 10 * 60 + 30, 12 * 60),
                 Window("chiều", 17 * 60 + 30, 19 * 60)),
        quiet_hours=((21 * 60, 5 * 60),), broadcast_days=tuple(range(7)), session_gap_minutes=10,
        max_sessions_per_day=3, max_session_minutes=45, daily_cap_minutes=150, segment_min_gap_minutes=0,
        blackouts=(), relays=tuple((r, d) for d in week_days(WEEK) for r in ("vov1-thoi-su", "gl-thoi-su")),
        segments=segments)


SITES = (
    PlanSite(id="ia-ka", name="Xã Ia Ka", district_id=DISTRICT, district_name="Huyện Chư Păh",
             population=9500, languages=("vi", "jra"), technology="fm", kind="rural",
             rules=_rules((("can-cuoc", 4), ("dich-vu-cong", 7), ("khai-sinh-jrai", 7)))),
    PlanSite(id="nghia-hung", name="Xã Nghĩa Hưng", district_id=DISTRICT, district_name="Huyện Chư Păh",
             population=7200, languages=("vi",), technology="wired", kind="rural",
             rules=_rules((("can-cuoc", 4), ("dich-vu-cong", 7)))),
)
SPEECH = {
    "audio/dich-vu-cong.wav": "Dịch vụ công trực tuyến giúp bà con nộp hồ sơ tại nhà.",
    "audio/can-cuoc.mp3": "Bà con nhớ làm căn cước công dân gắn chíp.",
    "audio/khai-sinh-jrai.ogg": "Đăng ký khai sinh cho trẻ đúng hạn.",
}
ITEMS = (
    PlanItem(id="vov1-thoi-su", kind="relay", title="Thời sự sáng VOV1", source="VOV1", language="vi",
             duration_s=1800, stream_url="https://stream.example.vn/vov1.m3u8", mandatory=True,
             days=tuple(range(7)), start_min=6 * 60, mode="live"),
    # deferred: aired at 18:00 it is relayed live; on Thursday it airs at 18:05, a recording
    PlanItem(id="gl-thoi-su", kind="relay", title="Thời sự Gia Lai — Đài PT-TH tỉnh", source="Đài PT-TH Gia Lai",
             language="vi", duration_s=1200, mandatory=True, days=tuple(range(7)), start_min=18 * 60,
             mode="deferred", max_delay_min=30),
    PlanItem(id="dich-vu-cong", kind="segment", title="Dịch vụ công trực tuyến: hướng dẫn nộp hồ sơ ở nhà",
             source="Trung tâm VH-TT Chư Păh", language="vi", duration_s=4, topic=3,
             audio="audio/dich-vu-cong.wav", priority=3, min_plays=7, max_plays=7),
    PlanItem(id="can-cuoc", kind="segment", title="Căn cước công dân gắn chíp: thủ tục và lệ phí",
             source="Công an huyện", language="vi", duration_s=4, topic=5, audio="audio/can-cuoc.mp3", priority=2,
             min_plays=4, max_plays=5),
    PlanItem(id="khai-sinh-jrai", kind="segment", title="Đăng ký khai sinh (tiếng Jrai)",
             source="Trung tâm VH-TT Chư Păh", language="jra", duration_s=3, topic=2,
             audio="audio/khai-sinh-jrai.ogg", priority=2, min_plays=7, max_plays=7),
)


def make_audio(root: Path) -> None:
    """Speak each text with espeak-ng into root/<path>, converting to mp3/ogg with ffmpeg."""
    for rel, text in SPEECH.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        wav = target.with_suffix(".src.wav")
        subprocess.run(["espeak-ng", "-v", "vi", "-s", "190", "-w", str(wav), text], check=True, timeout=30)
        if target.suffix == ".wav":
            wav.rename(target)
        else:
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), str(target)],
                           check=True, timeout=30)
            wav.unlink()


def _at(day, hh, mm) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm)


def placements() -> tuple[Placement, ...]:
    out = []
    for n, day in enumerate(week_days(WEEK)):
        for k, site in enumerate(SITES):
            out.append(Placement(site.id, "relay", "vov1-thoi-su", _at(day, 6, 0), _at(day, 6, 30), 4000.0 + k))
            out.append(Placement(site.id, "segment", "dich-vu-cong", _at(day, 6, 30), _at(day, 6, 31), 3500.5))
            if n % 2 == 0:
                out.append(Placement(site.id, "segment", "can-cuoc", _at(day, 6, 35), _at(day, 6, 36), 3300.0))
            late = 5 if n == 3 else 0  # Thursday: the provincial news airs 5 minutes after its source time
            out.append(Placement(site.id, "relay", "gl-thoi-su", _at(day, 18, late), _at(day, 18, 20 + late), 5100.0))
            if site.id == "ia-ka":
                out.append(Placement(site.id, "segment", "khai-sinh-jrai", _at(day, 18, 25 + late),
                                     _at(day, 18, 26 + late), 2900.0))
            if n == 2:  # Wednesday midday: a session of its own
                out.append(Placement(site.id, "segment", "can-cuoc", _at(day, 11, 0), _at(day, 11, 1), 1500.0))
    return tuple(out)


def build_plan(tmp: Path) -> tuple[WeekPlan, Path, Path]:
    """(plan read back from plan.json, dataset root, plan.json path) under `tmp`."""
    data = tmp / "data" / "tiny"
    make_audio(data)
    plan = WeekPlan(week=WEEK, dataset_name="tiny", dataset_root=str(data), sites=SITES, items=ITEMS,
                    placements=placements())
    plan_path = tmp / "out" / "audio_manifests" / WEEK / "plan.json"
    write_plan(plan, plan_path)
    return read_plan(plan_path), data, plan_path


def once_a_day(plan: WeekPlan) -> WeekPlan:
    """The plan without Wednesday's second can-cuoc play (the hand-made week airs it twice that day
    to test UIDs and sessions), so it keeps every hard rule, as `loa export`/`render` demand."""
    return dataclasses.replace(plan, placements=tuple(
        p for p in plan.placements if not (p.item_id == "can-cuoc" and p.start.hour == 11)))


def valid_plan_file(plan: WeekPlan, path: Path) -> Path:
    """`once_a_day(plan)` written as a plan.json at `path` (for the CLI, which re-verifies plans)."""
    return write_plan(once_a_day(plan), path)


def export_week(tmp: Path, detail: str = "sessions") -> tuple[WeekPlan, Path, Path, Path]:
    """(plan, dataset root, plan.json path, output root) of the small week exported under `tmp`/out."""
    from scheduler.export import export_all

    plan, data, plan_path = build_plan(tmp)
    out = tmp / "out"
    export_all(plan, out, detail=detail)
    return plan, data, plan_path, out


def copy_dataset(src_tmp: Path, dst_tmp: Path) -> None:
    shutil.copytree(src_tmp / "data", dst_tmp / "data")


def move_placement(plan: WeekPlan, site_id: str, item_id: str, day_index: int, minutes: int) -> WeekPlan:
    """The same plan with one placement moved `minutes` later within its day."""
    day = week_days(plan.week)[day_index]
    moved = []
    for p in plan.placements:
        if p.site_id == site_id and p.item_id == item_id and p.start.date() == day:
            p = dataclasses.replace(p, start=p.start + timedelta(minutes=minutes), end=p.end + timedelta(minutes=minutes))
        moved.append(p)
    return dataclasses.replace(plan, placements=tuple(moved))


@functools.lru_cache(maxsize=None)
def decoded_duration(path: Path) -> float:
    """Seconds of audio ffmpeg actually decodes (container headers of mp3 only estimate it)."""
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                          "-ar", "8000", "-"], check=True, capture_output=True, timeout=30).stdout
    return len(pcm) / 2 / 8000


def one_event_calendars(cal: icalendar.Calendar) -> list[str]:
    """One VCALENDAR per VEVENT (with the VTIMEZONE), as a CalDAV PUT needs."""
    out = []
    for ev in cal.walk("VEVENT"):
        one = icalendar.Calendar()
        for prop in ("PRODID", "VERSION", "CALSCALE"):
            one.add(prop, cal[prop])
        for tz in cal.walk("VTIMEZONE"):
            one.add_component(tz)
        one.add_component(ev)
        out.append(one.to_ical().decode("utf-8"))
    return out
