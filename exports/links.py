"""Short-lived signed download links.

A link names what to download, for whom, until when, signed with the server key. The route
that serves it checks the signature and the expiry, then the holder's rights again, so a link
of someone who lost access stops working. Every refusal looks the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

LIFETIME = timedelta(minutes=5)
# What a link is for, part of its signing key: a download link never opens an upload and an
# upload link never downloads (resolvers/attachments.py).
DOWNLOAD = "download-link"
UPLOAD = "upload-link"


@dataclass(frozen=True, slots=True)
class Grant:
    kind: str  # what is exported, e.g. "schedule"
    object_id: int
    user_id: int
    options: tuple[tuple[str, str], ...]  # e.g. (("format", "xlsx"), ("lang", "pl"))
    expires: int  # Unix time

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)


def _key(secret_key: str, purpose: str = DOWNLOAD) -> bytes:
    return hashlib.sha256(f"{purpose}:".encode() + secret_key.encode()).digest()


def sign(
    secret_key: str,
    *,
    kind: str,
    object_id: int,
    user_id: int,
    now: datetime,
    options: dict[str, str] | None = None,
    purpose: str = DOWNLOAD,
) -> str:
    claims = [
        kind,
        object_id,
        user_id,
        sorted((options or {}).items()),
        int((now + LIFETIME).timestamp()),
    ]
    raw = json.dumps(claims, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    signature = hmac.new(_key(secret_key, purpose), body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def verify(secret_key: str, token: str, *, now: datetime, purpose: str = DOWNLOAD) -> Grant | None:
    """The grant of a well-signed, unexpired token; None for anything else."""
    body, _, signature = token.partition(".")
    try:
        expected = hmac.new(_key(secret_key, purpose), body.encode(), hashlib.sha256).digest()
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if not hmac.compare_digest(expected, given):
            return None
        kind, object_id, user_id, options, expires = json.loads(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        )
        grant = Grant(
            str(kind),
            int(object_id),
            int(user_id),
            tuple((str(k), str(v)) for k, v in options),
            int(expires),
        )
    except (ValueError, TypeError):
        return None
    return grant if grant.expires >= now.timestamp() else None
