"""Audience: day types from real holidays, sun-anchored curves that follow the season, listeners."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from scheduler.audience import availability, curve_for, day_type, listeners, sun_times
from scheduler.domain import AudienceProfile


def site(ds, site_id):
    return next(s for s in ds.sites if s.id == site_id)


def with_profile(ds, profile_id, **changes):
    profiles = dict(ds.profiles)
    profiles[profile_id] = dataclasses.replace(profiles[profile_id], **changes)
    return dataclasses.replace(ds, profiles=profiles)


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2024, 9, 2), "holiday"),  # National Day (a Monday)
        (date(2024, 2, 10), "holiday"),  # Tết, first day of the lunar year (a Saturday)
        (date(2024, 4, 18), "holiday"),  # Hùng Kings (lunar 10/3)
        (date(2024, 3, 6), "market"),  # Wednesday: Ia Blang's market day
        (date(2024, 3, 10), "sunday"),
        (date(2024, 3, 9), "weekday"),  # Saturday counts as a weekday
        (date(2024, 3, 4), "weekday"),
    ],
)
def test_day_type(tiny, day, expected):
    assert day_type(tiny, site(tiny, "chu-se-ia-blang"), day) == expected


def test_holiday_beats_market_day(tiny):
    # 2024-05-01 (Labour Day) is a Wednesday, Ia Blang's market day
    assert day_type(tiny, site(tiny, "chu-se-ia-blang"), date(2024, 5, 1)) == "holiday"
    assert day_type(tiny, site(tiny, "chu-se-ia-hlop"), date(2024, 5, 1)) == "holiday"


def test_sunrise_moves_with_the_season(tiny):
    lat, lon = tiny.coordinates(site(tiny, "chu-se-ia-blang"))
    june_rise, june_set = sun_times(lat, lon, date(2024, 6, 21))
    dec_rise, dec_set = sun_times(lat, lon, date(2024, 12, 21))
    assert 5 * 60 <= june_rise < dec_rise <= 6 * 60 + 30  # local time, UTC+7
    assert dec_set < june_set


def test_sun_anchored_curve_follows_sunrise(tiny):
    s = site(tiny, "chu-se-ia-blang")
    lat, lon = tiny.coordinates(s)
    for day in (date(2024, 6, 18), date(2024, 3, 19)):  # Tuesdays, weekday curve, no season
        rise, _ = sun_times(lat, lon, day)
        avail = availability(tiny, s, day)
        factor = tiny.profiles["upland-coffee"].month_factor.get(day.month, 1.0)
        # ["sunrise-60", 0.5], ["sunrise+30", 0.15]
        assert avail[rise - 61] == pytest.approx(0.02 * factor)
        assert avail[rise - 60] == pytest.approx(0.5 * factor)
        assert avail[rise + 29] == pytest.approx(0.5 * factor)
        assert avail[rise + 30] == pytest.approx(0.15 * factor)
    june = availability(tiny, s, date(2024, 6, 18))
    march = availability(tiny, s, date(2024, 3, 19))
    assert june != march


def test_curve_wraps_midnight_and_is_a_step_function(tiny):
    s = site(tiny, "chu-se-tt")  # urban profile: clock times only
    avail = availability(tiny, s, date(2024, 3, 5))
    assert len(avail) == 1440
    assert avail[0] == 0.02 and avail[330] == 0.35 and avail[329] == 0.02
    assert avail[1439] == 0.1  # 21:30 -> midnight


def test_harvest_season_replaces_the_weekday_curve(tiny):
    coffee = tiny.profiles["upland-coffee"]
    assert curve_for(coffee, "weekday", 11) == coffee.seasons[0].curves["weekday"]
    assert curve_for(coffee, "weekday", 3) == coffee.curves["weekday"]
    assert curve_for(coffee, "sunday", 11) == coffee.curves["sunday"]  # season has no sunday curve
    s = site(tiny, "chu-se-ia-blang")
    lat, lon = tiny.coordinates(s)
    day = date(2024, 11, 19)  # Tuesday in the harvest
    rise, sunset_min = sun_times(lat, lon, day)
    avail = availability(tiny, s, day)
    assert avail[rise + 60] == pytest.approx(0.05)  # in the fields all day
    assert avail[sunset_min + 30] == pytest.approx(0.65)


def test_month_factor_multiplies_and_clips(tiny):
    s = site(tiny, "chu-se-ia-blang")
    base = availability(tiny, s, date(2024, 3, 19))
    boosted_ds = with_profile(tiny, "upland-coffee", month_factor={3: 3.0})
    boosted = availability(boosted_ds, s, date(2024, 3, 19))
    assert max(boosted) == 1.0 and min(boosted) >= 0.0
    for b, v in zip(boosted, base):
        assert b == pytest.approx(min(1.0, 3.0 * v))
    dec = availability(tiny, s, date(2024, 12, 17))  # factor 1.3 in December
    assert all(0.0 <= v <= 1.0 for v in dec)


def test_listeners_is_population_times_mean_availability(tiny):
    s = site(tiny, "chu-se-tt")
    day = date(2024, 3, 5)
    avail = availability(tiny, s, day)
    expected = s.population * sum(avail[320:340]) / 20
    assert listeners(tiny, s, day, 320, 20) == pytest.approx(expected)
    assert listeners(tiny, s, day, 600, 0) == 0.0
    # past midnight, the minutes count on the next day
    nxt = availability(tiny, s, date(2024, 3, 6))
    wrapped = s.population * (sum(avail[1430:]) + sum(nxt[:10])) / 20
    assert listeners(tiny, s, day, 1430, 20) == pytest.approx(wrapped)


def test_availability_is_memoised(tiny):
    s = site(tiny, "chu-se-ia-hlop")
    assert availability(tiny, s, date(2024, 3, 5)) is availability(tiny, s, date(2024, 3, 5))


def test_profile_without_sun_anchors_needs_no_coordinates(tiny):
    ds = dataclasses.replace(tiny, areas=tuple(dataclasses.replace(a, lat=None, lon=None) for a in tiny.areas))
    s = site(ds, "chu-se-tt")
    assert ds.coordinates(s) is None
    assert len(availability(ds, s, date(2024, 3, 5))) == 1440


def test_sites_sharing_profile_and_coordinates_share_curves(tiny):
    blang, hlop = site(tiny, "chu-se-ia-blang"), site(tiny, "chu-se-ia-hlop")
    day = date(2024, 3, 5)  # Tuesday: weekday for both
    assert availability(tiny, blang, day) is availability(tiny, hlop, day)
    assert isinstance(tiny.profiles["upland-coffee"], AudienceProfile)
