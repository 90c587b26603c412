"""Encryption of Evotor/VK tokens at rest.

Keys come from ``TOKEN_ENCRYPTION_KEYS`` (Fernet keys, newest first), independent of
``SECRET_KEY`` so that rotating one does not touch the other. Each stored value is
``<key id>$<Fernet token>``: the key id (a short hash of the key, never the key) says which key
made it, so ``rotate_token_keys`` re-encrypts only what an old key made, and an operator can see
how many values still depend on a key before dropping it.

Development needs no configuration: without keys (and only when DEBUG is true) a key is generated
once into ``.dev-token-key`` beside manage.py (ignored by git), shared by the web server and the
qcluster. Production refuses to start without keys (settings and check evosync.E004).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEPARATOR = "$"


class TokenDecryptionError(Exception):
    """A stored token cannot be decrypted with any configured key (never carries the value)."""


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:8]


def _dev_key_file() -> Path:
    return Path(settings.BASE_DIR) / ".dev-token-key"


def _dev_key() -> str:
    path = _dev_key_file()
    try:
        # O_EXCL: when web and qcluster start together, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(Fernet.generate_key().decode("ascii"))
    return path.read_text(encoding="ascii").strip()


def configured_keys() -> list[str]:
    keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    if keys:
        return keys
    if settings.PRODUCTION:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is required in production.")
    return [_dev_key()]


class TokenCipher:
    """Encrypts with the first key; decrypts with the key named in the value."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ImproperlyConfigured("At least one token encryption key is needed.")
        self.fernets = {key_id(key): Fernet(key.encode("ascii")) for key in keys}
        self.primary_id = key_id(keys[0])
        self.multi = MultiFernet(list(self.fernets.values()))

    def encrypt(self, plaintext: str) -> str:
        token = self.fernets[self.primary_id].encrypt(plaintext.encode("utf-8"))
        return f"{self.primary_id}{SEPARATOR}{token.decode('ascii')}"

    def decrypt(self, stored: str) -> str:
        kid, _, token = stored.partition(SEPARATOR)
        fernet = self.fernets.get(kid)
        if fernet is None or not token:
            raise TokenDecryptionError(f"no configured key has id {kid!r}")
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise TokenDecryptionError(f"value made with key {kid!r} does not decrypt") from exc

    def needs_rotation(self, stored: str) -> bool:
        return stored.partition(SEPARATOR)[0] != self.primary_id

    def rotate(self, stored: str) -> str:
        """Re-encrypt with the primary key (MultiFernet tries every configured key)."""
        kid, _, token = stored.partition(SEPARATOR)
        if kid not in self.fernets:
            raise TokenDecryptionError(f"no configured key has id {kid!r}")
        try:
            rotated = self.multi.rotate(token.encode("ascii"))
        except InvalidToken as exc:
            raise TokenDecryptionError(f"value made with key {kid!r} does not decrypt") from exc
        return f"{self.primary_id}{SEPARATOR}{rotated.decode('ascii')}"


@lru_cache(maxsize=4)
def _cipher_for(keys: tuple[str, ...]) -> TokenCipher:
    return TokenCipher(list(keys))


def cipher() -> TokenCipher:
    # Keyed by the key list so that tests overriding TOKEN_ENCRYPTION_KEYS get a fresh cipher.
    return _cipher_for(tuple(configured_keys()))


def encrypt(plaintext: str) -> str:
    """Encrypt a token for storage; empty stays empty (no token)."""
    return cipher().encrypt(plaintext) if plaintext else ""


def decrypt(stored: str) -> str:
    """Decrypt a stored token. Raises TokenDecryptionError; never returns the ciphertext."""
    return cipher().decrypt(stored) if stored else ""
