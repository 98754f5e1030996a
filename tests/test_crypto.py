from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.crypto import TokenCipher, cipher_from
from bot.settings import SettingsError

# Named ids: a random key in the id would differ between parallel workers' collections.
KEYS = {"fernet": Fernet.generate_key().decode(), "passphrase": "a passphrase long enough"}


@pytest.mark.parametrize("key", KEYS.values(), ids=KEYS.keys())
def test_round_trip_hides_the_token(key: str) -> None:
    cipher = TokenCipher(key)
    sealed = cipher.encrypt("cc-access-token-123")
    assert "cc-access-token-123" not in sealed
    assert cipher.decrypt(sealed) == "cc-access-token-123"


def test_the_same_passphrase_gives_the_same_key_in_every_process() -> None:
    sealed = TokenCipher("shared passphrase 123").encrypt("x")
    assert TokenCipher("shared passphrase 123").decrypt(sealed) == "x"


def test_a_wrong_key_is_told_plainly() -> None:
    sealed = TokenCipher("the first passphrase").encrypt("x")
    with pytest.raises(SettingsError, match="CCTAG_ENCRYPTION_KEY does not decrypt"):
        TokenCipher("the other passphrase").decrypt(sealed)


def test_missing_or_short_keys_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="CCTAG_ENCRYPTION_KEY is required"):
        cipher_from(None)
    with pytest.raises(SettingsError, match="at least 16 characters"):
        cipher_from("short")
