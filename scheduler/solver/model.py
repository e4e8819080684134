"""The CP-SAT model of one unit, built in one place, one function per rule.

Decisions: which session option airs in each window of each day (`pick`), and which segment
fills which bin of it (`fill`). Relays ride on the options, so "a mandatory relay airs" is
"exactly one picked option carries it". Bins are filled back to back against their relay,
so a picked option is one run of airtime no longer than the session limit; an assignment
with knapsack bins has a tight LP, which is what lets CP-SAT prove small gaps quickly.

In explain mode every requirement is guarded by an assumption literal and the objective is
dropped, so an infeasible unit yields the requirements that cannot hold together.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from ortools.util.python.sorted_interval_list import Domain

from . import cpsat, objective
from ..rules import relay_matches
from .problem import DAY, ReqKey, UnitProblem, day_label, relay_requirement_text, segment_requirement_text

SEED = 20240101
_BOOL = Domain(0, 1)


def _sum(variables) -> cpsat.LinearExpr:
    return cpsat.LinearExpr.sum(list(variables))


def _weighted(variables, coefficients) -> cpsat.LinearExpr:
    return cpsat.LinearExpr.weighted_sum(list(variables), list(coefficients))


@dataclass
class UnitModel:
    problem: UnitProblem
    model: cpsat.CpModel
    pick: list[cpsat.IntVar]  # one per problem.options entry
    fill: dict[tuple[str, int, int], cpsat.IntVar]  # (segment, option index, bin index)
    assumptions: dict[ReqKey, cpsat.IntVar] = field(default_factory=dict)
    derived: list[tuple[cpsat.IntVar, str, tuple]] = field(default_factory=list)  # `_Builder.derive`
    stays: frozenset[tuple[str, int, int]] = frozenset()  # a re-plan's fills that keep a previous play


class _Builder:
    def __init__(self, problem: UnitProblem, explain: bool):
        self.p = problem
        self.m = cpsat.CpModel()
        self.proto = self.m.proto
        self.explain = explain
        self.assumptions: dict[ReqKey, cpsat.IntVar] = {}
        self.derived: list[tuple[cpsat.IntVar, str, tuple]] = []
        self.stays: set[tuple[str, int, int]] = set()
        self.terms: dict[str, list[tuple[object, int]]] = defaultdict(list)
        self.pick = [self.bool_var(f"pick{i}") for i in range(len(problem.options))]
        self.fill: dict[tuple[str, int, int], cpsat.IntVar] = {}
        lead = problem.pinned.lead if problem.pinned else ""
        open_options = [(o, opt) for o, opt in enumerate(problem.options) if not opt.blocked_by]
        for seg_id, seg in sorted(problem.segments.items()):
            days = set(problem.segment_days[seg_id])
            kept, gap, dur = problem.plays_kept.get(seg_id, ()), problem.min_gap(seg), seg.duration_min
            for o, opt in open_options:
                if opt.day not in days or (seg_id == lead and opt.continues):
                    continue  # a priority bulletin opens a new session (`add_priority_lead`)
                for b, bin_ in enumerate(opt.bins):
                    if dur > bin_.end - bin_.start:
                        continue
                    first, last = opt.day * DAY + bin_.start, opt.day * DAY + bin_.end - dur
                    if not kept or all(first - k >= gap or k - last >= gap for k in kept):
                        self.fill[(seg_id, o, b)] = self.bool_var(f"fill:{seg_id}:{o}:{b}")
        # plays[(segment, day, window)]: the segment airs in that window that day
        self.plays: dict[tuple[str, int, str], list] = defaultdict(list)
        self.daily_fills: dict[tuple[str, int], list] = defaultdict(list)
        self._played: dict[tuple[str, int], object] = {}
        # the fills of each segment and of each day, indexed once: the rules ask for them per
        # segment and per day (scanning every fill each time was a quarter of building the model)
        self.fills_of: dict[str, list[tuple[int, int, cpsat.IntVar]]] = defaultdict(list)
        self.fills_on: dict[int, list[tuple[str, cpsat.IntVar]]] = defaultdict(list)
        for (seg_id, o, b), var in self.fill.items():
            opt = problem.options[o]
            self.plays[(seg_id, opt.day, opt.window)].append(var)
            self.daily_fills[(seg_id, opt.day)].append(var)
            self.fills_of[seg_id].append((o, b, var))
            self.fills_on[opt.day].append((seg_id, var))

    def bool_var(self, name: str) -> cpsat.IntVar:
        """`CpModel.new_bool_var` with one shared domain: a unit has thousands of fills, and
        building a Domain for each was a tenth of building the model."""
        return cpsat.IntVar(self.proto).with_name(name).with_domain(_BOOL)

    def derive(self, name: str, op: str, *groups) -> cpsat.IntVar:
        """A Boolean the rules define from others: "sum" (of every group's variables), "any" (1 if
        some variable is 1) or "all" (1 if every group has a variable at 1). Recorded, in the order
        made, so that a schedule's picks and fills give every variable's value (`set_hint`)."""
        var = self.bool_var(name)
        self.derived.append((var, op, groups))
        return var

    def guard(self, ct: cpsat.Constraint, key: ReqKey | None) -> None:
        """Enforce a constraint only under its requirement's assumption literal (explain mode)."""
        if self.explain and key is not None:
            if key not in self.assumptions:
                self.assumptions[key] = self.bool_var(f"req:{key}")
            ct.only_enforce_if(self.assumptions[key])

    def played(self, seg_id: str, day: int):
        """1 if the segment airs that day (plays are once a day), as a linear expression (built
        once: several rules and terms ask for it)."""
        key = (seg_id, day)
        if key not in self._played:
            self._played[key] = _sum(self.daily_fills.get(key, []))
        return self._played[key]


def add_windows(b: _Builder) -> None:
    """Hard: nothing airs outside the windows, in quiet hours or in a blackout.

    Options only exist at allowed times; a mandatory live relay whose fixed time is forbidden
    keeps an option that the forbidding rule switches off, so explanations can name the rule."""
    for o, opt in enumerate(b.p.options):
        for key in opt.blocked_by:
            b.guard(b.m.add(b.pick[o] == 0), key)


def add_session_spacing(b: _Builder) -> None:
    """Hard: sessions never overlap and lie at least `session_gap_minutes` apart, so each picked
    option is a session of its own within the length limit; a window may hold several.

    Two options clash when their spans, stretched by the gap, overlap (`sessions_clash`). Such
    stretched spans form an interval graph, whose cliques are the options covering one point:
    one at-most-one per option start (the maximal ones only) forbids every clash, and is the
    tightest linear form of it."""
    gap = b.p.policy.session_gap_minutes
    by_day: dict[int, list[int]] = defaultdict(list)
    for o, opt in enumerate(b.p.options):
        by_day[opt.day].append(o)
    for day, idx in sorted(by_day.items()):
        key = ReqKey("session_len", day=day) if ReqKey("session_len", day=day) in b.p.requirements else None
        cliques: list[frozenset[int]] = []
        pending = sorted(idx, key=lambda o: b.p.options[o].start)
        active: list[int] = []
        for point in sorted({b.p.options[o].start for o in idx}):  # sweep: options covering the point
            while pending and b.p.options[pending[0]].start <= point:
                active.append(pending.pop(0))
            active = [o for o in active if point < b.p.options[o].end + gap]
            clique = frozenset(active)
            if len(clique) > 1 and not (cliques and clique <= cliques[-1]):
                if cliques and cliques[-1] <= clique:
                    cliques[-1] = clique
                else:
                    cliques.append(clique)
        for clique in cliques:
            b.guard(b.m.add_at_most_one(b.pick[o] for o in sorted(clique)), key)


def add_mandatory_relays(b: _Builder) -> None:
    """Hard: every mandatory relay airs in full once on each broadcast day it applies to;
    a non-mandatory one at most once."""
    for (relay_id, day), relay in sorted(b.p.relays.items()):
        idx = b.p.relay_carriers.get((relay_id, day), [])
        if not relay.mandatory:
            if idx:
                b.m.add_at_most_one(b.pick[o] for o in idx)
            continue
        key = b.p.require(ReqKey("relay", relay_id, day), "add_mandatory_relays",
                          relay_requirement_text(b.p, relay, day))
        if idx:
            b.guard(b.m.add(_sum([b.pick[o] for o in idx]) == 1), key)
        else:  # no session can carry it at all
            b.guard(b.m.add_bool_or([]), key)


def add_relay_minimums(b: _Builder) -> None:
    """Hard: a relay (or every relay of a source) with a weekly minimum airs at least that often."""
    for key, need in sorted(b.p.relay_minimums.items()):
        req = b.p.require(ReqKey("coverage", key), "add_relay_minimums",
                          f"relays \"{key}\" air at least {need} time(s) this week")
        idx = b.p.minimum_carriers(key)
        b.guard(b.m.add(_sum([b.pick[o] for o in idx]) >= need) if idx else b.m.add_bool_or([]), req)


def add_bins(b: _Builder) -> None:
    """Hard: items in a bin fit its free minutes (so nothing overlaps and the session stays
    within its limit), and only picked sessions are filled."""
    by_bin: dict[tuple[int, int], list[tuple[str, cpsat.IntVar]]] = defaultdict(list)
    for (seg_id, o, bi), var in b.fill.items():
        by_bin[(o, bi)].append((seg_id, var))
    # the knapsack alone ties fills to their session (capacity 0 when not picked); separate
    # "fill implies pick" clauses were measured to slow the proofs by a third
    for (o, bi), items in sorted(by_bin.items()):
        cap = b.p.options[o].bins[bi].minutes
        b.m.add(_weighted([v for _s, v in items], [b.p.segments[s].duration_min for s, _v in items]) <= cap * b.pick[o])


def add_weekly_plays(b: _Builder) -> None:
    """Hard: each segment airs min..max times a week, at most once a day, min_gap apart."""
    for seg_id, seg in sorted(b.p.segments.items()):
        key = b.p.require(ReqKey("plays", seg_id), "add_weekly_plays", segment_requirement_text(b.p, seg))
        daily = [b.played(seg_id, d) for d in range(7) if not isinstance(b.played(seg_id, d), int)]
        for expr in daily:
            b.m.add(expr <= 1)
        need = b.p.min_plays(seg)
        if not daily:
            if need:  # no bin anywhere can take it
                b.guard(b.m.add_bool_or([]), key)
            continue
        if need:
            b.guard(b.m.add(sum(daily) >= need), key)
        b.m.add(sum(daily) <= b.p.max_plays(seg))
        _add_min_gap(b, seg_id, b.p.min_gap(seg), key)


def _add_min_gap(b: _Builder, seg_id: str, gap: int, key: ReqKey) -> None:
    """Two plays closer than `gap` never both happen. A play in a bin starts somewhere in
    [bin start, bin end - duration]; plays are once a day, so "a play of day d starting after
    t" is a suffix of that day's bins sorted by latest start, chained into one Boolean each."""
    dur = b.p.segments[seg_id].duration_min
    per_day: dict[int, list[tuple[int, int, object]]] = defaultdict(list)  # (earliest, latest, var)
    for o, bi, var in b.fills_of.get(seg_id, ()):
        opt, bin_ = b.p.options[o], b.p.options[o].bins[bi]
        per_day[opt.day].append((opt.day * DAY + bin_.start, opt.day * DAY + bin_.end - dur, var))
    days = sorted(per_day)
    ordered = {d: sorted(per_day[d], key=lambda t: t[1]) for d in days}
    needs: list[tuple[object, int, int]] = []  # (play, earlier day, first conflicting index)
    for i, d1 in enumerate(days):
        latest = [t[1] for t in ordered[d1]]
        for d2 in days[i + 1:]:
            if (d2 - d1 - 1) * DAY >= gap:
                break
            for earliest, _latest, var in per_day[d2]:
                k = bisect_right(latest, earliest - gap)
                if k < len(latest):
                    needs.append((var, d1, k))
    later: dict[tuple[int, int], object] = {}
    for d1 in days:  # suffix Booleans, built only as far back as some play needs them
        ks = [k for _v, d, k in needs if d == d1]
        if not ks:
            continue
        items = ordered[d1]
        later[(d1, len(items) - 1)] = items[-1][2]
        for i in range(len(items) - 2, min(ks) - 1, -1):
            v = b.derive(f"after:{seg_id}:{d1}:{i}", "sum", (items[i][2], later[(d1, i + 1)]))
            b.m.add(v == items[i][2] + later[(d1, i + 1)])
            later[(d1, i)] = v
    for var, d1, k in needs:
        b.guard(b.m.add(var + later[(d1, k)] <= 1), key)


def add_priority_lead(b: _Builder) -> None:
    """Hard, for a priority bulletin (Circular 39 "ưu tiên"): it airs in the first session that
    starts after the cut-off and can take it, ahead of that session's other items (no PAR item in
    an earlier stretch of it; first in its own: `lay_out`), and no PAR item airs before it in a
    session that starts after the cut-off. A session it cannot go in (a live relay filling it)
    does not count, nor does the rest of a session on air at the cut-off; its other plays
    (--repeat) go wherever the rules allow. "The first such session carries it" is a chain of
    Booleans over the options in time order."""
    lead = b.p.pinned.lead if b.p.pinned else ""
    if lead not in b.p.segments:
        return
    key = b.p.require(ReqKey("lead", lead), "add_priority_lead",
                      f"priority bulletin \"{b.p.segments[lead].title}\" opens the next session")
    order = sorted((o for o, opt in enumerate(b.p.options) if not opt.blocked_by and not opt.continues),
                   key=lambda o: (b.p.options[o].day, b.p.options[o].start, o))
    at: dict[int, list] = defaultdict(list)
    in_option: dict[int, list] = defaultdict(list)  # o -> (bin, segment, var)
    for (seg_id, o, bi), var in b.fill.items():
        in_option[o].append((bi, seg_id, var))
    for (seg_id, o, bi), var in b.fill.items():
        if seg_id == lead:
            at[o].append(var)
            for bj, other, v in in_option[o]:  # bins are in time order within an option
                if bj < bi and other != lead:
                    b.guard(b.m.add(var + v <= 1), key)
    earlier = None  # 1 when a session before this one could take the bulletin or carries a PAR item
    for o in order:
        if at[o]:  # it can go here: if this is the first such session picked, it does
            counts = b.pick[o]
            b.guard(b.m.add(_sum(at[o]) >= b.pick[o] - (earlier if earlier is not None else 0)), key)
        elif in_option[o]:  # it cannot: PAR items only after it has aired
            fills = [v for _bi, _s, v in in_option[o]]
            counts = b.derive(f"carries:{o}", "any", fills)
            b.m.add_max_equality(counts, fills)
            b.guard(b.m.add(counts <= (earlier if earlier is not None else 0)), key)
        else:
            continue
        if earlier is None:
            earlier = counts
            continue
        z = b.derive(f"earlier:{o}", "any", (counts, earlier))
        b.m.add_max_equality(z, [counts, earlier])
        earlier = z
    leads = [v for o in order for v in at[o]]
    b.guard(b.m.add(_sum(leads) >= 1) if leads else b.m.add_bool_or([]), key)


def add_session_limits(b: _Builder) -> None:
    """Hard: per day at most N sessions and at most the daily cap of airtime.

    Each option knows how many sessions it can form at most (relays far apart, bins that
    touch no relay), so the daily count is a plain sum over picked options."""
    pol = b.p.policy
    for day in b.p.broadcast_days:
        idx = [o for o, opt in enumerate(b.p.options) if opt.day == day]
        if not idx:
            continue
        kept_sessions, kept_minutes = b.p.used.get(day, (0, 0))  # a re-plan's kept airings that day
        sessions_key = b.p.require(ReqKey("sessions", day=day), "add_session_limits",
                                   f"at most {pol.max_sessions_per_day} session(s) on {day_label(b.p, day)}")
        cap_key = b.p.require(ReqKey("cap", day=day), "add_session_limits",
                              f"at most {pol.daily_cap_minutes} min of airtime on {day_label(b.p, day)}")
        b.guard(b.m.add(_weighted([b.pick[o] for o in idx], [b.p.options[o].sessions for o in idx])
                        <= pol.max_sessions_per_day - kept_sessions),
                sessions_key)
        fills = [(v, b.p.segments[s].duration_min) for s, v in b.fills_on.get(day, ())]
        airtime = _weighted([b.pick[o] for o in idx] + [v for v, _ in fills],
                            [sum(r.minutes for r in b.p.options[o].relays) for o in idx] + [n for _, n in fills])
        b.guard(b.m.add(airtime <= pol.daily_cap_minutes - kept_minutes), cap_key)


def add_objective(b: _Builder) -> None:
    """Soft: the terms of `objective` (reach of PAR x priority, spread over days and dayparts,
    topic variety, relay delay, optional relays), rounded to integers."""
    p = b.p
    w = p.policy.weights
    scale = p.scale
    for (seg_id, o, bi), var in b.fill.items():
        listeners = p.options[o].bins[bi].listeners
        b.terms["reach"].append((var, round(objective.reach(w, p.segments[seg_id].priority, listeners))))
    for o, opt in enumerate(p.options):
        for r in opt.relays:
            if not p.relays[(r.relay_id, opt.day)].mandatory:
                listeners = p.listeners(opt.day, r.start, r.minutes)
                b.terms["optional_relay"].append((b.pick[o], round(objective.optional_relay(w, listeners))))
            if r.delay:
                b.terms["delay"].append((b.pick[o], round(objective.delay(w, scale, r.delay))))
    windows = sorted({opt.window for opt in p.options if opt.window})
    for seg_id in sorted(p.segments):
        reached = []
        for window in windows:
            plays = [v for d in range(7) for v in b.plays.get((seg_id, d, window), [])]
            if plays:
                u = b.derive(f"part:{seg_id}:{window}", "any", plays)
                b.m.add(u <= _sum(plays))
                reached.append(u)
                b.terms["spread_dayparts"].append((u, round(objective.spread_dayparts(w, scale))))
        if reached:  # redundant, for the LP: no more dayparts than plays
            b.m.add(sum(reached) <= sum(b.played(seg_id, d) for d in range(7)))
        for d in range(6):
            today, tomorrow = b.played(seg_id, d), b.played(seg_id, d + 1)
            if not isinstance(today, int) and not isinstance(tomorrow, int):
                z = b.derive(f"next:{seg_id}:{d}", "all", b.daily_fills[(seg_id, d)],
                             b.daily_fills[(seg_id, d + 1)])
                b.m.add(z >= today + tomorrow - 1)
                b.terms["spread_days"].append((z, round(objective.spread_days(w, scale))))
    if p.pinned is not None and p.pinned.previous:  # a re-plan: what stays where it was earns its keep
        keep = round(objective.stability(w, scale))
        for key, var in b.fill.items():
            if p.fill_stays(*key):
                b.stays.add(key)
                b.terms["stability"].append((var, keep))
        for o, opt in enumerate(p.options):
            for r in opt.relays:
                if p.relay_stays(r.relay_id, opt.day, r.start):
                    b.terms["stability"].append((b.pick[o], keep))
    topics: dict[int, list] = defaultdict(list)
    for (seg_id, o, _bi), var in b.fill.items():
        topics[p.segments[seg_id].topic].append(var)
    for topic, vars_ in sorted(topics.items()):
        v = b.derive(f"topic:{topic}", "any", vars_)
        b.m.add(v <= _sum(vars_))
        b.terms["variety"].append((v, round(objective.variety(w, scale))))
    _maximize(b.m, (pair for items in b.terms.values() for pair in items))


def _maximize(model: cpsat.CpModel, terms) -> None:
    """`model.maximize(sum of coef x var)`, written into the proto as CP-SAT writes it (one
    coefficient per variable, by index, negated with a -1 scaling): the wrapper appends the
    thousands of terms one at a time in Python, which was a sixth of building the model."""
    coefs: dict[int, int] = defaultdict(int)
    for var, coef in terms:
        coefs[var.index] += coef
    index = sorted(i for i, c in coefs.items() if c)
    model.clear_objective()
    objective = model.proto.objective
    objective.vars.extend(index)
    objective.coeffs.extend(-coefs[i] for i in index)
    objective.scaling_factor = -1.0


RULES = (add_windows, add_session_spacing, add_mandatory_relays, add_relay_minimums, add_bins, add_weekly_plays,
         add_priority_lead, add_session_limits)


def build_model(problem: UnitProblem, explain: bool = False) -> UnitModel:
    """The whole model of one unit; in explain mode with assumptions and no objective."""
    b = _Builder(problem, explain)
    for rule in RULES:
        rule(b)
    if explain:
        b.m.add_assumptions([b.assumptions[k] for k in sorted(b.assumptions)])
    else:
        add_objective(b)
    return UnitModel(problem, b.m, b.pick, b.fill, dict(b.assumptions), b.derived, frozenset(b.stays))


def set_hint(um: UnitModel, picked: Iterable[int], fills: Iterable[tuple[str, int, int]]) -> None:
    """Hint one whole schedule: the picked options and fills, and every variable the rules
    derive from them. CP-SAT takes a complete, feasible hint as its first solution; a partial one
    sends it searching for a completion, which on these models cost more than no hint."""
    values = [0] * len(um.model.proto.variables)
    for o in picked:
        values[um.pick[o].index] = 1
    for key in fills:
        values[um.fill[key].index] = 1
    for var, op, groups in um.derived:  # in the order made: a derived variable may use earlier ones
        sums = [sum(values[v.index] for v in group) for group in groups]
        values[var.index] = sum(sums) if op == "sum" else int(any(sums)) if op == "any" else int(all(sums))
    hint = um.model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _minimum_relay_carriers(um: UnitModel) -> dict[tuple[str, int], list[int]]:
    """(relay id, day) of every relay with a weekly minimum -> the options carrying it."""
    p = um.problem
    return {rd: options for rd, options in p.relay_carriers.items() if not p.relays[rd].mandatory
            and any(relay_matches(k, p.relays[rd].id, p.relays[rd].source) for k in p.relay_minimums)}


def _with_relay_days(um: UnitModel, carriers: dict[tuple[str, int], list[int]],
                     chosen: set[tuple[str, int]]) -> cpsat.CpModel:
    """A copy of the model in which the minimum relays air on the chosen relay-days, and on any
    other day where that pays (measured on the bundled week: forbidding the other days cost 0.13%
    of the objective at the same gap, and 30% more time to reach a 0.5% gap)."""
    fixed = um.model.clone()
    for relay_day, options in sorted(carriers.items()):
        if relay_day in chosen:
            fixed.add(_sum(um.pick[o] for o in options) == 1)
    return fixed


def warm_start(um: UnitModel, time_budget: float, gap_limit: float) -> float:
    """Hint the model with a good schedule found fast, so the search starts near the optimum.

    Weekly relay minimums make CP-SAT hunt long for a first good schedule (which evenings carry
    VTV1?) although its LP bound is tight at once. So the minimum relays' days are chosen first,
    the model with those relay-days required is optimised (as easy as a week without minimums), and
    its schedule hints the full model, which stays free to choose other days. The days are the
    planner's choice (`UnitProblem.minimum_relay_days`: best listened, spread over the week) or,
    when those cannot all hold, the days a solve of the rules alone (no objective) finds.
    Returns the deterministic time used."""
    carriers = _minimum_relay_carriers(um)
    if not carriers:
        return 0.0
    used = 0.0
    candidates = [um.problem.minimum_relay_days(), None]
    for chosen in candidates:
        if chosen is None:  # the rules alone: any schedule, for days that hold together
            rules_only = um.model.clone()
            rules_only.clear_objective()
            first = solver_for(max(0.0, time_budget - used) / 2)
            found = first.solve(rules_only) in (cpsat.OPTIMAL, cpsat.FEASIBLE)
            used += first.deterministic_time
            if not found:
                return used
            chosen = {rd for rd, options in carriers.items() if any(first.value(um.pick[o]) for o in options)}
        solver = solver_for(max(0.0, time_budget - used), gap_limit=gap_limit)
        status = solver.solve(_with_relay_days(um, carriers, chosen))
        used += solver.deterministic_time
        if status in (cpsat.OPTIMAL, cpsat.FEASIBLE):
            # every variable's value, written into the hint at once (the copy has the same
            # variables); hinting them one at a time cost a tenth of the warm start
            hint = um.model.proto.solution_hint
            hint.vars.extend(range(len(um.model.proto.variables)))
            hint.values.extend(solver.response_proto.solution)
            return used
    return used


def solver_for(time_budget: float, explain: bool = False, gap_limit: float = 0.0,
               presolve_iterations: int = 1) -> cpsat.CpSolver:
    """One worker, fixed seed, deterministic budget: the same input gives the same plan."""
    solver = cpsat.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = SEED
    prm.max_deterministic_time = time_budget
    prm.linearization_level = 2  # the LP of the bins is what proves small gaps
    prm.cp_model_probing_level = 0  # measured: probing took half the budget and did not help
    # measured: one presolve pass instead of the default loop, 16% less CPU on both bundled weeks
    # (2024-W10: 72.9 -> 60.9 s for 143 units; 2025-W48: 48.9 -> 41.4 s), same objective within 0.02%
    prm.max_presolve_iterations = presolve_iterations
    prm.symmetry_level = 0
    prm.add_lp_constraints_lazily = False  # measured: the full LP up front halves time to proof
    if gap_limit > 0 and not explain:
        prm.relative_gap_limit = gap_limit
    if not explain:
        # branch on the LP's reduced costs: the bins' LP is tight, so it points at good fills.
        # Measured on the 143 distinct units of the bundled week at a 0.5% gap: 39 s of
        # deterministic time instead of 76 (CPU 1.8x less, paired), same worst gap
        prm.search_branching = cpsat.LP_SEARCH
    return solver
