"""plan.json: the solved week as a file, so exports and reports never need the solver again."""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from .domain import PlanItem, PlanSite, Placement, UnitResult, WeekPlan
from .errors import DataError, Problem
from .fsutil import write_text_atomic

FORMAT_VERSION = 1
_OFFSET = "+07:00"


def _local_iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + _OFFSET


def _parse_local(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=None)


def plan_to_dict(plan: WeekPlan, plan_path: Path | None = None) -> dict:
    root = plan.dataset_root
    if plan_path is not None:
        root = os.path.relpath(Path(plan.dataset_root).resolve(), plan_path.resolve().parent)
    return {
        "format": FORMAT_VERSION,
        "week": plan.week,
        "timezone": "Asia/Ho_Chi_Minh",
        "dataset": {"name": plan.dataset_name, "root": Path(root).as_posix()},
        "settings": [list(s) for s in plan.settings],
        "sites": [asdict(s) for s in sorted(plan.sites, key=lambda s: s.id)],
        "items": [asdict(i) for i in sorted(plan.items, key=lambda i: (i.kind, i.id))],
        "units": [
            {**asdict(u), "gap": None if u.gap != u.gap else round(u.gap, 6)}
            for u in sorted(plan.units, key=lambda u: u.unit_id)
        ],
        "placements": [
            {
                "site": p.site_id,
                "kind": p.kind,
                "id": p.item_id,
                "start": _local_iso(p.start),
                "end": _local_iso(p.end),
                "listeners": round(p.listeners, 3),
                "score": {k: round(v, 6) for k, v in p.score},
            }
            for p in sorted(plan.placements, key=lambda p: (p.site_id, p.start, p.kind, p.item_id))
        ],
    }


def write_plan(plan: WeekPlan, path: Path) -> Path:
    path = Path(path)
    data = plan_to_dict(plan, path)
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n")
    return path


def read_plan(path: Path) -> WeekPlan:
    """Read plan.json; the dataset root is resolved relative to the plan file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(Problem(str(path), None, None, None, "plan file not found; run `loa plan` first"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(Problem(str(path), getattr(exc, "lineno", None), None, None, f"not a UTF-8 JSON plan ({exc})"))
    try:
        root = Path(data["dataset"]["root"])
        if not root.is_absolute():
            root = (path.resolve().parent / root).resolve()
        return WeekPlan(
            week=data["week"],
            dataset_name=data["dataset"]["name"],
            dataset_root=str(root),
            settings=tuple(tuple(s) for s in data.get("settings", [])),
            sites=tuple(
                PlanSite(**{**s, "languages": tuple(s["languages"])}) for s in data["sites"]
            ),
            items=tuple(PlanItem(**i) for i in data["items"]),
            units=tuple(
                UnitResult(**{k: v for k, v in u.items() if k != "gap"} | {
                    "site_ids": tuple(u["site_ids"]), "conflicts": tuple(u["conflicts"])})
                for u in data.get("units", [])
            ),
            placements=tuple(
                Placement(
                    site_id=p["site"],
                    kind=p["kind"],
                    item_id=p["id"],
                    start=_parse_local(p["start"]),
                    end=_parse_local(p["end"]),
                    listeners=float(p.get("listeners", 0.0)),
                    score=tuple(sorted(p.get("score", {}).items())),
                )
                for p in data["placements"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(Problem(str(path), None, str(exc), None, "a plan.json written by `loa plan` (format 1)"))
