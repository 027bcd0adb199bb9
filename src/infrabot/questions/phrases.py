"""The ways people ask for each thing the bot knows, as patterns over a cleaned sentence.

Each pattern names an *intent* (who owns something, where it runs, ...) and captures the
name asked about as ``x``; which command answers is decided by what ``x`` turns out to be
(:mod:`infrabot.questions`). The patterns are English phrasing only: no inventory's names.
"""

from __future__ import annotations

import re

__all__ = ["INTENTS", "captured", "clean", "trim_name"]

_CONTRACTIONS = (
    (r"\bwhat's\b", "what is"),
    (r"\bwhats\b", "what is"),
    (r"\bwho's\b", "who is"),
    (r"\bwhos\b", "who is"),
    (r"\bwhere's\b", "where is"),
    (r"\bwheres\b", "where is"),
    (r"\bhow's\b", "how is"),
    (r"\bit's\b", "it is"),
    (r"\bwhat're\b", "what are"),
    (r"\bwho're\b", "who are"),
    (r"\bisn't\b", "is"),
    (r"\baren't\b", "are"),
    (r"\bdoesn't\b", "does"),
    (r"\bwho'd\b", "who would"),
    (r"\bi'd\b", "i would"),
    (r"\bwanna\b", "want to"),
)
_OPENINGS = re.compile(
    r"^(?:(?:hey|hi|hello|yo|ok|okay|so|um|uh|please|pls|quick question|question|"
    r"sorry|excuse me|hmm)\b[\s,:;!-]*)+"
)
_ASKING = re.compile(
    r"^(?:(?:can|could|would|will) you (?:please )?(?:tell|show) me|"
    r"(?:can|could) you (?:please )?(?:say|check)|do you know|does (?:any|some)one know|"
    r"(?:i )?(?:want|need|would like|wanted) to know|tell me|show me|any idea|"
    r"i (?:am|was) wondering|i wonder|remind me)\b[\s,:]*"
)
_CLOSINGS = re.compile(
    r"(?:[\s,]+(?:please|pls|thanks|thank you|thx|again|right now|currently|now|today|"
    r"for us|for the psf|then|exactly|anyway))+$"
)
_NOISE = re.compile(r"[?!.…,;:\s]+$")


def clean(text: str, bot: str = "") -> str:
    """``text`` lower-cased, with straight apostrophes, contractions spelled out, and the
    greetings, polite openings, the bot's name ``bot`` and the closing punctuation around a
    question dropped."""
    bot = bot.lower()
    s = " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split()).lower()
    for pattern, full in _CONTRACTIONS:
        s = re.sub(pattern, full, s)
    previous = None
    while previous != s:
        previous = s
        s = _NOISE.sub("", s)
        s = _CLOSINGS.sub("", s)
        s = _OPENINGS.sub("", s)
        s = _ASKING.sub("", s)
        s = re.sub(r"^(?:if|whether) ", "", s)
        if bot:
            s = re.sub(rf"^@?{re.escape(bot)}\b[\s,:;!-]*", "", s)
    return s.strip()


def trim_name(x: str) -> str:
    """The name in a captured ``x``, without what people put around it."""
    x = re.sub(r"^(?:about|regarding|re|on|for|with|of)\s+", "", x.strip())
    x = re.sub(r"'s$|'$", "", x)
    return _NOISE.sub("", x).strip(" \"'`")


_X = r"(?P<x>.+?)"
_WHO = r"(?:who|whom|which (?:person|people|team|group))"
_OWN_VERBS = (
    r"(?:owns|own|maintains|maintain|runs|run|manages|manage|looks after|look after|"
    r"takes care of|take care of|is in charge of|are in charge of|is responsible for|"
    r"are responsible for|administers|operates|supports|handles|is behind|are behind|"
    r"administrates|is the owner of|are the owners of|is the maintainer of|"
    r"are the maintainers of|is the admin of|is the contact for|owns and runs)"
)
_ASK_VERBS = (
    r"(?:ask|talk to|speak to|contact|ping|poke|bug|go to|email|reach|turn to|complain to|"
    r"reach out to|page|call|notify|tell|report to|escalate to)"
)
_ABOUT = r"(?:about|regarding|re|for|on|with|if|when)"
_RUN = r"(?:run|live|sit|reside|get hosted|get served|come from|run from)"
_HOSTED = r"(?:hosted|running|deployed|located|run|served|served from|living|kept|housed|installed)"


def _numbered(pattern: str) -> str:
    """``pattern`` with each ``(?P<x>`` numbered (``x0``, ``x1``, ...): Python allows a
    name once per pattern, and each alternative of a phrasing captures the name."""
    parts = pattern.split("(?P<x>")
    return parts[0] + "".join(f"(?P<x{n}>{part}" for n, part in enumerate(parts[1:]))


def captured(match: re.Match[str]) -> str:
    """The name a phrasing captured ('' when it captures none)."""
    return next((value for value in match.groupdict().values() if value), "")


INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(_numbered(pattern)))
    for intent, pattern in (
        # what the bot can do
        (
            "help",
            r"^(?:help|help me|commands|usage|what can you do|what do you do|"
            r"what can i ask(?: you)?|what (?:do|can) you know|what are (?:your|the) commands|"
            r"how do(?:es)? (?:i|one) use (?:you|this|this bot|the bot)|who are you|"
            r"what are you|how does this work|what commands (?:are there|do you have|exist))$",
        ),
        # owners
        (
            "owner",
            rf"^(?:{_WHO} {_OWN_VERBS} {_X}|{_WHO} (?:do|should|can|could|would|must) "
            rf"(?:i|we|one|you) {_ASK_VERBS}(?: {_ABOUT})? {_X}|"
            rf"{_WHO} (?:to|should i|can i) {_ASK_VERBS}(?: {_ABOUT})? {_X}|"
            rf"{_WHO} (?:is|are) (?:the )?(?:owner|owners|maintainer|maintainers|admin|admins|"
            rf"contact|contacts|person responsible|people responsible|point of contact)"
            rf"(?: (?:of|for|on|behind))? {_X}|"
            rf"{_WHO} (?:is|are) {_X}'s (?:owner|owners|maintainer|maintainers)|"
            rf"whose (?:is|are) {_X}|(?:owner|owners|maintainer|maintainers) (?:of|for) {_X}|"
            rf"{_X}(?:'s?)? (?:owner|owners|maintainer|maintainers)|{_X} (?:is|are) (?:owned|"
            rf"maintained|run|managed) by (?:whom|who))$",
        ),
        # the team
        (
            "team",
            r"^(?:who (?:leads|heads|runs|manages) (?:it|us|the team|this team)|"
            r"who is (?:the|our) (?:team )?(?:lead|leader|boss|head)|"
            r"who is in charge(?: here)?)$",
        ),
        (
            "team",
            rf"^(?:{_WHO} (?:is|are) (?:on|in|part of) {_X}|who works (?:on|in) {_X}|"
            rf"(?:who are|list) the (?:members|people) (?:of|on|in) {_X}|"
            rf"who (?:leads|heads) {_X}|who is the (?:lead|leader|head) of {_X}|"
            rf"who is {_X}'s (?:lead|leader|head)|(?:members|lead|leader) of {_X})$",
        ),
        ("team", r"^(?P<x>(?:the |our )?(?:infra(?:structure)? )?team)(?: members)?$"),
        # sources
        (
            "source",
            rf"^(?:where (?:is|are|can i find|do i find|does|do) (?:the )?"
            rf"(?:source(?: code)?|code|repo|repository|repositories|git repo|sources)"
            rf"(?: (?:of|for|to|behind))? {_X}(?: live| kept| hosted)?|"
            rf"where is {_X}'s (?:source(?: code)?|code|repo|repository)|"
            rf"(?:what|which) (?:is|are) (?:the )?(?:repo|repository|repositories|source repo)"
            rf"(?: of| for) {_X}|{_X} (?:source code|source|repo|repository|code))$",
        ),
        # contacts and mailing lists
        (
            "contact",
            rf"^(?:(?:what|which) is (?:the )?(?:mailing list|list|email|e-mail|"
            rf"address|contact|channel|email address|contact address|point of contact)"
            rf"(?: for| of| about) {_X}|how (?:do|can|should|would) (?:i|we|one) (?:reach|contact|"
            rf"get in touch with|get hold of|email|talk to) {_X}|"
            rf"how (?:is|are) {_X} reached|(?:contact|email|mailing list) (?:for|of) {_X}|"
            rf"{_X} (?:contact|contacts|mailing list|email))$",
        ),
        # what runs on a host, what a provider hosts
        (
            "on",
            rf"^(?:(?:what|which services?|which things?|anything) (?:is |are )?(?:running |"
            rf"hosted |deployed |installed |living )?(?:runs |lives |sits )?(?:on|at|in) {_X}|"
            rf"what (?:does|do) {_X} (?:run|host|serve|have on it)|"
            rf"what (?:services )?(?:is|are) (?:hosted|running|deployed) (?:on|at|by|with) {_X}|"
            rf"(?:which|what) (?:services|things|sites) "
            rf"(?:use|run on|are on|live on|depend on) {_X}|"
            rf"what (?:uses|depends on) {_X}|what is behind {_X}|services (?:on|at|of) {_X})$",
        ),
        # status
        (
            "status",
            rf"^(?:(?:is|are) {_X} (?:up|down|alive|ok|okay|fine|working|reachable|"
            rf"online|offline|dead|broken|running|active|healthy|legacy)|"
            rf"(?:what is )?(?:the )?(?:status|state|health) (?:of|for) {_X}|{_X} status)$",
        ),
        # configuration
        (
            "config",
            rf"^(?:how (?:is|are) {_X} (?:configured|set up|setup|provisioned|managed|"
            rf"deployed|built)|what (?:configures|provisions|manages) {_X}|"
            rf"(?:what|which) (?:config(?:uration)? management|configuration|provisioning)"
            rf"(?: tool)? (?:does|do) {_X} use|(?:what is )?(?:the )?config(?:uration)?"
            rf"(?: management)? (?:of|for) {_X}|where is {_X}(?:'s)? config(?:uration)?)$",
        ),
        # hosting
        (
            "where",
            rf"^(?:where (?:does|do|did) {_X} {_RUN}(?: on| at| from)?|"
            rf"where (?:is|are) {_X} {_HOSTED}(?: on| at)?|where (?:is|are) {_X}|"
            rf"(?:what|which) (?:host|server|machine|box|provider|cloud|datacenter|vm) "
            rf"(?:is |are )?(?:runs|hosts|serves|has|holds|is|for|behind|running|hosting|"
            rf"serving)? ?{_X}(?: on| run on| hosted on| hosted at)?|"
            rf"(?:what|who) (?:hosts|serves) {_X}|how is {_X} hosted|"
            rf"on (?:what|which) (?:host|server|machine|provider) (?:is|does|do) {_X}(?: run)?|"
            rf"(?:hosting|host|location) (?:of|for) {_X}|{_X} hosting)$",
        ),
        # people
        (
            "person",
            rf"^(?:what (?:does|do|did) {_X} (?:own|maintain|run|look after|work on|"
            rf"do here)|what is {_X} responsible for|what (?:does|do) {_X} take care of|"
            rf"(?:which|what) services (?:does|do) {_X} (?:own|maintain|run))$",
        ),
        # what a thing is or does
        (
            "what",
            rf"^(?:(?:what|who) (?:is|are) {_X}(?: for| about| used for)?|about {_X}|"
            rf"what (?:does|do) {_X} do(?: for us)?|what (?:is|are) {_X} doing for us|"
            rf"(?:info|information|details|facts)(?: on| about| for| of)? {_X}|"
            rf"describe {_X}|explain {_X}|look up {_X}|lookup {_X}|show {_X})$",
        ),
        # searching
        (
            "search",
            rf"^(?:search(?: for)?|find|grep|look for|anything (?:about|on|with)|"
            rf"what do you (?:know|have) (?:about|on)|is there anything (?:about|on)) {_X}$",
        ),
    )
)
