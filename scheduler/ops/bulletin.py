"""Bulletins by Circular 39/2020/TT-BTTTT level (docs/circular-39.md), on a week under way.

- **emergency** (khẩn cấp): airs at every site in scope at the first free minute at or after the
  cut-off, outside the windows, session limits and daily cap; it interrupts nothing already on
  air and no live relay (which cannot move); it repeats `repeat` times, `every` minutes apart at least.
  Quiet hours only where the policy allows (`emergency_in_quiet_hours`), never in a blackout.
- **priority** (ưu tiên): opens the next session of each site in scope that has room for it (a
  live relay filling its session is passed over), ahead of its other items; the model displaces
  the lowest-value items if the limits require it.
- **normal** (thông thường): a new item planned as any other, from the cut-off on.

In every case the bulletin is added to the dataset (`add_segment`, with its level) and the week
is re-planned from the cut-off (`replan_week`): the past is kept, the result is a new plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ..audience import listeners
from ..domain import BULLETIN_LEVELS, Dataset, Placement, Segment, WeekPlan
from ..errors import DataError, Problem
from ..policy import site_policy
from ..rules import DAY, blackouts_over, in_quiet_hours, segment_applies
from ..solver.problem import build_units
from .additem import NewSegment, add_segment
from .replan import WEEK_MINUTES, week_minute

MAX_REPEAT = 7  # a segment airs at most 7 times a week (plan.json's max_plays)


@dataclass(frozen=True)
class Bulletin:
    level: str  # BULLETIN_LEVELS
    title: str
    scope: tuple[str, ...]
    audio: Path | None = None
    text: Path | None = None
    voice: str = "vi"
    language: str = "vi"
    topic: int = 4  # II.4 in the plan's content areas: information on administrative procedures
    repeat: int = 1
    every: int = 60  # minutes, emergency repeats


def check_bulletin(b: Bulletin) -> None:
    problems = []
    if b.level not in BULLETIN_LEVELS:
        problems.append(Problem("--level", None, "level", b.level, f"one of: {', '.join(BULLETIN_LEVELS)}"))
    if not 1 <= b.repeat <= MAX_REPEAT:
        problems.append(Problem("--repeat", None, "repeat", b.repeat, f"1..{MAX_REPEAT} airings"))
    if not 1 <= b.every <= DAY:
        problems.append(Problem("--every", None, "every", b.every, "minutes between repeats, 1..1440"))
    if not b.scope:
        problems.append(Problem("--scope", None, "scope", "", "an area, group or site id (repeatable)"))
    if problems:
        raise DataError(problems)


def add_bulletin(b: Bulletin, data_dir: Path, when: datetime, sunday: datetime) -> NewSegment:
    """The bulletin as a segment of the dataset, valid from the cut-off's day to the week's end.
    An emergency one needs no plays of the planner (min 0): `emergency_placements` airs it."""
    check_bulletin(b)
    plays = (0, b.repeat) if b.level == "emergency" else (b.repeat, b.repeat)
    return add_segment(data_dir, b.audio, text=b.text, voice=b.voice, title=b.title, topic=b.topic, scope=b.scope,
                       language=b.language, priority=5 if b.level != "normal" else 3, plays=plays,
                       valid=(when.date(), sunday.date()), level=b.level)


def check_reach(dataset: Dataset, seg: Segment, site_ids: set[str] | None, planned: set[str]) -> None:
    """A bulletin airs at every site of a shared transmitter (a sync group airs one schedule) or
    at none, and at some site: refuse a scope that reaches part of a group, or no planned site
    (out of scope, or not in its language), rather than send a bulletin that airs nowhere."""
    problems, reached = [], 0
    for unit in build_units(dataset, site_ids):
        if not all(s.id in planned for s in unit.sites):
            continue
        applies = [s.id for s in unit.sites if segment_applies(dataset, s, seg)]
        others = [s.id for s in unit.sites if s.id not in applies]
        if applies and others:
            problems.append(Problem("--scope", None, "scope", ";".join(seg.scope), (
                f"every site of a shared transmitter or none: {', '.join(applies)} share(s) sync group "
                f"{unit.sites[0].sync_group} with {', '.join(others)}, which the bulletin does not reach (scope "
                f"or language {seg.language!r}); add {' '.join('--scope ' + o for o in others)}")))
        reached += not others
    if not problems and not reached:
        problems.append(Problem("--scope", None, "scope", ";".join(seg.scope),
                                f"an area, group or site with a planned station broadcasting in "
                                f"{seg.language!r} (the bulletin would air nowhere)"))
    if problems:
        raise DataError(problems)


def emergency_placements(old: WeekPlan, dataset: Dataset, seg: Segment, when: datetime, repeat: int, every: int,
                         site_ids: set[str] | None = None) -> dict[str, tuple[Placement, ...]]:
    """site id -> the emergency bulletin's airings there: each at the first free minute at or after
    the cut-off (then `every` minutes after the previous one), where nothing that started before
    the cut-off is on air and no live relay of the plan airs (it cannot move: it would be cut), out
    of blackouts and (unless the policy allows) quiet hours, within one day. Every member of a sync group airs the same.
    Repeats the week has no time left for are not aired (the caller says so); a site where not
    even the first fits is an error."""
    items = {(i.kind, i.id): i for i in old.items}
    monday = datetime.combine(old.monday, datetime.min.time())
    start = week_minute(old, when)
    by_site: dict[str, list[Placement]] = {}
    for p in old.placements:
        by_site.setdefault(p.site_id, []).append(p)
    emergency = {i.id for i in old.items if i.level == "emergency"}
    planned = {s.id for s in old.sites}
    out: dict[str, tuple[Placement, ...]] = {}
    problems = []
    for unit in build_units(dataset, site_ids):
        if not all(s.id in planned and segment_applies(dataset, s, seg) for s in unit.sites):
            continue
        busy = set()
        for p in by_site.get(unit.sites[0].id, ()):
            item = items.get((p.kind, p.item_id))
            fixed = item is not None and p.kind == "relay" and item.mode == "live"  # cannot move: not cut
            if week_minute(old, p.start) < start or fixed or p.item_id in emergency:
                busy.update(range(week_minute(old, p.start), week_minute(old, p.end)))
        for b in blackouts_over(dataset, unit.sites, monday, monday + timedelta(days=7)):
            end = -(-int((b.end - monday).total_seconds()) // 60)  # [start, end): the minute it ends at is free
            busy.update(range(max(0, week_minute(old, b.start)), min(WEEK_MINUTES, end)))
        policies = [site_policy(dataset, s) for s in unit.sites]
        quiet = [q for pol in policies if not pol.emergency_in_quiet_hours for q in pol.quiet_hours]
        times, at = [], start
        for _ in range(repeat):
            found = _first_free(busy, quiet, at, seg.duration_min)
            if found is None:  # the week ends first: what fits airs, the rest is the next week's
                break
            times.append(found)
            busy.update(range(found, found + seg.duration_min))
            at = found + every
        if not times:
            problems.append(Problem("--from", None, "from", f"{when:%Y-%m-%d %H:%M}",
                                    f"a time early enough for an airing of {seg.duration_min} min at {unit.id} "
                                    "before the week ends"))
        for site in unit.sites:
            out[site.id] = tuple(_placement(monday, dataset, site, seg, m) for m in times)
    if problems:
        raise DataError(problems)
    return out


def _first_free(busy: set[int], quiet: list[tuple[int, int]], at: int, minutes: int) -> int | None:
    m = at
    while m + minutes <= WEEK_MINUTES:
        span = range(m, m + minutes)
        if m % DAY + minutes <= DAY and not any(x in busy or in_quiet_hours(quiet, x % DAY) for x in span):
            return m
        m += 1
    return None


def _placement(monday: datetime, dataset: Dataset, site, seg: Segment, minute: int) -> Placement:
    start = monday + timedelta(minutes=minute)
    heard = listeners(dataset, site, start.date(), minute % DAY, seg.duration_min)
    return Placement(site.id, "segment", seg.id, start, start + timedelta(minutes=seg.duration_min),
                     round(heard, 3), (("availability", round(heard / max(1, site.population), 4)),
                                       ("priority", seg.priority)))


def free_until(placements: dict[str, tuple[Placement, ...]], monday: datetime, when: datetime) -> int:
    """The midnight after the last airing (or after the cut-off): a bulletin re-solves that much."""
    last = max((p.start for ps in placements.values() for p in ps), default=when)
    return min(WEEK_MINUTES, (int((last - monday).total_seconds() // 60) // DAY + 1) * DAY)
