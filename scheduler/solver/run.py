"""Plan a week: split the sites into independent units, solve them in parallel processes,
merge the results in a stable order into a WeekPlan."""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing import get_context
from typing import Callable

from ortools.sat.python import cp_model

from ..audience import availability, availability_steps
from ..domain import (Dataset, PlanItem, PlanSite, Placement, SolveStatus, UnitResult, WeekPlan, week_days,
                      week_monday)
from ..errors import DataError, Problem
from ..policy import site_policy
from ..rules import segment_applies, site_rules
from .explain import conflicting_requirements, score_breakdown
from .model import build_model, solver_for, warm_start
from .problem import Airing, Unit, UnitProblem, build_problem, build_units, lay_out, unit_signature

WARM_START_SHARE = 0.5  # of a unit's time budget, at most, for finding a first schedule (model.warm_start)
GAP_LIMIT = 0.009  # stop a unit once proven within 0.9% of its optimum (target: 1% per district)


@dataclass(frozen=True)
class UnitSolution:
    unit: Unit
    status: SolveStatus
    objective: float
    bound: float
    airings: tuple[Airing, ...]
    conflicts: tuple[str, ...]
    scores: dict


def solve_problem(problem: UnitProblem) -> UnitSolution:
    """Solve one unit; if it is infeasible, find which requirements conflict."""
    um = build_model(problem)
    budget = problem.policy.time_budget
    budget -= warm_start(um, budget * WARM_START_SHARE, GAP_LIMIT)
    solver = solver_for(budget, gap_limit=GAP_LIMIT)
    status = solver.solve(um.model)
    name = SolveStatus(solver.status_name(status))
    if name.planned:
        picked = [o for o, var in enumerate(um.pick) if solver.boolean_value(var)]
        fills: dict[tuple[int, int], list[str]] = {}
        for (seg_id, o, bi), var in sorted(um.fill.items()):
            if solver.boolean_value(var):
                fills.setdefault((o, bi), []).append(seg_id)
        airings = lay_out(problem, picked, fills)
        return UnitSolution(problem.unit, name, solver.objective_value, solver.best_objective_bound,
                            tuple(airings), (), score_breakdown(problem, airings))
    if status == cp_model.INFEASIBLE:
        conflicts = conflicting_requirements(problem, problem.policy.time_budget)
    elif status == cp_model.MODEL_INVALID:  # bounded inputs make this a bug, never a budget matter
        conflicts = ["the solver rejected the model as invalid (MODEL_INVALID): a bug in loa, please report it"]
    else:
        conflicts = [f"no schedule found within the time budget ({problem.policy.time_budget} s deterministic); "
                     "raise policy.time_budget"]
    return UnitSolution(problem.unit, name, 0.0, 0.0, (), tuple(conflicts), {})


_WORKER: dict = {}


def _init_worker(dataset: Dataset, week: str) -> None:
    _WORKER["dataset"], _WORKER["week"] = dataset, week


def _solve_unit_in_worker(unit: Unit) -> UnitSolution:
    return solve_problem(build_problem(_WORKER["dataset"], unit, _WORKER["week"]))


_UNSCALED = ("availability", "priority", "delay_min")


def _for_member(rep: UnitSolution, unit: Unit) -> UnitSolution:
    """The representative's solution for an identical unit: every term scales with population."""
    f = unit.population / max(1, rep.unit.population)
    scores = {key: {k: (v if k in _UNSCALED else v * f) for k, v in terms.items()} for key, terms in rep.scores.items()}
    return UnitSolution(unit, rep.status, rep.objective * f, rep.bound * f, rep.airings, rep.conflicts, scores)


def plan_week(dataset: Dataset, week: str, site_ids: set[str] | None = None, workers: int | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              settings: tuple[tuple[str, str], ...] = ()) -> WeekPlan:
    """Solve every distinct unit of the week once, in parallel, and merge; infeasible units
    keep their conflicts. `progress(done, total, unit id)` is called once per unit."""
    units = build_units(dataset, site_ids)
    if not units:
        raise DataError(Problem(str(dataset.root / "sites.csv"), None, "site_id",
                                ",".join(sorted(site_ids or [])), "at least one site with a station to plan"))
    classes: dict[tuple, list[Unit]] = {}
    for unit in units:
        classes.setdefault(unit_signature(dataset, unit), []).append(unit)
    # biggest first (most segments, then sync groups), so no long solve is left for the end
    reps = sorted((members[0] for members in classes.values()),
                  key=lambda u: (-len(u.sites), -sum(1 for g in dataset.segments
                                                     if all(segment_applies(dataset, s, g) for s in u.sites)), u.id))
    by_rep = {members[0].id: members for members in classes.values()}
    workers = max(1, min(workers or os.cpu_count() or 1, len(reps)))
    solutions: list[UnitSolution] = []

    def collect(rep_solution: UnitSolution) -> None:
        for member in by_rep[rep_solution.unit.id]:
            solutions.append(rep_solution if member is rep_solution.unit else _for_member(rep_solution, member))
            if progress:
                progress(len(solutions), len(units), member.id)

    if workers == 1:
        _init_worker(dataset, week)
        for unit in reps:
            collect(_solve_unit_in_worker(unit))
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_init_worker,
                                 initargs=(dataset, week)) as pool:
            futures = [pool.submit(_solve_unit_in_worker, unit) for unit in reps]
            for fut in as_completed(futures):
                collect(fut.result())
    solutions.sort(key=lambda s: s.unit.id)
    return assemble_plan(dataset, week, solutions, settings)


def plan_sites(dataset: Dataset, week: str, site_ids: set[str]) -> tuple[PlanSite, ...]:
    """Each planned site with the rules it was planned under and its audience, for plan.json."""
    days = week_days(week)
    out = []
    for site in sorted(dataset.sites, key=lambda s: s.id):
        if site.id not in site_ids:
            continue
        district = dataset.district_of(site)
        out.append(PlanSite(
            site.id, site.name, district.id, district.name, site.population, site.languages, site.technology,
            site.kind, rules=site_rules(dataset, site, site_policy(dataset, site), week),
            sync_group=site.sync_group,
            audience=tuple(availability_steps(dataset, site, day) for day in days), district_kind=district.kind))
    return tuple(out)


def plan_items(dataset: Dataset) -> tuple[PlanItem, ...]:
    """Every relay and segment of the dataset, with the facts that judge and export a plan."""
    items = [PlanItem(r.id, "relay", r.title, r.source, r.language, r.duration_s, stream_url=r.stream_url,
                      mandatory=r.mandatory, days=r.days, start_min=r.start_min, mode=r.mode,
                      max_delay_min=r.max_delay_min) for r in dataset.relays]
    makers = {a.id: a for a in (*dataset.areas, *dataset.groups)}
    items += [PlanItem(s.id, "segment", s.title, s.source or dataset.name, s.language, s.duration_s,
                       topic=s.topic, audio=s.audio, priority=s.priority, min_plays=s.min_plays,
                       max_plays=s.max_plays, valid_from=s.valid_from, valid_to=s.valid_to,
                       min_gap_min=s.min_gap_min, sha256=s.sha256, producer_id=s.producer or "",
                       producer_name=makers[s.producer].name if s.producer in makers else "",
                       producer_kind=makers[s.producer].kind if s.producer in makers else "")
              for s in dataset.segments]
    return tuple(sorted(items, key=lambda i: (i.kind, i.id)))


def assemble_plan(dataset: Dataset, week: str, solutions: list[UnitSolution],
                  settings: tuple[tuple[str, str], ...] = ()) -> WeekPlan:
    monday = datetime.combine(week_monday(week), datetime.min.time())
    placements: list[Placement] = []
    units: list[UnitResult] = []
    site_ids: set[str] = set()
    for sol in solutions:
        units.append(UnitResult(sol.unit.id, tuple(s.id for s in sol.unit.sites), sol.unit.district_id,
                                sol.status, round(sol.objective, 3), round(sol.bound, 3), sol.conflicts))
        for site in sol.unit.sites:
            site_ids.add(site.id)
            for a in sol.airings:
                start = monday + timedelta(minutes=a.week_minute)
                curve = availability(dataset, site, start.date())
                share = sum(curve[a.start:a.start + a.minutes]) / a.minutes
                placements.append(Placement(
                    site_id=site.id, kind=a.kind, item_id=a.item_id, start=start,
                    end=start + timedelta(minutes=a.minutes), listeners=round(site.population * share, 3),
                    score=tuple(sorted((k, round(v, 6)) for k, v in sol.scores[(a.kind, a.item_id, a.week_minute)].items()))))
    roots = [a for a in dataset.areas if a.parent_id is None]
    return WeekPlan(week=week, dataset_name=dataset.name, dataset_root=str(dataset.root),
                    sites=plan_sites(dataset, week, site_ids), items=plan_items(dataset),
                    placements=tuple(sorted(placements, key=lambda p: (p.site_id, p.start, p.kind, p.item_id))),
                    units=tuple(units), settings=settings, dataset_fingerprint=dataset.fingerprint,
                    province=roots[0].name if len(roots) == 1 else dataset.name,
                    province_id=roots[0].id if len(roots) == 1 else "",
                    province_kind=roots[0].kind if len(roots) == 1 else "")


def plan_digest(plan: WeekPlan) -> str:
    """A short fingerprint of the placements, for logs and determinism checks."""
    h = hashlib.sha256()
    for p in plan.placements:
        h.update(f"{p.site_id}|{p.kind}|{p.item_id}|{p.start.isoformat()}\n".encode())
    return h.hexdigest()[:12]
