"""Calendars as station operators' clients read them: strict parsers, tzdata, stable UIDs."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from export_helpers import DISTRICT, SITES, WEEK, build_plan, move_placement
from scheduler.export import export_all
from scheduler.export.ical import site_calendar
from scheduler.planfile import read_plan

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVENT_PROPS = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "CATEGORIES", "LOCATION", "SEQUENCE")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ical")
    plan, data, plan_path = build_plan(tmp)
    out = tmp / "out"
    summary = export_all(plan, out)
    return plan, plan_path, out, summary


def _ics_files(out: Path) -> list[Path]:
    return sorted((out / "calendars").rglob("*.ics"))


def _key(site_id, kind, item_id, start, end):
    return (site_id, kind, item_id, start.replace(tzinfo=None), end.replace(tzinfo=None))


def test_layout_has_one_calendar_per_site_and_per_district(exported):
    plan, _, out, summary = exported
    week = out / "calendars" / WEEK
    assert sorted(p.relative_to(week).as_posix() for p in _ics_files(out)) == [
        f"{DISTRICT}.ics", f"{DISTRICT}/ia-ka.ics", f"{DISTRICT}/nghia-hung.ics"]
    assert summary.calendars == 3
    assert summary.events == len(plan.placements)


def test_every_calendar_parses_with_strict_ical_and_icalendar(exported):
    plan, _, out, _ = exported
    for path in _ics_files(out):
        text = path.read_text(encoding="utf-8")
        strict = IcsCalendarStream.calendar_from_ics(text)  # raises on any RFC 5545 violation
        cal = icalendar.Calendar.from_ical(text)
        # `ical` fills missing UID/DTSTAMP with defaults: check presence with icalendar too
        for prop in ("VERSION", "PRODID", "X-WR-CALNAME", "X-WR-TIMEZONE"):
            assert prop in cal, f"{path.name}: {prop} missing"
        assert str(cal["VERSION"]) == "2.0"
        assert str(cal["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
        assert WEEK in str(cal["X-WR-CALNAME"])
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
        events = cal.walk("VEVENT")
        assert len(events) == len(strict.events) > 0
        for ev in events:
            for prop in EVENT_PROPS:
                assert prop in ev, f"{path.name}: {ev.get('UID')}: {prop} missing"
            for prop in ("DTSTART", "DTEND"):
                assert ev[prop].params["TZID"] == "Asia/Ho_Chi_Minh"
                assert ev[prop].dt.tzinfo is not None
            assert str(ev["UID"]).endswith("@loa")
            assert ev["DTSTAMP"].dt == datetime(2024, 3, 3, 17, 0, tzinfo=timezone.utc)  # Monday 00:00 +07
        # the site calendar of a site names it; the district calendar holds both sites
        if path.parent.name == DISTRICT:
            site = next(s for s in SITES if s.id == path.stem)
            assert str(cal["X-WR-CALNAME"]).startswith(site.name)
            assert {str(ev["LOCATION"]) for ev in events} == {site.name}
        else:
            assert {str(ev["LOCATION"]) for ev in events} == {s.name for s in SITES}


def test_vtimezone_offsets_agree_with_tzdata(exported):
    """Clients use tzdata, not the file's VTIMEZONE: a wrong VTIMEZONE would pass silently."""
    _, _, out, _ = exported
    cal = icalendar.Calendar.from_ical((out / "calendars" / WEEK / f"{DISTRICT}.ics").read_bytes())
    (vtz,) = cal.walk("VTIMEZONE")
    rules = vtz.walk("STANDARD") + vtz.walk("DAYLIGHT")
    assert rules
    for rule in rules:
        start = rule["DTSTART"].dt
        assert rule["TZOFFSETTO"].td == TZ.utcoffset(start) == timedelta(hours=7)
    # the VTIMEZONE resolved by icalendar gives every event the tzdata offset
    tz_from_file = vtz.to_tz()
    for ev in cal.walk("VEVENT"):
        naive = ev["DTSTART"].dt.replace(tzinfo=None)
        assert tz_from_file.utcoffset(naive) == TZ.utcoffset(naive) == timedelta(hours=7)


def test_titles_keep_vietnamese_diacritics_and_lines_fold_on_characters(exported):
    plan, _, out, _ = exported
    titles = {i.title for i in plan.items}
    for path in _ics_files(out):
        raw = path.read_bytes()
        for line in raw.split(b"\r\n"):
            assert len(line) <= 75, f"{path.name}: unfolded line {line[:40]!r}"
            line.decode("utf-8")  # a fold never splits a multi-byte character
        cal = icalendar.Calendar.from_ical(raw)
        for ev in cal.walk("VEVENT"):
            summary = str(ev["SUMMARY"])
            assert summary in titles
            assert unicodedata.is_normalized("NFC", summary)
    assert "Dịch vụ công trực tuyến: hướng dẫn nộp hồ sơ ở nhà" in titles


def test_description_and_categories_tell_what_airs(exported):
    plan, _, out, _ = exported
    cal = icalendar.Calendar.from_ical((out / "calendars" / WEEK / DISTRICT / "ia-ka.ics").read_bytes())
    by_item = {str(ev["X-LOA-ITEM"]): ev for ev in cal.walk("VEVENT")}
    seg = by_item["dich-vu-cong"]
    desc = str(seg["DESCRIPTION"])
    for needle in ("CCHC chủ đề 3", "tiếng Việt", "Trung tâm VH-TT Chư Păh", "audio/dich-vu-cong.wav", "3500"):
        assert needle in desc
    assert seg["CATEGORIES"].cats == ["CCHC chủ đề 3"]
    relay = by_item["vov1-thoi-su"]
    assert relay["CATEGORIES"].cats == ["Tiếp sóng"]
    assert "VOV1" in str(relay["DESCRIPTION"])
    assert str(relay["URL"]) == "https://stream.example.vn/vov1.m3u8"
    assert "tiếng Gia Rai" in str(by_item["khai-sinh-jrai"]["DESCRIPTION"])


def test_round_trip_rebuilds_the_placements_of_plan_json(exported):
    _, plan_path, out, _ = exported
    saved = read_plan(plan_path)
    expected = {_key(p.site_id, p.kind, p.item_id, p.start, p.end) for p in saved.placements}
    names = {s.name: s.id for s in saved.sites}

    from_sites, from_district = [], []
    for path in _ics_files(out):
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        for ev in cal.walk("VEVENT"):
            row = _key(str(ev["X-LOA-SITE"]), str(ev["X-LOA-KIND"]), str(ev["X-LOA-ITEM"]),
                       ev["DTSTART"].dt, ev["DTEND"].dt)
            assert names[str(ev["LOCATION"])] == row[0]
            (from_district if path.parent.name == WEEK else from_sites).append(row)
    assert len(from_sites) == len(saved.placements) == len(set(from_sites))
    assert set(from_sites) == expected
    assert sorted(from_district) == sorted(from_sites)


def test_a_client_in_utc_sees_the_right_instants(exported):
    _, _, out, _ = exported
    strict = IcsCalendarStream.calendar_from_ics(
        (out / "calendars" / WEEK / DISTRICT / "nghia-hung.ics").read_text(encoding="utf-8"))
    first = min(strict.events, key=lambda e: e.dtstart)
    assert first.dtstart == datetime(2024, 3, 4, 6, 0, tzinfo=TZ)
    assert first.dtstart.utcoffset() == timedelta(hours=7)
    # 06:00 in Gia Lai on Monday is 23:00 UTC on Sunday
    assert first.dtstart.astimezone(timezone.utc) == datetime(2024, 3, 3, 23, 0, tzinfo=timezone.utc)
    for ev in strict.events:
        local = ev.dtstart.astimezone(TZ)
        assert ev.dtstart.astimezone(timezone.utc) + timedelta(hours=7) == local.replace(tzinfo=timezone.utc)


def test_exporting_twice_gives_byte_identical_files(exported, tmp_path):
    plan, _, out, _ = exported
    def snapshot(root):
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != "plan.json"}

    first = snapshot(out)
    export_all(plan, out)  # over the previous export: nothing changed, nothing differs
    again = snapshot(out)
    assert again == first
    # a fresh folder at the same depth gives the same bytes
    other = out.parent / "out2"
    export_all(plan, other)
    assert snapshot(other) == again


def _exported_once(tmp_path):
    """Export the small week once; return the files a re-export test compares against."""
    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out)
    site_ics = out / "calendars" / WEEK / DISTRICT / "ia-ka.ics"
    district_ics = out / "calendars" / WEEK / f"{DISTRICT}.ics"
    other_ics = out / "calendars" / WEEK / DISTRICT / "nghia-hung.ics"
    before = {p: icalendar.Calendar.from_ical(p.read_bytes()) for p in (site_ics, district_ics)}
    return plan, out, site_ics, district_ics, other_ics, before, other_ics.read_bytes()


def test_moving_a_placement_keeps_uids_and_raises_sequence_only_for_it(tmp_path):
    plan, out, site_ics, district_ics, other_ics, before, other_before = _exported_once(tmp_path)

    moved = move_placement(plan, "ia-ka", "khai-sinh-jrai", day_index=1, minutes=10)  # Tue 18:25 -> 18:35
    export_all(moved, out)
    for path, old in before.items():
        new = icalendar.Calendar.from_ical(path.read_bytes())
        old_ev = {str(e["UID"]): e for e in old.walk("VEVENT")}
        new_ev = {str(e["UID"]): e for e in new.walk("VEVENT")}
        assert set(new_ev) == set(old_ev), "a moved placement must keep its UID"
        bumped = {u for u, e in new_ev.items() if int(e["SEQUENCE"]) > 0}
        assert len(bumped) == 1
        (uid,) = bumped
        assert int(new_ev[uid]["SEQUENCE"]) == 1
        assert str(new_ev[uid]["X-LOA-ITEM"]) == "khai-sinh-jrai"
        assert new_ev[uid]["DTSTART"].dt == datetime(2024, 3, 5, 18, 35, tzinfo=TZ)
        assert old_ev[uid]["DTSTART"].dt == datetime(2024, 3, 5, 18, 25, tzinfo=TZ)
        assert new_ev[uid]["DTSTAMP"].dt == old_ev[uid]["DTSTAMP"].dt
    assert other_ics.read_bytes() == other_before  # the other site did not change at all

    # exporting the same moved plan again keeps SEQUENCE 1 (no change, no bump)
    site_bytes = site_ics.read_bytes()
    export_all(moved, out)
    assert site_ics.read_bytes() == site_bytes
    # moving it once more raises it to 2
    export_all(move_placement(moved, "ia-ka", "khai-sinh-jrai", day_index=1, minutes=5), out)
    seqs = [int(e["SEQUENCE"]) for e in icalendar.Calendar.from_ical(site_ics.read_bytes()).walk("VEVENT")]
    assert sorted(seqs)[-2:] == [0, 2]


def test_same_item_twice_a_day_gets_two_uids(exported):
    plan, _, _, _ = exported
    cal = site_calendar(plan, "ia-ka")
    wed = [e for e in cal.walk("VEVENT")
           if str(e["X-LOA-ITEM"]) == "can-cuoc" and e["DTSTART"].dt.date().isoformat() == "2024-03-06"]
    assert len(wed) == 2
    assert len({str(e["UID"]) for e in wed}) == 2
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids))


def _drop(plan, site_id, item_id, day_index):
    """The same plan without the placements of `item_id` at `site_id` on one day."""
    import dataclasses

    from scheduler.domain import week_days

    day = week_days(plan.week)[day_index]
    kept = tuple(p for p in plan.placements
                 if not (p.site_id == site_id and p.item_id == item_id and p.start.date() == day))
    assert len(kept) < len(plan.placements)
    return dataclasses.replace(plan, placements=kept)


def test_a_dropped_placement_is_kept_as_cancelled_on_re_export(tmp_path):
    plan, out, site_ics, district_ics, other_ics, before, other_before = _exported_once(tmp_path)

    smaller = _drop(plan, "ia-ka", "khai-sinh-jrai", day_index=1)  # Tue 18:25 at Ia Ka
    summary = export_all(smaller, out)
    assert summary.events == len(smaller.placements)  # active events only
    assert summary.cancelled == 1
    assert "1 cancelled" in str(summary) and summary.as_dict()["cancelled"] == 1
    for path, old in before.items():
        text = path.read_text(encoding="utf-8")
        strict = IcsCalendarStream.calendar_from_ics(text)  # a CANCELLED VEVENT is valid RFC 5545
        new = icalendar.Calendar.from_ical(text)
        old_ev = {str(e["UID"]): e for e in old.walk("VEVENT")}
        new_ev = {str(e["UID"]): e for e in new.walk("VEVENT")}
        assert set(new_ev) == set(old_ev) and len(strict.events) == len(new_ev)
        gone = [u for u, e in new_ev.items() if str(e["STATUS"]) == "CANCELLED"]
        assert len(gone) == 1
        (uid,) = gone
        ev, was = new_ev[uid], old_ev[uid]
        for prop in EVENT_PROPS[:3] + ("DTEND", "LOCATION", "X-LOA-ITEM"):
            assert prop in ev, prop
        assert str(ev["X-LOA-ITEM"]) == "khai-sinh-jrai"
        assert int(ev["SEQUENCE"]) == 1 and int(was["SEQUENCE"]) == 0
        assert ev["DTSTART"].dt == was["DTSTART"].dt == datetime(2024, 3, 5, 18, 25, tzinfo=TZ)
        assert ev["DTEND"].dt == was["DTEND"].dt
        assert ev["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
        assert str(ev["SUMMARY"]) == "[Hủy] " + str(was["SUMMARY"])
        assert [e.status for e in strict.events if e.uid == uid][0] == "CANCELLED"
        # every other event is unchanged
        assert all(int(e["SEQUENCE"]) == 0 and str(e["STATUS"]) == "CONFIRMED"
                   for u, e in new_ev.items() if u != uid)
        starts = [(e["DTSTART"].dt, str(e["UID"])) for e in new.walk("VEVENT")]
        assert [s for s, _ in starts] == sorted(s for s, _ in starts)  # air order, cancelled included
    assert other_ics.read_bytes() == other_before

    # exporting the same plan again changes no byte (the cancelled event is carried as it is)
    snapshot = {p: p.read_bytes() for p in (site_ics, district_ics, other_ics)}
    again = export_all(smaller, out)
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert again.cancelled == 1 and again.events == len(smaller.placements)

    # planned again: the event comes back CONFIRMED with a higher SEQUENCE, so clients restore it
    export_all(plan, out)
    for path in (site_ics, district_ics):
        evs = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
        assert str(evs[uid]["STATUS"]) == "CONFIRMED" and int(evs[uid]["SEQUENCE"]) == 2
        assert str(evs[uid]["SUMMARY"]) == "Đăng ký khai sinh (tiếng Jrai)"
        assert all(str(e["STATUS"]) == "CONFIRMED" for e in evs.values())


def test_a_placement_moved_to_another_day_cancels_its_old_uid(tmp_path):
    import dataclasses
    from datetime import timedelta as td

    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out)
    site_ics = out / "calendars" / WEEK / DISTRICT / "nghia-hung.ics"
    old = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(site_ics.read_bytes()).walk("VEVENT")}
    # Wednesday's midday can-cuoc at Nghĩa Hưng moves to Thursday midday
    moved = tuple(dataclasses.replace(p, start=p.start + td(days=1), end=p.end + td(days=1))
                  if p.site_id == "nghia-hung" and p.start.hour == 11 else p for p in plan.placements)
    export_all(dataclasses.replace(plan, placements=moved), out)
    new = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(site_ics.read_bytes()).walk("VEVENT")}
    added = set(new) - set(old)
    assert len(added) == 1 and set(old) <= set(new)
    (fresh,) = added
    assert new[fresh]["DTSTART"].dt == datetime(2024, 3, 7, 11, 0, tzinfo=TZ)
    cancelled = [u for u, e in new.items() if str(e["STATUS"]) == "CANCELLED"]
    assert len(cancelled) == 1
    assert new[cancelled[0]]["DTSTART"].dt == datetime(2024, 3, 6, 11, 0, tzinfo=TZ)
    assert int(new[cancelled[0]]["SEQUENCE"]) == 1


def test_cancelled_events_of_another_week_are_not_carried(exported):
    """An already cancelled event is kept only while it belongs to the calendar's ISO week."""
    from scheduler.export.ical import cancelled_events

    plan, _, _, _ = exported
    cal = site_calendar(plan, "ia-ka")
    evs = cal.walk("VEVENT")
    # cancel two events: one stays in the week, one is shifted to the next week
    for ev, shift in ((evs[0], 0), (evs[1], 7)):
        ev["STATUS"] = icalendar.vText("CANCELLED")
        if shift:
            for prop in ("DTSTART", "DTEND"):
                dt = ev[prop].dt + timedelta(days=shift)
                del ev[prop]
                ev.add(prop.lower(), dt)
    previous = icalendar.Calendar.from_ical(cal.to_ical())
    gone = cancelled_events(plan, previous, active_uids=())
    assert str(evs[0]["UID"]) in gone and str(evs[1]["UID"]) not in gone
    assert gone[str(evs[0]["UID"])].to_ical() == previous.walk("VEVENT")[0].to_ical()  # unchanged
    assert len(gone) == len(evs) - 1
    assert all(int(e["SEQUENCE"]) == 1 for u, e in gone.items() if u != str(evs[0]["UID"]))
    # nothing at all to cancel when every UID is still planned
    assert cancelled_events(plan, previous, {str(e["UID"]) for e in evs}) == {}


def test_district_calendar_cancels_the_events_of_a_site_left_out_of_the_plan(tmp_path):
    import dataclasses

    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out)
    district_ics = out / "calendars" / WEEK / f"{DISTRICT}.ics"
    only_ia_ka = dataclasses.replace(plan, sites=tuple(s for s in plan.sites if s.id == "ia-ka"),
                                     placements=tuple(p for p in plan.placements if p.site_id == "ia-ka"))
    summary = export_all(only_ia_ka, out)
    assert summary.cancelled == 0  # no site calendar lost an event
    evs = icalendar.Calendar.from_ical(district_ics.read_bytes()).walk("VEVENT")
    IcsCalendarStream.calendar_from_ics(district_ics.read_text(encoding="utf-8"))
    gone = [e for e in evs if str(e["STATUS"]) == "CANCELLED"]
    assert {str(e["X-LOA-SITE"]) for e in gone} == {"nghia-hung"}
    assert len(gone) == sum(1 for p in plan.placements if p.site_id == "nghia-hung")
    assert all(int(e["SEQUENCE"]) == 1 for e in gone)
