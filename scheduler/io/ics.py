"""iCalendar files (relays.ics, blackouts.ics): VEVENTs, their text, times and weekly recurrence."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ..domain import TIMEZONE
from .schema import Problems, nfc
from .text import read_text

_ICS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = weekday, 0 = Monday
LOCAL_TZ = ZoneInfo(TIMEZONE)
_WEEKLY_RULE = "one RRULE:FREQ=WEEKLY;BYDAY=MO,TU,..."
_EVERY_WEEK = "relays repeat every week (use one VEVENT per weekday pattern)"
_WEEKLY_PARTS = ("FREQ", "BYDAY", "INTERVAL", "WKST")  # WKST changes nothing when every week counts


def read_ics(root: Path, name: str, problems: Problems, required: bool) -> list | None:
    """The VEVENTs of an iCalendar file, or None (and a problem) when it cannot be parsed."""
    text = read_text(root, name, problems, required=required)
    if text is None:
        return None
    from icalendar import Calendar

    try:
        return list(Calendar.from_ical(text).walk("VEVENT"))
    except Exception as exc:  # icalendar raises ValueError and friends for any malformed input
        problems.add(name, None, None, None, f"a valid iCalendar file ({str(exc)[:120]})")
        return None


def ics_text(event, key: str) -> str:
    """A property as stripped NFC text ('' when absent; the first one when repeated)."""
    value = event.get(key)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return nfc(str(value).strip())


def local_time(value: Any) -> datetime | None:
    """A DTSTART/DTEND value as naive local wall-clock time (a date is its midnight)."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def weekly_days(event, start: datetime | None, bad: Callable[[str, Any, str], None]) -> tuple[int, ...] | None:
    """The weekdays a VEVENT repeats on, when its recurrence is exactly "these days, every week".

    Accepted: one RRULE with FREQ=WEEKLY (BYDAY, else the weekday of `start`) or FREQ=DAILY
    (BYDAY, else every day), INTERVAL=1 and WKST. Anything else (every other week, a COUNT or
    UNTIL, EXDATE/RDATE exceptions, BYMONTH...) cannot be a weekly pattern: each such part is
    reported through `bad(field, value, expected)` and the result is None.
    """
    from icalendar import vRecur

    exceptions = [key for key in ("EXDATE", "EXRULE", "RDATE") if key in event]
    for key in exceptions:
        props = event[key] if isinstance(event[key], list) else [event[key]]
        bad(key, ",".join(p.to_ical().decode() for p in props), f"no {key}: {_EVERY_WEEK}")
    rules = event.get("RRULE")
    rules = [] if rules is None else rules if isinstance(rules, list) else [rules]
    if len(rules) != 1:
        shown = " | ".join(r.to_ical().decode() for r in rules)
        bad("RRULE", shown, _WEEKLY_RULE if not rules else f"exactly one RRULE, not {len(rules)}: {_EVERY_WEEK}")
        return None
    try:
        parts = {str(k).upper(): list(v) for k, v in rules[0].items()}
    except Exception:  # icalendar keeps an RRULE it cannot parse as a broken property
        bad("RRULE", ics_text(event, "RRULE"), _WEEKLY_RULE)
        return None
    freq = [str(f).upper() for f in parts.get("FREQ", [])]
    if not freq:
        bad("RRULE", rules[0].to_ical().decode(), _WEEKLY_RULE)
        return None
    unsupported = [k for k in parts if k not in _WEEKLY_PARTS]
    if freq not in (["WEEKLY"], ["DAILY"]):
        unsupported.insert(0, "FREQ")
    if parts.get("INTERVAL", [1]) != [1]:
        unsupported.append("INTERVAL")
    for key in unsupported:
        part = vRecur({key: parts[key]}).to_ical().decode()
        bad("RRULE", part, f"RRULE part {part} is not supported: {_EVERY_WEEK}")
    byday = [str(d).upper() for d in parts.get("BYDAY", [])]
    if any(d not in _ICS_DAYS for d in byday):
        bad("RRULE", ",".join(byday), f"BYDAY from {', '.join(_ICS_DAYS)}")
        return None
    if unsupported or exceptions:
        return None
    if byday:
        return tuple(sorted({_ICS_DAYS.index(d) for d in byday}))
    if freq == ["DAILY"]:
        return tuple(range(7))
    return (start.weekday(),) if start is not None else None
