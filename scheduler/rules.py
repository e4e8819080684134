"""Every broadcast rule, defined once.

The problem builder, the verifier, the loader's cross-checks, the exporters and the reports all
ask these functions, so they can never disagree on what a rule means. Pure: no I/O, no solver.
Minutes are minutes of the day (0..1440); weekdays are 0=Monday .. 6=Sunday.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Iterable, Protocol, Sequence, TypeVar

from .domain import Blackout, Dataset, Freeze, Relay, Segment, Site, SitePolicy, SiteRules, Window, week_days

DAY = 1440


# --------------------------------------------------------------------------- who carries what


def relay_applies(dataset: Dataset, site: Site, relay: Relay, weekday: int | None = None) -> bool:
    """The site carries the relay (its language, its kind of site, in its scope), on `weekday`
    if given, else on some day of the week."""
    return (relay.language in site.languages and site.kind in relay.site_kinds
            and (weekday in relay.days if weekday is not None else bool(relay.days))
            and dataset.in_scope(site, relay.scope))


def segment_applies(dataset: Dataset, site: Site, seg: Segment) -> bool:
    """The site airs the segment: it speaks its language and lies in its scope."""
    return seg.language in site.languages and dataset.in_scope(site, seg.scope)


def sync_members(dataset: Dataset, site: Site) -> tuple[Site, ...]:
    """The sites fed by the site's transmitter (itself alone without a sync group)."""
    if not site.sync_group:
        return (site,)
    return tuple(s for s in dataset.sites if s.sync_group == site.sync_group)


# --------------------------------------------------------------------------- blackouts


def blackouts_over(dataset: Dataset, sites: Iterable[Site], start: datetime, end: datetime) -> tuple[Blackout, ...]:
    """Blackouts overlapping [start, end) at any of `sites`: one blacked-out member silences a
    shared transmitter for every member."""
    sites = tuple(sites)
    return tuple(b for b in dataset.blackouts
                 if b.start < end and start < b.end and any(dataset.in_scope(s, b.scope) for s in sites))


def dark(blackouts: Iterable[Blackout], start: datetime, end: datetime) -> Blackout | None:
    """The first blackout overlapping [start, end), or None."""
    return next((b for b in blackouts if b.start < end and start < b.end), None)


# --------------------------------------------------------------------------- times of day


def in_quiet_hours(quiet_hours: Iterable[tuple[int, int]], minute: int) -> bool:
    """Quiet hours may wrap midnight (21:00-05:00)."""
    return any((a <= minute < b) if a <= b else (minute >= a or minute < b) for a, b in quiet_hours)


def window_at(windows: Iterable[Window], minute: int) -> Window | None:
    return next((w for w in windows if w.start_min <= minute < w.end_min), None)


# --------------------------------------------------------------------------- weekly plays


def valid_days(valid_from: date | None, valid_to: date | None, days: Iterable[date],
               broadcast_days: Iterable[int]) -> tuple[date, ...]:
    """The days of the week a segment may air: within its validity, on broadcast days."""
    allowed = set(broadcast_days)
    return tuple(d for d in days if d.weekday() in allowed
                 and (valid_from is None or d >= valid_from) and (valid_to is None or d <= valid_to))


def playable_days(seg_id: str, days: Iterable[date], freeze: Freeze | None) -> tuple[date, ...]:
    """Of a segment's valid days, those a re-plan from `freeze.cutoff` can count: the days it aired
    before the cutoff and the days from the cutoff's on (plays cannot be added to the past)."""
    if freeze is None:
        return tuple(days)
    first = freeze.cutoff.date()
    return tuple(d for d in days if d >= first or (seg_id, d) in freeze.segments)


def required_plays(min_plays: int, n_valid_days: int) -> int:
    """Plays are once a day, so a segment valid on fewer days than its minimum needs only those."""
    return min(min_plays, n_valid_days)


def segment_min_gap(seg_gap: int | None, policy_gap: int) -> int:
    """Minutes between two plays of one segment: its own value, else the policy's."""
    return policy_gap if seg_gap is None else seg_gap


# --------------------------------------------------------------------------- sessions


class _Span(Protocol):
    start: datetime
    end: datetime


S = TypeVar("S", bound=_Span)


def split_sessions(spans: Iterable[S], gap_minutes: int) -> list[list[S]]:
    """Sessions (buổi phát): maximal runs of airtime of one day whose silences are shorter than
    `gap_minutes`."""
    runs: list[list[S]] = []
    run_end: datetime | None = None
    for p in sorted(spans, key=lambda p: (p.start, p.end)):
        if runs and run_end is not None and p.start.date() == runs[-1][0].start.date() \
                and p.start - run_end < timedelta(minutes=gap_minutes):
            runs[-1].append(p)
            run_end = max(run_end, p.end)
        else:
            runs.append([p])
            run_end = p.end
    return runs


def session_minutes(run: Sequence[_Span]) -> float:
    return (max(p.end for p in run) - min(p.start for p in run)).total_seconds() / 60


# --------------------------------------------------------------------------- sync groups


def combine_policies(policies: Sequence[SitePolicy]) -> SitePolicy:
    """The limits a sync group keeps: every member's hold, so the strictest of each.

    Windows and quiet hours of the members are intersected minute by minute by the problem builder."""
    first = policies[0]
    if len(policies) == 1:
        return first
    return replace(
        first,
        broadcast_days=tuple(d for d in first.broadcast_days if all(d in p.broadcast_days for p in policies)),
        max_sessions_per_day=min(p.max_sessions_per_day for p in policies),
        max_session_minutes=min(p.max_session_minutes for p in policies),
        daily_cap_minutes=min(p.daily_cap_minutes for p in policies),
        segment_min_gap_minutes=max(p.segment_min_gap_minutes for p in policies),
    )


# --------------------------------------------------------------------------- relay coverage


def relay_matches(key: str, relay_id: str, source: str) -> bool:
    """A relay minimum names one relay (its id) or every relay of a source (VOV1, VTV1, GLTV)."""
    return key in (relay_id, source)


def relay_minimums(pol: SitePolicy, due: Iterable[tuple[Relay, date]]) -> tuple[tuple[str, int], ...]:
    """(relay id or source, airings required this week) for each of the policy's minimums, capped by
    the airings due (a relay airs at most once on each day it is due); minimums that nothing
    due matches are dropped."""
    due = list(due)
    out = []
    for key, wanted in pol.relay_minimums:
        need = min(wanted, sum(1 for r, _day in due if relay_matches(key, r.id, r.source)))
        if need:
            out.append((key, need))
    return tuple(out)


# --------------------------------------------------------------------------- one site's week


def _week_span(week: str) -> tuple[datetime, datetime]:
    monday = datetime.combine(week_days(week)[0], datetime.min.time())
    return monday, monday + timedelta(days=7)


def relays_due(dataset: Dataset, site: Site, pol: SitePolicy, week: str) -> tuple[tuple[Relay, date], ...]:
    """(relay, day) the site carries this week: on its broadcast days, where it applies, unless a
    blackout of the sync group covers the relay's source time (then it is not aired at all)."""
    lo, hi = _week_span(week)
    dark_periods = blackouts_over(dataset, sync_members(dataset, site), lo, hi)
    out = []
    for day in week_days(week):
        if day.weekday() not in pol.broadcast_days:
            continue
        for relay in sorted(dataset.relays, key=lambda r: (r.start_min, r.id)):
            if not relay_applies(dataset, site, relay, day.weekday()):
                continue
            source = datetime.combine(day, datetime.min.time()) + timedelta(minutes=relay.start_min)
            if dark(dark_periods, source, source + timedelta(minutes=relay.duration_min)) is None:
                out.append((relay, day))
    return tuple(out)


def still_due(due: Iterable[tuple[Relay, date]], freeze: Freeze | None) -> tuple[tuple[Relay, date], ...]:
    """Of the relays due, those a re-plan from `freeze.cutoff` still requires: aired before the
    cutoff, or able to air after it (a deferred relay until its delay runs out)."""
    if freeze is None:
        return tuple(due)
    out = []
    for relay, day in due:
        latest = relay.start_min + (relay.max_delay_min if relay.mode == "deferred" else 0)
        if (relay.id, day) in freeze.relays or \
                datetime.combine(day, datetime.min.time()) + timedelta(minutes=latest) >= freeze.cutoff:
            out.append((relay, day))
    return tuple(out)


def site_rules(dataset: Dataset, site: Site, pol: SitePolicy, week: str, freeze: Freeze | None = None) -> SiteRules:
    """Everything a plan must remember of the rules in force at one site in one week (re-planned
    from `freeze.cutoff`, if given: only what aired before or can still air is required)."""
    lo, hi = _week_span(week)
    days = week_days(week)
    segments = []
    for seg in sorted(dataset.segments, key=lambda s: s.id):
        if segment_applies(dataset, site, seg):
            n = len(playable_days(seg.id, valid_days(seg.valid_from, seg.valid_to, days, pol.broadcast_days), freeze))
            segments.append((seg.id, required_plays(seg.min_plays, n)))
    due = still_due(relays_due(dataset, site, pol, week), freeze)
    blackouts = tuple(replace(b, scope=()) for b in sorted(
        blackouts_over(dataset, sync_members(dataset, site), lo, hi), key=lambda b: (b.start, b.id)))
    return SiteRules(
        windows=pol.windows, quiet_hours=pol.quiet_hours, broadcast_days=pol.broadcast_days,
        session_gap_minutes=pol.session_gap_minutes, max_sessions_per_day=pol.max_sessions_per_day,
        max_session_minutes=pol.max_session_minutes, daily_cap_minutes=pol.daily_cap_minutes,
        segment_min_gap_minutes=pol.segment_min_gap_minutes, blackouts=blackouts,
        relays=tuple((r.id, d) for r, d in due),
        segments=tuple(segments),
        relay_minimums=relay_minimums(pol, due),
        kept_before=freeze.cutoff if freeze else None,
        emergency_in_quiet_hours=pol.emergency_in_quiet_hours,
    )
