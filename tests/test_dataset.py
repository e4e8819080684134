"""The loader: real files in, domain objects or a DataError naming file, line and field out."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydub import AudioSegment

from conftest import BUNDLED, TINY, edit
from scheduler.cli import main
from scheduler.dataset import load_dataset
from scheduler.errors import DataError
from scheduler.views import summary


def problems_of(root: Path) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(root)
    return str(info.value)


def assert_names(message: str, file: str, line, field: str | None) -> None:
    where = f"{file}:{line}" if line is not None else file
    assert where in message, message
    if field:
        assert f"field '{field}'" in message, message


# --------------------------------------------------------------------------- good data


def test_tiny_dataset_loads_every_file(tiny):
    assert tiny.name == "tiny" and tiny.country == "VN"
    assert [a.id for a in tiny.areas] == ["gia-lai", "chu-se", "chu-se-tt", "chu-se-ia-blang", "chu-se-ia-hlop"]
    assert {s.id: s.kind for s in tiny.sites} == {
        "chu-se-tt": "urban", "chu-se-ia-blang": "rural", "chu-se-ia-hlop": "rural",
    }
    blang = next(s for s in tiny.sites if s.id == "chu-se-ia-blang")
    assert blang.languages == ("vi", "jra") and blang.market_days == (2,) and blang.sync_group == "chu-se-fm1"
    assert set(tiny.profiles) == {"urban-ward", "upland-coffee"}
    coffee = tiny.profiles["upland-coffee"]
    assert set(coffee.curves) == {"weekday", "sunday", "market", "holiday"}
    assert coffee.curves["holiday"] == coffee.curves["sunday"]  # holiday defaults to sunday
    assert coffee.seasons[0].months == (11, 12, 1) and coffee.month_factor[12] == 1.3
    relays = {r.id: r for r in tiny.relays}
    assert relays["vov1-0600"].days == tuple(range(7)) and relays["vov1-0600"].start_min == 360
    assert relays["vtv1-1900"].site_kinds == ("rural",) and relays["vtv1-1900"].duration_min == 45
    assert relays["vov4-jrai"].mode == "deferred" and relays["vov4-jrai"].max_delay_min == 60
    assert relays["vov4-jrai"].days == (0, 2, 4) and not relays["vov4-jrai"].mandatory
    assert len(tiny.blackouts) == 2


def test_segment_durations_are_probed_from_the_audio(tiny):
    durations = {s.id: s.duration_s for s in tiny.segments}
    # the files are 95, 130, 70 and 62 s of speech and silence (make_tiny_audio.sh)
    assert durations == {"mot-cua": 95, "dich-vu-cong": 130, "duong-day-nong": 70, "cchc-jrai": 62}
    seg = next(s for s in tiny.segments if s.id == "dich-vu-cong")
    assert seg.valid_from == date(2024, 1, 1) and seg.valid_to == date(2024, 12, 31)
    jrai = next(s for s in tiny.segments if s.id == "cchc-jrai")
    assert jrai.scope == ("chu-se-ia-blang", "chu-se-ia-hlop") and "stand-in" in jrai.note
    for seg in tiny.segments:  # the bytes the plan will carry
        assert seg.sha256 == hashlib.sha256((tiny.root / seg.audio).read_bytes()).hexdigest()


def test_blackouts_are_local_wall_clock(tiny):
    by_id = {b.id: b for b in tiny.blackouts}
    fest = by_id["blackout-ia-blang-le-hoi"]
    assert (fest.start, fest.end, fest.scope) == (datetime(2024, 3, 6, 6), datetime(2024, 3, 6, 12), ("chu-se-ia-blang",))
    mourning = by_id["blackout-quoc-tang"]
    assert (mourning.start, mourning.end, mourning.scope) == (datetime(2024, 3, 8), datetime(2024, 3, 9), ())


def test_names_are_nfc_normalised(tiny_copy):
    decomposed = unicodedata.normalize("NFD", "Ia Hlốp")
    edit(tiny_copy / "sites.csv", "chu-se-ia-hlop,Ia Hlốp", f"chu-se-ia-hlop,{decomposed}")
    ds = load_dataset(tiny_copy)
    name = next(s.name for s in ds.sites if s.id == "chu-se-ia-hlop")
    assert name == unicodedata.normalize("NFC", "Ia Hlốp") and len(name) == 7


def test_utf8_bom_is_tolerated(tiny_copy):
    path = tiny_copy / "sites.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_dataset(tiny_copy).sites) == 3


def test_summary_counts(tiny):
    info = summary(tiny)
    assert info["areas"]["by_kind"] == {"Huyện": 1, "Thị trấn": 1, "Tỉnh": 1, "Xã": 2}
    assert info["sites"]["by_technology"] == {"fm": 2, "ip": 1}
    assert info["sites"]["by_language"] == {"jra": 2, "vi": 3}
    assert info["sites"]["without_station"] == 0
    assert info["relays"] == {"total": 3, "mandatory": 2, "optional": 1, "by_source": {"VOV1": 1, "VOV4": 1, "VTV1": 1}}
    assert info["segments"]["by_topic"] == {"1": 1, "5": 1, "8": 1, "10": 1}
    assert info["segments"]["by_language"] == {"jra": 1, "vi": 3}
    assert info["segments"]["audio_minutes"] == round((95 + 130 + 70 + 62) / 60, 1)
    json.dumps(info)  # JSON-ready


def test_relays_ics_is_read_like_relays_csv(tiny_copy, tiny):
    (tiny_copy / "relays.csv").unlink()
    (tiny_copy / "relays.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//loa//test//VI\r\n"
        "BEGIN:VEVENT\r\nUID:vov1-0600\r\nSUMMARY:Thời sự 6:00\r\n"
        "DTSTART;TZID=Asia/Ho_Chi_Minh:20240101T060000\r\nDURATION:PT15M\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU\r\nX-LOA-SOURCE:VOV1\r\nX-LOA-MODE:live\r\n"
        "X-LOA-MANDATORY:yes\r\nX-LOA-LANGUAGE:vi\r\nURL:https://stream.vov.vn/vov1\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:vov4-jrai\r\nSUMMARY:Chương trình tiếng Gia Rai\r\n"
        "DTSTART;TZID=Asia/Ho_Chi_Minh:20240101T063000\r\nDURATION:PT15M\r\n"
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\nX-LOA-SOURCE:VOV4\r\nX-LOA-MODE:deferred\r\n"
        "X-LOA-MAX-DELAY:60\r\nX-LOA-MANDATORY:no\r\nX-LOA-LANGUAGE:jra\r\nX-LOA-SCOPE:chu-se\r\n"
        "X-LOA-SITE-KINDS:rural\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    ds = load_dataset(tiny_copy)
    from_csv = {r.id: r for r in tiny.relays}
    for relay in ds.relays:
        assert relay == from_csv[relay.id]


def one_relay_ics(root: Path, *recurrence: str) -> None:
    """Replace relays.csv by a relays.ics holding one 06:00 relay (Monday 1 Jan 2024) with these lines."""
    (root / "relays.csv").unlink()
    (root / "relays.ics").write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//loa//test//VI\nBEGIN:VEVENT\nUID:vov1-0600\n"
        "SUMMARY:Thời sự\nDTSTART:20240101T060000\nDURATION:PT15M\n" + "".join(f"{r}\n" for r in recurrence)
        + "X-LOA-SOURCE:VOV1\nX-LOA-MODE:live\nX-LOA-MANDATORY:yes\nX-LOA-LANGUAGE:vi\nEND:VEVENT\nEND:VCALENDAR\n",
        encoding="utf-8",
    )


def test_relays_ics_with_a_bad_byday_is_named(tiny_copy):
    one_relay_ics(tiny_copy, "RRULE:FREQ=WEEKLY;BYDAY=1MO,WE")
    message = problems_of(tiny_copy)
    assert_names(message, "relays.ics", "VEVENT vov1-0600", "RRULE")
    assert "BYDAY from MO, TU" in message


@pytest.mark.parametrize("rrule, days", [
    ("FREQ=DAILY", tuple(range(7))),
    ("FREQ=DAILY;INTERVAL=1;BYDAY=SA,SU", (5, 6)),
    ("FREQ=WEEKLY;WKST=SU", (0,)),  # no BYDAY: the weekday of DTSTART
])
def test_relays_ics_weekly_patterns_load(tiny_copy, rrule, days):
    one_relay_ics(tiny_copy, f"RRULE:{rrule}")
    (relay,) = load_dataset(tiny_copy).relays
    assert relay.days == days and relay.start_min == 360


def test_relays_ics_repeating_other_than_weekly_is_rejected_part_by_part(tiny_copy):
    one_relay_ics(tiny_copy, "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=1;BYDAY=MO")
    message = problems_of(tiny_copy)
    assert_names(message, "relays.ics", "VEVENT vov1-0600", "RRULE")
    assert "RRULE part INTERVAL=2 is not supported: relays repeat every week" in message
    assert "RRULE part COUNT=1 is not supported" in message and "2 problem(s)" in message


@pytest.mark.parametrize("lines, field, part", [
    (("RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "EXDATE:20240108T060000"), "EXDATE", "no EXDATE"),
    (("RRULE:FREQ=WEEKLY;BYDAY=MO", "RDATE:20240102T060000"), "RDATE", "no RDATE"),
    (("RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20240601T000000Z",), "RRULE", "RRULE part UNTIL=20240601T000000Z"),
    (("RRULE:FREQ=MONTHLY;BYMONTHDAY=1",), "RRULE", "RRULE part FREQ=MONTHLY"),
    (("RRULE:FREQ=WEEKLY;BYDAY=MO;BYMONTH=1,2",), "RRULE", "RRULE part BYMONTH=1,2"),
    (("RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=TU"), "RRULE", "exactly one RRULE, not 2"),
    ((), "RRULE", "one RRULE:FREQ=WEEKLY;BYDAY=MO,TU,..."),
])
def test_relays_ics_recurrence_that_is_not_weekly_is_named(tiny_copy, lines, field, part):
    one_relay_ics(tiny_copy, *lines)
    message = problems_of(tiny_copy)
    assert_names(message, "relays.ics", "VEVENT vov1-0600", field)
    assert part in message


# --------------------------------------------------------------------------- one test per kind of bad input


def test_unknown_parent_area(tiny_copy):
    edit(tiny_copy / "areas.csv", "chu-se-tt,Chư Sê,Thị trấn,chu-se", "chu-se-tt,Chư Sê,Thị trấn,chu-xe")
    message = problems_of(tiny_copy)
    assert_names(message, "areas.csv", 4, "parent_id")
    assert "'chu-xe'" in message


def test_unknown_area_of_a_site(tiny_copy):
    edit(tiny_copy / "sites.csv", "Ia Blang,chu-se-ia-blang,rural", "Ia Blang,chu-se-ia-bang,rural")
    assert_names(problems_of(tiny_copy), "sites.csv", 3, "area_id")


def test_unknown_profile_of_a_site(tiny_copy):
    edit(tiny_copy / "sites.csv", "vi,urban-ward", "vi,urban")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 2, "profile")
    assert "upland-coffee, urban-ward" in message


def test_unknown_scope_ids(tiny_copy):
    edit(tiny_copy / "segments.csv", ",,chu-se,1440,", ",,chu-se;krong-pa,1440,")
    edit(tiny_copy / "relays.csv", "jra,,chu-se,rural", "jra,,chuse,rural")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 4, "scope")
    assert_names(message, "relays.csv", 4, "scope")
    assert "2 problem(s)" in message


def test_duplicate_ids(tiny_copy):
    path = tiny_copy / "segments.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 6, "segment_id")
    assert "already used on line 2" in message


def test_duplicate_area_ids(tiny_copy):
    edit(tiny_copy / "areas.csv", "chu-se-ia-hlop,Ia Hlốp", "chu-se-ia-blang,Ia Hlốp")
    message = problems_of(tiny_copy)
    assert_names(message, "areas.csv", 6, "area_id")


def test_sync_group_members_must_agree(tiny_copy):
    edit(tiny_copy / "sites.csv", "test value,vi;jra,upland-coffee,sat", "test value,vi,urban-ward,sat")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 4, "languages")
    assert_names(message, "sites.csv", 4, "profile")
    assert "chu-se-fm1" in message


def test_overlapping_mandatory_live_relays(tiny_copy):
    path = tiny_copy / "relays.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "gltv-0605,GLTV,Thời sự Gia Lai,mon;tue,06:05,600,live,,yes,vi,,,\n",
        encoding="utf-8",
    )
    message = problems_of(tiny_copy)
    assert_names(message, "relays.csv", 5, "start")
    assert "vov1-0600" in message and "mon tue" in message and "chu-se-tt" in message


def test_overlap_needs_both_relays_at_the_site(tiny_copy):
    # a Jrai-only relay at the same time does not clash at the Vietnamese-only urban site,
    # and an optional or deferred relay never clashes
    path = tiny_copy / "relays.csv"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "opt-0605,GLTV,Tin địa phương,daily,06:05,600,live,,no,vi,,,\n"
        + "def-0605,GLTV,Tin địa phương,daily,06:05,600,deferred,30,yes,vi,,,\n",
        encoding="utf-8",
    )
    assert len(load_dataset(tiny_copy).relays) == 5


@pytest.mark.parametrize("start", ["25:00", "24:00", "6:60", "-1:00", "noon"])
def test_relay_time_outside_the_day(tiny_copy, start):
    edit(tiny_copy / "relays.csv", "daily,19:00,2700", f"daily,{start},2700")
    message = problems_of(tiny_copy)
    assert_names(message, "relays.csv", 3, "start")
    assert "00:00-23:59" in message


def test_relay_running_past_midnight(tiny_copy):
    edit(tiny_copy / "relays.csv", "daily,19:00,2700", "daily,23:30,2700")
    assert_names(problems_of(tiny_copy), "relays.csv", 3, "duration_s")


def test_segment_longer_than_any_session(tiny_copy):
    edit(tiny_copy / "policy.toml", "[kind.urban]\nmax_session_minutes = 15", "[kind.urban]\nmax_session_minutes = 1")
    message = problems_of(tiny_copy)
    # mot-cua (2 min, min_plays 2) and dich-vu-cong (3 min) cannot air at the urban site
    assert_names(message, "segments.csv", 2, "audio")
    assert_names(message, "segments.csv", 3, "audio")
    assert "chu-se-tt (1 min)" in message


def test_segment_longer_than_every_window(tiny_copy):
    edit(
        tiny_copy / "policy.toml",
        'morning = "05:00-07:30"\nnoon = "11:00-13:00"\nevening = "17:00-20:00"',
        'morning = "05:00-05:02"\nnoon = "11:00-11:02"',
    )
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 3, "audio")  # 131 s = 3 min > 2-min windows at rural sites
    assert "chu-se-ia-blang (2 min)" in message


def test_min_plays_above_max_plays(tiny_copy):
    edit(tiny_copy / "segments.csv", "audio/mot-cua.ogg,2,4", "audio/mot-cua.ogg,5,4")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 2, "min_plays")
    assert "min_plays <= max_plays" in message


def test_more_than_seven_plays(tiny_copy):
    edit(tiny_copy / "segments.csv", "audio/mot-cua.ogg,2,4", "audio/mot-cua.ogg,2,8")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 2, "max_plays")
    assert "0..7" in message


def test_missing_audio(tiny_copy):
    (tiny_copy / "audio" / "duong-day-nong.ogg").unlink()
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 4, "audio")
    assert "audio/duong-day-nong.ogg" in message and "existing audio file" in message


def test_unreadable_audio(tiny_copy):
    (tiny_copy / "audio" / "mot-cua.ogg").write_bytes(b"this is not audio at all\n" * 10)
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 2, "audio")
    assert "readable audio file" in message


def test_silent_audio(tiny_copy):
    AudioSegment.silent(duration=3000, frame_rate=16000).export(tiny_copy / "audio" / "mot-cua.ogg", format="ogg")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 2, "audio")
    assert "an audio file with sound (every sample is zero)" in message


def test_audio_outside_the_dataset(tiny_copy):
    edit(tiny_copy / "segments.csv", "audio/mot-cua.ogg", "../tiny/audio/../../escape.ogg")
    assert_names(problems_of(tiny_copy), "segments.csv", 2, "audio")


def test_non_utf8_file(tiny_copy):
    path = tiny_copy / "sites.csv"
    path.write_bytes(path.read_text(encoding="utf-8").replace("Ia Hlốp", "Ia Hl\u00f4p").replace("Thị trấn", "Thi tr\u00e2n").encode("latin-1", errors="replace"))
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 2, None)
    assert "UTF-8" in message


def test_empty_file(tiny_copy):
    (tiny_copy / "segments.csv").write_text("", encoding="utf-8")
    message = problems_of(tiny_copy)
    assert "segments.csv: a non-empty file" in message


def test_missing_file(tiny_copy):
    (tiny_copy / "profiles.toml").unlink()
    message = problems_of(tiny_copy)
    assert "profiles.toml: the file to exist" in message


def test_missing_column_names_it_and_the_expected_ones(tiny_copy):
    edit(tiny_copy / "segments.csv", "min_plays,max_plays", "min_plays,max_play")
    message = problems_of(tiny_copy)
    assert_names(message, "segments.csv", 1, "max_plays")
    assert "missing column" in message and "segment_id, title, topic" in message


def test_unknown_column(tiny_copy):
    edit(tiny_copy / "sites.csv", "population,population_source", "populaton,population_source")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 1, "population")
    assert "unknown column(s)" in message


def test_row_with_extra_cells(tiny_copy):
    edit(tiny_copy / "relays.csv", "vtv1-1900,VTV1,Thời sự 19:00", "vtv1-1900,VTV1,Thời sự, 19:00")
    message = problems_of(tiny_copy)
    assert "relays.csv:3" in message and "13 cells like the header (14 found" in message


def test_profile_value_outside_0_1(tiny_copy):
    edit(tiny_copy / "profiles.toml", '["sunrise-60", 0.5]', '["sunrise-60", 1.5]')
    message = problems_of(tiny_copy)
    assert_names(message, "profiles.toml", "profiles.upland-coffee.curves.weekday[1]", "weekday")
    assert "between 0 and 1" in message


def test_profile_bad_anchor_and_month(tiny_copy):
    edit(tiny_copy / "profiles.toml", '["sunset", 0.7]', '["dusk", 0.7]')
    edit(tiny_copy / "profiles.toml", "12 = 1.3", "13 = 1.3")
    message = problems_of(tiny_copy)
    assert_names(message, "profiles.toml", "profiles.upland-coffee.curves.sunday[3]", "sunday")
    assert_names(message, "profiles.toml", "profiles.upland-coffee.month_factor.13", "month_factor")


def test_sun_anchors_need_coordinates(tiny_copy):
    edit(tiny_copy / "areas.csv", "64,13.9833,108.0000", "64,,")
    edit(tiny_copy / "areas.csv", "633,13.7000,108.0800", "633,,")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 3, "profile")
    assert "lat/lon" in message and "sites.csv:2" not in message  # the urban profile uses clock times


def test_area_tree_with_a_cycle(tiny_copy):
    edit(tiny_copy / "areas.csv", "gia-lai,Gia Lai,Tỉnh,,", "gia-lai,Gia Lai,Tỉnh,chu-se,")
    message = problems_of(tiny_copy)
    assert "exactly one root" in message
    assert_names(message, "areas.csv", 2, "parent_id")
    assert "cycle: gia-lai -> chu-se -> gia-lai" in message


def test_area_tree_with_two_roots(tiny_copy):
    edit(tiny_copy / "areas.csv", "chu-se,Chư Sê,Huyện,gia-lai", "chu-se,Chư Sê,Huyện,")
    message = problems_of(tiny_copy)
    assert_names(message, "areas.csv", 3, "parent_id")
    assert "the root is likely 'gia-lai' (Gia Lai, line 2)" in message


def test_bad_day_names(tiny_copy):
    edit(tiny_copy / "sites.csv", "upland-coffee,wed", "upland-coffee,wednesday")
    edit(tiny_copy / "relays.csv", "mon;wed;fri", "mon;wed;fr")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 3, "market_days")
    assert_names(message, "relays.csv", 4, "days")
    assert "mon tue wed thu fri sat sun" in message


def test_bad_language_codes(tiny_copy):
    edit(tiny_copy / "sites.csv", "test value,vi;jra,upland-coffee,wed", "test value,vi;Jrai,upland-coffee,wed")
    edit(tiny_copy / "segments.csv", "1,jra,audio/cchc-jrai.ogg", "1,gia rai,audio/cchc-jrai.ogg")
    message = problems_of(tiny_copy)
    assert_names(message, "sites.csv", 3, "languages")
    assert_names(message, "segments.csv", 5, "language")


def test_unknown_policy_key(tiny_copy):
    edit(tiny_copy / "policy.toml", "max_sessions_per_day = 3", "max_session_per_day = 3")
    message = problems_of(tiny_copy)
    assert_names(message, "policy.toml", "policy.max_session_per_day", "max_session_per_day")
    assert "max_sessions_per_day" in message  # the list of known keys


def test_policy_override_for_unknown_area(tiny_copy):
    edit(tiny_copy / "policy.toml", "[area.chu-se]", "[area.chu-xe]")
    assert_names(problems_of(tiny_copy), "policy.toml", "area.chu-xe", "area")


def test_bad_time_ranges_in_policy(tiny_copy):
    edit(tiny_copy / "policy.toml", 'noon = "11:00-13:00"', 'noon = "13:00-11:00"')
    edit(tiny_copy / "policy.toml", 'quiet_hours = ["21:00-05:00"]', 'quiet_hours = ["21:00-29:00"]')
    message = problems_of(tiny_copy)
    assert_names(message, "policy.toml", "policy.windows", "windows")
    assert_names(message, "policy.toml", "policy.quiet_hours", "quiet_hours")


def test_bad_blackout(tiny_copy):
    edit(tiny_copy / "blackouts.ics", "DTEND;TZID=Asia/Ho_Chi_Minh:20240306T120000", "DTEND;TZID=Asia/Ho_Chi_Minh:20240306T050000")
    edit(tiny_copy / "blackouts.ics", "X-LOA-SCOPE:chu-se-ia-blang", "X-LOA-SCOPE:ia-blang")
    message = problems_of(tiny_copy)
    assert_names(message, "blackouts.ics", "VEVENT blackout-ia-blang-le-hoi", "DTEND")
    assert_names(message, "blackouts.ics", "VEVENT blackout-ia-blang-le-hoi", "X-LOA-SCOPE")


def test_every_problem_is_reported_at_once(tiny_copy):
    edit(tiny_copy / "areas.csv", "chu-se-tt,Chư Sê,Thị trấn,chu-se", "chu-se-tt,Chư Sê,Thị trấn,chu-xe")
    edit(tiny_copy / "sites.csv", "urban,ip,18000", "urban,radio,-5")
    edit(tiny_copy / "segments.csv", "audio/mot-cua.ogg,2,4,4", "audio/mot-cua.ogg,2,4,9")
    edit(tiny_copy / "dataset.toml", 'country = "VN"', 'country = "VN"\nregion = "x"')
    with pytest.raises(DataError) as info:
        load_dataset(tiny_copy)
    where = {(p.file, p.line, p.field) for p in info.value.problems}
    assert {
        ("areas.csv", 4, "parent_id"), ("sites.csv", 2, "technology"), ("sites.csv", 2, "population"),
        ("segments.csv", 2, "priority"), ("dataset.toml", "region", "region"),
    } <= where


def test_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="a dataset folder"):
        load_dataset(tmp_path / "nowhere")


# --------------------------------------------------------------------------- mangled input never crashes

_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "vi", "jra;vi", "mon;wed", "daily", "yes", "no", "-1", "8", "1e9", "nan", "06:00",
                     "24:00", "chu-se", "upland-coffee", "urban", "fm", "audio/mot-cua.ogg", '"', '""', "\x00"]),
)
_row = st.lists(_cell, min_size=0, max_size=16).map(lambda cells: ",".join(cells))


@pytest.mark.parametrize("name", ["segments.csv", "sites.csv"])
@settings(max_examples=int(os.environ.get("LOA_HYPOTHESIS_EXAMPLES", "50")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(min_value=0, max_value=5), _row), min_size=1, max_size=3))
def test_mangled_rows_load_or_raise_data_error(tmp_path_factory, name, rows):
    root = tmp_path_factory.mktemp("mangled") / "tiny"
    shutil.copytree(TINY, root)
    path = root / name
    lines = path.read_text(encoding="utf-8").splitlines()
    for pos, text in rows:
        pos = min(pos, len(lines))
        if pos < len(lines) and pos % 2:
            lines[pos] = text  # replace a line (maybe the header)
        else:
            lines.insert(pos, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        load_dataset(root)
    except DataError as exc:
        assert exc.problems and all(p.file for p in exc.problems)


# --------------------------------------------------------------------------- the bundled dataset


@pytest.mark.skipif(not (BUNDLED / "areas.csv").is_file(), reason="data/gia_lai_2024 is not there yet")
def test_bundled_dataset_loads_and_validates():
    ds = load_dataset(BUNDLED)
    info = summary(ds)
    assert info["areas"]["total"] >= 200
    assert len(ds.sites) >= 200 and info["segments"]["total"] >= 20
    assert set(info["segments"]["by_topic"]) == {str(t) for t in range(1, 11)}
    assert info["relays"]["mandatory"] >= 1


# --------------------------------------------------------------------------- CLI


def test_cli_validate_prints_a_summary():
    result = CliRunner().invoke(main, ["validate", "--data", str(TINY)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "sites      3" in result.output and "6.0 min of audio" in result.output


def test_cli_validate_json():
    result = CliRunner().invoke(main, ["validate", "--data", str(TINY), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["segments"]["total"] == 4


def test_cli_validate_bad_data_exits_2_without_traceback(tiny_copy):
    edit(tiny_copy / "segments.csv", "audio/mot-cua.ogg,2,4", "audio/mot-cua.ogg,5,4")
    (tiny_copy / "profiles.toml").write_bytes(b"\xff\xfe not utf-8")
    result = CliRunner().invoke(main, ["validate", "--data", str(tiny_copy)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "segments.csv:2, field 'min_plays'" in result.output
    assert "profiles.toml" in result.output and "UTF-8" in result.output


def test_cli_sites_of_one_district():
    result = CliRunner().invoke(main, ["sites", "--data", str(TINY), "--district", "chu-se", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["site_id"] for r in rows] == ["chu-se-ia-blang", "chu-se-ia-hlop", "chu-se-tt"]
    assert rows[0]["district"] == "Chư Sê" and rows[0]["market_days"] == ["wed"]
    text = CliRunner().invoke(main, ["sites", "--data", str(TINY), "--district", "chu-se-ia-hlop"])
    assert text.exit_code == 0 and "Ia Hlốp" in text.output and "1 site(s)" in text.output


def test_cli_sites_unknown_district_exits_2():
    result = CliRunner().invoke(main, ["sites", "--data", str(TINY), "--district", "krong-pa"])
    assert result.exit_code == 2 and "--district" in result.output and "chu-se" in result.output


def test_installed_entry_point_validates(tmp_path):
    loa = Path(sys.executable).parent / "loa"
    if not loa.exists():
        loa = Path(shutil.which("loa") or "loa")
    good = subprocess.run([str(loa), "validate", "--data", str(TINY)], capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert "Dataset tiny" in good.stdout
    (tmp_path / "areas.csv").write_text("", encoding="utf-8")
    bad = subprocess.run([str(loa), "validate", "--data", str(tmp_path)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "areas.csv: a non-empty file" in bad.stderr and "sites.csv: the file to exist" in bad.stderr
