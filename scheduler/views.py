"""What `loa validate` and `loa sites` print about a loaded dataset: plain dicts and text."""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from .domain import DAY_NAMES, Dataset
from .errors import DataError, Problem


def summary(dataset: Dataset) -> dict:
    """Counts a planner checks at a glance (what `loa validate` prints)."""
    def counts(values: Iterable[Any]) -> dict:
        return dict(sorted(Counter(values).items()))

    planned = [s for s in dataset.sites if s.has_station]
    return {
        "name": dataset.name,
        "root": str(dataset.root),
        "country": dataset.country,
        "areas": {"total": len(dataset.areas), "by_kind": counts(a.kind for a in dataset.areas)},
        "sites": {
            "total": len(dataset.sites),
            "with_station": len(planned),
            "without_station": len(dataset.sites) - len(planned),
            "population": sum(s.population for s in dataset.sites),
            "by_kind": counts(s.kind for s in dataset.sites),
            "by_technology": counts(s.technology for s in planned),
            "by_language": counts(lang for s in planned for lang in s.languages),
            "by_profile": counts(s.profile_id for s in dataset.sites),
            "sync_groups": len({s.sync_group for s in dataset.sites if s.sync_group}),
        },
        "profiles": sorted(dataset.profiles),
        "relays": {
            "total": len(dataset.relays),
            "mandatory": sum(r.mandatory for r in dataset.relays),
            "optional": sum(not r.mandatory for r in dataset.relays),
            "by_source": counts(r.source for r in dataset.relays),
        },
        "segments": {
            "total": len(dataset.segments),
            "by_topic": {str(k): v for k, v in counts(s.topic for s in dataset.segments).items()},
            "by_language": counts(s.language for s in dataset.segments),
            "audio_minutes": round(sum(s.duration_s for s in dataset.segments) / 60, 1),
        },
        "blackouts": len(dataset.blackouts),
        "groups": len(dataset.groups),
        "warnings": [str(w) for w in dataset.warnings],
    }


def format_warnings(warnings) -> str:
    """The warnings as `loa validate` prints them, like the errors: at most MAX_PROBLEMS, then a count."""
    from .limits import MAX_PROBLEMS

    warnings = list(warnings)
    lines = [f"{len(warnings):,} warning(s) (--strict makes them errors):"]
    lines += [f"  - {w}" for w in warnings[:MAX_PROBLEMS]]
    if len(warnings) > MAX_PROBLEMS:
        lines.append(f"  … and {len(warnings) - MAX_PROBLEMS:,} more")
    return "\n".join(lines)


def format_summary(info: dict) -> str:
    """The summary as a few readable lines."""
    def join(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

    s, r, g = info["sites"], info["relays"], info["segments"]
    lines = [
        f"Dataset {info['name']} ({info['root']}): valid" + (f", {len(info['warnings'])} warning(s)"
                                                            if info.get("warnings") else ""),
        f"  areas      {info['areas']['total']}: {join(info['areas']['by_kind'])}",
        f"  sites      {s['total']} ({s['with_station']} with a station, {s['without_station']} without), "
        f"population {s['population']:,}",
        f"             technology: {join(s['by_technology'])}",
        f"             languages: {join(s['by_language'])}",
        f"             kinds: {join(s['by_kind'])}; sync groups {s['sync_groups']}",
        f"  profiles   {len(info['profiles'])}: {', '.join(info['profiles'])}",
        f"  relays     {r['total']} ({r['mandatory']} mandatory, {r['optional']} optional): {join(r['by_source'])}",
        f"  segments   {g['total']}, {g['audio_minutes']} min of audio",
        f"             topics: {join(g['by_topic'])}",
        f"             languages: {join(g['by_language'])}",
        f"  blackouts  {info['blackouts']}",
    ]
    if info.get("groups"):
        lines.insert(2, f"  groups     {info['groups']} (reporting groups, groups.csv)")
    return "\n".join(lines)


def site_rows(dataset: Dataset, area_id: str | None = None) -> list[dict]:
    """The sites (all, or those under `area_id`) as plain dicts, sorted by district then name."""
    if area_id is not None and area_id not in {a.id for a in (*dataset.areas, *dataset.groups)}:
        districts = sorted({dataset.district_of(s).id for s in dataset.sites})
        raise DataError(Problem("--district", None, "district", area_id,
                                f"an area or group id of the dataset, e.g. {', '.join(districts[:8])}"))
    rows = []
    for s in dataset.sites:
        if area_id is not None and not dataset.in_scope(s, (area_id,)):
            continue
        d = dataset.district_of(s)
        rows.append({
            "site_id": s.id, "name": s.name, "district_id": d.id, "district": d.name, "district_kind": d.kind,
            "area_id": s.area_id,
            "kind": s.kind, "technology": s.technology, "population": s.population,
            "languages": list(s.languages), "profile": s.profile_id,
            "market_days": [DAY_NAMES[i] for i in s.market_days], "sync_group": s.sync_group,
            "has_station": s.has_station,
        })
    rows.sort(key=lambda r: (r["district"], r["name"], r["site_id"]))
    return rows
