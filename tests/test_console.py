"""The interactive console: line editing with prompt_toolkit, and history kept across sessions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from infrabot.messages import IncomingMessage, Reply
from infrabot.transports.console import ConsoleTransport


class Terminal(io.StringIO):
    """Standard input that says it is a terminal, so the console uses prompt_toolkit."""

    def isatty(self) -> bool:
        return True


async def test_prompt_reads_lines_and_keeps_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    seen: list[IncomingMessage] = []
    out = io.StringIO()
    console = ConsoleTransport(stdin=Terminal(), stdout=out)

    async def deliver(message: IncomingMessage) -> None:
        seen.append(message)
        await console.send(Reply(room=message.room, lines=(f"got {message.text}",)))

    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("owner pypi\r!dc iad1\r")
        pipe.close()  # end of input, like Ctrl-D
        await console.run(deliver)
    assert [m.text for m in seen] == ["owner pypi", "!dc iad1"]
    assert seen[0].room.private and seen[0].sender.account == seen[0].sender.name
    assert "infrabot> got owner pypi" in out.getvalue()
    history = (tmp_path / "infrabot" / "console_history").read_text()
    assert "+owner pypi" in history and "+!dc iad1" in history
