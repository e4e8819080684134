"""The objective's terms, each defined once: `model.add_objective` optimises them and
`explain.score_breakdown` reports them, so "why here" is exactly what was optimised.

Weights come from the policy (`Weights`); `scale` is the unit's population / 1,000, so the
secondary terms weigh the same per inhabitant whatever the unit's size.
"""
from __future__ import annotations

from ..domain import Weights

TERMS = ("reach", "spread_dayparts", "spread_days", "variety", "delay", "optional_relay", "stability")


def reach(w: Weights, priority: int, listeners: float) -> float:
    """Expected listeners of a PAR play (the audience of the bin it fills), times its priority."""
    return w.reach * priority * listeners


def spread_dayparts(w: Weights, scale: float) -> float:
    """Bonus for each window (daypart) in which a segment airs at least once in the week."""
    return w.spread_dayparts * scale


def spread_days(w: Weights, scale: float) -> float:
    """Penalty for a segment airing on two consecutive days (the same people hear it twice)."""
    return -w.spread_days * scale


def variety(w: Weights, scale: float) -> float:
    """Bonus for each PAR topic the unit airs in the week."""
    return w.variety * scale


def delay(w: Weights, scale: float, minutes: int) -> float:
    """Penalty per minute a deferred relay airs after its source time."""
    return -w.delay * scale * minutes


def optional_relay(w: Weights, listeners: float) -> float:
    """Value of carrying an optional relay: its expected listeners."""
    return w.optional_relay * listeners


def stability(w: Weights, scale: float) -> float:
    """Bonus, in a re-plan, for each item left where the previous plan had it (the same day, in the
    same stretch of a session): a change must gain more than this to move what people expect."""
    return w.stability * scale
