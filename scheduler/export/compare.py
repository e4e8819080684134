"""What changed from one plan to another: KPI deltas and moved, added or removed placements.

Each plan is scored by the rules stored in it (`kpis`), so a plan made before the dataset was
edited keeps the score it had: comparing it with a plan of the edited dataset shows what the
edit changed, not the old plan judged by the new rules.
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import datetime

from ..domain import WeekPlan
from .i18n import label, number
from .kpis import kpis

COMPARE_KEYS = ("par_plays", "par_minutes", "listener_plays", "listener_plays_per_1000", "people_reached",
                "required_met_pct",
                "mandatory_relays_pct", "topics_covered", "airtime_cap_max_pct", "sessions_day_mean",
                "sessions_day_max", "gap_pct")
DISTRICT_COLUMNS = ("par_plays", "listener_plays", "required_met_pct", "mandatory_relays_pct")
CHANGES = ("unchanged", "moved", "added", "removed")


def _num(v) -> int | float | None:
    """A JSON-friendly number: None for unknown, int when whole."""
    if v is None or math.isnan(float(v)):
        return None
    v = float(v)
    return int(v) if v.is_integer() else round(v, 3)


def _deltas(row_a: dict | None, row_b: dict | None) -> dict:
    out = {}
    for k in COMPARE_KEYS:
        a = _num(row_a.get(k)) if row_a else None
        b = _num(row_b.get(k)) if row_b else None
        out[k] = {"a": a, "b": b, "delta": None if a is None or b is None else _num(b - a)}
    return out


def placement_changes(plan_a: WeekPlan, plan_b: WeekPlan) -> dict[str, Counter]:
    """Per site: unchanged, moved (same site+item+date, other time), added, removed placements."""
    def group(plan):
        g: dict[tuple, list[datetime]] = defaultdict(list)
        for p in plan.placements:
            g[(p.site_id, p.kind, p.item_id, p.start.date())].append(p.start)
        return g

    ga, gb = group(plan_a), group(plan_b)
    per_site: dict[str, Counter] = defaultdict(Counter)
    for key in set(ga) | set(gb):
        a, b = Counter(ga.get(key, [])), Counter(gb.get(key, []))
        same = sum((a & b).values())
        rest_a, rest_b = sum(a.values()) - same, sum(b.values()) - same
        moved = min(rest_a, rest_b)
        c = per_site[key[0]]
        c["unchanged"] += same
        c["moved"] += moved
        c["added"] += rest_b - moved
        c["removed"] += rest_a - moved
    return per_site


def compare(plan_a: WeekPlan, plan_b: WeekPlan, top: int = 10) -> dict:
    """KPI deltas (province, districts), placement changes and the `top` sites that changed most."""
    ka, kb = kpis(plan_a), kpis(plan_b)
    prov_a, prov_b = ka["province"].to_dict("records"), kb["province"].to_dict("records")
    da = {r["district_id"]: r for r in ka["district"].to_dict("records")}
    db = {r["district_id"]: r for r in kb["district"].to_dict("records")}
    districts = []
    for did in sorted(set(da) | set(db), key=lambda d: ((da.get(d) or db[d])["district"], d)):
        districts.append({"district_id": did, "district": (da.get(did) or db[did])["district"],
                          "kpis": _deltas(da.get(did), db.get(did))})

    per_site = placement_changes(plan_a, plan_b)
    totals: Counter = Counter()
    for c in per_site.values():
        totals.update(c)
    names = {s.id: s.name for s in plan_a.sites} | {s.id: s.name for s in plan_b.sites}
    changed = [(sid, c, c["moved"] + c["added"] + c["removed"]) for sid, c in per_site.items()]
    ranked = sorted((x for x in changed if x[2]), key=lambda x: (-x[2], x[0]))
    return {
        "week_a": plan_a.week,
        "week_b": plan_b.week,
        "province": {
            "name": (prov_b or prov_a or [{"province": ""}])[0]["province"],
            "kpis": _deltas(prov_a[0] if prov_a else None, prov_b[0] if prov_b else None),
        },
        "districts": districts,
        "placements": {k: totals[k] for k in CHANGES},
        "top_sites": [{"site_id": sid, "site": names.get(sid, sid), "moved": c["moved"], "added": c["added"],
                       "removed": c["removed"], "changes": n} for sid, c, n in ranked[:top]],
    }


def compare_json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=1)


def format_compare(result: dict, lang: str = "en") -> str:
    """A plain-text table of `compare()` for the terminal."""
    def fmt(v) -> str:
        return number(v, lang)

    def fmt_delta(v) -> str:
        return ("+" if v is not None and v > 0 else "") + fmt(v)

    kpi_rows = result["province"]["kpis"]
    w = max(len(label(k, lang)) for k in kpi_rows) + 2
    lines = [f"{result['week_a']} -> {result['week_b']}", "", result["province"]["name"],
             f"  {'KPI':<{w}}{'A':>14}{'B':>14}{'Δ':>12}"]
    for k, v in kpi_rows.items():
        lines.append(f"  {label(k, lang):<{w}}{fmt(v['a']):>14}{fmt(v['b']):>14}{fmt_delta(v['delta']):>12}")
    dw = max([len(d["district"]) for d in result["districts"]] + [8]) + 2
    cw = [max(len(label(c, lang)), 18) + 2 for c in DISTRICT_COLUMNS]
    lines += ["", "  B (Δ)",
              f"  {label('district', lang):<{dw}}" + "".join(f"{label(c, lang):>{n}}" for c, n in zip(DISTRICT_COLUMNS, cw))]
    for d in result["districts"]:
        cells = (f"{fmt(d['kpis'][c]['b']) + ' (' + fmt_delta(d['kpis'][c]['delta']) + ')':>{n}}"
                 for c, n in zip(DISTRICT_COLUMNS, cw))
        lines.append(f"  {d['district']:<{dw}}" + "".join(cells))
    lines += ["", label("compare_placements", lang).format(**result["placements"])]
    if result["top_sites"]:
        lines.append(label("compare_top_sites", lang))
        lines += [f"  {s['site']} ({s['site_id']}): " + label("compare_site_changes", lang).format(**s)
                  for s in result["top_sites"]]
    return "\n".join(lines)
