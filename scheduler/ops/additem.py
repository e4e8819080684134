"""`loa add-item`: a new PAR item (a recording, or a text spoken offline by espeak-ng) into a
dataset, all or nothing.

Under the lock of the dataset folder (`.loa.lock`, the lock every loa run takes on a folder it
writes):

1. every option is checked where it enters, each problem naming its option;
2. the audio is copied (or spoken and encoded) to a temp file in `audio/`, and that copy, the
   bytes to publish, is measured by the one audio probe (`audioprobe`): missing, unreadable,
   undecodable, empty, silent or nearly silent audio is refused, and so is audio whose sha256
   is already a segment's (the message names that segment);
3. the row is appended to a temp copy of segments.csv in the file's own columns, separator, line
   ending and encoding (the bytes before the new row stay exactly as they were);
4. the dataset is loaded with both temp files standing in for the published ones
   (`load_dataset(staged=...)`): any problem is the loader's DataError, and nothing is published;
5. the audio gets its name (never over an existing file), then segments.csv is renamed over.

A run killed before step 5 leaves only temp files, which the next add-item removes; one killed
between the two renames leaves an audio file that no row names, never a row without its audio.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

from .. import audioprobe
from ..audioprobe import AudioInfo, ProbeError
from ..dataset import SEGMENT_COLUMNS, load_dataset
from ..domain import BULLETIN_LEVELS, TOPICS, Dataset
from ..errors import BugError, DataError, ExportError, Problem
from ..fsutil import clean_stale_tmp, folder_lock, publish_new, read_regular, stage_chunks
from ..io.csvfile import sniff_separator
from ..io.schema import LANG_RE, SLUG_RE, nfc, slugify
from ..io.text import NotUtf8, decode_utf8
from ..limits import (MAX_AUDIO_BYTES, MAX_BULLETIN_CHARS, MAX_DATASET_FILE_BYTES, MAX_TITLE_CHARS,
                      single_line)
from ..lint import iso639

AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".flac")
MIN_DBFS = -60.0  # quieter than this (RMS) is refused as nearly silent; speech is around -20 dBFS
LOCK_WAIT_S = 60.0  # how long an add-item waits for another loa run on the dataset folder
DEFAULT_PLAYS = (1, 3)
DEFAULT_PRIORITY = 3
# what synthesised speech is encoded to, by the dataset's usual audio format; bit-exact, so the
# same text always gives the same bytes (and a bulletin added twice is refused as a duplicate)
SPEECH_ENCODINGS: dict[str, tuple[str, ...]] = {
    ".ogg": ("-ac", "1", "-c:a", "libopus", "-b:a", "24k", "-application", "voip"),
    ".mp3": ("-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0"),
    ".wav": (),
}
_BITEXACT = ("-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact")
_PLAYS_RE = re.compile(r"^\s*(\d{1,2})\s*(?:\.\.\s*(\d{1,2})\s*)?$")
_VOICE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$")
# optional columns a new row may need; a segments.csv without them gets them (empty in other rows)
_OPTIONAL_COLUMNS = ("valid_from", "valid_to", "scope", "min_gap_min", "source", "level")


@dataclass(frozen=True)
class NewSegment:
    """The segment `add_segment` appended, as the dataset now loads it."""

    id: str
    title: str
    audio: str  # path relative to the dataset folder
    duration_s: float  # as probed (the plan counts whole seconds, rounded up)
    sha256: str
    topic: int
    language: str
    priority: int
    min_plays: int
    max_plays: int
    valid_from: date | None
    valid_to: date | None
    scope: tuple[str, ...]
    min_gap_min: int | None
    source: str
    synthetic: bool
    line: int  # its line in segments.csv (the header is line 1)
    sites: int  # sites that can air it: a station, in scope, broadcasting in its language
    warnings: tuple[Problem, ...] = ()  # the loader's warnings about the new row
    # segments.csv before and after the row (`withdraw_segment` puts the first back)
    csv_before: bytes = field(default=b"", repr=False, compare=False)
    csv_after: bytes = field(default=b"", repr=False, compare=False)
    # the dataset with the row, as validated before it was published: the run that added it plans
    # with it rather than load the folder again
    dataset: Dataset | None = field(default=None, repr=False, compare=False)

    def plays(self) -> str:
        return f"{self.min_plays}" if self.min_plays == self.max_plays else f"{self.min_plays}..{self.max_plays}"

    def summary(self) -> str:
        """One line: title, duration, plays, scope, topic, priority, dates, audio."""
        valid = ""
        if self.valid_from or self.valid_to:
            valid = f", valid {self.valid_from or '…'}..{self.valid_to or '…'}"
        return (f"{self.title}: {_duration(self.duration_s)}, {self.plays()} plays a week, scope "
                f"{';'.join(self.scope)} ({self.sites} site{'s' if self.sites != 1 else ''}), topic {self.topic}, "
                f"priority {self.priority}{valid}, {self.audio}"
                + (" (synthetic speech)" if self.synthetic else ""))

    def as_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "audio": self.audio, "duration_s": self.duration_s,
            "sha256": self.sha256, "topic": self.topic, "language": self.language, "priority": self.priority,
            "min_plays": self.min_plays, "max_plays": self.max_plays,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "scope": list(self.scope), "min_gap_min": self.min_gap_min, "source": self.source,
            "synthetic": self.synthetic, "line": self.line, "sites": self.sites,
            "warnings": [str(w) for w in self.warnings],
        }


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


# --------------------------------------------------------------------------- options as typed


def _bad(option: str, value: object, expected: str) -> Problem:
    return Problem(option, None, None, value, expected)


def parse_plays(text: str) -> tuple[int, int]:
    """'3' -> (3, 3); '2..4' -> (2, 4). The range itself is checked by `add_segment`."""
    m = _PLAYS_RE.match(text or "")
    if not m:
        raise DataError(_bad("--plays", text, "plays a week at each site: N or MIN..MAX (e.g. 3 or 2..4)"))
    return int(m[1]), int(m[2] if m[2] is not None else m[1])


def parse_valid(text: str) -> tuple[date | None, date | None]:
    """'2024-03-06..2024-03-10' -> both dates (inclusive); either side may be left open ('2024-03-06..')."""
    expected = "FROM..TO, ISO dates YYYY-MM-DD, inclusive; either side may be left open (2024-03-06..)"
    if text is None or text.count("..") != 1:
        raise DataError(_bad("--valid", text, expected))
    out = []
    for part in (p.strip() for p in text.split("..")):
        try:
            out.append(date.fromisoformat(part) if part else None)
        except ValueError:
            raise DataError(_bad("--valid", text, expected)) from None
    if out == [None, None]:
        raise DataError(_bad("--valid", text, expected))
    return out[0], out[1]


def parse_scope(values: Iterable[str]) -> tuple[str, ...]:
    """Ids given as repeated options and/or separated by ';' or ',' (order kept, repeats dropped)."""
    ids = [p.strip() for v in values for p in re.split(r"[;,]", v or "") if p.strip()]
    return tuple(dict.fromkeys(ids))


def read_bulletin(path: Path) -> str:
    """The text of a bulletin to speak: UTF-8, NFC, not blank, at most MAX_BULLETIN_CHARS."""
    where = str(path)
    try:
        raw = read_regular(Path(path), 4 * MAX_BULLETIN_CHARS + 3)
    except FileNotFoundError:
        raise DataError(_bad(where, None, "an existing text file (--text)")) from None
    except OSError as exc:
        raise DataError(_bad(where, None, f"a readable text file of at most {MAX_BULLETIN_CHARS:,} characters "
                                          f"(--text): {exc.strerror or exc}")) from None
    try:
        text = nfc(decode_utf8(raw)).strip()
    except NotUtf8 as exc:
        raise DataError(Problem(where, exc.line, None, exc.value, "UTF-8 text (--text; save the file as UTF-8)")) \
            from None
    if "\x00" in text:
        raise DataError(_bad(where, None, "text without NUL bytes (--text)"))
    if not text:
        raise DataError(_bad(where, None, "a text with something to say (--text: the file is blank)"))
    if len(text) > MAX_BULLETIN_CHARS:
        raise DataError(_bad(where, None, f"at most {MAX_BULLETIN_CHARS:,} characters (--text: {len(text):,} "
                                          "found; split the bulletin)"))
    return text


def _same_language(voice: str, language: str) -> bool:
    """The voice speaks the language (a voice no ISO code names is left for espeak-ng to refuse)."""
    base = voice.split("-")[0]
    a, b = iso639(base), iso639(language)
    return base == language or a is None or (b is not None and a[0] == b[0])


def _check_options(*, audio: Path | None, text: Path | None, voice: str, title: str, topic: int, scope: Sequence[str],
                   language: str, priority: int, plays: tuple[int, int], valid: tuple[date | None, date | None],
                   segment_id: str | None, source: str, gap_min: int | None) -> list[Problem]:
    problems: list[Problem] = []
    if (audio is None) == (text is None):
        problems.append(_bad("AUDIO", None, "an audio file, or --text FILE to speak (exactly one of them)"))
    elif audio is not None and Path(audio).suffix.lower() not in AUDIO_EXTENSIONS:
        problems.append(_bad(str(audio), Path(audio).suffix, "an audio file named by its format: "
                             + ", ".join(AUDIO_EXTENSIONS)))
    if not title:
        problems.append(_bad("--title", title, "a title (with its diacritics: it is shown in calendars)"))
    elif not single_line(title) or len(title) > MAX_TITLE_CHARS:
        problems.append(_bad("--title", title, f"a title on one line of at most {MAX_TITLE_CHARS} characters, "
                             "without control characters"))
    if topic not in TOPICS:
        problems.append(_bad("--topic", topic, f"a content area {min(TOPICS)}..{max(TOPICS)} of the plan "
                             "(docs/dataset-format.md, segments.csv)"))
    if not LANG_RE.match(language or ""):
        problems.append(_bad("--language", language, "a language code: 2-3 lowercase letters (vi, jra, bdq)"))
    if not 1 <= priority <= 5:
        problems.append(_bad("--priority", priority, "a whole number 1..5 (5 = most important)"))
    lo, hi = plays
    if not (0 <= lo <= hi <= 7 and hi >= 1):
        problems.append(_bad("--plays", f"{lo}..{hi}", "plays a week at each site, 0 <= MIN <= MAX <= 7 and MAX "
                             ">= 1 (a segment airs at most once a day)"))
    if valid[0] and valid[1] and valid[0] > valid[1]:
        problems.append(_bad("--valid", f"{valid[0]}..{valid[1]}", "a first day on or before the last day"))
    if gap_min is not None and not 0 <= gap_min <= 7 * 1440:
        problems.append(_bad("--gap", gap_min, "minutes between two plays at one site, 0..10080"))
    if segment_id is not None and not SLUG_RE.match(segment_id):
        problems.append(_bad("--id", segment_id, "an id: lowercase ASCII letters, digits and '-' (e.g. canh-bao-bao)"))
    if not single_line(source) or len(source) > MAX_TITLE_CHARS:
        problems.append(_bad("--source", source, f"text on one line of at most {MAX_TITLE_CHARS} characters"))
    if not scope:
        problems.append(_bad("--scope", "", "area, group or site ids of the dataset (e.g. chu-se)"))
    for s in scope:
        if not SLUG_RE.match(s):
            problems.append(_bad("--scope", s, "area, group or site ids: lowercase ASCII letters, digits and '-'"))
    if text is not None:
        if not _VOICE_RE.match(voice or ""):
            problems.append(_bad("--voice", voice, "an espeak-ng voice name (vi, vi-vn-x-central, vi-vn-x-south)"))
        elif LANG_RE.match(language or "") and not _same_language(voice, language):
            problems.append(_bad("--voice", voice, f"a voice speaking the item's --language {language} (espeak-ng "
                                 "has no Jrai or Bahnar voice: record those items)"))
    return problems


# --------------------------------------------------------------------------- speech


def synthesize(text: str, voice: str, ext: str, workdir: Path) -> Path:
    """The text spoken offline by espeak-ng (`-v voice`), encoded as `ext` (.ogg, .mp3, .wav)."""
    if shutil.which("espeak-ng") is None:
        raise ExportError("--text needs espeak-ng to speak the bulletin offline (apt-get install espeak-ng); "
                          "nothing was written")
    source, wav = workdir / "bulletin.txt", workdir / "speech.wav"
    source.write_text(text, encoding="utf-8")
    run = subprocess.run(["espeak-ng", "-v", voice, "-b", "1", "-f", str(source), "-w", str(wav)],
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0 or not wav.is_file():
        if "voice does not exist" in run.stderr:
            raise DataError(_bad("--voice", voice, "a voice espeak-ng has (`espeak-ng --voices=vi` lists them)"))
        raise ExportError(f"espeak-ng could not speak the text ({run.stderr.strip()[-300:]}); nothing was written")
    if ext == ".wav":
        return wav
    if shutil.which("ffmpeg") is None:
        raise ExportError(f"encoding the speech as {ext} needs ffmpeg (apt-get install ffmpeg); nothing was written")
    out = workdir / f"speech{ext}"
    run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), *SPEECH_ENCODINGS[ext],
                          *_BITEXACT, str(out)], capture_output=True, text=True, timeout=600)
    if run.returncode != 0 or not out.is_file():
        raise ExportError(f"ffmpeg could not encode the speech as {ext} ({run.stderr.strip()[-300:]}); "
                          "nothing was written")
    return out


def speech_format(dataset: Dataset) -> str:
    """The extension most of the dataset's audio has, among those speech is encoded to (else .ogg)."""
    counts = Counter(Path(s.audio).suffix.lower() for s in dataset.segments)
    usable = [(n, ext) for ext, n in counts.items() if ext in SPEECH_ENCODINGS]
    return max(usable)[1] if usable else ".ogg"


# --------------------------------------------------------------------------- segments.csv


@dataclass(frozen=True)
class _CsvShape:
    raw: bytes
    header: list[str]
    delimiter: str
    newline: str
    lines: int  # physical lines in the file


def _csv_shape(path: Path) -> _CsvShape:
    """What appending a row must keep of segments.csv: header order, separator, line ending."""
    problem = None
    if path.is_symlink():
        problem = "a regular file, not a symbolic link (add-item replaces the file: edit the link's target)"
    else:
        try:
            raw = read_regular(path, MAX_DATASET_FILE_BYTES)
        except OSError as exc:
            problem = f"a readable regular file ({exc.strerror or exc})"
    if problem:
        raise DataError(Problem("segments.csv", None, None, None, problem))
    text = decode_utf8(raw)  # the loader has read it already: UTF-8
    delimiter = sniff_separator(text, SEGMENT_COLUMNS)
    header_row = next(row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                      if row and any(c.strip() for c in row))
    header = [nfc(h.strip()).lower() for h in header_row]
    first_end = re.search(r"\r\n|\n|\r", text)
    newline = first_end.group(0) if first_end else "\n"
    lines = text.count(newline) + (0 if text.endswith(("\n", "\r")) else 1)
    return _CsvShape(raw, header, delimiter, newline, lines)


def _with_columns(shape: _CsvShape, columns: list[str]) -> _CsvShape:
    """segments.csv with optional `columns` added at the end of the header and an empty cell in
    every row (a row needs them: a bulletin's `level`, a `--valid` date), in the file's dialect."""
    bom = shape.raw.startswith(b"\xef\xbb\xbf")
    text = decode_utf8(shape.raw)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=shape.delimiter, lineterminator=shape.newline)
    header_done = False
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=shape.delimiter):
        if not row or not any(c.strip() for c in row):
            buf.write(shape.newline)
            continue
        writer.writerow(row + (columns if not header_done else [""] * len(columns)))
        header_done = True
    raw = (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8")
    return replace(shape, raw=raw, header=shape.header + columns, lines=shape.lines)


def _appended(shape: _CsvShape, values: dict[str, str]) -> bytes:
    """The file's bytes, unchanged, then the new row in its header's order and its dialect."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=shape.delimiter, lineterminator=shape.newline).writerow(
        [values.get(column, "") for column in shape.header])
    sep = b"" if shape.raw.endswith((b"\n", b"\r")) else shape.newline.encode()
    return shape.raw + sep + buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- the operation


def add_segment(data_dir: str | Path, audio: str | Path | None = None, *, text: str | Path | None = None,
                voice: str = "vi", title: str, topic: int, scope: Sequence[str], language: str = "vi",
                priority: int = DEFAULT_PRIORITY, plays: tuple[int, int] = DEFAULT_PLAYS,
                valid: tuple[date | None, date | None] = (None, None), segment_id: str | None = None,
                source: str = "", gap_min: int | None = None, level: str = "",
                wait_s: float = LOCK_WAIT_S) -> NewSegment:
    """Add one item to the dataset in `data_dir`: the audio file `audio`, or the bulletin in the
    text file `text` spoken by espeak-ng with `voice`. Returns the new segment as it loads.

    Its id is `segment_id`, else the title's slug (diacritics folded), with -2, -3, … if taken.
    Raises DataError (bad option, bad or duplicate audio, or the dataset would not load with the
    row: the loader's own error), ExportError (a missing tool, a folder that cannot be written)
    or BusyError; in every case nothing was written.
    """
    root = Path(data_dir)
    audio = Path(audio) if audio is not None else None
    text_path = Path(text) if text is not None else None
    title, source, language = nfc((title or "").strip()), nfc((source or "").strip()), (language or "").strip()
    scope = tuple(scope)
    problems = _check_options(audio=audio, text=text_path, voice=voice, title=title, topic=topic, scope=scope,
                              language=language, priority=priority, plays=plays, valid=valid,
                              segment_id=segment_id, source=source, gap_min=gap_min)
    if level and level not in BULLETIN_LEVELS:
        problems.append(_bad("--level", level, f"one of: {', '.join(BULLETIN_LEVELS)}"))
    if problems:
        raise DataError(problems)
    bulletin = read_bulletin(text_path) if text_path is not None else None
    if bulletin is not None:
        label = f"Giọng đọc tổng hợp (espeak-ng, {voice})"
        source = f"{label} – {source}" if source else label
    if not root.is_dir():
        raise DataError(_bad(str(root), None, "a dataset folder (--data, see docs/dataset-format.md)"))
    busy = (f"{root}: another loa run is changing this dataset (or writing into it); try again when it has "
            "finished (nothing was written)")
    with folder_lock(root, busy, wait_s):
        clean_stale_tmp(root)
        return _add_locked(root, audio, text_path, bulletin, voice, dict(
            title=title, topic=topic, scope=scope, language=language, priority=priority, plays=plays, valid=valid,
            segment_id=segment_id, source=source, gap_min=gap_min, level=level))


def _add_locked(root: Path, audio: Path | None, text_path: Path | None, bulletin: str | None, voice: str,
                o: dict) -> NewSegment:
    dataset = load_dataset(root)  # the dataset as it is must load: its own errors come first
    shape = _csv_shape(root / "segments.csv")
    csv_before = shape.raw
    known = {a.id for a in (*dataset.areas, *dataset.groups)} | {s.id for s in dataset.sites}
    problems = [_bad("--scope", s, "an area, group or site id of the dataset (see `loa sites`)")
                for s in o["scope"] if s not in known]
    lo, hi = o["plays"]
    values = {
        "title": o["title"], "topic": str(o["topic"]), "language": o["language"], "min_plays": str(lo),
        "max_plays": str(hi), "priority": str(o["priority"]),
        "valid_from": o["valid"][0].isoformat() if o["valid"][0] else "",
        "valid_to": o["valid"][1].isoformat() if o["valid"][1] else "",
        "scope": ";".join(o["scope"]), "min_gap_min": "" if o["gap_min"] is None else str(o["gap_min"]),
        "source": o["source"], "level": o.get("level", ""),
    }
    missing = [column for column in _OPTIONAL_COLUMNS if values[column] and column not in shape.header]
    if missing:  # optional columns the row needs: added to the header, empty in the other rows
        shape = _with_columns(shape, missing)
    ext = Path(audio).suffix.lower() if audio is not None else speech_format(dataset)
    segment_id, problem = _free_id(root, dataset, o["segment_id"], o["title"], ext)
    if problem:
        problems.append(problem)
    if problems:
        raise DataError(problems)
    rel = f"audio/{segment_id}{ext}"
    final_audio, csv_path = root / rel, root / "segments.csv"
    values |= {"segment_id": segment_id, "audio": rel}
    line = shape.lines + 1
    staged: list[Path] = []
    new_folder = not os.path.lexists(final_audio.parent)  # removed again if nothing is published
    published = False
    try:
        what = str(audio if audio is not None else text_path)
        if bulletin is not None:
            with tempfile.TemporaryDirectory(prefix="loa-speech-") as work:
                data = read_regular(synthesize(bulletin, voice, ext, Path(work)), MAX_AUDIO_BYTES)
        else:
            data = _read_audio(audio)
        try:
            staged.append(stage_chunks(final_audio, (data,)))
        except OSError as exc:
            raise ExportError(f"{final_audio.parent}: cannot write the audio ({exc.strerror or exc}); "
                              "nothing was written") from None
        info = _probe(staged[-1], what)
        twin = next((s for s in dataset.segments if s.sha256 == info.sha256), None)
        if twin is not None:
            same = ("audio that is not in the dataset yet: the same file" if bulletin is None
                    else "a bulletin that is not in the dataset yet: spoken, this text gives the same audio")
            raise DataError(_bad(what, None, f"{same} (sha256 {info.sha256[:12]}…) as segment '{twin.id}' "
                                             f"({twin.audio}, \"{twin.title}\"); nothing was written"))
        csv_after = _appended(shape, values)
        try:
            staged.append(stage_chunks(csv_path, (csv_after,), mode=csv_path.stat().st_mode & 0o777))
        except OSError as exc:
            raise ExportError(f"{root}: cannot write segments.csv ({exc.strerror or exc}); nothing was written") \
                from None
        candidate = load_dataset(root, staged={"segments.csv": staged[1], rel: staged[0]})
        new = next((s for s in candidate.segments if s.id == segment_id), None)
        if new is None:
            raise BugError(f"the row appended to segments.csv did not load as segment {segment_id!r}")
        _publish(staged[0], final_audio, staged[1], csv_path)
        published = True
    finally:
        for path in staged:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if new_folder and not published:
            try:
                os.rmdir(final_audio.parent)
            except OSError:
                pass
    sites = sum(1 for s in candidate.sites
                if s.has_station and new.language in s.languages and candidate.in_scope(s, new.scope))
    return NewSegment(
        id=new.id, title=new.title, audio=rel, duration_s=info.duration_s, sha256=info.sha256, topic=new.topic,
        language=new.language, priority=new.priority, min_plays=new.min_plays, max_plays=new.max_plays,
        valid_from=new.valid_from, valid_to=new.valid_to, scope=new.scope, min_gap_min=new.min_gap_min,
        source=new.source, synthetic=bulletin is not None, line=line, sites=sites,
        warnings=tuple(w for w in candidate.warnings if w.file == "segments.csv" and w.line == line),
        csv_before=csv_before, csv_after=csv_after, dataset=candidate)


def withdraw_segment(data_dir: str | Path, new: NewSegment, wait_s: float = LOCK_WAIT_S) -> bool:
    """Undo `add_segment` of `new` when what it was added for has failed (a bulletin that cannot
    be sent): segments.csv back as it was, then the audio removed, under the dataset lock. Only
    if nothing changed segments.csv since; returns whether the segment was withdrawn."""
    root = Path(data_dir)
    csv_path = root / "segments.csv"
    busy = f"{root}: another loa run is changing this dataset; the segment {new.id!r} it was given stays"
    with folder_lock(root, busy, wait_s):
        try:
            if read_regular(csv_path, MAX_DATASET_FILE_BYTES) != new.csv_after:
                return False
            os.replace(stage_chunks(csv_path, (new.csv_before,), mode=csv_path.stat().st_mode & 0o777), csv_path)
        except OSError:
            return False
        try:
            os.unlink(root / new.audio)
        except FileNotFoundError:
            pass
    return True


def _free_id(root: Path, dataset: Dataset, wanted: str | None, title: str, ext: str) -> tuple[str, Problem | None]:
    """The id to use and, for a given --id that cannot be used, why."""
    taken = {s.id: s for s in dataset.segments}
    if wanted is not None:
        if wanted in taken:
            return wanted, _bad("--id", wanted, f"a new segment id (segment '{wanted}' exists: "
                                                f"\"{taken[wanted].title}\")")
        if os.path.lexists(root / "audio" / f"{wanted}{ext}"):
            return wanted, _bad("--id", wanted, f"an id whose audio name is free (audio/{wanted}{ext} exists)")
        return wanted, None
    base = slugify(title)
    for n in range(1, 10_000):
        candidate = base if n == 1 else f"{base}-{n}"
        if candidate not in taken and not os.path.lexists(root / "audio" / f"{candidate}{ext}"):
            return candidate, None
    return base, _bad("--id", None, "an id for the item: give one, every variant of the title's is taken")


def _read_audio(path: Path) -> bytes:
    try:
        return read_regular(path, MAX_AUDIO_BYTES)
    except FileNotFoundError:
        raise DataError(_bad(str(path), None, "an existing audio file (nothing was written)")) from None
    except OSError as exc:
        raise DataError(_bad(str(path), None, f"a readable regular audio file of at most {MAX_AUDIO_BYTES // 2**20} "
                                              f"MB ({exc.strerror or exc}); nothing was written")) from None


def _probe(path: Path, what: str) -> AudioInfo:
    """The probe of the staged copy; its failures named after the file the user gave."""
    try:
        info = audioprobe.probe(path)
    except ProbeError as exc:
        if exc.reason == "needs-ffmpeg":
            raise ExportError(f"{what}: {exc.message}; nothing was written") from None
        last = (exc.detail.strip().splitlines() or [exc.reason])[-1].replace(str(path), what)[:200]
        expected = {
            "empty": "an audio file with sound (it lasts 0 s)",
            "silent": "an audio file with sound (every sample is zero: silence)",
            "undecodable": f"an audio file ffmpeg can decode (ffmpeg: {last})",
        }.get(exc.reason, f"a readable audio file ({exc.message})")
        raise DataError(_bad(what, None, f"{expected}; nothing was written")) from None
    if info.dbfs < MIN_DBFS:
        raise DataError(_bad(what, None, f"an audio file with audible sound (its loudness is {info.dbfs:.0f} dBFS, "
                                         f"below {MIN_DBFS:.0f}; speech is around -20); nothing was written"))
    return info


def _publish(audio_tmp: Path, audio: Path, csv_tmp: Path, csv_path: Path) -> None:
    """The audio first, under a name that must be free, then the row: a reader sees either the
    old dataset or the new one, never a row without its audio."""
    try:
        publish_new(audio_tmp, audio)
    except OSError as exc:
        raise ExportError(f"{audio}: cannot publish the audio ({exc.strerror or exc}); nothing was written") \
            from None
    try:
        os.replace(csv_tmp, csv_path)
    except OSError as exc:
        try:
            os.unlink(audio)
        except OSError:
            pass
        raise ExportError(f"{csv_path}: cannot replace it ({exc.strerror or exc}); nothing was written") from None
