"""Loaders of relocation orders: their change history."""

from __future__ import annotations

from loaders.base import ManyByKeyLoader
from models.tyre import TyreRelocationEvent


class EventsByRelocationIdLoader(ManyByKeyLoader[TyreRelocationEvent]):
    model = TyreRelocationEvent
    key = "relocation_id"
    order_by = ("created_at", "id")
