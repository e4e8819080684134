"""One unit's planning problem in plain Python: the sessions it may air and their free time.

The unit of airtime is a *session* (buổi phát): a span of at most `max_session_minutes` inside
one broadcast window, holding the relays that fall in it and PAR items packed back to back
around them. For each day and window we enumerate session options (a start on the
`slot_minutes` grid, which relays it carries, where a deferred relay goes); each option has *bins*, the free
stretches next to its relays, with the audience they reach. The CP-SAT model then picks at
most one option per window and fills bins with segments.

Kept free of the solver so the model, the baseline and `loa explain` share it. Minutes here
are minutes of the day (0..1440) unless a name says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from datetime import date, datetime, timedelta
from itertools import accumulate

from ..audience import availability
from ..domain import Dataset, Freeze, Relay, Segment, Site, SitePolicy, Window, week_days
from ..policy import site_policy
from ..rules import (DAY, blackouts_over, combine_policies, in_quiet_hours, playable_days, relay_applies,
                     relay_matches, relay_minimums, relays_due, required_plays, segment_applies, segment_min_gap,
                     split_sessions, still_due, valid_days, window_at)

FILL_HORIZON = 15  # minutes next to a bin's packing edge whose audience the bin is scored by


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def window_text(windows: tuple[Window, ...]) -> str:
    return ", ".join(f"{w.name} {hhmm(w.start_min)}–{hhmm(w.end_min)}" for w in windows) or "none"


@dataclass(frozen=True)
class Unit:
    """Sites solved together: one site, or every site of a sync group (identical schedules)."""

    id: str
    sites: tuple[Site, ...]
    district_id: str

    @cached_property
    def population(self) -> int:
        return sum(s.population for s in self.sites)


@dataclass(frozen=True)
class RelaySlot:
    """A relay placed inside a session option."""

    relay_id: str
    start: int
    minutes: int
    delay: int


@dataclass(frozen=True)
class Bin:
    """Free time inside a session, filled from the side that touches a relay (or from the
    session start), so the session stays one run of airtime."""

    start: int
    end: int
    align: str  # left: pack from start; right: pack so the last item ends at `end`
    share: float  # mean share of people available over the bin
    listeners: float  # expected listeners over every site of the unit (population x share)

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class SessionOption:
    day: int
    window: str
    start: int
    end: int
    relays: tuple[RelaySlot, ...]
    bins: tuple[Bin, ...]
    sessions: int  # most sessions this option can form (an upper bound, for the daily limit)
    blocked_by: tuple[ReqKey, ...] = ()  # requirement keys that forbid it (only for explanations)
    continues: bool = False  # a re-plan: the rest of a kept session on air at the cut-off


@dataclass(frozen=True, order=True)
class ReqKey:
    """Which hard requirement: its kind (one of REQUIREMENT_KINDS), what it is about, which day."""

    kind: str
    ref: str = ""  # relay, segment or blackout id(s)
    day: int = -1  # 0..6, or -1 for the whole week

    def __str__(self) -> str:
        return ":".join([self.kind] + ([self.ref] if self.ref else []) + ([str(self.day)] if self.day >= 0 else []))


REQUIREMENT_KINDS = ("windows", "quiet", "blackout", "session_len", "relay", "overlap", "plays", "sessions", "cap",
                     "coverage", "pinned", "lead")


@dataclass(frozen=True)
class Pinned:
    """What a re-plan keeps of a unit's previous schedule: every airing outside the free span
    [free_from, free_until) (week minutes; `free_until` is a midnight), and emergency bulletins
    wherever they are. Only the free span is solved again, around what is kept."""

    free_from: int
    free_until: int
    airings: tuple[Airing, ...]  # kept exactly as they were
    overriding: frozenset[str] = frozenset()  # emergency bulletins: outside the session and cap rules
    previous: tuple[Airing, ...] = ()  # the previous schedule inside the free span, for the stability term
    lead: str = ""  # a priority bulletin (segment id): it opens the next session, ahead of the other items

    def freeze(self, monday: datetime) -> Freeze:
        """What aired before the free span, for the rules (`rules.still_due`, `rules.playable_days`)."""
        days = [monday.date() + timedelta(days=d) for d in range(7)]
        before = [a for a in self.airings if a.week_minute < self.free_from]
        return Freeze(monday + timedelta(minutes=self.free_from),
                      frozenset((a.item_id, days[a.day]) for a in before if a.kind == "relay"),
                      frozenset((a.item_id, days[a.day]) for a in before if a.kind == "segment"))

    def counted(self) -> tuple[Airing, ...]:
        """The kept airings the weekly rules count (emergency bulletins are outside them)."""
        return tuple(a for a in self.airings if a.item_id not in self.overriding)

    def free_minutes(self, day: int) -> tuple[int, int]:
        """The free span of `day` as minutes of the day (lo >= hi: nothing is free that day)."""
        return max(0, self.free_from - day * DAY), min(DAY, self.free_until - day * DAY)

    @cached_property
    def previous_starts(self) -> dict[tuple[str, str, int], tuple[int, ...]]:
        """(kind, item id, day) -> minutes the previous schedule started it at, in the free span: the
        model's stability term and the score breakdown ask this."""
        out: dict[tuple[str, str, int], tuple[int, ...]] = {}
        for a in self.previous:
            out[(a.kind, a.item_id, a.day)] = out.get((a.kind, a.item_id, a.day), ()) + (a.start,)
        return out


@dataclass(frozen=True)
class Requirement:
    """A hard rule instance, named as the planner says it; infeasibility reports list these."""

    key: ReqKey
    rule: str  # function name of the rule in model.py / verify.py
    text: str


@dataclass
class UnitProblem:
    unit: Unit
    week: str
    days: tuple[date, ...]
    policy: SitePolicy
    broadcast_days: tuple[int, ...]
    relays: dict[tuple[str, int], Relay]  # (relay id, day) that apply
    segments: dict[str, Segment]
    segment_days: dict[str, tuple[int, ...]]  # days a segment may air (validity x broadcast days)
    options: list[SessionOption]
    shares: dict[int, list[float]]  # day -> population-weighted availability per minute
    requirements: dict[ReqKey, Requirement] = field(default_factory=dict)
    relay_minimums: dict[str, int] = field(default_factory=dict)  # relay id or source -> airings a week
    notes: list[str] = field(default_factory=list)  # e.g. relays cancelled by a blackout
    pinned: Pinned | None = None  # a re-plan: what is kept of the previous schedule
    plays_kept: dict[str, tuple[int, ...]] = field(default_factory=dict)  # segment -> kept plays (week minutes)
    used: dict[int, tuple[int, int]] = field(default_factory=dict)  # day -> kept (sessions, minutes)
    needed: dict[str, int] = field(default_factory=dict)  # segment -> plays required of the week
    prefixes: dict[int, list[float]] = field(default_factory=dict, repr=False)  # day -> cumulative shares

    def require(self, key: ReqKey, rule: str, text: str) -> ReqKey:
        assert key.kind in REQUIREMENT_KINDS, key
        self.requirements.setdefault(key, Requirement(key, rule, text))
        return key

    def min_plays(self, seg: Segment) -> int:
        """Plays still to place: those the week requires, less those kept."""
        if seg.id in self.needed:
            return max(0, self.needed[seg.id] - len(self.plays_kept.get(seg.id, ())))
        return required_plays(seg.min_plays, len(self.segment_days[seg.id]))

    def max_plays(self, seg: Segment) -> int:
        return max(0, seg.max_plays - len(self.plays_kept.get(seg.id, ())))

    def min_gap(self, seg: Segment) -> int:
        return segment_min_gap(seg.min_gap_min, self.policy.segment_min_gap_minutes)

    @property
    def scale(self) -> float:
        """Secondary weights are listener-plays per 1,000 inhabitants: the optimum does not
        depend on population, so identical units of different size share one solve."""
        return self.unit.population / 1000.0

    def minimum_relay_days(self) -> set[tuple[str, int]]:
        """(relay id, day) to carry each weekly relay minimum on, chosen the way a planner would:
        the best-listened relay-days first, each day's window used by as few minimums as possible
        (each such relay takes a session of its own). Only a warm start: the model may choose others."""
        carried = {(r.relay_id, o.day) for o in self.options if not o.blocked_by for r in o.relays}
        chosen: set[tuple[str, int]] = set()
        busy: dict[tuple[int, str], int] = {}  # (day, window) -> minimum relays chosen there

        def daypart(rd: tuple[str, int]) -> tuple[int, str]:
            window = window_at(self.policy.windows, self.relays[rd].start_min)
            return rd[1], window.name if window else ""

        for key, need in sorted(self.relay_minimums.items(), key=lambda kv: (-kv[1], kv[0])):
            have = [rd for rd in chosen if relay_matches(key, rd[0], self.relays[rd].source)]
            options = [(rid, d) for (rid, d) in sorted(carried) if (rid, d) not in chosen and not
                       self.relays[(rid, d)].mandatory and relay_matches(key, rid, self.relays[(rid, d)].source)]
            options.sort(key=lambda rd: (busy.get(daypart(rd), 0), -self.listeners(
                rd[1], self.relays[rd].start_min, self.relays[rd].duration_min), rd))
            for rd in options[:max(0, need - len(have))]:
                chosen.add(rd)
                busy[daypart(rd)] = busy.get(daypart(rd), 0) + 1
        return chosen

    @cached_property
    def relay_carriers(self) -> dict[tuple[str, int], list[int]]:
        """(relay id, day) -> the options carrying that relay, in option order: the model's relay
        rules, its warm start and a re-plan's repair ask it."""
        out: dict[tuple[str, int], list[int]] = {}
        for o, opt in enumerate(self.options):
            for r in opt.relays:
                out.setdefault((r.relay_id, opt.day), []).append(o)
        return out

    def minimum_carriers(self, key: str) -> list[int]:
        """The options carrying a relay that counts toward the weekly minimum `key`, once per such
        relay, in option order (as the model sums them)."""
        return [o for o, opt in enumerate(self.options) for r in opt.relays
                if relay_matches(key, r.relay_id, self.relays[(r.relay_id, opt.day)].source)]

    def fill_stays(self, seg_id: str, option: int, bin_: int) -> bool:
        """A re-plan's fill puts the segment back in the stretch of a session it aired in before
        (the model's stability term and the score breakdown ask this)."""
        opt = self.options[option]
        return self._was_there("segment", seg_id, opt.day, opt.bins[bin_].start, opt.bins[bin_].end)

    def relay_stays(self, relay_id: str, day: int, start: int) -> bool:
        """A re-plan airs the relay at the minute it aired before."""
        return self._was_there("relay", relay_id, day, start, start + 1)

    def _was_there(self, kind: str, item_id: str, day: int, start: int, end: int) -> bool:
        """The previous plan (of a re-plan) aired the item that day starting in [start, end)."""
        return self.pinned is not None and any(
            start <= m < end for m in self.pinned.previous_starts.get((kind, item_id, day), ()))

    def listeners(self, day: int, start: int, minutes: int) -> float:
        curve = self._prefix(day)
        stop = min(DAY, start + minutes)
        return self.unit.population * (curve[stop] - curve[start]) / max(1, stop - start)

    def _prefix(self, day: int) -> list[float]:
        if day not in self.prefixes:
            self.prefixes[day] = [0.0] + list(accumulate(self.shares[day]))
        return self.prefixes[day]


def build_units(dataset: Dataset, site_ids: set[str] | None = None) -> list[Unit]:
    """Group the sites with a station into units; sync groups become one unit."""
    groups: dict[str, list[Site]] = {}
    for site in sorted(dataset.sites, key=lambda s: s.id):
        if not site.has_station or (site_ids is not None and site.id not in site_ids):
            continue
        key = f"group:{site.sync_group}" if site.sync_group else site.id
        groups.setdefault(key, []).append(site)
    return [Unit(key, tuple(sites), dataset.district_of(sites[0]).id) for key, sites in sorted(groups.items())]


def unit_signature(dataset: Dataset, unit: Unit) -> tuple:
    """Everything a unit's plan depends on except population: units with equal signatures
    have proportional objectives (all terms scale with population), so one solve serves all."""
    if len(unit.sites) > 1:
        return ("group", unit.id)
    site = unit.sites[0]
    return (
        dataset.coordinates(site), site.profile_id, site.languages, site.kind, site.market_days,
        site_policy(dataset, site),
        tuple(r.id for r in dataset.relays if relay_applies(dataset, site, r)),
        tuple(g.id for g in dataset.segments if segment_applies(dataset, site, g)),
        tuple(b.id for b in dataset.blackouts if dataset.in_scope(site, b.scope)),
    )


def _blackout_minutes(dataset: Dataset, unit: Unit, day: date):
    """(blackout, first minute, end minute) of the day's blackouts at any member of the unit."""
    lo = datetime.combine(day, datetime.min.time())
    hi = lo + timedelta(days=1)
    for b in blackouts_over(dataset, unit.sites, lo, hi):
        start = max(0, int((b.start - lo).total_seconds() // 60))
        end = min(DAY, -(-int((b.end - lo).total_seconds()) // 60))
        yield b, start, end


def day_label(problem: UnitProblem, day: int) -> str:
    return problem.days[day].strftime("%a %d/%m")


def relay_requirement_text(problem: UnitProblem, relay: Relay, day: int) -> str:
    when = f"live at {hhmm(relay.start_min)}" if relay.mode == "live" else (
        f"from {hhmm(relay.start_min)}, at most {relay.max_delay_min} min late")
    return (f"relay \"{relay.title}\" ({relay.source}, {relay.duration_min} min, {when}) airs in full "
            f"on {day_label(problem, day)}")


def segment_requirement_text(problem: UnitProblem, seg: Segment) -> str:
    return (f"segment \"{seg.title}\" ({seg.duration_min} min) airs at least {problem.min_plays(seg)} time(s) "
            f"this week, at most once a day, {problem.min_gap(seg)} min apart")


def build_problem(dataset: Dataset, unit: Unit, week: str, pinned: Pinned | None = None) -> UnitProblem:
    """Everything the model needs for one unit and one ISO week; with `pinned`, for the free span
    of a re-plan only, around the airings it keeps."""
    members = [site_policy(dataset, s) for s in unit.sites]
    policy = combine_policies(members)
    days = week_days(week)
    shares = {}
    pop = max(1, unit.population)
    for d in range(7):
        if len(unit.sites) == 1:  # the same sums as below, without the zip
            site = unit.sites[0]
            shares[d] = [site.population * v / pop for v in availability(dataset, site, days[d])]
            continue
        weighted = [[s.population * v for v in availability(dataset, s, days[d])] for s in unit.sites]
        shares[d] = [sum(minute) / pop for minute in zip(*weighted)]
    problem = UnitProblem(unit=unit, week=week, days=days, policy=policy,
                          broadcast_days=tuple(d for d in range(7) if d in policy.broadcast_days),
                          relays={}, segments={}, segment_days={}, options=[], shares=shares, pinned=pinned)
    freeze = pinned.freeze(datetime.combine(days[0], datetime.min.time())) if pinned else None
    kept = pinned.counted() if pinned else ()
    _add_segments(dataset, problem, freeze, kept)
    due: dict[int, dict[str, Relay]] = {d: {} for d in range(7)}
    blacked: dict[int, set[str]] = {d: set() for d in range(7)}
    aired = {(a.item_id, a.day) for a in kept if a.kind == "relay"}
    by_id = {r.id: r for r in dataset.relays}
    kept_relays = [by_id[a.item_id] for a in kept if a.kind == "relay" and a.item_id in by_id]
    for site, pol in zip(unit.sites, members):
        every = relays_due(dataset, site, pol, week)
        site_due = still_due(every, freeze)
        for relay, day in every:
            blacked[day.weekday()].add(relay.id)
        for relay, day in site_due:
            if (relay.id, day.weekday()) not in aired:
                due[day.weekday()][relay.id] = relay
        for key, need in relay_minimums(pol, site_due):  # one transmitter: every member's minimum holds
            have = sum(1 for r in kept_relays if relay_matches(key, r.id, r.source))
            problem.relay_minimums[key] = max(need - have, problem.relay_minimums.get(key, 0))
    problem.relay_minimums = {k: n for k, n in problem.relay_minimums.items() if n > 0}
    for d in problem.broadcast_days:
        lo, hi = pinned.free_minutes(d) if pinned else (0, DAY)
        if lo < hi:
            _add_day_options(dataset, problem, members, d, sorted(due[d].values(), key=lambda r: (r.start_min, r.id)),
                             blacked[d], lo, kept)
    return problem


def _add_segments(dataset: Dataset, problem: UnitProblem, freeze: Freeze | None, kept: tuple) -> None:
    """The segments the unit airs; in a re-plan, on the free days they have not aired on yet, with
    the plays the week still requires."""
    pinned = problem.pinned
    for a in kept:
        if a.kind == "segment":
            problem.plays_kept.setdefault(a.item_id, ())
            problem.plays_kept[a.item_id] += (a.week_minute,)
    for seg in sorted(dataset.segments, key=lambda s: s.id):
        if not all(segment_applies(dataset, s, seg) for s in problem.unit.sites):
            continue
        if seg.level == "emergency":
            continue  # emergency bulletins are only ever placed by `loa bulletin`, and kept
        valid = valid_days(seg.valid_from, seg.valid_to, problem.days, problem.broadcast_days)
        if pinned is not None:
            problem.needed[seg.id] = required_plays(seg.min_plays, len(playable_days(seg.id, valid, freeze)))
            aired = {m // DAY for m in problem.plays_kept.get(seg.id, ())}
            valid = tuple(day for day in valid if day.weekday() not in aired
                          and pinned.free_minutes(day.weekday())[0] < pinned.free_minutes(day.weekday())[1])
        if valid or seg.min_plays:
            problem.segments[seg.id] = seg
            problem.segment_days[seg.id] = tuple(day.weekday() for day in valid)


def _add_day_options(dataset: Dataset, problem: UnitProblem, members: list[SitePolicy], d: int,
                     due: list[Relay], blacked: set[str], lo: int = 0, kept: tuple = ()) -> None:
    """The day's session options; in a re-plan only from minute `lo` on, after what is kept."""
    pol = problem.policy
    unit = problem.unit
    windows_key = problem.require(ReqKey("windows"), "add_windows",
                                  f"broadcasts only inside the windows {window_text(pol.windows)}")
    quiet_key = problem.require(ReqKey("quiet"), "add_windows", "no broadcast in quiet hours " + ", ".join(
        f"{hhmm(a)}–{hhmm(b)}" for a, b in pol.quiet_hours))
    length_key = problem.require(ReqKey("session_len", day=d), "add_session_limits",
                                 f"each session at most {pol.max_session_minutes} min and sessions at least "
                                 f"{pol.session_gap_minutes} min apart on {day_label(problem, d)}")
    # minute -> requirement that forbids broadcasting then
    reason = dict(_closed_minutes(tuple((p.windows, p.quiet_hours) for p in members), windows_key, quiet_key))
    for b, start, end in _blackout_minutes(dataset, unit, problem.days[d]):
        key = problem.require(ReqKey("blackout", b.id), "add_windows",
                              f"blackout \"{b.title}\" {b.start:%a %d/%m %H:%M}–{b.end:%a %d/%m %H:%M}")
        for m in range(start, end):
            reason.setdefault(m, key)
    joined = _keep(problem, d, lo, kept, reason)

    live_mandatory, deferred, optional = [], [], []
    for relay in sorted(dataset.relays, key=lambda r: (r.start_min, r.id)):
        if relay.id not in blacked and any(relay_applies(dataset, s, relay, d) for s in unit.sites):
            problem.notes.append(f"{day_label(problem, d)}: relay \"{relay.title}\" falls in a blackout and is not aired")
    for relay in due:
        problem.relays[(relay.id, d)] = relay
        if relay.mode == "deferred":
            deferred.append(relay)
        elif relay.mandatory:
            live_mandatory.append(relay)
        else:
            optional.append(relay)

    for relay in live_mandatory:  # a live relay that cannot air where it must: keep it, blocked
        span = range(relay.start_min, relay.start_min + relay.duration_min)
        blocked = tuple(sorted({reason[m] for m in span if m in reason}))
        if relay.start_min + relay.duration_min > DAY:
            blocked = (windows_key,)
        if blocked:
            problem.options.append(_option(problem, d, "", relay.start_min, [RelaySlot(relay.id, relay.start_min,
                                           relay.duration_min, 0)], reason, blocked))
    first = len(problem.options)
    relays = (live_mandatory, deferred, optional)
    if joined is None:
        for window in pol.windows:
            _add_window_options(problem, d, window, reason, *relays, length_key)
    else:  # a session on air at the cut-off may go on (`joined`), or a new one start a session gap later
        session_start, resume, later = joined
        window = window_at(pol.windows, resume)
        if window is not None:
            _add_window_options(problem, d, window, reason, *relays, length_key,
                                resume=(resume, session_start + pol.max_session_minutes))
        closed = ReqKey("pinned")
        apart = dict(reason)
        for m in range(resume, later):
            apart.setdefault(m, closed)
        for window in pol.windows:
            _add_window_options(problem, d, window, apart, *relays, length_key)
    _drop_sessions_that_block_a_relay(problem, first)


def _keep(problem: UnitProblem, d: int, lo: int, kept: tuple, reason: dict) -> tuple[int, int, int] | None:
    """Close the minutes a re-plan keeps on day `d` (before `lo`, and emergency bulletins after it),
    and count the kept sessions and airtime against the day's limits. If the last kept session
    runs into the free span (within a session gap of `lo`), return (its start, the minute it may
    resume at, the first minute a new session may start at)."""
    pinned = problem.pinned
    if pinned is None:
        return None
    key = problem.require(ReqKey("pinned"), "build_problem",
                          f"what airs before {day_label(problem, pinned.free_from // DAY)} "
                          f"{hhmm(pinned.free_from % DAY)} and emergency bulletins are kept as they are")
    for m in range(lo):
        reason[m] = key
    for a in pinned.airings:
        if a.day == d and a.item_id in pinned.overriding:
            for m in range(a.start, a.start + a.minutes):
                reason[m] = key
    midnight = datetime.combine(problem.days[d], datetime.min.time())
    today = [_Span(midnight + timedelta(minutes=a.start), midnight + timedelta(minutes=a.start + a.minutes))
             for a in pinned.counted() if a.day == d]
    if not today:
        return None
    runs = split_sessions(today, problem.policy.session_gap_minutes)
    problem.used[d] = (len(runs), sum(int((s.end - s.start).total_seconds()) // 60 for s in today))
    start = int((runs[-1][0].start - midnight).total_seconds()) // 60
    end = int((max(s.end for s in runs[-1]) - midnight).total_seconds()) // 60
    gap = problem.policy.session_gap_minutes
    if end > lo or lo - end < gap:
        resume = max(end, lo)
        return start, resume, end + gap
    return None


@dataclass(frozen=True)
class _Span:
    """A kept airing in the shape `rules.split_sessions` reads."""

    start: datetime
    end: datetime


@lru_cache(maxsize=256)
def _closed_minutes(rules: tuple, windows_key: ReqKey, quiet_key: ReqKey) -> dict[int, ReqKey]:
    """Minute -> the requirement that forbids broadcasting then: outside some member's windows,
    or in its quiet hours. The same every day, so worked out once per set of rules (callers copy it)."""
    out: dict[int, ReqKey] = {}
    for m in range(DAY):
        if any(window_at(windows, m) is None for windows, _quiet in rules):
            out[m] = windows_key
        elif any(in_quiet_hours(quiet, m) for _windows, quiet in rules):
            out[m] = quiet_key
    return out


def sessions_clash(a: SessionOption, b: SessionOption, gap: int) -> bool:
    """Two session options cannot both air: their spans overlap or lie closer than the session gap
    (they would run together into one session longer than the limit)."""
    return a.day == b.day and a.start < b.end + gap and b.start < a.end + gap


def _drop_sessions_that_block_a_relay(problem: UnitProblem, first: int) -> None:
    """An option that clashes with every session able to carry some mandatory relay of its day can
    never be picked (that relay must air): drop it, so the model never sees it."""
    day_options = problem.options[first:]
    gap = problem.policy.session_gap_minutes
    carriers: dict[str, list[SessionOption]] = {}
    for opt in day_options:
        if not opt.blocked_by:
            for r in opt.relays:
                if problem.relays[(r.relay_id, opt.day)].mandatory:
                    carriers.setdefault(r.relay_id, []).append(opt)

    def useless(opt: SessionOption) -> bool:
        mine = {r.relay_id for r in opt.relays}
        return any(rid not in mine and all(sessions_clash(opt, c, gap) for c in homes)
                   for rid, homes in carriers.items())

    problem.options[first:] = [opt for opt in day_options if opt.blocked_by or not useless(opt)]


def _free(reason: dict[int, str], start: int, minutes: int) -> bool:
    return all(m not in reason for m in range(start, start + minutes))


def _add_window_options(problem, d, window, reason, live_mandatory, deferred, optional, length_key,
                        resume: tuple[int, int] | None = None) -> None:
    """Every session the window can hold: a start on the policy's grid (or at a live relay), at most
    `max_session_minutes` long, carrying the mandatory live relays inside its span (it never
    starts or ends inside one), and variants with an optional or a deferred relay. A window may
    hold several sessions; `model.add_session_spacing` keeps them apart. A session of PAR items
    alone is offered only in a window no mandatory relay is tied to that day.

    `resume` = (minute, latest end): only the rest of a session on air at a re-plan's cut-off,
    going on from that minute, PAR items alone allowed."""
    pol = problem.policy
    L = pol.max_session_minutes
    step = pol.slot_minutes
    lo, hi = window.start_min, window.end_min
    fixed: list[RelaySlot] = []
    for r in live_mandatory:
        if not lo <= r.start_min < hi or not _free(reason, r.start_min, r.duration_min):
            continue
        clash = next((f for f in fixed if _overlaps([f], r.start_min, r.duration_min)), None)
        if clash is not None:  # two live relays at once: the later one cannot air, say why
            key = problem.require(ReqKey("overlap", f"{clash.relay_id}+{r.id}", d), "add_mandatory_relays",
                                  f"relay \"{problem.relays[(r.id, d)].title}\" overlaps relay "
                                  f"\"{problem.relays[(clash.relay_id, d)].title}\" at {hhmm(r.start_min)}")
            problem.options.append(_option(problem, d, "", r.start_min,
                                           [RelaySlot(r.id, r.start_min, r.duration_min, 0)], reason, (key,)))
        elif r.duration_min > L:  # longer than any session may be
            problem.options.append(_option(problem, d, window.name, r.start_min,
                                           [RelaySlot(r.id, r.start_min, r.duration_min, 0)], reason, (length_key,)))
        else:
            fixed.append(RelaySlot(r.id, r.start_min, r.duration_min, 0))
    # PAR-only sessions only in windows no mandatory relay is tied to: where one is, PAR items
    # air in the relays' sessions (measured: PAR-only options there multiplied solve time 5-10x
    # for under 1% of the objective)
    anchored = bool(fixed) or any(r.mandatory and r.start_min < hi and lo <= r.start_min + r.max_delay_min
                                  for r in deferred)
    starts = sorted(t for t in set(range(-(-lo // step) * step, hi, step)) | {f.start for f in fixed}
                    if t not in reason or reason[t].kind != "pinned")  # nothing starts in a kept part
    if resume is not None:
        starts, anchored = [resume[0]], False
    seen = set()
    for tau in starts:
        end = min(hi, tau + L, resume[1] if resume else DAY)
        if tau >= end or any(f.start < tau < f.start + f.minutes for f in fixed):
            continue
        held = [f for f in fixed if tau <= f.start and f.start + f.minutes <= end]
        if any(f.start < end < f.start + f.minutes for f in fixed):  # the limit cuts a relay off
            if held and (tau, "cut") not in seen:  # kept blocked, so an explanation can name the limit
                seen.add((tau, "cut"))
                problem.options.append(_option(problem, d, window.name, tau, held, reason, (length_key,), end))
            continue
        variants: list[list[RelaySlot]] = [held]
        for relay in optional:
            if tau <= relay.start_min and relay.start_min + relay.duration_min <= end and \
                    _free(reason, relay.start_min, relay.duration_min) and \
                    not _overlaps(held, relay.start_min, relay.duration_min):
                variants.append(held + [RelaySlot(relay.id, relay.start_min, relay.duration_min, 0)])
        for relay in deferred:
            for base in list(variants):
                slot = _first_fit(base, relay, tau, end, reason)
                if slot is not None:
                    variants.append(base + [slot])
        for relays in variants:
            if not relays and anchored:
                continue
            key = (tau, tuple(sorted(relays, key=lambda r: r.start)))
            if key not in seen:
                seen.add(key)
                problem.options.append(_option(problem, d, window.name, tau, relays, reason, (), end,
                                               joined=resume is not None))


def _overlaps(relays: list[RelaySlot], start: int, minutes: int) -> bool:
    return any(start < r.start + r.minutes and r.start < start + minutes for r in relays)


def _first_fit(relays: list[RelaySlot], relay: Relay, tau: int, end: int, reason) -> RelaySlot | None:
    """A deferred relay goes at the earliest free minute from its source time (least delay)."""
    start = max(tau, relay.start_min)
    while start <= relay.start_min + relay.max_delay_min and start + relay.duration_min <= end:
        if _free(reason, start, relay.duration_min) and not _overlaps(relays, start, relay.duration_min):
            return RelaySlot(relay.id, start, relay.duration_min, start - relay.start_min)
        start += 1
    return None


def _option(problem: UnitProblem, d: int, window: str, tau: int, relays: list[RelaySlot], reason,
            blocked: tuple[str, ...], end: int | None = None, joined: bool = False) -> SessionOption:
    """Cut the session span into relays and bins; count the sessions it may form at most (`joined`:
    the option goes on with a kept session that ends at `tau`, already counted)."""
    relays = sorted(relays, key=lambda r: r.start)
    if end is None:
        end = max(r.start + r.minutes for r in relays)
    bins: list[Bin] = []
    if not blocked:
        cursor = tau
        edges = [(r.start, r.start + r.minutes) for r in relays] + [(end, end)]
        for r_start, r_end in edges:
            m = cursor
            while m < r_start:  # free stretches between cursor and the next relay
                while m < r_start and m in reason:
                    m += 1
                s = m
                while m < r_start and m not in reason:
                    m += 1
                if m > s:
                    bins.append(Bin(s, m, "right" if m == r_start and r_start != r_end else "left", 0.0, 0.0))
            cursor = max(cursor, r_end)
        bins = [_with_audience(problem, d, b) for b in bins]
    start = min([tau] + [r.start for r in relays])
    return SessionOption(d, window, start, end, tuple(relays), tuple(bins),
                         _max_sessions(problem, relays, bins, tau if joined else None), blocked, joined)


def _with_audience(problem: UnitProblem, d: int, b: Bin) -> Bin:
    """A bin's audience is that of the minutes next to the edge it is packed from: items fill
    it from there, and a week's PAR rarely fills more than a quarter hour of one session."""
    span = min(b.minutes, FILL_HORIZON)
    start = b.start if b.align == "left" else b.end - span
    listeners = problem.listeners(d, start, span)
    return replace(b, share=listeners / max(1, problem.unit.population), listeners=listeners)


def _max_sessions(problem: UnitProblem, relays: list[RelaySlot], bins: list[Bin], joined: int | None = None) -> int:
    """Relays closer than session_gap form one session; a bin packed towards a relay less than
    the gap away joins it (its items lie that close: an emergency bulletin or a closed minute
    may stand between); any other bin may be a session of its own. With `joined`, the minute a
    kept session ends at: what goes on from it is that session, not a new one."""
    gap = problem.policy.session_gap_minutes
    runs = 0
    last_end = joined
    for r in relays:
        if last_end is None or r.start - last_end >= gap:
            runs += 1
        last_end = r.start + r.minutes
    starts = [r.start for r in relays]
    ends = [r.start + r.minutes for r in relays] + ([joined] if joined is not None else [])

    def joins(b: Bin) -> bool:  # its items lie closer than the gap to a relay (or the kept session)
        if b.align == "right":
            return any(0 <= s - b.end < gap for s in starts)
        return any(0 <= b.start - e < gap for e in ends)

    return runs + sum(1 for b in bins if not joins(b))


@dataclass(frozen=True)
class Airing:
    """One item on air in a laid-out session: what the plan will hold."""

    kind: str  # relay | segment
    item_id: str
    day: int
    start: int  # minute of the day
    minutes: int
    option: int  # index into problem.options
    bin: int = -1  # segments: index into that option's bins

    @property
    def week_minute(self) -> int:
        return self.day * DAY + self.start


def lay_out(problem: UnitProblem, picked: list[int], fills: dict[tuple[int, int], list[str]]) -> list[Airing]:
    """Turn picked options and filled bins into exact times: relays where the option puts
    them; segments back to back against the bin's relay (or from the session start), the
    highest priority nearest to it; a priority bulletin (`Pinned.lead`) first of all."""
    out: list[Airing] = []
    lead = problem.pinned.lead if problem.pinned else ""
    for o in picked:
        opt = problem.options[o]
        for r in opt.relays:
            out.append(Airing("relay", r.relay_id, opt.day, r.start, r.minutes, o))
        for bi, bin_ in enumerate(opt.bins):
            segs = sorted(fills.get((o, bi), []), key=lambda s: (s != lead, -problem.segments[s].priority, s))
            if bin_.align == "left":
                cursor = bin_.start
                for s in segs:
                    out.append(Airing("segment", s, opt.day, cursor, problem.segments[s].duration_min, o, bi))
                    cursor += problem.segments[s].duration_min
            else:  # packed from the end: the first in time goes last
                cursor = bin_.end
                for s in [s for s in segs if s != lead] + [s for s in segs if s == lead]:
                    cursor -= problem.segments[s].duration_min
                    out.append(Airing("segment", s, opt.day, cursor, problem.segments[s].duration_min, o, bi))
    return sorted(out, key=lambda a: (a.week_minute, a.kind, a.item_id))
