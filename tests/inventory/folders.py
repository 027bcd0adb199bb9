"""Writing an inventory out as a folder of parts, for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SECTIONS = ("people", "groups", "providers", "datacenters", "hosts", "services")


def split(source: Path, folder: Path, *, per_part: int = 10) -> list[Path]:
    """Write the inventory in ``source`` as parts under ``folder``: ``team`` and the people in
    ``people.yaml``, every other section in parts of ``per_part`` entries
    (``services/0003.yaml``). Returns the parts written."""
    data: dict[str, Any] = yaml.safe_load(source.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "people.yaml"]
    head = {k: data[k] for k in ("team", "people") if k in data}
    written[0].write_text(yaml.safe_dump(head, sort_keys=False, allow_unicode=True))
    for section in SECTIONS[1:]:
        items = data.get(section) or []
        for n, start in enumerate(range(0, len(items), per_part)):
            path = folder / section / f"{n:04d}.yaml"
            path.parent.mkdir(exist_ok=True)
            chunk = {section: items[start : start + per_part]}
            path.write_text(yaml.safe_dump(chunk, sort_keys=False, allow_unicode=True))
            written.append(path)
    return written
