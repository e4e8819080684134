"""Cross-checks of a loaded dataset: what no single file can say is wrong on its own.

Each check adds Problems located in the file a planner must edit. Who carries which relay or
segment is asked of `rules`, the one definition the planner and the verifier also use.
"""
from __future__ import annotations

from typing import Any

from .audience import uses_sun
from .domain import DAY_NAMES, AudienceProfile, Dataset, Policy, Relay
from .errors import Problem
from .io.schema import Problems
from .policy import site_policy
from .rules import relay_applies, segment_applies


def check_policy_ids(policy: Policy, areas: set[str], sites: set[str], problems: Problems,
                     groups: set[str] = frozenset()) -> None:
    """Every [area.<id>], [group.<id>] and [site.<id>] override names something that exists."""
    f = policy.source
    for key in policy.overrides:
        section, _, ident = key.partition(":")
        if section == "area" and ident not in areas:
            problems.add(f, f"area.{ident}", "area", ident, "an area_id from areas.csv")
        if section == "group" and ident not in groups:
            problems.add(f, f"group.{ident}", "group", ident, "a group_id from groups.csv")
        if section == "site" and ident not in sites:
            problems.add(f, f"site.{ident}", "site", ident, "a site_id from sites.csv")


def check_relay_minimum_keys(policy: Policy, relays: tuple[Relay, ...]) -> list[Problem]:
    """Every relay minimum names a relay id or a source of relays.csv: a typo would otherwise
    require nothing, silently."""
    known = {r.id for r in relays} | {r.source for r in relays}
    tables = [("policy", policy.base.get("policy", {}))]
    tables += [(key.replace(":", "."), table) for key, table in sorted(policy.overrides.items())]
    return [Problem(policy.source, f"{where}.relay_minimums.{name}", "relay_minimums", name,
                    f"a relay id or source from the relays ({', '.join(sorted(known)[:8])}…)")
            for where, table in tables for name in table.get("relay_minimums", {}) if name not in known]


def _uses_sun(profile: AudienceProfile) -> bool:
    return any(uses_sun(c) for c in profile.curves.values()) or any(
        uses_sun(c) for s in profile.seasons for c in s.curves.values()
    )


def check_profile_coordinates(dataset: Dataset, site_lines: dict[str, int], problems: Problems) -> None:
    """A profile with sunrise/sunset points needs a lat/lon somewhere up the site's area tree."""
    for site in dataset.sites:
        prof = dataset.profiles.get(site.profile_id)
        if prof is not None and _uses_sun(prof) and dataset.coordinates(site) is None:
            problems.add(
                "sites.csv", site_lines[site.id], "profile", site.profile_id,
                "coordinates for sunrise/sunset: give lat/lon to the site's area or an ancestor in areas.csv "
                "(or use a profile with clock times only)",
            )


def check_relay_overlaps(dataset: Dataset, lines: dict[str, Any], file: str, problems: Problems) -> None:
    """Two mandatory live relays at one site on one day must not overlap: one of them cannot air."""
    live = [r for r in dataset.relays if r.mandatory and r.mode == "live"]
    clashes: dict[tuple[str, str], tuple[list[str], set[int]]] = {}
    for site in dataset.sites:
        if not site.has_station:
            continue
        mine = sorted((r for r in live if relay_applies(dataset, site, r)), key=lambda r: (r.start_min, r.id))
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                if b.start_min >= a.start_min + a.duration_min:
                    break
                days = {d for d in set(a.days) & set(b.days)
                        if relay_applies(dataset, site, a, d) and relay_applies(dataset, site, b, d)}
                if days:
                    entry = clashes.setdefault((a.id, b.id), ([], set()))
                    entry[0].append(site.id)
                    entry[1].update(days)
    by_id = {r.id: r for r in dataset.relays}
    for (a_id, b_id), (site_ids, days) in clashes.items():
        a, b = by_id[a_id], by_id[b_id]
        shown = ", ".join(site_ids[:3]) + (f" and {len(site_ids) - 3} more" if len(site_ids) > 3 else "")
        problems.add(
            file, lines.get(b_id), "start", f"{b.start_min // 60:02d}:{b.start_min % 60:02d}",
            f"a time that does not overlap mandatory live relay {a_id} "
            f"({a.start_min // 60:02d}:{a.start_min % 60:02d}, {a.duration_min} min) on "
            f"{' '.join(DAY_NAMES[d] for d in sorted(days))} at {shown}",
        )


def check_segment_fit(dataset: Dataset, lines: dict[str, int], problems: Problems) -> None:
    """Each segment must fit a broadcast window and a session at the sites that must air it."""
    for seg in dataset.segments:
        targets = [s for s in dataset.sites if s.has_station and segment_applies(dataset, s, seg)]
        misfits = []
        for site in targets:
            sp = site_policy(dataset, site)
            longest = max((w.end_min - w.start_min for w in sp.windows), default=0)
            limit = min(longest, sp.max_session_minutes)
            if seg.duration_min > limit:
                misfits.append((site.id, limit))
        if not misfits or (seg.min_plays == 0 and len(misfits) < len(targets)):
            continue
        shown = ", ".join(f"{sid} ({limit} min)" for sid, limit in misfits[:3])
        more = f" and {len(misfits) - 3} more" if len(misfits) > 3 else ""
        problems.add(
            "segments.csv", lines.get(seg.id), "audio", seg.audio,
            f"audio that fits a broadcast window and max_session_minutes at every site that must air it "
            f"(it lasts {seg.duration_min} min; longest possible at {shown}{more})",
        )
