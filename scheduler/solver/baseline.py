"""Plans a district staffer could make without an optimiser: yardsticks for `make bench`.

Three planners, each keeping every hard rule (the bench and the tests check them with `verify`),
including the weekly relay minimums and several sessions in one window:

- **hand-made** (`baseline_plan`): the relays at their source time (a deferred one as early as
  it may air) and the relays with a weekly minimum on rotating days ("Mon, Wed, Fri"), then
  every segment, in file order, right after the morning relay on the first days where it still
  fits; later sessions only when the morning is full. No look at the audience: a strawman.
- **greedy by availability** (`greedy_plan`): first the relays. Each weekly minimum goes, one
  airing at a time, to the day where carrying it costs the least audience of the free time left
  for PAR items; each day airs its relays in the sessions whose free time has the largest
  audience (news deferred as far as that pays). Then each segment (highest priority first;
  required plays, then extra plays round by round) goes to the free slot whose minutes have the
  highest audience, opening a PAR-only session where one is allowed. What a careful planner
  with the audience curves does by hand.
- **evening after the news, rotating days** (`evening_plan`): the relays with a minimum on
  rotating days, the evening sessions with the largest audience, every segment right after the
  evening news (falling back to the rest of the evening, then the other sessions), segment i
  starting on day i and its plays spread over the week.

All three work on the unit's session options and bins (`problem.py`), like the model: the same
options, the same spacing of sessions (`sessions_clash`), the same conservative minimum gap
between plays (over the whole bin), the same layout (`lay_out`). So their plans are plans the
model could have chosen too. A unit where a planner cannot meet a rule gets no plan (status
INFEASIBLE).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import accumulate
from typing import Callable, Iterable

from ..audience import availability
from ..domain import Dataset, SolveStatus, WeekPlan, week_days
from ..policy import site_policy
from ..rules import in_quiet_hours, relay_matches, segment_applies, valid_days, window_at
from .problem import DAY, UnitProblem, build_problem, build_units, lay_out, sessions_clash
from .run import UnitSolution, assemble_plan

Slot = tuple[int, int]  # (option index, bin index)
DayPlan = tuple[int, ...]  # the options that carry one day's relays
_SEARCH_NODES = 2000  # relay-days tried at most while looking for days that fit every weekly minimum


def _relay_minutes(p: UnitProblem, o: int) -> int:
    return sum(r.minutes for r in p.options[o].relays)


class _Week:
    """What a planner keeps track of while filling one unit's week by hand: the sessions opened,
    the minutes used in each bin and each day, the sessions per day and where each segment airs."""

    def __init__(self, problem: UnitProblem):
        self.p = problem
        self.picked: list[int] = []
        self.used: dict[int, list[int]] = {}
        self.minutes = [0] * 7
        self.sessions = [0] * 7
        self.plays: dict[str, list[tuple[int, int]]] = {}  # segment -> (earliest, latest) week minute
        self.fills: dict[Slot, list[str]] = {}
        self.by_window: dict[tuple[int, str], list[int]] = {}
        self.failed = False  # some relay could not be carried: the unit gets no plan
        for o, opt in enumerate(problem.options):
            if not opt.blocked_by and opt.day in problem.broadcast_days:
                self.by_window.setdefault((opt.day, opt.window), []).append(o)

    def can_open(self, o: int) -> bool:
        """Another session fits the day: the session limit, the cap, and far enough from the
        day's other sessions not to run into them (the model's `sessions_clash`)."""
        opt = self.p.options[o]
        pol = self.p.policy
        return (self.sessions[opt.day] + opt.sessions <= pol.max_sessions_per_day
                and self.minutes[opt.day] + _relay_minutes(self.p, o) <= pol.daily_cap_minutes
                and not any(sessions_clash(opt, self.p.options[q], pol.session_gap_minutes) for q in self.picked))

    def open(self, o: int) -> None:
        opt = self.p.options[o]
        self.picked.append(o)
        self.used[o] = [0] * len(opt.bins)
        self.sessions[opt.day] += opt.sessions
        self.minutes[opt.day] += _relay_minutes(self.p, o)

    def fits(self, seg_id: str, o: int, bi: int) -> bool:
        """The segment may air in this bin: a valid day not yet used by it, room in the bin and
        the day, at most max_plays, and min_gap from its other plays wherever they land in their
        bins. A session not yet open may be opened only if it carries no relay (the relays are
        placed first, each exactly where it airs)."""
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
        if o not in self.used and (opt.relays or not self.can_open(o)):
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
        met = not self.failed and all(len(self.plays.get(s, [])) >= p.min_plays(seg) for s, seg in p.segments.items())
        kept = [o for o in self.picked if p.options[o].relays or any(self.fills.get((o, bi)) for bi in
                                                                      range(len(p.options[o].bins)))]
        airings = lay_out(p, kept, self.fills) if met else []
        return UnitSolution(unit, SolveStatus.FEASIBLE if met else SolveStatus.INFEASIBLE, 0.0, 0.0,
                            tuple(airings), (), {(a.kind, a.item_id, a.week_minute): {} for a in airings})


# --------------------------------------------------------------------------- the relays of a week


class _Relays:
    """Which relays each day airs and in which sessions: the mandatory ones every day they are
    due, the relays with a weekly minimum on days a planner chooses. A day's relays must fit its
    sessions together (spacing, session limit, cap), which is what makes the choice of days matter."""

    def __init__(self, p: UnitProblem):
        self.p = p
        self._plans: dict[tuple[int, frozenset[str]], list[DayPlan]] = {}
        self.needed = {d: frozenset(rid for (rid, day), r in p.relays.items() if day == d and r.mandatory)
                       for d in p.broadcast_days}

    def day_plans(self, day: int, needed: frozenset[str]) -> list[DayPlan]:
        """Every set of session options of the day that carries exactly the relays `needed`, each
        once, with no two sessions clashing, within the day's session limit and cap."""
        key = (day, needed)
        if key in self._plans:
            return self._plans[key]
        p, pol = self.p, self.p.policy
        carriers = [o for o, opt in enumerate(p.options) if opt.day == day and not opt.blocked_by and opt.relays
                    and {r.relay_id for r in opt.relays} <= needed]
        order = sorted(needed, key=lambda rid: (p.relays[(rid, day)].start_min, rid))
        found: list[DayPlan] = []

        def extend(chosen: list[int], left: frozenset[str], sessions: int, minutes: int) -> None:
            if not left:
                found.append(tuple(sorted(chosen)))
                return
            first = next(rid for rid in order if rid in left)  # each set is built once, by its first relay
            for o in carriers:
                opt = p.options[o]
                ids = {r.relay_id for r in opt.relays}
                if (first in ids and ids <= left and sessions + opt.sessions <= pol.max_sessions_per_day
                        and minutes + _relay_minutes(p, o) <= pol.daily_cap_minutes
                        and not any(sessions_clash(opt, p.options[q], pol.session_gap_minutes) for q in chosen)):
                    extend(chosen + [o], left - ids, sessions + opt.sessions, minutes + _relay_minutes(p, o))

        extend([], needed, 0, 0)
        self._plans[key] = found
        return found

    def feasible(self, day: int, extra: str = "") -> bool:
        return bool(self.day_plans(day, self.needed[day] | ({extra} if extra else set())))

    def choose_minimums(self, rank: Callable[[str, list[tuple[str, int]]], list[tuple[str, int]]]) -> bool:
        """Add relay-days until every weekly minimum is met, trying the candidates (relay id, day)
        that still fit their day in the order `rank(minimum, candidates)` gives, and backing off
        from a choice that leaves a later minimum unable to fit (VOV4 Jrai and Bahnar mornings, VTV1
        and VOV1 evenings compete for the same sessions). False if the minimums cannot all be met
        within a bounded search."""
        p = self.p
        if not all(self.feasible(d) for d in p.broadcast_days):
            return False
        keys = sorted(p.relay_minimums.items(), key=lambda kv: (-kv[1], kv[0]))
        budget = [_SEARCH_NODES]

        def matches(key: str, rid: str, day: int) -> bool:
            return relay_matches(key, rid, p.relays[(rid, day)].source)

        def search(i: int, excluded: frozenset[tuple[str, int]]) -> bool:
            while i < len(keys) and sum(1 for d, ids in self.needed.items() for rid in ids
                                        if matches(keys[i][0], rid, d)) >= keys[i][1]:
                i, excluded = i + 1, frozenset()
            if i == len(keys):
                return True
            key = keys[i][0]
            candidates = [(rid, d) for (rid, d) in sorted(p.relays) if d in self.needed and (rid, d) not in excluded
                          and rid not in self.needed[d] and matches(key, rid, d) and self.feasible(d, rid)]
            tried: set[tuple[str, int]] = set()
            for rid, d in rank(key, candidates):
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                self.needed[d] = self.needed[d] | {rid}
                if search(i, excluded | tried):  # the same minimum again, without the days already tried
                    return True
                self.needed[d] = self.needed[d] - {rid}
                tried.add((rid, d))
            return False

        return search(0, frozenset())

    def open(self, week: _Week, rank: Callable[[int, DayPlan], tuple]) -> None:
        """Open, each day, the sessions of the plan of its relays that `rank` puts first."""
        for day in self.p.broadcast_days:
            plans = self.day_plans(day, self.needed[day])
            if not plans:
                week.failed = True
                return
            for o in min(plans, key=lambda plan: rank(day, plan)):
                week.open(o)


def _delay(p: UnitProblem, plan: DayPlan) -> int:
    return sum(r.delay for o in plan for r in p.options[o].relays)


def _rotating(p: UnitProblem) -> Callable[[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """A planner's rotation for the weekly minimums: each relay `stride` days apart (Mon, Wed,
    Fri for 3 of 7), each minimum starting where the previous ones left off, so two minimums
    rarely share a day; a day that cannot take it gives way to the next in turn."""
    days = list(p.broadcast_days)
    offsets, offset = {}, 0
    for key, need in sorted(p.relay_minimums.items(), key=lambda kv: (-kv[1], kv[0])):
        stride = max(1, len(days) // max(1, need))
        offsets[key] = list(dict.fromkeys([days[(offset + k * stride) % len(days)] for k in range(len(days))]
                                          + [days[(offset + k) % len(days)] for k in range(len(days))]))
        offset += need

    def rank(key: str, candidates: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return sorted(candidates, key=lambda rd: (offsets[key].index(rd[1]), rd))
    return rank


def _free_minutes(p: UnitProblem, options: Iterable[int], budget: int, window: str | None = None) -> list[float]:
    """The audience share of each free minute a PAR item could take in these sessions: from the
    edge each bin fills from, at most `budget` minutes a bin."""
    out: list[float] = []
    for o in options:
        opt = p.options[o]
        if window is not None and opt.window != window:
            continue
        shares = p.shares[opt.day]
        for b in opt.bins:
            span = range(b.start, b.end) if b.align == "left" else range(b.end - 1, b.start - 1, -1)
            out.extend(shares[m] for m in span[:budget])
    return out


def _par_budget(p: UnitProblem, day: int, plan: DayPlan) -> int:
    """Minutes of PAR a day is likely to carry: its share of the week's most plays, within the cap."""
    week = sum(seg.max_plays * seg.duration_min for seg in p.segments.values())
    share = -(-week // max(1, len(p.broadcast_days)))
    return max(0, min(share, p.policy.daily_cap_minutes - sum(_relay_minutes(p, o) for o in plan)))


def _audience_left(p: UnitProblem, day: int, plan: DayPlan, window: str | None = None) -> float:
    """Listener-minutes of the best free minutes a day keeps for PAR items once its relays air as
    in `plan`: the plan's free time, plus the best PAR-only session still allowed that day."""
    pol = p.policy
    budget = _par_budget(p, day, plan)
    used = sum(p.options[o].sessions for o in plan)
    extra = [o for o, opt in enumerate(p.options) if opt.day == day and not opt.relays and not opt.blocked_by
             and (window is None or opt.window == window) and used + opt.sessions <= pol.max_sessions_per_day
             and not any(sessions_clash(opt, p.options[q], pol.session_gap_minutes) for q in plan)]
    best = max(extra, key=lambda o: (sum(sorted(_free_minutes(p, [o], budget), reverse=True)[:budget]), -o),
               default=None)
    minutes = _free_minutes(p, list(plan) + ([best] if best is not None else []), budget, window)
    return p.unit.population * sum(sorted(minutes, reverse=True)[:budget])


def _order(p: UnitProblem) -> list[str]:
    return sorted(p.segments, key=lambda s: (-p.segments[s].priority, s))


# --------------------------------------------------------------------------- hand-made


def handmade_unit(problem: UnitProblem) -> _Week:
    p = problem
    week = _Week(p)
    relays = _Relays(p)
    if not relays.choose_minimums(_rotating(p)):
        week.failed = True
        return week
    # relays as early as they may air, each as early in its session as possible (PAR after it)
    relays.open(week, lambda day, plan: (_delay(p, plan), sum(p.options[o].relays[0].start - p.options[o].start
                                                                for o in plan), plan))
    # spare sessions for PAR alone, in windows still free, earliest first
    for _key, idx in sorted(week.by_window.items(), key=lambda kv: (kv[0][0], p.options[kv[1][0]].start)):
        spare = sorted((o for o in idx if not p.options[o].relays), key=lambda o: (p.options[o].start, o))
        if spare and not any(p.options[q].day == _key[0] and p.options[q].window == _key[1] for q in week.picked) \
                and week.can_open(spare[0]):
            week.open(spare[0])
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


def greedy_unit(problem: UnitProblem) -> _Week:
    p = problem
    week = _Week(p)
    relays = _Relays(p)
    scores: dict[tuple[int, DayPlan], tuple[float, int, DayPlan]] = {}

    def rank(day: int, plan: DayPlan) -> tuple[float, int, DayPlan]:
        """Sessions leaving the largest audience to PAR first, then the least delay."""
        if (day, plan) not in scores:
            scores[(day, plan)] = (-_audience_left(p, day, plan), _delay(p, plan), plan)
        return scores[(day, plan)]

    def best_plan(day: int, needed: frozenset[str]) -> tuple[float, int, DayPlan]:
        return min(rank(day, plan) for plan in relays.day_plans(day, needed))

    def least_loss(_key: str, candidates: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Relay-days by the audience their airing takes from PAR items, least first; ties: the
        relay's own listeners, most first."""
        def loss(rd: tuple[str, int]) -> tuple:
            rid, day = rd
            relay = p.relays[rd]
            return (best_plan(day, relays.needed[day] | {rid})[0] - best_plan(day, relays.needed[day])[0],
                    -p.listeners(day, relay.start_min, relay.duration_min), day, rid)
        return sorted(candidates, key=loss)

    if not relays.choose_minimums(least_loss):
        week.failed = True
        return week
    relays.open(week, rank)
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
    relays = _Relays(p)
    if not relays.choose_minimums(_rotating(p)):
        week.failed = True
        return week
    # the evening sessions where people are home (the news deferred as far as that needs), the
    # other relays as early as they may air
    relays.open(week, lambda day, plan: (-_audience_left(p, day, plan, evening), _delay(p, plan), plan))

    def slots(day: int) -> list[Slot]:
        """The evening sessions' bins right after a relay, the rest of the evening, the other
        sessions latest first, then sessions not yet opened (earliest first)."""
        mine = [o for o in week.picked if p.options[o].day == day]
        def rank(s: Slot):  # noqa: E306
            opt = p.options[s[0]]
            bin_ = opt.bins[s[1]]
            after_relay = bin_.align == "left" and any(r.start + r.minutes == bin_.start for r in opt.relays)
            return (opt.window != evening, not after_relay, -bin_.start, s)
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


def plan_with(strategy: Callable[[UnitProblem], _Week], dataset: Dataset, week: str,
              site_ids: set[str] | None = None) -> WeekPlan:
    """The week of every unit (of `site_ids` only, if given) planned by one of the strategies above."""
    solutions = []
    for unit in build_units(dataset, site_ids):
        solutions.append(strategy(build_problem(dataset, unit, week)).solution(unit))
    return assemble_plan(dataset, week, solutions)


def baseline_plan(dataset: Dataset, week: str, site_ids: set[str] | None = None) -> WeekPlan:
    return plan_with(handmade_unit, dataset, week, site_ids)


def greedy_plan(dataset: Dataset, week: str, site_ids: set[str] | None = None) -> WeekPlan:
    return plan_with(greedy_unit, dataset, week, site_ids)


def evening_plan(dataset: Dataset, week: str, site_ids: set[str] | None = None) -> WeekPlan:
    return plan_with(evening_unit, dataset, week, site_ids)


# --------------------------------------------------------------------------- what no plan can beat


@dataclass(frozen=True)
class ReachBound:
    """Upper bounds on the reach figures of `export.planstats` for any plan of the week."""

    listener_plays: float
    people_reached: float
    weighted_reach: float


def reach_bound(dataset: Dataset, week: str, site_ids: set[str] | None = None) -> ReachBound:
    """What no plan keeping the rules can exceed: at each site, each segment airs its `max_plays`
    on the valid days and at the minutes with the largest audience that the site's windows and
    quiet hours allow, once a day. Relays, blackouts, caps, sessions and the gap between plays
    are left out, so every plan is below it; how close a plan comes says how much reach is left."""
    days = week_days(week)
    lp = people = weighted = 0.0
    for site in sorted(dataset.sites, key=lambda s: s.id):
        if not site.has_station or (site_ids is not None and site.id not in site_ids):
            continue
        pol = site_policy(dataset, site)
        closed = list(accumulate((0 if window_at(pol.windows, m) and not in_quiet_hours(pol.quiet_hours, m) else 1
                                  for m in range(DAY)), initial=0))
        best: dict[tuple[int, int], float] = {}

        def best_share(day: int, minutes: int) -> float:
            """The largest mean audience share of `minutes` open minutes in a row that day."""
            if (day, minutes) not in best:
                curve = list(accumulate(availability(dataset, site, days[day]), initial=0.0))
                best[(day, minutes)] = max(((curve[s + minutes] - curve[s]) / minutes
                                            for s in range(DAY - minutes + 1) if closed[s + minutes] == closed[s]),
                                           default=0.0)
            return best[(day, minutes)]

        for seg in dataset.segments:
            if not segment_applies(dataset, site, seg):
                continue
            valid = valid_days(seg.valid_from, seg.valid_to, days, pol.broadcast_days)
            shares = sorted((best_share(d.weekday(), seg.duration_min) for d in valid), reverse=True)[:seg.max_plays]
            lp += site.population * sum(shares)
            weighted += site.population * sum(shares) * seg.priority
            people += site.population * (1.0 - math.prod(1.0 - min(1.0, a) for a in shares))
    return ReachBound(lp, people, weighted)
