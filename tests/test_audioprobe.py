"""The one audio probe: real files measured, bad ones named, each content decoded once."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
from pydub import AudioSegment

from conftest import TINY
from scheduler import audioprobe
from scheduler.audioprobe import AudioInfo, ProbeError, probe, probe_many


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Each test starts with empty caches: nothing in memory, a private cache folder."""
    monkeypatch.setattr(audioprobe, "_MEMORY", {})
    monkeypatch.setenv("LOA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "audio.json"


@pytest.fixture
def decodes(monkeypatch):
    """The paths decoded from now on (every call still decodes for real)."""
    seen = []
    real = audioprobe.decode

    def counting(path):
        seen.append(path)
        return real(path)

    monkeypatch.setattr(audioprobe, "decode", counting)
    return seen


@pytest.fixture
def tone(tmp_path):
    """1.5 s of a 440 Hz tone made by sox, as Opus in Ogg (decoded through ffmpeg)."""
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    wav, ogg = tmp_path / "tone.wav", tmp_path / "tone.ogg"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", "1.5", "sine", "440", "vol", "0.5"],
                   check=True, timeout=30)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus", str(ogg)],
                   check=True, timeout=30)
    return ogg


def test_a_real_file_is_measured(tone):
    info = probe(tone)
    assert isinstance(info, AudioInfo) and info.path == tone
    assert abs(info.duration_s - 1.5) < 0.03
    assert info.sha256 == hashlib.sha256(tone.read_bytes()).hexdigest()
    assert -12 < info.dbfs < -3  # a sine at half scale: about -9 dBFS RMS


def test_the_tiny_fixture_speech_lasts_what_make_tiny_audio_says():
    info = probe(TINY / "audio" / "cchc-jrai.ogg")
    assert 61 < info.duration_s <= 62


@pytest.mark.parametrize("reason", ["missing", "undecodable", "empty", "silent"])
def test_every_unusable_file_is_named_with_its_reason(tmp_path, reason):
    path = tmp_path / f"{reason}.wav"
    if reason == "undecodable":
        path.write_bytes(b"RIFF not really a wave file" * 20)
    elif reason in ("empty", "silent"):
        AudioSegment.silent(duration=0 if reason == "empty" else 2000, frame_rate=16000).export(path, format="wav")
    with pytest.raises(ProbeError) as info:
        probe(path)
    assert info.value.reason == reason and info.value.path == path
    assert str(info.value).startswith(f"{path}: audio file")


def test_probe_many_reports_every_bad_file_next_to_the_good_ones(tmp_path, tone):
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00garbage" * 100)
    results = probe_many([tone, junk, tmp_path / "gone.ogg", tone])
    assert list(results) == sorted({tone, junk, tmp_path / "gone.ogg"})
    assert isinstance(results[tone], AudioInfo)
    assert results[junk].reason == "undecodable" and "cannot be decoded" in str(results[junk])
    assert results[tmp_path / "gone.ogg"].reason == "missing"


def test_copies_and_reruns_decode_nothing_twice(tmp_path, tone, decodes):
    copy = tmp_path / "copy.ogg"
    shutil.copy(tone, copy)
    results = probe_many([tone, copy])
    assert len(decodes) == 1  # same bytes: one decode for both paths
    assert results[copy].path == copy and results[copy].sha256 == results[tone].sha256
    assert probe(copy) == results[copy] and len(decodes) == 1


def test_the_disk_cache_serves_a_new_process(tone, fresh_cache, decodes, monkeypatch):
    first = probe(tone)
    key = f"{tone.stat().st_size}:{first.sha256}"
    assert json.loads(fresh_cache.read_text(encoding="utf-8")) == {key: [first.duration_s, first.dbfs]}
    monkeypatch.setattr(audioprobe, "_MEMORY", {})  # as if a new run started
    assert probe(tone) == first and len(decodes) == 1


def test_a_changed_file_is_measured_again(tmp_path, tone, decodes):
    probe(tone)
    AudioSegment.from_file(tone)[:500].export(tone, format="ogg")
    assert probe(tone).duration_s < 1.0 and len(decodes) == 2


def test_cache_off_writes_nothing(tone, fresh_cache, decodes, monkeypatch):
    monkeypatch.setenv("LOA_CACHE_DIR", "off")
    probe(tone)
    monkeypatch.setattr(audioprobe, "_MEMORY", {})
    probe(tone)
    assert len(decodes) == 2 and not fresh_cache.parent.exists()


def test_a_corrupt_cache_file_is_ignored(tone, fresh_cache):
    fresh_cache.parent.mkdir(parents=True)
    fresh_cache.write_text("{not json", encoding="utf-8")
    assert probe(tone).duration_s > 1.0
    assert len(json.loads(fresh_cache.read_text(encoding="utf-8"))) == 1  # rewritten, whole
