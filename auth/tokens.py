"""Opaque bearer secrets: random, shown once, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

SESSION_PREFIX = "lhs_"
API_TOKEN_PREFIX = "lht_"  # noqa: S105 - a prefix, not a secret
SUPPORT_PREFIX = "lhv_"  # a support view's token


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # A fast hash is right here: the secret has 256 bits of entropy, unlike a password.
    return hashlib.sha256(secret.encode()).hexdigest()
