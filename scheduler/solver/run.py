"""Plan a week: split the sites into independent units, solve each distinct one once (or take
it from the solution cache) on an executor, and merge the results in a stable order.

Executors: `local` (default) is a process pool on this machine; `dask` sends the units to a
`dask.distributed` cluster. Units are submitted a few at a time and each worker builds, solves
and drops its unit's model, so memory does not grow with the number of models. Every unit is
solved deterministically (one CP-SAT worker, fixed seed, deterministic budget), so the plan is
byte-identical whatever the executor, the number of workers or the cache.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from itertools import chain
from datetime import datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import cpsat
from ..audience import availability, availability_steps
from ..domain import (Dataset, Freeze, PlanItem, PlanSite, Placement, SolveStatus, UnitResult, WeekPlan, week_days,
                      week_monday)
from ..errors import DataError, LoaError, Problem
from ..fsutil import signals_held
from ..policy import site_policy
from ..rules import segment_applies, site_rules
from .cache import SolutionCache, input_key, problem_digest, unit_inputs
from .explain import conflicting_requirements, score_breakdown
from .model import SEED, build_model, solver_for, warm_start
from .problem import Airing, Pinned, Unit, UnitProblem, build_problem, build_units, lay_out, unit_signature
from .repair import hint_previous

WARM_START_SHARE = 0.5  # of a unit's time budget, at most, for finding a first schedule (model.warm_start)
GAP_LIMIT = 0.009  # stop a unit once proven within 0.9% of its optimum; OPTIMAL only when proven
EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class UnitSolution:
    unit: Unit
    status: SolveStatus
    objective: float
    bound: float
    airings: tuple[Airing, ...]
    conflicts: tuple[str, ...]
    scores: dict
    digest: str = ""  # the unit's problem digest (the cache key)
    cached: bool = False  # taken from the solution cache, not solved in this run
    # CPU seconds per phase in the worker, and CP-SAT's deterministic time, for `make bench`
    timings: tuple[tuple[str, float], ...] = ()


def _status(solver: cpsat.CpSolver, status) -> SolveStatus:
    """CP-SAT says OPTIMAL when it stops at the gap limit; we say so only when the bound is met."""
    name = SolveStatus(solver.status_name(status))
    if name is SolveStatus.OPTIMAL and solver.best_objective_bound - solver.objective_value >= 1:
        return SolveStatus.FEASIBLE  # proven within GAP_LIMIT of the optimum, not proven optimal
    return name


def solve_problem(problem: UnitProblem) -> UnitSolution:
    """Solve one unit; if it is infeasible, find which requirements conflict."""
    t0 = time.process_time()
    um = build_model(problem)
    budget = problem.policy.time_budget
    # a plan starts from a warm start; a re-plan from its previous schedule, repaired, or else
    # cold (the warm start cost a re-plan 1.2-1.8x the CPU of no hint: RESULTS.md, "Seventh session")
    hinted = False
    if not (problem.pinned and problem.pinned.previous):
        budget -= warm_start(um, budget * WARM_START_SHARE, GAP_LIMIT)
    else:
        hinted = hint_previous(um)
    # from a complete hint, CP-SAT mostly proves the bound: presolve's loop costs more than it
    # saves there (143 re-plan units: 11.4 -> 8.8 s of CPU), while from the warm start it pays
    solver = solver_for(budget, gap_limit=GAP_LIMIT, presolve_iterations=0 if hinted else 1)
    t1 = time.process_time()
    status = solver.solve(um.model)
    t2 = time.process_time()
    name = _status(solver, status)
    timings = (("model", t1 - t0), ("solve", t2 - t1), ("deterministic", solver.deterministic_time))
    if name.planned:
        picked = [o for o, var in enumerate(um.pick) if solver.boolean_value(var)]
        fills: dict[tuple[int, int], list[str]] = {}
        for (seg_id, o, bi), var in sorted(um.fill.items()):
            if solver.boolean_value(var):
                fills.setdefault((o, bi), []).append(seg_id)
        airings = lay_out(problem, picked, fills)
        return UnitSolution(problem.unit, name, solver.objective_value, solver.best_objective_bound,
                            tuple(airings), (), score_breakdown(problem, airings), timings=timings)
    conflicts: list[str] = []
    if status in (cpsat.INFEASIBLE, cpsat.UNKNOWN):
        # no schedule: find which requirements conflict (without the objective that can keep the
        # search from proving it within the budget, a conflict is often proven quickly)
        conflicts = conflicting_requirements(problem, problem.policy.time_budget)
        if conflicts:
            name = SolveStatus.INFEASIBLE
    if status == cpsat.MODEL_INVALID:  # bounded inputs make this a bug, never a budget matter
        conflicts = ["the solver rejected the model as invalid (MODEL_INVALID): a bug in loa, please report it"]
    elif not conflicts:
        conflicts = ([f"no conflict proven within the time budget ({problem.policy.time_budget} s deterministic); "
                      "raise policy.time_budget to search longer"] if status == cpsat.INFEASIBLE else
                     [f"no schedule found within the time budget ({problem.policy.time_budget} s deterministic); "
                      "raise policy.time_budget"])
    return UnitSolution(problem.unit, name, 0.0, 0.0, (), tuple(conflicts), {},
                        timings=timings + (("explain", time.process_time() - t2),))


def _to_cache(sol: UnitSolution) -> dict:
    return {"status": str(sol.status), "objective": sol.objective, "bound": sol.bound,
            "airings": [[a.kind, a.item_id, a.day, a.start, a.minutes, a.option, a.bin] for a in sol.airings],
            "conflicts": list(sol.conflicts),
            "scores": [[k, i, m, terms] for (k, i, m), terms in sol.scores.items()]}


def _from_cache(unit: Unit, digest: str, data: dict) -> UnitSolution | None:
    try:
        return UnitSolution(unit, SolveStatus(data["status"]), float(data["objective"]), float(data["bound"]),
                            tuple(Airing(*a) for a in data["airings"]), tuple(data["conflicts"]),
                            {(k, i, m): dict(terms) for k, i, m, terms in data["scores"]}, digest, cached=True)
    except (KeyError, TypeError, ValueError):
        return None  # a malformed entry is a miss


def solve_unit(dataset: Dataset, week: str, unit: Unit, cache_dir: str | None = None,
               pinned: Pinned | None = None) -> UnitSolution:
    """Build one unit's problem (of a re-plan's free span, with `pinned`), take its solution from
    the cache if its digest is there, else solve it (and store it). Runs in a worker process,
    local or on a Dask worker."""
    t0 = time.process_time()
    problem = build_problem(dataset, unit, week, pinned)
    digest = problem_digest(problem, GAP_LIMIT, SEED)
    built = ("problem", time.process_time() - t0)
    cache = SolutionCache(Path(cache_dir)) if cache_dir else None
    data = cache.get(digest) if cache else None
    if data is not None:
        hit = _from_cache(unit, digest, data)
        if hit is not None:
            return replace(hit, timings=(built, ("cache", time.process_time() - t0 - built[1])))
    sol = solve_problem(problem)
    if cache is not None and sol.status is not SolveStatus.UNKNOWN:
        cache.put(digest, _to_cache(sol))
    return replace(sol, digest=digest, timings=(built,) + sol.timings)


def _input_key(dataset: Dataset, week: str, unit: Unit) -> str:
    return input_key(dataset.fingerprint, dataset.policy, week, unit.id, tuple(s.id for s in unit.sites),
                     GAP_LIMIT, SEED)


def _known(cache: SolutionCache | None, key: str | None, unit: Unit) -> UnitSolution | None:
    """The cached solution of a unit whose inputs are unchanged, found through the index."""
    digest = cache.digest_for(key) if cache is not None and key else None
    data = cache.get(digest) if digest else None
    return _from_cache(unit, digest, data) if data is not None else None


def _remembered(cache: SolutionCache | None, keys: dict[str, str], stream: Iterator[UnitSolution]):
    """Pass solutions on, noting in the cache's index which problem each unit's inputs gave, and
    keeping a copy of solutions a worker on another machine stored on its own disk."""
    for sol in stream:
        if cache is not None and sol.digest:
            if sol.status is not SolveStatus.UNKNOWN and not cache.path(sol.digest).exists():
                cache.put(sol.digest, _to_cache(sol))
            if sol.unit.id in keys:
                cache.remember(keys[sol.unit.id], sol.digest)
        yield sol


_WORKER: dict = {}


def _init_worker(dataset: Dataset, week: str, cache_dir: str | None) -> None:
    _WORKER.update(dataset=dataset, week=week, cache_dir=cache_dir)


def _solve_unit_in_worker(unit: Unit, pinned: Pinned | None) -> UnitSolution:
    return solve_unit(_WORKER["dataset"], _WORKER["week"], unit, _WORKER["cache_dir"], pinned)


_UNSCALED = ("availability", "priority", "delay_min")


def _for_member(rep: UnitSolution, unit: Unit) -> UnitSolution:
    """The representative's solution for an identical unit: every term scales with population."""
    f = unit.population / max(1, rep.unit.population)
    scores = {key: {k: (v if k in _UNSCALED else v * f) for k, v in terms.items()} for key, terms in rep.scores.items()}
    return UnitSolution(unit, rep.status, rep.objective * f, rep.bound * f, rep.airings, rep.conflicts, scores,
                        rep.digest, rep.cached)


def _local(dataset: Dataset, week: str, reps: list[Unit], workers: int, cache_dir: str | None,
           pinned: dict[str, Pinned]) -> Iterator[UnitSolution]:
    """Solve on a process pool of this machine, a few units per worker in flight at a time, so
    the main process never holds more than those pending; yield solutions as they finish."""
    if workers == 1:
        for unit in reps:
            yield solve_unit(dataset, week, unit, cache_dir, pinned.get(unit.id))
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_init_worker,
                             initargs=(dataset, week, cache_dir)) as pool:
        todo = deque(reps)
        pending: set = set()
        while todo or pending:
            while todo and len(pending) < 4 * workers:
                unit = todo.popleft()
                with signals_held():  # the first submit forks the workers
                    pending.add(pool.submit(_solve_unit_in_worker, unit, pinned.get(unit.id)))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:  # any order: the plan is merged by unit id
                yield fut.result()


def _dask(dataset: Dataset, week: str, reps: list[Unit], scheduler: str | None,
          cache_dir: str | None, pinned: dict[str, Pinned]) -> Iterator[UnitSolution]:
    """Send the units to a dask.distributed cluster; the dataset goes to every worker once."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise LoaError("--executor dask needs the 'distributed' package (pip install 'dask[distributed]')")
    if not scheduler:
        raise DataError(Problem("--scheduler", None, "scheduler", "", "a Dask scheduler address, e.g. tcp://HOST:8786"))
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise DataError(Problem("--scheduler", None, "scheduler", scheduler,
                                f"a reachable Dask scheduler ({exc})")) from None
    try:
        in_flight = 4 * max(1, len(client.scheduler_info().get("workers", {})))
        shared = client.scatter(dataset, broadcast=True, hash=False)
        todo = deque(reps)
        running = as_completed(loop=client.loop)

        def send() -> None:
            unit = todo.popleft()
            running.add(client.submit(solve_unit, shared, week, unit, cache_dir, pinned.get(unit.id), pure=False))

        for _ in range(min(in_flight, len(todo))):
            send()
        for fut in running:  # a few units at a time, as with the local pool
            yield fut.result()
            fut.release()
            if todo:
                send()
    finally:
        client.close()


def _members(solved: deque) -> Iterator[UnitSolution]:
    """Each unit's solution in unit order, a member's scaled from its representative's as it is
    assembled; the queue lets go of a representative once its last member is out."""
    while solved:
        _id, member, rep = solved.popleft()
        yield rep if member is rep.unit else _for_member(rep, member)


def plan_week(dataset: Dataset, week: str, site_ids: set[str] | None = None, workers: int | None = None,
              progress: Callable[[int, int, str], None] | None = None,
              settings: tuple[tuple[str, str], ...] = (), executor: str = "local", scheduler: str | None = None,
              cache: SolutionCache | None = None, stats: dict | None = None,
              pinned: dict[str, Pinned] | None = None, freezes: dict[str, Freeze] | None = None) -> WeekPlan:
    """Solve every distinct unit of the week once, on the executor, and merge; infeasible units
    keep their conflicts. `progress(done, total, unit id)` is called once per unit; `stats`, if
    given, receives the count of distinct solves, cache hits and per-phase worker seconds.

    A re-plan gives each unit's `pinned` part (unit id -> Pinned) and each site's `freezes`: only
    the free span is solved, and the plan holds the new airings only (the caller adds the kept)."""
    pinned = pinned or {}
    units = build_units(dataset, site_ids)
    if not units:
        raise DataError(Problem(str(dataset.root / "sites.csv"), None, "site_id",
                                ",".join(sorted(site_ids or [])), "at least one site with a station to plan"))
    classes: dict[tuple, list[Unit]] = {}
    for unit in units:
        classes.setdefault((unit_signature(dataset, unit), pinned.get(unit.id)), []).append(unit)
    # biggest first (most segments, then sync groups), so no long solve is left for the end
    reps = sorted((members[0] for members in classes.values()),
                  key=lambda u: (-len(u.sites), -sum(1 for g in dataset.segments
                                                     if all(segment_applies(dataset, s, g) for s in u.sites)), u.id))
    by_rep = {members[0].id: members for members in classes.values()}
    if executor not in EXECUTORS:
        raise DataError(Problem("--executor", None, "executor", executor, " or ".join(EXECUTORS)))
    cache_dir = str(cache.root) if cache is not None else None
    keys = {rep.id: _input_key(dataset, week, rep) for rep in reps} if cache and dataset.fingerprint and not pinned \
        else {}
    known = [sol for rep in reps for sol in [_known(cache, keys.get(rep.id), rep)] if sol is not None]
    todo = [rep for rep in reps if rep.id not in {sol.unit.id for sol in known}]
    if not todo:
        fresh: Iterator[UnitSolution] = iter(())
    elif executor == "dask":
        fresh = _dask(dataset, week, todo, scheduler, cache_dir, pinned)
    else:
        fresh = _local(dataset, week, todo, max(1, min(workers or os.cpu_count() or 1, len(todo))), cache_dir, pinned)
    stream = chain(known, _remembered(cache, keys, fresh))
    solved: list[tuple[str, Unit, UnitSolution]] = []  # (unit id, unit, its representative's solution)
    phases: dict[str, float] = {}
    hits = 0
    for rep_solution in stream:
        hits += rep_solution.cached
        for phase, seconds in rep_solution.timings:
            phases[phase] = phases.get(phase, 0.0) + seconds
        for member in by_rep[rep_solution.unit.id]:
            solved.append((member.id, member, rep_solution))
            if progress:
                progress(len(solved), len(units), member.id)
    solved.sort(key=lambda t: t[0])
    solutions = _members(deque(solved))
    t = time.process_time()
    plan = assemble_plan(dataset, week, solutions, settings, freezes)
    if stats is not None:
        stats.update(units=len(units), distinct=len(reps), cache_hits=hits, worker_seconds=phases,
                     assemble_seconds=time.process_time() - t)
    return plan


def plan_sites(dataset: Dataset, week: str, site_ids: set[str],
               freezes: dict[str, Freeze] | None = None) -> tuple[PlanSite, ...]:
    """Each planned site with the rules it was planned under and its audience, for plan.json."""
    days = week_days(week)
    out = []
    for site in sorted(dataset.sites, key=lambda s: s.id):
        if site.id not in site_ids:
            continue
        district = dataset.district_of(site)
        out.append(PlanSite(
            site.id, site.name, district.id, district.name, site.population, site.languages, site.technology,
            site.kind, rules=site_rules(dataset, site, site_policy(dataset, site), week, (freezes or {}).get(site.id)),
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
                       producer_kind=makers[s.producer].kind if s.producer in makers else "", level=s.level)
              for s in dataset.segments]
    return tuple(sorted(items, key=lambda i: (i.kind, i.id)))


def assemble_plan(dataset: Dataset, week: str, solutions: Iterable[UnitSolution],
                  settings: tuple[tuple[str, str], ...] = (), freezes: dict[str, Freeze] | None = None) -> WeekPlan:
    monday = datetime.combine(week_monday(week), datetime.min.time())
    placements: list[Placement] = []
    units: list[UnitResult] = []
    site_ids: set[str] = set()
    for sol in solutions:
        units.append(UnitResult(sol.unit.id, tuple(s.id for s in sol.unit.sites), sol.unit.district_id,
                                sol.status, round(sol.objective, 3), round(sol.bound, 3), sol.conflicts,
                                unit_inputs(dataset, week, sol.unit, GAP_LIMIT, SEED)))
        for site in sol.unit.sites:
            site_ids.add(site.id)
            curves = {}
            for a in sol.airings:
                start = monday + timedelta(minutes=a.week_minute)
                if a.day not in curves:
                    curves[a.day] = availability(dataset, site, start.date())
                curve = curves[a.day]
                share = sum(curve[a.start:a.start + a.minutes]) / a.minutes
                placements.append(Placement(
                    site_id=site.id, kind=a.kind, item_id=a.item_id, start=start,
                    end=start + timedelta(minutes=a.minutes), listeners=round(site.population * share, 3),
                    score=tuple(sorted((k, round(v, 6)) for k, v in sol.scores[(a.kind, a.item_id, a.week_minute)].items()))))
    roots = [a for a in dataset.areas if a.parent_id is None]
    return WeekPlan(week=week, dataset_name=dataset.name, dataset_root=str(dataset.root),
                    sites=plan_sites(dataset, week, site_ids, freezes), items=plan_items(dataset),
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
