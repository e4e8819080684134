"""iCalendar (RFC 5545) per site and per district, with `icalendar`.

Every byte derives from the plan, so two exports of one plan are identical:
- UID = sha1(site, kind, item id, date, occurrence of that item at that site on that date)@loa:
  moving an item within its day keeps its UID, so a re-import updates instead of duplicating;
- SEQUENCE starts at 0 and, when a previous calendar exists at the target path, is raised for
  each event whose DTSTART, DTEND, SUMMARY or STATUS changed (kept otherwise);
- DTSTAMP is Monday 00:00 local time of the planned week (in UTC), never the clock;
- an event of the previous calendar whose UID is no longer planned (a placement dropped, or moved
  to another day) is kept with STATUS:CANCELLED, SEQUENCE + 1 and "[Hủy] " before its SUMMARY, so
  a client that imported the previous file removes it (RFC 5546 PUBLISH). An event already
  cancelled is carried over unchanged while it belongs to the calendar's ISO week, dropped otherwise.
Times are local wall-clock times with TZID=Asia/Ho_Chi_Minh and a VTIMEZONE generated from tzdata.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from ..domain import TIMEZONE, Placement, PlanItem, PlanSite, WeekPlan, week_days
from ..errors import ExportError
from .i18n import language_name
from .levels import unit_title

PRODID = "-//loa//loa-scheduler//VI"
UID_DOMAIN = "loa"
TZ = ZoneInfo(TIMEZONE)
RELAY_CATEGORY = "Tiếp sóng"
CANCELLED_PREFIX = "[Hủy] "


def topic_category(topic: int | None) -> str:
    return f"CCHC chủ đề {topic}" if topic is not None else "CCHC"


def dtstamp(plan: WeekPlan) -> datetime:
    """Monday 00:00 local of the planned week, in UTC: derived from the plan, stable."""
    return datetime.combine(plan.monday, time(0, 0), tzinfo=TZ).astimezone(timezone.utc)


def event_uid(p: Placement, occurrence: int) -> str:
    key = "|".join([p.site_id, p.kind, p.item_id, p.start.date().isoformat(), str(occurrence)])
    return f"{hashlib.sha1(key.encode('utf-8')).hexdigest()}@{UID_DOMAIN}"


def placement_uids(placements) -> dict[Placement, str]:
    """UID of each placement; the occurrence index counts the item's airings that day at that site."""
    seen: dict[tuple, int] = defaultdict(int)
    out = {}
    for p in sorted(placements, key=lambda p: (p.site_id, p.start, p.end, p.kind, p.item_id)):
        key = (p.site_id, p.kind, p.item_id, p.start.date())
        out[p] = event_uid(p, seen[key])
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


def description(item: PlanItem, p: Placement) -> str:
    lines = []
    if item.kind == "relay":
        lines.append(f"Tiếp sóng: {item.source}")
    else:
        lines.append(f"Chủ đề: {topic_category(item.topic)}")
    lines.append(f"Ngôn ngữ: {language_name(item.language)} ({item.language})")
    lines.append(f"Nguồn: {item.source}")
    if item.audio:
        lines.append(f"Tệp âm thanh: {item.audio}")
    if item.stream_url:
        lines.append(f"Luồng: {item.stream_url}")
    elif item.kind == "relay":
        lines.append("Luồng: thu trực tiếp từ máy thu (không có địa chỉ luồng)")
    lines.append(f"Số người nghe dự kiến: {round(p.listeners)}")
    lines.append(f"Mã: {item.kind}/{item.id}")
    return "\n".join(lines)


def _event(plan: WeekPlan, p: Placement, uid: str, site: PlanSite, items, stamp: datetime) -> icalendar.Event:
    try:
        item = items[(p.kind, p.item_id)]
    except KeyError:
        raise ExportError(f"plan {plan.week}: placement of unknown {p.kind} {p.item_id!r} at {p.site_id}") from None
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", stamp)
    ev.add("sequence", 0)
    ev.add("dtstart", _local(p.start))
    ev.add("dtend", _local(p.end))
    ev.add("summary", item.title)
    ev.add("location", site.name)
    ev.add("description", description(item, p))
    ev.add("categories", [RELAY_CATEGORY if p.kind == "relay" else topic_category(item.topic)])
    if item.stream_url:
        ev.add("url", item.stream_url)
    ev.add("status", "CONFIRMED")
    ev.add("transp", "OPAQUE")
    ev.add("x-loa-site", p.site_id)
    ev.add("x-loa-kind", p.kind)
    ev.add("x-loa-item", p.item_id)
    return ev


def build_events(plan: WeekPlan, placements, previous: icalendar.Calendar | None = None) -> dict[Placement, icalendar.Event]:
    """One VEVENT per placement, SEQUENCE set against `previous` (raised only where the event changed)."""
    sites = {s.id: s for s in plan.sites}
    items = {(i.kind, i.id): i for i in plan.items}
    stamp = dtstamp(plan)
    uids = placement_uids(placements)
    old = previous_events(previous)
    events = {}
    for p in placements:
        site = sites.get(p.site_id)
        if site is None:
            raise ExportError(f"plan {plan.week}: placement at unknown site {p.site_id!r}")
        ev = _event(plan, p, uids[p], site, items, stamp)
        if uids[p] in old:
            seq, fingerprint = old[uids[p]]
            ev["sequence"] = icalendar.vInt(seq if fingerprint == _fingerprint(ev) else seq + 1)
        events[p] = ev
    return events


def _dtstart_key(ev) -> datetime:
    v = ev["dtstart"].dt
    return _local(v).replace(tzinfo=None) if isinstance(v, datetime) else datetime.combine(v, time(0, 0))


def assemble(plan: WeekPlan, name: str, events: dict[Placement, icalendar.Event],
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
    cal.add("x-wr-caldesc", f"Lịch phát thanh tuần {plan.week} ({plan.dataset_name})")
    cal.add_component(vtimezone(plan))
    active = sorted(events, key=lambda p: (p.start, p.site_id, p.end, p.kind, p.item_id))
    rows = [(_local(p.start).replace(tzinfo=None), 0, n, events[p]) for n, p in enumerate(active)]
    rows += [(_dtstart_key(ev), 1, uid, ev) for uid, ev in (cancelled or {}).items()]
    for *_, ev in sorted(rows, key=lambda r: r[:3]):
        cal.add_component(ev)
    return cal


def site_calendar_name(plan: WeekPlan, site: PlanSite) -> str:
    return f"{site.name} — lịch phát thanh {plan.week}"


def district_calendar_name(plan: WeekPlan, district_name: str) -> str:
    return f"{district_name} — lịch phát thanh {plan.week}"


def _fingerprint(ev) -> tuple:
    def val(name):
        prop = ev.get(name)
        if prop is None:
            return None
        v = prop.dt if hasattr(prop, "dt") else str(prop)
        if isinstance(v, datetime):
            v = _local(v).replace(tzinfo=None)
        return v

    # STATUS too: a cancelled event planned again must get a higher SEQUENCE to come back
    return (val("dtstart"), val("dtend"), val("summary"), val("status"))


def previous_events(previous: icalendar.Calendar | None) -> dict[str, tuple[int, tuple]]:
    """UID -> (SEQUENCE, (DTSTART, DTEND, SUMMARY, STATUS)) of a previously exported calendar."""
    if previous is None:
        return {}
    out = {}
    for ev in previous.walk("VEVENT"):
        uid = str(ev.get("uid", ""))
        if uid:
            out[uid] = (int(ev.get("sequence", 0)), _fingerprint(ev))
    return out


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
        for name in ("x-loa-site", "x-loa-kind", "x-loa-item"):
            if old.get(name) is not None:
                ev.add(name, str(old[name]))
        out[uid] = ev
    return out


def read_previous(path: Path) -> icalendar.Calendar | None:
    """The calendar previously exported at `path`, or None; an unreadable one is an error."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        previous_events(cal)  # reads every value: "broken" properties raise here
        return cal
    except Exception as exc:  # icalendar raises ValueError and friends
        raise ExportError(
            f"{path}: the previous calendar cannot be read ({exc}); it is needed to keep SEQUENCE "
            "numbers — fix or delete it and export again") from None


def site_calendar(plan: WeekPlan, site_id: str, previous: icalendar.Calendar | None = None) -> icalendar.Calendar:
    """One VCALENDAR with every placement of one loudspeaker system in the week."""
    try:
        site = plan.site(site_id)
    except KeyError:
        raise ExportError(f"site {site_id!r} is not in the plan of {plan.week}") from None
    placements = [p for p in plan.placements if p.site_id == site_id]
    events = build_events(plan, placements, previous)
    gone = cancelled_events(plan, previous, (str(ev["uid"]) for ev in events.values()))
    return assemble(plan, site_calendar_name(plan, site), events, gone)


def district_calendar(plan: WeekPlan, district_id: str, previous: icalendar.Calendar | None = None) -> icalendar.Calendar:
    """One VCALENDAR with the placements of every site of a district (LOCATION tells them apart)."""
    sites = [s for s in plan.sites if s.district_id == district_id]
    if not sites:
        raise ExportError(f"district {district_id!r} has no site in the plan of {plan.week}")
    ids = {s.id for s in sites}
    placements = [p for p in plan.placements if p.site_id in ids]
    events = build_events(plan, placements, previous)
    gone = cancelled_events(plan, previous, (str(ev["uid"]) for ev in events.values()))
    return assemble(plan, district_calendar_name(plan, unit_title(sites[0])), events, gone)


def to_bytes(cal: icalendar.Calendar) -> bytes:
    return cal.to_ical()
