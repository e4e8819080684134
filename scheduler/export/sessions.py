"""A site's day as the operator airs it: sessions (buổi phát), how each item is played, and the
file parts a player starts.

Everything here is derived from the plan alone and shared by the calendars, the manifests, the
rendered audio, the printed schedule and the bundle, so they always name the same sessions,
times and files:

- how an item is played: a segment from its audio `file`; a relay `live` from the receiver or
  its stream at the source time; or `recorded`: a relay that airs after its source time
  (a deferred relay moved later) is a recording the operator makes at the source time
  (`record_at`) and plays back at the planned time. The receiver no longer carries that
  programme then, so a deferred relay is never labelled live;
- sessions are `scheduler.rules.split_sessions` with the site's `session_gap_minutes`;
- a session's recorded segments are played as file parts: each run of segments between relays
  is one part, named `<site>_<YYYY-MM-DD>_<HHMM>` by the start of its first segment. A part
  that follows a relay starts when the relay ends, so a file started on time can never play
  over the news.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain import Placement, PlanItem, PlanSite, WeekPlan
from ..errors import ExportError
from ..rules import split_sessions, window_at
from .i18n import daypart

FILE, LIVE, RECORDED = "file", "live", "recorded"
PAR_ITEM = "tin CCHC"  # what a PAR segment is called in a session title ("6 tin CCHC")
# a session holding a Circular 39 bulletin says so first: operators scan titles
BULLETIN_LABELS = {"emergency": "KHẨN CẤP", "priority": "ƯU TIÊN"}


def source_time(p: Placement, item: PlanItem) -> datetime:
    """The relay's programme time on the placement's day."""
    return datetime.combine(p.start.date(), datetime.min.time()) + timedelta(minutes=item.start_min)


def how_played(p: Placement, item: PlanItem) -> str:
    """'file' for a segment; 'recorded' for a relay airing after its source time; else 'live'."""
    if p.kind != "relay":
        return FILE
    return RECORDED if p.start > source_time(p, item) else LIVE


@dataclass(frozen=True)
class Entry:
    """One placement with its item and how the operator plays it."""

    placement: Placement
    item: PlanItem
    how: str  # file | live | recorded

    @property
    def start(self) -> datetime:
        return self.placement.start

    @property
    def end(self) -> datetime:
        return self.placement.end

    @property
    def record_at(self) -> datetime | None:
        """When to record a `recorded` relay (its source time); None otherwise."""
        return source_time(self.placement, self.item) if self.how == RECORDED else None


@dataclass(frozen=True)
class FilePart:
    """A run of segments played back to back from one file (or playlist) of the session."""

    site_id: str
    entries: tuple[Entry, ...]
    after: Entry | None  # the relay this part follows: start the file when it ends

    @property
    def start(self) -> datetime:
        return self.entries[0].start

    @property
    def end(self) -> datetime:
        return self.entries[-1].end

    @property
    def name(self) -> str:
        """`<site>_<YYYY-MM-DD>_<HHMM>`: `loa render` adds the audio format, the bundle `.m3u8`."""
        return f"{self.site_id}_{self.start:%Y-%m-%d}_{self.start:%H%M}"


@dataclass(frozen=True)
class Session:
    """A buổi phát: airtime of one day with pauses shorter than the site's session gap."""

    site_id: str
    entries: tuple[Entry, ...]
    daypart: str  # sáng | trưa | chiều | tối
    key: str  # stable within the day: window (or daypart) and its occurrence, for calendar UIDs

    @property
    def start(self) -> datetime:
        return self.entries[0].start

    @property
    def end(self) -> datetime:
        return max(e.end for e in self.entries)

    @property
    def parts(self) -> tuple[FilePart, ...]:
        """Runs of segments between relays; each remembers the relay it follows (None at the start)."""
        parts: list[FilePart] = []
        run: list[Entry] = []
        after: Entry | None = None
        for e in (*self.entries, None):
            if e is not None and e.how == FILE:
                run.append(e)
                continue
            if run:
                parts.append(FilePart(self.site_id, tuple(run), after))
                run = []
            after = e
        return tuple(parts)

    @property
    def title(self) -> str:
        """'Buổi sáng: Tiếp sóng VOV1 + 6 tin CCHC', in air order: consecutive live relays as one
        'Tiếp sóng' with their sources, a recorded relay as 'Phát lại', a run of segments as its count."""
        bits: list[tuple[str, list]] = []  # (how, sources or segments) runs
        for e in self.entries:
            if bits and bits[-1][0] == e.how and e.how != RECORDED:
                bits[-1][1].append(e)
            else:
                bits.append((e.how, [e]))
        words = []
        for how, run in bits:
            if how == FILE:
                words.append(f"{len(run)} {PAR_ITEM}")
            elif how == LIVE:
                words.append("Tiếp sóng " + ", ".join(dict.fromkeys(e.item.source for e in run)))
            else:
                words.append(f"Phát lại {run[0].item.source} (ghi lúc {run[0].record_at:%H:%M})")
        urgent = [f"{BULLETIN_LABELS[e.item.level]}: {e.item.title}" for e in self.entries
                  if e.item.level in BULLETIN_LABELS]
        return " · ".join(urgent + [f"Buổi {self.daypart}: " + " + ".join(words)])


def entries(plan: WeekPlan, placements, items: dict | None = None) -> list[Entry]:
    """The placements (any order) as Entries in air order; an unknown item is an ExportError."""
    items = items if items is not None else {(i.kind, i.id): i for i in plan.items}
    out = []
    for p in sorted(placements, key=lambda p: (p.start, p.end, p.kind, p.item_id)):
        item = items.get((p.kind, p.item_id))
        if item is None:
            raise ExportError(f"plan {plan.week}: placement of unknown {p.kind} {p.item_id!r} at {p.site_id}")
        out.append(Entry(p, item, how_played(p, item)))
    return out


def day_sessions(plan: WeekPlan, site: PlanSite, placements, items: dict | None = None,
                 gap_minutes: int | None = None) -> list[Session]:
    """The sessions of one site-day (`placements` of that day, any order), in air order.

    `gap_minutes` defaults to the site's `session_gap_minutes` as the plan records it.
    """
    gap = site.rules.session_gap_minutes if gap_minutes is None else gap_minutes
    seen: dict[str, int] = defaultdict(int)
    out = []
    for run in split_sessions(entries(plan, placements, items), gap):
        minute = run[0].start.hour * 60 + run[0].start.minute
        window = window_at(site.rules.windows, minute)
        part = daypart(minute, "vi", window.name if window else None)
        base = window.name if window else part
        out.append(Session(site.id, tuple(run), part, f"{base}#{seen[base]}"))
        seen[base] += 1
    return out


def week_sessions(plan: WeekPlan, site: PlanSite, placements, items: dict | None = None) -> dict[date, list[Session]]:
    """Every day of the site's week (placements of that site, any order) -> its sessions."""
    by_day: dict[date, list[Placement]] = defaultdict(list)
    for p in placements:
        by_day[p.start.date()].append(p)
    return {day: day_sessions(plan, site, todo, items) for day, todo in sorted(by_day.items())}


# --------------------------------------------------------------------------- words an operator reads


def duration_text(seconds: float) -> str:
    """'30 phút', '1 phút 45 giây', '40 giây'."""
    s = max(0, round(seconds))
    m, s = divmod(s, 60)
    if m and s:
        return f"{m} phút {s} giây"
    return f"{m} phút" if m else f"{s} giây"


def receiver_text(item: PlanItem) -> str:
    """Where a relay is received: its stream, or the station's receiver."""
    return f"luồng {item.stream_url}" if item.stream_url else "máy thu"


def source_text(e: Entry) -> str:
    """Where the operator takes the item from: the producer; for a relay also the receiver or
    stream (live) or the recording (recorded)."""
    if e.how == FILE:
        return e.item.source
    return f"{e.item.source}, {receiver_text(e.item) if e.how == LIVE else 'bản ghi'}"


def entry_text(e: Entry) -> str:
    """'Tiếp sóng trực tiếp Thời sự 6 giờ (VOV1)', 'Phát lại bản ghi … (ghi lúc 17:00)', or the title."""
    if e.how == LIVE:
        return f"Tiếp sóng trực tiếp {e.item.title}"
    if e.how == RECORDED:
        return f"Phát lại bản ghi {e.item.title} (ghi lúc {e.record_at:%H:%M})"
    return e.item.title


def record_text(e: Entry) -> str:
    """Title of the task of recording a relay at its source time."""
    return f"Ghi âm {e.item.title} để phát lại lúc {e.start:%H:%M}"


def after_text(part: FilePart) -> str:
    """'sau khi tiếp sóng VOV1 kết thúc' for a part that follows a relay; '' otherwise."""
    if part.after is None:
        return ""
    verb = "phát lại" if part.after.how == RECORDED else "tiếp sóng"
    return f"sau khi {verb} {part.after.item.source} kết thúc"


def part_text(part: FilePart) -> str:
    """'Tệp …_0630: bắt đầu lúc 06:30, sau khi tiếp sóng VOV1 kết thúc'."""
    after = after_text(part)
    return f"Tệp {part.name}: bắt đầu lúc {part.start:%H:%M}" + (f", {after}" if after else "")
