"""Read a dataset folder into validated domain objects (format: docs/dataset-format.md).

`load_dataset` reads each file with a reader of `io/` (one loader function per file below), runs
the cross-checks of `checks`, and collects every problem on the way, each naming the file, the
line (CSV: header = line 1), TOML key or VEVENT, the field, the bad value and what is expected.
It raises one `DataError` with all of them; nothing else ever escapes for bad data. Audio files
are measured by `audioprobe` (shared with the exporters), per-site rules resolved by `policy`.
"""
from __future__ import annotations

import errno
import hashlib
import math
import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from . import audioprobe, lint
from . import policy as policy_mod
from .audioprobe import AudioInfo, ProbeError
from .checks import (check_policy_ids, check_profile_coordinates, check_relay_minimum_keys, check_relay_overlaps,
                     check_segment_fit)
from .domain import (
    DAY_NAMES,
    DAY_TYPES,
    RELAY_MODES,
    SITE_KINDS,
    TECHNOLOGIES,
    TOPICS,
    Area,
    AudienceProfile,
    Blackout,
    CurvePoint,
    Dataset,
    Policy,
    Relay,
    Season,
    BULLETIN_LEVELS,
    Segment,
    Site,
)
from .errors import DataError, Problem
from .fsutil import is_inside
from .io.csvfile import read_csv
from .io.ics import LOCAL_TZ, ics_text, local_time, read_ics, weekly_days
from .io.schema import SLUG_RE, Cells, Problems, nfc, parse_time
from .io.tomlfile import read_toml
from .limits import MAX_GROUP_POPULATION, MAX_POPULATION, single_line

_ANCHOR_RE = re.compile(r"^(sunrise|sunset)\s*(?:([+-])\s*(\d{1,4}))?$")

AREA_COLUMNS = ("area_id", "name", "kind", "parent_id", "code", "lat", "lon", "source", "group")
AREA_REQUIRED = ("area_id", "name", "kind", "source")
GROUP_COLUMNS = ("group_id", "name", "kind", "source", "note")
GROUP_REQUIRED = ("group_id", "name", "kind", "source")
SITE_COLUMNS = (
    "site_id", "name", "area_id", "kind", "technology", "population", "population_source",
    "languages", "profile", "market_days", "sync_group", "has_station",
)
SITE_REQUIRED = SITE_COLUMNS[:9]
RELAY_COLUMNS = (
    "relay_id", "source", "title", "days", "start", "duration_s", "mode", "max_delay_min",
    "mandatory", "language", "stream_url", "scope", "site_kinds",
)
RELAY_REQUIRED = ("relay_id", "source", "title", "days", "start", "duration_s", "mode", "mandatory", "language")
SEGMENT_COLUMNS = (
    "segment_id", "title", "topic", "language", "audio", "min_plays", "max_plays", "priority",
    "valid_from", "valid_to", "scope", "min_gap_min", "source", "note", "producer", "level",
)
SEGMENT_REQUIRED = SEGMENT_COLUMNS[:8]
DATASET_KEYS = ("name", "country", "description", "sources")
PROFILE_KEYS = ("name", "source", "month_factor", "curves", "seasons")
SEASON_KEYS = ("name", "months", "curves")
NOTHING_STAGED: Mapping[str, Path] = MappingProxyType({})


# --------------------------------------------------------------------------- dataset.toml


def _load_meta(root: Path, problems: Problems) -> tuple[str, str]:
    name, country = root.name, "VN"
    tree = read_toml(root, "dataset.toml", problems)
    if tree is None:
        return name, country
    f = "dataset.toml"
    for key, value in tree.items():
        if key not in DATASET_KEYS:
            problems.add(f, key, key, None, f"one of: {', '.join(DATASET_KEYS)}")
    if "name" in tree:
        if isinstance(tree["name"], str) and tree["name"].strip() and single_line(tree["name"]):
            name = nfc(tree["name"].strip())
        else:
            problems.add(f, "name", "name", tree["name"], "a non-empty string on one line, without control "
                         "characters")
    else:
        problems.add(f, "name", "name", None, "a dataset name")
    if "country" in tree:
        country = tree["country"]
        import holidays

        try:
            ok = isinstance(country, str) and bool(holidays.country_holidays(country, years=2024) is not None)
        except (NotImplementedError, KeyError, AttributeError):
            ok = False
        if not ok:
            problems.add(f, "country", "country", country, "an ISO country code known to the holidays package (VN)")
            country = "VN"
    if "sources" in tree and (
        not isinstance(tree["sources"], list) or any(not isinstance(s, str) for s in tree["sources"])
    ):
        problems.add(f, "sources", "sources", tree["sources"], "a list of strings")
    if "description" in tree and not isinstance(tree["description"], str):
        problems.add(f, "description", "description", tree["description"], "a string")
    return name, country


# --------------------------------------------------------------------------- areas.csv


def _load_groups(root: Path, problems: Problems) -> tuple[list[Area], dict[str, int]]:
    """groups.csv (optional): reporting groups, kept as parentless Areas; members name them in
    areas.csv `group`."""
    table = read_csv(root, "groups.csv", GROUP_COLUMNS, GROUP_REQUIRED, problems, must_exist=False)
    if table is None:
        return [], {}
    groups: list[Area] = []
    lines: dict[str, int] = {}
    for row in table.rows():
        c = Cells(problems, table.file, row)
        ident = c.slug("group_id")
        name, kind, source = c.text("name"), c.text("kind"), c.text("source")
        c.text("note", required=False)
        if ident is None or not c.ok:
            if ident:  # known, so the rows naming it add no second problem
                lines.setdefault(ident, row["_line"])
            continue
        if ident in lines:
            problems.add(table.file, row["_line"], "group_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        groups.append(Area(ident, name, kind, None, source=source))
    return groups, lines


def _load_areas(root: Path, problems: Problems, groups: dict[str, int]) -> tuple[list[Area], dict[str, int]]:
    table = read_csv(root, "areas.csv", AREA_COLUMNS, AREA_REQUIRED, problems)
    if table is None:
        return [], {}
    f = table.file
    areas: list[Area] = []
    lines: dict[str, int] = {}
    for row in table.rows():
        c = Cells(problems, f, row)
        ident = c.slug("area_id")
        name = c.text("name")
        kind = c.text("kind")
        parent = c.slug("parent_id", required=False)
        group = c.slug("group", required=False)
        if group and group not in groups:
            c.bad("group", group, f"a group_id from groups.csv ({', '.join(sorted(groups)[:6]) or 'no groups.csv'})")
        if ident and ident in groups:
            c.bad("area_id", ident, f"an id that is not also a group_id (groups.csv line {groups[ident]})")
        lat = c.number("lat", -90, 90)
        lon = c.number("lon", -180, 180)
        if (lat is None) != (lon is None) and c.ok:
            c.bad("lon" if lon is None else "lat", "", "lat and lon together (or neither)")
        code = c.text("code", required=False)
        source = c.text("source")
        if ident is None or not c.ok:
            if ident:
                lines.setdefault(ident, row["_line"])
            continue
        if ident in lines:
            problems.add(f, row["_line"], "area_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        areas.append(Area(ident, name, kind, parent, code, lat, lon, source, group))
    ids = set(lines)
    by_id = {a.id: a for a in areas}
    for a in areas:
        if a.parent_id is not None and a.parent_id not in ids:
            problems.add(f, lines[a.id], "parent_id", a.parent_id, "an existing area_id (or empty for the root)")
    roots = [a for a in areas if a.parent_id is None]
    if areas and not roots:
        problems.add(f, None, "parent_id", None, "exactly one root area (one row with an empty parent_id); none found")
    elif len(roots) > 1:
        root_area = _likely_root(roots)
        others = [a for a in roots if a is not root_area]
        shown = ", ".join(f"{lines[a.id]}" for a in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        problems.add(
            f, lines[others[0].id], "parent_id", "",
            f"a parent for every area but the root: {len(others)} row(s) have an empty parent_id (lines {shown}); "
            f"the root is likely {root_area.id!r} ({root_area.name}, line {lines[root_area.id]}): "
            f"write {root_area.id} in their parent_id",
        )
    # cycles: walk up from each area; report each cycle once, at its first line
    reported: set[str] = set()
    for a in areas:
        seen: list[str] = []
        current: str | None = a.id
        while current is not None and current in by_id and current not in seen:
            seen.append(current)
            current = by_id[current].parent_id
        if current is not None and current in seen:
            cycle = seen[seen.index(current):]
            if not reported.intersection(cycle):
                reported.update(cycle)
                first = min(cycle, key=lambda i: lines[i])
                problems.add(
                    f, lines[first], "parent_id", by_id[first].parent_id,
                    f"a tree without cycles (cycle: {' -> '.join(cycle + [cycle[0]])})",
                )
    return areas, lines


def _likely_root(roots: list[Area]) -> Area:
    """Of several parentless areas, the one meant as the root: the one whose kind no other shares
    (the province among 135 communes), then the first row (datasets list the root first)."""
    kinds = {r.id: sum(o.kind == r.kind for o in roots) for r in roots}
    return min(roots, key=lambda r: (kinds[r.id], roots.index(r)))


# --------------------------------------------------------------------------- profiles.toml


def _parse_point(point: Any) -> CurvePoint | str:
    """A CurvePoint, or what was expected."""
    if not isinstance(point, list) or len(point) != 2:
        return "a point [time, value]"
    when, value = point
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return "a value between 0 and 1 (share of people who can hear)"
    if not isinstance(when, str):
        return "a time 'HH:MM', 'sunrise' or 'sunset' with optional +N/-N minutes"
    m = _ANCHOR_RE.match(when.strip())
    if m:
        offset = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
        return CurvePoint(m.group(1), offset, float(value))
    try:
        return CurvePoint("clock", parse_time(when, allow_24=False), float(value))
    except ValueError:
        return "a time 'HH:MM' (00:00-23:59), 'sunrise' or 'sunset' with optional +N/-N minutes"


def _parse_curves(tree: Any, path: str, f: str, problems: Problems, required: tuple[str, ...]):
    curves: dict[str, tuple[CurvePoint, ...]] = {}
    if not isinstance(tree, dict):
        problems.add(f, path, "curves", None, f"a table of curves by day type ({', '.join(DAY_TYPES)})")
        return curves
    for kind in required:
        if kind not in tree:
            problems.add(f, f"{path}.{kind}", kind, None, f"a {kind} curve (list of [time, value] points)")
    for kind, points in tree.items():
        kpath = f"{path}.{kind}"
        if kind not in DAY_TYPES:
            problems.add(f, kpath, kind, None, f"a day type: one of {', '.join(DAY_TYPES)}")
            continue
        if not isinstance(points, list) or not points:
            problems.add(f, kpath, kind, None, "a non-empty list of [time, value] points")
            continue
        parsed = []
        for i, point in enumerate(points):
            result = _parse_point(point)
            if isinstance(result, str):
                problems.add(f, f"{kpath}[{i}]", kind, point, result)
            else:
                parsed.append(result)
        if len(parsed) == len(points):
            curves[kind] = tuple(parsed)
    return curves


def _load_profiles(root: Path, problems: Problems) -> dict[str, AudienceProfile]:
    f = "profiles.toml"
    tree = read_toml(root, f, problems)
    if tree is None:
        return {}
    for key in tree:
        if key != "profiles":
            problems.add(f, key, key, None, "only [profiles.<id>] tables")
    table = tree.get("profiles")
    if not isinstance(table, dict) or not table:
        problems.add(f, "profiles", "profiles", None, "at least one [profiles.<id>] table")
        return {}
    profiles: dict[str, AudienceProfile] = {}
    for pid, body in table.items():
        path = f"profiles.{pid}"
        before = problems.count
        if not SLUG_RE.match(pid):
            problems.add(f, path, "id", pid, "an id: lowercase ASCII letters, digits and '-'")
        if not isinstance(body, dict):
            problems.add(f, path, None, None, "a table")
            continue
        for key in body:
            if key not in PROFILE_KEYS:
                problems.add(f, f"{path}.{key}", key, None, f"one of: {', '.join(PROFILE_KEYS)}")
        name = body.get("name", pid)
        if not isinstance(name, str) or not single_line(name):
            problems.add(f, f"{path}.name", "name", name, "a string on one line, without control characters")
            name = pid
        source = body.get("source", "")
        if not isinstance(source, str) or not source.strip():
            problems.add(f, f"{path}.source", "source", source if isinstance(source, str) else None,
                         "a string saying where the numbers come from")
            source = ""
        factors: dict[int, float] = {}
        mf = body.get("month_factor", {})
        if not isinstance(mf, dict):
            problems.add(f, f"{path}.month_factor", "month_factor", None, "a table { month = factor }")
            mf = {}
        for month, factor in mf.items():
            mpath = f"{path}.month_factor.{month}"
            if not str(month).isdigit() or not 1 <= int(month) <= 12:
                problems.add(f, mpath, "month_factor", month, "a month number 1..12")
            elif isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 10:
                problems.add(f, mpath, "month_factor", factor, "a factor 0..10 (results are clipped to 0..1)")
            else:
                factors[int(month)] = float(factor)
        curves = _parse_curves(body.get("curves"), f"{path}.curves", f, problems, ("weekday", "sunday"))
        seasons: list[Season] = []
        raw_seasons = body.get("seasons", [])
        if not isinstance(raw_seasons, list):
            problems.add(f, f"{path}.seasons", "seasons", None, "an array of tables [[profiles.<id>.seasons]]")
            raw_seasons = []
        taken: dict[int, str] = {}
        for i, season in enumerate(raw_seasons):
            spath = f"{path}.seasons[{i}]"
            if not isinstance(season, dict):
                problems.add(f, spath, None, None, "a table with name, months, curves")
                continue
            for key in season:
                if key not in SEASON_KEYS:
                    problems.add(f, f"{spath}.{key}", key, None, f"one of: {', '.join(SEASON_KEYS)}")
            sname = season.get("name", f"season {i + 1}")
            months = season.get("months")
            if (
                not isinstance(months, list) or not months
                or any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months)
            ):
                problems.add(f, f"{spath}.months", "months", months, "a non-empty list of month numbers 1..12")
                months = []
            for m in months:
                if m in taken:
                    problems.add(f, f"{spath}.months", "months", m, f"each month in one season (also in {taken[m]!r})")
                taken[m] = str(sname)
            scurves = _parse_curves(season.get("curves"), f"{spath}.curves", f, problems, ())
            seasons.append(Season(nfc(str(sname)), tuple(months), scurves))
        if problems.count > before or "weekday" not in curves or "sunday" not in curves:
            continue
        curves.setdefault("market", curves["weekday"])
        curves.setdefault("holiday", curves["sunday"])
        profiles[pid] = AudienceProfile(pid, nfc(name), curves, tuple(seasons), factors, nfc(source))
    return profiles


# --------------------------------------------------------------------------- sites.csv


def _load_sites(
    root: Path, problems: Problems, area_ids: set[str], profiles: dict[str, AudienceProfile], profiles_ok: bool
) -> tuple[list[Site], dict[str, int]]:
    table = read_csv(root, "sites.csv", SITE_COLUMNS, SITE_REQUIRED, problems)
    if table is None:
        return [], {}
    f = table.file
    sites: list[Site] = []
    lines: dict[str, int] = {}
    for row in table.rows():
        c = Cells(problems, f, row)
        ident = c.slug("site_id")
        name = c.text("name")
        area = c.slug("area_id")
        if area and area_ids and area not in area_ids:
            c.bad("area_id", area, "an area_id from areas.csv")
        kind = c.choice("kind", SITE_KINDS)
        tech = c.choice("technology", TECHNOLOGIES)
        population = c.integer("population", lo=0, hi=MAX_POPULATION)
        population_source = c.text("population_source")
        languages = c.languages("languages")
        profile = c.slug("profile")
        if profile and profiles_ok and profile not in profiles:
            c.bad("profile", profile, f"a profile id from profiles.toml ({', '.join(sorted(profiles)) or 'none'})")
        market = c.days("market_days")
        sync = c.slug("sync_group", required=False)
        has_station = c.yes_no("has_station", required=False, default=True)
        if ident is None:
            continue
        if ident in lines:
            problems.add(f, row["_line"], "site_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        if not c.ok:
            continue
        sites.append(
            Site(ident, name, area, kind, tech, population, languages, profile, market, sync, has_station,
                 population_source)
        )
    # sync groups: one transmitter, one schedule: members must agree on what shapes a schedule
    groups: dict[str, list[Site]] = defaultdict(list)
    for s in sites:
        if s.sync_group:
            groups[s.sync_group].append(s)
    for group, members in groups.items():
        first = members[0]
        for s in members[1:]:
            for field, attr in (("kind", "kind"), ("languages", "languages"), ("profile", "profile_id"),
                                ("has_station", "has_station")):
                a, b = getattr(first, attr), getattr(s, attr)
                if a != b:
                    shown = ";".join(b) if isinstance(b, tuple) else b
                    problems.add(
                        f, lines[s.id], field, shown,
                        f"the same {field} as {first.id} (line {lines[first.id]}), since sync group "
                        f"{group!r} airs one schedule",
                    )
        total = sum(s.population for s in members)
        if total > MAX_GROUP_POPULATION:
            problems.add(f, lines[members[-1].id], "population", total,
                         f"at most {MAX_GROUP_POPULATION:,} people in all sites of sync group {group!r} "
                         "together (a bound that keeps the solver's integer objective safe)")
    return sites, lines


# --------------------------------------------------------------------------- relays.csv or relays.ics


def _relay_from_cells(c: Cells, known_scope: set[str]) -> Relay | None:
    ident = c.slug("relay_id")
    source = c.text("source")
    title = c.text("title")
    days = c.days("days", required=True, allow_daily=True)
    start = c.time("start")
    duration = c.integer("duration_s", lo=1, hi=86400)
    if start is not None and duration is not None and start + math.ceil(duration / 60) > 1440:
        c.bad("duration_s", str(duration), f"a programme that ends by 24:00 (starts {c.row['start']})")
    mode = c.choice("mode", RELAY_MODES)
    delay = c.integer("max_delay_min", lo=0, hi=1440, required=(mode == "deferred"))
    if mode == "live" and delay:
        c.bad("max_delay_min", str(delay), "empty or 0 for a live relay (use mode=deferred to allow a delay)")
    mandatory = c.yes_no("mandatory")
    language = c.languages("language", many=False)
    url = c.text("stream_url", required=False)
    if url and not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", url):
        c.bad("stream_url", url, "a URL such as https://... (or empty)")
    scope = c.items("scope")
    for s in scope:
        if s not in known_scope:
            c.bad("scope", s, "area ids from areas.csv (or site ids), separated by ';'")
    kinds = c.items("site_kinds")
    for k in kinds:
        if k not in SITE_KINDS:
            c.bad("site_kinds", k, f"kinds from {', '.join(SITE_KINDS)} separated by ';' (empty = both)")
    if not c.ok or ident is None:
        return None
    return Relay(ident, source, title, days, start, duration, mode, delay or 0, mandatory, language[0],
                 url or None, scope, tuple(kinds) or SITE_KINDS)


def _load_relays(root: Path, problems: Problems, known_scope: set[str]) -> tuple[list[Relay], dict[str, Any], str]:
    """The relays of relays.csv, or of relays.ics when there is no CSV; their lines; the file."""
    has_csv, has_ics = (root / "relays.csv").exists(), (root / "relays.ics").exists()
    if has_csv and has_ics:
        problems.add("relays.ics", None, None, None, "either relays.csv or relays.ics, not both")
    if has_ics and not has_csv:
        return (*_load_relays_ics(root, problems, known_scope), "relays.ics")
    return (*_load_relays_csv(root, problems, known_scope), "relays.csv")


def _load_relays_csv(root: Path, problems: Problems, known_scope: set[str]):
    table = read_csv(root, "relays.csv", RELAY_COLUMNS, RELAY_REQUIRED, problems)
    if table is None:
        return [], {}
    relays, lines = [], {}
    for row in table.rows():
        c = Cells(problems, table.file, row)
        relay = _relay_from_cells(c, known_scope)
        ident = row["relay_id"]
        if ident and ident in lines:
            problems.add(table.file, row["_line"], "relay_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        if ident:
            lines[ident] = row["_line"]
        if relay is not None:
            relays.append(relay)
    return relays, lines


def _load_relays_ics(root: Path, problems: Problems, known_scope: set[str]):
    """One VEVENT per relay: its properties become a relays.csv row, checked by the same rules."""
    f = "relays.ics"
    events = read_ics(root, f, problems, required=True)
    if events is None:
        return [], {}
    relays, lines = [], {}
    for i, ev in enumerate(events, start=1):
        uid = ics_text(ev, "UID")
        where = f"VEVENT {uid or '#' + str(i)}"
        row: dict[str, Any] = {"_line": where}
        row["relay_id"] = uid
        row["title"] = ics_text(ev, "SUMMARY")
        row["source"] = ics_text(ev, "X-LOA-SOURCE")
        row["mode"] = ics_text(ev, "X-LOA-MODE").lower()
        row["max_delay_min"] = ics_text(ev, "X-LOA-MAX-DELAY")
        row["mandatory"] = ics_text(ev, "X-LOA-MANDATORY").lower()
        row["language"] = ics_text(ev, "X-LOA-LANGUAGE")
        row["scope"] = ics_text(ev, "X-LOA-SCOPE")
        row["site_kinds"] = ics_text(ev, "X-LOA-SITE-KINDS")
        row["stream_url"] = ics_text(ev, "URL")
        row["start"], row["duration_s"], row["days"] = "", "", ""
        c = Cells(problems, f, row)
        try:
            start = ev.decoded("DTSTART")
        except Exception:
            start = None
        if isinstance(start, datetime):
            if start.tzinfo is not None:
                start = start.astimezone(LOCAL_TZ)
            row["start"] = f"{start.hour:02d}:{start.minute:02d}"
        else:
            c.bad("DTSTART", ics_text(ev, "DTSTART"), "a date-time (the source air time)")
            start = None
        try:
            if "DURATION" in ev:
                dur = ev.decoded("DURATION")
            elif "DTEND" in ev and start is not None:
                end = ev.decoded("DTEND")
                end = end.astimezone(LOCAL_TZ) if getattr(end, "tzinfo", None) else end
                dur = end - start
            else:
                dur = None
        except Exception:
            dur = None
        if isinstance(dur, timedelta) and dur.total_seconds() > 0:
            row["duration_s"] = str(int(dur.total_seconds()))
        else:
            c.bad("DURATION", ics_text(ev, "DURATION"), "a positive DURATION (or DTEND after DTSTART)")
        days = weekly_days(ev, start, c.bad)
        if days:
            row["days"] = ";".join(DAY_NAMES[d] for d in days)
        if not c.ok:
            continue
        relay = _relay_from_cells(Cells(problems, f, row), known_scope)
        if uid and uid in lines:
            problems.add(f, where, "UID", uid, "a unique UID (the relay id)")
            continue
        if uid:
            lines[uid] = where
        if relay is not None:
            relays.append(relay)
    return relays, lines


# --------------------------------------------------------------------------- segments.csv


def _audio_file(root: Path, resolved_root: Path, audio: str, staged: Mapping[str, Path]) -> Path | str:
    """The file an `audio` cell names, or what is expected instead (inside the folder once links
    are resolved, an existing regular file; a link loop is named, never a traceback). A staged
    file stands in for a path that is not published yet (it must still lie inside the folder)."""
    path = root / audio
    if Path(audio).is_absolute() or ".." in Path(audio).parts or not is_inside(path, resolved_root):
        return "a path relative to the dataset folder, inside it (also after following symbolic links)"
    if audio in staged:
        path = Path(staged[audio])
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "an audio file, not a symbolic link that points to itself (a link loop)"
        return f"an existing audio file (not found under {root})"
    if not path.is_file():
        return "an audio file (this is not a regular file)"
    return path


def _unusable_audio(error: ProbeError) -> str:
    """What a segment's audio must be, worded for segments.csv, given why the probe refused it."""
    if error.reason == "empty":
        return "an audio file with sound (duration is 0 s)"
    if error.reason == "silent":
        return "an audio file with sound (every sample is zero)"
    last = error.detail.strip().splitlines()[-1:] or [error.reason]
    return f"a readable audio file (ffmpeg could not decode it: {last[0][:100]})"


def _load_segments(root: Path, problems: Problems, known_scope: set[str], producers: set[str] = frozenset(),
                   staged: Mapping[str, Path] = NOTHING_STAGED):
    table = read_csv(root, "segments.csv", SEGMENT_COLUMNS, SEGMENT_REQUIRED, problems,
                     path=staged.get("segments.csv"))
    if table is None:
        return [], {}
    f = table.file
    segments, lines = [], {}
    rows = list(table.rows())
    resolved_root = root.resolve()
    files = {a: _audio_file(root, resolved_root, a, staged) for a in {row["audio"] for row in rows if row["audio"]}}
    probes = audioprobe.probe_many(p for p in files.values() if isinstance(p, Path))  # all at once, threaded
    for row in rows:
        c = Cells(problems, f, row)
        ident = c.slug("segment_id")
        title = c.text("title")
        topic = c.integer("topic", lo=min(TOPICS), hi=max(TOPICS))
        language = c.languages("language", many=False)
        audio = c.text("audio")
        lo = c.integer("min_plays", lo=0, hi=7)
        hi = c.integer("max_plays", lo=0, hi=7)
        if lo is not None and hi is not None and lo > hi:
            c.bad("min_plays", str(lo), f"min_plays <= max_plays ({hi})")
        priority = c.integer("priority", lo=1, hi=5)
        valid_from, valid_to = c.day("valid_from"), c.day("valid_to")
        if valid_from and valid_to and valid_from > valid_to:
            c.bad("valid_to", row["valid_to"], f"a date on or after valid_from ({valid_from})")
        scope = c.items("scope")
        for s in scope:
            if s not in known_scope:
                c.bad("scope", s, "area ids from areas.csv (or site ids), separated by ';'")
        gap = c.integer("min_gap_min", lo=0, hi=7 * 1440, required=False)
        note, source = c.text("note", required=False), c.text("source", required=False)
        level = c.choice("level", BULLETIN_LEVELS, required=False)
        producer = c.slug("producer", required=False)
        if producer and producer not in producers:
            c.bad("producer", producer, "an area_id from areas.csv or a group_id from groups.csv (who makes it)")
        info: AudioInfo | None = None
        if audio:
            found = files[audio]
            result = probes[found] if isinstance(found, Path) else found
            if isinstance(result, str):
                c.bad("audio", audio, result)
            elif isinstance(result, ProbeError):
                c.bad("audio", audio, _unusable_audio(result))
            else:
                info = result
        if ident is None:
            continue
        if ident in lines:
            problems.add(f, row["_line"], "segment_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        if not c.ok or info is None:
            continue
        segments.append(
            Segment(ident, title, topic, language[0], audio, math.ceil(info.duration_s), lo, hi, priority,
                    valid_from, valid_to, scope, gap, note=note, source=source, sha256=info.sha256,
                    producer=producer, level=level)
        )
    return segments, lines


# --------------------------------------------------------------------------- blackouts.ics


def _load_blackouts(root: Path, problems: Problems, known_scope: set[str]) -> list[Blackout]:
    f = "blackouts.ics"
    if not (root / f).exists():
        return []
    events = read_ics(root, f, problems, required=False)
    if events is None:
        return []
    out, seen = [], set()
    for i, ev in enumerate(events, start=1):
        uid = ics_text(ev, "UID")
        where = f"VEVENT {uid or '#' + str(i)}"
        ok = True
        if not uid:
            problems.add(f, where, "UID", None, "a UID")
            ok = False
        elif uid in seen:
            problems.add(f, where, "UID", uid, "a unique UID")
            ok = False
        seen.add(uid)
        try:
            start = local_time(ev.decoded("DTSTART"))
        except Exception:
            start = None
        if start is None:
            problems.add(f, where, "DTSTART", ics_text(ev, "DTSTART"), "a date or date-time")
            ok = False
        end = None
        try:
            if "DTEND" in ev:
                end = local_time(ev.decoded("DTEND"))
            elif "DURATION" in ev and start is not None:
                end = start + ev.decoded("DURATION")
            elif start is not None and not isinstance(ev.decoded("DTSTART"), datetime):
                end = start + timedelta(days=1)  # an all-day event without DTEND
        except Exception:
            end = None
        if start is not None and (end is None or end <= start):
            problems.add(f, where, "DTEND", ics_text(ev, "DTEND"), "an end after DTSTART (DTEND or DURATION)")
            ok = False
        scope = tuple(p.strip() for p in ics_text(ev, "X-LOA-SCOPE").split(";") if p.strip())
        for s in scope:
            if s not in known_scope:
                problems.add(f, where, "X-LOA-SCOPE", s, "area ids from areas.csv (or site ids), separated by ';'")
                ok = False
        suspends = ics_text(ev, "X-LOA-SUSPENDS-RELAYS").lower()
        if suspends not in ("", "yes", "no"):
            problems.add(f, where, "X-LOA-SUSPENDS-RELAYS", suspends, "yes or no")
            ok = False
        title = ics_text(ev, "SUMMARY")
        if not single_line(title) or not single_line(uid):
            field = "SUMMARY" if not single_line(title) else "UID"
            problems.add(f, where, field, ics_text(ev, field), "text on one line, without control characters")
            ok = False
        if ok:
            out.append(Blackout(uid, title, start, end, scope, suspends_relays=suspends == "yes"))
    return out


# --------------------------------------------------------------------------- policy.toml


def _load_policy(root: Path, problems: Problems) -> Policy | None:
    """The dataset's policy.toml, or None (its problems recorded)."""
    if not (root / "policy.toml").exists():
        problems.add("policy.toml", None, None, None, f"the file to exist in {root}")
        return None
    try:
        return policy_mod.load_policy(root / "policy.toml")
    except DataError as exc:
        problems.extend(exc.problems)
        return None


# --------------------------------------------------------------------------- entry point


def load_dataset(path: str | Path, staged: Mapping[str, Path] | None = None) -> Dataset:
    """Read and validate a dataset folder; raises DataError listing every problem found.

    The dataset comes back with every site's rules resolved (`site_policies`). `staged` maps
    names relative to the folder ("segments.csv", "audio/x.ogg") to files that stand in for them:
    a change is validated exactly as it will load, before it is published (`loa add-item`).
    Only segments.csv and segment audio can be staged.
    """
    staged = dict(staged or {})
    unknown = [name for name in staged if name in DATASET_FILES and name != "segments.csv"]
    if unknown:
        raise ValueError(f"only segments.csv and audio files can be staged, not {', '.join(unknown)}")
    root = Path(path)
    problems = Problems()
    if not root.is_dir():
        raise DataError(Problem(str(root), None, None, None, "a dataset folder (see docs/dataset-format.md)"))
    name, country = _load_meta(root, problems)
    groups, group_lines = _load_groups(root, problems)
    areas, area_lines = _load_areas(root, problems, group_lines)
    profiles_before = problems.count
    profiles = _load_profiles(root, problems)
    profiles_ok = problems.count == profiles_before
    sites, site_lines = _load_sites(root, problems, set(area_lines), profiles, profiles_ok)
    for ident in sorted(set(site_lines) & set(group_lines)):
        problems.add("sites.csv", site_lines[ident], "site_id", ident,
                     f"an id that is not also a group_id (groups.csv line {group_lines[ident]})")
    known_scope = set(area_lines) | set(site_lines) | set(group_lines)
    relays, relay_lines, relay_file = _load_relays(root, problems, known_scope)
    segments, segment_lines = _load_segments(root, problems, known_scope, set(area_lines) | set(group_lines), staged)
    blackouts = _load_blackouts(root, problems, known_scope)
    policy = _load_policy(root, problems)
    if policy is not None:
        check_policy_ids(policy, set(area_lines), set(site_lines), problems, set(group_lines))
        if not any(p.file in ("relays.csv", "relays.ics") for p in problems):
            problems.extend(check_relay_minimum_keys(policy, tuple(relays)))

    # ids that are both an area and a site are fine (a commune and its station often share one)
    dataset = Dataset(
        name=name, root=root, areas=tuple(areas), sites=tuple(sites), profiles=profiles,
        relays=tuple(relays), segments=tuple(segments), blackouts=tuple(blackouts),
        policy=policy or Policy(base={}, overrides={}), country=country, groups=tuple(groups),
    )
    dataset = replace(dataset, site_policies=policy_mod.resolve_site_policies(dataset))
    if not problems.more and not any(p.file == "areas.csv" for p in problems):
        check_profile_coordinates(dataset, site_lines, problems)
        check_relay_overlaps(dataset, relay_lines, relay_file, problems)
        if policy is not None and not any(p.file == policy.source for p in problems):
            check_segment_fit(dataset, segment_lines, problems)
    if problems:
        raise DataError(list(problems), more=problems.more)
    lines = {"sites.csv": site_lines, relay_file: relay_lines, "segments.csv": segment_lines}
    warnings = [*problems.warnings, *lint.dataset_warnings(dataset, lines, relay_file)]
    return replace(dataset, fingerprint=_fingerprint(root, dataset.segments, staged), warnings=tuple(warnings))


DATASET_FILES = ("dataset.toml", "areas.csv", "groups.csv", "sites.csv", "profiles.toml", "relays.csv", "relays.ics",
                 "segments.csv", "policy.toml", "blackouts.ics")


def _fingerprint(root: Path, segments: tuple[Segment, ...],
                 staged: Mapping[str, Path] = NOTHING_STAGED) -> str:
    """sha256 over every file a plan depends on (the dataset's files and its segments' audio), so
    a plan tells which version of the dataset it was made from (a staged file counts as published)."""
    digest = hashlib.sha256()
    for name in DATASET_FILES:
        path = Path(staged.get(name, root / name))
        if path.is_file():
            digest.update(f"{name}\t{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    for seg in sorted(segments, key=lambda s: s.audio):
        digest.update(f"{seg.audio}\t{seg.sha256}\n".encode())
    return digest.hexdigest()
