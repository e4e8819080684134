"""Read a dataset folder into validated domain objects (format: docs/dataset-format.md).

All validation lives here. `load_dataset` collects every problem it finds, each naming the file,
the line (CSV: header = line 1) or TOML key, the field, the bad value and what is expected, and
raises one `DataError` with all of them. Nothing else ever escapes for bad data.

CSV files are split into records with the `csv` module (which knows the line each record starts
on, even with quoted newlines) and handed to pandas as strings (dtype=str, no NA guessing).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import pandas as pd

from . import policy as policy_mod
from .audience import uses_sun
from .domain import (
    DAY_NAMES,
    DAY_TYPES,
    RELAY_MODES,
    SITE_KINDS,
    TECHNOLOGIES,
    TIMEZONE,
    TOPICS,
    Area,
    AudienceProfile,
    Blackout,
    CurvePoint,
    Dataset,
    Policy,
    Relay,
    Season,
    Segment,
    Site,
)
from .errors import DataError, Problem
from .fsutil import write_text_atomic

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")
_ANCHOR_RE = re.compile(r"^(sunrise|sunset)\s*(?:([+-])\s*(\d{1,4}))?$")
_TZ = ZoneInfo(TIMEZONE)

AREA_COLUMNS = ("area_id", "name", "kind", "parent_id", "code", "lat", "lon", "source")
AREA_REQUIRED = ("area_id", "name", "kind", "source")
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
    "valid_from", "valid_to", "scope", "min_gap_min", "source", "note",
)
SEGMENT_REQUIRED = SEGMENT_COLUMNS[:8]
DATASET_KEYS = ("name", "country", "description", "sources")
PROFILE_KEYS = ("name", "source", "month_factor", "curves", "seasons")
SEASON_KEYS = ("name", "months", "curves")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class _Problems(list):
    def add(self, file: str, line: int | str | None, field: str | None, value: Any, expected: str) -> None:
        self.append(Problem(file, line, field, value, expected))


# --------------------------------------------------------------------------- reading files


def _read_text(root: Path, name: str, problems: _Problems, required: bool = True) -> str | None:
    """The file's text: UTF-8 (BOM tolerated), not empty; None (and a problem) otherwise."""
    path = root / name
    if not path.exists():
        if required:
            problems.add(name, None, None, None, f"the file to exist in {root}")
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(name, None, None, None, f"a readable file ({exc.strerror or exc})")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(name, line, None, raw[exc.start : exc.start + 4].hex(" "), "UTF-8 text (save the file as UTF-8)")
        return None
    if not text.strip():
        problems.add(name, None, None, None, "a non-empty file")
        return None
    if "\x00" in text:
        problems.add(name, text[: text.index("\x00")].count("\n") + 1, None, None, "text without NUL bytes")
        return None
    return text


@dataclass
class _Table:
    file: str
    frame: pd.DataFrame  # one column per header cell (strings, stripped) + "_line"

    def rows(self) -> Iterable[dict[str, str]]:
        return self.frame.to_dict("records")


def _read_csv(
    root: Path, name: str, columns: tuple[str, ...], required: tuple[str, ...], problems: _Problems,
    must_exist: bool = True,
) -> _Table | None:
    text = _read_text(root, name, problems, required=must_exist)
    if text is None:
        return None
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last = 0
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            records.append((start, row))
    except csv.Error as exc:
        problems.add(name, last + 1, None, None, f"well-formed CSV ({exc})")
        return None
    if not records:
        problems.add(name, None, None, None, "a header row")
        return None
    header_line, header = records[0]
    header = [nfc(h.strip()).lower() for h in header]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    dupes = sorted({h for h in header if header.count(h) > 1})
    expected_cols = f"columns {', '.join(columns)} (required: {', '.join(required)})"
    if missing:
        problems.add(name, header_line, ", ".join(missing), None, f"missing column(s); expected {expected_cols}")
    if unknown:
        problems.add(name, header_line, ", ".join(unknown), None, f"unknown column(s); expected {expected_cols}")
    if dupes:
        problems.add(name, header_line, ", ".join(dupes), None, "each column once")
    if missing or unknown or dupes:
        return None
    good: list[list[str]] = []
    for line, row in records[1:]:
        if len(row) != len(header):
            problems.add(
                name, line, None, ",".join(row)[:80],
                f"{len(header)} cells like the header ({len(row)} found; quote cells that contain commas)",
            )
            continue
        good.append([nfc(c.strip()) for c in row] + [line])
    frame = pd.DataFrame(good, columns=[*header, "_line"], dtype=object)
    for col in columns:
        if col not in frame.columns:
            frame[col] = ""
    frame[list(columns)] = frame[list(columns)].astype(str)
    return _Table(name, frame)


def _read_toml(root: Path, name: str, problems: _Problems, required: bool = True) -> dict | None:
    text = _read_text(root, name, problems, required=required)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(name, policy_mod.toml_error_line(exc), None, None, f"valid TOML ({exc})")
        return None


# --------------------------------------------------------------------------- cell parsers


class _Cells:
    """Parses the cells of one CSV row, recording a problem for each bad one."""

    def __init__(self, problems: _Problems, file: str, row: dict[str, Any]):
        self.problems, self.file, self.row, self.line = problems, file, row, row["_line"]
        self.ok = True

    def bad(self, field: str, value: Any, expected: str) -> None:
        self.ok = False
        self.problems.add(self.file, self.line, field, value, expected)

    def text(self, field: str, required: bool = True) -> str:
        value = self.row.get(field, "")
        if required and not value:
            self.bad(field, value, "a value (this column is required)")
        return value

    def slug(self, field: str, required: bool = True) -> str | None:
        value = self.text(field, required)
        if not value:
            return None
        if not SLUG_RE.match(value):
            self.bad(field, value, "an id: lowercase ASCII letters, digits and '-' (e.g. chu-se-ia-blang)")
        return value

    def choice(self, field: str, allowed: Iterable[str], required: bool = True, default: str = "") -> str:
        value = self.text(field, required) or default
        if value and value not in allowed:
            self.bad(field, value, f"one of: {', '.join(allowed)}")
        return value

    def integer(self, field: str, lo: int | None = None, hi: int | None = None, required: bool = True) -> int | None:
        value = self.text(field, required)
        if not value:
            return None
        rng = f" {lo}..{hi}" if lo is not None and hi is not None else (f" >= {lo}" if lo is not None else "")
        try:
            number = int(value)
        except ValueError:
            self.bad(field, value, f"a whole number{rng}")
            return None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            self.bad(field, value, f"a whole number{rng}")
            return None
        return number

    def number(self, field: str, lo: float, hi: float) -> float | None:
        value = self.text(field, required=False)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (lo <= number <= hi):
            self.bad(field, value, f"a decimal number {lo:g}..{hi:g}")
            return None
        return number

    def yes_no(self, field: str, required: bool = True, default: bool = True) -> bool:
        value = self.text(field, required).lower()
        if not value:
            return default
        if value not in ("yes", "no"):
            self.bad(field, value, "yes or no")
            return default
        return value == "yes"

    def items(self, field: str, required: bool = False) -> tuple[str, ...]:
        value = self.text(field, required)
        return tuple(p.strip() for p in value.split(";") if p.strip())

    def days(self, field: str, required: bool = False, allow_daily: bool = False) -> tuple[int, ...]:
        parts = self.items(field, required)
        if allow_daily and [p.lower() for p in parts] == ["daily"]:
            return tuple(range(7))
        out = []
        for p in parts:
            if p.lower() not in DAY_NAMES:
                extra = " or 'daily'" if allow_daily else ""
                self.bad(field, p, f"days from {' '.join(DAY_NAMES)} separated by ';'{extra}")
                return ()
            out.append(DAY_NAMES.index(p.lower()))
        return tuple(sorted(set(out)))

    def languages(self, field: str, required: bool = True, many: bool = True) -> tuple[str, ...]:
        parts = self.items(field, required) if many else tuple(filter(None, [self.text(field, required)]))
        for p in parts:
            if not LANG_RE.match(p):
                self.bad(field, p, "language codes: 2-3 lowercase letters (vi, jra, bdq)")
                return ()
        return parts

    def time(self, field: str) -> int | None:
        value = self.text(field)
        if not value:
            return None
        try:
            return policy_mod.parse_time(value, allow_24=False)
        except ValueError:
            self.bad(field, value, "a time HH:MM within 00:00-23:59")
            return None

    def day(self, field: str) -> date | None:
        value = self.text(field, required=False)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(field, value, "a date YYYY-MM-DD")
            return None


# --------------------------------------------------------------------------- dataset.toml


def _load_meta(root: Path, problems: _Problems) -> tuple[str, str]:
    name, country = root.name, "VN"
    tree = _read_toml(root, "dataset.toml", problems)
    if tree is None:
        return name, country
    f = "dataset.toml"
    for key, value in tree.items():
        if key not in DATASET_KEYS:
            problems.add(f, key, key, None, f"one of: {', '.join(DATASET_KEYS)}")
    if "name" in tree:
        if isinstance(tree["name"], str) and tree["name"].strip():
            name = nfc(tree["name"].strip())
        else:
            problems.add(f, "name", "name", tree["name"], "a non-empty string")
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


# --------------------------------------------------------------------------- areas


def _load_areas(root: Path, problems: _Problems) -> tuple[list[Area], dict[str, int]]:
    table = _read_csv(root, "areas.csv", AREA_COLUMNS, AREA_REQUIRED, problems)
    if table is None:
        return [], {}
    f = table.file
    areas: list[Area] = []
    lines: dict[str, int] = {}
    for row in table.rows():
        c = _Cells(problems, f, row)
        ident = c.slug("area_id")
        name = c.text("name")
        kind = c.text("kind")
        parent = c.slug("parent_id", required=False)
        lat = c.number("lat", -90, 90)
        lon = c.number("lon", -180, 180)
        if (lat is None) != (lon is None) and c.ok:
            c.bad("lon" if lon is None else "lat", "", "lat and lon together (or neither)")
        c.text("source")
        if ident is None or not c.ok:
            if ident:
                lines.setdefault(ident, row["_line"])
            continue
        if ident in lines:
            problems.add(f, row["_line"], "area_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        areas.append(Area(ident, name, kind, parent, row["code"], lat, lon, row["source"]))
    ids = set(lines)
    by_id = {a.id: a for a in areas}
    for a in areas:
        if a.parent_id is not None and a.parent_id not in ids:
            problems.add(f, lines[a.id], "parent_id", a.parent_id, "an existing area_id (or empty for the root)")
    roots = [a for a in areas if a.parent_id is None]
    if areas and not roots:
        problems.add(f, None, "parent_id", None, "exactly one root area (one row with an empty parent_id); none found")
    elif len(roots) > 1:
        for a in roots[1:]:
            problems.add(
                f, lines[a.id], "parent_id", "",
                f"exactly one root area ({roots[0].id} on line {lines[roots[0].id]} is already the root)",
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


# --------------------------------------------------------------------------- profiles


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
        return CurvePoint("clock", policy_mod.parse_time(when, allow_24=False), float(value))
    except ValueError:
        return "a time 'HH:MM' (00:00-23:59), 'sunrise' or 'sunset' with optional +N/-N minutes"


def _parse_curves(tree: Any, path: str, f: str, problems: _Problems, required: tuple[str, ...]):
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


def _load_profiles(root: Path, problems: _Problems) -> dict[str, AudienceProfile]:
    f = "profiles.toml"
    tree = _read_toml(root, f, problems)
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
        before = len(problems)
        if not SLUG_RE.match(pid):
            problems.add(f, path, "id", pid, "an id: lowercase ASCII letters, digits and '-'")
        if not isinstance(body, dict):
            problems.add(f, path, None, None, "a table")
            continue
        for key in body:
            if key not in PROFILE_KEYS:
                problems.add(f, f"{path}.{key}", key, None, f"one of: {', '.join(PROFILE_KEYS)}")
        name = body.get("name", pid)
        if not isinstance(name, str):
            problems.add(f, f"{path}.name", "name", name, "a string")
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
        if len(problems) > before or "weekday" not in curves or "sunday" not in curves:
            continue
        curves.setdefault("market", curves["weekday"])
        curves.setdefault("holiday", curves["sunday"])
        profiles[pid] = AudienceProfile(pid, nfc(name), curves, tuple(seasons), factors, nfc(source))
    return profiles


def _profile_uses_sun(profile: AudienceProfile) -> bool:
    return any(uses_sun(c) for c in profile.curves.values()) or any(
        uses_sun(c) for s in profile.seasons for c in s.curves.values()
    )


# --------------------------------------------------------------------------- sites


def _load_sites(
    root: Path, problems: _Problems, area_ids: set[str], profiles: dict[str, AudienceProfile], profiles_ok: bool
) -> tuple[list[Site], dict[str, int]]:
    table = _read_csv(root, "sites.csv", SITE_COLUMNS, SITE_REQUIRED, problems)
    if table is None:
        return [], {}
    f = table.file
    sites: list[Site] = []
    lines: dict[str, int] = {}
    for row in table.rows():
        c = _Cells(problems, f, row)
        ident = c.slug("site_id")
        name = c.text("name")
        area = c.slug("area_id")
        if area and area_ids and area not in area_ids:
            c.bad("area_id", area, "an area_id from areas.csv")
        kind = c.choice("kind", SITE_KINDS)
        tech = c.choice("technology", TECHNOLOGIES)
        population = c.integer("population", lo=0)
        c.text("population_source")
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
                 row["population_source"])
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
    return sites, lines


# --------------------------------------------------------------------------- relays


def _relay_from_cells(c: _Cells, known_scope: set[str]) -> Relay | None:
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


def _load_relays_csv(root: Path, problems: _Problems, known_scope: set[str]):
    table = _read_csv(root, "relays.csv", RELAY_COLUMNS, RELAY_REQUIRED, problems)
    if table is None:
        return [], {}
    relays, lines = [], {}
    for row in table.rows():
        c = _Cells(problems, table.file, row)
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


def _parse_ics(root: Path, name: str, problems: _Problems, required: bool):
    text = _read_text(root, name, problems, required=required)
    if text is None:
        return None
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(text)
        events = list(cal.walk("VEVENT"))
    except Exception as exc:  # icalendar raises ValueError and friends for any malformed input
        problems.add(name, None, None, None, f"a valid iCalendar file ({str(exc)[:120]})")
        return None
    return events


def _ics_text(event, key: str) -> str:
    value = event.get(key)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return nfc(str(value).strip())


_ICS_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}


def _load_relays_ics(root: Path, problems: _Problems, known_scope: set[str]):
    f = "relays.ics"
    events = _parse_ics(root, f, problems, required=True)
    if events is None:
        return [], {}
    relays, lines = [], {}
    for i, ev in enumerate(events, start=1):
        uid = _ics_text(ev, "UID")
        where = f"VEVENT {uid or '#' + str(i)}"
        row: dict[str, Any] = {"_line": where}
        row["relay_id"] = uid
        row["title"] = _ics_text(ev, "SUMMARY")
        row["source"] = _ics_text(ev, "X-LOA-SOURCE")
        row["mode"] = _ics_text(ev, "X-LOA-MODE").lower()
        row["max_delay_min"] = _ics_text(ev, "X-LOA-MAX-DELAY")
        row["mandatory"] = _ics_text(ev, "X-LOA-MANDATORY").lower()
        row["language"] = _ics_text(ev, "X-LOA-LANGUAGE")
        row["scope"] = _ics_text(ev, "X-LOA-SCOPE")
        row["site_kinds"] = _ics_text(ev, "X-LOA-SITE-KINDS")
        row["stream_url"] = _ics_text(ev, "URL")
        row["start"], row["duration_s"], row["days"] = "", "", ""
        c = _Cells(problems, f, row)
        try:
            start = ev.decoded("DTSTART")
        except Exception:
            start = None
        if isinstance(start, datetime):
            if start.tzinfo is not None:
                start = start.astimezone(_TZ)
            row["start"] = f"{start.hour:02d}:{start.minute:02d}"
        else:
            c.bad("DTSTART", _ics_text(ev, "DTSTART"), "a date-time (the source air time)")
        try:
            if "DURATION" in ev:
                dur = ev.decoded("DURATION")
            elif "DTEND" in ev and isinstance(start, datetime):
                end = ev.decoded("DTEND")
                end = end.astimezone(_TZ) if getattr(end, "tzinfo", None) else end
                dur = end - start.replace(tzinfo=None) if start.tzinfo is None else end - start
            else:
                dur = None
        except Exception:
            dur = None
        if isinstance(dur, timedelta) and dur.total_seconds() > 0:
            row["duration_s"] = str(int(dur.total_seconds()))
        else:
            c.bad("DURATION", _ics_text(ev, "DURATION"), "a positive DURATION (or DTEND after DTSTART)")
        rrule = ev.get("RRULE")
        if isinstance(rrule, list):
            rrule = rrule[0] if len(rrule) == 1 else None
        try:
            freq = [str(x).upper() for x in (rrule.get("FREQ") or [])] if rrule is not None else []
            byday = [str(x).upper() for x in (rrule.get("BYDAY") or [])] if rrule is not None else []
            shown = rrule.to_ical().decode() if rrule is not None else ""
        except Exception:
            freq, byday, shown = [], [], _ics_text(ev, "RRULE")
        if freq != ["WEEKLY"]:
            c.bad("RRULE", shown, "one RRULE:FREQ=WEEKLY;BYDAY=MO,TU,...")
        elif not byday and isinstance(start, datetime):
            row["days"] = DAY_NAMES[start.weekday()]
        elif any(d not in _ICS_DAYS for d in byday):
            c.bad("RRULE", ",".join(byday), f"BYDAY from {', '.join(_ICS_DAYS)}")
        else:
            row["days"] = ";".join(_ICS_DAYS[d] for d in byday)
        if not c.ok:
            continue
        relay = _relay_from_cells(_Cells(problems, f, row), known_scope)
        if uid and uid in lines:
            problems.add(f, where, "UID", uid, "a unique UID (the relay id)")
            continue
        if uid:
            lines[uid] = where
        if relay is not None:
            relays.append(relay)
    return relays, lines


# --------------------------------------------------------------------------- segments


_DURATION_CACHE: dict[str, int] = {}


def _cache_file() -> Path | None:
    """Where probed durations persist between runs: $LOA_CACHE_DIR, else $XDG_CACHE_HOME/loa or
    ~/.cache/loa. `LOA_CACHE_DIR=off` disables it."""
    configured = os.environ.get("LOA_CACHE_DIR")
    if configured == "off":
        return None
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loa"
    return base / "durations.json"


def _load_disk_cache() -> dict[str, int]:
    path = _cache_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
        return {k: int(v) for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_disk_cache(new: dict[str, int]) -> None:
    path = _cache_file()
    if not path or not new:
        return
    try:
        merged = {**_load_disk_cache(), **new}
        write_text_atomic(path, json.dumps(merged, sort_keys=True))
    except OSError:
        pass  # a cache only: never fail a run because it cannot be written


def _content_key(path: Path) -> str:
    data = path.read_bytes()
    return f"{len(data)}:{hashlib.sha256(data).hexdigest()}"


def probe_duration(path: Path) -> int:
    """Whole seconds (rounded up) of an audio file, decoded with pydub/ffmpeg.

    Memoised on the file's content (size + SHA-256), so copies and re-runs decode nothing twice.
    """
    key = _content_key(path)
    if key not in _DURATION_CACHE:
        from pydub import AudioSegment

        audio = AudioSegment.from_file(str(path))
        _DURATION_CACHE[key] = math.ceil(len(audio) / 1000)
    return _DURATION_CACHE[key]


def _probe_all(root: Path, resolved_root: Path, audios: set[str]) -> dict[str, int | Exception]:
    """Probe every existing audio file under the dataset, a few ffmpeg processes at a time."""
    paths = {}
    for audio in sorted(audios):
        path = root / audio
        try:
            if path.resolve().is_relative_to(resolved_root) and path.is_file():
                paths[audio] = path
        except (OSError, ValueError):
            continue

    keys = {}
    for audio, path in list(paths.items()):
        try:
            keys[audio] = _content_key(path)
        except OSError as exc:
            paths.pop(audio)
            keys[audio] = exc
    if any(isinstance(k, str) and k not in _DURATION_CACHE for k in keys.values()):
        _DURATION_CACHE.update({k: v for k, v in _load_disk_cache().items() if k not in _DURATION_CACHE})
    todo = {a: p for a, p in paths.items() if keys[a] not in _DURATION_CACHE}

    def one(path: Path) -> int | Exception:
        try:
            return probe_duration(path)
        except Exception as exc:  # pydub/ffmpeg: any failure means the file is unreadable
            return exc

    if len(todo) > 1:
        with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
            probed = dict(zip(todo, pool.map(one, todo.values())))
    else:
        probed = {a: one(p) for a, p in todo.items()}
    _save_disk_cache({keys[a]: v for a, v in probed.items() if isinstance(v, int)})
    return {a: (k if isinstance(k, Exception) else probed.get(a, _DURATION_CACHE.get(k))) for a, k in keys.items()}


def _load_segments(root: Path, problems: _Problems, known_scope: set[str]):
    table = _read_csv(root, "segments.csv", SEGMENT_COLUMNS, SEGMENT_REQUIRED, problems)
    if table is None:
        return [], {}
    f = table.file
    segments, lines = [], {}
    resolved_root = root.resolve()
    rows = list(table.rows())
    probes = _probe_all(root, resolved_root, {row["audio"] for row in rows if row["audio"]})
    for row in rows:
        c = _Cells(problems, f, row)
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
        duration = None
        if audio:
            path = (root / audio)
            try:
                inside = path.resolve().is_relative_to(resolved_root)
            except (OSError, ValueError):
                inside = False
            if Path(audio).is_absolute() or not inside:
                c.bad("audio", audio, "a path relative to the dataset folder, inside it")
            elif not path.is_file():
                c.bad("audio", audio, f"an existing audio file (not found under {root})")
            else:
                duration = probes.get(audio)
                if isinstance(duration, Exception):
                    reason = str(duration).strip().splitlines()[-1:] or [type(duration).__name__]
                    c.bad("audio", audio, f"a readable audio file (ffmpeg could not decode it: {reason[0][:100]})")
                    duration = None
                elif duration is not None and duration <= 0:
                    c.bad("audio", audio, "an audio file with sound (duration is 0 s)")
        if ident is None:
            continue
        if ident in lines:
            problems.add(f, row["_line"], "segment_id", ident, f"a unique id (already used on line {lines[ident]})")
            continue
        lines[ident] = row["_line"]
        if not c.ok:
            continue
        segments.append(
            Segment(ident, title, topic, language[0], audio, duration, lo, hi, priority, valid_from, valid_to,
                    scope, gap, note=row["note"], source=row["source"])
        )
    return segments, lines


# --------------------------------------------------------------------------- blackouts


def _local(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(_TZ).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _load_blackouts(root: Path, problems: _Problems, known_scope: set[str]) -> list[Blackout]:
    f = "blackouts.ics"
    if not (root / f).exists():
        return []
    events = _parse_ics(root, f, problems, required=False)
    if events is None:
        return []
    out, seen = [], set()
    for i, ev in enumerate(events, start=1):
        uid = _ics_text(ev, "UID")
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
            start = _local(ev.decoded("DTSTART"))
        except Exception:
            start = None
        if start is None:
            problems.add(f, where, "DTSTART", _ics_text(ev, "DTSTART"), "a date or date-time")
            ok = False
        end = None
        try:
            if "DTEND" in ev:
                end = _local(ev.decoded("DTEND"))
            elif "DURATION" in ev and start is not None:
                end = start + ev.decoded("DURATION")
            elif start is not None and not isinstance(ev.decoded("DTSTART"), datetime):
                end = start + timedelta(days=1)  # an all-day event without DTEND
        except Exception:
            end = None
        if start is not None and (end is None or end <= start):
            problems.add(f, where, "DTEND", _ics_text(ev, "DTEND"), "an end after DTSTART (DTEND or DURATION)")
            ok = False
        scope = tuple(p.strip() for p in _ics_text(ev, "X-LOA-SCOPE").split(";") if p.strip())
        for s in scope:
            if s not in known_scope:
                problems.add(f, where, "X-LOA-SCOPE", s, "area ids from areas.csv (or site ids), separated by ';'")
                ok = False
        if ok:
            out.append(Blackout(uid, _ics_text(ev, "SUMMARY"), start, end, scope))
    return out


# --------------------------------------------------------------------------- cross checks


def _check_policy_ids(policy: Policy, areas: set[str], sites: set[str], problems: _Problems) -> None:
    f = policy.source
    for key in policy.overrides:
        section, _, ident = key.partition(":")
        if section == "area" and ident not in areas:
            problems.add(f, f"area.{ident}", "area", ident, "an area_id from areas.csv")
        if section == "site" and ident not in sites:
            problems.add(f, f"site.{ident}", "site", ident, "a site_id from sites.csv")


def _relay_applies(dataset: Dataset, relay: Relay, site: Site) -> bool:
    return (
        relay.language in site.languages
        and site.kind in relay.site_kinds
        and dataset.in_scope(site, relay.scope)
    )


def _check_relay_overlaps(dataset: Dataset, lines: dict[str, Any], file: str, problems: _Problems) -> None:
    """Two mandatory live relays at one site on one day must not overlap: one of them cannot air."""
    live = [r for r in dataset.relays if r.mandatory and r.mode == "live"]
    clashes: dict[tuple[str, str], tuple[list[str], set[int]]] = {}
    for site in dataset.sites:
        if not site.has_station:
            continue
        mine = sorted((r for r in live if _relay_applies(dataset, r, site)), key=lambda r: (r.start_min, r.id))
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                if b.start_min >= a.start_min + a.duration_min:
                    break
                days = set(a.days) & set(b.days)
                if days:
                    entry = clashes.setdefault((a.id, b.id), ([], set()))
                    entry[0].append(site.id)
                    entry[1].update(days)
    for (a_id, b_id), (site_ids, days) in clashes.items():
        a = next(r for r in dataset.relays if r.id == a_id)
        b = next(r for r in dataset.relays if r.id == b_id)
        shown = ", ".join(site_ids[:3]) + (f" and {len(site_ids) - 3} more" if len(site_ids) > 3 else "")
        problems.add(
            file, lines.get(b_id), "start", f"{b.start_min // 60:02d}:{b.start_min % 60:02d}",
            f"a time that does not overlap mandatory live relay {a_id} "
            f"({a.start_min // 60:02d}:{a.start_min % 60:02d}, {a.duration_min} min) on "
            f"{' '.join(DAY_NAMES[d] for d in sorted(days))} at {shown}",
        )


def _check_segment_fit(dataset: Dataset, lines: dict[str, int], problems: _Problems) -> None:
    """Each segment must fit a broadcast window and a session at the sites that must air it."""
    for seg in dataset.segments:
        targets = [
            s for s in dataset.sites
            if s.has_station and seg.language in s.languages and dataset.in_scope(s, seg.scope)
        ]
        misfits = []
        for site in targets:
            sp = policy_mod.site_policy(dataset, site)
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


# --------------------------------------------------------------------------- entry point


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset folder; raises DataError listing every problem found."""
    root = Path(path)
    problems = _Problems()
    if not root.is_dir():
        raise DataError(Problem(str(root), None, None, None, "a dataset folder (see docs/dataset-format.md)"))
    name, country = _load_meta(root, problems)
    areas, area_lines = _load_areas(root, problems)
    profiles_before = len(problems)
    profiles = _load_profiles(root, problems)
    profiles_ok = len(problems) == profiles_before
    sites, site_lines = _load_sites(root, problems, set(area_lines), profiles, profiles_ok)
    known_scope = set(area_lines) | set(site_lines)

    has_csv, has_ics = (root / "relays.csv").exists(), (root / "relays.ics").exists()
    if has_csv and has_ics:
        problems.add("relays.ics", None, None, None, "either relays.csv or relays.ics, not both")
    if has_ics and not has_csv:
        relays, relay_lines = _load_relays_ics(root, problems, known_scope)
        relay_file = "relays.ics"
    else:
        relays, relay_lines = _load_relays_csv(root, problems, known_scope)
        relay_file = "relays.csv"
    segments, segment_lines = _load_segments(root, problems, known_scope)
    blackouts = _load_blackouts(root, problems, known_scope)

    policy = Policy(base={}, overrides={})
    policy_ok = False
    if (root / "policy.toml").exists():
        try:
            policy = policy_mod.load_policy(root / "policy.toml")
            policy_ok = True
        except DataError as exc:
            problems.extend(exc.problems)
    else:
        problems.add("policy.toml", None, None, None, f"the file to exist in {root}")
    if policy_ok:
        _check_policy_ids(policy, set(area_lines), set(site_lines), problems)

    # ids that are both an area and a site are fine (a commune and its station often share one)
    dataset = Dataset(
        name=name, root=root, areas=tuple(areas), sites=tuple(sites), profiles=profiles,
        relays=tuple(relays), segments=tuple(segments), blackouts=tuple(blackouts), policy=policy,
        country=country,
    )
    area_ok = not any(p.file == "areas.csv" for p in problems)
    if area_ok:
        for site in sites:
            prof = profiles.get(site.profile_id)
            if prof is not None and _profile_uses_sun(prof) and dataset.coordinates(site) is None:
                problems.add(
                    "sites.csv", site_lines[site.id], "profile", site.profile_id,
                    "coordinates for sunrise/sunset: give lat/lon to the site's area or an ancestor in areas.csv "
                    "(or use a profile with clock times only)",
                )
        _check_relay_overlaps(dataset, relay_lines, relay_file, problems)
        if policy_ok and not any(p.file == policy.source for p in problems):
            _check_segment_fit(dataset, segment_lines, problems)
    if problems:
        raise DataError(list(problems))
    return dataset


# --------------------------------------------------------------------------- summary


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
    }


def format_summary(info: dict) -> str:
    """The summary as a few readable lines."""
    def join(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

    s, r, g = info["sites"], info["relays"], info["segments"]
    lines = [
        f"Dataset {info['name']} ({info['root']}): valid",
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
    return "\n".join(lines)


def site_rows(dataset: Dataset, area_id: str | None = None) -> list[dict]:
    """The sites (all, or those under `area_id`) as plain dicts, sorted by district then name."""
    if area_id is not None and area_id not in {a.id for a in dataset.areas}:
        districts = sorted({dataset.district_of(s).id for s in dataset.sites})
        raise DataError(
            Problem("--district", None, "district", area_id, f"an area id of the dataset, e.g. {', '.join(districts[:8])}")
        )
    rows = []
    for s in dataset.sites:
        if area_id is not None and not dataset.in_scope(s, (area_id,)):
            continue
        d = dataset.district_of(s)
        rows.append({
            "site_id": s.id, "name": s.name, "district_id": d.id, "district": d.name, "area_id": s.area_id,
            "kind": s.kind, "technology": s.technology, "population": s.population,
            "languages": list(s.languages), "profile": s.profile_id,
            "market_days": [DAY_NAMES[i] for i in s.market_days], "sync_group": s.sync_group,
            "has_station": s.has_station,
        })
    rows.sort(key=lambda r: (r["district"], r["name"], r["site_id"]))
    return rows
