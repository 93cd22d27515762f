"""Opaque global ids: base64 of "Type:pk". Clients must treat them as strings."""

from __future__ import annotations

import base64
import binascii

from auth.errors import NotFoundError
from models.base import parse_id

_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, pk: int) -> str:
    # base64.urlsafe_b64encode's work without its two Python-level calls: ids are built for
    # every object of every answer.
    encoded = binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
    return encoded.translate(_URL_SAFE).decode().rstrip("=")


def from_global_id(global_id: str, *, field: str = "id") -> tuple[str, int]:
    """(type name, pk); a malformed id is simply not found, like any unknown one."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
        type_name, _, raw_pk = raw.partition(":")
        pk = parse_id(raw_pk)
        if not type_name or pk is None:
            raise ValueError(global_id)
        return type_name, pk
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise NotFoundError(field=field) from error


def pk_of(global_id: str, type_name: str, *, field: str = "id") -> int:
    """The pk of an id that must name `type_name`; any other id is not found."""
    found_type, pk = from_global_id(global_id, field=field)
    if found_type != type_name:
        raise NotFoundError(field=field)
    return pk
