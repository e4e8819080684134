"""`loa validate` warnings: what loads but would plan wrong without a word.

Each warning has a test that triggers it on the tiny dataset and one where it stays quiet; every
warning names the file, the line (or VEVENT) and the field. `--strict` turns them into errors.
"""
from __future__ import annotations

import json

from click.testing import CliRunner

from conftest import TINY, edit
from scheduler.cli import main
from scheduler.dataset import load_dataset


def warnings_of(root) -> list[str]:
    return [str(w) for w in load_dataset(root).warnings]


def the_warning(root, file: str, old: str, new: str) -> str:
    """The one warning the dataset at `root` gives once `old` becomes `new` in `file`."""
    edit(root / file, old, new)
    (warning,) = warnings_of(root)
    return warning


def test_the_tiny_dataset_has_no_warning():
    assert warnings_of(TINY) == []


# --------------------------------------------------------------------------- ISO 639-3


def test_a_code_outside_iso_639_3_is_named(tiny_copy):
    edit(tiny_copy / "sites.csv", "rural,fm,9200,test value,vi;jra", "rural,fm,9200,test value,vi;jrx")
    edit(tiny_copy / "sites.csv", "rural,fm,7500,test value,vi;jra", "rural,fm,7500,test value,vi;jrx")
    (w1, w2, *rest) = [w for w in warnings_of(tiny_copy) if "ISO 639-3" in w]
    assert rest == []
    assert w1.startswith("sites.csv:3, field 'languages', value 'jrx'") and "ISO 639-3" in w1
    assert w2.startswith("sites.csv:4, field 'languages'")


def test_vie_next_to_vi_is_one_language_written_two_ways(tiny_copy):
    # the tester's `vie;jra`: valid ISO 639-3, but the segments and relays say `vi`
    warning = the_warning(tiny_copy, "sites.csv", "test value,vi,urban-ward", "test value,vie,urban-ward")
    assert warning.startswith("sites.csv:2, field 'languages', value 'vie'")
    assert "'vi', as the rest of the dataset writes Vietnamese (vie)" in warning


def test_two_letter_and_three_letter_codes_of_other_languages_pass(tiny_copy):
    edit(tiny_copy / "sites.csv", "test value,vi,urban-ward", "test value,vi;en,urban-ward")
    assert warnings_of(tiny_copy) == []  # en (639-1 of eng) is a language; vi, jra, too


# --------------------------------------------------------------------------- segments that never air


def test_a_segment_in_a_language_nobody_speaks_in_its_scope(tiny_copy):
    warning = the_warning(tiny_copy, "segments.csv", "(tiếng Gia Rai),1,jra", "(tiếng Gia Rai),1,bdq")
    assert warning.startswith("segments.csv:5, field 'language', value 'bdq'")
    assert "jra, vi" in warning and "never airs" in warning


def test_a_segment_valid_only_on_days_no_site_broadcasts(tiny_copy):
    # the township broadcasts Mon-Fri only ([kind.urban]); a segment scoped to it, valid one weekend
    edit(tiny_copy / "segments.csv", "dich-vu-cong,Dịch vụ công trực tuyến và VNeID,8,vi,audio/dich-vu-cong.ogg,1,3,3,2024-01-01,2024-12-31,,",
         "dich-vu-cong,Dịch vụ công trực tuyến và VNeID,8,vi,audio/dich-vu-cong.ogg,1,3,3,2024-03-09,2024-03-10,chu-se-tt,")
    (warning,) = warnings_of(tiny_copy)
    assert warning.startswith("segments.csv:3, field 'valid_from', value '2024-03-09'")
    assert "sat sun" in warning


def test_a_segment_scoped_to_sites_without_a_station(tiny_copy):
    edit(tiny_copy / "sites.csv", "urban-ward,,,yes", "urban-ward,,,no")
    edit(tiny_copy / "segments.csv", "2024-01-01,2024-12-31,,", "2024-01-01,2024-12-31,chu-se-tt,")
    (warning,) = warnings_of(tiny_copy)
    assert warning.startswith("segments.csv:3, field 'scope', value 'chu-se-tt'")


# --------------------------------------------------------------------------- blackouts over mandatory relays


def test_a_blackout_that_drops_a_mandatory_relay(tiny_copy):
    warning = the_warning(tiny_copy, "blackouts.ics", "X-LOA-SCOPE:chu-se-ia-blang\nX-LOA-SUSPENDS-RELAYS:yes\n",
                          "X-LOA-SCOPE:chu-se-ia-blang\n")
    assert warning.startswith("blackouts.ics:VEVENT blackout-ia-blang-le-hoi, field 'DTSTART'")
    assert "vov1-0600 on Wed 06/03" in warning and "chu-se-ia-blang" in warning


def test_a_blackout_between_the_relays_says_nothing(tiny_copy):
    edit(tiny_copy / "blackouts.ics", "20240306T060000\nDTEND;TZID=Asia/Ho_Chi_Minh:20240306T120000\n"
         "X-LOA-SCOPE:chu-se-ia-blang\nX-LOA-SUSPENDS-RELAYS:yes\n",
         "20240306T080000\nDTEND;TZID=Asia/Ho_Chi_Minh:20240306T120000\nX-LOA-SCOPE:chu-se-ia-blang\n")
    assert warnings_of(tiny_copy) == []


# --------------------------------------------------------------------------- mandatory relays that cannot fit


def test_a_mandatory_relay_longer_than_a_session(tiny_copy):
    warning = the_warning(tiny_copy, "relays.csv", "Thời sự 19:00,daily,19:00,2700", "Thời sự 19:00,daily,19:00,3000")
    assert warning.startswith("relays.csv:3, field 'duration_s', value 'vtv1-1900'")
    assert "50 min, more than max_session_minutes (45)" in warning and "chu-se-ia-blang" in warning


def test_a_mandatory_relay_outside_every_window(tiny_copy):
    warning = the_warning(tiny_copy, "relays.csv", "Thời sự 6:00,daily,06:00", "Thời sự 6:00,daily,09:00")
    assert warning.startswith("relays.csv:2, field 'start', value 'vov1-0600'")
    assert "outside every broadcast window" in warning and "3 site(s)" in warning


def test_mandatory_relays_over_the_daily_cap(tiny_copy):
    edit(tiny_copy / "policy.toml", "[area.chu-se]\ndaily_cap_minutes = 120", "[area.chu-se]\ndaily_cap_minutes = 40")
    warnings = warnings_of(tiny_copy)
    assert warnings and all("daily_cap_minutes (40)" in w for w in warnings)
    assert any(w.startswith("relays.csv:3, field 'mandatory', value 'vtv1-1900'") for w in warnings)


def test_mandatory_relays_over_the_sessions_of_a_day(tiny_copy):
    edit(tiny_copy / "policy.toml", "[area.chu-se]\ndaily_cap_minutes = 120",
         "[area.chu-se]\ndaily_cap_minutes = 120\nmax_sessions_per_day = 1")
    warnings = warnings_of(tiny_copy)
    assert warnings and all("need 2 sessions, more than max_sessions_per_day (1)" in w for w in warnings)


def test_a_deferred_relay_that_can_move_into_a_window_fits(tiny_copy):
    # 05:00 is outside the township's morning window (06:00-07:00); 60 min later it is inside
    edit(tiny_copy / "relays.csv", "vov1-0600,VOV1,Thời sự 6:00,daily,06:00,900,live,",
         "vov1-0600,VOV1,Thời sự 6:00,daily,05:00,900,deferred,60")
    assert warnings_of(tiny_copy) == []
    edit(tiny_copy / "relays.csv", "05:00,900,deferred,60", "05:00,900,live,")
    (warning,) = warnings_of(tiny_copy)
    assert "at 2 site(s) (chu-se-ia-hlop, chu-se-tt)" in warning  # Ia Hlốp: quiet until 05:30


# --------------------------------------------------------------------------- ';' or tab separated CSV


def test_a_semicolon_separated_csv_is_read_and_named(tiny_copy):
    path = tiny_copy / "sites.csv"
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)  # as Excel writes it in vi-VN
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    dataset = load_dataset(tiny_copy)
    assert [s.languages for s in dataset.sites] == [("vi",), ("vi", "jra"), ("vi", "jra")]
    (warning,) = [str(w) for w in dataset.warnings]
    assert warning.startswith("sites.csv:1: a comma-separated file: its columns are separated by ';'")
    assert "CSV UTF-8 (Comma delimited)" in warning


def test_a_tab_separated_csv_is_named_as_such(tiny_copy):
    path = tiny_copy / "relays.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", "\t"), encoding="utf-8")
    (warning,) = warnings_of(tiny_copy)
    assert warning.startswith("relays.csv:1:") and "separated by a tab" in warning


def test_a_comma_in_a_cell_does_not_make_a_semicolon_file(tiny_copy):
    edit(tiny_copy / "segments.csv", "Bộ phận một cửa cấp xã", '"Bộ phận một cửa; cấp xã, phường"')
    assert warnings_of(tiny_copy) == []


# --------------------------------------------------------------------------- the CLI


def test_validate_prints_warnings_and_exits_0_strict_exits_2(tiny_copy):
    edit(tiny_copy / "sites.csv", "test value,vi,urban-ward", "test value,vie,urban-ward")
    loose = CliRunner().invoke(main, ["validate", "--data", str(tiny_copy)])
    assert loose.exit_code == 0, loose.output
    assert "valid, 1 warning(s)" in loose.output and "sites.csv:2, field 'languages'" in loose.output
    strict = CliRunner().invoke(main, ["validate", "--data", str(tiny_copy), "--strict"])
    assert strict.exit_code == 2 and "sites.csv:2, field 'languages', value 'vie'" in strict.output
    as_json = CliRunner().invoke(main, ["validate", "--data", str(tiny_copy), "--json"])
    assert json.loads(as_json.stdout)["warnings"][0].startswith("sites.csv:2")


def test_validate_strict_passes_a_clean_dataset():
    result = CliRunner().invoke(main, ["validate", "--data", str(TINY), "--strict"])
    assert result.exit_code == 0, result.output


def test_warnings_are_listed_like_problems_at_most_two_hundred():
    from scheduler.errors import Problem
    from scheduler.views import format_warnings

    text = format_warnings([Problem("sites.csv", n, "languages", "xx", "a code") for n in range(2, 452)])
    lines = text.splitlines()
    assert lines[0] == "450 warning(s) (--strict makes them errors):"
    assert len(lines) == 1 + 200 + 1 and lines[-1] == "  … and 250 more"


def test_relays_that_cannot_fit_name_every_site_sharing_one_policy(tiny_copy):
    """The misfits are worked out once per shared policy, but still reported for every site."""
    edit(tiny_copy / "policy.toml", "max_session_minutes = 45", "max_session_minutes = 10")
    with (tiny_copy / "sites.csv").open("a", encoding="utf-8") as fh:  # the same rules as chu-se-ia-blang
        fh.write("chu-se-ia-blang-2,Ia Blang 2,chu-se-ia-blang,rural,fm,800,test value,vi,upland-coffee,,,yes\n")
    ds = load_dataset(tiny_copy)
    assert ds.site_policies["chu-se-ia-blang"] is ds.site_policies["chu-se-ia-blang-2"]
    rural = [str(w) for w in ds.warnings if "more than max_session_minutes (10)" in str(w)]
    assert rural and all("3 site(s) (chu-se-ia-blang, chu-se-ia-blang-2, chu-se-ia-hlop)" in w for w in rural)
