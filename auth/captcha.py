"""Image captcha behind a pluggable verifier.

The challenge is stateless: its id carries the expiry, a nonce and a keyed hash of the answer,
signed with the server's secret; the answer itself is never sent. Single use is enforced by the
caller, which claims the nonce with `auth.throttle.claim` (a row under a unique key), so one
solved image cannot be replayed, not even by parallel requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from captcha.image import ImageCaptcha

ALPHABET = "ABCDEFHJKLMNPRSTUVWXYZ2345678"  # no 0/O, 1/I, 9/g look-alikes
LENGTH = 5
LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Challenge:
    id: str
    png: bytes


@dataclass(frozen=True, slots=True)
class Solution:
    nonce: str  # the caller records it, so the same challenge is never accepted twice


class CaptchaVerifier(Protocol):
    def create(self, *, now: datetime) -> Challenge: ...

    def verify(self, challenge_id: str, answer: str, *, now: datetime) -> Solution | None: ...


def _sign(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def random_text() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


@dataclass
class ImageCaptchaVerifier:
    secret_key: str
    text_source: Callable[[], str] = random_text  # tests plug in a known text; nothing else does

    def _key(self) -> bytes:
        return hashlib.sha256(b"captcha:" + self.secret_key.encode()).digest()

    def create(self, *, now: datetime) -> Challenge:
        text = self.text_source().upper()
        nonce = secrets.token_urlsafe(12)
        claims = {
            "exp": int((now + LIFETIME).timestamp()),
            "nonce": nonce,
            "answer": _sign(self._key(), f"{nonce}:{text}".encode()),
        }
        raw = json.dumps(claims, separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        png = ImageCaptcha(width=200, height=70).generate(text).getvalue()
        return Challenge(id=f"{token}.{_sign(self._key(), raw)}", png=png)

    def verify(self, challenge_id: str, answer: str, *, now: datetime) -> Solution | None:
        token, _, signature = challenge_id.partition(".")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            claims = json.loads(raw)
            expected = _sign(self._key(), raw)
            if not hmac.compare_digest(signature, expected) or claims["exp"] < now.timestamp():
                return None
            typed = answer.strip().upper()
            given = _sign(self._key(), f"{claims['nonce']}:{typed}".encode())
            return (
                Solution(claims["nonce"]) if hmac.compare_digest(given, claims["answer"]) else None
            )
        except (ValueError, KeyError, TypeError):
            return None
