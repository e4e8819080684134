"""A fast feasible plan to warm-start CP-SAT: relays first, then PAR plays in order of reach.

It checks the same slot-level rules as model.py (whole slots, sessions on slot occupancy), so
its plan is a valid hint. It is a start for the solver, not a result: the solver proves how
far from optimal it is and improves it.
"""
from __future__ import annotations

from .problem import DAY, Candidate, UnitProblem


class _DayState:
    def __init__(self, problem: UnitProblem):
        self.slot = problem.policy.slot_minutes
        self.k = problem.policy.session_gap_minutes // self.slot
        self.longest = problem.policy.max_session_minutes // self.slot
        self.sessions = problem.policy.max_sessions_per_day
        self.cap = problem.policy.daily_cap_minutes
        self.slots: set[int] = set()
        self.minutes = 0
        self.windows: dict[str, tuple[int, int]] = {}  # window -> (first slot, end slot)

    def slots_of(self, c: Candidate) -> set[int]:
        return set(range(c.start // self.slot, -(-c.end // self.slot)))

    def _span(self, c: Candidate) -> tuple[int, int]:
        first, end = c.start // self.slot, -(-c.end // self.slot)
        if c.daypart in self.windows:
            a, b = self.windows[c.daypart]
            first, end = min(first, a), max(end, b)
        return first, end

    def fits(self, c: Candidate) -> bool:
        """The model's rules: no shared slot, cap, one session per window within L, sessions."""
        new = self.slots_of(c)
        if new & self.slots or self.minutes + c.minutes > self.cap:
            return False
        first, end = self._span(c)
        if end - first > self.longest or len(self.windows | {c.daypart: (0, 0)}) > self.sessions:
            return False
        occupied = sorted(self.slots | new)
        runs = 1
        first = occupied[0]
        for a, b in zip(occupied, occupied[1:]):
            if b - a - 1 >= self.k:
                if a - first + 1 > self.longest:
                    return False
                runs += 1
                first = b
        return runs <= self.sessions and occupied[-1] - first + 1 <= self.longest

    def add(self, c: Candidate) -> None:
        self.windows[c.daypart] = self._span(c)
        self.slots |= self.slots_of(c)
        self.minutes += c.minutes


def _value(problem: UnitProblem, picked: list[int]) -> float:
    """Reach and relay delay of a plan: the terms a greedy choice can judge."""
    w = problem.policy.weights
    total = 0.0
    for i in picked:
        c = problem.candidates[i]
        if c.kind == "segment":
            total += w.reach * problem.segments[c.item_id].priority * c.listeners
        else:
            total -= w.delay * problem.scale * (c.start % DAY - problem.relays[(c.item_id, c.day)].start_min)
    return total


def greedy_plan(problem: UnitProblem) -> list[int]:
    """Indices into problem.candidates of a plan meeting every hard rule (or as many as it
    can): the better of two tries, relays at their earliest start or where most people are."""
    tries = [_greedy(problem, relays_first_by) for relays_first_by in ("start", "listeners")]
    return max(tries, key=lambda picked: (_value(problem, picked), -len(picked)))


def _greedy(problem: UnitProblem, relays_by: str) -> list[int]:
    days = {d: _DayState(problem) for d in range(7)}
    chosen: list[int] = []
    relay_done: set[tuple[str, int]] = set()
    if relays_by == "start":
        order = sorted(range(len(problem.candidates)), key=lambda i: problem.candidates[i].start)
    else:
        order = sorted(range(len(problem.candidates)),
                       key=lambda i: (problem.candidates[i].day, -problem.candidates[i].listeners,
                                      problem.candidates[i].start))
    for i in order:  # mandatory relays first
        c = problem.candidates[i]
        if c.kind != "relay" or c.blocked_by or (c.item_id, c.day) in relay_done:
            continue
        if problem.relays[(c.item_id, c.day)].mandatory and days[c.day].fits(c):
            days[c.day].add(c)
            chosen.append(i)
            relay_done.add((c.item_id, c.day))
    plays: dict[str, list[Candidate]] = {s: [] for s in problem.segments}
    by_reach = sorted((i for i, c in enumerate(problem.candidates) if c.kind == "segment"),
                      key=lambda i: (-problem.candidates[i].listeners * problem.segments[problem.candidates[i].item_id].priority,
                                     problem.candidates[i].start))

    def allowed(c: Candidate) -> bool:
        seg = problem.segments[c.item_id]
        gap = seg.min_gap_min or problem.policy.segment_min_gap_minutes
        return all(p.day != c.day and abs(p.start - c.start) >= gap for p in plays[c.item_id])

    for phase in ("min", "max"):
        for i in by_reach:
            c = problem.candidates[i]
            seg = problem.segments[c.item_id]
            limit = problem.min_plays(seg) if phase == "min" else seg.max_plays
            if len(plays[c.item_id]) < limit and allowed(c) and days[c.day].fits(c):
                days[c.day].add(c)
                plays[c.item_id].append(c)
                chosen.append(i)
    return sorted(chosen)


