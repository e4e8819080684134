"""One unit's planning problem in plain Python: candidate starts, their scores, the requirements.

Kept free of the solver so the CP-SAT model, the hand-made baseline and `loa explain` all see
the same candidates and the same scores. Time is minutes from Monday 00:00 of the ISO week.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from ..audience import availability
from ..domain import DAY_NAMES, Dataset, Relay, Segment, Site, SitePolicy, Window, week_days
from ..errors import DataError, Problem
from ..policy import site_policy

DAY = 1440


def hhmm(minute: int) -> str:
    minute %= DAY if minute != DAY else DAY + 1
    return f"{minute // 60:02d}:{minute % 60:02d}"


def window_text(windows: tuple[Window, ...]) -> str:
    return ", ".join(f"{w.name} {hhmm(w.start_min)}–{hhmm(w.end_min)}" for w in windows) or "none"


@dataclass(frozen=True)
class Unit:
    """Sites solved together: one site, or every site of a sync group (identical schedules)."""

    id: str
    sites: tuple[Site, ...]
    district_id: str

    @property
    def population(self) -> int:
        return sum(s.population for s in self.sites)


@dataclass
class Candidate:
    """One possible airing: an item at one start, with everything the objective needs."""

    kind: str  # relay | segment
    item_id: str
    day: int  # 0..6
    start: int  # minute of the week
    minutes: int  # airtime, rounded up to whole minutes
    listeners: float  # expected listeners over every site of the unit
    availability: float  # mean share of people available during the item
    daypart: str  # window name the start falls in ("" if outside every window)
    blocked_by: tuple[str, ...] = ()  # requirement keys that forbid this start (mandatory relays only)

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True)
class Requirement:
    """A hard rule instance, named as the planner says it; infeasibility reports list these."""

    key: str
    rule: str  # function name of the rule in model.py / verify.py
    text: str


@dataclass
class UnitProblem:
    unit: Unit
    week: str
    days: tuple[date, ...]
    policy: SitePolicy
    broadcast_days: tuple[int, ...]
    allowed: dict[int, list[bool]]  # day -> minute-of-day -> may broadcast
    relays: dict[tuple[str, int], Relay]  # (relay id, day) that apply
    segments: dict[str, Segment]
    segment_days: dict[str, tuple[int, ...]]  # days a segment may air (validity x broadcast days)
    candidates: list[Candidate]
    requirements: dict[str, Requirement] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. relays cancelled by a blackout

    def require(self, key: str, rule: str, text: str) -> str:
        self.requirements.setdefault(key, Requirement(key, rule, text))
        return key

    def min_plays(self, seg: Segment) -> int:
        """Required plays this week, capped by the days the segment may air at all."""
        return min(seg.min_plays, len(self.segment_days[seg.id]))

    @property
    def scale(self) -> float:
        """Secondary weights are listener-plays per 1,000 inhabitants: the optimum does not
        depend on population, so identical units of different size share one solve."""
        return self.unit.population / 1000.0


def unit_signature(dataset: Dataset, unit: Unit) -> tuple:
    """Everything a unit's plan depends on except population: units with equal signatures
    have proportional objectives (all terms scale with population), so one solve serves all."""
    if len(unit.sites) > 1:
        return ("group", unit.id)
    site = unit.sites[0]
    return (
        dataset.coordinates(site), site.profile_id, site.languages, site.kind, site.market_days,
        site_policy(dataset, site),
        tuple(r.id for r in dataset.relays if any(_relay_applies(dataset, site, r, d) for d in range(7))),
        tuple(g.id for g in dataset.segments if _segment_applies(dataset, site, g)),
        tuple(b.id for b in dataset.blackouts if dataset.in_scope(site, b.scope)),
    )


def combine_policies(policies: list[SitePolicy]) -> SitePolicy:
    """The rules a sync group keeps: every member's limits hold, so take the strictest.

    Windows and quiet hours of all members are intersected minute by minute in build_problem."""
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
        quiet_hours=tuple(dict.fromkeys(q for p in policies for q in p.quiet_hours)),
    )


def build_units(dataset: Dataset, site_ids: set[str] | None = None) -> list[Unit]:
    """Group the sites with a station into units; sync groups become one unit."""
    groups: dict[str, list[Site]] = {}
    for site in sorted(dataset.sites, key=lambda s: s.id):
        if not site.has_station or (site_ids is not None and site.id not in site_ids):
            continue
        key = f"group:{site.sync_group}" if site.sync_group else site.id
        groups.setdefault(key, []).append(site)
    units = []
    for key, sites in sorted(groups.items()):
        units.append(Unit(id=key, sites=tuple(sites), district_id=dataset.district_of(sites[0]).id))
    return units


def _quiet(policy: SitePolicy, minute: int) -> bool:
    for start, end in policy.quiet_hours:
        if start <= end:
            if start <= minute < end:
                return True
        elif minute >= start or minute < end:
            return True
    return False


def _window_of(policy: SitePolicy, minute: int) -> str:
    for w in policy.windows:
        if w.start_min <= minute < w.end_min:
            return w.name
    return ""


def _blackouts(dataset: Dataset, unit: Unit, day: date):
    lo = datetime.combine(day, datetime.min.time())
    hi = lo + timedelta(days=1)
    for b in dataset.blackouts:
        if b.end > lo and b.start < hi and any(dataset.in_scope(s, b.scope) for s in unit.sites):
            start = max(0, int((b.start - lo).total_seconds() // 60))
            end = min(DAY, -(-int((b.end - lo).total_seconds()) // 60))
            yield b, start, end


def _mean(curve: tuple[float, ...], start: int, minutes: int) -> float:
    stop = min(DAY, start + minutes)
    return sum(curve[start:stop]) / max(1, stop - start)


def _relay_applies(dataset: Dataset, site: Site, relay: Relay, weekday: int) -> bool:
    return (
        relay.language in site.languages
        and site.kind in relay.site_kinds
        and weekday in relay.days
        and dataset.in_scope(site, relay.scope)
    )


def _segment_applies(dataset: Dataset, site: Site, seg: Segment) -> bool:
    return seg.language in site.languages and dataset.in_scope(site, seg.scope)


def build_problem(dataset: Dataset, unit: Unit, week: str, policy: SitePolicy | None = None) -> UnitProblem:
    """Everything the model needs for one unit and one ISO week."""
    members = [site_policy(dataset, s) for s in unit.sites]
    policy = policy or combine_policies(members)
    if policy.session_gap_minutes % policy.slot_minutes:
        raise DataError(Problem(dataset.policy.source, "policy.session_gap_minutes", "session_gap_minutes",
                                policy.session_gap_minutes,
                                f"a multiple of slot_minutes ({policy.slot_minutes})"))
    days = week_days(week)
    curves = {(s.id, d): availability(dataset, s, days[d]) for s in unit.sites for d in range(7)}

    def audience(day: int, start: int, minutes: int) -> tuple[float, float]:
        listeners = sum(s.population * _mean(curves[(s.id, day)], start, minutes) for s in unit.sites)
        return listeners, listeners / max(1, unit.population)

    problem = UnitProblem(unit=unit, week=week, days=days, policy=policy,
                          broadcast_days=tuple(d for d in range(7) if d in policy.broadcast_days),
                          allowed={}, relays={}, segments={}, segment_days={}, candidates=[])
    windows_key = problem.require("windows", "add_windows",
                                  f"broadcasts only inside the windows {window_text(policy.windows)}")
    quiet_key = problem.require("quiet", "add_windows", "no broadcast in quiet hours " + ", ".join(
        f"{hhmm(a)}–{hhmm(b)}" for a, b in policy.quiet_hours)) if policy.quiet_hours else None

    in_window = [all(_window_of(p, m) for p in members) and bool(_window_of(policy, m)) for m in range(DAY)]
    quiet = [any(_quiet(p, m) for p in members + [policy]) for m in range(DAY)]
    blackout_minutes: dict[int, dict[int, str]] = {}
    for d in problem.broadcast_days:
        dark: dict[int, str] = {}
        for b, start, end in _blackouts(dataset, unit, days[d]):
            key = problem.require(f"blackout:{b.id}", "add_windows",
                                  f"blackout \"{b.title}\" {b.start:%a %d/%m %H:%M}–{b.end:%H:%M}")
            for m in range(start, end):
                dark.setdefault(m, key)
        blackout_minutes[d] = dark
        problem.allowed[d] = [in_window[m] and not quiet[m] and m not in dark for m in range(DAY)]

    slot = policy.slot_minutes
    for d in problem.broadcast_days:
        allowed = problem.allowed[d]
        for relay in sorted(dataset.relays, key=lambda r: r.id):
            if not any(_relay_applies(dataset, s, relay, d) for s in unit.sites):
                continue
            minutes = relay.duration_min
            source_end = relay.start_min + minutes
            if any(m in blackout_minutes[d] for m in range(relay.start_min, min(DAY, source_end))):
                problem.notes.append(f"{DAY_NAMES[d]}: relay \"{relay.title}\" falls in a blackout and is not aired")
                continue
            problem.relays[(relay.id, d)] = relay
            if relay.mode == "live":
                starts = [relay.start_min]
            else:
                first = -(-relay.start_min // slot) * slot
                starts = list(range(first, relay.start_min + relay.max_delay_min + 1, slot))
            for start in starts:
                if start + minutes > DAY:
                    continue
                span = range(start, start + minutes)
                blocked = []
                if not all(in_window[m] for m in span):
                    blocked.append(windows_key)
                if quiet_key and any(quiet[m] for m in span):
                    blocked.append(quiet_key)
                blocked.extend(sorted({blackout_minutes[d][m] for m in span if m in blackout_minutes[d]}))
                if blocked and not relay.mandatory:
                    continue
                listeners, share = audience(d, start, minutes)
                problem.candidates.append(Candidate(
                    "relay", relay.id, d, d * DAY + start, minutes, listeners, share,
                    _window_of(policy, start), tuple(blocked)))

    fixed: dict[int, set[int]] = {d: set() for d in problem.broadcast_days}
    for c in problem.candidates:  # a mandatory live relay that may air will air: nothing else fits there
        relay = problem.relays[(c.item_id, c.day)]
        if relay.mandatory and relay.mode == "live" and not c.blocked_by:
            fixed[c.day].update(range(c.start % DAY, c.start % DAY + c.minutes))

    for seg in sorted(dataset.segments, key=lambda s: s.id):
        if not all(_segment_applies(dataset, s, seg) for s in unit.sites):
            continue
        valid = tuple(d for d in problem.broadcast_days
                      if (seg.valid_from is None or days[d] >= seg.valid_from)
                      and (seg.valid_to is None or days[d] <= seg.valid_to))
        if not valid and seg.min_plays == 0:
            continue
        problem.segments[seg.id] = seg
        problem.segment_days[seg.id] = valid
        minutes = seg.duration_min
        for d in valid:
            allowed = problem.allowed[d]
            for start in range(0, DAY - minutes + 1, slot):
                if all(allowed[start:start + minutes]) and not fixed[d].intersection(range(start, start + minutes)):
                    listeners, share = audience(d, start, minutes)
                    problem.candidates.append(Candidate(
                        "segment", seg.id, d, d * DAY + start, minutes, listeners, share,
                        _window_of(policy, start)))
    return problem


def segment_requirement_text(problem: UnitProblem, seg: Segment) -> str:
    need = problem.min_plays(seg)
    return (f"segment \"{seg.title}\" ({seg.duration_min} min) airs at least {need} time(s) this week, "
            f"at most once a day, {seg.min_gap_min or problem.policy.segment_min_gap_minutes} min apart")


def day_label(problem: UnitProblem, day: int) -> str:
    return problem.days[day].strftime("%a %d/%m")


def relay_requirement_text(problem: UnitProblem, relay: Relay, day: int) -> str:
    when = f"live at {hhmm(relay.start_min)}" if relay.mode == "live" else (
        f"from {hhmm(relay.start_min)}, at most {relay.max_delay_min} min late")
    return f"relay \"{relay.title}\" ({relay.source}, {relay.duration_min} min, {when}) airs in full on {day_label(problem, day)}"
