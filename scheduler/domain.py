"""Pure domain objects of `loa`: what a dataset says and what a solved week is.

No I/O and no solver here, so every other module (loader, model, checker, exporters) can share
these types without depending on each other. Times of day are integer minutes from local
midnight (0..1440); weekdays are ISO-style integers 0=Monday .. 6=Sunday; every datetime is a
naive local wall-clock time in `TIMEZONE`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Mapping

from .limits import MAX_YEAR, MIN_YEAR

TIMEZONE = "Asia/Ho_Chi_Minh"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TYPES = ("weekday", "sunday", "holiday", "market")
SITE_KINDS = ("urban", "rural")
TECHNOLOGIES = ("wired", "fm", "ip")
RELAY_MODES = ("live", "deferred")
TOPICS = range(1, 11)  # the ten content areas of the plan, section II


# --------------------------------------------------------------------------- dataset side


@dataclass(frozen=True)
class Area:
    """A node of the administrative tree (province, district, commune, ward, town...)."""

    id: str
    name: str
    kind: str
    parent_id: str | None
    code: str = ""
    lat: float | None = None
    lon: float | None = None
    source: str = ""
    group: str | None = None  # reporting group (groups.csv) of this area and everything under it


@dataclass(frozen=True)
class Site:
    """One loudspeaker system (commune station) and the people within its earshot."""

    id: str
    name: str
    area_id: str
    kind: str  # urban | rural: selects the policy defaults
    technology: str  # wired | fm | ip
    population: int
    languages: tuple[str, ...]
    profile_id: str
    market_days: tuple[int, ...] = ()
    sync_group: str | None = None
    has_station: bool = True
    population_source: str = ""


@dataclass(frozen=True)
class CurvePoint:
    """From this moment on (until the next point) `value` of the people can hear the speakers.

    `anchor` is "clock" (offset from midnight), "sunrise" or "sunset" (offset from the sun
    event at the site's coordinates on that date), so farm curves follow the season by themselves.
    """

    anchor: str
    offset_min: int
    value: float


@dataclass(frozen=True)
class Season:
    """Curves that replace the profile's base curves in some months (e.g. coffee harvest)."""

    name: str
    months: tuple[int, ...]
    curves: Mapping[str, tuple[CurvePoint, ...]]


@dataclass(frozen=True)
class AudienceProfile:
    """Work-and-life habits of a community: availability by day type, season and month."""

    id: str
    name: str
    curves: Mapping[str, tuple[CurvePoint, ...]]  # day type -> step curve
    seasons: tuple[Season, ...] = ()
    month_factor: Mapping[int, float] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Relay:
    """A programme of VOV, VTV or the provincial station that sites must (or may) carry."""

    id: str
    source: str
    title: str
    days: tuple[int, ...]
    start_min: int
    duration_s: int
    mode: str  # live | deferred
    max_delay_min: int
    mandatory: bool
    language: str
    stream_url: str | None = None
    scope: tuple[str, ...] = ()  # area ids; empty = every site
    site_kinds: tuple[str, ...] = SITE_KINDS

    @property
    def duration_min(self) -> int:
        return -(-self.duration_s // 60)


@dataclass(frozen=True)
class Segment:
    """A recorded PAR item in one language, to air a number of times a week."""

    id: str
    title: str
    topic: int
    language: str
    audio: str  # path relative to the dataset folder
    duration_s: int  # probed from the audio file by the loader
    min_plays: int
    max_plays: int
    priority: int
    valid_from: date | None = None
    valid_to: date | None = None
    scope: tuple[str, ...] = ()  # area ids; empty = every site
    min_gap_min: int | None = None  # None = the policy's segment_min_gap_minutes
    note: str = ""
    source: str = ""  # producing centre, shown in calendars
    sha256: str = ""  # of the audio file's bytes, filled by the loader (plans and manifests carry it)
    producer: str | None = None  # area or group id of whoever makes the programme (province, commune, group)
    level: str = ""  # a bulletin's Circular 39 level (BULLETIN_LEVELS); "" for a programme item

    @property
    def duration_min(self) -> int:
        return -(-self.duration_s // 60)


BULLETIN_LEVELS = ("normal", "priority", "emergency")  # Circular 39/2020/TT-BTTTT, see docs/circular-39.md


@dataclass(frozen=True)
class Blackout:
    """A period with no broadcasting at all (mourning day, local event), relays included."""

    id: str
    title: str
    start: datetime
    end: datetime
    scope: tuple[str, ...] = ()  # area ids; empty = every site
    suspends_relays: bool = False  # X-LOA-SUSPENDS-RELAYS:yes: dropping mandatory relays is meant


@dataclass(frozen=True)
class Window:
    """A broadcast window of the day (e.g. morning 05:30-07:30); end may be 1440."""

    name: str
    start_min: int
    end_min: int


@dataclass(frozen=True)
class Weights:
    """Objective weights; all come from policy.toml (or --set), never from code."""

    reach: float = 1.0
    spread_days: float = 0.0
    spread_dayparts: float = 0.0
    variety: float = 0.0
    delay: float = 0.0
    optional_relay: float = 0.0
    stability: float = 0.0


@dataclass(frozen=True)
class SitePolicy:
    """The rules in force at one site once defaults, kind, area and site overrides are merged."""

    windows: tuple[Window, ...]
    broadcast_days: tuple[int, ...]
    quiet_hours: tuple[tuple[int, int], ...]  # (start_min, end_min); may wrap midnight
    slot_minutes: int
    session_gap_minutes: int
    max_sessions_per_day: int
    max_session_minutes: int
    daily_cap_minutes: int
    segment_min_gap_minutes: int
    weights: Weights
    time_budget: float  # deterministic seconds per unit
    relay_minimums: tuple[tuple[str, int], ...] = ()  # (relay id or source, days a week it must air)
    emergency_in_quiet_hours: bool = False  # Circular 39 emergency bulletins may break the quiet hours


@dataclass(frozen=True)
class Policy:
    """The raw policy tree: base values and overrides keyed 'kind:<k>', 'area:<id>', 'site:<id>'.

    `policy.site_policy()` merges them; keeping the raw tree lets `--set` and `--policy` work on
    one structure and lets a plan record exactly what it was made with.
    """

    base: Mapping[str, object]
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    source: str = "policy.toml"


@dataclass(frozen=True)
class Dataset:
    """Everything one planning run reads, validated."""

    name: str
    root: Path
    areas: tuple[Area, ...]
    sites: tuple[Site, ...]
    profiles: Mapping[str, AudienceProfile]
    relays: tuple[Relay, ...]
    segments: tuple[Segment, ...]
    blackouts: tuple[Blackout, ...]
    policy: Policy
    country: str = "VN"
    # every site's rules, resolved once from `policy` (policy.with_policy keeps them in step)
    site_policies: Mapping[str, SitePolicy] = field(default_factory=dict)
    fingerprint: str = ""  # sha256 over the dataset's files, recorded in plans
    # reporting groups (groups.csv): areas of a kind such as "Cụm" that gather communes for policy,
    # scopes, calendars and reports without being an administrative level (parent_id is None)
    groups: tuple[Area, ...] = ()
    warnings: tuple = ()  # Problems that plan wrong silently; `loa validate --strict` makes them errors

    def area(self, area_id: str) -> Area:
        return self._areas_by_id()[area_id]

    def _areas_by_id(self) -> dict[str, Area]:
        return self._area_index

    @cached_property
    def _area_index(self) -> dict[str, Area]:
        return {a.id: a for a in self.areas}

    def ancestors(self, area_id: str) -> tuple[Area, ...]:
        """The area itself and every parent up to the root, nearest first."""
        by_id = self._areas_by_id()
        chain: list[Area] = []
        current: str | None = area_id
        while current is not None and current in by_id and len(chain) <= len(by_id):
            chain.append(by_id[current])
            current = by_id[current].parent_id
        return tuple(chain)

    def group(self, group_id: str) -> Area:
        return {g.id: g for g in self.groups}[group_id]

    def group_of(self, site: Site) -> Area | None:
        """The site's reporting group: the one named by its nearest area that names one."""
        named = next((a.group for a in self.ancestors(site.area_id) if a.group), None)
        return self.group(named) if named else None

    def reporting_unit(self, site: Site) -> Area:
        """Where the site reports and is calendared: its group; else the area under the root when
        that is an intermediate level (a district in 2024); else the root (the province: since
        July 2025 a commune sits right under it)."""
        group = self.group_of(site)
        if group is not None:
            return group
        chain = self.ancestors(site.area_id)
        return chain[-2] if len(chain) >= 3 else chain[-1]

    def district_of(self, site: Site) -> Area:
        """The site's reporting unit (`reporting_unit`); the name predates reporting groups."""
        return self.reporting_unit(site)

    def in_scope(self, site: Site, scope: tuple[str, ...]) -> bool:
        """An area includes every site under it, a group every site under an area naming it."""
        return (not scope or site.id in scope
                or any(a.id in scope or (a.group is not None and a.group in scope)
                       for a in self.ancestors(site.area_id)))

    def coordinates(self, site: Site) -> tuple[float, float] | None:
        """Nearest known (lat, lon) up the area tree, for sunrise/sunset."""
        for a in self.ancestors(site.area_id):
            if a.lat is not None and a.lon is not None:
                return a.lat, a.lon
        return None


# --------------------------------------------------------------------------- plan side


@dataclass(frozen=True)
class Freeze:
    """A re-plan from `cutoff`: what aired before it stays, so only what aired then or can still
    air after it is required of the week (a live relay at 07:00 cannot be caught up at noon)."""

    cutoff: datetime
    relays: frozenset[tuple[str, date]] = frozenset()  # (relay id, day) aired before the cutoff
    segments: frozenset[tuple[str, date]] = frozenset()  # (segment id, day) aired before the cutoff


@dataclass(frozen=True)
class SiteRules:
    """The rules one site's week was planned under, resolved from the dataset and the policy.

    Stored in plan.json so that the verifier, the exporters and the reports judge a plan by
    what it was made with, even after the dataset folder has changed or gone.
    """

    windows: tuple[Window, ...]
    quiet_hours: tuple[tuple[int, int], ...]  # (start_min, end_min); may wrap midnight
    broadcast_days: tuple[int, ...]
    session_gap_minutes: int
    max_sessions_per_day: int
    max_session_minutes: int
    daily_cap_minutes: int
    segment_min_gap_minutes: int
    blackouts: tuple[Blackout, ...]  # of the whole sync group, overlapping the week
    relays: tuple[tuple[str, date], ...]  # (relay id, day) the site carries: applies, not blacked out
    segments: tuple[tuple[str, int], ...]  # (segment id, plays required this week) of segments that apply
    # (relay id or source, relay-days it must air this week, capped by the days it is due)
    relay_minimums: tuple[tuple[str, int], ...] = ()
    # a re-plan: what starts before this aired under the rules of its time and is kept as it was;
    # the day rules (windows, sessions, cap) here hold from then on, the weekly ones for the week
    kept_before: datetime | None = None
    emergency_in_quiet_hours: bool = False  # emergency bulletins may air in quiet hours (policy)


@dataclass(frozen=True)
class PlanSite:
    """What exporters and reports need to know of a site, without the dataset.

    `district_*` is the site's reporting unit (`Dataset.reporting_unit`): a group, a district or
    the province itself; `district_kind` is its kind as the data writes it (Huyện, Cụm, Tỉnh…).
    """

    id: str
    name: str
    district_id: str
    district_name: str
    population: int
    languages: tuple[str, ...]
    technology: str
    kind: str
    rules: SiteRules
    sync_group: str | None = None
    # per weekday (Mon..Sun) of the week, the availability step curve: (minute, share) change points
    audience: tuple[tuple[tuple[int, float], ...], ...] = ()
    district_kind: str = ""

    def availability(self, weekday: int) -> tuple[float, ...]:
        """1440 shares (0..1) of the population able to listen, one per minute of that day."""
        steps = self.audience[weekday] if self.audience else ()
        values, current, i = [], 0.0, 0
        for minute in range(1440):
            while i < len(steps) and steps[i][0] <= minute:
                current = steps[i][1]
                i += 1
            values.append(current)
        return tuple(values)


@dataclass(frozen=True)
class PlanItem:
    """A relay or segment with every fact exporters, reports and the verifier need.

    `audio` is relative to the dataset folder; `sha256` is of its bytes at planning time.
    """

    id: str
    kind: str  # relay | segment
    title: str
    source: str  # broadcaster for relays, producing centre for segments
    language: str
    duration_s: int
    topic: int | None = None
    audio: str | None = None
    stream_url: str | None = None
    priority: int = 0
    mandatory: bool = False
    # relays: the source programme
    days: tuple[int, ...] = ()
    start_min: int = 0
    mode: str = ""  # live | deferred
    max_delay_min: int = 0
    # segments: the weekly rule
    min_plays: int = 0
    max_plays: int = 0
    valid_from: date | None = None
    valid_to: date | None = None
    min_gap_min: int | None = None
    sha256: str = ""
    # segments: who makes the programme (an area or group of the dataset), for reports
    producer_id: str = ""
    producer_name: str = ""
    producer_kind: str = ""
    level: str = ""  # segments: a bulletin's level (BULLETIN_LEVELS); emergency ones override the session rules

    @property
    def duration_min(self) -> int:
        return -(-self.duration_s // 60)


@dataclass(frozen=True, slots=True)  # slots: a nation's plan holds about a million of them
class Placement:
    """One item airing at one site at one time, with the score terms that put it there."""

    site_id: str
    kind: str  # relay | segment
    item_id: str
    start: datetime
    end: datetime
    listeners: float = 0.0  # expected listeners (population x mean availability)
    score: tuple[tuple[str, float], ...] = ()

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class SolveStatus(StrEnum):
    """How a unit solved. OPTIMAL only when the optimum is proven."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"
    MODEL_INVALID = "MODEL_INVALID"

    @property
    def planned(self) -> bool:
        """The unit has a schedule (proven optimal or not)."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class UnitResult:
    """How one independent unit (a site or a sync group) solved."""

    unit_id: str
    site_ids: tuple[str, ...]
    district_id: str
    status: SolveStatus
    objective: float = 0.0
    bound: float = 0.0
    conflicts: tuple[str, ...] = ()  # user-worded requirements that cannot hold together
    inputs: str = ""  # digest of what the unit's week is planned from (`cache.unit_inputs`); a re-plan
    # leaves a unit whose inputs are unchanged as it is

    @property
    def gap(self) -> float:
        if not SolveStatus(self.status).planned:
            return float("nan")
        if abs(self.bound) < 1e-9:
            return 0.0
        return max(0.0, (self.bound - self.objective) / abs(self.bound))


@dataclass(frozen=True)
class WeekPlan:
    """A solved ISO week: everything exporters and reports read, nothing of the solver."""

    week: str  # "2024-W10"
    dataset_name: str
    dataset_root: str  # as recorded in plan.json (resolved by planfile.read_plan); audio lives there
    sites: tuple[PlanSite, ...]
    items: tuple[PlanItem, ...]
    placements: tuple[Placement, ...]
    units: tuple[UnitResult, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()  # --set overrides and policy file used
    dataset_fingerprint: str = ""  # sha256 over the dataset's files at planning time
    province: str = ""  # name of the root area
    province_id: str = ""  # id of the root area: sites whose reporting unit it is have no unit calendar
    province_kind: str = ""  # kind of the root area as the data writes it (Tỉnh)

    @property
    def monday(self) -> date:
        return week_monday(self.week)

    def site(self, site_id: str) -> PlanSite:
        return self._site_index[site_id]

    def item(self, kind: str, item_id: str) -> PlanItem:
        return self._item_index[(kind, item_id)]

    @cached_property
    def _site_index(self) -> dict[str, PlanSite]:  # built once: the export asks per site-day
        return {s.id: s for s in self.sites}

    @cached_property
    def _item_index(self) -> dict[tuple[str, str], PlanItem]:
        return {(i.kind, i.id): i for i in self.items}


def placements_by_site(placements) -> dict[str, list[Placement]]:
    """Placements grouped by site, each site's in their given order: the shape every per-site
    rule, export and report reads (a site with none maps to [])."""
    out: dict[str, list[Placement]] = defaultdict(list)
    for p in placements:
        out[p.site_id].append(p)
    return out


UTC_OFFSET = "+07:00"  # Asia/Ho_Chi_Minh has kept +07:00 since 1975


def local_iso(dt: datetime) -> str:
    """A naive local wall-clock time as ISO 8601 with the Vietnam offset."""
    return dt.isoformat(timespec="seconds") + UTC_OFFSET  # C-fast; strftime took twice as long


def week_monday(week: str) -> date:
    """Monday of an ISO week written 'YYYY-Www'; ValueError unless the week exists in a year
    MIN_YEAR..MAX_YEAR (so no date arithmetic on it can overflow)."""
    year, _, num = week.upper().partition("-W")
    if not (year.isascii() and year.isdigit() and MIN_YEAR <= int(year) <= MAX_YEAR):
        raise ValueError(f"an ISO week of a year {MIN_YEAR}..{MAX_YEAR}: {week!r}")
    return date.fromisocalendar(int(year), int(num), 1)


def week_days(week: str) -> tuple[date, ...]:
    monday = week_monday(week)
    return tuple(monday + timedelta(days=i) for i in range(7))


def week_label(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
