"""Why a plan is what it is: conflicting requirements of an infeasible unit, and the score of
each placement against its best alternatives."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from ortools.sat.python import cp_model

from ..domain import Placement, week_monday
from .model import build_model, solver_for
from .problem import DAY, Candidate, UnitProblem, day_label, hhmm

MAX_DELETION_STEPS = 40


def conflicting_requirements(problem: UnitProblem, time_budget: float) -> list[str]:
    """Re-solve without objective under one assumption per requirement; shrink the core that
    CP-SAT returns by deletion so the planner reads only what really conflicts."""
    um = build_model(problem, explain=True)
    by_index = {v.index: key for key, v in um.assumptions.items()}
    solver = solver_for(time_budget, explain=True)
    status = solver.solve(um.model)
    if status != cp_model.INFEASIBLE:
        return [f"no conflict proven within the time budget (solver status {solver.status_name(status)}); "
                "raise policy.time_budget to search longer"]
    core = sorted(by_index[i] for i in solver.sufficient_assumptions_for_infeasibility())
    steps = 0
    for key in list(core):
        if steps >= MAX_DELETION_STEPS or len(core) <= 1:
            break
        trial = [k for k in core if k != key]
        um.model.clear_assumptions()
        um.model.add_assumptions([um.assumptions[k] for k in trial])
        steps += 1
        if solver.solve(um.model) == cp_model.INFEASIBLE:
            core = trial
    return [problem.requirements[k].text for k in core] + _facts(problem, core)


def _facts(problem: UnitProblem, core: list[str]) -> list[str]:
    """Numbers that make a conflict obvious: mandatory airtime against the day's limits."""
    facts = []
    days = sorted({int(k.rsplit(":", 1)[1]) for k in core if k.split(":")[0] in ("cap", "sessions", "session_len")})
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
    availability: float
    listeners: float
    reach: float


def placement_alternatives(problem: UnitProblem, placement: Placement, monday_minute: int,
                           limit: int = 3) -> list[Alternative]:
    """The best other starts of the same item in the week, by reach, for `loa explain`."""
    if placement.kind != "segment":
        return []
    seg = problem.segments.get(placement.item_id)
    if seg is None:
        return []
    own = monday_minute
    w = problem.policy.weights
    options: dict[tuple[int, str], Candidate] = {}
    for c in problem.candidates:
        if c.kind == "segment" and c.item_id == placement.item_id and c.start != own:
            key = (c.day, c.daypart)  # best start per day and daypart, not 12 neighbours
            if key not in options or c.listeners > options[key].listeners:
                options[key] = c
    best = sorted(options.values(), key=lambda c: (-c.listeners, c.start))[:limit]
    return [Alternative(problem.days[c.day].strftime("%a %d/%m"), hhmm(c.start % DAY), round(c.availability, 3),
                        round(c.listeners, 1), round(w.reach * seg.priority * c.listeners, 1)) for c in best]


def score_breakdown(problem: UnitProblem, chosen: list[Candidate]) -> dict[tuple[str, str, int], dict[str, float]]:
    """Each chosen candidate's share of every objective term, named as in policy.toml."""
    w = problem.policy.weights
    scale = problem.scale
    out: dict[tuple[str, str, int], dict[str, float]] = {}
    seen_parts: set[tuple[str, str]] = set()
    seen_topics: set[int] = set()
    days_played: dict[str, set[int]] = defaultdict(set)
    for c in chosen:
        if c.kind == "segment":
            days_played[c.item_id].add(c.day)
    for c in sorted(chosen, key=lambda c: c.start):
        terms: dict[str, float] = {"availability": round(c.availability, 4)}
        if c.kind == "segment":
            seg = problem.segments[c.item_id]
            terms["priority"] = seg.priority
            terms["reach"] = w.reach * seg.priority * c.listeners
            if (c.item_id, c.daypart) not in seen_parts:
                seen_parts.add((c.item_id, c.daypart))
                terms["spread_dayparts"] = w.spread_dayparts * scale
            if c.day - 1 in days_played[c.item_id]:
                terms["spread_days"] = -w.spread_days * scale
            if seg.topic not in seen_topics:
                seen_topics.add(seg.topic)
                terms["variety"] = w.variety * scale
        else:
            relay = problem.relays[(c.item_id, c.day)]
            delay = c.start % DAY - relay.start_min
            if delay > 0:
                terms["delay_min"] = delay
                terms["delay"] = -w.delay * scale * delay
            if not relay.mandatory:
                terms["optional_relay"] = w.optional_relay * c.listeners
        out[(c.kind, c.item_id, c.start)] = terms
    return out


def explain_site(dataset, week: str, site_id: str, alternatives: int = 3) -> dict:
    """Solve the site's unit (units are independent, so this is the site's plan) and report,
    for every placement, its score terms and the best other slots of the same item."""
    from ..errors import DataError, Problem
    from .problem import build_problem, build_units
    from .run import assemble_plan, solve_problem

    site = next((s for s in dataset.sites if s.id == site_id), None)
    if site is None or not site.has_station:
        raise DataError(Problem(str(dataset.root / "sites.csv"), None, "site_id", site_id,
                                "a site id with a station (see `loa sites`)"))
    group = {s.id for s in dataset.sites if site.sync_group and s.sync_group == site.sync_group} | {site_id}
    unit = next(u for u in build_units(dataset, group) if site_id in {s.id for s in u.sites})
    problem = build_problem(dataset, unit, week)
    solution = solve_problem(problem)
    plan = assemble_plan(dataset, week, [solution])
    titles = {(i.kind, i.id): i.title for i in plan.items}
    monday = datetime.combine(week_monday(week), datetime.min.time())
    rows = []
    for p in plan.placements:
        if p.site_id != site_id:
            continue
        minute = int((p.start - monday).total_seconds() // 60)
        rows.append({
            "day": p.start.strftime("%a %d/%m"), "start": p.start.strftime("%H:%M"), "end": p.end.strftime("%H:%M"),
            "kind": p.kind, "id": p.item_id, "title": titles[(p.kind, p.item_id)],
            "listeners": p.listeners, "score": dict(p.score),
            "alternatives": [a.__dict__ for a in placement_alternatives(problem, p, minute, alternatives)],
        })
    return {"site": site.name, "site_id": site_id, "week": week, "status": solution.status,
            "conflicts": list(solution.conflicts), "notes": problem.notes, "placements": rows}
