"""iCalendar (RFC 5545) per site and per district, with `icalendar`, at two levels of detail.

- `sessions` (the default, for the operator's phone): one event per session (buổi phát) titled
  like "Buổi sáng: 7 tin CCHC + Tiếp sóng VOV1", its DESCRIPTION the running order (time, what,
  how long, from where) and which file to start when, with an alarm 10 minutes before;
- `items` (for automation): one event per placement. A live relay reads "Tiếp sóng trực tiếp …"
  and carries its stream; a deferred relay aired after its source time reads "Phát lại bản ghi …
  (ghi lúc 17:00)".
At both levels every recorded relay also gets a "Ghi âm …" event at its source time, with an
alarm, so the operator records the programme while the receiver still carries it.

Every byte derives from the plan, so two exports of one plan are identical:
- UID = sha1 of content keys @loa: for a placement (site, kind, item id, date, occurrence of that
  item at that site on that date), for a recording (the same with kind "record"), for a session
  (site, date, the window it starts in and its occurrence in that window): moving an item or a
  session within its day keeps its UID, so a re-import updates instead of duplicating;
- SEQUENCE starts at 0 and, when a previous calendar exists at the target path, is raised for
  each event whose DTSTART, DTEND, SUMMARY, DESCRIPTION or STATUS changed (kept otherwise);
- DTSTAMP is Monday 00:00 local time of the planned week (in UTC), never the clock;
- an event of the previous calendar whose UID is no longer planned (a placement dropped, or moved
  to another day) is kept with STATUS:CANCELLED, SEQUENCE + 1 and "[Hủy] " before its SUMMARY, so
  a client that imported the previous file removes it (RFC 5546 PUBLISH). An event already
  cancelled is carried over unchanged while it belongs to the calendar's ISO week, dropped otherwise.
Times are local wall-clock times with TZID=Asia/Ho_Chi_Minh and a VTIMEZONE generated from tzdata.
Descriptions hold what an operator reads; machine keys live in X-LOA-* properties only.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from ..domain import TIMEZONE, Placement, PlanSite, WeekPlan, placements_by_site, week_days
from ..errors import ExportError
from ..fsutil import cache_root, write_cache_atomic
from . import sessions as sess
from .i18n import language_name, topic_code, topic_name, week_title
from .levels import unit_title

PRODID = "-//loa//loa-scheduler//VI"
UID_DOMAIN = "loa"
TZ = ZoneInfo(TIMEZONE)
RELAY_CATEGORY = "Tiếp sóng"
SESSION_CATEGORY = "Buổi phát"
RECORD_CATEGORY = "Ghi âm"
CANCELLED_PREFIX = "[Hủy] "
DETAILS = ("sessions", "items")
ALARM_BEFORE = timedelta(minutes=10)

# uid -> (air-order key, VEVENT): what `build_events` gives and `assemble` writes
Events = dict[str, tuple[tuple, icalendar.Event]]


def topic_category(topic: int | None) -> str:
    return f"CCHC {topic_code(topic)}" if topic is not None else "CCHC"


def check_detail(detail: str) -> str:
    if detail not in DETAILS:
        raise ExportError(f"unknown calendar detail {detail!r}; use 'sessions' or 'items'")
    return detail


def dtstamp(plan: WeekPlan) -> datetime:
    """Monday 00:00 local of the planned week, in UTC: derived from the plan, stable."""
    return datetime.combine(plan.monday, time(0, 0), tzinfo=TZ).astimezone(timezone.utc)


def _uid(*parts: str) -> str:
    return f"{hashlib.sha1('|'.join(parts).encode('utf-8')).hexdigest()}@{UID_DOMAIN}"


def event_uid(p: Placement, occurrence: int, kind: str | None = None) -> str:
    """UID of a placement's event (`kind` "record" for the recording of a relay)."""
    return _uid(p.site_id, kind or p.kind, p.item_id, p.start.date().isoformat(), str(occurrence))


def session_uid(session: sess.Session) -> str:
    return _uid(session.site_id, "session", session.start.date().isoformat(), session.key)


def placement_uids(placements) -> dict[Placement, str]:
    """UID of each placement; the occurrence index counts the item's airings that day at that site."""
    return {p: event_uid(p, n) for p, n in _occurrences(placements).items()}


def _occurrences(placements) -> dict[Placement, int]:
    seen: dict[tuple, int] = defaultdict(int)
    out = {}
    for p in sorted(placements, key=lambda p: (p.site_id, p.start, p.end, p.kind, p.item_id)):
        key = (p.site_id, p.kind, p.item_id, p.start.date())
        out[p] = seen[key]
        seen[key] += 1
    return out


@lru_cache(maxsize=8)
def _vtimezone(year: int) -> bytes:
    tz = icalendar.Timezone.from_tzinfo(TZ, tzid=TIMEZONE, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))
    return tz.to_ical()


def vtimezone(plan: WeekPlan) -> icalendar.Timezone:
    """VTIMEZONE for Asia/Ho_Chi_Minh from tzdata, valid for the plan's year and the next."""
    return icalendar.Timezone.from_ical(_vtimezone(plan.monday.year))


def _local(dt: datetime) -> datetime:
    return dt.replace(tzinfo=TZ) if dt.tzinfo is None else dt.astimezone(TZ)


def description(e: sess.Entry) -> str:
    """What the operator reads about one item: content area, language, source, file or stream."""
    item = e.item
    lines = []
    if e.how == sess.LIVE:
        lines.append(f"Tiếp sóng trực tiếp {item.source} lúc {e.start:%H:%M}–{e.end:%H:%M}")
        lines.append(f"Thu từ: {sess.receiver_text(item)}")
    elif e.how == sess.RECORDED:
        lines.append(f"Phát lại bản ghi chương trình {item.source} đã ghi lúc {e.record_at:%H:%M} "
                     f"(xem sự kiện \"{RECORD_CATEGORY}\"); máy thu lúc này không còn phát chương trình đó")
    else:
        lines.append(f"Nội dung: {topic_code(item.topic)} {topic_name(item.topic)}")
    lines.append(f"Ngôn ngữ: {language_name(item.language)}")
    lines.append(f"Nguồn: {item.source}")
    if item.audio and e.how == sess.FILE:
        lines.append(f"Tệp âm thanh: {item.audio} ({sess.duration_text(item.duration_s)})")
    return "\n".join(lines)


def running_order(session: sess.Session) -> str:
    """A session's DESCRIPTION: one line per item (time, what, how long, from where), then the files."""
    lines = [f"{e.start:%H:%M}  {sess.entry_text(e)} ({sess.duration_text(e.item.duration_s)}) – "
             f"{sess.source_text(e)}" for e in session.entries]
    parts = session.parts
    if parts:
        lines.append("")
        lines += [sess.part_text(part) for part in parts]
    for e in session.entries:
        if e.how == sess.RECORDED:
            lines.append(f"Nhớ ghi âm {e.item.title} lúc {e.record_at:%H:%M}.")
    return "\n".join(lines)


def _alarm(summary: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", summary)
    return alarm


def _base(uid: str, stamp: datetime, start: datetime, end: datetime, summary: str, site: PlanSite,
          desc: str, category: str, kind: str) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("sequence", 0)
    ev.add("dtstart", _local(start))
    ev.add("dtend", _local(end))
    ev.add("summary", summary)
    ev.add("location", site.name)
    ev.add("description", desc)
    ev.add("categories", [category])
    ev.add("status", "CONFIRMED")
    ev.add("transp", "OPAQUE")
    ev.add("x-loa-site", site.id)
    ev.add("x-loa-kind", kind)
    return ev


def _item_event(e: sess.Entry, uid: str, site: PlanSite, stamp: datetime) -> icalendar.Event:
    p, item = e.placement, e.item
    category = RELAY_CATEGORY if p.kind == "relay" else topic_category(item.topic)
    ev = _base(uid, stamp, p.start, p.end, sess.entry_text(e), site, description(e), category, p.kind)
    ev.add("x-loa-item", p.item_id)
    ev.add("x-loa-mode", e.how)
    if item.stream_url and e.how == sess.LIVE:  # a later replay is not what the stream carries then
        ev.add("url", item.stream_url)
    return ev


def _record_event(e: sess.Entry, uid: str, site: PlanSite, stamp: datetime) -> icalendar.Event:
    """The recording of a relay aired later: at its source time, for as long as it airs."""
    start = e.record_at
    end = start + (e.end - e.start)
    desc = (f"Thu {e.item.source} ({sess.receiver_text(e.item)}) từ {start:%H:%M} đến {end:%H:%M} và ghi âm lại.\n"
            f"Bản ghi được phát lại lúc {e.start:%H:%M}–{e.end:%H:%M}.")
    ev = _base(uid, stamp, start, end, sess.record_text(e), site, desc, RECORD_CATEGORY, "record")
    ev.add("x-loa-item", e.item.id)
    ev.add_component(_alarm(sess.record_text(e)))
    return ev


def _session_event(session: sess.Session, site: PlanSite, stamp: datetime) -> icalendar.Event:
    ev = _base(session_uid(session), stamp, session.start, session.end, session.title, site,
               running_order(session), SESSION_CATEGORY, "session")
    ev.add("x-loa-session", session.key)
    ev.add_component(_alarm(session.title))
    return ev


def build_events(plan: WeekPlan, placements, previous: icalendar.Calendar | None = None,
                 detail: str = "sessions") -> Events:
    """The VEVENTs of `placements` at `detail` ('sessions' or 'items'), plus a recording event
    per recorded relay, SEQUENCE set against `previous` (raised only where an event changed)."""
    check_detail(detail)
    sites = {s.id: s for s in plan.sites}
    items = {(i.kind, i.id): i for i in plan.items}
    stamp = dtstamp(plan)
    occurrence = _occurrences(placements)
    by_site = placements_by_site(placements)
    unknown = sorted(set(by_site) - set(sites))
    if unknown:
        raise ExportError(f"plan {plan.week}: placement at unknown site {unknown[0]!r}")
    events: Events = {}
    for site_id, todo in sorted(by_site.items()):
        site = sites[site_id]
        entries = sess.entries(plan, todo, items)
        for e in entries:
            p = e.placement
            if detail == "items":
                uid = event_uid(p, occurrence[p])
                events[uid] = ((p.start, site_id, p.end, p.kind, p.item_id), _item_event(e, uid, site, stamp))
            if e.how == sess.RECORDED:
                uid = event_uid(p, occurrence[p], "record")
                events[uid] = ((e.record_at, site_id, e.record_at, "record", p.item_id),
                               _record_event(e, uid, site, stamp))
        if detail == "sessions":
            for session in sess.week_sessions(plan, site, todo, items).values():
                for one in session:
                    ev = _session_event(one, site, stamp)
                    events[str(ev["uid"])] = ((one.start, site_id, one.end, "session", one.key), ev)
    old = previous_events(previous)
    for uid, (_, ev) in events.items():
        if uid in old:
            seq, fingerprint = old[uid]
            ev["sequence"] = icalendar.vInt(seq if fingerprint == _fp_key(_fingerprint(ev)) else seq + 1)
    return events


def _dtstart_key(ev) -> datetime:
    v = ev["dtstart"].dt
    return _local(v).replace(tzinfo=None) if isinstance(v, datetime) else datetime.combine(v, time(0, 0))


def assemble(plan: WeekPlan, name: str, events: Events,
             cancelled: dict[str, icalendar.Event] | None = None) -> icalendar.Calendar:
    """A VCALENDAR with its headers, the VTIMEZONE and `events` in air order.

    `cancelled` (UID -> STATUS:CANCELLED VEVENT, see `cancelled_events`) are merged in by DTSTART,
    after the active events starting at the same minute, then by UID.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", TIMEZONE)
    cal.add("x-wr-caldesc", f"Lịch phát sóng {week_title(plan.week)}, {plan.week} ({plan.dataset_name})")
    cal.add_component(vtimezone(plan))
    active = sorted(events.values(), key=lambda kv: kv[0])
    rows = [(key[0], 0, n, ev) for n, (key, ev) in enumerate(active)]
    rows += [(_dtstart_key(ev), 1, uid, ev) for uid, ev in (cancelled or {}).items()]
    for *_, ev in sorted(rows, key=lambda r: r[:3]):
        cal.add_component(ev)
    return cal


def site_calendar_name(plan: WeekPlan, site: PlanSite, detail: str = "sessions") -> str:
    return f"{site.name} — Lịch phát sóng {week_title(plan.week)}{_detail_suffix(detail)}"


def district_calendar_name(plan: WeekPlan, district_name: str, detail: str = "sessions") -> str:
    return f"{district_name} — Lịch phát sóng {week_title(plan.week)}{_detail_suffix(detail)}"


def _detail_suffix(detail: str) -> str:
    return " (từng mục)" if check_detail(detail) == "items" else ""


def _fingerprint(ev) -> tuple:
    def val(name):
        prop = ev.get(name)
        if prop is None:
            return None
        v = prop.dt if hasattr(prop, "dt") else str(prop)
        if isinstance(v, datetime):
            v = _local(v).replace(tzinfo=None)
        return v

    # STATUS too: a cancelled event planned again must get a higher SEQUENCE to come back;
    # DESCRIPTION too: a session's running order is its content
    return (val("dtstart"), val("dtend"), val("summary"), val("description"), val("status"))


def _fp_key(fingerprint: tuple) -> list:
    """A fingerprint as JSON can hold it (dates and times in ISO form), so it can be cached."""
    return [v.isoformat() if isinstance(v, (date, datetime)) else v for v in fingerprint]


def previous_events(previous) -> dict[str, tuple[int, list]]:
    """UID -> (SEQUENCE, key of (DTSTART, DTEND, SUMMARY, DESCRIPTION, STATUS)) of a previously
    exported calendar (a `Previous` as `read_previous` gives it, or a parsed calendar)."""
    if previous is None:
        return {}
    if isinstance(previous, Previous):
        return previous.events
    out = {}
    for ev in previous.walk("VEVENT"):
        uid = str(ev.get("uid", ""))
        if uid:
            out[uid] = (int(ev.get("sequence", 0)), _fp_key(_fingerprint(ev)))
    return out


class Previous:
    """A calendar exported before, as a re-export needs it: each UID's SEQUENCE and fingerprint,
    and the parsed calendar only when some of its events are no longer planned (to cancel them).

    Parsing a calendar is most of an export's time, so what it yields is kept in the cache folder
    under the sha256 of the file's bytes (`remember` stores it for each calendar written): an
    unchanged file is never parsed twice, and a changed one is simply a miss."""

    def __init__(self, path: Path, events: dict[str, tuple[int, list]], calendar: icalendar.Calendar | None = None):
        self.path = path
        self.events = events
        self._calendar = calendar

    def calendar(self) -> icalendar.Calendar:
        if self._calendar is None:
            self._calendar = _parse_previous(self.path, self.path.read_bytes())
        return self._calendar


def _index_path(data: bytes) -> Path | None:
    root = cache_root()
    if root is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return root / "calendars" / digest[:2] / f"{digest}.json"


def remember(data: bytes, events: dict, cancelled: dict) -> None:
    """Keep what `read_previous` will need of the calendar `data` just built from `events` and
    `cancelled` (a cache only: never fail an export because it cannot be written)."""
    path = _index_path(data)
    if path is None:
        return
    index = {uid: [int(ev.get("sequence", 0)), _fp_key(_fingerprint(ev))]
             for uid, ev in [*((u, e) for u, (_k, e) in events.items()), *cancelled.items()]}
    try:
        write_cache_atomic(path, json.dumps(index, ensure_ascii=False, sort_keys=True))
    except OSError:
        pass


def _remembered(data: bytes) -> dict[str, tuple[int, list]] | None:
    path = _index_path(data)
    try:
        raw = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
        return {str(uid): (int(seq), list(fp)) for uid, (seq, fp) in raw.items()} if isinstance(raw, dict) else None
    except (OSError, ValueError, TypeError):
        return None  # a missing or malformed entry is a miss


def _in_week(plan: WeekPlan, ev) -> bool:
    prop = ev.get("dtstart")
    if prop is None:
        return False
    v = prop.dt
    day = _local(v).date() if isinstance(v, datetime) else v
    return day in week_days(plan.week)


def cancelled_events(plan: WeekPlan, previous: icalendar.Calendar | None, active_uids) -> dict[str, icalendar.Event]:
    """UID -> STATUS:CANCELLED VEVENT for each event of `previous` whose UID is not in `active_uids`.

    An event still active in `previous` is cancelled: same UID, DTSTART, DTEND, LOCATION and loa
    properties, SEQUENCE + 1, SUMMARY prefixed with "[Hủy] ", TRANSP:TRANSPARENT. An event already
    cancelled is kept unchanged if it starts in the plan's ISO week, and dropped otherwise (so they
    do not pile up).
    """
    if previous is None:
        return {}
    active = set(active_uids)
    if isinstance(previous, Previous):
        if set(previous.events) <= active:
            return {}  # nothing to cancel: no need to parse it
        previous = previous.calendar()
    stamp = dtstamp(plan)
    out: dict[str, icalendar.Event] = {}
    for old in previous.walk("VEVENT"):
        uid = str(old.get("uid", ""))
        if not uid or uid in active or uid in out or old.get("dtstart") is None:
            continue
        if str(old.get("status", "")).upper() == "CANCELLED":
            if _in_week(plan, old):
                out[uid] = old
            continue
        ev = icalendar.Event()
        ev.add("uid", uid)
        ev.add("dtstamp", stamp)
        ev.add("sequence", int(old.get("sequence", 0)) + 1)
        for name in ("dtstart", "dtend"):
            if old.get(name) is not None:
                v = old[name].dt
                ev.add(name, _local(v) if isinstance(v, datetime) else v)
        summary = str(old.get("summary", ""))
        ev.add("summary", summary if summary.startswith(CANCELLED_PREFIX) else CANCELLED_PREFIX + summary)
        for name in ("location", "description"):
            if old.get(name) is not None:
                ev.add(name, str(old[name]))
        ev.add("status", "CANCELLED")
        ev.add("transp", "TRANSPARENT")
        for name in ("x-loa-site", "x-loa-kind", "x-loa-item", "x-loa-session", "x-loa-mode"):
            if old.get(name) is not None:
                ev.add(name, str(old[name]))
        out[uid] = ev
    return out


def read_previous(path: Path) -> Previous | None:
    """The calendar previously exported at `path`, or None; an unreadable one is an error."""
    path = Path(path)
    if not path.exists():
        return None
    data = path.read_bytes()
    known = _remembered(data)
    if known is not None:
        return Previous(path, known)
    cal = _parse_previous(path, data)
    return Previous(path, previous_events(cal), cal)


def _parse_previous(path: Path, data: bytes) -> icalendar.Calendar:
    try:
        cal = icalendar.Calendar.from_ical(data)
        previous_events(cal)  # reads every value: "broken" properties raise here
        return cal
    except Exception as exc:  # icalendar raises ValueError and friends
        raise ExportError(
            f"{path}: the previous calendar cannot be read ({exc}); it is needed to keep SEQUENCE "
            "numbers — fix or delete it and export again") from None


def site_calendar(plan: WeekPlan, site_id: str, previous: icalendar.Calendar | None = None,
                  detail: str = "sessions") -> icalendar.Calendar:
    """One VCALENDAR with the week of one loudspeaker system."""
    try:
        site = plan.site(site_id)
    except KeyError:
        raise ExportError(f"site {site_id!r} is not in the plan of {plan.week}") from None
    placements = [p for p in plan.placements if p.site_id == site_id]
    events = build_events(plan, placements, previous, detail)
    gone = cancelled_events(plan, previous, events)
    return assemble(plan, site_calendar_name(plan, site, detail), events, gone)


def district_calendar(plan: WeekPlan, district_id: str, previous: icalendar.Calendar | None = None,
                      detail: str = "sessions") -> icalendar.Calendar:
    """One VCALENDAR with the week of every site of a district (LOCATION tells them apart)."""
    sites = [s for s in plan.sites if s.district_id == district_id]
    if not sites:
        raise ExportError(f"district {district_id!r} has no site in the plan of {plan.week}")
    ids = {s.id for s in sites}
    placements = [p for p in plan.placements if p.site_id in ids]
    events = build_events(plan, placements, previous, detail)
    gone = cancelled_events(plan, previous, events)
    return assemble(plan, district_calendar_name(plan, unit_title(sites[0]), detail), events, gone)


def to_bytes(cal: icalendar.Calendar, made: dict[int, tuple] | None = None) -> bytes:
    """`cal.to_ical()`, byte for byte, faster: each component (VTIMEZONE, VEVENT) is serialised by
    icalendar once and its bytes kept in `made` (by object), so an event shared by a site's and its
    district's calendar is serialised once; and a line shorter than the fold limit skips the
    library's character-by-character folding (it comes out unchanged). Together they were two
    thirds of a province's export. `made` holds each component with its bytes, so no other
    object can take its id while the bytes are kept."""
    made = {} if made is None else made
    own = [cal.content_line(name, value) for name, value in cal.property_items(recursive=False)]
    parts = [_joined(own[:-1])]  # BEGIN:VCALENDAR and the calendar's properties
    for sub in cal.subcomponents:
        if id(sub) not in made:
            made[id(sub)] = (sub, _joined(sub.content_lines()))
        parts.append(made[id(sub)][1])
    parts.append(_joined(own[-1:]))  # END:VCALENDAR
    return b"".join(parts)


def _joined(lines) -> bytes:
    """Content lines as icalendar writes them (folded, CRLF after each)."""
    out = []
    for line in lines:
        if line:
            raw = line.encode("utf-8")
            out.append(raw if len(raw) < _FOLD_AT and "\n" not in line else line.to_ical())
    return b"\r\n".join(out) + b"\r\n" if out else b""


_FOLD_AT = 75  # RFC 5545 3.1: lines of more than 75 octets are folded
