"""The JSON layout loa writes (plan.json, day manifests): one top-level field per line and one
entry per line of the record lists, so a diff of two files shows each changed entry as a line.

Each line is made by the C encoder: `json.dumps(indent=…)` is pure Python, and was most of
writing a plan and a third of writing the manifests (measured on the bundled province).
"""
from __future__ import annotations

import json
from typing import Collection, Iterator, Mapping

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def json_lines(data: Mapping[str, object], records: Collection[str]) -> Iterator[str]:
    """The text of `data`, piece by piece; the fields named in `records` are iterables (a
    generator is encoded as it is consumed, so a nation's plan is never held whole)."""
    for n, (key, value) in enumerate(data.items()):
        yield ("{\n " if n == 0 else ",\n ") + _ENCODE(key) + ": "
        if key not in records:
            yield _ENCODE(value)
            continue
        empty = True
        for record in value:  # type: ignore[attr-defined]
            yield ("[\n  " if empty else ",\n  ") + _ENCODE(record)
            empty = False
        yield "[]" if empty else "\n ]"
    yield "\n}\n" if data else "{}\n"


def json_text(data: Mapping[str, object], records: Collection[str]) -> str:
    return "".join(json_lines(data, records))
