"""Where uploaded files live: a small interface and its filesystem default.

Files are stored under generated keys only; the name a client gave is kept in the database for
display and never becomes a path. A write that fails half-way (a body too long, a client gone)
leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def new_key(self) -> str:
        """A fresh random key (recorded before writing, so a crash leaves a findable file)."""
        ...

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> Stored:
        """Writes the stream under `key`; on any error nothing is kept and it re-raises."""
        ...

    def local_path(self, key: str) -> Path:
        """A local file with the content, for checks that need random access."""
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The content, in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the file; a missing one is no error."""
        ...


class FileStorage:
    """Files in one folder (created on first use), named by random keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def local_path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours; anything else is never a path
            raise ValueError("not a storage key")
        return self.folder / key

    def new_key(self) -> str:
        return secrets.token_hex(16)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> Stored:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        path = self.local_path(key)
        digest, size = hashlib.sha256(), 0
        try:
            # "x": a key that happened to exist is never overwritten.
            with path.open("xb") as file:
                async for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    await asyncio.to_thread(file.write, chunk)
                await asyncio.to_thread(os.fsync, file.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes]:
        with self.local_path(key).open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.local_path(key).unlink)


def file_storage(folder: Path) -> Storage:
    return FileStorage(folder)
