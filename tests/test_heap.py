"""The garbage-collector guards around large indexes."""

from __future__ import annotations

import contextlib
import gc
import weakref

from infrabot.errors import InventoryError
from infrabot.heap import gc_paused, retire
from infrabot.inventory import Index, load_inventory, parse_inventory
from tests.conftest import PSF_INVENTORY


def test_gc_paused_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused(freeze=True):
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


class _Garbage:
    """Something a failed build leaves behind in a reference cycle."""

    def __init__(self) -> None:
        self.me = self


def test_a_failed_build_freezes_nothing() -> None:
    # what a failed load leaves in cycles is garbage; frozen, the collector would never see it
    frozen = gc.get_freeze_count()
    witness: list[weakref.ref[_Garbage]] = []
    with contextlib.suppress(ValueError), gc_paused(freeze=True):
        left = _Garbage()
        witness.append(weakref.ref(left))
        del left
        raise ValueError("refused")
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    gc.collect()
    assert witness[0]() is None


def test_a_refused_file_leaves_no_cycles_behind() -> None:
    # all of a refused file is freed at once by reference counting: after a refused reload the
    # collector may stay paused or frozen, and nothing of it should wait for a collection
    text = PSF_INVENTORY.read_text().replace(", kind: vm}", ", kind: container}", 1)
    assert "container" in text
    gc.collect()
    gc.disable()
    try:
        with contextlib.suppress(InventoryError):
            parse_inventory(text, "inventory.yaml")
        unreachable = gc.collect()
    finally:
        gc.enable()
    assert unreachable == 0


def test_an_inner_pause_neither_resumes_the_collector_nor_loses_its_freeze() -> None:
    # a reload loads a file which builds an index: each pauses; the outermost decides
    frozen = gc.get_freeze_count()
    with gc_paused(freeze=False):
        with gc_paused(freeze=True):
            made = [[] for _ in range(10)]
        assert not gc.isenabled()  # the inner build ending does not resume collection
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)  # the inner request was kept
    gc.unfreeze()


def test_a_failed_inner_build_asks_for_no_freeze() -> None:
    frozen = gc.get_freeze_count()
    with gc_paused(), contextlib.suppress(ValueError), gc_paused(freeze=True):
        raise ValueError("refused")
    assert gc.isenabled() and gc.get_freeze_count() == frozen
