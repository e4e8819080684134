"""Audio: probing real files and rendering one file per session (pydub + Debian ffmpeg)."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from click.testing import CliRunner
from pydub import AudioSegment

from export_helpers import WEEK, build_plan, decoded_duration, valid_plan_file
from scheduler.cli import main
from scheduler.errors import DataError, ExportError
from scheduler.export.audio import day_placements, probe, render_sessions
from scheduler.rules import split_sessions

WED = date(2024, 3, 6)



@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audio")
    plan, data, plan_path = build_plan(tmp)
    return plan, data, plan_path, tmp


@pytest.mark.parametrize("name", ["dich-vu-cong.wav", "can-cuoc.mp3", "khai-sinh-jrai.ogg"])
def test_probe_measures_real_duration_and_checksum(planned, name):
    _, data, _, _ = planned
    path = data / "audio" / name
    info = probe(path)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert abs(info.duration_s - decoded_duration(path)) < 0.01
    assert 1.0 < info.duration_s < 6.0 and info.dbfs < 0


def test_probe_rejects_missing_undecodable_empty_and_silent_files(tmp_path):
    with pytest.raises(ExportError, match=r"nothere\.mp3: audio file not found"):
        probe(tmp_path / "nothere.mp3")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ExportError, match=r"junk\.mp3: audio file cannot be decoded"):
        probe(junk)
    silent = tmp_path / "silent.wav"
    AudioSegment.silent(duration=2000, frame_rate=22050).export(silent, format="wav")
    with pytest.raises(ExportError, match=r"silent\.wav: audio file is silent"):
        probe(silent)
    empty = tmp_path / "empty.wav"
    AudioSegment.silent(duration=0, frame_rate=22050).export(empty, format="wav")
    with pytest.raises(ExportError, match=r"empty\.wav"):
        probe(empty)


def test_sessions_split_where_the_speakers_fall_silent_ten_minutes(planned):
    plan, _, _, _ = planned
    runs = split_sessions(day_placements(plan, "ia-ka", WED), 10)
    assert [[(p.start.strftime("%H:%M"), p.item_id) for p in s] for s in runs] == [
        [("06:00", "vov1-thoi-su"), ("06:30", "dich-vu-cong"), ("06:35", "can-cuoc")],
        [("11:00", "can-cuoc")],
        [("18:00", "gl-thoi-su"), ("18:25", "khai-sinh-jrai")],
    ]


def test_render_gives_one_loudness_matched_file_per_session(planned):
    plan, data, _, tmp = planned
    out = tmp / "render-wav"
    target, gap_ms = -24.0, 700
    paths = render_sessions(plan, "ia-ka", WED, out, gap_ms=gap_ms, target_dbfs=target, fmt="wav")
    # named by the first segment of each session: after a relay, the time it ends
    assert [p.name for p in paths] == ["ia-ka_2024-03-06_0630.wav", "ia-ka_2024-03-06_1100.wav",
                                       "ia-ka_2024-03-06_1825.wav"]
    parts = [probe(data / "audio" / "dich-vu-cong.wav"), probe(data / "audio" / "can-cuoc.mp3")]
    morning = AudioSegment.from_file(paths[0])
    expected = sum(p.duration_s for p in parts) + gap_ms / 1000
    assert abs(len(morning) / 1000 - expected) < 0.05  # relays are live: not in the file
    # each segment, cut back out of the session file, sits at the target loudness
    first_ms = round(parts[0].duration_s * 1000)
    pieces = [morning[:first_ms], morning[first_ms + gap_ms:]]
    gap = morning[first_ms + 50:first_ms + gap_ms - 50]
    for piece in pieces:
        assert abs(piece.dBFS - target) < 1.0, piece.dBFS
        assert piece.max_dBFS <= -0.9
    assert gap.max == 0  # silence between segments
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in paths]  # no temp files left


def test_render_mp3_plays_in_ffmpeg_with_the_expected_length(planned):
    plan, data, _, tmp = planned
    out = tmp / "render-mp3"
    (path,) = [p for p in render_sessions(plan, "ia-ka", WED, out, gap_ms=2000) if p.name.endswith("_1825.mp3")]
    expected = probe(data / "audio" / "khai-sinh-jrai.ogg").duration_s  # one segment; the relay is live
    assert abs(decoded_duration(path) - expected) < 0.1
    # -18 dBFS RMS unless that would push a peak above -1 dBFS (no clipping): then the peak decides
    source = AudioSegment.from_file(data / "audio" / "khai-sinh-jrai.ogg")
    reachable = min(-18.0, -1.0 - (source.max_dBFS - source.dBFS))
    loud = AudioSegment.from_file(path)
    assert abs(loud.dBFS - reachable) < 0.5
    assert loud.max_dBFS < -0.5


def test_render_with_missing_audio_writes_nothing(tmp_path):
    plan, data, _ = build_plan(tmp_path)
    (data / "audio" / "can-cuoc.mp3").unlink()
    out = tmp_path / "sessions"
    with pytest.raises(ExportError, match="can-cuoc.mp3"):
        render_sessions(plan, "ia-ka", WED, out)
    assert not out.exists()


def test_cli_render_writes_session_files(planned, tmp_path):
    plan_path = valid_plan_file(planned[0], tmp_path / "plan.json")
    runner = CliRunner()
    out = tmp_path / "cli-sessions"
    result = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "nghia-hung", "--date", "2024-03-05",
                                  "--out", str(out), "--gap-ms", "500", "--target-dbfs", "-20", "--format", "ogg"])
    assert result.exit_code == 0, result.output
    # Tuesday at Nghĩa Hưng: morning relay + segment (one file, from the relay's end); the
    # evening has the relay only
    assert result.output.split() == [str(out / "nghia-hung_2024-03-05_0630.ogg")]
    assert decoded_duration(out / "nghia-hung_2024-03-05_0630.ogg") > 1.0

    result = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "nowhere", "--date", "2024-03-05",
                                  "--out", str(out)])
    assert result.exit_code == DataError.exit_code and "--site" in result.output and "nowhere" in result.output
    result = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "ia-ka", "--date", "5/3/2024"])
    assert result.exit_code == DataError.exit_code and "YYYY-MM-DD" in result.output
    result = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "ia-ka", "--date", "2024-13-45"])
    assert result.exit_code == DataError.exit_code and "--date" in result.output
    result = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "ia-ka", "--date", "2024-03-11"])
    assert result.exit_code == DataError.exit_code and "a day of the plan's week" in result.output
    assert "Relays are NOT in the rendered audio" in " ".join(runner.invoke(main, ["render", "--help"]).output.split())
    assert WEEK in runner.invoke(main, ["render", "--help"]).output


def test_cli_render_session_gap_joins_segments_into_one_file(planned, tmp_path):
    # Wednesday at Ia Ka: 06:30 and 06:35 form one session with the default gap; with a
    # 1-minute gap the two segments (back to back at 5-min starts) are two sessions
    plan_path = valid_plan_file(planned[0], tmp_path / "plan.json")
    runner = CliRunner()
    wide = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "ia-ka", "--date", "2024-03-06",
                                "--out", str(tmp_path / "wide"), "--format", "wav", "--session-gap", "300"])
    narrow = runner.invoke(main, ["render", "--plan", str(plan_path), "--site", "ia-ka", "--date", "2024-03-06",
                                  "--out", str(tmp_path / "narrow"), "--format", "wav", "--session-gap", "1"])
    assert wide.exit_code == 0 and narrow.exit_code == 0, wide.output + narrow.output
    assert len(wide.output.split()) < len(narrow.output.split())


def _around_the_news(plan):
    """Monday at Ia Ka as one session: a segment at 05:58, VOV1 06:00-06:30, a segment at 06:30."""
    import dataclasses
    from datetime import datetime

    monday = [p for p in plan.placements if p.site_id == "ia-ka" and p.start.date() == date(2024, 3, 4)]
    early = dataclasses.replace(next(p for p in monday if p.item_id == "can-cuoc"),
                                start=datetime(2024, 3, 4, 5, 58), end=datetime(2024, 3, 4, 5, 59))
    rest = [p for p in plan.placements if p not in monday]
    keep = [p for p in monday if p.item_id in ("vov1-thoi-su", "dich-vu-cong")]
    return dataclasses.replace(plan, placements=tuple(rest + keep + [early]))


def test_a_session_around_a_relay_gives_one_file_on_each_side_of_it(planned, tmp_path):
    """Before: one file per session, so the segment after the news played at 05:58 + a few
    seconds, over the relay. Now the news cuts the session's audio in two files."""
    plan, data, _, _ = planned
    plan = _around_the_news(plan)
    (session,) = [s for s in split_sessions(day_placements(plan, "ia-ka", date(2024, 3, 4)), 10) if s[0].start.hour < 7]
    assert [p.item_id for p in session] == ["can-cuoc", "vov1-thoi-su", "dich-vu-cong"]
    paths = render_sessions(plan, "ia-ka", date(2024, 3, 4), tmp_path, fmt="wav")
    names = [p.name for p in paths]
    assert names[:2] == ["ia-ka_2024-03-04_0558.wav", "ia-ka_2024-03-04_0630.wav"]
    assert abs(decoded_duration(paths[0]) - probe(data / "audio" / "can-cuoc.mp3").duration_s) < 0.1
    assert abs(decoded_duration(paths[1]) - probe(data / "audio" / "dich-vu-cong.wav").duration_s) < 0.1
    assert decoded_duration(paths[0]) < 120  # over well before 06:00


def test_render_refuses_a_file_longer_than_its_slot(planned, tmp_path):
    plan, _, _, _ = planned
    # Wednesday 06:30-06:36 at Ia Ka: two segments of ~4 s; 6 minutes of silence between them
    with pytest.raises(ExportError, match=r"ia-ka_2024-03-06_0630: .* do not fit .* --gap-ms"):
        render_sessions(plan, "ia-ka", WED, tmp_path / "long", gap_ms=6 * 60 * 1000, fmt="wav")
    assert not (tmp_path / "long").exists()
