"""What the weights trade, measured: plan some sites under each setting of a sweep and compare.

`loa tune --sweep weights.delay=0,5,10 --sweep weights.spread_days=0,500` plans the chosen sites
once per combination of the swept values (on top of the dataset's policy, `--policy` and
`--set`), checks every plan with the verifier, and reports per setting the figures plans are
compared by (`export.planstats.FIGURES`: reach, relay delay, spread over days and dayparts,
topics). A setting is *dominated* when another one is at least as good on every figure and
better on one; the others form the frontier a planner chooses from.

Every value is checked by `policy.apply_settings` before anything is planned. Nothing is
written unless `out` is given (then each setting's plan.json goes to a folder of its own).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from .domain import Dataset
from .errors import DataError, Problem
from .export.planstats import FIGURES, PlanStats, dominates, plan_stats
from .limits import MAX_TUNE_SETTINGS
from .pipeline import checked_plan, plan_and_write, with_settings
from .solver.cache import SolutionCache


@dataclass(frozen=True)
class TunePoint:
    """One setting of the sweep and what its plan measures."""

    settings: tuple[str, ...]  # "weights.delay=5", one per swept key, in the order of the sweeps
    stats: PlanStats
    units: int
    planned: int  # units with a plan (the others are infeasible under this setting)
    dominated_by: tuple[int, ...] = ()  # 1-based numbers of the settings that dominate this one
    plan_path: str | None = None


def parse_sweep(text: str) -> tuple[str, tuple[str, ...]]:
    """'weights.delay=0,0.5,1' -> ('weights.delay', ('0', '0.5', '1')). Values are separated by
    ',' or, for a key whose value is itself a list (policy.quiet_hours), by '|'."""
    key, eq, values = text.partition("=")
    parts = tuple(v.strip() for v in values.split("|" if "|" in values else ","))
    if not eq or not key.strip() or not any(parts):
        raise DataError(Problem("--sweep", None, key.strip() or None, text,
                                "KEY=V1,V2,... e.g. weights.delay=0,5,10 (lists: V1|V2)"))
    return key.strip(), parts


def sweep_settings(sweeps: Sequence[str]) -> list[tuple[str, ...]]:
    """Every combination of the swept values, in order (the last sweep varies fastest)."""
    parsed = [parse_sweep(s) for s in sweeps]
    keys = [k for k, _ in parsed]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise DataError(Problem("--sweep", None, dup, dup, "each key swept once (give its values in one --sweep)"))
    combos = list(itertools.product(*(values for _, values in parsed)))
    if not combos or len(combos) > MAX_TUNE_SETTINGS:
        raise DataError(Problem("--sweep", None, None, f"{len(combos)} settings",
                                f"1..{MAX_TUNE_SETTINGS} combinations of the swept values"))
    return [tuple(f"{k}={v}" for k, v in zip(keys, combo)) for combo in combos]


def _folder(number: int, settings: tuple[str, ...]) -> str:
    return f"{number:02d}_" + "_".join(re.sub(r"[^A-Za-z0-9.=-]+", "-", s) for s in settings)


def sweep_variants(dataset: Dataset, sweeps: Sequence[str]) -> list[tuple[tuple[str, ...], Dataset]]:
    """Each setting of `sweeps` with the dataset under it; every value is checked here, before
    anything is planned (a bad one is a DataError naming --sweep)."""
    variants = []
    for setting in sweep_settings(sweeps):
        try:
            variants.append((setting, with_settings(dataset, setting)))
        except DataError as exc:
            raise DataError([replace(p, file="--sweep") if p.file == "--set" else p for p in exc.problems],
                            exc.more) from None
    return variants


def tune(variants: Sequence[tuple[tuple[str, ...], Dataset]], week: str, site_ids: set[str] | None,
         workers: int | None = None, cache: SolutionCache | None = None, out: Path | None = None,
         progress: Callable[[int, int, tuple[str, ...]], None] | None = None) -> list[TunePoint]:
    """Plan `site_ids` under each of `variants` (from `sweep_variants`), verify each plan, measure
    it and mark the settings another one dominates."""
    measured: list[TunePoint] = []
    for number, (setting, variant) in enumerate(variants, start=1):
        recorded = tuple(("set", s) for s in setting)
        path = None
        if out is not None:
            outcome = plan_and_write(variant, week, Path(out) / _folder(number, setting), site_ids, workers,
                                     settings=recorded, cache=cache)
            plan, path = outcome.plan, str(outcome.plan_path)
        else:
            plan = checked_plan(variant, week, site_ids=site_ids, workers=workers, settings=recorded, cache=cache)
        planned = sum(u.status.planned for u in plan.units)
        measured.append(TunePoint(setting, plan_stats(plan), len(plan.units), planned, plan_path=path))
        if progress:
            progress(number, len(variants), setting)
    return [TunePoint(p.settings, p.stats, p.units, p.planned,
                      tuple(j + 1 for j, q in enumerate(measured) if dominates(q.stats, p.stats)), p.plan_path)
            for p in measured]


def tune_rows(points: Sequence[TunePoint]) -> list[dict]:
    """The points as plain data (for --json), figures named as in FIGURES."""
    return [{"setting": i, "settings": list(p.settings), "units": p.units, "planned": p.planned,
             **{name: getattr(p.stats, name) for name, _label, _sign in FIGURES},
             "dominated_by": list(p.dominated_by), **({"plan": p.plan_path} if p.plan_path else {})}
            for i, p in enumerate(points, start=1)]


def format_tune(points: Sequence[TunePoint]) -> str:
    """A table, one row per setting, and which settings form the frontier."""
    keys = [s.split("=", 1)[0] for s in points[0].settings] if points else []
    head = ["#", *keys, "planned", "listener-plays", "people reached", "weighted reach", "delay (min)",
            "repeats", "dayparts", "topics", "dominated by"]
    rows = []
    for i, p in enumerate(points, start=1):
        st = p.stats
        rows.append([str(i), *(s.split("=", 1)[1] for s in p.settings), f"{p.planned}/{p.units}",
                     f"{st.listener_plays:,.0f}", f"{st.people_reached:,.0f}", f"{st.weighted_reach:,.0f}",
                     f"{st.relay_delay_min:,}", f"{st.consecutive_days:,}", f"{st.dayparts:.3f}", f"{st.topics:.2f}",
                     ", ".join(f"#{j}" for j in p.dominated_by) or "-"])
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    text_cols = set(range(1, 1 + len(keys))) | {len(head) - 1}

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in text_cols else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    frontier = [f"#{i}" for i, p in enumerate(points, start=1) if not p.dominated_by]
    notes = ["",
             "repeats: a segment airing on two consecutive days at one site; dayparts: windows per segment "
             "and site; topics: content areas per site.",
             f"frontier (dominated by no other setting): {', '.join(frontier)}",
             ]
    return "\n".join([line(head), *(line(r) for r in rows), *notes])
