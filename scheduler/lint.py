"""Warnings: what loads as a valid dataset but would plan wrong without a word.

Each check returns Problems located like the loader's errors (file, line or VEVENT, field, value,
what to do). `loa validate` prints them and exits 0; `--strict` turns them into errors (exit 2).
Who carries what is asked of `rules`, the definitions the planner itself uses, so a warning
says exactly what the planner would do.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Iterable, Mapping

from .domain import DAY_NAMES, Dataset, Relay, Site, SitePolicy
from .errors import Problem
from .policy import site_policy
from .rules import dark, in_quiet_hours, relay_applies, segment_applies, window_at

MAX_BLACKOUT_DAYS = 400  # a longer blackout is checked on its first 400 days


def dataset_warnings(dataset: Dataset, lines: Mapping[str, Mapping[str, Any]], relay_file: str) -> list[Problem]:
    """Every warning of a loaded dataset; `lines` maps a file to {id: line} (as the loader kept)."""
    return [
        *language_warnings(dataset, lines, relay_file),
        *unairable_segments(dataset, lines.get("segments.csv", {})),
        *blackouts_dropping_relays(dataset),
        *relays_that_cannot_fit(dataset, lines.get(relay_file, {}), relay_file),
    ]


def _shown(ids: list[str], n: int = 3) -> str:
    return ", ".join(ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


# --------------------------------------------------------------------------- ISO 639-3


@cache
def iso639(code: str) -> tuple[str, str] | None:
    """(ISO 639-3 code, English name) of a 639-3 code or of a 639-1 two-letter code; None if neither."""
    import pycountry

    lang = pycountry.languages.get(alpha_3=code) if len(code) == 3 else pycountry.languages.get(alpha_2=code)
    return (lang.alpha_3, lang.name) if lang is not None else None


def language_warnings(dataset: Dataset, lines: Mapping[str, Mapping[str, Any]], relay_file: str) -> list[Problem]:
    """Codes outside ISO 639-3 (two-letter 639-1 codes such as `vi` are accepted), and one language
    written two ways (`vie` at a site, `vi` in the segments): the planner compares codes as text."""
    uses: list[tuple[str, Any, str, str]] = []  # (file, line, field, code)
    uses += [("sites.csv", lines.get("sites.csv", {}).get(s.id), "languages", c)
             for s in dataset.sites for c in s.languages]
    uses += [("segments.csv", lines.get("segments.csv", {}).get(g.id), "language", g.language) for g in dataset.segments]
    uses += [(relay_file, lines.get(relay_file, {}).get(r.id), "language", r.language) for r in dataset.relays]
    out, written = [], {}
    for file, line, field, code in uses:
        known = iso639(code)
        if known is None:
            out.append(Problem(file, line, field, code,
                               "an ISO 639-3 language code (e.g. vie or vi, jra, bdq): this code names no language, "
                               "so no item in another code airs here"))
            continue
        written.setdefault(known[0], {}).setdefault(code, []).append((file, line, field))
    for iso, spellings in written.items():
        if len(spellings) < 2:
            continue
        # the spelling used least is the one to change
        common = max(spellings, key=lambda c: (len(spellings[c]), c))
        for code, places in sorted(spellings.items()):
            if code == common:
                continue
            for file, line, field in places:
                out.append(Problem(file, line, field, code,
                                   f"{common!r}, as the rest of the dataset writes {iso639(code)[1]} ({iso}): "
                                   f"codes are compared as written, so {code!r} never matches {common!r}"))
    return out


# --------------------------------------------------------------------------- segments


def _dates(start: date | None, end: date | None) -> Iterable[date] | None:
    """The validity dates of a segment when bounded and shorter than a week, else None (all weekdays)."""
    if start is None or end is None or (end - start).days >= 6:
        return None
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def unairable_segments(dataset: Dataset, lines: Mapping[str, Any]) -> list[Problem]:
    """A segment no site can air: none with a station in its scope, none speaking its language
    there, or none broadcasting on the weekdays it is valid."""
    out = []
    stations = [s for s in dataset.sites if s.has_station]
    for seg in dataset.segments:
        line = lines.get(seg.id)
        in_scope = [s for s in stations if dataset.in_scope(s, seg.scope)]
        if not in_scope:
            out.append(Problem("segments.csv", line, "scope", ";".join(seg.scope),
                               "a scope holding at least one site with a station: this segment never airs"))
            continue
        speakers = [s for s in in_scope if segment_applies(dataset, s, seg)]
        if not speakers:
            spoken = sorted({c for s in in_scope for c in s.languages})
            out.append(Problem("segments.csv", line, "language", seg.language,
                               f"a language a site in its scope broadcasts in ({', '.join(spoken)}): "
                               f"this segment never airs"))
            continue
        dates = _dates(seg.valid_from, seg.valid_to)
        if dates is not None and not any(d.weekday() in site_policy(dataset, s).broadcast_days
                                         for s in speakers for d in dates):
            days = " ".join(DAY_NAMES[d.weekday()] for d in dates)
            out.append(Problem("segments.csv", line, "valid_from", seg.valid_from.isoformat(),
                               f"validity dates on a broadcast day of its sites (valid only {days}): "
                               f"this segment never airs"))
    return out


# --------------------------------------------------------------------------- blackouts


def blackouts_dropping_relays(dataset: Dataset) -> list[Problem]:
    """A blackout over a mandatory relay's source time drops the relay that day (rules.relays_due)
    without a word; say so unless the VEVENT says it means it (X-LOA-SUSPENDS-RELAYS:yes)."""
    out = []
    mandatory = [r for r in dataset.relays if r.mandatory]
    for b in dataset.blackouts:
        if b.suspends_relays or not mandatory:
            continue
        hit: dict[tuple[date, str], set[str]] = {}
        day = b.start.date()
        for _ in range(MAX_BLACKOUT_DAYS):
            if datetime.combine(day, datetime.min.time()) >= b.end:
                break
            for relay in mandatory:
                source = datetime.combine(day, datetime.min.time()) + timedelta(minutes=relay.start_min)
                if dark((b,), source, source + timedelta(minutes=relay.duration_min)) is None:
                    continue
                for site in dataset.sites:
                    if (site.has_station and dataset.in_scope(site, b.scope)
                            and day.weekday() in site_policy(dataset, site).broadcast_days
                            and relay_applies(dataset, site, relay, day.weekday())):
                        hit.setdefault((day, relay.id), set()).add(site.id)
            day += timedelta(days=1)
        if hit:
            sites = sorted(set().union(*hit.values()))
            dropped = [f"{rid} on {day:%a %d/%m}" for day, rid in sorted(hit)]
            out.append(Problem(
                "blackouts.ics", f"VEVENT {b.id}", "DTSTART", b.start.isoformat(sep=" ", timespec="minutes"),
                f"a blackout that leaves the mandatory relays on air, or X-LOA-SUSPENDS-RELAYS:yes if it means to "
                f"suspend them: it drops {_shown(dropped)} at {len(sites)} site(s) ({_shown(sites)})"))
    return out


# --------------------------------------------------------------------------- mandatory relays


def _airs_somewhere(relay: Relay, pol: SitePolicy) -> bool:
    """Some start (the source time, or later within a deferred relay's delay) keeps the whole
    relay inside one window and outside quiet hours."""
    latest = relay.start_min + (relay.max_delay_min if relay.mode == "deferred" else 0)
    for start in range(relay.start_min, min(latest, 1440 - relay.duration_min) + 1):
        window = window_at(pol.windows, start)
        end = start + relay.duration_min
        if (window is not None and end <= window.end_min
                and not any(in_quiet_hours(pol.quiet_hours, m) for m in range(start, end))):
            return True
    return False


def _live_sessions(relays: list[Relay], pol: SitePolicy) -> int:
    """Sessions the live relays of one day need at least: back-to-back relays share a session
    while it stays within max_session_minutes and one window."""
    sessions, first, window = 0, None, None
    for r in sorted(relays, key=lambda r: r.start_min):
        here = window_at(pol.windows, r.start_min)
        if first is None or here != window or r.start_min + r.duration_min - first > pol.max_session_minutes:
            sessions, first, window = sessions + 1, r.start_min, here
    return sessions


def _relay_misfits(site: Site, pol: SitePolicy, due: list[Relay]) -> list[tuple[Relay, str, str]]:
    """(relay, field, what cannot hold) for one site and weekday's mandatory relays."""
    out = []
    for r in due:
        if r.duration_min > pol.max_session_minutes:
            out.append((r, "duration_s", f"it lasts {r.duration_min} min, more than max_session_minutes "
                                         f"({pol.max_session_minutes})"))
        elif not _airs_somewhere(r, pol):
            out.append((r, "start", "it falls outside every broadcast window (or into quiet hours)"))
    total = sum(r.duration_min for r in due)
    if total > pol.daily_cap_minutes:
        out += [(r, "mandatory", f"the day's mandatory relays need {total} min, more than daily_cap_minutes "
                                 f"({pol.daily_cap_minutes})") for r in due]
    live = [r for r in due if r.mode == "live"]
    if _live_sessions(live, pol) > pol.max_sessions_per_day:
        out += [(r, "mandatory", f"the day's live mandatory relays need {_live_sessions(live, pol)} sessions, "
                                 f"more than max_sessions_per_day ({pol.max_sessions_per_day})") for r in live]
    return out


def relays_that_cannot_fit(dataset: Dataset, lines: Mapping[str, Any], relay_file: str) -> list[Problem]:
    """Mandatory relays a site can never air in full: longer than a session, outside every
    window, or more than the daily cap or the sessions of a day allow (found today at plan time)."""
    found: dict[tuple[str, str, str], dict[str, set[int]]] = {}
    # sites share resolved policies (one per override chain), so the misfits of a (policy, relays
    # due) pair are worked out once: linear in the sites, not minute scans per site. The policy is
    # kept in the value so its id is never reused for another while the cache lives.
    misfits: dict[tuple[int, tuple[str, ...]], tuple[SitePolicy, list[tuple[Relay, str, str]]]] = {}
    mandatory = [r for r in dataset.relays if r.mandatory]
    for site in dataset.sites:
        if not site.has_station:
            continue
        pol = site_policy(dataset, site)
        for weekday in pol.broadcast_days:
            due = [r for r in mandatory if relay_applies(dataset, site, r, weekday)]
            key = (id(pol), tuple(r.id for r in due))
            if key not in misfits:
                misfits[key] = (pol, _relay_misfits(site, pol, due))
            for relay, field, why in misfits[key][1]:
                found.setdefault((relay.id, field, why), {}).setdefault(site.id, set()).add(weekday)
    out = []
    for (relay_id, field, why), sites in found.items():
        days = sorted(set().union(*sites.values()))
        names = sorted(sites)
        out.append(Problem(relay_file, lines.get(relay_id), field, relay_id,
                           f"a mandatory relay every site can air in full: at {len(names)} site(s) "
                           f"({_shown(names)}) on {' '.join(DAY_NAMES[d] for d in days)} {why}"))
    return out
