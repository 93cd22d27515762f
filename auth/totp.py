"""Optional second factor: TOTP (RFC 6238, via pyotp) and single-use recovery codes.

The TOTP secret must be readable to check codes, so it is encrypted (Fernet, key derived from
the server secret) rather than hashed. A code is accepted once: the last used time step is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken

ISSUER = "LeaseHub"
RECOVERY_CODES = 10
STEP = 30


def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(b"totp-secret:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt(secret_key: str, totp_secret: str) -> str:
    return _fernet(secret_key).encrypt(totp_secret.encode()).decode()


def decrypt(secret_key: str, stored: str) -> str | None:
    try:
        return _fernet(secret_key).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(totp_secret: str, account: str) -> str:
    return pyotp.TOTP(totp_secret).provisioning_uri(name=account, issuer_name=ISSUER)


def matching_step(totp_secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to (now ±1 step), unless that step was used already."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(totp_secret)
    current = int(now.timestamp()) // STEP
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step if last_step is None or step > last_step else None
    return None


def new_recovery_codes() -> list[str]:
    return [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
