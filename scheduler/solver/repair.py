"""A re-plan's first schedule: the previous one where it still fits, completed greedily.

Started cold, CP-SAT's LP search finds a re-plan's first schedules slowly (thousands of
branches in a unit whose LP bound is tight at the root). The previous schedule, with the new
items put where they gain most, is already within the gap limit in most units, so handed over
whole (`model.set_hint`) it is the solution and CP-SAT only proves the bound. Measured on the
bundled province re-planned from Wednesday noon with a new item for every commune (143 units):
CP-SAT 23.7 -> 8.8 s of CPU (with `run.solve_problem`'s presolve setting), the hint kept as the
answer in 138 units (benchmarks/RESULTS.md, "Eighth session").

Every hard rule of `model.py` is kept here in the same terms (sessions apart, a mandatory relay
once, the daily count and cap, bin capacity, plays a week and a day, the minimum gap), so the
hint is feasible; CP-SAT checks it anyway and searches on its own if it is not.
"""
from __future__ import annotations

import heapq
from collections import defaultdict

from . import objective
from .model import UnitModel, set_hint
from .problem import DAY, UnitProblem, sessions_clash

Fill = tuple[str, int, int]  # (segment id, option index, bin index), as `UnitModel.fill`


class _Schedule:
    """Picked options and filled bins, with what the rules count of them."""

    def __init__(self, um: UnitModel):
        self.um, self.p = um, um.problem
        self.picked: list[int] = []
        self.fills: list[Fill] = []
        self.sessions: dict[int, int] = defaultdict(int)  # day -> sessions (an upper bound, as the model counts)
        self.carried: set[tuple[str, int]] = set()  # (relay id, day)
        self.minutes: dict[int, int] = defaultdict(int)  # day -> airtime
        self.free: dict[tuple[int, int], int] = {}  # (option, bin) of picked options -> minutes left
        self.plays: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # segment -> (day, earliest, latest)
        self.parts: dict[str, set[str]] = defaultdict(set)  # segment -> windows it airs in

    def can_pick(self, o: int) -> bool:
        p, opt = self.p, self.p.options[o]
        kept_sessions, kept_minutes = p.used.get(opt.day, (0, 0))
        return (not opt.blocked_by
                and not any(sessions_clash(opt, p.options[q], p.policy.session_gap_minutes) for q in self.picked)
                and not any((r.relay_id, opt.day) in self.carried for r in opt.relays)
                and self.sessions[opt.day] + opt.sessions <= p.policy.max_sessions_per_day - kept_sessions
                and self.minutes[opt.day] + sum(r.minutes for r in opt.relays)
                <= p.policy.daily_cap_minutes - kept_minutes)

    def pick(self, o: int) -> None:
        opt = self.p.options[o]
        self.picked.append(o)
        self.sessions[opt.day] += opt.sessions
        self.carried.update((r.relay_id, opt.day) for r in opt.relays)
        self.minutes[opt.day] += sum(r.minutes for r in opt.relays)
        self.free.update(((o, b), bin_.minutes) for b, bin_ in enumerate(opt.bins))

    def fits(self, s: str, o: int, b: int) -> bool:
        p, opt = self.p, self.p.options[o]
        seg, dur = p.segments[s], p.segments[s].duration_min
        if self.free.get((o, b), 0) < dur or len(self.plays[s]) >= p.max_plays(seg):
            return False
        if self.minutes[opt.day] + dur > p.policy.daily_cap_minutes - p.used.get(opt.day, (0, 0))[1]:
            return False
        earliest, latest = opt.day * DAY + opt.bins[b].start, opt.day * DAY + opt.bins[b].end - dur
        gap = p.min_gap(seg)
        return all(day != opt.day and (day > opt.day or earliest - last >= gap) and (day < opt.day or first - latest >= gap)
                   for day, first, last in self.plays[s])

    def put(self, s: str, o: int, b: int) -> None:
        opt, dur = self.p.options[o], self.p.segments[s].duration_min
        self.free[(o, b)] -= dur
        self.minutes[opt.day] += dur
        self.plays[s].append((opt.day, opt.day * DAY + opt.bins[b].start, opt.day * DAY + opt.bins[b].end - dur))
        self.parts[s].add(opt.window)
        self.fills.append((s, o, b))

    def gain(self, s: str, o: int, b: int) -> int:
        """What the fill adds to the objective, given the plays already placed (it only falls as
        more are placed: fewer new dayparts, more neighbouring days)."""
        p, opt = self.p, self.p.options[o]
        w, scale = p.policy.weights, p.scale
        days = {day for day, _first, _last in self.plays[s]}
        value = round(objective.reach(w, p.segments[s].priority, opt.bins[b].listeners))
        if opt.window and opt.window not in self.parts[s]:
            value += round(objective.spread_dayparts(w, scale))
        value += round(objective.spread_days(w, scale)) * ((opt.day - 1 in days) + (opt.day + 1 in days))
        if (s, o, b) in self.um.stays:
            value += round(objective.stability(w, scale))
        return value


def _pick_sessions(sched: _Schedule) -> bool:
    """The previous sessions first (options by how much of the previous schedule they keep), then
    a carrier for each mandatory relay and each weekly minimum still missing."""
    p, um = sched.p, sched.um
    staying: dict[int, dict[str, int]] = defaultdict(dict)  # option -> segment -> minutes off its old start
    for s, o, b in sorted(um.stays):
        opt, bin_ = p.options[o], p.options[o].bins[b]
        at = bin_.start if bin_.align == "left" else bin_.end - p.segments[s].duration_min
        off = min(abs(m - at) for m in p.pinned.previous_starts[("segment", s, opt.day)])
        staying[o][s] = min(off, staying[o].get(s, off))
    keeps = {o: len(staying[o]) + sum(p.relay_stays(r.relay_id, opt.day, r.start) for r in opt.relays)
             for o, opt in enumerate(p.options)}
    # most kept first; of options keeping as much, the one nearest the old times (the stability
    # term counts an item kept anywhere in the stretch of its old session, listeners do not)
    for o in sorted((o for o, n in keeps.items() if n), key=lambda o: (-keeps[o], sum(staying[o].values()), o)):
        if sched.can_pick(o):
            sched.pick(o)
    for (relay_id, day), relay in sorted(p.relays.items()):
        if relay.mandatory and (relay_id, day) not in sched.carried:
            if not _add_carrier(sched, p.relay_carriers.get((relay_id, day), [])):
                return False
    for key, need in sorted(p.relay_minimums.items()):
        carriers = p.minimum_carriers(key)
        while sum(o in sched.picked for o in carriers) < need:
            if not _add_carrier(sched, carriers):
                return False
    return True


def _add_carrier(sched: _Schedule, carriers: list[int]) -> bool:
    """Pick, of the options carrying a relay, the one with the least delay and the best-listened
    bins (an option whose relays are carried already cannot be picked)."""
    p = sched.p
    found = [(sum(r.delay for r in p.options[o].relays), -sum(b.listeners for b in p.options[o].bins), o)
             for o in set(carriers) if sched.can_pick(o)]
    if not found:
        return False
    sched.pick(min(found)[2])
    return True


def _fill(sched: _Schedule) -> bool:
    """Previous plays back where they were, then each segment's required plays (the most
    constrained segment first), then any play that adds to the objective, best first."""
    p, um = sched.p, sched.um
    picked = set(sched.picked)
    candidates: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s, o, b in um.fill:  # (segment, option, bin) order: deterministic
        if o in picked:
            candidates[s].append((o, b))
    for s, o, b in um.fill:
        if o in picked and (s, o, b) in um.stays and sched.fits(s, o, b):
            sched.put(s, o, b)
    for s in sorted(p.segments, key=lambda s: (len(candidates[s]), s)):
        while len(sched.plays[s]) < p.min_plays(p.segments[s]):
            best = max(((sched.gain(s, o, b), -o, -b) for o, b in candidates[s] if sched.fits(s, o, b)), default=None)
            if best is None:
                return False
            sched.put(s, -best[1], -best[2])
    # greedy on a heap: gains only fall as plays are placed, so a popped entry whose gain is
    # still current is the best fill left
    heap = [(-sched.gain(s, o, b), s, o, b) for s in sorted(candidates) for o, b in candidates[s] if sched.fits(s, o, b)]
    heapq.heapify(heap)
    while heap:
        neg, s, o, b = heapq.heappop(heap)
        if -neg <= 0:
            break
        if not sched.fits(s, o, b):
            continue
        now = sched.gain(s, o, b)
        if now == -neg:
            sched.put(s, o, b)
        elif now > 0:
            heapq.heappush(heap, (-now, s, o, b))
    return True


def hint_previous(um: UnitModel) -> bool:
    """Hint a re-plan's model with the previous schedule, repaired; False when it cannot be (then
    CP-SAT starts cold). A priority bulletin's lead is left to the model."""
    p: UnitProblem = um.problem
    if p.pinned is None or not p.pinned.previous or p.pinned.lead:
        return False
    sched = _Schedule(um)
    if not (_pick_sessions(sched) and _fill(sched)):
        return False
    set_hint(um, sched.picked, sched.fills)
    return True
