"""The weekly job as library calls: load → settings → plan → verify → write plan.json → export."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

from .checks import check_relay_minimum_keys
from .dataset import load_dataset
from .domain import Dataset, Policy, SolveStatus, WeekPlan, week_days, week_label, week_monday
from .errors import BugError, DataError, InfeasibleError, LoaError, Problem
from .fsutil import Behind, OutputRun, stops_deferred
from .planfile import plan_chunks
from .policy import apply_settings, load_policy, with_policy
from .rules import DAY, valid_days
from .ops.additem import withdraw_segment
from .ops.bulletin import Bulletin, add_bulletin, check_reach, emergency_placements, free_until
from .ops.replan import (WEEK_MINUTES, Replanned, keep_schedules, keepable, kept_previous, merge_sites,
                         parse_cutoff, replan_week, week_minute)
from .solver.cache import SolutionCache
from .solver.explain import segment_alternatives
from .solver.problem import build_problem, build_units
from .solver.run import assemble_plan, plan_week, solve_problem
from .verify import verify


@dataclass(frozen=True)
class PlanOutcome:
    plan: WeekPlan
    plan_path: Path
    wall_s: float
    infeasible: dict[str, list[str]]
    stats: dict = field(default_factory=dict)  # distinct solves, cache hits (see plan_week)


def check_week(week: str) -> str:
    """Normalise an ISO week 'YYYY-Www'; a typo is a clear error, not a traceback."""
    try:
        monday = week_monday(week)
    except (ValueError, TypeError):
        raise DataError(Problem("--week", None, "week", week, "an ISO week like 2024-W10 (weeks start on Monday)"))
    return week_label(monday)


def prepare_dataset(data: Path, policy_file: Path | None = None, settings: tuple[str, ...] = (),
                    loaded: Dataset | None = None) -> Dataset:
    """Load a dataset (unless this run has it `loaded` already) and apply `--policy FILE` then
    `--set key=value` overrides."""
    dataset = loaded if loaded is not None else load_dataset(data)
    return with_settings(dataset, settings, load_policy(policy_file) if policy_file is not None else None)


def with_settings(dataset: Dataset, settings: Sequence[str] = (), policy: Policy | None = None) -> Dataset:
    """The dataset under `policy` (default: its own) with each `section.key=value` of `settings`
    applied; every bad key or value, and a relay minimum naming no relay, is a DataError."""
    chosen = dataset.policy if policy is None else policy
    if settings:
        chosen = apply_settings(chosen, list(settings))
    if chosen is dataset.policy:
        return dataset
    unknown = check_relay_minimum_keys(chosen, dataset.relays)
    if unknown:
        raise DataError(unknown)
    return with_policy(dataset, chosen)


def select_sites(dataset: Dataset, districts: tuple[str, ...] = (), sites: tuple[str, ...] = ()) -> set[str] | None:
    """Site ids under the given areas or reporting groups and/or listed explicitly; None means every site."""
    if not districts and not sites:
        return None
    known_areas = {a.id for a in (*dataset.areas, *dataset.groups)}
    known_sites = {s.id for s in dataset.sites}
    problems = [Problem("--district", None, "district", d, "an area or group id of the dataset (see `loa sites`)")
                for d in districts if d not in known_areas]
    problems += [Problem("--site", None, "site", s, "a site id of the dataset (see `loa sites`)")
                 for s in sites if s not in known_sites]
    if problems:
        raise DataError(problems)
    chosen = {s.id for s in dataset.sites if s.id in sites or (districts and dataset.in_scope(s, tuple(districts)))}
    # a sync group is planned whole: add the other members of every chosen site's group
    groups = {s.sync_group for s in dataset.sites if s.id in chosen and s.sync_group}
    return chosen | {s.id for s in dataset.sites if s.sync_group in groups}


def emergency_bulletins(dataset: Dataset, week: str) -> list[str]:
    """Ids of the emergency bulletins valid in `week`: `loa bulletin` airs them and every re-plan
    keeps them, but a plan of the week from scratch does not place them (the planner never does)."""
    days = week_days(week)
    return [g.id for g in dataset.segments
            if g.level == "emergency" and valid_days(g.valid_from, g.valid_to, days, range(7))]


def plan_path(out: Path, week: str) -> Path:
    return Path(out) / "audio_manifests" / week / "plan.json"


def plan_and_write(dataset: Dataset, week: str, out: Path, site_ids: set[str] | None = None,
                   workers: int | None = None, progress: Callable[[int, int, str], None] | None = None,
                   settings: tuple[tuple[str, str], ...] = (), run: OutputRun | None = None,
                   executor: str = "local", scheduler: str | None = None,
                   cache: SolutionCache | None = None) -> PlanOutcome:
    """Solve the week (units from `cache` where their problem is unchanged), check every hard
    rule independently, then write plan.json (streamed, never held whole).

    A plan of some sites (`site_ids`) goes into the week's plan already under `out`: the other
    sites keep their schedule, so plan.json always holds every site planned. When no unit at all
    can be planned, InfeasibleError is raised before anything is written.

    With `run` (an open `fsutil.OutputRun` on `out`), plan.json is only staged in it, so the
    caller switches it in together with the exports; without, it is its own transaction.
    """
    week = check_week(week)
    started = time.perf_counter()
    stats: dict = {}
    plan = checked_plan(dataset, week, site_ids=site_ids, workers=workers, progress=progress, settings=settings,
                        executor=executor, scheduler=scheduler, cache=cache, stats=stats)
    failed = [u for u in plan.units if not SolveStatus(u.status).planned]
    if len(failed) == len(plan.units):  # a failed run: the previous outputs stay as they were
        raise InfeasibleError({_unit_label(dataset, u.site_ids, u.district_id): list(u.conflicts) for u in failed})
    path = plan_path(out, week)
    had: set[str] = set()  # sites with a schedule in the week's plan this one goes into
    if site_ids is not None and path.exists():
        previous = _week_plan(path, dataset, week)
        had = {s.id for s in previous.sites}
        stats["kept_sites"] = len(had - {s.id for s in plan.sites})
        plan = merge_sites(previous, dataset, plan, settings)
    kept = frozenset(s for u in failed if had.issuperset(u.site_ids) for s in u.site_ids)
    if failed and site_ids is None and path.exists():  # a site it cannot plan keeps the schedule it had
        previous = _replaced_plan(path, dataset, week)
        kept = keepable(plan, previous) if previous else frozenset()
        plan = keep_schedules(plan, previous, kept) if kept else plan
    stats["kept_previous"] = kept  # sites this run could not plan that kept their schedule
    infeasible = {_unit_label(dataset, u.site_ids, u.district_id):
                  kept_previous(u.conflicts) if kept.issuperset(u.site_ids) else list(u.conflicts) for u in failed}
    wall = time.perf_counter() - started
    if run is None:
        with OutputRun(out, [f"audio_manifests/{week}"]) as own:
            own.write_chunks(path, plan_chunks(plan, path))
            own.commit()
    else:  # written on the other core while the caller exports
        run.write_chunks_behind(path, partial(plan_chunks, plan, path))
    return PlanOutcome(plan, path, wall, infeasible, stats)


def _week_plan(path: Path, dataset: Dataset, week: str) -> WeekPlan:
    """The week's plan under `out` that a plan of some sites goes into, checked; a broken one or
    one of another dataset is refused with the way out, never overwritten."""
    from .planfile import read_checked_plan

    try:
        previous = read_checked_plan(path)
    except DataError as exc:  # say why a plan from scratch reads it, and the way out
        raise DataError(exc.problems + [Problem(str(path), None, None, None, (
            "the week's plan, which the plan of the chosen sites goes into: plan the whole week (no "
            "--district/--site) to replace it, or plan into another --out"))], exc.more) from None
    if previous.dataset_name != dataset.name or previous.week != week:
        raise DataError(Problem(str(path), None, "dataset_name", f"{previous.dataset_name} {previous.week}",
                                f"a plan of dataset {dataset.name!r} for {week}, which the plan of the chosen "
                                "sites goes into (plan into another --out, or move this plan away)"))
    return previous


def _replaced_plan(path: Path, dataset: Dataset, week: str) -> WeekPlan | None:
    """The week's plan a whole-week plan replaces, if it is a sound plan of this dataset and week
    (its schedules are kept for the sites the new plan cannot plan); else None: planning the
    whole week is the way out of a broken or foreign plan, so it is not refused."""
    try:
        return _week_plan(path, dataset, week)
    except DataError:
        return None


def checked_plan(dataset: Dataset, week: str, **kwargs) -> WeekPlan:
    """`plan_week` (same arguments), then every hard rule checked by the independent verifier: a
    plan that breaks one, or a model the solver calls invalid, is a bug in loa (BugError)."""
    plan = plan_week(dataset, week, **kwargs)
    invalid = [u.unit_id for u in plan.units if u.status == SolveStatus.MODEL_INVALID]
    if invalid:
        raise BugError(f"the solver rejected the model of {', '.join(invalid[:5])} as invalid (MODEL_INVALID)")
    broken = verify(plan)
    if broken:
        raise BugError("the solved plan breaks hard rules:\n" + "\n".join(f"  - {b}" for b in broken[:30]))
    return plan


def _unit_label(dataset: Dataset, site_ids: tuple[str, ...], district_id: str) -> str:
    names = {s.id: s.name for s in dataset.sites}
    who = ", ".join(names.get(s, s) for s in site_ids)
    return f"Site {who} ({district_id})" if len(site_ids) == 1 else f"Sync group {who} ({district_id})"


def explain_site(dataset, week: str, site_id: str, alternatives: int = 3) -> dict:
    """Solve the site's unit (units are independent, so this is the site's plan) and report,
    for every placement, its score terms and the best other slots of the same item."""
    site = next((s for s in dataset.sites if s.id == site_id), None)
    if site is None or not site.has_station:
        raise DataError(Problem(str(dataset.root / "sites.csv"), None, "site_id", site_id,
                                "a site id with a station (see `loa sites`)"))
    group = {s.id for s in dataset.sites if site.sync_group and s.sync_group == site.sync_group} | {site_id}
    unit = next(u for u in build_units(dataset, group) if site_id in {s.id for s in u.sites})
    problem = build_problem(dataset, unit, week)
    solution = solve_problem(problem)
    if solution.status == SolveStatus.MODEL_INVALID:
        raise BugError(f"the solver rejected the model of {unit.id} as invalid (MODEL_INVALID)")
    plan = assemble_plan(dataset, week, [solution])
    titles = {(i.kind, i.id): i.title for i in plan.items}
    by_key = {(a.kind, a.item_id, a.week_minute): a for a in solution.airings}
    monday = datetime.combine(week_monday(week), datetime.min.time())
    rows = []
    for p in plan.placements:
        if p.site_id != site_id:
            continue
        airing = by_key[(p.kind, p.item_id, int((p.start - monday).total_seconds() // 60))]
        rows.append({
            "day": p.start.strftime("%a %d/%m"), "start": p.start.strftime("%H:%M"), "end": p.end.strftime("%H:%M"),
            "window": problem.options[airing.option].window,
            "kind": p.kind, "id": p.item_id, "title": titles[(p.kind, p.item_id)],
            "listeners": p.listeners, "score": dict(p.score),
            "alternatives": [a.__dict__ for a in segment_alternatives(problem, airing, alternatives)],
        })
    return {"site": site.name, "site_id": site_id, "week": week, "status": solution.status,
            "conflicts": list(solution.conflicts), "notes": problem.notes, "placements": rows}


@dataclass(frozen=True)
class ReplanOutcome:
    replanned: Replanned
    plan_path: Path
    wall_s: float
    exported: object = None  # export.ExportSummary, unless --no-export
    bulletin_id: str = ""  # the segment id a bulletin was added as
    waits: dict = field(default_factory=dict)  # emergency: site id -> minutes its first airing waited after --from
    aired: dict = field(default_factory=dict)  # emergency: site id -> airings placed (fewer than asked: the week ended)
    unchanged: bool = False  # the plan came out as it was: nothing was written


def default_out(plan_file: Path) -> Path:
    """The output root a plan was written under (<out>/audio_manifests/<week>/plan.json)."""
    return Path(plan_file).resolve().parent.parent.parent


def replan_and_write(plan_file: Path, cutoff: str, out: Path | None = None, data: Path | None = None,
                     policy_file: Path | None = None, settings: tuple[str, ...] = (), districts: tuple[str, ...] = (),
                     sites: tuple[str, ...] = (), workers: int | None = None, cache: SolutionCache | None = None,
                     export: bool = True, bulletin: Bulletin | None = None) -> ReplanOutcome:
    """Re-plan a week under way from `cutoff` ('YYYY-MM-DD HH:MM'): read and check the plan, load
    the dataset (the plan's own unless `data`), keep the past, solve what changed, verify, and
    switch plan.json and the changed sites' exports in as one transaction.

    With `bulletin`, it is first added to the dataset (with its Circular 39 level) and placed by
    its level (`ops.bulletin`); the re-plan then covers the sites in its scope."""
    from .export import export_sites, output_folders
    from .planfile import read_plan

    started = time.perf_counter()
    old = read_plan(Path(plan_file))
    check = _PlanCheck(old, Path(plan_file))
    try:
        when = parse_cutoff(cutoff, old.week)
        out = Path(out) if out is not None else default_out(plan_file)
        root = Path(data) if data is not None else Path(old.dataset_root)
        with OutputRun(out, output_folders(old.week)) as run:
            added = None
            try:
                if bulletin is not None:
                    monday = datetime.combine(old.monday, datetime.min.time())
                    with stops_deferred():  # a stop while it is being added comes once `added` can be undone
                        added = add_bulletin(bulletin, root, when, monday + timedelta(days=6))
                dataset = prepare_dataset(root, policy_file, settings, added.dataset if added is not None else None)
                if dataset.name != old.dataset_name:
                    raise DataError(Problem("--data", None, "name", dataset.name,
                                            f"the dataset the plan was made from ({old.dataset_name!r})"))
                site_ids = select_sites(dataset, districts, sites)
                extra: dict = {}
                waits: dict[str, int] = {}
                aired: dict[str, int] = {}
                if bulletin is not None and added is not None:
                    site_ids, extra = _bulletin_args(old, dataset, bulletin, added.id, when)
                    # "phát ngay" (Circular 39): say where something on air, a live relay, a blackout
                    # or the quiet hours made the bulletin wait
                    waits = {sid: int((ps[0].start - when).total_seconds() // 60)
                             for sid, ps in extra.get("inserted", {}).items() if ps}
                    aired = {sid: len(ps) for sid, ps in extra.get("inserted", {}).items()}
                recorded = tuple(("set", s) for s in settings) + ((("policy", str(policy_file)),) if policy_file else ())
                result = replan_week(old, dataset, when, site_ids, workers=workers, cache=cache, settings=recorded,
                                     **extra)
                check.passed()  # nothing is written from a plan file that breaks the rules
                path = plan_path(out, old.week)
                exported = None
                in_place = path.resolve() == Path(plan_file).resolve()  # else a new --out: the whole week goes there
                unchanged = result.plan == old and in_place
                if not unchanged:  # else nothing to switch in: plan.json and every export stay as they are
                    run.write_chunks_behind(path, partial(plan_chunks, result.plan, path))
                    # in place, only the changed sites' files: every other one would come out byte for byte as it is
                    changed = set(result.changed_sites) if in_place else {s.id for s in result.plan.sites}
                    exported = export_sites(result.plan, out, changed, run) if export else None
                    run.commit()
            except BaseException:
                # a bulletin that is not sent is not left in the dataset either (once the switch has
                # begun, the plan that airs it goes in: the bulletin stays)
                if added is not None and not run.committed:
                    withdraw_segment(root, added)
                raise
    except Exception:
        check.passed()  # a plan file that breaks the rules is the cause of the failure: say so
        raise
    finally:
        check.stop()
    return ReplanOutcome(result, path, time.perf_counter() - started, exported, added.id if added else "", waits,
                         aired, unchanged)


class _PlanCheck:
    """The checks `read_checked_plan` makes of a plan file being re-planned, run on the other core
    while this one loads the dataset and solves (a province's plan: a fifth of a second). Nothing
    is written before `passed()`."""

    def __init__(self, plan: WeekPlan, path: Path):
        from .planfile import plan_problems

        stopped = LoaError(f"{path}: checking the plan was stopped; nothing was written")
        self._behind = Behind(f"checking {path}", stopped, plan_problems, plan, path).start()
        self._outcome: list[Problem] | LoaError | None = None

    def passed(self) -> None:
        """Wait for the check; a DataError naming every broken rule if the plan breaks any."""
        if self._outcome is None:
            try:
                self._outcome = self._behind.result()
            except LoaError as exc:
                self._outcome = exc
        if isinstance(self._outcome, LoaError):
            raise self._outcome
        if self._outcome:
            raise DataError(self._outcome)

    def stop(self) -> None:
        if self._outcome is None:
            self._behind.stop()


def _bulletin_args(old: WeekPlan, dataset: Dataset, bulletin: Bulletin, seg_id: str, when: datetime):
    """The sites a bulletin reaches and what `replan_week` needs to place it by its level."""
    areas = {a.id for a in (*dataset.areas, *dataset.groups)}
    scope = select_sites(dataset, tuple(x for x in bulletin.scope if x in areas),
                         tuple(x for x in bulletin.scope if x not in areas))
    seg = next(s for s in dataset.segments if s.id == seg_id)
    check_reach(dataset, seg, scope, {s.id for s in old.sites})
    monday = datetime.combine(old.monday, datetime.min.time())
    end_of_day = min(WEEK_MINUTES, (week_minute(old, when) // DAY + 1) * DAY)
    if bulletin.level == "emergency":
        inserted = emergency_placements(old, dataset, seg, when, bulletin.repeat, bulletin.every, scope)
        return scope, {"inserted": inserted, "overriding": frozenset({seg.id}),
                       "free_until": free_until(inserted, monday, when)}
    if bulletin.level == "priority":
        return scope, {"lead": seg.id, "free_until": end_of_day}
    return scope, {}
