"""Why a plan is what it is: conflicting requirements of an infeasible unit, and the score of
each placement against its best alternatives."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from . import cpsat, objective
from .model import build_model, solver_for
from .problem import Airing, ReqKey, UnitProblem, day_label, hhmm

MAX_DELETION_STEPS = 40


MAX_CONFLICTS = 7  # one per day is the common case (the same rule broken every day)


def conflicting_requirements(problem: UnitProblem, time_budget: float) -> list[str]:
    """Re-solve without objective under one assumption per requirement; shrink each core that
    CP-SAT returns by deletion so the planner reads only what really conflicts. After a
    conflict is found its requirements are set aside and the search goes on, so every day's
    conflict is reported; conflicts that differ only by their day are merged into one. Empty when
    no conflict is proven within the budget."""
    um = build_model(problem, explain=True)
    by_index = {v.index: key for key, v in um.assumptions.items()}
    solver = solver_for(time_budget, explain=True)
    active = sorted(um.assumptions)
    cores: list[list[str]] = []
    while len(cores) < MAX_CONFLICTS:
        um.model.clear_assumptions()
        um.model.add_assumptions([um.assumptions[k] for k in active])
        status = solver.solve(um.model)
        if status != cpsat.INFEASIBLE:
            if not cores:
                return []  # nothing proven to conflict within the budget
            break
        core = _shrink(um, solver, sorted(by_index[i] for i in solver.sufficient_assumptions_for_infeasibility()))
        cores.append(core)
        active = [k for k in active if k not in core]
    return _describe(problem, cores)


def _shrink(um, solver, core: list[ReqKey]) -> list[ReqKey]:
    """Deletion filter: drop every requirement whose removal keeps the rest infeasible."""
    for step, key in enumerate(list(core)):
        if step >= MAX_DELETION_STEPS or len(core) <= 1:
            break
        trial = [k for k in core if k != key]
        um.model.clear_assumptions()
        um.model.add_assumptions([um.assumptions[k] for k in trial])
        if solver.solve(um.model) == cpsat.INFEASIBLE:
            core = trial
    return core


_DAY_LABEL = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d/\d\d\b")


def _describe(problem: UnitProblem, cores: list[list[ReqKey]]) -> list[str]:
    groups: dict[tuple[str, ...], list[list[str]]] = {}
    for core in cores:
        lines = [problem.requirements[k].text for k in core] + _facts(problem, core)
        shape = tuple(_DAY_LABEL.sub("<day>", line) for line in lines)
        groups.setdefault(shape, []).append(lines)
    out: list[str] = []
    for same in groups.values():
        out.extend(same[0])
        days = [m.group(0) for lines in same[1:] for m in [_DAY_LABEL.search(" ".join(lines))] if m]
        order = [day_label(problem, d) for d in range(7)]
        days.sort(key=lambda label: order.index(label) if label in order else 7)
        if days:
            out.append("(the same conflict on " + ", ".join(days) + ")")
    return out


def _facts(problem: UnitProblem, core: list[ReqKey]) -> list[str]:
    """Numbers that make a conflict obvious: mandatory airtime against the day's limits."""
    facts = []
    days = sorted({k.day for k in core if k.kind in ("cap", "sessions", "session_len")})
    for day in days:
        need = sum(r.duration_min for (rid, d), r in problem.relays.items() if d == day and r.mandatory)
        if need:
            facts.append(f"(mandatory relays need {need} min on {day_label(problem, day)}; "
                         f"daily cap {problem.policy.daily_cap_minutes} min)")
    return facts


@dataclass(frozen=True)
class Alternative:
    day: str
    start: str
    window: str
    availability: float
    listeners: float
    reach: float


def segment_alternatives(problem: UnitProblem, airing: Airing, limit: int = 3) -> list[Alternative]:
    """The best sessions of other days for the same segment (one per day and window), by reach."""
    seg = problem.segments.get(airing.item_id)
    if airing.kind != "segment" or seg is None:
        return []
    w = problem.policy.weights
    best: dict[tuple[int, str], tuple[float, int, object]] = {}
    for opt in problem.options:
        if opt.blocked_by or opt.day not in problem.segment_days[seg.id]:
            continue
        for bin_ in opt.bins:
            if bin_.minutes < seg.duration_min or opt.day == airing.day:  # once a day: other days only
                continue
            key = (opt.day, opt.window)
            if key not in best or bin_.listeners > best[key][0]:
                best[key] = (bin_.listeners, bin_.start, bin_)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [Alternative(day_label(problem, d), hhmm(start), window, round(b.share, 3), round(listeners, 1),
                        round(w.reach * seg.priority * listeners, 1))
            for (d, window), (listeners, start, b) in ranked]


def score_breakdown(problem: UnitProblem, airings: list[Airing]) -> dict[tuple[str, str, int], dict[str, float]]:
    """Each airing's share of every objective term (`objective`), named as in policy.toml.

    `availability` is the share of people able to hear the minutes the item actually airs;
    `reach` is what the model optimised: the audience of the bin the item fills."""
    w = problem.policy.weights
    scale = problem.scale
    out: dict[tuple[str, str, int], dict[str, float]] = {}
    seen_parts: set[tuple[str, str]] = set()
    seen_topics: set[int] = set()
    days_played: dict[str, set[int]] = defaultdict(set)
    for a in airings:
        if a.kind == "segment":
            days_played[a.item_id].add(a.day)
    for a in sorted(airings, key=lambda a: a.week_minute):
        listeners = problem.listeners(a.day, a.start, a.minutes)
        terms: dict[str, float] = {"availability": round(listeners / max(1, problem.unit.population), 4)}
        window = problem.options[a.option].window
        if a.kind == "segment":
            seg = problem.segments[a.item_id]
            terms["priority"] = seg.priority
            terms["reach"] = objective.reach(w, seg.priority, problem.options[a.option].bins[a.bin].listeners)
            if (a.item_id, window) not in seen_parts:
                seen_parts.add((a.item_id, window))
                terms["spread_dayparts"] = objective.spread_dayparts(w, scale)
            if a.day - 1 in days_played[a.item_id]:
                terms["spread_days"] = objective.spread_days(w, scale)
            if seg.topic not in seen_topics:
                seen_topics.add(seg.topic)
                terms["variety"] = objective.variety(w, scale)
            if problem.fill_stays(a.item_id, a.option, a.bin):
                terms["stability"] = objective.stability(w, scale)
        else:
            relay = problem.relays[(a.item_id, a.day)]
            delay = a.start - relay.start_min
            if delay > 0:
                terms["delay_min"] = delay
                terms["delay"] = objective.delay(w, scale, delay)
            if not relay.mandatory:
                terms["optional_relay"] = objective.optional_relay(w, listeners)
            if problem.relay_stays(a.item_id, a.day, a.start):
                terms["stability"] = objective.stability(w, scale)
        out[(a.kind, a.item_id, a.week_minute)] = terms
    return out
