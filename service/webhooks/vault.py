"""Subscriber secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated).

A signing secret cannot be hashed like an API key: we need it back to sign every delivery. So it
is encrypted with a key derived (HKDF-SHA256) from `CEM_WEBHOOKS__ENCRYPTION_KEY`, which lives in
the environment or a secrets file, never in the database: a stolen database or backup alone does
not reveal the secrets. Old keys in `CEM_WEBHOOKS__OLD_ENCRYPTION_KEYS` still decrypt, so the key
can be rotated; new secrets are always encrypted with the current key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.webhooks.settings import MIN_KEY_CHARS

_INFO = b"cem-bridge webhook subscriber secrets v1"


class VaultUnavailableError(RuntimeError):
    """No encryption key is configured."""


class VaultError(ValueError):
    """A ciphertext no configured key can open (wrong key, or tampered with)."""


def _fernet(material: str) -> Fernet:
    if len(material) < MIN_KEY_CHARS:
        raise ValueError(f"webhook encryption keys need at least {MIN_KEY_CHARS} characters")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretVault:
    """Encrypt with the current key, decrypt with the current or any old one."""

    def __init__(self, current: str | None, old: Sequence[str] = ()) -> None:
        keys = [_fernet(k) for k in ([current] if current else []) + list(old)]
        self._box = MultiFernet(keys) if current and keys else None
        self._readers = MultiFernet(keys) if keys else None

    @property
    def available(self) -> bool:
        return self._box is not None

    def encrypt(self, secret: str) -> str:
        if self._box is None:
            raise VaultUnavailableError(
                "set CEM_WEBHOOKS__ENCRYPTION_KEY (32+ characters) to use webhooks"
            )
        return self._box.encrypt(secret.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        if self._readers is None:
            raise VaultUnavailableError("no webhook encryption key is configured")
        try:
            return self._readers.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise VaultError("no configured key opens this secret") from None

    def __repr__(self) -> str:
        return f"SecretVault(available={self.available})"
