"""Plain questions map to the command that answers them, on the PSF inventory and on one
with other names; sentences that are not questions the bot knows map to nothing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrabot.inventory import Index, load_inventory
from infrabot.questions import Meaning, looks_like_question, understand
from tests.conftest import PSF_INVENTORY
from tests.other_inventory import other_index  # noqa: F401 (a fixture)

PSF_INDEX = Index(load_inventory(PSF_INVENTORY))  # hypothesis runs without fixtures

COMMANDS = {"owner", "host", "service", "who", "team", "provider", "search", "help", "dc"}

# (what is said, the command, its argument)
OWNER = [
    ("who owns pypi?", "owner", "PyPI"),
    ("Who owns PyPI", "owner", "PyPI"),
    ("who maintains pypi", "owner", "PyPI"),
    ("who runs pypi?", "owner", "PyPI"),
    ("who is responsible for pypi?", "owner", "PyPI"),
    ("who's responsible for the package index?", "owner", "PyPI"),
    ("who do I ask about pypi", "owner", "PyPI"),
    ("who do i talk to about pypi?", "owner", "PyPI"),
    ("who should I contact about pypi", "owner", "PyPI"),
    ("who can I ping about pypi?", "owner", "PyPI"),
    ("who do I talk to about pypi being down", "owner", "PyPI"),
    ("who to ask about pypi", "owner", "PyPI"),
    ("who is the owner of pypi", "owner", "PyPI"),
    ("who are the maintainers of pypi?", "owner", "PyPI"),
    ("pypi's maintainers?", "owner", "PyPI"),
    ("pypi owner", "owner", "PyPI"),
    ("owners of pypi", "owner", "PyPI"),
    ("whose is pypi", "owner", "PyPI"),
    ("pypi is maintained by who?", "owner", "PyPI"),
    ("hey, who looks after pypi.org?", "owner", "PyPI"),
    ("can you tell me who maintains pypi please?", "owner", "PyPI"),
    ("do you know who runs pypi", "owner", "PyPI"),
    ("hi! quick question: who takes care of pypi?", "owner", "PyPI"),
    ("who\u2019s in charge of pypi", "owner", "PyPI"),
    ("WHO OWNS PYPI???", "owner", "PyPI"),
    ("who owns the wiki", "owner", "wiki.python.org"),
    ("who maintains the python wiki?", "owner", "wiki.python.org"),
    ("who runs the mercurial server?", "owner", "hg.python.org"),
    ("who is responsible for the mercurial server?", "owner", "hg.python.org"),
    ("who's the owner of hg", "owner", "hg.python.org"),
    ("who owns the pypy website", "owner", "PyPy website"),
    ("who maintains python.org", "owner", "www.python.org"),
    ("who owns docs.python.org?", "owner", "docs.python.org"),
    ("who can I ask about docs", "owner", "docs.python.org"),
    ("who should I ping about the tracker?", "owner", "bugs.python.org"),
    ("who do I bug about the bug tracker", "owner", "bugs.python.org"),
    ("who runs buildbot", "owner", "Buildbot master"),
    ("who maintains the buildbots?", "owner", "Buildbot master"),
    ("who runs the planet", "owner", "planetpython.org"),
    ("who looks after speed.python.org", "owner", "speed.python.org"),
    ("who handles codespeed?", "owner", "speed.python.org"),
    ("who owns jython.org", "owner", "www.jython.org"),
    ("who maintains the mailing lists", "owner", "mail.python.org"),
    ("who owns dinsdale", "owner", "dinsdale"),
    ("who owns albatross?", "owner", "albatross"),
    ("who owns xyzzy", "owner", "xyzzy"),
    ("who maintains the frobnicator?", "owner", "the frobnicator"),
    # not in the inventory: the command says so ("no service 'the coffee machine'")
    ("who owns the coffee machine", "owner", "the coffee machine"),
    ("who runs infra", "team", "Infrastructure Team"),
]
WHERE = [
    ("where does pypi run?", "service", "PyPI"),
    ("where does pypi run", "service", "PyPI"),
    ("where is pypi hosted?", "service", "PyPI"),
    ("where is pypi running", "service", "PyPI"),
    ("where's pypi hosted", "service", "PyPI"),
    ("where is pypi", "service", "PyPI"),
    ("what hosts pypi?", "service", "PyPI"),
    ("which provider hosts pypi", "service", "PyPI"),
    ("what server is pypi on", "service", "PyPI"),
    ("how is pypi hosted?", "service", "PyPI"),
    ("pypi hosting", "service", "PyPI"),
    ("hosting of pypi", "service", "PyPI"),
    ("where does the wiki run?", "service", "wiki.python.org"),
    ("where is the wiki hosted", "service", "wiki.python.org"),
    ("what hosts the wiki", "service", "wiki.python.org"),
    ("where does the pypy website live", "service", "PyPy website"),
    ("which server hosts legacy.python.org", "service", "legacy.python.org"),
    ("where do the docs run?", "service", "docs.python.org"),
    ("where is the bug tracker hosted?", "service", "bugs.python.org"),
    ("where does mercurial run", "service", "hg.python.org"),
    ("where is python.org hosted?", "service", "www.python.org"),
    ("where does the frobnicator run?", "service", "the frobnicator"),
    ("where is dinsdale", "host", "dinsdale"),
    ("where is albatross hosted", "host", "albatross"),
]
CONFIG = [
    ("how is pypi configured?", "service", "PyPI"),
    ("how is pypi set up", "service", "PyPI"),
    ("how is pypi provisioned?", "service", "PyPI"),
    ("what configures pypi", "service", "PyPI"),
    ("what config management does pypi use?", "service", "PyPI"),
    ("how is osuosl configured", "provider", "OSUOSL"),
    ("what provisions osuosl", "provider", "OSUOSL"),
    ("how are the OSUOSL VMs provisioned", "provider", "OSUOSL"),
    ("how is rackspace managed?", "provider", "Rackspace"),
]
ON_HOST = [
    ("what runs on dinsdale", "host", "dinsdale"),
    ("what's on albatross", "host", "albatross"),
    ("what is on dinsdale?", "host", "dinsdale"),
    ("what\u2019s running on dinsdale?", "host", "dinsdale"),
    ("what does dinsdale run", "host", "dinsdale"),
    ("what does albatross host?", "host", "albatross"),
    ("what is hosted on ximinez", "host", "ximinez"),
    ("which services run on dinsdale?", "host", "dinsdale"),
    ("what lives on albatross", "host", "albatross"),
    ("anything on ximinez?", "host", "ximinez"),
    ("services on dinsdale", "host", "dinsdale"),
    ("what is running on the dinsdale box", "host", "dinsdale"),
    ("what runs on frobbox", "host", "frobbox"),
]
STATUS = [
    ("is ximinez up?", "host", "ximinez"),
    ("is dinsdale down", "host", "dinsdale"),
    ("is albatross alive?", "host", "albatross"),
    ("is ximinez reachable", "host", "ximinez"),
    ("is albatross ok?", "host", "albatross"),
    ("status of albatross", "host", "albatross"),
    ("what is the status of dinsdale?", "host", "dinsdale"),
    ("dinsdale status", "host", "dinsdale"),
    ("is the wiki down", "service", "wiki.python.org"),
    ("is pypi up?", "service", "PyPI"),
    ("isn't pypi working?", "service", "PyPI"),
]
PROVIDERS = [
    ("what does fastly do for us?", "provider", "Fastly"),
    ("what does fastly do", "provider", "Fastly"),
    ("what does XS4ALL do for us", "provider", "XS4ALL"),
    ("what is fastly?", "provider", "Fastly"),
    ("what's gandi", "provider", "Gandi"),
    ("what is dyn for?", "provider", "Dyn"),
    ("what is pingdom used for", "provider", "Pingdom"),
    ("which services use rackspace?", "provider", "Rackspace"),
    ("which services use fastly", "provider", "Fastly"),
    ("what uses fastly?", "provider", "Fastly"),
    ("what is hosted at osuosl", "provider", "OSUOSL"),
    ("what's at xs4all", "provider", "XS4ALL"),
    ("what is hosted by rackspace?", "provider", "Rackspace"),
    ("what runs at digital ocean", "provider", "Digital Ocean"),
    ("what is behind fastly", "provider", "Fastly"),
    ("what is oregon state", "provider", "OSUOSL"),
    ("what does the oregon state open source lab do", "provider", "OSUOSL"),
    ("tell me about upfront systems", "provider", "Upfront Systems"),
    ("what does digitalocean do for us?", "provider", "Digital Ocean"),
    ("what is iad1", "dc", "iad1"),
    ("what is in ams1?", "dc", "ams1"),
]
TEAM = [
    ("who is on the team?", "team", ""),
    ("who's on the team", "team", ""),
    ("who is in the team", "team", ""),
    ("who leads it?", "team", ""),
    ("who leads the team", "team", ""),
    ("who is the team lead?", "team", ""),
    ("who is in charge?", "team", ""),
    ("the team", "team", ""),
    ("team members?", "team", ""),
    ("who is on the infra team?", "team", "Infrastructure Team"),
    ("who's in the infrastructure team", "team", "Infrastructure Team"),
    ("who leads the infrastructure team", "team", "Infrastructure Team"),
    ("who works on infra", "team", "Infrastructure Team"),
    ("how do I reach the infra team?", "team", "Infrastructure Team"),
    ("how do I reach the team?", "team", ""),
    ("what's the mailing list of the team", "team", ""),
    ("how can I contact the infrastructure team", "team", "Infrastructure Team"),
    ("how can I contact the planet team", "team", "the planet team"),
    ("who is on the planet team?", "team", "the planet team"),
    ("members of the planet team", "team", "the planet team"),
    ("what is python-dev", "team", "python-dev"),
    ("what is the mailing list for the infra team", "team", "Infrastructure Team"),
]
PEOPLE = [
    ("who is donald stufft", "who", "Donald Stufft"),
    ("who's Donald Stufft?", "who", "Donald Stufft"),
    ("who is mark mangoba", "who", "Mark Mangoba"),
    ("who is marc-andré lemburg?", "who", "Marc-André Lemburg"),
    ("who is marc andre lemburg", "who", "Marc-André Lemburg"),
    ("who is ernest durbin", "who", "Ernest W. Durbin III"),
    ("what does benjamin peterson own?", "who", "Benjamin Peterson"),
    ("what does donald stufft maintain", "who", "Donald Stufft"),
    ("what is zach ware responsible for", "who", "Zach Ware"),
    ("what does alex gaynor do here", "who", "Alex Gaynor"),
    ("which services does georg brandl maintain?", "who", "Georg Brandl"),
    ("what does antoine pitrou look after?", "who", "Antoine Pitrou"),
    ("how do I reach donald stufft?", "who", "Donald Stufft"),
    ("how can i contact noah kantrowitz", "who", "Noah Kantrowitz"),
    ("what does nobody special own?", "who", "nobody special"),
    ("who is stufft", "who", "Donald Stufft"),
]
WHAT = [
    ("what is pypi", "service", "PyPI"),
    ("what's pypi?", "service", "PyPI"),
    ("what is the python package index", "service", "PyPI"),
    ("what is codespeed", "service", "speed.python.org"),
    ("what is pythontest.net?", "service", "pythontest.net"),
    ("what's the wiki", "service", "wiki.python.org"),
    ("tell me about the buildbot master", "service", "Buildbot master"),
    ("info on pypi", "service", "PyPI"),
    ("information about the docs", "service", "docs.python.org"),
    ("details for hg.python.org", "service", "hg.python.org"),
    ("describe the tracker", "service", "bugs.python.org"),
    ("what is albatross", "host", "albatross"),
    ("what's ximinez?", "host", "ximinez"),
    ("pypi?", "service", "PyPI"),
    ("the wiki?", "service", "wiki.python.org"),
    ("dinsdale", "host", "dinsdale"),
    ("Donald Stufft", "who", "Donald Stufft"),
    ("fastly?", "provider", "Fastly"),
    ("what is xyzzy", "search", "xyzzy"),
]
CONTACT = [
    ("what is the mailing list for speed?", "owner", "speed.python.org"),
    ("what's the contact for mail.python.org", "owner", "mail.python.org"),
    ("what is the contact for pypi", "owner", "PyPI"),
    ("what is the email for the tracker?", "owner", "bugs.python.org"),
    ("how do I reach the pypi maintainers", "owner", "PyPI"),
    ("how do I contact the planet folks?", "owner", "planetpython.org"),
    ("planet mailing list", "owner", "planetpython.org"),
    ("contact for the pypy website", "owner", "PyPy website"),
    ("how do I get in touch with pypy", "owner", "PyPy website"),
]
SOURCE = [
    ("where is the source of planet?", "service", "planetpython.org"),
    ("where's the repo of planet", "service", "planetpython.org"),
    ("where is the code for pythondotorg", "service", "www.python.org"),
    ("where is the source code of python.org?", "service", "www.python.org"),
    ("where can I find the code of codespeed", "service", "speed.python.org"),
    ("what is the repo for speed.python.org?", "service", "speed.python.org"),
    ("where is www.python.org's code", "service", "www.python.org"),
    ("planet source", "service", "planetpython.org"),
    ("python.org repo", "service", "www.python.org"),
]
HELP = [
    ("help", "help", ""),
    ("help me", "help", ""),
    ("what can you do?", "help", ""),
    ("what can I ask you?", "help", ""),
    ("what do you know?", "help", ""),
    ("who are you", "help", ""),
    ("what are your commands", "help", ""),
    ("how do I use you?", "help", ""),
    ("hey infrabot, what can you do?", "help", ""),
    ("commands?", "help", ""),
    # a greeting alone is answered with what the bot can do
    ("hi", "help", ""),
    ("hello infrabot!", "help", ""),
    ("hey there", "help", ""),
]
# a question without its name: the command's usage answers it
INCOMPLETE = [
    ("who owns?", "owner", ""),
    ("who maintains", "owner", ""),
    ("what runs on", "host", ""),
    ("how do I reach", "owner", ""),
]
SEARCH = [
    ("anything about chef", "search", "chef"),
    ("search for fastly", "search", "fastly"),
    ("find salt", "search", "salt"),
    ("what do you know about mailman?", "search", "mailman"),
    ("look for codespeed", "search", "codespeed"),
    ("is there anything about dns", "search", "dns"),
]
PSF = OWNER + WHERE + CONFIG + ON_HOST + STATUS + PROVIDERS + TEAM + PEOPLE + WHAT
PSF += CONTACT + SOURCE + HELP + SEARCH + INCOMPLETE


@pytest.mark.parametrize(("text", "command", "args"), PSF)
def test_psf_questions(psf_index: Index, text: str, command: str, args: str) -> None:
    assert understand(text, psf_index, COMMANDS, bot="infrabot") == Meaning(command, args)


def test_the_table_is_large() -> None:
    assert len(PSF) >= 200


OTHER = [
    ("who owns the shop?", "owner", "Storefront"),
    ("who do I talk to about the storefront being slow", "owner", "Storefront"),
    ("who maintains ledger.northwind.io", "owner", "Ledger"),
    ("who runs the status page?", "owner", "Status page"),
    ("where does the shop run?", "service", "Storefront"),
    ("where is the ledger hosted", "service", "Ledger"),
    ("what's on fjord", "host", "fjord"),
    ("is glacier up?", "host", "glacier"),
    ("how is hetzner configured?", "provider", "Hetzner"),
    ("what does bunny do for us?", "provider", "Bunny"),
    ("which services use bunnycdn", "provider", "Bunny"),
    ("what is hosted at the helsinki region", "provider", "Hetzner"),
    ("who is on the team", "team", ""),
    ("who leads the platform team", "team", "Platform Crew"),
    ("who is kofi", "who", "Kofi Mensah"),
    ("what does ingrid holm own?", "who", "Ingrid Holm"),
    ("what is the mailing list for the shop", "owner", "Storefront"),
    ("where is the source of the storefront?", "service", "Storefront"),
    ("who owns www", "owner", "www"),
    ("what is hel1", "dc", "hel1"),
]


@pytest.mark.parametrize(("text", "command", "args"), OTHER)
def test_other_questions(
    other_index: Index,  # noqa: F811
    text: str,
    command: str,
    args: str,
) -> None:
    assert understand(text, other_index, COMMANDS, bot="infrabot") == Meaning(command, args)


NOT_QUESTIONS = [
    "lol the wiki is down again",
    "thanks",
    "thank you!",
    "ok",
    "good morning",
    "how are you?",
    "what time is it?",
    "why is the sky blue",
    "the build is red",
    "i think pypi is slow today",
    "pypi is great",
    "can we deploy on friday?",
    "who wants coffee",
    "what a day",
    "🙂",
    "¿quién mantiene pypi?",
    "кто владеет pypi",
    "谁维护 pypi",
    "???",
    "",
    "   ",
    "owner pypi",
    "host dinsdale",
    "who donald stufft",
    "page pypi it is down",
]


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_what_is_not_a_known_question_maps_to_nothing(psf_index: Index, text: str) -> None:
    assert understand(text, psf_index, COMMANDS, bot="infrabot") is None


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("who wants coffee", True),
        ("lol the wiki is down again", True),
        ("where?", True),
        ("ownr pypi", False),
        ("hots dinsdale", False),
    ],
)
def test_a_question_is_told_from_a_mistyped_command(text: str, question: bool) -> None:
    assert looks_like_question(text) is question


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_maps_to_a_known_command_or_nothing(text: str) -> None:
    meaning = understand(text, PSF_INDEX, COMMANDS, bot="infrabot")
    assert meaning is None or meaning.command in COMMANDS
