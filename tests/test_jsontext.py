"""The JSON layout of plan.json and the day manifests (scheduler/jsontext.py)."""
from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.jsontext import json_text


_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
_json_values = st.recursive(_json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                  st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                            max_leaves=8)


@settings(max_examples=int(os.environ.get("LOA_HYPOTHESIS_EXAMPLES", "200")), deadline=None)
@given(fields=st.dictionaries(st.text(max_size=8), _json_values, max_size=4),
       records=st.lists(st.dictionaries(st.text(max_size=6), _json_values, max_size=3), max_size=4))
def test_json_layout_reads_back_the_same_with_one_record_per_line(fields, records):
    """plan.json and the manifests: any content (Vietnamese, quotes, newlines in strings) reads
    back equal, and each record of a record list is one line of the file."""
    data = {**fields, "items": records}
    text = json_text(data, ("items",))
    assert json.loads(text) == data
    assert text.endswith("}\n")
    lines = text.split("\n")
    if not records:
        assert ' "items": []' in lines or ' "items": [],' in lines
        return
    start = lines.index(' "items": [')
    for n, record in enumerate(records):
        assert json.loads(lines[start + 1 + n].strip().rstrip(",")) == record
