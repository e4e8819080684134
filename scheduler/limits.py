"""Every bound on what enters loa, in one place (documented in docs/dataset-format.md).

Numbers are bounded where they enter so the CP-SAT objective, whose coefficients are integers,
can never overflow: a reach coefficient is at most MAX_WEIGHT x 5 (priority) x the population of
a unit (a site, or a sync group: at most MAX_GROUP_POPULATION) = 5e12, and a unit has far fewer
than 1e5 objective terms, so the objective stays below 5e17, under the 9.2e18 of a 64-bit integer.
Sizes are bounded so a hostile or broken file can neither hang a run nor exhaust memory.
"""
from __future__ import annotations

import re

MAX_POPULATION = 10_000_000  # people within earshot of one site (a large commune has ~100,000)
MAX_GROUP_POPULATION = 100_000_000  # all sites of one sync group together
MAX_WEIGHT = 10_000.0  # any objective weight (defaults: reach 1, the others 0.1 .. 300)
MAX_TIME_BUDGET = 3_600.0  # deterministic seconds of search per unit
MAX_TUNE_SETTINGS = 64  # combinations of swept values `loa tune` plans in one run (each is a whole plan)

MIN_YEAR, MAX_YEAR = 1900, 2999  # years of an ISO week (--week, plan.json, every date in a plan)

MAX_DATASET_FILE_BYTES = 32 * 2**20  # one dataset text file (CSV, TOML, ICS): ~300,000 site rows
MAX_PLAN_BYTES = 512 * 2**20  # plan.json (a province plan is a few MB)
MAX_AUDIO_BYTES = 512 * 2**20  # one audio file (a segment is minutes long)
MAX_PROBLEMS = 200  # problems kept and printed; the rest are only counted
MAX_TITLE_CHARS = 200  # a title or source given to `loa add-item` (it reaches calendars and printed pages)
MAX_BULLETIN_CHARS = 10_000  # a text bulletin to synthesise (~15 min of espeak-ng speech)

# Text that reaches calendars and playlists is single-line: no ASCII control character and nothing
# else str.splitlines() breaks a line on, so a name can never add a line (an iCal property, an
# M3U entry) to an output.
LINE_BREAKING = frozenset(map(chr, [*range(32), 127, 0x85, 0x2028, 0x2029]))
_LINE_BREAKING_RE = re.compile("[" + re.escape("".join(sorted(LINE_BREAKING))) + "]")


def single_line(text: str) -> bool:
    """True when `text` holds no control character or line break (see LINE_BREAKING)."""
    return _LINE_BREAKING_RE.search(text) is None
