"""The words for the levels of a plan's area tree, taken from the kinds its data writes.

A reporting unit is a Huyện, a Thị xã, a Thành phố, a reporting group (Cụm) or the province
itself; the plan records each site's unit and its kind, and the root's kind. Reports and
calendars say those words, so no level is ever called "huyện" unless the data says so. Pure:
reads the plan only.
"""
from __future__ import annotations

from collections import Counter

from ..domain import PlanItem, PlanSite, WeekPlan


def titled(kind: str, name: str) -> str:
    """'Huyện' + 'Chư Sê' -> 'Huyện Chư Sê'; a name that already says its kind is kept."""
    if not kind or name.casefold().startswith(kind.casefold()):
        return name
    return f"{kind} {name}"


def unit_title(site: PlanSite) -> str:
    return titled(site.district_kind, site.district_name)


def producer_title(item: PlanItem) -> str:
    """Who makes a segment, as 'Tỉnh Gia Lai' or 'Xã Ia Blang'; '' when the plan does not say."""
    return titled(item.producer_kind, item.producer_name) if item.producer_name else ""


def is_province(plan: WeekPlan, site: PlanSite) -> bool:
    """The site reports straight to the root: no group and no level between (the 2025 tree)."""
    return bool(plan.province_id) and site.district_id == plan.province_id


def unit_kinds(plan: WeekPlan) -> list[str]:
    """The kinds of the plan's reporting units, most frequent first."""
    counts = Counter(s.district_kind for s in plan.sites if s.district_kind)
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def words(plan: WeekPlan, lang: str = "vi") -> dict[str, str]:
    """The level words of `i18n.label`: {unit}, {unit_lower}, {unit_sheet}, {province}…"""
    out: dict[str, str] = {}
    kinds = unit_kinds(plan)
    if kinds:
        joined = " / ".join(kinds)
        out["unit"] = joined
        out["unit_lower"] = " / ".join(k.lower() for k in kinds) if lang == "vi" else joined
        out["unit_sheet"] = _sheet(", ".join(kinds))
    if plan.province_kind:
        out["province"] = plan.province_kind
        out["province_lower"] = plan.province_kind.lower() if lang == "vi" else plan.province_kind
        out["province_sheet"] = _sheet(plan.province_kind)
    return out


def page_words(plan: WeekPlan, unit_kind: str, lang: str = "vi") -> dict[str, str]:
    """The plan's words plus {kind}, the kind of one page's unit ('Toàn huyện', 'Toàn cụm')."""
    out = words(plan, lang)
    if unit_kind:
        out["kind"] = unit_kind.lower() if lang == "vi" else unit_kind
    return out


def _sheet(text: str) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in text).strip()
    return cleaned[:31] or "-"
