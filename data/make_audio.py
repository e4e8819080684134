#!/usr/bin/env python3
"""Regenerate the sample audio of a dataset from its spoken-text scripts.

For every `<dataset>/scripts/<segment_id>.txt` this writes `<dataset>/audio/<segment_id>.ogg`:
Vietnamese speech synthesised with `espeak-ng -v vi`, encoded by ffmpeg as mono 16 kHz
Ogg/Opus at a low speech bitrate (the whole bundled dataset must stay under ~10 MB).

Script format (UTF-8 text):
  * every line not starting with `#` is spoken; a line break is a sentence pause;
  * `# target_seconds: N` (optional directive) repeats the spoken text, with 2 s of silence
    between repeats, and cuts the result to exactly N seconds. Used for the stand-in files of
    the Jrai/Bahnar programmes, whose real recordings are made by the district centres: the
    stand-in then has the length of the programme it replaces;
  * any other `#` line is a comment.

Durations are never typed anywhere: the loader probes the files. This script prints them.

Usage:
  .venv/bin/python data/make_audio.py                      # data/gia_lai_2024, only changed files
  .venv/bin/python data/make_audio.py --force              # rebuild everything
  .venv/bin/python data/make_audio.py --data data/gia_lai_2024 --only krong-pa-cchc-jrai

Needs Debian `espeak-ng` and `ffmpeg` on PATH. A small sidecar file `audio/.make_audio.json`
records a hash of each script and of the settings, so unchanged files are not re-encoded.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VOICE = "vi"
SPEED_WPM = 130  # espeak-ng words (= Vietnamese syllables) per minute; slow, clear loudspeaker pace
SAMPLE_RATE = 16000
BITRATE = "8k"  # Opus speech at 8 kbit/s, 16 kHz mono: clear enough for a spoken sample
GAP_SECONDS = 2  # silence between repeats of a stand-in
SETTINGS = f"espeak-ng -v {VOICE} -s {SPEED_WPM}; opus {SAMPLE_RATE} Hz mono {BITRATE} voip; gap {GAP_SECONDS}"


def parse_script(path: Path) -> tuple[str, int | None]:
    spoken: list[str] = []
    target: int | None = None
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            key, _, value = line.lstrip("#").partition(":")
            if key.strip() == "target_seconds":
                target = int(value.strip())
            continue
        if line:
            spoken.append(line)
    if not spoken:
        raise SystemExit(f"{path}: no spoken text")
    return "\n".join(spoken) + "\n", target


def run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")


def synthesise(text: str, target: int | None, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        txt = tmpdir / "speech.txt"
        txt.write_text(text, encoding="utf-8")
        wav = tmpdir / "speech.wav"
        run(["espeak-ng", "-v", VOICE, "-s", str(SPEED_WPM), "-f", str(txt), "-w", str(wav)])
        src = wav
        if target is not None:
            # speech + gap, looped, cut to exactly `target` seconds
            padded = tmpdir / "padded.wav"
            run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(wav), "-af",
                 f"apad=pad_dur={GAP_SECONDS}", str(padded)])
            looped = tmpdir / "looped.wav"
            run(["ffmpeg", "-y", "-loglevel", "error", "-stream_loop", "-1", "-i", str(padded),
                 "-t", str(target), str(looped)])
            src = looped
        tmp_out = out.with_name(out.name + ".tmp.ogg")
        run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(src), "-ac", "1", "-ar", str(SAMPLE_RATE),
             "-c:a", "libopus", "-b:a", BITRATE, "-application", "voip", "-map_metadata", "-1",
             "-fflags", "+bitexact", "-flags:a", "+bitexact", str(tmp_out)])
        tmp_out.replace(out)


def probe_seconds(path: Path) -> float:
    res = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "default=nw=1:nk=1", str(path)], capture_output=True, text=True, check=True)
    return float(res.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).parent / "gia_lai_2024"), help="dataset folder")
    ap.add_argument("--force", action="store_true", help="re-encode every file")
    ap.add_argument("--only", nargs="*", default=None, help="segment ids to (re)build")
    args = ap.parse_args(argv)
    for tool in ("espeak-ng", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found on PATH (Debian: apt-get install espeak-ng ffmpeg)", file=sys.stderr)
            return 2
    root = Path(args.data)
    scripts = sorted((root / "scripts").glob("*.txt"))
    audio = root / "audio"
    audio.mkdir(exist_ok=True)
    state_file = audio / ".make_audio.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    total = 0.0
    for path in scripts:
        sid = path.stem
        if args.only is not None and sid not in args.only:
            continue
        text, target = parse_script(path)
        digest = hashlib.sha256((SETTINGS + "\n" + str(target) + "\n" + text).encode()).hexdigest()
        out = audio / f"{sid}.ogg"
        if args.force or state.get(sid) != digest or not out.exists():
            synthesise(text, target, out)
            state[sid] = digest
            status = "built"
        else:
            status = "up to date"
        secs = probe_seconds(out)
        total += secs
        print(f"{sid:40s} {secs:7.1f} s  {out.stat().st_size / 1024:6.1f} KiB  {status}")
    # drop state of scripts that no longer exist, write atomically
    state = {k: v for k, v in sorted(state.items()) if (root / "scripts" / f"{k}.txt").exists()}
    tmp = state_file.with_name(state_file.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    tmp.replace(state_file)
    print(f"total {total / 60:.1f} min in {len(scripts)} scripts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
