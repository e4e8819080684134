"""The CP-SAT model of one unit, built in one place, one function per rule.

Formulation (measured against optional intervals + NoOverlap, see benchmarks/README.md): one
Boolean per candidate start on the policy's slot grid; time-indexed "at most one item per slot"
constraints; sessions counted on slot occupancy. Every item occupies whole slots, which makes
each rule conservative, so a solution always passes the minute-exact checker in verify.py.

In explain mode every requirement is guarded by an assumption literal and the objective is
dropped, so an infeasible unit yields the requirements that cannot hold together.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .problem import DAY, Candidate, UnitProblem, day_label, hhmm, relay_requirement_text, segment_requirement_text

SEED = 20240101


@dataclass
class UnitModel:
    problem: UnitProblem
    model: cp_model.CpModel
    x: list[cp_model.IntVar]  # one per problem.candidates entry
    assumptions: dict[str, cp_model.IntVar] = field(default_factory=dict)
    terms: dict[str, list[tuple[cp_model.LinearExprT, int]]] = field(default_factory=dict)


class _Builder:
    def __init__(self, problem: UnitProblem, explain: bool):
        self.p = problem
        self.m = cp_model.CpModel()
        self.explain = explain
        self.assumptions: dict[str, cp_model.IntVar] = {}
        self.terms: dict[str, list[tuple[object, int]]] = defaultdict(list)
        self.x = [self.m.new_bool_var(f"x{i}") for i in range(len(problem.candidates))]
        self.slot = problem.policy.slot_minutes
        self.cover: dict[int, list[int]] = defaultdict(list)  # slot -> candidate indices
        for i, c in enumerate(problem.candidates):
            for g in range(c.start // self.slot, -(-c.end // self.slot)):
                self.cover[g].append(i)
        self._occ: dict[int, object] = {}

    def guard(self, ct: cp_model.Constraint, key: str | None) -> None:
        """Enforce a constraint only under its requirement's assumption literal (explain mode)."""
        if self.explain and key is not None:
            if key not in self.assumptions:
                self.assumptions[key] = self.m.new_bool_var(f"req:{key}")
            ct.only_enforce_if(self.assumptions[key])

    def occupancy(self, g: int):
        """A Boolean per slot equal to 'something is on air': session rules then stay short."""
        if g not in self._occ:
            idx = self.cover.get(g, ())
            if len(idx) == 1:
                self._occ[g] = self.x[idx[0]]
            else:
                o = self.m.new_bool_var(f"o{g}")
                self.m.add(o == sum(self.x[i] for i in idx))
                self._occ[g] = o
        return self._occ[g]

    def by(self, kind: str) -> dict[tuple[str, int], list[int]]:
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, c in enumerate(self.p.candidates):
            if c.kind == kind:
                groups[(c.item_id, c.day)].append(i)
        return groups


def add_windows(b: _Builder) -> None:
    """Hard: nothing airs outside the windows, in quiet hours or in a blackout.

    Segment candidates only exist at allowed times; a mandatory relay's fixed time may be
    forbidden, and then the rule that forbids it becomes part of the explanation."""
    for i, c in enumerate(b.p.candidates):
        for key in c.blocked_by:
            b.guard(b.m.add(b.x[i] == 0), key)


def add_mandatory_relays(b: _Builder) -> None:
    """Hard: every mandatory relay airs in full once on each broadcast day it applies to."""
    candidates = b.by("relay")
    for (relay_id, day), relay in sorted(b.p.relays.items()):
        idx = candidates.get((relay_id, day), [])
        if not relay.mandatory:
            b.m.add(sum(b.x[i] for i in idx) <= 1)
            continue
        key = b.p.require(f"relay:{relay_id}:{day}", "add_mandatory_relays", relay_requirement_text(b.p, relay, day))
        if idx:
            b.guard(b.m.add(sum(b.x[i] for i in idx) == 1), key)
        else:  # no start at all (e.g. past midnight): the requirement alone is impossible
            b.guard(b.m.add_bool_or([]), key)


def add_no_overlap(b: _Builder) -> None:
    """Hard: at most one item on air at a time at a site."""
    for g, idx in sorted(b.cover.items()):
        if len(idx) > 1:
            b.m.add_at_most_one(b.x[i] for i in idx)


def add_weekly_plays(b: _Builder) -> dict[tuple[str, int], cp_model.LinearExprT]:
    """Hard: each segment airs min..max times a week, at most once a day, min_gap apart."""
    per_day = b.by("segment")
    played: dict[tuple[str, int], object] = {}
    for (seg_id, day), idx in sorted(per_day.items()):
        b.m.add_at_most_one(b.x[i] for i in idx)
        played[(seg_id, day)] = sum(b.x[i] for i in idx)
    for seg_id, seg in sorted(b.p.segments.items()):
        total = sum(played.get((seg_id, d), 0) for d in range(7))
        need = b.p.min_plays(seg)
        key = b.p.require(f"plays:{seg_id}", "add_weekly_plays", segment_requirement_text(b.p, seg))
        if need > 0:
            b.guard(b.m.add(total >= need), key)
        b.m.add(total <= seg.max_plays)
        gap = seg.min_gap_min or b.p.policy.segment_min_gap_minutes
        _add_min_gap(b, per_day, seg_id, gap, key)
    return played


def _add_min_gap(b: _Builder, per_day, seg_id: str, gap: int, key: str) -> None:
    """A later play within `gap` minutes of a play is excluded. Plays are once a day, so
    'played at or after t on day d' is a chain of suffix Booleans and each pair is 2 terms."""
    days = sorted(d for (s, d) in per_day if s == seg_id)
    suffix: dict[int, list[tuple[int, object]]] = {}
    for d in days:
        idx = sorted(per_day[(seg_id, d)], key=lambda j: b.p.candidates[j].start)
        chain: list[tuple[int, object]] = []
        later = None
        for j in reversed(idx):
            if later is None:
                later = b.x[j]
            else:
                nxt = b.m.new_bool_var(f"after:{seg_id}:{j}")
                b.m.add(nxt == b.x[j] + later)
                later = nxt
            chain.append((b.p.candidates[j].start, later))
        suffix[d] = chain[::-1]  # ascending start, each paired with "plays at or after it"
    for i, d1 in enumerate(days):
        for d2 in days[i + 1:]:
            if (d2 - d1) * DAY - DAY >= gap:
                break
            chain = suffix[d1]
            starts = [t for t, _ in chain]
            for j2 in per_day[(seg_id, d2)]:
                t2 = b.p.candidates[j2].start
                k = bisect_right(starts, t2 - gap)  # first play of d1 closer than gap
                if k < len(chain):
                    b.guard(b.m.add(b.x[j2] + chain[k][1] <= 1), key)


def add_session_limits(b: _Builder) -> None:
    """Hard: per day at most N sessions, each at most L minutes, and at most the daily cap.

    A session is a maximal run of airtime whose gaps are shorter than session_gap. The model
    keeps each broadcast window to one session (morning, noon, evening, as communes air):
    everything started in a window lies within L minutes, and a knapsack "window airtime <= L"
    gives the LP a tight bound. The exact session count is kept on slot occupancy: a new
    session starts at an occupied slot whose k previous slots are empty."""
    pol = b.p.policy
    slot = b.slot
    k = pol.session_gap_minutes // slot
    longest = pol.max_session_minutes // slot
    per_day_slots = DAY // slot
    for day in b.p.broadcast_days:
        lo, hi = day * per_day_slots, (day + 1) * per_day_slots
        coverable = [g for g in range(lo, hi) if b.cover.get(g)]
        if not coverable:
            continue
        occ = {g: b.occupancy(g) for g in coverable}
        cover_set = set(coverable)
        sessions_key = b.p.require(f"sessions:{day}", "add_session_limits",
                                   f"at most {pol.max_sessions_per_day} session(s) on {_day(b, day)}")
        length_key = b.p.require(f"session_len:{day}", "add_session_limits",
                                 f"each session at most {pol.max_session_minutes} min, one per window, "
                                 f"on {_day(b, day)}")
        cap_key = b.p.require(f"cap:{day}", "add_session_limits",
                              f"at most {pol.daily_cap_minutes} min of airtime on {_day(b, day)}")
        starts = []
        for g in coverable:
            before = [occ[g - j] for j in range(1, k + 1) if g - j in cover_set]
            s = b.m.new_bool_var(f"s{g}")
            b.m.add(s >= occ[g] - sum(before))
            starts.append(s)
        b.guard(b.m.add(sum(starts) <= pol.max_sessions_per_day), sessions_key)

        by_window: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(b.p.candidates):
            if c.day == day:
                by_window[c.daypart].append(i)
        used = []
        for name, idx in sorted(by_window.items()):
            on = b.m.new_bool_var(f"used:{day}:{name}")
            used.append(on)
            first = b.m.new_int_var(lo, hi, f"first:{day}:{name}")
            last = b.m.new_int_var(lo, hi, f"last:{day}:{name}")
            for i in idx:
                c = b.p.candidates[i]
                b.m.add_implication(b.x[i], on)
                b.m.add(first <= c.start // slot).only_enforce_if(b.x[i])
                b.m.add(last >= -(-c.end // slot)).only_enforce_if(b.x[i])
            b.guard(b.m.add(last - first <= longest), length_key)
            slots = [(b.x[i], -(-b.p.candidates[i].end // slot) - b.p.candidates[i].start // slot) for i in idx]
            b.guard(b.m.add(sum(n * x for x, n in slots) <= longest), length_key)
        b.guard(b.m.add(sum(used) <= pol.max_sessions_per_day), sessions_key)

        day_idx = [i for i, c in enumerate(b.p.candidates) if c.day == day]
        b.guard(b.m.add(sum(b.x[i] * b.p.candidates[i].minutes for i in day_idx) <= pol.daily_cap_minutes), cap_key)


def _day(b: _Builder, day: int) -> str:
    return day_label(b.p, day)


def add_objective(b: _Builder, played) -> None:
    """Soft: reach of PAR x priority, spread over days and dayparts, topic variety, relay delay.

    Secondary weights are per 1,000 inhabitants of the unit (see UnitProblem.scale)."""
    w = b.p.policy.weights
    scale = b.p.scale
    for i, c in enumerate(b.p.candidates):
        if c.kind == "segment":
            seg = b.p.segments[c.item_id]
            b.terms["reach"].append((b.x[i], round(w.reach * seg.priority * c.listeners)))
        else:
            relay = b.p.relays[(c.item_id, c.day)]
            if not relay.mandatory:
                b.terms["optional_relay"].append((b.x[i], round(w.optional_relay * c.listeners)))
            delay = c.start % DAY - relay.start_min
            if delay > 0:
                b.terms["delay"].append((b.x[i], -round(w.delay * scale * delay)))
    for seg_id in sorted(b.p.segments):
        parts: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(b.p.candidates):
            if c.kind == "segment" and c.item_id == seg_id:
                parts[c.daypart].append(i)
        reached = []
        for part, idx in sorted(parts.items()):
            u = b.m.new_bool_var(f"part:{seg_id}:{part}")
            b.m.add(u <= sum(b.x[i] for i in idx))
            reached.append(u)
            b.terms["spread_dayparts"].append((u, round(w.spread_dayparts * scale)))
        if reached:  # redundant, for the LP: no more dayparts than plays
            b.m.add(sum(reached) <= sum(played.get((seg_id, d), 0) for d in range(7)))
        for d in range(6):
            if (seg_id, d) in played and (seg_id, d + 1) in played:
                z = b.m.new_bool_var(f"next:{seg_id}:{d}")
                b.m.add(z >= played[(seg_id, d)] + played[(seg_id, d + 1)] - 1)
                b.terms["spread_days"].append((z, -round(w.spread_days * scale)))
    topics: dict[int, list] = defaultdict(list)
    for (seg_id, _day), expr in played.items():
        topics[b.p.segments[seg_id].topic].append(expr)
    for topic, exprs in sorted(topics.items()):
        v = b.m.new_bool_var(f"topic:{topic}")
        b.m.add(v <= sum(exprs))
        b.terms["variety"].append((v, round(w.variety * scale)))
    b.m.maximize(sum(coef * var for items in b.terms.values() for var, coef in items if coef))


RULES = (add_windows, add_mandatory_relays, add_no_overlap, add_session_limits)


def build_model(problem: UnitProblem, explain: bool = False) -> UnitModel:
    """The whole model of one unit; in explain mode with assumptions and no objective."""
    b = _Builder(problem, explain)
    for rule in RULES:
        rule(b)
    played = add_weekly_plays(b)
    if not explain:
        add_objective(b, played)
    else:
        b.m.add_assumptions([b.assumptions[k] for k in sorted(b.assumptions)])
    return UnitModel(problem, b.m, b.x, dict(b.assumptions), dict(b.terms))


def solver_for(time_budget: float, explain: bool = False, gap_limit: float = 0.0) -> cp_model.CpSolver:
    """One worker, fixed seed, deterministic budget: the same input gives the same plan."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = SEED
    prm.max_deterministic_time = time_budget
    prm.linearization_level = 2
    prm.cp_model_probing_level = 0  # probing costs most of a small budget and barely helps here
    if gap_limit > 0 and not explain:
        prm.relative_gap_limit = gap_limit
    return solver


def add_warm_start(unit_model: UnitModel, picked: list[int], time_budget: float) -> bool:
    """Hint a complete solution: fix the candidates to `picked`, let CP-SAT fill every helper
    variable, and hint all of them. Returns False if `picked` breaks a rule (then only the
    candidates are hinted)."""
    model = unit_model.model
    fixed = model.clone()
    on = set(picked)
    for i, var in enumerate(unit_model.x):
        fixed.add(fixed.get_bool_var_from_proto_index(var.index) == (1 if i in on else 0))
    solver = solver_for(time_budget)
    if solver.solve(fixed) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for i, var in enumerate(unit_model.x):
            model.add_hint(var, i in on)
        return False
    for index in range(len(model.proto.variables)):
        model.add_hint(model.get_int_var_from_proto_index(index),
                       solver.value(fixed.get_int_var_from_proto_index(index)))
    return True


def chosen(unit_model: UnitModel, solver: cp_model.CpSolver) -> list[Candidate]:
    return [c for c, v in zip(unit_model.problem.candidates, unit_model.x) if solver.boolean_value(v)]


def describe_candidate(c: Candidate) -> str:
    return f"{c.kind} {c.item_id} day {c.day} {hhmm(c.start % DAY)}+{c.minutes}"
