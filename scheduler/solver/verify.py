"""An independent checker of every hard rule on a finished WeekPlan.

It knows nothing of the solver and works on exact minutes, so a modelling shortcut that breaks a
rule is caught here. Every model test and every `loa plan` run goes through `verify`.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from ..domain import Dataset, Placement, Site, SitePolicy, WeekPlan, week_days
from ..policy import site_policy


def _minute(dt: datetime) -> int:
    return dt.hour * 60 + dt.minute


def _in_quiet(pol: SitePolicy, m: int) -> bool:
    return any((a <= m < b) if a <= b else (m >= a or m < b) for a, b in pol.quiet_hours)


def _in_window(pol: SitePolicy, m: int) -> bool:
    return any(w.start_min <= m < w.end_min for w in pol.windows)


def _dark(dataset: Dataset, site: Site, start: datetime, end: datetime) -> str | None:
    """A blackout of any member of a sync group silences the shared transmitter for all."""
    members = [s for s in dataset.sites if site.sync_group and s.sync_group == site.sync_group] or [site]
    for b in dataset.blackouts:
        if b.start < end and start < b.end and any(dataset.in_scope(m, b.scope) for m in members):
            return b.title
    return None


def check_windows(dataset: Dataset, site: Site, pol: SitePolicy, placements: list[Placement]) -> list[str]:
    """Inside windows, outside quiet hours and blackouts, on broadcast days only."""
    out = []
    for p in placements:
        label = f"{p.kind} {p.item_id} at {p.start:%a %H:%M}"
        if p.start.weekday() not in pol.broadcast_days:
            out.append(f"{label}: not a broadcast day")
        if p.end.date() != p.start.date() and p.end != datetime.combine(p.start.date() + timedelta(days=1), datetime.min.time()):
            out.append(f"{label}: runs past midnight")
        first = _minute(p.start)
        for m in range(first, first + p.minutes):
            if not _in_window(pol, m):
                out.append(f"{label}: outside every broadcast window")
                break
            if _in_quiet(pol, m):
                out.append(f"{label}: in quiet hours")
                break
        title = _dark(dataset, site, p.start, p.end)
        if title:
            out.append(f"{label}: during blackout \"{title}\"")
    return out


def check_no_overlap(placements: list[Placement]) -> list[str]:
    out = []
    for a, b in zip(placements, placements[1:]):
        if b.start < a.end:
            out.append(f"{a.item_id} ({a.start:%a %H:%M}–{a.end:%H:%M}) overlaps {b.item_id} ({b.start:%H:%M})")
    return out


def check_mandatory_relays(dataset: Dataset, site: Site, pol: SitePolicy, days: tuple[date, ...],
                           placements: list[Placement]) -> list[str]:
    """Every mandatory relay that applies airs once per broadcast day, in full, on time."""
    out = []
    aired: dict[tuple[str, date], list[Placement]] = defaultdict(list)
    for p in placements:
        if p.kind == "relay":
            aired[(p.item_id, p.start.date())].append(p)
    relays = {r.id: r for r in dataset.relays}
    for (rid, day), ps in aired.items():
        r = relays.get(rid)
        if r is None or not _relay_applies(dataset, site, r, day.weekday()):
            out.append(f"relay {rid} on {day}: does not apply to this site")
            continue
        if len(ps) > 1:
            out.append(f"relay {rid} on {day}: aired {len(ps)} times")
        for p in ps:
            if p.minutes != -(-r.duration_s // 60):
                out.append(f"relay {rid} on {day}: aired {p.minutes} min, not in full ({-(-r.duration_s // 60)} min)")
            delay = _minute(p.start) - r.start_min
            if r.mode == "live" and delay != 0:
                out.append(f"relay {rid} on {day}: live relay moved by {delay} min")
            if r.mode == "deferred" and not 0 <= delay <= r.max_delay_min:
                out.append(f"relay {rid} on {day}: delayed {delay} min, allowed 0..{r.max_delay_min}")
    for day in days:
        if day.weekday() not in pol.broadcast_days:
            continue
        for r in dataset.relays:
            if not r.mandatory or not _relay_applies(dataset, site, r, day.weekday()):
                continue
            source = datetime.combine(day, datetime.min.time()) + timedelta(minutes=r.start_min)
            if _dark(dataset, site, source, source + timedelta(seconds=r.duration_s)):
                continue  # cancelled by a blackout
            if not aired.get((r.id, day)):
                out.append(f"mandatory relay {r.id} missing on {day}")
    return out


def _relay_applies(dataset: Dataset, site: Site, r, weekday: int) -> bool:
    return (r.language in site.languages and site.kind in r.site_kinds and weekday in r.days
            and dataset.in_scope(site, r.scope))


def check_weekly_plays(dataset: Dataset, site: Site, pol: SitePolicy, days: tuple[date, ...],
                       placements: list[Placement]) -> list[str]:
    """Each segment in scope airs min..max times, once a day at most, min_gap apart, when valid."""
    out = []
    plays: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        if p.kind == "segment":
            plays[p.item_id].append(p)
    segments = {s.id: s for s in dataset.segments}
    for sid, ps in plays.items():
        s = segments.get(sid)
        if s is None or s.language not in site.languages or not dataset.in_scope(site, s.scope):
            out.append(f"segment {sid}: not for this site (language or scope)")
    for s in dataset.segments:
        if s.language not in site.languages or not dataset.in_scope(site, s.scope):
            continue
        ps = sorted(plays.get(s.id, []), key=lambda p: p.start)
        valid = [d for d in days if d.weekday() in pol.broadcast_days
                 and (s.valid_from is None or d >= s.valid_from) and (s.valid_to is None or d <= s.valid_to)]
        need = min(s.min_plays, len(valid))
        if not need <= len(ps) <= s.max_plays:
            out.append(f"segment {s.id}: {len(ps)} plays, required {need}..{s.max_plays}")
        if len({p.start.date() for p in ps}) != len(ps):
            out.append(f"segment {s.id}: more than one play on a day")
        for p in ps:
            if p.start.date() not in valid:
                out.append(f"segment {s.id}: plays on {p.start.date()} outside its validity")
            if p.minutes != -(-s.duration_s // 60):
                out.append(f"segment {s.id}: placed for {p.minutes} min, audio lasts {s.duration_s} s")
        gap = s.min_gap_min or pol.segment_min_gap_minutes
        for a, b in zip(ps, ps[1:]):
            if (b.start - a.start) < timedelta(minutes=gap):
                out.append(f"segment {s.id}: plays {a.start:%a %H:%M} and {b.start:%a %H:%M} less than {gap} min apart")
    return out


def sessions(placements: list[Placement], session_gap: int) -> list[list[Placement]]:
    """Maximal runs of airtime whose gaps are shorter than `session_gap` minutes."""
    runs: list[list[Placement]] = []
    for p in sorted(placements, key=lambda p: p.start):
        if runs and p.start.date() == runs[-1][-1].start.date() and \
                (p.start - max(q.end for q in runs[-1])) < timedelta(minutes=session_gap):
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def check_session_limits(pol: SitePolicy, placements: list[Placement]) -> list[str]:
    out = []
    by_day: dict[date, list[Placement]] = defaultdict(list)
    for p in placements:
        by_day[p.start.date()].append(p)
    for day, ps in sorted(by_day.items()):
        runs = sessions(ps, pol.session_gap_minutes)
        if len(runs) > pol.max_sessions_per_day:
            out.append(f"{day}: {len(runs)} sessions, at most {pol.max_sessions_per_day}")
        for run in runs:
            length = (max(p.end for p in run) - run[0].start).total_seconds() / 60
            if length > pol.max_session_minutes:
                out.append(f"{day}: session at {run[0].start:%H:%M} lasts {length:.0f} min, at most {pol.max_session_minutes}")
        total = sum(p.minutes for p in ps)
        if total > pol.daily_cap_minutes:
            out.append(f"{day}: {total} min of airtime, cap {pol.daily_cap_minutes}")
    return out


def check_sync_groups(dataset: Dataset, by_site: dict[str, list[Placement]]) -> list[str]:
    groups: dict[str, list[str]] = defaultdict(list)
    for s in dataset.sites:
        if s.sync_group and s.id in by_site:
            groups[s.sync_group].append(s.id)
    out = []
    for group, members in sorted(groups.items()):
        shapes = {m: [(p.kind, p.item_id, p.start, p.end) for p in by_site[m]] for m in members}
        first = shapes[members[0]]
        for m in members[1:]:
            if shapes[m] != first:
                out.append(f"sync group {group}: {m} differs from {members[0]}")
    return out


def verify(plan: WeekPlan, dataset: Dataset) -> list[str]:
    """Every broken hard rule of the plan, worded for a planner; empty means the plan is valid."""
    days = week_days(plan.week)
    sites = {s.id: s for s in dataset.sites}
    planned = {sid for u in plan.units if u.status in ("OPTIMAL", "FEASIBLE") for sid in u.site_ids} \
        if plan.units else {s.id for s in plan.sites}
    by_site: dict[str, list[Placement]] = {sid: [] for sid in planned}
    problems = []
    for p in plan.placements:
        if p.site_id not in by_site:
            problems.append(f"{p.site_id}: placement for a site that was not planned")
            continue
        by_site[p.site_id].append(p)
    for sid in sorted(by_site):
        site = sites.get(sid)
        if site is None:
            problems.append(f"{sid}: unknown site")
            continue
        pol = site_policy(dataset, site)
        ps = sorted(by_site[sid], key=lambda p: (p.start, p.end))
        found = (check_windows(dataset, site, pol, ps) + check_no_overlap(ps)
                 + check_mandatory_relays(dataset, site, pol, days, ps)
                 + check_weekly_plays(dataset, site, pol, days, ps) + check_session_limits(pol, ps))
        problems.extend(f"{site.name} ({sid}): {f}" for f in found)
    problems.extend(check_sync_groups(dataset, by_site))
    return problems


