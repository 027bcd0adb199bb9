"""Capability negotiation and SASL PLAIN as a state machine, on recorded exchanges."""

from __future__ import annotations

import base64

from infrabot.transports.irc_caps import CapNegotiation

WANTED = ("message-tags", "account-tag", "extended-join")


def cap(negotiation: CapNegotiation, *args: str, registered: bool = False) -> list[str]:
    return negotiation.on_cap(list(args), registered=registered, logged_in=False)


def test_caps_then_sasl_then_cap_end() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    offered = "account-tag extended-join sasl=PLAIN,EXTERNAL cap-notify"
    assert cap(n, "LS", offered) == ["CAP REQ :account-tag extended-join", "CAP REQ :sasl"]
    assert cap(n, "ACK", "account-tag extended-join") == []  # sasl still pending
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE PLAIN"]
    payload = base64.b64encode(b"bot\0bot\0pw").decode()
    assert n.on_authenticate("+") == [f"AUTHENTICATE {payload}"]
    assert not n.done  # registration waits for the verdict
    assert n.on_sasl_result(True) == ["CAP END"]
    assert n.caps == {"account-tag", "extended-join", "sasl"} and n.sasl_state == "done"


def test_a_multiline_ls_is_read_whole_before_asking() -> None:
    n = CapNegotiation(WANTED, None)
    assert cap(n, "LS", "*", "message-tags") == []
    assert cap(n, "LS", "account-tag") == ["CAP REQ :message-tags account-tag"]
    assert cap(n, "NAK", "message-tags account-tag") == ["CAP END"]
    assert n.caps == set()


def test_nothing_offered_ends_at_once_and_only_once() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    assert cap(n, "LS", "away-notify") == ["CAP END"]
    assert n.end() == []
    assert n.should_ask_again(logged_in=False)  # SASL may come when services link


def test_a_server_without_plain_is_not_asked_for_sasl() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    assert cap(n, "LS", "account-tag sasl=EXTERNAL") == ["CAP REQ :account-tag"]
    assert cap(n, "ACK", "account-tag") == ["CAP END"]


def test_a_payload_of_exactly_400_bytes_ends_with_a_lone_plus() -> None:
    password = "x" * 292  # 3 + 1 + 3 + 1 + 292 = 300 bytes: 400 in base64
    n = CapNegotiation(WANTED, ("bot", password))
    cap(n, "LS", "sasl")
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE PLAIN"]
    lines = n.on_authenticate("+")
    assert [len(line) for line in lines] == [len("AUTHENTICATE ") + 400, len("AUTHENTICATE +")]
    assert lines[-1] == "AUTHENTICATE +"


def test_a_refused_login_still_ends_negotiation() -> None:
    n = CapNegotiation(WANTED, ("bot", "wrong"))
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    n.on_authenticate("+")
    assert n.on_sasl_result(False, "904: invalid credentials") == ["CAP END"]
    assert n.sasl_state == "failed"


def test_sasl_offered_later_logs_in_after_registration() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    assert cap(n, "LS", "account-tag") == ["CAP REQ :account-tag"]
    assert cap(n, "ACK", "account-tag") == ["CAP END"]
    assert cap(n, "NEW", "sasl=PLAIN", registered=True) == ["CAP REQ :sasl"]
    assert cap(n, "ACK", "sasl", registered=True) == ["AUTHENTICATE PLAIN"]
    assert n.on_authenticate("+")[0].startswith("AUTHENTICATE ")
    assert n.on_sasl_result(True) == []  # registration ended long ago: no second CAP END


def test_an_authenticate_out_of_turn_sends_nothing() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    assert n.on_authenticate("+") == []
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    assert n.on_authenticate("something") == []


def test_cap_del_forgets_the_capability() -> None:
    n = CapNegotiation(WANTED, None)
    cap(n, "LS", "account-tag")
    cap(n, "ACK", "account-tag")
    cap(n, "DEL", "account-tag")
    assert n.caps == set() and "account-tag" not in n.offered


def test_a_failed_login_is_tried_again_a_few_times() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    n.on_authenticate("+")
    n.on_sasl_result(False, "904: services still bursting")
    tries = []
    for _ in range(5):
        tries.append(n.retry_sasl())
        if n.sasl_state == "started":
            n.on_authenticate("+")
            n.on_sasl_result(False, "904")
    assert tries == [["AUTHENTICATE PLAIN"]] * 3 + [[], []]  # three more tries, then no more
