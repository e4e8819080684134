"""The steps `loa plan` chains: week and site selection errors are clear; sync groups stay whole."""
from __future__ import annotations

import pytest

from scheduler.errors import DataError
from scheduler.pipeline import check_week, plan_and_write, select_sites

from model_helpers import WEEK, dataset, policy, segment, site


def test_week_is_normalised_and_typos_are_clear():
    assert check_week("2024-w9") == "2024-W09"
    with pytest.raises(DataError, match="an ISO week like 2024-W10"):
        check_week("2024-10")


def test_selecting_a_site_brings_its_sync_group_and_unknown_ids_are_named():
    ds = dataset(sites=[site("a", sync_group="g"), site("b", sync_group="g", area="c2"), site("c", area="c2")])
    assert select_sites(ds, sites=("a",)) == {"a", "b"}
    assert select_sites(ds, districts=("c2",)) == {"b", "c", "a"}
    assert select_sites(ds) is None
    with pytest.raises(DataError) as err:
        select_sites(ds, districts=("nowhere",), sites=("zz",))
    assert "--district" in str(err.value) and "--site" in str(err.value)


def test_plan_and_write_verifies_then_writes(tmp_path):
    ds = dataset(segments=[segment("a")], pol=policy(broadcast_days=["mon"]))
    outcome = plan_and_write(ds, WEEK, tmp_path, workers=1)
    assert outcome.plan_path == tmp_path / "audio_manifests" / WEEK / "plan.json"
    assert outcome.plan_path.exists() and outcome.infeasible == {}
