"""Plans a district staffer could make without an optimiser: yardsticks for `make bench`.

Three planners, each keeping every hard rule (the bench checks them with `verify`):

- **hand-made** (`baseline_plan`): each day the mandatory relays at their source time (a deferred
  one as early as it may air), then every segment, in file order, right after the morning relay on
  the first days where it still fits; later sessions only when the morning is full. No look at
  the audience: a strawman.
- **greedy by availability** (`greedy_plan`): the sessions around the relays whose free time has
  the largest audience, then each segment (highest priority first; required plays, then extra
  plays round by round) to the free slot whose minutes have the highest audience, opening a
  session where that is allowed. What a careful planner with the audience curves does by hand.
- **evening after the news, rotating days** (`evening_plan`): the relays at their source time,
  every segment right after the evening news (falling back to the rest of the evening, then
  the other sessions), segment i starting on day i and its plays spread over the week.

All three work on the unit's session options and bins (`problem.py`), like the model, and lay
them out with the same `lay_out`; a unit where a planner cannot meet a rule gets no plan
(status INFEASIBLE). The slot choices are conservative where the model is (minimum gap between
plays over the whole bin), so the plans are what the model could have chosen too.
"""
from __future__ import annotations

from typing import Callable, Iterable

from ..domain import Dataset, SolveStatus, WeekPlan
from .problem import DAY, UnitProblem, build_problem, build_units, lay_out
from .run import UnitSolution, assemble_plan

Slot = tuple[int, int]  # (option index, bin index)


class _Week:
    """What a planner keeps track of while filling one unit's week by hand: the sessions opened,
    the minutes used in each bin and each day, the sessions per day and where each segment airs."""

    def __init__(self, problem: UnitProblem):
        self.p = problem
        self.picked: list[int] = []
        self.used: dict[int, list[int]] = {}
        self.minutes = [0] * 7
        self.sessions = [0] * 7
        self.windows: set[tuple[int, str]] = set()
        self.plays: dict[str, list[tuple[int, int]]] = {}  # segment -> (earliest, latest) week minute
        self.fills: dict[Slot, list[str]] = {}
        self.by_window: dict[tuple[int, str], list[int]] = {}
        for o, opt in enumerate(problem.options):
            if not opt.blocked_by and opt.day in problem.broadcast_days:
                self.by_window.setdefault((opt.day, opt.window), []).append(o)

    def can_open(self, o: int) -> bool:
        """One session per window, the day's session limit, the cap, and far enough from the
        sessions of neighbouring windows not to merge with them."""
        opt = self.p.options[o]
        pol = self.p.policy
        gap = pol.session_gap_minutes
        relay_minutes = sum(r.minutes for r in opt.relays)
        return ((opt.day, opt.window) not in self.windows
                and self.sessions[opt.day] + opt.sessions <= pol.max_sessions_per_day
                and self.minutes[opt.day] + relay_minutes <= pol.daily_cap_minutes
                and all(not (opt.start < other.end + gap and other.start < opt.end + gap)
                        for other in (self.p.options[q] for q in self.picked) if other.day == opt.day))

    def open(self, o: int) -> None:
        opt = self.p.options[o]
        self.picked.append(o)
        self.used[o] = [0] * len(opt.bins)
        self.windows.add((opt.day, opt.window))
        self.sessions[opt.day] += opt.sessions
        self.minutes[opt.day] += sum(r.minutes for r in opt.relays)

    def fits(self, seg_id: str, o: int, bi: int) -> bool:
        """The segment may air in this bin: a valid day not yet used by it, room in the bin and
        the day, at most max_plays, and min_gap from its other plays wherever they land in their bins."""
        p = self.p
        seg, opt = p.segments[seg_id], p.options[o]
        bin_ = opt.bins[bi]
        dur = seg.duration_min
        plays = self.plays.get(seg_id, [])
        if (opt.day not in p.segment_days[seg_id] or len(plays) >= seg.max_plays
                or any(early // DAY == opt.day for early, _ in plays)
                or self.minutes[opt.day] + dur > p.policy.daily_cap_minutes
                or bin_.minutes - (self.used[o][bi] if o in self.used else 0) < dur):
            return False
        if o not in self.used and not self.can_open(o):
            return False
        early, late = opt.day * DAY + bin_.start, opt.day * DAY + bin_.end - dur
        gap = p.min_gap(seg)
        return all(early - other_late >= gap or other_early - late >= gap for other_early, other_late in plays)

    def start_in(self, seg_id: str, o: int, bi: int) -> int:
        """Where the segment would air if added now (bins fill from their packing edge)."""
        bin_ = self.p.options[o].bins[bi]
        used = self.used[o][bi] if o in self.used else 0
        dur = self.p.segments[seg_id].duration_min
        return bin_.start + used if bin_.align == "left" else bin_.end - used - dur

    def put(self, seg_id: str, o: int, bi: int) -> None:
        if o not in self.used:
            self.open(o)
        opt = self.p.options[o]
        bin_ = opt.bins[bi]
        dur = self.p.segments[seg_id].duration_min
        self.used[o][bi] += dur
        self.minutes[opt.day] += dur
        self.fills.setdefault((o, bi), []).append(seg_id)
        self.plays.setdefault(seg_id, []).append((opt.day * DAY + bin_.start, opt.day * DAY + bin_.end - dur))

    def place(self, seg_id: str, slots: Iterable[Slot]) -> bool:
        """Put the segment in the first slot of `slots` where it fits."""
        for o, bi in slots:
            if self.fits(seg_id, o, bi):
                self.put(seg_id, o, bi)
                return True
        return False

    def solution(self, unit) -> UnitSolution:
        p = self.p
        met = all(len(self.plays.get(s, [])) >= p.min_plays(seg) for s, seg in p.segments.items())
        kept = [o for o in self.picked if p.options[o].relays or any(self.fills.get((o, bi)) for bi in
                                                                      range(len(p.options[o].bins)))]
        airings = lay_out(p, kept, self.fills) if met else []
        return UnitSolution(unit, SolveStatus.FEASIBLE if met else SolveStatus.INFEASIBLE, 0.0, 0.0,
                            tuple(airings), (), {(a.kind, a.item_id, a.week_minute): {} for a in airings})


def _open_relay_sessions(week: _Week, rank: Callable[[int], tuple]) -> None:
    """Per day and window (in time order), the option carrying the window's mandatory relays
    that `rank` puts first (only options whose every relay is mandatory)."""
    p = week.p
    for day in p.broadcast_days:
        needed = {rid for (rid, d), r in p.relays.items() if d == day and r.mandatory}
        windows = sorted((w for (d, w) in week.by_window if d == day),
                         key=lambda w: p.options[week.by_window[(day, w)][0]].start)
        for window in windows:
            opts = [o for o in week.by_window[(day, window)]
                    if {r.relay_id for r in p.options[o].relays} & needed
                    and all(p.relays[(r.relay_id, day)].mandatory for r in p.options[o].relays)
                    and week.can_open(o)]
            if opts:
                best = min(opts, key=rank)
                week.open(best)
                needed -= {r.relay_id for r in p.options[best].relays}


def _least_delay(p: UnitProblem) -> Callable[[int], tuple]:
    """Most relays, least delay, the relay as early in the session as possible."""
    return lambda o: (-len(p.options[o].relays), sum(r.delay for r in p.options[o].relays),
                      p.options[o].relays[0].start - p.options[o].start, o)


def _order(p: UnitProblem) -> list[str]:
    return sorted(p.segments, key=lambda s: (-p.segments[s].priority, s))


# --------------------------------------------------------------------------- hand-made


def handmade_unit(problem: UnitProblem) -> _Week:
    week = _Week(problem)
    _open_relay_sessions(week, _least_delay(problem))
    p = problem
    # spare sessions for PAR alone, in windows still free, earliest first
    for _key, idx in sorted(week.by_window.items(), key=lambda kv: (kv[0][0], p.options[kv[1][0]].start)):
        spare = [o for o in idx if not p.options[o].relays]
        if spare and week.can_open(min(spare, key=lambda o: p.options[o].start)):
            week.open(min(spare, key=lambda o: p.options[o].start))
    targets = [(s, p.min_plays(seg)) for s, seg in p.segments.items()] + [(s, seg.max_plays)
                                                                         for s, seg in p.segments.items()]
    for seg_id, target in targets:  # required plays first, then as many as allowed
        for day in p.segment_days[seg_id]:
            if len(week.plays.get(seg_id, [])) >= target:
                break
            # right after the morning relay: sessions in time order, bins after a relay first
            sessions = sorted((o for o in week.picked if p.options[o].day == day), key=lambda o: p.options[o].start)
            week.place(seg_id, ((o, bi) for o in sessions for bi in sorted(
                range(len(p.options[o].bins)),
                key=lambda bi: (p.options[o].bins[bi].align != "left", p.options[o].bins[bi].start))))
    return week


# --------------------------------------------------------------------------- greedy by availability


def _audience(p: UnitProblem, o: int) -> float:
    """Listener-minutes of an option's free time: where a planner with the curves would go."""
    return sum(b.listeners * b.minutes for b in p.options[o].bins)


def greedy_unit(problem: UnitProblem) -> _Week:
    p = problem
    week = _Week(p)
    _open_relay_sessions(week, lambda o: (-len(p.options[o].relays), -_audience(p, o), o))
    slots = [(o, bi) for idx in week.by_window.values() for o in idx for bi in range(len(p.options[o].bins))]

    def best(seg_id: str) -> Slot | None:
        dur = p.segments[seg_id].duration_min
        ok = [(o, bi) for o, bi in slots if week.fits(seg_id, o, bi)]
        if not ok:
            return None
        return max(ok, key=lambda s: (p.listeners(p.options[s[0]].day, week.start_in(seg_id, *s), dur),
                                      -p.options[s[0]].day, -week.start_in(seg_id, *s), -s[0], -s[1]))

    order = _order(p)
    for seg_id in order:  # the required plays of every segment first
        for _ in range(p.min_plays(p.segments[seg_id])):
            slot = best(seg_id)
            if slot is not None:
                week.put(seg_id, *slot)
    for _round in range(7):  # then one more play of each segment per round, while any fits
        added = False
        for seg_id in order:
            slot = best(seg_id)
            if slot is not None:
                week.put(seg_id, *slot)
                added = True
        if not added:
            break
    return week


# --------------------------------------------------------------------------- evening after the news


def evening_unit(problem: UnitProblem) -> _Week:
    p = problem
    week = _Week(p)
    evening = p.policy.windows[-1].name if p.policy.windows else ""  # windows are in time order
    # the evening session where people are home (the news deferred as far as that needs), the
    # other relays as early as they may air
    least_delay = _least_delay(p)
    _open_relay_sessions(week, lambda o: (-_audience(p, o),) + least_delay(o) if p.options[o].window == evening
                         else least_delay(o))

    def slots(day: int) -> list[Slot]:
        """The evening session's bin right after its relay, the rest of the evening, the other
        sessions latest first, then sessions not yet opened (earliest first)."""
        mine = [o for o in week.picked if p.options[o].day == day]
        def rank(s: Slot):  # noqa: E306
            opt = p.options[s[0]]
            bin_ = opt.bins[s[1]]
            after_relay = bin_.align == "left" and any(r.start + r.minutes == bin_.start for r in opt.relays)
            return (opt.window != evening, not after_relay, -bin_.start)
        opened = sorted(((o, bi) for o in mine for bi in range(len(p.options[o].bins))), key=rank)
        others = sorted(((o, bi) for (d, _w), idx in week.by_window.items() if d == day for o in idx
                         if o not in week.used for bi in range(len(p.options[o].bins))),
                        key=lambda s: (p.options[s[0]].window != evening, p.options[s[0]].start, s))
        return opened + others

    order = _order(p)
    for pass_ in ("min", "max"):
        for i, seg_id in enumerate(order):
            seg = p.segments[seg_id]
            days = list(p.segment_days[seg_id])
            if not days:
                continue
            target = p.min_plays(seg) if pass_ == "min" else seg.max_plays
            stride = max(1, len(days) // max(1, seg.max_plays))
            first = i % len(days)
            # its plays `stride` days apart from its own first day, then any other day in turn
            rotation = list(dict.fromkeys([days[(first + k * stride) % len(days)] for k in range(len(days))]
                                          + [days[(first + k) % len(days)] for k in range(len(days))]))
            for day in rotation:
                if len(week.plays.get(seg_id, [])) >= target:
                    break
                week.place(seg_id, slots(day))
    return week


# --------------------------------------------------------------------------- plans

BASELINES: dict[str, Callable[[UnitProblem], _Week]] = {
    "hand-made": handmade_unit,
    "greedy by availability": greedy_unit,
    "evening after the news": evening_unit,
}


def plan_with(strategy: Callable[[UnitProblem], _Week], dataset: Dataset, week: str) -> WeekPlan:
    """The week of every unit planned by one of the strategies above."""
    solutions = []
    for unit in build_units(dataset):
        solutions.append(strategy(build_problem(dataset, unit, week)).solution(unit))
    return assemble_plan(dataset, week, solutions)


def baseline_plan(dataset: Dataset, week: str) -> WeekPlan:
    return plan_with(handmade_unit, dataset, week)


def greedy_plan(dataset: Dataset, week: str) -> WeekPlan:
    return plan_with(greedy_unit, dataset, week)


def evening_plan(dataset: Dataset, week: str) -> WeekPlan:
    return plan_with(evening_unit, dataset, week)
