"""Look-alike letters fold like the letters they stand for, in lookups and in the clash check."""

from __future__ import annotations

import random

import pytest

from infrabot.errors import InventoryError
from infrabot.inventory import Index, parse_inventory
from infrabot.inventory.names import normalize, normalize_all
from tests.inventory.test_malformed import GOOD

BOLD_PYPI = "\U0001d40f\U0001d432\U0001d40f\U0001d408"  # PyPI in mathematical bold letters
FULLWIDTH_PYPI = "\uff30\uff59\uff30\uff29"  # PyPI in fullwidth letters


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inventory.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("lookalike", [BOLD_PYPI, FULLWIDTH_PYPI])
def test_a_lookalike_name_is_the_same_name(lookalike: str) -> None:
    assert normalize(lookalike) == "pypi"
    assert problems(GOOD + f"  - name: {lookalike}\n") == [
        f"inventory.yaml:31: services[{lookalike}].name: duplicate service name '{lookalike}'"
    ]


@pytest.mark.parametrize("lookalike", [BOLD_PYPI, FULLWIDTH_PYPI])
def test_a_lookalike_alias_clashes(lookalike: str) -> None:
    assert problems(GOOD + f"  - name: Warehouse\n    aliases: ['{lookalike}']\n") == [
        f"inventory.yaml:32: services[Warehouse].aliases[0]: '{lookalike}' of Warehouse clashes "
        "with PyPI, which has the same name"
    ]


@pytest.mark.parametrize("lookalike", [BOLD_PYPI, FULLWIDTH_PYPI])
def test_a_lookalike_finds_what_it_looks_like(lookalike: str) -> None:
    index = Index(parse_inventory(GOOD))
    assert index.services.find(lookalike) is index.services.find("pypi") is not None


def test_normalize_all_matches_normalize_on_compatibility_letters() -> None:
    rng = random.Random(5)
    alphabet = "aZ -" + BOLD_PYPI + FULLWIDTH_PYPI + "\u01c5\u212a\u017f\u0130\u1e9e\u2460é"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(5000)]
    assert normalize_all(texts) == [normalize(t) for t in texts]
    assert normalize("\u01c5emal") == "dzemal"  # Dž folds, and its caron goes
