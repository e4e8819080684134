"""plan.json: the contract between planning and everything after it.

A plan file carries the solved week AND the resolved rules each site was planned under, the
items with their audio path, duration and sha256, each site's audience curve and the dataset's
fingerprint. `export`, `render`, `report` and `compare` read nothing else, so they give the
same answer after the dataset has been edited or deleted (only `export`/`render` need the
audio files).

A plan file is untrusted input: `read_plan` validates it against a schema (pydantic, unknown
keys refused, ids restricted to slugs so no path can leave an output folder) and names the
JSON path of every problem.
"""
from __future__ import annotations

import json
import math
import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Iterator, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .domain import (DAY_NAMES, RELAY_MODES, TIMEZONE, Blackout, Placement, PlanItem, PlanSite, SiteRules,
                     SolveStatus, UnitResult, WeekPlan, Window, local_iso, week_label, week_monday)
from .errors import DataError, Problem
from .fsutil import is_inside, read_regular, write_chunks_atomic
from .jsontext import json_lines
from .limits import MAX_PLAN_BYTES, MAX_POPULATION, MAX_YEAR, MIN_YEAR, single_line

FORMAT_VERSION = 2
# single-line text (limits.LINE_BREAKING): a name can never add a line to a calendar or a playlist
_ONE_LINE = r"^[^\x00-\x1f\x7f\x85\u2028\u2029]*$"


def _year_in_range(value):
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"a date in the years {MIN_YEAR}..{MAX_YEAR}")
    return value


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=200)]
Text = Annotated[str, Field(max_length=2000, pattern=_ONE_LINE)]
When = Annotated[datetime, AfterValidator(_year_in_range)]
Day_ = Annotated[date, AfterValidator(_year_in_range)]
Number = Annotated[float, Field(ge=-1e18, le=1e18)]  # finite (allow_inf_nan=False) and summable
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Minute = Annotated[int, Field(ge=0, le=1440)]


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)


class _Window(_Model):
    name: Text
    start: HHMM
    end: HHMM


class _Blackout(_Model):
    id: Text
    title: Text
    start: When
    end: When


class _Rules(_Model):
    windows: list[_Window]
    quiet_hours: list[tuple[HHMM, HHMM]]
    broadcast_days: list[Day]
    session_gap_minutes: Annotated[int, Field(ge=1, le=1440)]
    max_sessions_per_day: Annotated[int, Field(ge=1, le=48)]
    max_session_minutes: Annotated[int, Field(ge=1, le=1440)]
    daily_cap_minutes: Annotated[int, Field(ge=1, le=1440)]
    segment_min_gap_minutes: Annotated[int, Field(ge=0, le=7 * 1440)]
    blackouts: list[_Blackout]
    relays: dict[Day_, list[Slug]]  # day -> relay ids the site carries
    segments: dict[Slug, Annotated[int, Field(ge=0, le=7)]]  # segment id -> plays required this week
    relay_minimums: dict[Text, Annotated[int, Field(ge=1, le=49)]] = {}  # relay id or source -> airings
    kept_before: When | None = None
    emergency_in_quiet_hours: bool = False


class _Site(_Model):
    id: Slug
    name: Text
    district_id: Slug
    district_name: Text
    population: Annotated[int, Field(ge=0, le=MAX_POPULATION)]
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]]
    technology: Text
    kind: Text
    sync_group: Slug | None = None
    rules: _Rules
    audience: list[Annotated[list[tuple[Minute, Annotated[float, Field(ge=0, le=1)]]], Field(max_length=1441)]] = \
        Field(max_length=7)
    district_kind: Text = ""


class _Item(_Model):
    id: Slug
    kind: Literal["relay", "segment"]
    title: Text
    source: Text
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
    duration_s: Annotated[int, Field(ge=1, le=86400)]
    topic: Annotated[int, Field(ge=1, le=10)] | None = None
    audio: Text | None = None
    stream_url: Text | None = None
    priority: Annotated[int, Field(ge=0, le=5)] = 0
    mandatory: bool = False
    days: list[Day] = []
    start: HHMM | None = None
    mode: Literal[RELAY_MODES] | None = None  # type: ignore[valid-type]
    max_delay_min: Annotated[int, Field(ge=0, le=1440)] = 0
    min_plays: Annotated[int, Field(ge=0, le=7)] = 0
    max_plays: Annotated[int, Field(ge=0, le=7)] = 0
    valid_from: Day_ | None = None
    valid_to: Day_ | None = None
    min_gap_min: Annotated[int, Field(ge=0, le=7 * 1440)] | None = None
    sha256: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""
    producer_id: Annotated[str, Field(pattern=r"^([a-z0-9][a-z0-9-]*)?$", max_length=200)] = ""
    producer_name: Text = ""
    producer_kind: Text = ""
    level: Literal["", "normal", "priority", "emergency"] = ""

    @field_validator("audio")
    @classmethod
    def _relative_audio(cls, value: str | None) -> str | None:
        """Audio paths stay inside the dataset folder: relative, no '..', no control characters."""
        if value is None:
            return value
        parts = Path(value).parts
        if (not value or Path(value).is_absolute() or ".." in parts or "\\" in value
                or not single_line(value)):
            raise ValueError("a path relative to the dataset folder, inside it")
        return value


class _Unit(_Model):
    unit_id: Text
    site_ids: list[Slug]
    district_id: Slug
    status: SolveStatus
    objective: Number
    bound: Number
    gap: Number | None = None
    conflicts: list[Text] = []
    inputs: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""


class _Placement(_Model):
    site: Slug
    kind: Literal["relay", "segment"]
    id: Slug
    start: When
    end: When
    listeners: Annotated[float, Field(ge=0, le=1e15)] = 0.0
    # ints stay ints (priority, delay_min), so a kept placement is written back byte for byte
    score: dict[Annotated[str, Field(max_length=40, pattern=_ONE_LINE)],
                Annotated[int, Field(ge=-10**18, le=10**18)] | Number] = {}


class _Dataset(_Model):
    name: Text
    root: Text
    fingerprint: Text = ""
    province: Text = ""
    province_id: Annotated[str, Field(pattern=r"^([a-z0-9][a-z0-9-]*)?$", max_length=200)] = ""
    province_kind: Text = ""


class _Plan(_Model):
    format: Literal[2]
    week: Annotated[str, Field(pattern=r"^\d{4}-W\d{2}$")]
    timezone: Literal["Asia/Ho_Chi_Minh"]
    dataset: _Dataset
    settings: list[tuple[Literal["set", "policy"], Text]] = []
    sites: list[_Site]
    items: list[_Item]
    units: list[_Unit] = []
    placements: list[_Placement]

    @field_validator("week")
    @classmethod
    def _iso_week(cls, value: str) -> str:
        try:
            week_monday(value)
        except ValueError:
            raise ValueError(f"an ISO week YYYY-Www that exists (weeks 01..52/53, years {MIN_YEAR}..{MAX_YEAR})") \
                from None
        return value


# --------------------------------------------------------------------------- writing


def _rules_dict(r: SiteRules) -> dict:
    relays: dict[str, list[str]] = {}
    for rid, day in sorted(r.relays, key=lambda x: (x[1], x[0])):
        relays.setdefault(day.isoformat(), []).append(rid)
    return {
        "windows": [{"name": w.name, "start": _hhmm(w.start_min), "end": _hhmm(w.end_min)} for w in r.windows],
        "quiet_hours": [[_hhmm(a), _hhmm(b)] for a, b in r.quiet_hours],
        "broadcast_days": [DAY_NAMES[d] for d in r.broadcast_days],
        "session_gap_minutes": r.session_gap_minutes,
        "max_sessions_per_day": r.max_sessions_per_day,
        "max_session_minutes": r.max_session_minutes,
        "daily_cap_minutes": r.daily_cap_minutes,
        "segment_min_gap_minutes": r.segment_min_gap_minutes,
        "blackouts": [{"id": b.id, "title": b.title, "start": local_iso(b.start), "end": local_iso(b.end)}
                      for b in r.blackouts],
        "relays": relays,
        "segments": dict(r.segments),
        "relay_minimums": dict(r.relay_minimums),
    } | ({"kept_before": local_iso(r.kept_before)} if r.kept_before else {}) | (
        {"emergency_in_quiet_hours": True} if r.emergency_in_quiet_hours else {})


def _site_dict(s: PlanSite) -> dict:
    return {
        "id": s.id, "name": s.name, "district_id": s.district_id, "district_name": s.district_name,
        "population": s.population, "languages": list(s.languages), "technology": s.technology, "kind": s.kind,
        "sync_group": s.sync_group, "rules": _rules_dict(s.rules),
        "audience": [[[m, round(v, 6)] for m, v in day] for day in s.audience],
        "district_kind": s.district_kind,
    }


def _item_dict(i: PlanItem) -> dict:
    common = {"id": i.id, "kind": i.kind, "title": i.title, "source": i.source, "language": i.language,
              "duration_s": i.duration_s}
    if i.kind == "relay":
        return common | {"stream_url": i.stream_url, "mandatory": i.mandatory,
                         "days": [DAY_NAMES[d] for d in i.days], "start": _hhmm(i.start_min), "mode": i.mode,
                         "max_delay_min": i.max_delay_min}
    return common | {"topic": i.topic, "audio": i.audio, "sha256": i.sha256, "priority": i.priority,
                     "min_plays": i.min_plays, "max_plays": i.max_plays,
                     "valid_from": i.valid_from.isoformat() if i.valid_from else None,
                     "valid_to": i.valid_to.isoformat() if i.valid_to else None, "min_gap_min": i.min_gap_min,
                     "producer_id": i.producer_id, "producer_name": i.producer_name, "producer_kind": i.producer_kind} | (
                         {"level": i.level} if i.level else {})


def _placement_dict(p) -> dict:
    return {
        "site": p.site_id,
        "kind": p.kind,
        "id": p.item_id,
        "start": local_iso(p.start),
        "end": local_iso(p.end),
        "listeners": round(p.listeners, 3),
        "score": {k: round(v, 6) for k, v in p.score},
    }


def plan_to_dict(plan: WeekPlan, plan_path: Path | None = None, lazy: bool = False) -> dict:
    """plan.json as a dict; with `lazy`, sites and placements are generators, made while being written."""
    listed = (lambda items, make: map(make, items)) if lazy else (lambda items, make: [make(x) for x in items])
    root = plan.dataset_root
    if plan_path is not None:
        root = os.path.relpath(Path(plan.dataset_root).resolve(), plan_path.resolve().parent)
    return {
        "format": FORMAT_VERSION,
        "week": plan.week,
        "timezone": TIMEZONE,
        "dataset": {"name": plan.dataset_name, "root": Path(root).as_posix(),
                    "fingerprint": plan.dataset_fingerprint, "province": plan.province,
                    "province_id": plan.province_id, "province_kind": plan.province_kind},
        "settings": [list(s) for s in plan.settings],
        "sites": listed(sorted(plan.sites, key=lambda s: s.id), _site_dict),
        "items": [_item_dict(i) for i in sorted(plan.items, key=lambda i: (i.kind, i.id))],
        "units": [
            {"unit_id": u.unit_id, "site_ids": list(u.site_ids), "district_id": u.district_id,
             "status": str(u.status), "objective": u.objective, "bound": u.bound,
             "gap": None if math.isnan(u.gap) else round(u.gap, 6), "conflicts": list(u.conflicts),
             "inputs": u.inputs}
            for u in sorted(plan.units, key=lambda u: u.unit_id)
        ],
        "placements": listed(sorted(plan.placements, key=lambda p: (p.site_id, p.start, p.kind, p.item_id)),
                             _placement_dict),
    }


RECORDS = ("sites", "items", "units", "placements")  # the lists plan.json writes one entry per line


def plan_bytes(plan: WeekPlan, path: Path) -> bytes:
    """The plan file's bytes for `path` (its dataset root is written relative to that path)."""
    return b"".join(plan_chunks(plan, path))


def plan_chunks(plan: WeekPlan, path: Path) -> Iterator[bytes]:
    """plan.json a megabyte at a time, in loa's JSON layout (`jsontext`: one site, item, unit
    or placement per line). Sites and placements are made while being encoded."""
    buffer: list[str] = []
    size = 0
    for piece in json_lines(plan_to_dict(plan, Path(path), lazy=True), RECORDS):
        buffer.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    yield "".join(buffer).encode("utf-8")


def write_plan(plan: WeekPlan, path: Path) -> Path:
    """Write plan.json atomically, streaming: the text is encoded piece by piece into the file."""
    path = Path(path)
    return write_chunks_atomic(path, plan_chunks(plan, path))


# --------------------------------------------------------------------------- reading


_ZONE = ZoneInfo(TIMEZONE)


def _local(dt: datetime) -> datetime:
    """A plan time as naive local wall-clock time (an offset other than +07:00 is converted)."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(_ZONE).replace(tzinfo=None)


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(path: Path, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False)[:50]:
        value = err.get("input")
        shown = value if isinstance(value, (str, int, float, bool)) or value is None else type(value).__name__
        problems.append(Problem(str(path), None, _where(err["loc"]) or None, shown if shown is not None else "",
                                err["msg"]))
    return problems


def _to_plan(raw: _Plan, path: Path) -> WeekPlan:
    root = Path(raw.dataset.root)
    if not root.is_absolute():
        root = (path.resolve().parent / root).resolve()
    sites = []
    for s in raw.sites:
        r = s.rules
        rules = SiteRules(
            windows=tuple(Window(w.name, _minutes(w.start), _minutes(w.end)) for w in r.windows),
            quiet_hours=tuple((_minutes(a), _minutes(b)) for a, b in r.quiet_hours),
            broadcast_days=tuple(sorted(DAY_NAMES.index(d) for d in set(r.broadcast_days))),
            session_gap_minutes=r.session_gap_minutes, max_sessions_per_day=r.max_sessions_per_day,
            max_session_minutes=r.max_session_minutes, daily_cap_minutes=r.daily_cap_minutes,
            segment_min_gap_minutes=r.segment_min_gap_minutes,
            blackouts=tuple(Blackout(b.id, b.title, _local(b.start), _local(b.end)) for b in r.blackouts),
            relays=tuple((rid, day) for day, ids in sorted(r.relays.items()) for rid in ids),
            segments=tuple(sorted(r.segments.items())),
            relay_minimums=tuple(sorted(r.relay_minimums.items())),
            kept_before=_local(r.kept_before) if r.kept_before else None,
            emergency_in_quiet_hours=r.emergency_in_quiet_hours,
        )
        sites.append(PlanSite(s.id, s.name, s.district_id, s.district_name, s.population, tuple(s.languages),
                              s.technology, s.kind, rules=rules, sync_group=s.sync_group,
                              audience=tuple(tuple((m, float(v)) for m, v in day) for day in s.audience),
                              district_kind=s.district_kind))
    items = tuple(
        PlanItem(i.id, i.kind, i.title, i.source, i.language, i.duration_s, topic=i.topic, audio=i.audio,
                 stream_url=i.stream_url, priority=i.priority, mandatory=i.mandatory,
                 days=tuple(sorted(DAY_NAMES.index(d) for d in set(i.days))),
                 start_min=_minutes(i.start) if i.start else 0, mode=i.mode or "",
                 max_delay_min=i.max_delay_min, min_plays=i.min_plays, max_plays=i.max_plays,
                 valid_from=i.valid_from, valid_to=i.valid_to, min_gap_min=i.min_gap_min, sha256=i.sha256,
                 producer_id=i.producer_id, producer_name=i.producer_name, producer_kind=i.producer_kind,
                 level=i.level)
        for i in raw.items)
    return WeekPlan(
        week=week_label(week_monday(raw.week)),
        dataset_name=raw.dataset.name,
        dataset_root=str(root),
        settings=tuple(tuple(s) for s in raw.settings),
        sites=tuple(sites),
        items=items,
        units=tuple(UnitResult(u.unit_id, tuple(u.site_ids), u.district_id, u.status, u.objective, u.bound,
                               tuple(u.conflicts), u.inputs) for u in raw.units),
        placements=tuple(
            Placement(site_id=p.site, kind=p.kind, item_id=p.id, start=_local(p.start), end=_local(p.end),
                      listeners=p.listeners, score=tuple(sorted(p.score.items())))
            for p in raw.placements),
        dataset_fingerprint=raw.dataset.fingerprint,
        province=raw.dataset.province,
        province_id=raw.dataset.province_id,
        province_kind=raw.dataset.province_kind,
    )


def _consistency(plan: WeekPlan, path: Path) -> list[Problem]:
    """What a schema cannot say: ids unique, placements of known sites and items, in time order."""
    problems = []
    seen_sites: set[str] = set()
    for n, s in enumerate(plan.sites):
        if s.id in seen_sites:
            problems.append(Problem(str(path), None, f"sites[{n}].id", s.id, "a unique site id"))
        seen_sites.add(s.id)
    items = set()
    for n, i in enumerate(plan.items):
        if (i.kind, i.id) in items:
            problems.append(Problem(str(path), None, f"items[{n}].id", i.id, f"a unique {i.kind} id"))
        items.add((i.kind, i.id))
    for n, p in enumerate(plan.placements):
        if p.site_id not in seen_sites:
            problems.append(Problem(str(path), None, f"placements[{n}].site", p.site_id, "a site of the plan"))
        if (p.kind, p.item_id) not in items:
            problems.append(Problem(str(path), None, f"placements[{n}].id", p.item_id, f"a {p.kind} of the plan"))
        if p.end <= p.start:
            problems.append(Problem(str(path), None, f"placements[{n}].end", local_iso(p.end),
                                    "an end after the start"))
        if len(problems) >= 50:
            break
    return problems


def read_plan(path: Path) -> WeekPlan:
    """Read and validate plan.json; the dataset root is resolved relative to the plan file."""
    path = Path(path)
    try:
        text = read_regular(path, MAX_PLAN_BYTES)
    except FileNotFoundError:
        raise DataError(Problem(str(path), None, None, None, "a plan file (run `loa plan` first)")) from None
    except OSError as exc:
        raise DataError(Problem(str(path), None, None, None, f"a readable plan file ({exc.strerror or exc})")) from None
    try:  # a plan as loa writes it: parsed and checked in one pass (half the time of the two below)
        raw = _Plan.model_validate_json(text)
    except ValidationError:  # anything else: the steps below say what is wrong
        raw = _parse_plan(path, text)
    plan = _to_plan(raw, path)
    problems = _consistency(plan, path)
    if problems:
        raise DataError(problems)
    return plan


def _parse_plan(path: Path, text: bytes) -> _Plan:
    """The plan's JSON, then its format, then its schema, each failure named."""
    try:
        data = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
        line = getattr(exc, "lineno", None)
        raise DataError(Problem(str(path), line, None, None, f"a UTF-8 JSON plan ({str(exc)[:120]})")) from None
    if not isinstance(data, dict) or "format" not in data:
        raise DataError(Problem(str(path), None, None, None,
                                f"a plan.json written by `loa plan` (an object with \"format\": {FORMAT_VERSION})"))
    if data["format"] != FORMAT_VERSION:
        found = data["format"]
        raise DataError(Problem(
            str(path), None, "format", found if isinstance(found, (int, str)) else type(found).__name__,
            f"plan format {FORMAT_VERSION}; this plan was written by another version of loa: plan the week "
            f"again with `loa plan` (format {FORMAT_VERSION} stores the rules each site was planned under)"))
    try:
        return _Plan.model_validate(data)
    except ValidationError as exc:
        raise DataError(_schema_problems(path, exc)) from None
    except RecursionError:
        raise DataError(Problem(str(path), None, None, None, "a plan.json written by `loa plan`")) from None


def read_checked_plan(path: Path) -> WeekPlan:
    """Read a plan that is about to be exported or rendered: schema-valid, keeping every hard
    rule stored in it (the solver-free verifier), and naming audio only inside its dataset
    folder once symbolic links are resolved. Anything else is refused (exit 2, rule named)."""
    path = Path(path)
    plan = read_plan(path)
    problems = plan_problems(plan, path)
    if problems:
        raise DataError(problems)
    return plan


def plan_problems(plan: WeekPlan, path: Path) -> list[Problem]:
    """What `read_checked_plan` refuses in a plan read from `path`: audio leading outside its
    dataset folder, and every hard rule it breaks."""
    from .verify import RULES, verify_rules

    problems = []
    for n, item in enumerate(plan.items):
        if item.audio and not is_inside(Path(plan.dataset_root) / item.audio, plan.dataset_root):
            problems.append(Problem(str(path), None, f"items[{n}].audio", item.audio,
                                    f"a file inside the dataset folder {plan.dataset_root} (a symbolic link "
                                    "leads outside it)"))
    problems += [Problem(str(path), None, "placements", None, f"a plan that keeps the hard rule "
                                                               f"'{RULES[rule]}': {message}")
                 for rule, message in verify_rules(plan)]
    return problems
