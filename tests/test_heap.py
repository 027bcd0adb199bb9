"""The garbage-collector guards around large indexes."""

from __future__ import annotations

import gc

from infrabot.heap import bulk_build, retire
from infrabot.inventory import Index, load_inventory
from tests.conftest import PSF_INVENTORY


def test_bulk_build_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with bulk_build():
        assert not gc.isenabled()
        made = [[] for _ in range(10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)
    gc.unfreeze()


async def test_retire_frees_an_index_piece_by_piece() -> None:
    index = Index(load_inventory(PSF_INVENTORY))
    assert index.services.find("pypi") is not None
    await retire(index, grace=0)
    assert index.services.find("pypi") is None
    assert index.inventory.services == ()
    assert index.services.entries == []
