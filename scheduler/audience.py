"""Who can hear the loudspeakers, minute by minute: profile x day type x season x sun x month.

Pure functions of (dataset, site, date): no file I/O. Results are memoised on hashable keys
(the resolved curve, the coordinates and the date), so sites sharing a profile and a district
share the work; the solver asks for ~200 sites x 7 days.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

import holidays
from astral import Observer
from astral.sun import sunrise, sunset

from .domain import TIMEZONE, AudienceProfile, CurvePoint, Dataset, Site
from .errors import DataError, Problem

MINUTES = 1440
_TZ = ZoneInfo(TIMEZONE)
_FALLBACK_SUN = {"sunrise": 6 * 60, "sunset": 18 * 60}  # only where the sun does not rise/set


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def holiday_name(country: str, day: date) -> str | None:
    """Name of the public holiday of `country` on `day`, or None."""
    return _holidays(country, day.year).get(day)


def day_type(dataset: Dataset, site: Site, day: date) -> str:
    """holiday (public holiday of dataset.country) > market (site's market day) > sunday > weekday."""
    if holiday_name(dataset.country, day) is not None:
        return "holiday"
    if day.weekday() in site.market_days:
        return "market"
    if day.weekday() == 6:
        return "sunday"
    return "weekday"


def curve_for(profile: AudienceProfile, kind: str, month: int) -> tuple[CurvePoint, ...]:
    """The step curve of a day type in a month: a season's curve if it has one, else the base.

    The loader fills every day type in `profile.curves` (market defaults to weekday, holiday to
    sunday), so a season only needs the curves it changes.
    """
    for season in profile.seasons:
        if month in season.months and kind in season.curves:
            return tuple(season.curves[kind])
        if month in season.months:
            break
    return tuple(profile.curves[kind])


def uses_sun(points: tuple[CurvePoint, ...]) -> bool:
    return any(p.anchor != "clock" for p in points)


@lru_cache(maxsize=8192)
def sun_times(lat: float, lon: float, day: date) -> tuple[int, int]:
    """(sunrise, sunset) in local minutes from midnight at (lat, lon) on `day`."""
    observer = Observer(latitude=lat, longitude=lon)
    out = []
    for event, fn in (("sunrise", sunrise), ("sunset", sunset)):
        try:
            t: datetime = fn(observer, day, tzinfo=_TZ)
            minute = (t.date() - day).days * MINUTES + t.hour * 60 + t.minute + (t.second >= 30)
        except ValueError:  # polar day/night: the sun never rises or sets
            minute = _FALLBACK_SUN[event]
        out.append(max(0, min(MINUTES - 1, minute)))
    return out[0], out[1]


@lru_cache(maxsize=16384)
def _curve_values(
    points: tuple[CurvePoint, ...], coords: tuple[float, float] | None, day: date, factor: float
) -> tuple[float, ...]:
    sun = {"clock": 0}
    if uses_sun(points):
        if coords is None:
            raise DataError(
                Problem("profiles.toml", None, "curves", None, "clock times only: the site has no lat/lon up its area tree")
            )
        sun["sunrise"], sun["sunset"] = sun_times(coords[0], coords[1], day)
    resolved = sorted(
        (max(0, min(MINUTES - 1, sun[p.anchor] + p.offset_min)), i, p.value) for i, p in enumerate(points)
    )
    values: list[float] = []
    current = resolved[-1][2]  # before the first point: the last point's value (wraps midnight)
    for minute, _i, value in resolved:  # each point holds from its minute until the next one
        values += [min(1.0, max(0.0, current * factor))] * (minute - len(values))
        current = value
    values += [min(1.0, max(0.0, current * factor))] * (MINUTES - len(values))
    return tuple(values)


def site_inputs(dataset: Dataset, site: Site, day: date):
    """What a site's availability on `day` is computed from (the cache keys of the curves)."""
    profile = dataset.profiles[site.profile_id]
    points = curve_for(profile, day_type(dataset, site, day), day.month)
    coords = dataset.coordinates(site) if uses_sun(points) else None
    factor = float(profile.month_factor.get(day.month, 1.0))
    return points, coords, day, factor


def availability(dataset: Dataset, site: Site, day: date) -> tuple[float, ...]:
    """1440 shares (0..1) of the site's population within earshot and awake, one per minute."""
    return _curve_values(*site_inputs(dataset, site, day))


def availability_steps(dataset: Dataset, site: Site, day: date) -> tuple[tuple[int, float], ...]:
    """The day's availability as (minute, share) change points: a curve plan.json can carry."""
    return _steps(*site_inputs(dataset, site, day))


@lru_cache(maxsize=16384)
def _steps(points, coords, day, factor) -> tuple[tuple[int, float], ...]:
    values = _curve_values(points, coords, day, factor)
    return ((0, values[0]),) + tuple((m, values[m]) for m in range(1, MINUTES) if values[m] != values[m - 1])


@lru_cache(maxsize=16384)
def _prefix(points, coords, day, factor) -> tuple[float, ...]:
    return tuple(accumulate(_curve_values(points, coords, day, factor), initial=0.0))


def listeners(dataset: Dataset, site: Site, day: date, start_min: int, minutes: int) -> float:
    """Expected listeners: population x mean availability over [start_min, start_min + minutes).

    Minutes past midnight count on the next day.
    """
    if minutes <= 0:
        return 0.0
    total = 0.0
    left, current, start = minutes, day, start_min
    while start >= MINUTES:
        current, start = current + timedelta(days=1), start - MINUTES
    while start < 0:
        current, start = current - timedelta(days=1), start + MINUTES
    while left > 0:
        prefix = _prefix(*site_inputs(dataset, site, current))
        end = min(MINUTES, start + left)
        total += prefix[end] - prefix[start]
        left -= end - start
        current, start = current + timedelta(days=1), 0
    return site.population * total / minutes
