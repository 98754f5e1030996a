"""Encryption of stored tokens with CCTAG_ENCRYPTION_KEY (Fernet: AES-128-CBC + HMAC-SHA256).

The key may be a Fernet key (32 url-safe base64 bytes) or any passphrase of 16+ characters,
which is stretched with scrypt under a fixed, documented salt so every process derives the same key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from bot.settings import SettingsError

_SALT = b"cctag-token-encryption-v1"


class TokenCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(_fernet_key(key))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SettingsError(
                "CCTAG_ENCRYPTION_KEY does not decrypt the stored tokens (was the key changed?)"
            ) from None


def _fernet_key(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode())
        if len(raw) == 32:
            return key.encode()
    except ValueError:
        pass
    if len(key) < 16:
        raise SettingsError(
            "CCTAG_ENCRYPTION_KEY must be a Fernet key or a passphrase of at least 16 characters"
        )
    derived = hashlib.scrypt(key.encode(), salt=_SALT, n=2**14, r=8, p=1, dklen=32)
    return base64.urlsafe_b64encode(derived)


def cipher_from(key: str | None) -> TokenCipher:
    if not key:
        raise SettingsError("CCTAG_ENCRYPTION_KEY is required once tokens are stored")
    return TokenCipher(key)
