"""Admins and paging on a real InspIRCd with Atheme: accounts decide, nicks never do."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from irc_e2e_bot import ADA, ALICE, CHANNEL, LEAD, BotFactory
from irc_e2e_client import from_bot
from irc_e2e_servers import IrcServers

from infrabot.config import AdminsConfig, PagingConfig

pytestmark = pytest.mark.e2e

PSF = Path(__file__).resolve().parents[3] / "inventory.yaml"

ON_CALL = """\
version: 1
team: Infra
people:
  - name: Ada
    contact: {irc_nick: ada, irc_account: ada, matrix_id: "@ada:localhost"}
  - name: Lead
    contact: {irc_nick: lead, irc_account: lead}
groups:
  - name: Infra
    kind: team
    lead: Lead
    members: [{person: Lead}, {person: Ada}]
services:
  - name: PyPI
    owners: [Ada]
"""


async def test_account_admin_reloads_and_nick_impostor_is_refused(
    irc_servers: IrcServers, start_bot: BotFactory, clients, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory.yaml"
    shutil.copy(PSF, inventory)
    config = {"inventory": inventory, "admins": AdminsConfig(irc=["alice"])}
    _bot, impostor = await asyncio.gather(
        start_bot(irc_servers.port, config=config), clients("alice", irc_servers.port)
    )
    await impostor.join(CHANNEL)
    impostor.say(CHANNEL, "!reload")
    line = await impostor.wait_for(from_bot(CHANNEL, "alice: "))
    assert line.text == "alice: sorry, !reload is for admins only"
    await impostor.close()

    text = inventory.read_text()
    start, end = text.index("  - name: ximinez"), text.index("\nservices:")
    inventory.write_text(text[:start] + text[end + 1 :])
    alice = await clients("alice", irc_servers.port, sasl=ALICE)
    await alice.join(CHANNEL)
    alice.say(CHANNEL, "!reload")
    line = await alice.wait_for(from_bot(CHANNEL, "alice: "))
    assert line.text == "alice: reloaded: −1 host (ximinez)"
    alice.say(CHANNEL, "!host ximinez")
    line = await alice.wait_for(from_bot(CHANNEL, "alice: no host"))
    assert line.text.startswith("alice: no host 'ximinez'")

    inventory.write_text("services: [")  # broken: the bot keeps what it had
    mark = len(alice.lines)
    alice.say(CHANNEL, "!reload")
    line = await alice.wait_for(from_bot(CHANNEL, "alice: reload failed"), start=mark)
    assert "still serving the previous inventory: 1 error" in line.text
    private = await alice.wait_for(from_bot("alice", str(inventory)), start=mark)
    assert private.text.startswith(f"{inventory}:1: YAML syntax error")
    alice.say(CHANNEL, "!owner pypi")
    line = await alice.wait_for(from_bot(CHANNEL, "alice: PyPI"), start=mark)
    assert "Ernest W. Durbin III" in line.text

    mark = len(alice.lines)
    alice.say("infrabot", "audit 3")
    refused = await alice.wait_for(from_bot("alice", ""), start=mark)
    lines = [refused]
    for _ in range(2):  # three entries, newest first, at the flood-control pace
        lines.append(
            await alice.wait_for(from_bot("alice", ""), start=alice.lines.index(lines[-1]) + 1)
        )
    texts = [ln.text.split(" ", 2)[2] for ln in lines]
    assert texts[0].startswith("alice (alice) on irc: !reload → reload failed")
    assert texts[1] == "alice (alice) on irc: !reload → reloaded: −1 host (ximinez)"
    assert (
        texts[2]
        == "alice (not identified) on irc: !reload → REFUSED sorry, !reload is for admins only"
    )


async def test_page_text_goes_to_the_account_not_to_whoever_holds_the_nick(
    irc_servers: IrcServers, start_bot: BotFactory, clients, tmp_path: Path
) -> None:
    inventory = tmp_path / "on-call.yaml"
    inventory.write_text(ON_CALL)
    config = {"inventory": inventory, "paging": PagingConfig(escalate_after=2.0)}
    # Ada's recorded nick "ada" is held by an unidentified client; Ada herself is logged in to
    # her account "ada" under another nick
    _bot, alice, impostor, ada, lead = await asyncio.gather(
        start_bot(irc_servers.port, config=config),
        clients("alice", irc_servers.port, sasl=ALICE),
        clients("ada", irc_servers.port),
        clients("ada_away", irc_servers.port, sasl=ADA),
        clients("lead", irc_servers.port, sasl=LEAD),
    )
    await asyncio.gather(*(c.join(CHANNEL) for c in (alice, impostor, ada, lead)))
    alice.say(CHANNEL, "!page pypi uploads failing")
    direct = await ada.wait_for(from_bot("ada_away", "PAGE "))
    page_id = direct.text.split()[1]
    assert direct.text.startswith(f"PAGE {page_id} for PyPI: uploads failing (asked by alice")
    # the channel highlight goes out after the private messages of the step, on one socket
    highlight = await impostor.wait_for(from_bot(CHANNEL, "PAGE "))
    assert highlight.text == (
        f"PAGE {page_id} for PyPI: uploads failing · the owners of PyPI: ada · "
        f"!ack {page_id} to acknowledge"
    )
    assert not [line for line in impostor.lines if from_bot("ada", "PAGE ")(line)]
    impostor.say(CHANNEL, f"!ack {page_id}")  # holds the nick, not the account: refused
    refused = await impostor.wait_for(from_bot(CHANNEL, "ada: only the people paged"))
    assert page_id in refused.text
    # nobody acknowledges: after 2 s the page climbs to the team lead, messaged by account
    escalated = await lead.wait_for(from_bot("lead", "PAGE "), within=15)
    assert escalated.text.startswith(f"PAGE {page_id} for PyPI")
    lead.say(CHANNEL, f"!ack {page_id}")
    acked = await lead.wait_for(from_bot(CHANNEL, f"lead: acknowledged {page_id}"))
    assert "escalation stopped" in acked.text
