"""An independent checker of every hard rule on a finished WeekPlan.

It knows nothing of the solver and works on exact minutes, so a modelling shortcut that breaks a
rule is caught here. It judges the plan by the rules stored in it (`PlanSite.rules`, resolved by
`rules.site_rules` when the plan was made), using the same rule definitions as the planner, so a
plan file can be checked again anywhere, without the dataset.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from datetime import date, datetime, timedelta

from .domain import Placement, PlanItem, PlanSite, SiteRules, SolveStatus, WeekPlan, week_days
from .rules import (DAY, dark, in_quiet_hours, relay_matches, segment_min_gap, session_minutes, split_sessions,
                    valid_days, window_at)


def _minute(dt: datetime) -> int:
    return dt.hour * 60 + dt.minute


def check_windows(rules: SiteRules, placements: list[Placement]) -> list[str]:
    """Inside windows, outside quiet hours and blackouts, on broadcast days only."""
    out = []
    closed_at = _closed_minutes(rules.windows, rules.quiet_hours)
    for p in placements:
        found = []
        if p.start.weekday() not in rules.broadcast_days:
            found.append("not a broadcast day")
        if p.end.date() != p.start.date() and p.end != datetime.combine(p.start.date() + timedelta(days=1), datetime.min.time()):
            found.append("runs past midnight")
        first = _minute(p.start)
        closed = closed_at[first:first + p.minutes]
        if closed.strip(b"\0"):
            why = next(c for c in closed if c)
            found.append("outside every broadcast window" if why == 1 else "in quiet hours")
        blackout = dark(rules.blackouts, p.start, p.end)
        if blackout is not None:
            found.append(f"during blackout \"{blackout.title}\"")
        out += [f"{p.kind} {p.item_id} at {p.start:%a %H:%M}: {what}" for what in found]
    return out


@lru_cache(maxsize=64)
def _closed_minutes(windows: tuple, quiet_hours: tuple) -> bytes:
    """Per minute of the day: 0 open, 1 outside every window, 2 in quiet hours (the rules'
    definitions, worked out once per set of rules rather than per placement and minute)."""
    return bytes(1 if window_at(windows, m) is None else 2 if in_quiet_hours(quiet_hours, m) else 0
                 for m in range(2 * DAY))  # a placement past midnight reads on


def check_no_overlap(placements: list[Placement]) -> list[str]:
    out = []
    for a, b in zip(placements, placements[1:]):
        if b.start < a.end:
            out.append(f"{a.item_id} ({a.start:%a %H:%M}–{a.end:%H:%M}) overlaps {b.item_id} ({b.start:%H:%M})")
    return out


def check_mandatory_relays(rules: SiteRules, items: dict[tuple[str, str], PlanItem],
                           placements: list[Placement]) -> list[str]:
    """Every mandatory relay due airs once that day, in full, on time; no relay airs where it is not due."""
    out = []
    due = set(rules.relays)
    aired: dict[tuple[str, date], list[Placement]] = defaultdict(list)
    for p in placements:
        if p.kind == "relay":
            aired[(p.item_id, p.start.date())].append(p)
    for (rid, day), ps in sorted(aired.items()):
        r = items.get(("relay", rid))
        if r is None or (rid, day) not in due:
            out.append(f"relay {rid} on {day}: not due at this site that day")
            continue
        if len(ps) > 1:
            out.append(f"relay {rid} on {day}: aired {len(ps)} times")
        for p in ps:
            if p.minutes != r.duration_min:
                out.append(f"relay {rid} on {day}: aired {p.minutes} min, not in full ({r.duration_min} min)")
            delay = _minute(p.start) - r.start_min
            if r.mode == "live" and delay != 0:
                out.append(f"relay {rid} on {day}: live relay moved by {delay} min")
            if r.mode == "deferred" and not 0 <= delay <= r.max_delay_min:
                out.append(f"relay {rid} on {day}: delayed {delay} min, allowed 0..{r.max_delay_min}")
    for rid, day in sorted(due):
        r = items.get(("relay", rid))
        if r is not None and r.mandatory and not aired.get((rid, day)):
            out.append(f"mandatory relay {rid} missing on {day}")
    return out


def check_relay_minimums(rules: SiteRules, items: dict[tuple[str, str], PlanItem],
                         placements: list[Placement]) -> list[str]:
    """Each relay or source with a weekly minimum airs at least that often."""
    out = []
    relays = [items[("relay", p.item_id)] for p in placements if p.kind == "relay" and ("relay", p.item_id) in items]
    for key, need in rules.relay_minimums:
        aired = sum(1 for r in relays if relay_matches(key, r.id, r.source))
        if aired < need:
            out.append(f"relay minimum {key}: aired {aired} time(s) this week, at least {need} required")
    return out


def check_weekly_plays(rules: SiteRules, items: dict[tuple[str, str], PlanItem], days: tuple[date, ...],
                       placements: list[Placement]) -> list[str]:
    """Each segment that applies airs min..max times, once a day at most, min_gap apart, when valid
    (validity from `rules.kept_before` on: a re-plan's kept placements aired when they could)."""
    out = []
    required = dict(rules.segments)
    plays: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        if p.kind == "segment":
            plays[p.item_id].append(p)
    for sid in sorted(plays):
        if sid not in required or ("segment", sid) not in items:
            out.append(f"segment {sid}: not for this site (language or scope)")
    for sid, need in sorted(required.items()):
        s = items.get(("segment", sid))
        if s is None:
            out.append(f"segment {sid}: required but missing from the plan's items")
            continue
        ps = sorted(plays.get(sid, []), key=lambda p: p.start)
        valid = valid_days(s.valid_from, s.valid_to, days, rules.broadcast_days)
        if not need <= len(ps) <= s.max_plays:
            out.append(f"segment {sid}: {len(ps)} plays, required {need}..{s.max_plays}")
        if len({p.start.date() for p in ps}) != len(ps):
            out.append(f"segment {sid}: more than one play on a day")
        for p in ps:
            if p.start.date() not in valid and (rules.kept_before is None or p.start >= rules.kept_before):
                out.append(f"segment {sid}: plays on {p.start.date()} outside its validity")
            if p.minutes != s.duration_min:
                out.append(f"segment {sid}: placed for {p.minutes} min, audio lasts {s.duration_s} s")
        gap = segment_min_gap(s.min_gap_min, rules.segment_min_gap_minutes)
        for a, b in zip(ps, ps[1:]):
            if (b.start - a.start) < timedelta(minutes=gap):
                out.append(f"segment {sid}: plays {a.start:%a %H:%M} and {b.start:%a %H:%M} less than {gap} min apart")
    return out


def check_session_limits(rules: SiteRules, placements: list[Placement]) -> list[str]:
    out = []
    by_day: dict[date, list[Placement]] = defaultdict(list)
    for p in placements:
        by_day[p.start.date()].append(p)
    for day, ps in sorted(by_day.items()):
        runs = split_sessions(ps, rules.session_gap_minutes)
        if len(runs) > rules.max_sessions_per_day:
            out.append(f"{day}: {len(runs)} sessions, at most {rules.max_sessions_per_day}")
        for run in runs:
            length = session_minutes(run)
            if length > rules.max_session_minutes:
                out.append(f"{day}: session at {run[0].start:%H:%M} lasts {length:.0f} min, "
                           f"at most {rules.max_session_minutes}")
        total = sum(p.minutes for p in ps)
        if total > rules.daily_cap_minutes:
            out.append(f"{day}: {total} min of airtime, cap {rules.daily_cap_minutes}")
    return out


def check_emergency(rules: SiteRules, items: dict[tuple[str, str], PlanItem], placements: list[Placement]) -> list[str]:
    """Circular 39 emergency bulletins override windows, sessions and the daily cap, not the
    blackouts (the transmitter is off), nor the quiet hours unless the policy allows it; each
    airs whole, within its day, at most its max plays a week, where it applies."""
    out = []
    applies = dict(rules.segments)
    plays: dict[str, int] = defaultdict(int)
    for p in placements:
        label = f"emergency bulletin {p.item_id} at {p.start:%a %H:%M}"
        item = items[("segment", p.item_id)]
        plays[p.item_id] += 1
        if p.item_id not in applies:
            out.append(f"{label}: not for this site (language or scope)")
        if p.minutes != item.duration_min:
            out.append(f"{label}: placed for {p.minutes} min, audio lasts {item.duration_s} s")
        if p.end.date() != p.start.date() and p.end != datetime.combine(p.start.date() + timedelta(days=1),
                                                                        datetime.min.time()):
            out.append(f"{label}: runs past midnight")
        first = _minute(p.start)
        if not rules.emergency_in_quiet_hours and any(in_quiet_hours(rules.quiet_hours, m)
                                                      for m in range(first, first + p.minutes)):
            out.append(f"{label}: in quiet hours (policy emergency_in_quiet_hours = false)")
        blackout = dark(rules.blackouts, p.start, p.end)
        if blackout is not None:
            out.append(f"{label}: during blackout \"{blackout.title}\"")
    for sid, n in sorted(plays.items()):
        if n > items[("segment", sid)].max_plays:
            out.append(f"emergency bulletin {sid}: {n} plays, at most {items[('segment', sid)].max_plays}")
    return out


def check_sync_groups(sites: dict[str, PlanSite], by_site: dict[str, list[Placement]]) -> list[str]:
    """Sites fed by one transmitter air one schedule."""
    groups: dict[str, list[str]] = defaultdict(list)
    for sid in sorted(by_site):
        site = sites.get(sid)
        if site is not None and site.sync_group:
            groups[site.sync_group].append(sid)
    out = []
    for group, members in sorted(groups.items()):
        shapes = {m: [(p.kind, p.item_id, p.start, p.end) for p in by_site[m]] for m in members}
        first = shapes[members[0]]
        for m in members[1:]:
            if shapes[m] != first:
                out.append(f"sync group {group}: {m} differs from {members[0]}")
    return out


RULES = {  # check -> the rule's name as a planner says it (refusals of a plan file name it)
    "week": "inside the plan's week",
    "sites": "planned sites only",
    "windows": "broadcast windows, quiet hours, blackouts",
    "no_overlap": "no overlap",
    "mandatory_relays": "mandatory relays",
    "weekly_plays": "weekly plays of a segment",
    "session_limits": "sessions and daily cap",
    "emergency": "emergency bulletins (Circular 39)",
    "sync_groups": "sync groups air one schedule",
}


def verify_rules(plan: WeekPlan, only: set[str] | None = None) -> list[tuple[str, str]]:
    """Every broken hard rule of the plan as (rule name from RULES, what is wrong); with `only`,
    at those sites (a re-plan checks the sites it changed: the others are as verified before)."""
    days = week_days(plan.week)
    sites = {s.id: s for s in plan.sites}
    items = {(i.kind, i.id): i for i in plan.items}
    emergency = {i.id for i in plan.items if i.kind == "segment" and i.level == "emergency"}
    planned = {sid for u in plan.units if SolveStatus(u.status).planned for sid in u.site_ids} \
        if plan.units else set(sites)
    by_site: dict[str, list[Placement]] = {sid: [] for sid in planned}
    problems: list[tuple[str, str]] = []
    for p in plan.placements:
        if p.site_id not in by_site:
            problems.append(("sites", f"{p.site_id}: placement for a site that was not planned"))
            continue
        if p.start.date() not in days:
            problems.append(("week", f"{p.site_id}: {p.kind} {p.item_id} at {p.start:%Y-%m-%d %H:%M} "
                                     f"is outside week {plan.week}"))
            continue
        by_site[p.site_id].append(p)
    for sid in sorted(by_site):
        site = sites.get(sid)
        if site is None:
            problems.append(("sites", f"{sid}: unknown site"))
            continue
        if only is not None and sid not in only:
            continue
        ps = sorted(by_site[sid], key=lambda p: (p.start, p.end))
        # emergency bulletins keep their own rules; a re-plan's kept part aired under the day
        # rules of its time (`kept_before`), which hold from then on
        regular = [p for p in ps if p.item_id not in emergency]
        kept = site.rules.kept_before
        recent = [p for p in regular if kept is None or p.start >= kept]
        from_day = [p for p in regular if kept is None or p.start.date() >= kept.date()]
        for rule, found in (("windows", check_windows(site.rules, recent)), ("no_overlap", check_no_overlap(ps)),
                            ("mandatory_relays", check_mandatory_relays(site.rules, items, ps)),
                            ("relay_minimums", check_relay_minimums(site.rules, items, ps)),
                            ("weekly_plays", check_weekly_plays(site.rules, items, days, regular)),
                            ("session_limits", check_session_limits(site.rules, from_day)),
                            ("emergency", check_emergency(site.rules, items,
                                                          [p for p in ps if p.item_id in emergency]))):
            problems.extend((rule, f"{site.name} ({sid}): {f}") for f in found)
    problems.extend(("sync_groups", f) for f in check_sync_groups(sites, by_site))
    return problems


def verify(plan: WeekPlan, only: set[str] | None = None) -> list[str]:
    """Every broken hard rule of the plan (at the sites `only`, if given), worded for a planner;
    empty means the plan is valid."""
    return [message for _rule, message in verify_rules(plan, only)]
