"""Calendars as station operators' clients read them: strict parsers, tzdata, stable UIDs, at both
levels of detail (one event per session for the phone, one per item for automation)."""
from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from export_helpers import DISTRICT, SITES, WEEK, build_plan, move_placement
from scheduler.domain import week_days
from scheduler.export import export_all
from scheduler.export.ical import site_calendar
from scheduler.planfile import read_plan
from scheduler.rules import split_sessions

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVENT_PROPS = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "CATEGORIES", "LOCATION", "SEQUENCE")
DETAILS = ("sessions", "items")
THURSDAY = datetime(2024, 3, 7)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ical")
    plan, data, plan_path = build_plan(tmp)
    out = tmp / "out"
    summaries = {detail: export_all(plan, out, detail) for detail in DETAILS}
    return plan, plan_path, out, summaries


def _name(stem: str, detail: str) -> str:
    return f"{stem}.ics" if detail == "sessions" else f"{stem}.{detail}.ics"


def _site_ics(out: Path, site_id: str, detail: str = "sessions") -> Path:
    return out / "calendars" / WEEK / DISTRICT / _name(site_id, detail)


def _district_ics(out: Path, detail: str = "sessions") -> Path:
    return out / "calendars" / WEEK / _name(DISTRICT, detail)


def _ics_files(out: Path, detail: str | None = None) -> list[Path]:
    files = sorted((out / "calendars").rglob("*.ics"))
    if detail is None:
        return files
    return [p for p in files if (".items." in p.name) == (detail == "items")]


def _events(path: Path) -> list:
    return icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def _by_kind(path: Path, kind: str) -> list:
    return [ev for ev in _events(path) if str(ev["X-LOA-KIND"]) == kind]


def _key(site_id, kind, item_id, start, end):
    return (site_id, kind, item_id, start.replace(tzinfo=None), end.replace(tzinfo=None))


def _recorded(plan):
    """The placements that air a relay after its source time (Thursday's provincial news)."""
    items = {(i.kind, i.id): i for i in plan.items}
    return [p for p in plan.placements if p.kind == "relay"
            and p.start > datetime.combine(p.start.date(), datetime.min.time())
            + timedelta(minutes=items[("relay", p.item_id)].start_min)]


def _sessions(plan, site_id):
    return split_sessions([p for p in plan.placements if p.site_id == site_id], 10)


# --------------------------------------------------------------------------- both levels


def test_layout_has_one_calendar_per_site_and_per_district_at_each_level(exported):
    plan, _, out, summaries = exported
    week = out / "calendars" / WEEK
    assert sorted(p.relative_to(week).as_posix() for p in _ics_files(out)) == sorted(
        [f"{DISTRICT}.ics", f"{DISTRICT}/ia-ka.ics", f"{DISTRICT}/nghia-hung.ics",
         f"{DISTRICT}.items.ics", f"{DISTRICT}/ia-ka.items.ics", f"{DISTRICT}/nghia-hung.items.ics"])
    recorded = _recorded(plan)
    assert len(recorded) == 2  # Thursday at both sites
    sessions = sum(len(_sessions(plan, s.id)) for s in SITES)
    assert summaries["sessions"].calendars == summaries["items"].calendars == 3
    assert summaries["sessions"].events == sessions + len(recorded)
    assert summaries["items"].events == len(plan.placements) + len(recorded)
    assert summaries["sessions"].as_dict()["detail"] == "sessions"


@pytest.mark.parametrize("detail", DETAILS)
def test_every_calendar_parses_with_strict_ical_and_icalendar(exported, detail):
    plan, _, out, _ = exported
    for path in _ics_files(out, detail):
        text = path.read_text(encoding="utf-8")
        strict = IcsCalendarStream.calendar_from_ics(text)  # raises on any RFC 5545 violation
        cal = icalendar.Calendar.from_ical(text)
        # `ical` fills missing UID/DTSTAMP with defaults: check presence with icalendar too
        for prop in ("VERSION", "PRODID", "X-WR-CALNAME", "X-WR-TIMEZONE"):
            assert prop in cal, f"{path.name}: {prop} missing"
        assert str(cal["VERSION"]) == "2.0"
        assert str(cal["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
        assert "Tuần 10 (04–10/3/2024)" in str(cal["X-WR-CALNAME"])
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
        # alarms: every session and every recording, 10 minutes before; nothing else rings
        for ev, parsed in zip(sorted(events, key=lambda e: str(e["UID"])), sorted(strict.events, key=lambda e: e.uid)):
            rings = str(ev["X-LOA-KIND"]) in ("session", "record")
            assert len(parsed.alarm) == int(rings), ev["SUMMARY"]
            if rings:
                (alarm,) = ev.walk("VALARM")
                assert str(alarm["ACTION"]) == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(minutes=-10)
                assert str(alarm["DESCRIPTION"]) == str(ev["SUMMARY"])
        # the site calendar of a site names it; the district calendar holds both sites
        if path.parent.name == DISTRICT:
            site = next(s for s in SITES if path.name.startswith(s.id + "."))
            assert str(cal["X-WR-CALNAME"]).startswith(site.name)
            assert {str(ev["LOCATION"]) for ev in events} == {site.name}
        else:
            assert {str(ev["LOCATION"]) for ev in events} == {s.name for s in SITES}


def test_vtimezone_offsets_agree_with_tzdata(exported):
    """Clients use tzdata, not the file's VTIMEZONE: a wrong VTIMEZONE would pass silently."""
    _, _, out, _ = exported
    cal = icalendar.Calendar.from_ical(_district_ics(out).read_bytes())
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


@pytest.mark.parametrize("detail", DETAILS)
def test_text_is_nfc_folded_on_characters_and_free_of_internal_fields(exported, detail):
    _, _, out, _ = exported
    for path in _ics_files(out, detail):
        raw = path.read_bytes()
        for line in raw.split(b"\r\n"):
            assert len(line) <= 75, f"{path.name}: unfolded line {line[:40]!r}"
            line.decode("utf-8")  # a fold never splits a multi-byte character
        for ev in _events(path):
            for prop in ("SUMMARY", "DESCRIPTION"):
                text = str(ev[prop])
                assert unicodedata.is_normalized("NFC", text)
                assert "Mã:" not in text and "segment/" not in text and "relay/" not in text, text


@pytest.mark.parametrize("detail", DETAILS)
def test_a_deferred_relay_aired_late_is_a_recording_with_a_recording_event(exported, detail):
    plan, _, out, _ = exported
    for site in SITES:
        events = _events(_site_ics(out, site.id, detail))
        (record,) = [ev for ev in events if str(ev["X-LOA-KIND"]) == "record"]
        assert str(record["SUMMARY"]) == "Ghi âm Thời sự Gia Lai — Đài PT-TH tỉnh để phát lại lúc 18:05"
        assert record["DTSTART"].dt == datetime(2024, 3, 7, 18, 0, tzinfo=TZ)  # the source time
        assert record["DTEND"].dt == datetime(2024, 3, 7, 18, 20, tzinfo=TZ)
        assert record["CATEGORIES"].cats == ["Ghi âm"]
        assert "ghi âm lại" in str(record["DESCRIPTION"]) and "18:05–18:25" in str(record["DESCRIPTION"])
        # no event of any kind calls the late airing live
        for ev in events:
            if ev["DTSTART"].dt.date() == THURSDAY.date() and "18:05" in str(ev["DESCRIPTION"]) + str(ev["SUMMARY"]):
                assert "trực tiếp" not in str(ev["SUMMARY"])


def test_items_level_says_live_relay_recorded_replay_and_topic(exported):
    plan, _, out, _ = exported
    events = _events(_site_ics(out, "ia-ka", "items"))
    items = [ev for ev in events if str(ev["X-LOA-KIND"]) != "record"]
    seg = next(ev for ev in items if str(ev["X-LOA-ITEM"]) == "dich-vu-cong")
    desc = str(seg["DESCRIPTION"])
    for needle in ("II.3", "Vai trò, trách nhiệm", "tiếng Việt", "Trung tâm VH-TT Chư Păh", "audio/dich-vu-cong.wav"):
        assert needle in desc, needle
    assert str(seg["SUMMARY"]) == "Dịch vụ công trực tuyến: hướng dẫn nộp hồ sơ ở nhà"
    assert seg["CATEGORIES"].cats == ["CCHC II.3"]
    assert str(seg["X-LOA-MODE"]) == "file"

    vov = next(ev for ev in items if str(ev["X-LOA-ITEM"]) == "vov1-thoi-su")
    assert str(vov["SUMMARY"]) == "Tiếp sóng trực tiếp Thời sự sáng VOV1"
    assert vov["CATEGORIES"].cats == ["Tiếp sóng"] and str(vov["X-LOA-MODE"]) == "live"
    assert str(vov["URL"]) == "https://stream.example.vn/vov1.m3u8"
    assert "luồng https://stream.example.vn/vov1.m3u8" in str(vov["DESCRIPTION"])

    news = [ev for ev in items if str(ev["X-LOA-ITEM"]) == "gl-thoi-su"]
    live = [ev for ev in news if ev["DTSTART"].dt.date() != THURSDAY.date()]
    (late,) = [ev for ev in news if ev["DTSTART"].dt.date() == THURSDAY.date()]
    assert len(live) == 6 and all(str(ev["SUMMARY"]).startswith("Tiếp sóng trực tiếp ") for ev in live)
    assert all("máy thu" in str(ev["DESCRIPTION"]) for ev in live)
    assert str(late["SUMMARY"]) == "Phát lại bản ghi Thời sự Gia Lai — Đài PT-TH tỉnh (ghi lúc 18:00)"
    assert str(late["X-LOA-MODE"]) == "recorded" and late["CATEGORIES"].cats == ["Tiếp sóng"]
    assert "URL" not in late  # the stream at 18:05 is not the programme of 18:00
    assert "tiếng Gia Rai" in str(next(ev for ev in items if str(ev["X-LOA-ITEM"]) == "khai-sinh-jrai")["DESCRIPTION"])


def test_items_level_round_trip_rebuilds_the_placements_of_plan_json(exported):
    _, plan_path, out, _ = exported
    saved = read_plan(plan_path)
    expected = {_key(p.site_id, p.kind, p.item_id, p.start, p.end) for p in saved.placements}
    names = {s.name: s.id for s in saved.sites}

    from_sites, from_district = [], []
    for path in _ics_files(out, "items"):
        for ev in _events(path):
            if str(ev["X-LOA-KIND"]) == "record":
                continue
            row = _key(str(ev["X-LOA-SITE"]), str(ev["X-LOA-KIND"]), str(ev["X-LOA-ITEM"]),
                       ev["DTSTART"].dt, ev["DTEND"].dt)
            assert names[str(ev["LOCATION"])] == row[0]
            (from_district if path.parent.name == WEEK else from_sites).append(row)
    assert len(from_sites) == len(saved.placements) == len(set(from_sites))
    assert set(from_sites) == expected
    assert sorted(from_district) == sorted(from_sites)


def test_a_client_in_utc_sees_the_right_instants(exported):
    _, _, out, _ = exported
    strict = IcsCalendarStream.calendar_from_ics(_site_ics(out, "nghia-hung").read_text(encoding="utf-8"))
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
    for detail in DETAILS:
        export_all(plan, out, detail)  # over the previous export: nothing changed, nothing differs
    again = snapshot(out)
    assert again == first
    # a fresh folder at the same depth gives the same bytes
    other = out.parent / "out2"
    for detail in DETAILS:
        export_all(plan, other, detail)
    assert snapshot(other) == again


# --------------------------------------------------------------------------- sessions


def test_one_event_per_session_with_its_running_order(exported):
    plan, _, out, _ = exported
    for site in SITES:
        runs = _sessions(plan, site.id)
        events = _by_kind(_site_ics(out, site.id), "session")
        assert len(events) == len(runs)
        got = sorted((ev["DTSTART"].dt.replace(tzinfo=None), ev["DTEND"].dt.replace(tzinfo=None)) for ev in events)
        assert got == sorted((run[0].start, max(p.end for p in run)) for run in runs)
        for ev in events:
            run = next(r for r in runs if r[0].start == ev["DTSTART"].dt.replace(tzinfo=None))
            lines = str(ev["DESCRIPTION"]).splitlines()
            # one line per item: its time, then what airs, how long and from where
            assert [ln[:5] for ln in lines[:len(run)]] == [f"{p.start:%H:%M}" for p in run]
            for line, p in zip(lines, run):
                item = plan.item(p.kind, p.item_id)
                assert item.title in line and item.source in line
                assert (" phút" in line) or (" giây" in line)
            assert ev["CATEGORIES"].cats == ["Buổi phát"]


def test_session_titles_name_daypart_relays_and_par_items(exported):
    _, _, out, _ = exported
    titles = {(ev["DTSTART"].dt.replace(tzinfo=None)): str(ev["SUMMARY"])
              for ev in _by_kind(_site_ics(out, "ia-ka"), "session")}
    assert titles[datetime(2024, 3, 4, 6, 0)] == "Buổi sáng: Tiếp sóng VOV1 + 2 tin CCHC"
    assert titles[datetime(2024, 3, 5, 6, 0)] == "Buổi sáng: Tiếp sóng VOV1 + 1 tin CCHC"
    assert titles[datetime(2024, 3, 6, 11, 0)] == "Buổi trưa: 1 tin CCHC"
    # the window is named "chiều" in this week's rules: its name wins over the clock (18:00)
    assert titles[datetime(2024, 3, 4, 18, 0)] == "Buổi chiều: Tiếp sóng Đài PT-TH Gia Lai + 1 tin CCHC"
    assert titles[datetime(2024, 3, 7, 18, 5)] == \
        "Buổi chiều: Phát lại Đài PT-TH Gia Lai (ghi lúc 18:00) + 1 tin CCHC"


def test_a_session_opening_with_a_relay_says_to_start_the_file_after_it(exported):
    _, _, out, _ = exported
    events = {ev["DTSTART"].dt.replace(tzinfo=None): str(ev["DESCRIPTION"])
              for ev in _by_kind(_site_ics(out, "ia-ka"), "session")}
    monday = events[datetime(2024, 3, 4, 6, 0)]
    assert "Tệp ia-ka_2024-03-04_0630: bắt đầu lúc 06:30, sau khi tiếp sóng VOV1 kết thúc" in monday
    thursday = events[datetime(2024, 3, 7, 18, 5)]
    assert "Tệp ia-ka_2024-03-07_1830: bắt đầu lúc 18:30, sau khi phát lại Đài PT-TH Gia Lai kết thúc" in thursday
    assert "Nhớ ghi âm Thời sự Gia Lai — Đài PT-TH tỉnh lúc 18:00." in thursday
    assert "18:05  Phát lại bản ghi Thời sự Gia Lai — Đài PT-TH tỉnh (ghi lúc 18:00) (20 phút)" in thursday
    assert "Tệp ia-ka_2024-03-06_1100: bắt đầu lúc 11:00\n" in events[datetime(2024, 3, 6, 11, 0)] + "\n"


# --------------------------------------------------------------------------- re-exports


def _exported_once(tmp_path, detail):
    """Export the small week once; return the files a re-export test compares against."""
    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out, detail)
    site_ics, district_ics = _site_ics(out, "ia-ka", detail), _district_ics(out, detail)
    other_ics = _site_ics(out, "nghia-hung", detail)
    before = {p: icalendar.Calendar.from_ical(p.read_bytes()) for p in (site_ics, district_ics)}
    return plan, out, site_ics, district_ics, other_ics, before, other_ics.read_bytes()


@pytest.mark.parametrize("detail", DETAILS)
def test_moving_a_placement_keeps_uids_and_raises_sequence_only_where_it_changed(tmp_path, detail):
    plan, out, site_ics, district_ics, other_ics, before, other_before = _exported_once(tmp_path, detail)

    # Tue 18:25 -> 18:28: still 8 minutes after the relay, so still in its session
    moved = move_placement(plan, "ia-ka", "khai-sinh-jrai", day_index=1, minutes=3)
    export_all(moved, out, detail)
    for path, old in before.items():
        new = icalendar.Calendar.from_ical(path.read_bytes())
        old_ev = {str(e["UID"]): e for e in old.walk("VEVENT")}
        new_ev = {str(e["UID"]): e for e in new.walk("VEVENT")}
        assert set(new_ev) == set(old_ev), "a moved placement (and its session) must keep its UID"
        bumped = {u for u, e in new_ev.items() if int(e["SEQUENCE"]) > 0}
        assert len(bumped) == 1
        (uid,) = bumped
        assert int(new_ev[uid]["SEQUENCE"]) == 1
        assert new_ev[uid]["DTSTAMP"].dt == old_ev[uid]["DTSTAMP"].dt
        if detail == "items":
            assert str(new_ev[uid]["X-LOA-ITEM"]) == "khai-sinh-jrai"
            assert new_ev[uid]["DTSTART"].dt == datetime(2024, 3, 5, 18, 28, tzinfo=TZ)
            assert old_ev[uid]["DTSTART"].dt == datetime(2024, 3, 5, 18, 25, tzinfo=TZ)
        else:  # Tuesday evening's session ends 3 minutes later and lists the new time
            assert str(new_ev[uid]["X-LOA-KIND"]) == "session"
            assert new_ev[uid]["DTSTART"].dt == old_ev[uid]["DTSTART"].dt == datetime(2024, 3, 5, 18, 0, tzinfo=TZ)
            assert new_ev[uid]["DTEND"].dt == datetime(2024, 3, 5, 18, 29, tzinfo=TZ)
            assert "18:28  Đăng ký khai sinh" in str(new_ev[uid]["DESCRIPTION"])
    assert other_ics.read_bytes() == other_before  # the other site did not change at all

    # exporting the same moved plan again keeps SEQUENCE 1 (no change, no bump)
    site_bytes = site_ics.read_bytes()
    export_all(moved, out, detail)
    assert site_ics.read_bytes() == site_bytes
    # moving it once more raises it to 2
    export_all(move_placement(moved, "ia-ka", "khai-sinh-jrai", day_index=1, minutes=1), out, detail)
    seqs = [int(e["SEQUENCE"]) for e in _events(site_ics)]
    assert sorted(seqs)[-2:] == [0, 2]


def test_a_changed_running_order_raises_the_session_sequence(tmp_path):
    """Same times, same title, other items: only the DESCRIPTION differs, and clients must see it."""
    plan, out, site_ics, _, _, before, _ = _exported_once(tmp_path, "sessions")
    monday = week_days(WEEK)[0]
    swap = {"dich-vu-cong": "can-cuoc", "can-cuoc": "dich-vu-cong"}  # 06:30 and 06:35 trade places
    swapped = tuple(dataclasses.replace(p, item_id=swap[p.item_id])
                    if p.site_id == "ia-ka" and p.start.date() == monday and p.item_id in swap else p
                    for p in plan.placements)
    export_all(dataclasses.replace(plan, placements=swapped), out)
    old = {str(e["UID"]): e for e in before[site_ics].walk("VEVENT")}
    new = {str(e["UID"]): e for e in _events(site_ics)}
    bumped = [u for u, e in new.items() if int(e["SEQUENCE"]) == 1]
    assert len(bumped) == 1 and set(new) == set(old)
    (uid,) = bumped
    assert str(new[uid]["SUMMARY"]) == str(old[uid]["SUMMARY"])
    assert str(new[uid]["DESCRIPTION"]) != str(old[uid]["DESCRIPTION"])


def test_same_item_twice_a_day_gets_two_uids(exported):
    plan, _, _, _ = exported
    cal = site_calendar(plan, "ia-ka", detail="items")
    wed = [e for e in cal.walk("VEVENT")
           if str(e.get("X-LOA-ITEM")) == "can-cuoc" and e["DTSTART"].dt.date().isoformat() == "2024-03-06"]
    assert len(wed) == 2
    assert len({str(e["UID"]) for e in wed}) == 2
    for detail in DETAILS:
        uids = [str(e["UID"]) for e in site_calendar(plan, "ia-ka", detail=detail).walk("VEVENT")]
        assert len(uids) == len(set(uids))


def _drop(plan, site_id, item_id, day_index):
    """The same plan without the placements of `item_id` at `site_id` on one day."""
    day = week_days(plan.week)[day_index]
    kept = tuple(p for p in plan.placements
                 if not (p.site_id == site_id and p.item_id == item_id and p.start.date() == day))
    assert len(kept) < len(plan.placements)
    return dataclasses.replace(plan, placements=kept)


@pytest.mark.parametrize("detail, item_id, day_index, start, restored", [
    ("items", "khai-sinh-jrai", 1, datetime(2024, 3, 5, 18, 25), "Đăng ký khai sinh (tiếng Jrai)"),
    # Wednesday's 11:00 can-cuoc at Ia Ka is a session of its own: dropped, the session goes
    ("sessions", "can-cuoc", 2, datetime(2024, 3, 6, 11, 0), "Buổi trưa: 1 tin CCHC"),
])
def test_a_dropped_event_is_kept_as_cancelled_on_re_export(tmp_path, detail, item_id, day_index, start, restored):
    plan, out, site_ics, district_ics, other_ics, before, other_before = _exported_once(tmp_path, detail)

    smaller = _drop(plan, "ia-ka", item_id, day_index)
    if item_id == "can-cuoc":  # keep the morning's can-cuoc of that day
        smaller = dataclasses.replace(smaller, placements=smaller.placements + tuple(
            p for p in plan.placements if p.site_id == "ia-ka" and p.item_id == item_id
            and p.start.date() == start.date() and p.start != start))
    expected = export_all(plan, tmp_path / "fresh", detail).events
    summary = export_all(smaller, out, detail)
    assert summary.events == expected - 1  # active events only
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
        for prop in EVENT_PROPS[:3] + ("DTEND", "LOCATION", "X-LOA-KIND"):
            assert prop in ev, prop
        assert int(ev["SEQUENCE"]) == 1 and int(was["SEQUENCE"]) == 0
        assert ev["DTSTART"].dt == was["DTSTART"].dt == start.replace(tzinfo=TZ)
        assert ev["DTEND"].dt == was["DTEND"].dt
        assert ev["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
        assert str(ev["SUMMARY"]) == "[Hủy] " + str(was["SUMMARY"])
        assert not ev.walk("VALARM")  # a cancelled broadcast does not ring
        assert [e.status for e in strict.events if e.uid == uid][0] == "CANCELLED"
        # every other event is unchanged
        assert all(int(e["SEQUENCE"]) == 0 and str(e["STATUS"]) == "CONFIRMED"
                   for u, e in new_ev.items() if u != uid)
        starts = [(e["DTSTART"].dt, str(e["UID"])) for e in new.walk("VEVENT")]
        assert [s for s, _ in starts] == sorted(s for s, _ in starts)  # air order, cancelled included
    assert other_ics.read_bytes() == other_before

    # exporting the same plan again changes no byte (the cancelled event is carried as it is)
    snapshot = {p: p.read_bytes() for p in (site_ics, district_ics, other_ics)}
    again = export_all(smaller, out, detail)
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert again.cancelled == 1 and again.events == expected - 1

    # planned again: the event comes back CONFIRMED with a higher SEQUENCE, so clients restore it
    export_all(plan, out, detail)
    for path in (site_ics, district_ics):
        evs = {str(e["UID"]): e for e in _events(path)}
        assert str(evs[uid]["STATUS"]) == "CONFIRMED" and int(evs[uid]["SEQUENCE"]) == 2
        assert str(evs[uid]["SUMMARY"]) == restored
        assert all(str(e["STATUS"]) == "CONFIRMED" for e in evs.values())


def test_a_placement_moved_to_another_day_cancels_its_old_uid(tmp_path):
    from datetime import timedelta as td

    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out, "items")
    site_ics = _site_ics(out, "nghia-hung", "items")
    old = {str(e["UID"]): e for e in _events(site_ics)}
    # Wednesday's midday can-cuoc at Nghĩa Hưng moves to Thursday midday
    moved = tuple(dataclasses.replace(p, start=p.start + td(days=1), end=p.end + td(days=1))
                  if p.site_id == "nghia-hung" and p.start.hour == 11 else p for p in plan.placements)
    export_all(dataclasses.replace(plan, placements=moved), out, "items")
    new = {str(e["UID"]): e for e in _events(site_ics)}
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
    cal = site_calendar(plan, "ia-ka", detail="items")
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


@pytest.mark.parametrize("detail", DETAILS)
def test_district_calendar_cancels_the_events_of_a_site_left_out_of_the_plan(tmp_path, detail):
    plan, _, _ = build_plan(tmp_path)
    out = tmp_path / "out"
    before = export_all(plan, out, detail)
    district_ics = _district_ics(out, detail)
    only_ia_ka = dataclasses.replace(plan, sites=tuple(s for s in plan.sites if s.id == "ia-ka"),
                                     placements=tuple(p for p in plan.placements if p.site_id == "ia-ka"))
    summary = export_all(only_ia_ka, out, detail)
    assert summary.cancelled == 0  # no site calendar lost an event
    evs = _events(district_ics)
    IcsCalendarStream.calendar_from_ics(district_ics.read_text(encoding="utf-8"))
    gone = [e for e in evs if str(e["STATUS"]) == "CANCELLED"]
    assert {str(e["X-LOA-SITE"]) for e in gone} == {"nghia-hung"}
    assert len(gone) == before.events - summary.events
    assert all(int(e["SEQUENCE"]) == 1 for e in gone)


def test_what_is_remembered_of_a_written_calendar_is_what_parsing_it_gives(exported):
    """A re-export reads the previous calendars from the cache (parsing them was half an
    export's time): what `remember` kept at writing must equal what parsing the file yields,
    or SEQUENCE numbers would drift."""
    from scheduler.export import ical

    _plan, _plan_path, out, _summaries = exported
    calendars = sorted(out.rglob("*.ics"))
    assert calendars
    for path in calendars:
        data = path.read_bytes()
        kept = ical._remembered(data)
        assert kept is not None, path
        assert kept == ical.previous_events(icalendar.Calendar.from_ical(data)), path


def test_a_reexport_from_the_cache_writes_what_one_without_it_writes(tmp_path, monkeypatch):
    """Moving an item and exporting again gives the same bytes whether the previous calendars
    come from the cache or are parsed (LOA_CACHE_DIR=off)."""
    import shutil

    plan, _data, _plan_path = build_plan(tmp_path)
    out = tmp_path / "out"
    export_all(plan, out)
    moved = move_placement(plan, "ia-ka", "khai-sinh-jrai", day_index=1, minutes=3)
    shutil.copytree(out, tmp_path / "nocache")
    export_all(moved, out)
    monkeypatch.setenv("LOA_CACHE_DIR", "off")
    export_all(moved, tmp_path / "nocache")
    for path in sorted((out / "calendars").rglob("*.ics")):
        assert path.read_bytes() == (tmp_path / "nocache" / path.relative_to(out)).read_bytes(), path


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=list("aăâbđêôơưẠạỳ ,;:\\\n\"ệ"), max_size=120),
       st.integers(min_value=0, max_value=40))
def test_calendar_bytes_are_icalendars_own_around_the_fold_limit(text, pad):
    """`to_bytes` skips icalendar's folding only for lines that need none: the bytes must be the
    library's own for any text, multi-byte Vietnamese letters at the 75-octet limit included."""
    from scheduler.export.ical import to_bytes

    cal = icalendar.Calendar()
    cal.add("prodid", "-//loa//test//")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "x" * pad + "@loa")
    event.add("summary", text)
    event.add("description", "ă" * pad + text)
    cal.add_component(event)
    for n in range(60, 72):  # SUMMARY lines of 68..79 octets, and with 2- and 3-octet letters
        for letter in ("a", "ă", "ệ"):
            event["summary"] = icalendar.vText(letter * (n // len(letter.encode())) + text[:3])
            assert to_bytes(cal) == cal.to_ical()
    # an event shared by two calendars (a site's and its district's) is serialised once
    other = icalendar.Calendar()
    other.add("x-wr-calname", "Huyện Chư Sê " + text.replace("\n", " "))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    second = icalendar.Event()
    second.add("uid", "y@loa")
    second.add_component(alarm)
    other.add_component(second)
    other.add_component(event)
    made: dict = {}
    assert (to_bytes(cal, made), to_bytes(other, made)) == (cal.to_ical(), other.to_ical())
