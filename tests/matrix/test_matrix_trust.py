"""Which devices count as cross-signed, and what a page says about the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infrabot.messages import Network, Reply, Room
from infrabot.transports.matrix_crypto import MatrixCrypto
from infrabot.transports.matrix_signing import SigningKey
from infrabot.transports.matrix_trust import cross_signed_devices

ALICE = "@alice:x.org"


def _key(key: SigningKey, usage: str) -> dict[str, Any]:
    return {"user_id": ALICE, "usage": [usage], "keys": {f"ed25519:{key.public}": key.public}}


def _answer(master: SigningKey, ssk: SigningKey, *, ssk_signer: SigningKey) -> dict[str, Any]:
    phone = ssk.add_signature({"user_id": ALICE, "device_id": "PHONE", "keys": {}}, ALICE)
    laptop = {"user_id": ALICE, "device_id": "LAPTOP", "keys": {}}
    return {
        "master_keys": {ALICE: _key(master, "master")},
        "self_signing_keys": {ALICE: ssk_signer.add_signature(_key(ssk, "self_signing"), ALICE)},
        "device_keys": {ALICE: {"PHONE": phone, "LAPTOP": laptop}},
    }


def test_a_device_is_cross_signed_through_a_self_signing_key_the_master_signed() -> None:
    master, ssk = SigningKey.generate(), SigningKey.generate()
    assert cross_signed_devices(_answer(master, ssk, ssk_signer=master), ALICE) == {"PHONE"}
    # a self-signing key the master did not sign vouches for nothing
    stranger = SigningKey.generate()
    assert cross_signed_devices(_answer(master, ssk, ssk_signer=stranger), ALICE) == set()
    assert cross_signed_devices({"device_keys": {}}, ALICE) == set()


class Skips:
    def __init__(self, skipped: tuple[str, ...]) -> None:
        self._skipped = skipped

    async def apply(self, client: Any, user_ids: Any) -> None:
        pass

    def skipped(self, user_id: str) -> tuple[str, ...]:
        return self._skipped if user_id == ALICE else ()

    def forget(self, user_ids: Any) -> None:
        pass


def test_a_page_says_which_of_the_maintainers_devices_cannot_read_it(tmp_path: Path) -> None:
    matrix = Network("matrix")
    page = Reply(Room(matrix, ALICE, private=True), ("PAGE 1x2y for PyPI: down",))
    crypto = MatrixCrypto(None, tmp_path, Skips(("LAPTOP", "OLDPHONE")))
    assert crypto.note_skipped(page).lines == (
        "PAGE 1x2y for PyPI: down",
        "(not readable on your devices LAPTOP, OLDPHONE, which you have not cross-signed)",
    )
    one = MatrixCrypto(None, tmp_path, Skips(("LAPTOP",)))
    assert one.note_skipped(page).lines[1] == (
        "(not readable on your device LAPTOP, which you have not cross-signed)"
    )
    in_a_room = Reply(Room(matrix, "!room:x.org"), ("PyPI is owned by Alice",))
    assert crypto.note_skipped(in_a_room) == in_a_room
    assert MatrixCrypto(None, tmp_path, Skips(())).note_skipped(page) == page
