"""One family of user-facing errors; the CLI maps each class to an exit code."""
from __future__ import annotations

from dataclasses import dataclass

from .limits import MAX_PROBLEMS


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough for a planner to fix it."""

    file: str
    line: int | str | None  # CSV line number (1 = header), TOML key, or None for the whole file
    field: str | None
    value: object
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.field:
            parts.append(f"field '{self.field}'")
        if self.value is not None and self.value != "":
            parts.append(f"value {self.value!r}")
        return ": ".join([", ".join(parts), self.expected])


class LoaError(Exception):
    """Base of every error a user may see; the message is meant to be printed as is."""

    exit_code = 1

    def __reduce__(self):
        # pickled as made (a forked task or a Dask worker hands its error back): the subclasses'
        # __init__ format the message, so it must not run twice
        return (_rebuilt, (type(self), str(self), self.__dict__))


def _rebuilt(cls: type[LoaError], message: str, state: dict) -> LoaError:
    exc = Exception.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


class DataError(LoaError):
    """The dataset (or a setting) is invalid; carries every problem found, not just the first.

    At most MAX_PROBLEMS are kept and printed, so a huge broken file cannot flood memory or the
    terminal; `more` counts the problems found beyond them.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, more: int = 0):
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, field=None, value=None, expected=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        problems = list(problems)
        self.problems = problems[:MAX_PROBLEMS]
        self.more = more + len(problems) - len(self.problems)
        lines = [f"  - {p}" for p in self.problems]
        total = len(self.problems) + self.more
        if self.more:
            lines.append(f"  … and {self.more:,} more")
        head = f"{total:,} problem(s) in the input:" if total > 1 else "invalid input:"
        super().__init__("\n".join([head] + lines))


class BusyError(LoaError):
    """Another loa run holds the lock of the output folder: a second run would mix two plans."""

    exit_code = 2


class BugError(LoaError):
    """Something only a bug in loa can cause (a solved plan breaking a rule, an invalid model)."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(f"{message}\nThis is a bug in loa: please report it, with the command you ran "
                         "(nothing was written).")


class InfeasibleError(LoaError):
    """Some units cannot be planned; `conflicts` maps a unit to its conflicting requirements."""

    exit_code = 3

    def __init__(self, conflicts: dict[str, list[str]]):
        self.conflicts = conflicts
        lines = []
        for unit, reasons in conflicts.items():
            lines.append(f"{unit}:")
            lines.extend(f"  - {r}" for r in reasons)
        super().__init__("no schedule satisfies every requirement:\n" + "\n".join(lines))


class ExportError(LoaError):
    """An output could not be produced (missing/unreadable audio, unwritable folder, ...)."""

    exit_code = 4
