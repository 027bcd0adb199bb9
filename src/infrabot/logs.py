"""The bot's logging: one handler on stderr, secrets hidden from every record, libraries quiet.

Lines are text for people, or (``log_format: json``) one JSON object a line for machines:
``time``, ``level``, ``logger``, ``message``, and the fields of the event when it has them
(:data:`EVENT_FIELDS`, passed as ``extra=`` by the code that logs it).

Secrets are hidden when a record is made, before any handler sees it, so every handler gets
the same redacted text: the bot's own, one a test or an operator adds later, Python's last
resort. A record's message is formatted there and then, and its traceback too, so nothing
(not even an exception's arguments) reaches a handler unredacted.

Libraries (irc, jaraco, nio, aiohttp, asyncio, ...) log below WARNING only on request
(``log_libraries: true`` or ``--log-libraries``): their debug output is raw protocol, where
credentials travel.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from pydantic import BaseModel, SecretStr

from infrabot.config import Config
from infrabot.redact import Redactor

__all__ = [
    "EVENT_FIELDS",
    "OWN_LOGGERS",
    "JsonFormatter",
    "LogSetup",
    "redactor_for",
    "setup_logging",
]

OWN_LOGGERS = ("infrabot", "infrabot_plugins")
"""Loggers that log at the configured level; every other one is a library's."""

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

EVENT_FIELDS = ("network", "room", "command", "outcome", "duration", "page_id")
"""The fields of an event a JSON line carries when the record has them (``extra=``)."""

# (section path, user field, password field): logins whose base64 payloads must be hidden
_LOGINS = (
    (("irc",), "sasl_username", "sasl_password"),
    (("paging", "smtp"), "username", "password"),
)


def _secret_values(value: object) -> Iterator[str]:
    """Every ``SecretStr`` inside a settings model, however deeply nested."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_values(item)


def _section(config: Config, path: tuple[str, ...]) -> object:
    section: object = config
    for name in path:
        section = getattr(section, name, None)
    return section


def redactor_for(config: Config) -> Redactor:
    """A redactor that knows every secret in ``config`` and the logins they belong to."""
    redactor = Redactor(_secret_values(config))
    for path, user_field, password_field in _LOGINS:
        section = _section(config, path)
        password = getattr(section, password_field, None)
        if isinstance(password, SecretStr):
            user = getattr(section, user_field, None) or ""
            redactor.add_login(str(user), password.get_secret_value())
    return redactor


def _redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Rewrite ``record`` in place: its message, traceback and stack, redacted and final."""
    try:
        message = record.getMessage()
    except Exception:  # bad arguments: keep what can be shown, never raise from logging
        message = f"{record.msg!s} (arguments: {record.args!r})"
    record.msg = redactor.redact(message)
    record.args = None
    if record.exc_info and record.exc_info != (None, None, None):
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redactor.redact(record.exc_text)
    record.exc_info = None  # the exception object still holds the raw values
    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, and the event's fields.

    The message and traceback were redacted when the record was made; the event's fields
    arrive after that (``extra=``), so they are redacted here.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        """``record`` as one line of JSON."""
        when = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redactor.redact(record.getMessage()),
        }
        for name in EVENT_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, bool | int | float):
                entry[name] = round(value, 6) if isinstance(value, float) else value
            elif value is not None:
                entry[name] = self._redactor.redact(str(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = self._redactor.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self._redactor.redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


@dataclass
class LogSetup:
    """Logging as :func:`setup_logging` left it; :meth:`close` puts back what was before."""

    redactor: Redactor
    handler: logging.Handler
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Remove the handler and the redaction hook, restore levels and exception hooks."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


def setup_logging(
    config: Config, *, quiet: bool = False, libraries: bool = False, stream: TextIO | None = None
) -> LogSetup:
    """Log to ``stream`` (stderr) at ``config.log_level`` (WARNING when ``quiet``), redacted.

    Libraries log below WARNING only when ``libraries`` or ``config.log_libraries`` asks.
    Uncaught exceptions and warnings go through logging too, so they are redacted as well.
    """
    redactor = redactor_for(config)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    json_lines = config.log_format == "json"
    handler.setFormatter(JsonFormatter(redactor) if json_lines else logging.Formatter(FORMAT))
    setup = LogSetup(redactor, handler)
    level = logging.WARNING if quiet else logging.getLevelName(config.log_level)
    wanted = libraries or config.log_libraries
    root = logging.getLogger()
    _set_level(setup, root, level if wanted else max(level, logging.WARNING))
    for name in OWN_LOGGERS:
        _set_level(setup, logging.getLogger(name), level)
    root.addHandler(handler)
    setup._undo.append(lambda: root.removeHandler(handler))
    _install_record_hook(setup, redactor)
    _install_exception_hooks(setup)
    logging.captureWarnings(True)
    setup._undo.append(lambda: logging.captureWarnings(False))
    return setup


def _set_level(setup: LogSetup, logger: logging.Logger, level: int) -> None:
    previous = logger.level
    logger.setLevel(level)
    setup._undo.append(lambda: logger.setLevel(previous))


def _install_record_hook(setup: LogSetup, redactor: Redactor) -> None:
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record, redactor)
        return record

    logging.setLogRecordFactory(make_record)
    setup._undo.append(lambda: logging.setLogRecordFactory(previous))


def _install_exception_hooks(setup: LogSetup) -> None:
    log = logging.getLogger("infrabot")
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def sys_hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_sys(kind, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
        name = args.thread.name if args.thread else "a thread"
        log.critical("uncaught exception in %s", name, exc_info=exc_info)

    sys.excepthook, threading.excepthook = sys_hook, thread_hook

    def undo() -> None:
        sys.excepthook, threading.excepthook = previous_sys, previous_thread

    setup._undo.append(undo)
