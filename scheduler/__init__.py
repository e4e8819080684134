"""loa: weekly broadcast scheduling for commune loudspeaker systems.

The public API, re-exported here (nothing else lives in this file)::

    from scheduler import load_dataset, plan_week, verify, write_plan, export_all, write_report

    dataset = load_dataset("data/gia_lai_2024")           # raises DataError listing every problem
    plan = plan_week(dataset, "2024-W10")                  # a WeekPlan
    assert verify(plan) == []                              # every hard rule, by the rules stored in the plan
    write_plan(plan, "audio_manifests/2024-W10/plan.json")
    export_all(plan, ".")                                  # calendars/ and audio_manifests/
    write_report(plan, "reports")

Names are imported lazily on first use (module ``__getattr__``), so ``import scheduler`` and
``loa --help`` stay fast: pandas, icalendar and OR-Tools load only when a name that needs them is
touched.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    # reading and validating a dataset folder
    "load_dataset": ".dataset",
    # planning and checking a week
    "plan_week": ".solver.run",
    "verify": ".verify",
    # plan.json
    "read_plan": ".planfile",
    "write_plan": ".planfile",
    # calendars, manifests, reports
    "export_all": ".export",
    "write_report": ".export.report",
    "kpis": ".export.kpis",
    "compare": ".export.compare",
    # domain objects
    "Dataset": ".domain",
    "Site": ".domain",
    "Relay": ".domain",
    "Segment": ".domain",
    "AudienceProfile": ".domain",
    "Placement": ".domain",
    "WeekPlan": ".domain",
    # errors (exit codes 1, 2, 3, 4)
    "LoaError": ".errors",
    "DataError": ".errors",
    "InfeasibleError": ".errors",
    "ExportError": ".errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from .dataset import load_dataset
    from .domain import AudienceProfile, Dataset, Placement, Relay, Segment, Site, WeekPlan
    from .errors import DataError, ExportError, InfeasibleError, LoaError
    from .export import export_all
    from .export.compare import compare
    from .export.kpis import kpis
    from .export.report import write_report
    from .planfile import read_plan, write_plan
    from .solver.run import plan_week
    from .verify import verify


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
