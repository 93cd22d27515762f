"""Heavy downloads (table pulls, PDFs) wait in a bounded queue with a per-user share and run in
worker processes: past the share 429, past the queue 503, both with Retry-After and a JSON body
before any work is done; a pull reads its rows outside the request pool."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from exports.catalogue import INVOICE_COLUMNS
from exports.links import verify
from exports.streams import CsvFile
from hub.downloads import HeavyWork, Ticket
from models.base import utcnow
from tests.conftest import Hub, count_statements
from tests.hub.live import live_server
from tests.schema.helpers import client_ids

TABLE = """query($id: ID!, $f: TableFormat!) { client(id: $id) { invoicesTableUrl(format: $f) } }"""


async def table_link(hub: Hub, who: str, fmt: str = "CSV") -> str:
    client_id = (await client_ids(hub, who))[0]
    body = await hub.gql(TABLE, {"id": client_id, "f": fmt}, as_=who)
    return body["data"]["client"]["invoicesTableUrl"]  # type: ignore[no-any-return]


def heavy_of(hub: Hub) -> HeavyWork:
    return hub.app.state.heavy  # type: ignore[no-any-return]


def user_of(hub: Hub, link: str) -> int:
    assert hub.settings is not None
    grant = verify(hub.settings.secret_key, link.rsplit("/", 1)[-1], now=utcnow())
    assert grant is not None
    return grant.user_id


@contextmanager
def downloads_under_way(heavy: HeavyWork, *users: int) -> Iterator[list[Ticket]]:
    """Downloads admitted for `users` and still running (as a long pull would be)."""
    tickets = []
    for user in users:
        ticket = heavy.admit(user)
        assert isinstance(ticket, Ticket)
        tickets.append(ticket)
    try:
        yield tickets
    finally:
        for ticket in tickets:
            ticket.close()


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == code


async def test_a_download_past_the_users_share_answers_429_with_retry_after(hub: Hub) -> None:
    heavy = heavy_of(hub)
    anna_link, jan_link = await table_link(hub, "anna"), await table_link(hub, "jan")
    anna = user_of(hub, anna_link)
    with downloads_under_way(heavy, *[anna] * heavy.per_user):
        refused = await hub.client.get(anna_link)
        others = await hub.client.get(jan_link)  # someone else's download still runs
    assert_refused(refused, 429, "TOO_MANY_REQUESTS")
    assert others.status_code == 200 and others.content
    again = await hub.client.get(anna_link)  # once hers end, the same link works
    assert again.status_code == 200 and again.content
    assert heavy.by_user.total() == 0  # every finished download left the queue


async def test_a_download_past_a_full_queue_answers_503_with_retry_after(hub: Hub) -> None:
    heavy = heavy_of(hub)
    link = await table_link(hub, "jan", "XLSX")
    strangers = range(-heavy.capacity, 0)  # one download each, filling workers and queue
    with downloads_under_way(heavy, *strangers):
        refused = await hub.client.get(link)
    assert_refused(refused, 503, "SERVICE_UNAVAILABLE")
    served = await hub.client.get(link)
    assert served.status_code == 200 and served.content.startswith(b"PK")
    assert heavy.by_user.total() == 0


async def test_a_pull_reads_its_rows_outside_the_request_pool(hub: Hub) -> None:
    link = await table_link(hub, "anna")
    with count_statements(hub.db) as seen:
        response = await hub.client.get(link)
    assert response.status_code == 200
    assert len(response.text.splitlines()) > 1  # the rows did come, from the worker's reads
    # The request pool only checked the holder's rights: no invoice page was read through it.
    assert not [statement for statement in seen if "FROM invoices" in statement]


async def test_a_csv_pull_left_before_its_first_byte_leaves_no_folder(hub: Hub) -> None:
    """The client reads the headers and hangs up: the pull's folder goes all the same."""
    folders = set(Path(tempfile.gettempdir()).glob("leasehub-*"))
    client_id = (await client_ids(hub, "anna"))[0]
    body = await hub.gql(
        "query($id: ID!) { client(id: $id) { invoicesTableUrl(format: CSV) } }",
        {"id": client_id},
        as_="anna",
    )
    path = httpx.URL(body["data"]["client"]["invoicesTableUrl"]).raw_path.decode()
    async with live_server(hub.app) as base, httpx.AsyncClient(base_url=base) as client:
        async with client.stream("GET", path) as response:
            assert response.status_code == 200  # and not one byte of the body is read
        for _ in range(100):  # bounded: at most 10 s for the server to notice and clean up
            if set(Path(tempfile.gettempdir()).glob("leasehub-*")) <= folders:
                break
            await asyncio.sleep(0.1)
    assert set(Path(tempfile.gettempdir()).glob("leasehub-*")) <= folders


def test_a_failed_csv_pull_leaves_its_file_empty(tmp_path: Path) -> None:
    """Empty, the server can still answer the failure with an error status."""
    failed, empty = tmp_path / "failed.csv", tmp_path / "empty.csv"
    CsvFile(failed, INVOICE_COLUMNS, polish=False).close(complete=False)
    CsvFile(empty, INVOICE_COLUMNS, polish=False).close()
    assert failed.read_bytes() == b""
    assert empty.read_bytes().startswith(b"\xef\xbb\xbfId,")
