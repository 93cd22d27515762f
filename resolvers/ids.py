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


class GlobalIds:
    """One type's global ids, kept once made: an answer makes one for every object in it, and
    a dashboard asks for the same objects again and again. Bounded: emptied when full."""

    __slots__ = ("_made", "maxsize", "type_name")

    def __init__(self, type_name: str, *, maxsize: int = 20_000) -> None:
        self.type_name = type_name
        self.maxsize = maxsize
        self._made: dict[int, str] = {}

    def __call__(self, pk: int) -> str:
        made = self._made.get(pk)
        if made is None:
            if len(self._made) >= self.maxsize:
                self._made.clear()
            made = self._made[pk] = to_global_id(self.type_name, pk)
        return made


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
