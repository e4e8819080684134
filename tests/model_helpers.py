"""Small in-memory datasets for planner tests: pure domain objects, no files, no audio."""
from __future__ import annotations

from pathlib import Path

from scheduler.domain import (
    Area, AudienceProfile, Blackout, CurvePoint, Dataset, Relay, Segment, Site,
)
from scheduler.policy import policy_from_tree

WEEK = "2024-W10"  # Mon 4 March .. Sun 10 March 2024, no public holiday


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def curve(*points: tuple[str, float]) -> tuple[CurvePoint, ...]:
    return tuple(CurvePoint("clock", hm(t), v) for t, v in points)


FLAT_EVENING = curve(("00:00", 0.1), ("06:00", 0.2), ("18:00", 0.8), ("20:00", 0.1))


def profile(pid: str = "p", points=FLAT_EVENING) -> AudienceProfile:
    return AudienceProfile(pid, "Hồ sơ thử", {k: points for k in ("weekday", "sunday", "market", "holiday")})


def site(sid: str = "s1", population: int = 1000, languages=("vi",), kind: str = "rural",
         sync_group: str | None = None, area: str = "c1", profile_id: str = "p") -> Site:
    return Site(sid, f"Xã {sid}", area, kind, "wired", population, tuple(languages), profile_id,
                sync_group=sync_group)


def relay(rid: str, start: str, minutes: int, mode: str = "live", mandatory: bool = True,
          days=range(7), max_delay: int = 0, language: str = "vi", site_kinds=("urban", "rural")) -> Relay:
    return Relay(rid, "VOV1", f"Thời sự {start}", tuple(days), hm(start), minutes * 60, mode, max_delay,
                 mandatory, language, site_kinds=tuple(site_kinds))


def segment(sid: str, minutes: int = 3, min_plays: int = 1, max_plays: int = 1, priority: int = 3,
            topic: int = 1, language: str = "vi", **kw) -> Segment:
    return Segment(sid, f"Cải cách hành chính {sid}", topic, language, f"audio/{sid}.ogg", minutes * 60,
                   min_plays, max_plays, priority, **kw)


def policy(**values):
    weights = values.pop("weights", {})
    base = {"windows": {"morning": "06:00-07:00", "evening": "18:00-20:00"}, "quiet_hours": ["21:00-05:00"],
            "time_budget": 2.0, "max_session_minutes": 60, "daily_cap_minutes": 120}
    base.update(values)
    return policy_from_tree({"policy": base, "weights": {"spread_days": 0.0, "spread_dayparts": 0.0,
                                                          "variety": 0.0, **weights}})


def dataset(sites=None, relays=(), segments=(), pol=None, blackouts: tuple[Blackout, ...] = (),
            profiles=None) -> Dataset:
    areas = (Area("prov", "Gia Lai", "province", None), Area("d1", "Chư Sê", "district", "prov", lat=13.7, lon=108.1),
             Area("c1", "Ia Blang", "commune", "d1"), Area("c2", "Ia Hlốp", "commune", "d1"))
    profs = profiles or {"p": profile()}
    return Dataset("test", Path("."), areas, tuple(sites or [site()]), profs, tuple(relays), tuple(segments),
                   tuple(blackouts), pol or policy())
