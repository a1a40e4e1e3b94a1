"""Delivery signatures (Standard Webhooks scheme) and subscriber secrets encrypted at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from service.webhooks.signing import SignatureError, new_secret, sign, signed_headers, verify
from service.webhooks.vault import SecretVault, VaultError, VaultUnavailableError

KEY = "k" * 40
OLD = "o" * 40
BODY = b'{"id":"e1","type":"flag.raised","data":{}}'


def test_signature_matches_an_independent_computation() -> None:
    raw = bytes(range(32))
    secret = "whsec_" + base64.b64encode(raw).decode()
    expected = hmac.new(raw, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert sign(secret, "msg_1", 1_700_000_000, BODY) == "v1," + base64.b64encode(expected).decode()


def test_verify_accepts_a_fresh_authentic_delivery() -> None:
    secret = new_secret()
    headers = signed_headers(secret, "e1", 1_700_000_000, BODY)
    verify(secret, headers, BODY, now=1_700_000_100)
    # Header names are case-insensitive; a rotation may send several signatures.
    rotated = {k.title(): v for k, v in headers.items()}
    rotated["Webhook-Signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]
    verify(secret, rotated, BODY, now=1_700_000_000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("body", "no matching signature"),
        ("secret", "no matching signature"),
        ("id", "no matching signature"),
        ("stale", "tolerance"),
        ("missing", "missing"),
    ],
)
def test_verify_rejects_tampering_replays_and_junk(change: str, message: str) -> None:
    secret = new_secret()
    headers = signed_headers(secret, "e1", 1_700_000_000, BODY)
    body, now, key = BODY, 1_700_000_000.0, secret
    if change == "body":
        body = BODY.replace(b"flag.raised", b"flag.cleared")
    elif change == "secret":
        key = new_secret()
    elif change == "id":
        headers["webhook-id"] = "e2"
    elif change == "stale":
        now += 301
    else:
        del headers["webhook-timestamp"]
    with pytest.raises(SignatureError, match=message):
        verify(key, headers, body, now=now)


def test_secrets_are_fresh_and_well_formed() -> None:
    one, two = new_secret(), new_secret()
    assert one != two
    assert one.startswith("whsec_")
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


def test_vault_round_trip_hides_the_secret() -> None:
    vault = SecretVault(KEY)
    secret = new_secret()
    sealed = vault.encrypt(secret)
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert vault.decrypt(sealed) == secret
    assert vault.encrypt(secret) != sealed  # random IV: equal secrets do not look equal


def test_vault_rotation_and_wrong_keys() -> None:
    sealed_with_old = SecretVault(OLD).encrypt("whsec_x")
    rotated = SecretVault(KEY, [OLD])
    assert rotated.decrypt(sealed_with_old) == "whsec_x"
    with pytest.raises(VaultError):
        SecretVault(KEY).decrypt(sealed_with_old)
    with pytest.raises(VaultError):
        rotated.decrypt(sealed_with_old[:-4] + "AAAA")  # tampered


def test_vault_without_a_key_refuses_to_store() -> None:
    vault = SecretVault(None)
    assert not vault.available
    with pytest.raises(VaultUnavailableError, match="CEM_WEBHOOKS__ENCRYPTION_KEY"):
        vault.encrypt("whsec_x")
    assert "whsec" not in repr(SecretVault(KEY))
