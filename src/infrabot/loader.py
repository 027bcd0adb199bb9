"""Find plugins in folders and installed packages, and register their commands per plugin.

Commands are kept per plugin module, so a plugin set can be rebuilt (reloaded) as a whole and
swapped in one step; a module that fails to import is reported and left out, never fatal.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from infrabot.plugin import CommandSpec, spec_of

__all__ = ["ENTRY_POINT_GROUP", "PluginSet", "builtin_plugin_dir", "load_plugins"]

ENTRY_POINT_GROUP = "infrabot.plugins"
"""Installed packages add plugin modules under this entry-point group."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginSet:
    """The commands of every loaded plugin, and what went wrong loading the others."""

    plugins: Mapping[str, tuple[CommandSpec, ...]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @functools.cached_property
    def commands(self) -> dict[str, CommandSpec]:
        """Every command by each of its names (name and aliases), lower case.

        Built once per plugin set: the router looks a command up on every message.
        """
        table: dict[str, CommandSpec] = {}
        for specs in self.plugins.values():
            for spec in specs:
                for name in spec.names:
                    table.setdefault(name, spec)
        return table

    @functools.cached_property
    def specs(self) -> list[CommandSpec]:
        """Every command once, sorted by name."""
        return sorted((s for specs in self.plugins.values() for s in specs), key=lambda s: s.name)


def builtin_plugin_dir() -> Path:
    """The plugins shipped with infrabot: inside the wheel, or ``plugins/`` of a checkout."""
    bundled = Path(__file__).parent / "builtin_plugins"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[2] / "plugins"


def load_plugins(folders: Sequence[Path], *, installed: bool = True) -> PluginSet:
    """Import every ``*.py`` in ``folders`` (and entry points if ``installed``)."""
    modules: list[tuple[str, ModuleType]] = []
    errors: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            errors.append(f"plugin folder {folder} does not exist")
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                modules.append((path.stem, _import_file(path)))
            except Exception as exc:  # a broken plugin must not stop the others
                log.exception("plugin %s failed to import", path)
                errors.append(f"plugin {path.stem}: {type(exc).__name__}: {exc}")
    if installed:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                modules.append((ep.name, importlib.import_module(ep.value)))
            except Exception as exc:
                log.exception("plugin %s failed to import", ep.name)
                errors.append(f"plugin {ep.name}: {type(exc).__name__}: {exc}")
    plugins, clashes = _register(modules)
    return PluginSet(plugins=plugins, errors=(*errors, *clashes))


def _import_file(path: Path) -> ModuleType:
    """Import ``path`` afresh under ``infrabot_plugins.<stem>`` (re-imports replace it)."""
    name = f"infrabot_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and typing look the module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise
    return module


def _register(
    modules: Iterable[tuple[str, ModuleType]],
) -> tuple[dict[str, tuple[CommandSpec, ...]], list[str]]:
    plugins: dict[str, tuple[CommandSpec, ...]] = {}
    taken: dict[str, str] = {}
    clashes: list[str] = []
    for plugin, module in modules:
        specs: list[CommandSpec] = []
        for value in vars(module).values():
            spec = spec_of(value)
            if spec is None or getattr(value, "__module__", None) != module.__name__:
                continue  # not a command, or one imported from another module
            clash = [n for n in spec.names if n in taken]
            if clash:
                clashes.append(
                    f"plugin {plugin}: command name '{clash[0]}' is already taken by plugin "
                    f"{taken[clash[0]]}; skipped"
                )
                continue
            for name in spec.names:
                taken[name] = plugin
            specs.append(replace(spec, plugin=plugin))
        if specs:
            plugins[plugin] = tuple(specs)
    return plugins, clashes
