"""Capability negotiation and the SASL login as a state machine, on recorded exchanges."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest

from infrabot.transports.irc_caps import CapNegotiation
from infrabot.transports.irc_sasl import (
    External,
    Mechanism,
    Plain,
    SaslError,
    SaslLogin,
    ScramSha256,
)

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


def test_an_authenticate_out_of_turn_sends_nothing_and_nonsense_aborts() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"))
    assert n.on_authenticate("+") == []
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    assert n.on_authenticate("something") == ["AUTHENTICATE *"]  # not base64: abort
    assert n.sasl_state == "failed"


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


# --- mechanisms other than PLAIN, chosen from what the server lists


def login(*names: str, account: str = "bot", password: str = "pw") -> SaslLogin:
    factories = {
        "PLAIN": lambda: Plain(account, password),
        "EXTERNAL": External,
        "SCRAM-SHA-256": lambda: ScramSha256(account, password),
    }
    return SaslLogin(tuple((name, factories[name]) for name in names))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_external_as_recorded_from_atheme() -> None:
    n = CapNegotiation(WANTED, login("EXTERNAL"))
    assert cap(n, "LS", "sasl=PLAIN,EXTERNAL,ECDSA-NIST256P-CHALLENGE") == ["CAP REQ :sasl"]
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE EXTERNAL"]
    assert n.on_authenticate("+") == ["AUTHENTICATE +"]
    assert n.on_sasl_result(True) == ["CAP END"]


def test_only_mechanisms_the_server_lists_are_tried_in_our_order() -> None:
    n = CapNegotiation(WANTED, login("EXTERNAL", "PLAIN"))
    cap(n, "LS", "sasl=PLAIN")
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE PLAIN"]


def test_a_refused_mechanism_falls_back_to_the_next_listed_one() -> None:
    n = CapNegotiation(WANTED, login("EXTERNAL", "PLAIN"))
    cap(n, "LS", "sasl=PLAIN,EXTERNAL")
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE EXTERNAL"]
    n.on_authenticate("+")
    assert n.on_sasl_result(False, "904: no certificate") == ["AUTHENTICATE PLAIN"]
    assert n.on_authenticate("+") == ["AUTHENTICATE " + b64(b"bot\0bot\0pw")]
    assert n.on_sasl_result(True) == ["CAP END"]


def test_a_mechanism_that_cannot_start_is_skipped_for_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unreadable() -> Mechanism:
        raise SaslError("irc.sasl_ecdsa_key: cannot read ecdsa.pem: No such file")

    login = SaslLogin(
        (("ECDSA-NIST256P-CHALLENGE", unreadable), ("PLAIN", lambda: Plain("a", "b")))
    )
    n = CapNegotiation(WANTED, login)
    cap(n, "LS", "sasl=PLAIN,ECDSA-NIST256P-CHALLENGE")
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE PLAIN"]
    assert "(ECDSA-NIST256P-CHALLENGE) cannot start: irc.sasl_ecdsa_key" in caplog.text


def test_a_server_that_lists_none_of_ours_is_not_asked(caplog: pytest.LogCaptureFixture) -> None:
    n = CapNegotiation(WANTED, login("EXTERNAL"))
    assert cap(n, "LS", "account-tag sasl=PLAIN") == ["CAP REQ :account-tag"]
    assert cap(n, "ACK", "account-tag") == ["CAP END"]
    assert "offers SASL PLAIN, not EXTERNAL" in caplog.text


def test_a_failure_is_logged_once_with_the_servers_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = CapNegotiation(WANTED, ("bot", "wrong"))
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    n.on_authenticate("+")
    n.on_sasl_result(False, "904: SASL authentication failed")
    n.retry_sasl()
    n.on_authenticate("+")
    n.on_sasl_result(False, "904: SASL authentication failed")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "SASL login (PLAIN) failed: 904: SASL authentication failed"
    ]


def test_a_required_login_that_fails_quits_instead_of_registering() -> None:
    n = CapNegotiation(WANTED, ("bot", "wrong"), required=True)
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    n.on_authenticate("+")
    assert n.on_sasl_result(False, "904") == ["QUIT :SASL login required"]
    assert n.end() == []


def test_a_required_login_quits_when_sasl_is_not_offered_or_stalls() -> None:
    n = CapNegotiation(WANTED, ("bot", "pw"), required=True)
    assert cap(n, "LS", "account-tag") == ["CAP REQ :account-tag"]
    assert cap(n, "ACK", "account-tag") == ["QUIT :SASL login required"]
    stalled = CapNegotiation(WANTED, ("bot", "pw"), required=True)
    cap(stalled, "LS", "sasl")
    cap(stalled, "ACK", "sasl")
    assert stalled.end() == ["QUIT :SASL login required"]  # the transport's stall guard
    fine = CapNegotiation(WANTED, ("bot", "pw"), required=True)
    cap(fine, "LS", "sasl")
    cap(fine, "ACK", "sasl")
    fine.on_authenticate("+")
    assert fine.on_sasl_result(True) == ["CAP END"]


def test_a_long_challenge_in_chunks_is_put_together_first() -> None:
    seen: list[bytes] = []

    class Echo(External):
        name = "EXTERNAL"

        def respond(self, challenge: bytes) -> bytes:
            seen.append(challenge)
            return b""

    n = CapNegotiation(WANTED, SaslLogin((("EXTERNAL", Echo),)))
    cap(n, "LS", "sasl")
    cap(n, "ACK", "sasl")
    text = b64(b"x" * 600)  # 800 characters: two full chunks, then "+"
    assert n.on_authenticate(text[:400]) == []
    assert n.on_authenticate(text[400:]) == []
    assert n.on_authenticate("+") == ["AUTHENTICATE +"]
    assert seen == [b"x" * 600]


class ScramServer:
    """The server side of SCRAM-SHA-256 (RFC 5802), to script exchanges with."""

    def __init__(self, password: str, *, lie: bool = False) -> None:
        self.salt, self.rounds, self.lie = b"salt-of-the-earth", 4096, lie
        self.salted = hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt, self.rounds)

    def first(self, client_first: bytes) -> bytes:
        self.client_bare = client_first.decode().removeprefix("n,,")
        nonce = self.client_bare.split("r=", 1)[1] + "server-part"
        self.server_first = f"r={nonce},s={b64(self.salt)},i={self.rounds}"
        return self.server_first.encode()

    def final(self, client_final: bytes) -> bytes:
        without_proof, _, proof = client_final.decode().rpartition(",p=")
        auth = f"{self.client_bare},{self.server_first},{without_proof}".encode()
        client_key = hmac.new(self.salted, b"Client Key", hashlib.sha256).digest()
        stored = hashlib.sha256(client_key).digest()
        signature = hmac.new(stored, auth, hashlib.sha256).digest()
        expected = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        if base64.b64decode(proof) != expected:
            return b"e=invalid-proof"
        server_key = hmac.new(self.salted, b"Server Key", hashlib.sha256).digest()
        verifier = hmac.new(server_key, auth, hashlib.sha256).digest()
        if self.lie:
            verifier = bytes(32)
        return b"v=" + b64(verifier).encode()


def scram_exchange(n: CapNegotiation, server: ScramServer) -> list[str]:
    cap(n, "LS", "sasl=SCRAM-SHA-256")
    assert cap(n, "ACK", "sasl") == ["AUTHENTICATE SCRAM-SHA-256"]
    (first,) = n.on_authenticate("+")
    (final,) = n.on_authenticate(b64(server.first(base64.b64decode(first.split()[1]))))
    return n.on_authenticate(b64(server.final(base64.b64decode(final.split()[1]))))


def test_scram_logs_in_when_the_server_proves_it_knows_the_password() -> None:
    n = CapNegotiation(WANTED, login("SCRAM-SHA-256", password="pencil"))
    assert scram_exchange(n, ScramServer("pencil")) == ["AUTHENTICATE +"]
    assert n.on_sasl_result(True) == ["CAP END"] and n.sasl_state == "done"


def test_a_server_with_a_wrong_signature_is_refused_and_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    n = CapNegotiation(WANTED, login("SCRAM-SHA-256", password="pencil"))
    lines = scram_exchange(n, ScramServer("pencil", lie=True))
    assert lines == ["AUTHENTICATE *", "QUIT :server failed to prove itself"]
    assert n.on_sasl_result(True) == []  # whatever it says next: we do not log in
    assert n.sasl_state == "failed" and n.retry_sasl() == []
    assert "server signature is wrong" in caplog.text


def test_success_before_the_server_proved_itself_is_refused() -> None:
    n = CapNegotiation(WANTED, login("SCRAM-SHA-256", password="pencil"))
    server = ScramServer("pencil")
    cap(n, "LS", "sasl=SCRAM-SHA-256")
    cap(n, "ACK", "sasl")
    (first,) = n.on_authenticate("+")
    n.on_authenticate(b64(server.first(base64.b64decode(first.split()[1]))))
    # the server skips its signature and claims success (903)
    assert n.on_sasl_result(True) == ["AUTHENTICATE *", "QUIT :server failed to prove itself"]
    assert n.sasl_state == "failed"
