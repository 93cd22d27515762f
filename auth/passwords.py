"""Password hashing with argon2id: 64 MiB and three passes (RFC 9106's second recommendation)
in one lane, so a hash keeps to one core (OWASP recommends one lane, with less memory).

A hash costs tens of milliseconds of CPU by design. On the event loop that would stall every
other request, so requests use the `*_in_worker` forms: they run in a thread pool whose size
(LEASEHUB_PASSWORD_HASH_WORKERS) bounds how many hashes run at once; the rest wait their turn
without blocking the loop. argon2-cffi releases the GIL while it hashes. The plain forms are
for offline tools (the demo loader).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Four lanes (argon2-cffi's default) spread one hash over both cores of a small server, and a
# burst of logins then stalls every light query; one lane costs the same CPU on one core.
# Hashes made with other parameters still verify, and are redone at the next sign-in.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
# Verified when the login is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("leasehub-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    """One pool per configured size, made on first use; threads are not bound to a loop."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")


async def hash_in_worker(password: str, *, workers: int) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(workers), hash_password, password)


async def verify_in_worker(password_hash: str | None, password: str, *, workers: int) -> bool:
    """Like `verify_password` (the dummy hash included), off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(workers), verify_password, password_hash, password)
