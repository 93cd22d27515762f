"""GET /download/{token}: the file behind a signed link, after checking the holder's rights again.

What to serve is decided in `resolvers/downloads.py`; this module speaks HTTP and runs the
heavy work (PDF rendering, table pulls) in worker processes behind a bounded queue, so that
a burst of downloads cannot starve light queries of the CPU (the GIL) or of the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from auth.clock import warsaw_today
from auth.errors import ServiceUnavailableError
from exports.links import Grant, verify
from hub.db import Database
from hub.settings import Settings
from models.audit import acting
from models.base import utcnow
from models.i18n import Language, _, negotiate, translate
from resolvers.access_log import ACCESS_REASON_HEADER, write_access_log
from resolvers.attachments import ATTACHMENT, open_attachment
from resolvers.audit import http_frame
from resolvers.downloads import File, open_download
from resolvers.tables import PullDatabase

T = TypeVar("T")
DOWNLOAD_ACTION = "download"


def _not_found(language: Language) -> Response:
    body = {"error": translate(_("Not found."), language), "code": "NOT_FOUND"}
    return JSONResponse(body, status_code=404, headers={"Cache-Control": "no-store"})


RETRY_AFTER = "3"  # seconds: about one PDF, a small part of a pull
WORKER_NICENESS = 10  # the workers yield the CPU to the process answering requests


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


class HeavyWork:
    """Worker processes (started on first use) behind a queue that admits a download only
    while its user has fewer than `per_user` and everyone fewer than `workers + queue` under
    way. A download counts until its last job ends, also when its client left early."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.workers = settings.heavy_workers
        self.per_user = settings.heavy_per_user
        self.capacity = settings.heavy_workers + settings.heavy_queue
        url = db.read_engine.url.render_as_string(hide_password=False)
        # What a worker reads a pull through: a small pool of its own, not the requests'.
        self.open_db = partial(
            Database.from_url, url, pool_size=1, pool_timeout=settings.db_pool_timeout_seconds
        )
        self._free = asyncio.Semaphore(self.workers)
        self._pool: ProcessPoolExecutor | None = None
        self.by_user: Counter[int] = Counter()

    def admit(self, user_id: int, language: Language = Language.PL) -> Ticket | Response:
        """A ticket, or the refusal to send: 429 past the user's share, 503 when full."""
        if self.by_user[user_id] >= self.per_user:
            message = _("Too many downloads under way for you; retry shortly.")
            return _refusal(429, "TOO_MANY_REQUESTS", translate(message, language))
        if self.by_user.total() >= self.capacity:
            message = _("Downloads are busy; retry shortly.")
            return _refusal(503, "SERVICE_UNAVAILABLE", translate(message, language))
        self.by_user[user_id] += 1
        return Ticket(self, user_id)

    def release(self, user_id: int) -> None:
        self.by_user[user_id] -= 1
        if self.by_user[user_id] <= 0:
            del self.by_user[user_id]

    def _executor(self, *, fresh: bool = False) -> ProcessPoolExecutor:
        if self._pool is None or fresh:  # fresh: a crashed worker broke the old pool
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                # Spawned, not forked: a fork would copy the event loop and open connections.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._pool

    async def submit(self, fn: Callable[..., T], *args: Any, done: Callable[[], None]) -> Future[T]:
        """Waits for a free worker, then starts `fn` there; `done` runs on the event loop when
        it ends, as does freeing the worker (a cancelled request does not stop a process)."""
        await self._free.acquire()
        loop = asyncio.get_running_loop()

        def ended(_job: Future[T]) -> None:
            for callback in (self._free.release, done):
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                    loop.call_soon_threadsafe(callback)

        try:
            try:
                job = self._executor().submit(fn, *args)
            except BrokenProcessPool:
                job = self._executor(fresh=True).submit(fn, *args)
        except BaseException:
            self._free.release()
            raise
        job.add_done_callback(ended)
        return job

    async def shutdown(self) -> None:
        """Waiting jobs are dropped; running ones end first (a process is not interrupted)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


class Ticket:
    """One admitted download: runs its jobs in the workers and leaves the queue once the
    request is over and its last job has ended."""

    def __init__(self, heavy: HeavyWork, user_id: int) -> None:
        self._heavy = heavy
        self._user_id = user_id
        self.open_db: Callable[[], PullDatabase] = heavy.open_db
        self._jobs = 0
        self._open = True
        self._left = False

    async def start(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        self._jobs += 1
        try:
            job = await self._heavy.submit(fn, *args, done=self._job_ended)
        except BaseException:
            self._job_ended()
            raise
        result = asyncio.wrap_future(job)
        # Nobody may wait for it any more (a client that left): its error is not an incident.
        result.add_done_callback(lambda f: f.cancelled() or f.exception())
        return result

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await (await self.start(fn, *args))

    def close(self) -> None:
        self._open = False
        self._leave_when_idle()

    def _job_ended(self) -> None:
        self._jobs -= 1
        self._leave_when_idle()

    def _leave_when_idle(self) -> None:
        if not self._open and self._jobs == 0 and not self._left:
            self._left = True
            self._heavy.release(self._user_id)


def _refusal(status: int, code: str, message: str) -> Response:
    headers = {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def _headers(file: File) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{file.filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        **file.headers,
    }


async def _attachment(
    db: Database, settings: Settings, grant: Grant, request: Request, language: Language
) -> Response:
    """An uploaded file from storage (streamed), or one stored before in the database; a
    person at the lessor's download on the company's access log, as for other downloads."""
    frame = http_frame(request, settings.proxies, action=DOWNLOAD_ACTION)
    with acting(frame):
        file = await open_attachment(db, settings, grant, now=utcnow())
    if file is None:
        return _not_found(language)
    await write_access_log(db, frame, reason=request.headers.get(ACCESS_REASON_HEADER))
    if file.chunks is not None:
        return StreamingResponse(file.chunks, media_type=file.media_type, headers=_headers(file))
    return Response(file.content, media_type=file.media_type, headers=_headers(file))


def download_endpoint(
    db: Database, settings: Settings, heavy: HeavyWork
) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        if request.method != "GET":  # a link preview's HEAD must not render a whole export
            return Response(status_code=405, headers={"Allow": "GET"})
        now = utcnow()
        language = negotiate(request.headers.get("accept-language"))
        grant = verify(settings.secret_key, request.path_params["token"], now=now)
        if grant is None:
            return _not_found(language)
        if grant.kind == ATTACHMENT:  # a stored file: nothing to render, so no worker
            return await _attachment(db, settings, grant, request, language)
        # Admitted before any work: a refusal costs neither a worker nor a connection.
        ticket = heavy.admit(grant.user_id, language)
        if isinstance(ticket, Response):
            return ticket
        # A person at the lessor's download is noted in this frame (resolvers/downloads.py).
        frame = http_frame(request, settings.proxies, action=DOWNLOAD_ACTION)
        try:
            with acting(frame):
                file = await open_download(
                    db, settings, grant, now=now, today=warsaw_today(now), heavy=ticket
                )
            if file is not None:  # one access-log row per download, before the file goes
                await write_access_log(db, frame, reason=request.headers.get(ACCESS_REASON_HEADER))
        except ServiceUnavailableError as error:
            return _refusal(503, error.code, translate(error.text, language))
        finally:
            ticket.close()
        if file is None:
            return _not_found(language)
        # Runs after the answer, also when the client left before it began.
        cleanup = None
        if file.folder is not None:
            cleanup = BackgroundTask(shutil.rmtree, file.folder, ignore_errors=True)
        if file.path is not None:
            return FileResponse(
                file.path, media_type=file.media_type, headers=_headers(file), background=cleanup
            )
        if file.chunks is not None:
            return StreamingResponse(
                file.chunks, media_type=file.media_type, headers=_headers(file), background=cleanup
            )
        return Response(file.content, media_type=file.media_type, headers=_headers(file))

    return download
