"""Staged attachment uploads end to end: declare, PUT once, kind by content, claim, download."""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from exports.links import UPLOAD, sign
from hub.demo import DEMO_MAIN_EMAIL, DEMO_PASSWORD, DemoSpec, load_demo
from models.attachment import Attachment, AttachmentStatus
from models.audit import AccessLogEntry
from models.base import utcnow
from models.client import Client
from models.identity import StaffRole
from models.message import Message
from models.request import Request, RequestStageEntry
from resolvers.attachments import (
    UPLOAD_KIND,
    claim_attachments,
    prune_uploads,
    storage_of,
    stored_bytes,
)
from resolvers.errors import Abort
from resolvers.ids import from_global_id, to_global_id
from tests.auth.helpers import TOKEN_CREATE, first_company, staff_token
from tests.conftest import LOGIN, DatabaseFactory, Hub, open_hub
from tests.schema.helpers import client_ids, error_codes

MiB = 1024 * 1024
DECLARE = """mutation($c: ID!, $n: String!, $t: String!, $s: Int!, $p: AttachmentPurpose) {
  attachmentUploadCreate(input: {clientId: $c, fileName: $n, contentType: $t, size: $s,
                                 purpose: $p}) {
    uploadUrl attachment { id status } errors { field code message } } }"""
LINK = """query($id: ID!) { node(id: $id) { ... on Attachment {
  filename kind status used downloadUrl } } }"""


@pytest.fixture(scope="module")
async def uploads(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    """A demo of its own whose storage folder the tests look into."""
    folder = tmp_path_factory.mktemp("attachments") / "store"  # created on first use
    hub, db = await open_hub(
        await databases.create(),
        LEASEHUB_ATTACHMENT_DIR=str(folder),
        LEASEHUB_ATTACHMENT_MAX_BYTES=str(3 * MiB),
        LEASEHUB_ATTACHMENT_QUOTA_BYTES=str(8 * MiB),
    )
    await load_demo(db.engine, DemoSpec(clients=3, seed=11))
    body = await hub.gql(LOGIN, {"login": DEMO_MAIN_EMAIL, "password": DEMO_PASSWORD})
    hub.tokens["anna"] = body["data"]["login"]["token"]
    yield hub
    await hub.close()
    await db.dispose()


# ---- files built here, by hand -------------------------------------------------------------


def pdf_file() -> bytes:
    """The smallest well-formed PDF: one empty page, its cross-reference table and trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def zip_file(entries: dict[str, bytes], **options: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, **options) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_file() -> bytes:
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
        b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        b"</Types>"
    )
    return zip_file(
        {
            "[Content_Types].xml": content_types,
            "word/document.xml": b"<w:document><w:body><w:p/></w:body></w:document>",
        }
    )


def doc_file() -> bytes:
    """An OLE2 compound file header (the form of a Word 97-2003 .doc), padded to a sector."""
    return bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)


def png_file() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_file() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


# ---- helpers -------------------------------------------------------------------------------


async def company(hub: Hub) -> str:
    return await first_company(hub)


async def declare(
    hub: Hub,
    name: str,
    size: int,
    *,
    purpose: str = "REQUEST",
    client: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    body = await hub.gql(
        DECLARE,
        {
            "c": client or await company(hub),
            "n": name,
            "t": "application/octet-stream",
            "s": size,
            "p": purpose,
        },
        token=token or hub.tokens["anna"],
    )
    return body


async def declared(hub: Hub, name: str, size: int, **kw: Any) -> tuple[str, int]:
    """The upload link and the attachment's pk of a declaration that must succeed."""
    body = await declare(hub, name, size, **kw)
    payload = body["data"]["attachmentUploadCreate"]
    assert payload["errors"] == [], payload
    assert payload["attachment"]["status"] == "PENDING"
    return payload["uploadUrl"], from_global_id(payload["attachment"]["id"])[1]


async def put(hub: Hub, url: str, content: bytes | Any) -> httpx.Response:
    return await hub.client.put(url, content=content)


def stored_files(hub: Hub) -> set[str]:
    folder: Path = hub.settings.attachment_dir  # type: ignore[union-attr]
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


async def row(hub: Hub, pk: int) -> Attachment | None:
    async with hub.db.read() as session:
        return await session.get(Attachment, pk)


async def upload(hub: Hub, name: str, content: bytes, **kw: Any) -> tuple[httpx.Response, int]:
    url, pk = await declared(hub, name, len(content), **kw)
    return await put(hub, url, content), pk


async def assert_refused_leaves_nothing(
    hub: Hub, name: str, content: bytes, code: str, status: int = 422
) -> None:
    before = stored_files(hub)
    response, pk = await upload(hub, name, content)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert stored_files(hub) == before
    assert await row(hub, pk) is None


# ---- happy paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "kind", "purpose"),
    [
        ("umowa.pdf", pdf_file, "PDF", "REQUEST"),
        ("aneks.docx", docx_file, "DOCX", "REQUEST"),
        ("stary.doc", doc_file, "DOC", "REQUEST"),
        ("skany.zip", lambda: zip_file({"a.pdf": pdf_file(), "b.txt": b"hello"}), "ZIP", "REQUEST"),
        ("zdjęcie szkody.png", png_file, "PNG", "MESSAGE"),
        ("foto.jpg", jpeg_file, "JPEG", "MESSAGE"),
    ],
)
async def test_uploaded_file_is_ready_by_its_content_and_downloads_as_sent(
    uploads: Hub, name: str, build: Any, kind: str, purpose: str
) -> None:
    content = build()
    before = stored_files(uploads)
    response, pk = await upload(uploads, name, content, purpose=purpose)
    assert response.status_code == 200, response.text
    assert response.json()["attachment"]["kind"] == kind
    stored = await row(uploads, pk)
    assert stored is not None and stored.status is AttachmentStatus.READY
    assert stored.content is None and stored.filename == name
    assert stored_files(uploads) - before == {stored.storage_key}  # a generated name
    node = await uploads.gql(LINK, {"id": to_global_id("Attachment", pk)}, as_="anna")
    shown = node["data"]["node"]
    assert (shown["kind"], shown["status"], shown["used"]) == (kind, "READY", False)
    download = await uploads.client.get(shown["downloadUrl"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_file_stored_in_the_database_before_staged_uploads_still_downloads(
    uploads: Hub,
) -> None:
    async with uploads.db.write() as session:
        legacy = Attachment(
            client_id=from_global_id(await company(uploads))[1],
            filename="stary.pdf",
            content_type="application/pdf",
            size=len(pdf_file()),
            sha256="0" * 64,
            content=pdf_file(),
        )
        session.add(legacy)
        await session.flush()
        pk = legacy.id
    node = await uploads.gql(LINK, {"id": to_global_id("Attachment", pk)}, as_="anna")  # type: ignore[arg-type]
    download = await uploads.client.get(node["data"]["node"]["downloadUrl"])
    assert download.status_code == 200 and download.content == pdf_file()


# ---- refused declarations ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "purpose", "field", "code"),
    [
        ("x.pdf.exe", 100, "REQUEST", "fileName", "UNSUPPORTED_FILE_TYPE"),
        # (a NUL never gets this far: tests/hub/test_http.py, INVALID_CHARACTERS)
        ("umowa\x1b.pdf", 100, "REQUEST", "fileName", "INVALID_FILE_NAME"),
        ("umowa\u202egpj.pdf", 100, "REQUEST", "fileName", "INVALID_FILE_NAME"),
        ("../../etc/passwd.pdf", 100, "REQUEST", "fileName", "INVALID_FILE_NAME"),
        ("zdjęcie.png", 100, "REQUEST", "fileName", "UNSUPPORTED_FILE_TYPE"),  # messages only
        ("duży.pdf", 3 * MiB + 1, "REQUEST", "size", "FILE_TOO_LARGE"),
        ("pusty.pdf", 0, "REQUEST", "size", "INVALID_SIZE"),
    ],
)
async def test_declaration_with_bad_name_or_size_is_refused_and_writes_nothing(
    uploads: Hub, name: str, size: int, purpose: str, field: str, code: str
) -> None:
    async with uploads.db.read() as session:
        count = len((await session.execute(select(Attachment.id))).all())
    body = await declare(uploads, name, size, purpose=purpose)
    payload = body["data"]["attachmentUploadCreate"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["uploadUrl"] is None and payload["attachment"] is None
    async with uploads.db.read() as session:
        assert len((await session.execute(select(Attachment.id))).all()) == count


async def test_declarations_past_the_company_quota_are_refused(uploads: Hub) -> None:
    # 8 MiB per company: two files of 3 MiB fit, a third does not (live links count too).
    links = [await declared(uploads, f"plik{i}.pdf", 3 * MiB) for i in range(2)]
    try:
        body = await declare(uploads, "trzeci.pdf", 3 * MiB)
        errors = body["data"]["attachmentUploadCreate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("size", "QUOTA_EXCEEDED")]
    finally:
        async with uploads.db.write() as session:
            for _url, pk in links:
                await session.delete(await session.get(Attachment, pk))


async def test_another_companys_client_is_answered_as_missing(uploads: Hub) -> None:
    own = {from_global_id(gid)[1] for gid in await client_ids(uploads, "anna")}
    async with uploads.db.read() as session:
        other = (
            (await session.execute(select(Client.id).where(Client.id.not_in(own))))  # type: ignore[union-attr]
            .scalars()
            .first()
        )
    assert other is not None
    body = await declare(uploads, "a.pdf", 100, client=to_global_id("Client", other))
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["extensions"].get("field") in (None, "clientId")


@pytest.mark.parametrize(
    ("scopes", "read_only", "code"),
    [(["REQUESTS_READ", "MESSAGES_READ"], False, "FORBIDDEN"), (None, True, "FORBIDDEN")],
)
async def test_tokens_without_write_scope_or_read_only_cannot_declare(
    uploads: Hub, scopes: list[str] | None, read_only: bool, code: str
) -> None:
    company_id = await company(uploads)
    created = await uploads.gql(
        TOKEN_CREATE, {"c": company_id, "s": scopes, "ro": read_only}, as_="anna"
    )
    secret = created["data"]["apiTokenCreate"]["token"]
    body = await declare(uploads, "a.pdf", 100, token=secret)
    assert error_codes(body) == [code]


async def test_messages_write_alone_cannot_declare_a_request_file(uploads: Hub) -> None:
    created = await uploads.gql(
        TOKEN_CREATE,
        {"c": await company(uploads), "s": ["MESSAGES_WRITE"], "ro": False},
        as_="anna",
    )
    secret = created["data"]["apiTokenCreate"]["token"]
    assert error_codes(await declare(uploads, "a.pdf", 100, token=secret)) == ["FORBIDDEN"]
    body = await declare(uploads, "a.png", 100, token=secret, purpose="MESSAGE")
    assert body["data"]["attachmentUploadCreate"]["errors"] == []


# ---- refused uploads: nothing stays ------------------------------------------------------


async def test_html_page_named_pdf_is_refused(uploads: Hub) -> None:
    page = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    await assert_refused_leaves_nothing(uploads, "faktura.pdf", page, "UNSUPPORTED_FILE_CONTENT")


async def test_pdf_that_is_also_a_zip_is_refused(uploads: Hub) -> None:
    polyglot = pdf_file() + zip_file({"evil.html": b"<script>alert(1)</script>"})
    await assert_refused_leaves_nothing(uploads, "umowa.pdf", polyglot, "POLYGLOT_FILE")


async def test_content_of_another_kind_than_the_name_is_refused(uploads: Hub) -> None:
    await assert_refused_leaves_nothing(uploads, "umowa.pdf", docx_file(), "FILE_KIND_MISMATCH")


async def test_zip_bomb_is_refused(uploads: Hub) -> None:
    bomb = zip_file({"zeros.bin": bytes(20 * MiB)})  # 20 MiB of zeros pack to about 20 KiB
    assert len(bomb) < 100 * 1024
    await assert_refused_leaves_nothing(uploads, "bomba.zip", bomb, "ARCHIVE_RATIO_TOO_HIGH")


async def test_zip_of_ten_thousand_entries_is_refused(uploads: Hub) -> None:
    many = zip_file({f"f{i}.txt": b"x" for i in range(10_000)})
    await assert_refused_leaves_nothing(uploads, "dużo.zip", many, "ARCHIVE_TOO_MANY_ENTRIES")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (zip_file({"../../etc/cron.d/x": b"x"}), "ARCHIVE_UNSAFE_PATH"),
        (zip_file({"/etc/passwd": b"x"}), "ARCHIVE_UNSAFE_PATH"),
        (
            zip_file({"inner.zip": zip_file({"deeper.zip": zip_file({"a.txt": b"a"})})}),
            "ARCHIVE_NESTED_TOO_DEEP",
        ),
    ],
)
async def test_archive_with_unsafe_entries_is_refused(
    uploads: Hub, content: bytes, code: str
) -> None:
    await assert_refused_leaves_nothing(uploads, "paczka.zip", content, code)


async def test_archive_with_a_link_entry_is_refused(uploads: Hub) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link")
        link.external_attr = 0o120777 << 16  # a symbolic link, as `zip --symlinks` stores it
        archive.writestr(link, "/etc/passwd")
    await assert_refused_leaves_nothing(
        uploads, "linki.zip", buffer.getvalue(), "ARCHIVE_LINK_ENTRY"
    )


async def test_archive_with_one_level_of_nested_zip_is_accepted(uploads: Hub) -> None:
    nested = zip_file({"inner.zip": zip_file({"a.pdf": pdf_file()})})
    response, _pk = await upload(uploads, "paczka.zip", nested)
    assert response.status_code == 200, response.text


async def test_body_shorter_than_declared_leaves_no_file(uploads: Hub) -> None:
    before = stored_files(uploads)
    url, pk = await declared(uploads, "umowa.pdf", len(pdf_file()) + 10)
    response = await put(uploads, url, pdf_file())
    assert (response.status_code, response.json()["code"]) == (400, "UPLOAD_SIZE_MISMATCH")
    assert stored_files(uploads) == before and await row(uploads, pk) is None


async def test_body_cut_off_at_the_declared_size_leaves_no_file(uploads: Hub) -> None:
    """Sent without a length, so only the counting while reading can stop it."""
    before = stored_files(uploads)
    url, pk = await declared(uploads, "umowa.pdf", 3 * MiB)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 64 MiB if nobody stops it
            sent += 64 * 1024
            yield bytes(64 * 1024)

    response = await put(uploads, url, endless())
    assert (response.status_code, response.json()["code"]) == (413, "UPLOAD_LARGER_THAN_DECLARED")
    assert stored_files(uploads) == before and await row(uploads, pk) is None


async def test_client_gone_mid_upload_leaves_no_file(uploads: Hub) -> None:
    before = stored_files(uploads)
    url, pk = await declared(uploads, "umowa.pdf", 1 * MiB)

    async def broken() -> AsyncIterator[bytes]:
        yield bytes(64 * 1024)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await put(uploads, url, broken())
    assert stored_files(uploads) == before and await row(uploads, pk) is None


# ---- the link ----------------------------------------------------------------------------


async def test_used_link_is_refused_the_second_time(uploads: Hub) -> None:
    response, pk = await upload(uploads, "umowa.pdf", pdf_file())
    assert response.status_code == 200
    async with uploads.db.read() as session:
        key = (await session.get(Attachment, pk)).storage_key  # type: ignore[union-attr]
    again = await put(uploads, str(response.request.url), pdf_file())
    assert (again.status_code, again.json()["code"]) == (409, "UPLOAD_LINK_USED")
    assert (await row(uploads, pk)).storage_key == key  # type: ignore[union-attr]


async def test_expired_link_is_refused(uploads: Hub) -> None:
    url, pk = await declared(uploads, "umowa.pdf", len(pdf_file()))
    async with uploads.db.write() as session:
        await session.execute(
            update(Attachment)
            .where(Attachment.id == pk)
            .values(upload_expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await put(uploads, url, pdf_file())
    assert (response.status_code, response.json()["code"]) == (410, "UPLOAD_LINK_EXPIRED")
    # A link whose own signed expiry has passed is not even recognised.
    settings = uploads.settings
    assert settings is not None
    stale = sign(
        settings.secret_key,
        kind=UPLOAD_KIND,
        object_id=pk,
        user_id=1,
        now=utcnow() - timedelta(minutes=6),
        purpose=UPLOAD,
    )
    response = await uploads.client.put(f"/upload/{stale}", content=pdf_file())
    assert response.status_code == 404


async def test_download_link_is_no_upload_link_and_the_reverse(uploads: Hub) -> None:
    _response, pk = await upload(uploads, "umowa.pdf", pdf_file())
    node = await uploads.gql(LINK, {"id": to_global_id("Attachment", pk)}, as_="anna")
    download_token = node["data"]["node"]["downloadUrl"].rsplit("/", 1)[1]
    as_upload = await uploads.client.put(f"/upload/{download_token}", content=pdf_file())
    assert as_upload.status_code == 404
    url, _pk = await declared(uploads, "drugi.pdf", len(pdf_file()))
    as_download = await uploads.client.get(url.replace("/upload/", "/download/"))
    assert as_download.status_code == 404


async def test_twenty_parallel_uploads_on_one_link_store_one_file(uploads: Hub) -> None:
    before = stored_files(uploads)
    url, pk = await declared(uploads, "umowa.pdf", len(pdf_file()))
    responses = await asyncio.gather(*(put(uploads, url, pdf_file()) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19
    stored = await row(uploads, pk)
    assert stored is not None and stored.status is AttachmentStatus.READY
    assert stored_files(uploads) - before == {stored.storage_key}


# ---- claiming ----------------------------------------------------------------------------


async def _stage_and_message(hub: Hub, client_id: int) -> tuple[int, int]:
    async with hub.db.read() as session:
        stage = (
            (
                await session.execute(
                    select(RequestStageEntry.id)
                    .join(Request, Request.id == RequestStageEntry.request_id)
                    .where(Request.client_id == client_id)
                )
            )
            .scalars()
            .first()
        )
        message = (
            (await session.execute(select(Message.id).where(Message.client_id == client_id)))
            .scalars()
            .first()
        )
    assert stage is not None and message is not None
    return stage, message


async def _claim(hub: Hub, ids: list[int], client_id: int, **target: int) -> str | None:
    try:
        async with hub.db.write() as session:
            await claim_attachments(session, ids=ids, client_id=client_id, now=utcnow(), **target)
    except Abort as abort:
        return abort.errors[0].code
    return None


async def test_attachment_is_claimed_once_by_its_own_company(uploads: Hub) -> None:
    client_id = from_global_id(await company(uploads))[1]
    stage, message = await _stage_and_message(uploads, client_id)
    first, a = await upload(uploads, "a.pdf", pdf_file())
    second, b = await upload(uploads, "b.pdf", pdf_file())
    picture, p = await upload(uploads, "c.png", png_file(), purpose="MESSAGE")
    assert {first.status_code, second.status_code, picture.status_code} == {200}
    _url, pending = await declared(uploads, "d.pdf", 100)

    assert await _claim(uploads, [a], client_id + 1000, request_stage_id=stage) == "NOT_FOUND"
    assert await _claim(uploads, [a, pending], client_id, request_stage_id=stage) == (
        "ATTACHMENT_NOT_READY"
    )
    assert await _claim(uploads, [p], client_id, request_stage_id=stage) == (
        "UNSUPPORTED_FILE_TYPE"
    )
    assert await _claim(uploads, [a, b], client_id, request_stage_id=stage) is None
    assert await _claim(uploads, [b], client_id, request_stage_id=stage) == "ATTACHMENT_USED"
    assert await _claim(uploads, [p], client_id, message_id=message) is None
    async with uploads.db.write() as session:  # stored before claims existed, as the demo does
        older = Attachment(
            client_id=client_id,
            request_stage_id=stage,
            filename="stary.pdf",
            content_type="application/pdf",
            size=3,
            sha256="0" * 64,
            content=b"abc",
        )
        session.add(older)
        await session.flush()
        older_id = older.id
    assert older_id is not None
    assert await _claim(uploads, [older_id], client_id, request_stage_id=stage) == (
        "ATTACHMENT_USED"
    )
    claimed = await row(uploads, a)
    assert claimed is not None and claimed.request_stage_id == stage
    assert claimed.claimed_at is not None
    # A refused claim changed nothing: `a` alone was not taken by the NOT_READY attempt.
    node = await uploads.gql(LINK, {"id": to_global_id("Attachment", b)}, as_="anna")
    assert node["data"]["node"]["used"] is True


async def test_twenty_parallel_claims_of_one_file_take_it_once(uploads: Hub) -> None:
    client_id = from_global_id(await company(uploads))[1]
    stage, _message = await _stage_and_message(uploads, client_id)
    response, pk = await upload(uploads, "a.pdf", pdf_file())
    assert response.status_code == 200
    results = await asyncio.gather(
        *(_claim(uploads, [pk], client_id, request_stage_id=stage) for _ in range(20))
    )
    assert sorted(results, key=lambda code: code or "") == [None] + ["ATTACHMENT_USED"] * 19


async def test_download_checks_the_holders_read_scope_again(uploads: Hub) -> None:
    """A file sent for a request is read with requests:read (a messages-only token finds no
    such node), and its link stops working when the token behind it is revoked."""
    _response, pk = await upload(uploads, "umowa.pdf", pdf_file())
    company_id = await company(uploads)
    variables = {"id": to_global_id("Attachment", pk)}

    async def token(scopes: list[str]) -> tuple[str, str]:
        created = await uploads.gql(
            TOKEN_CREATE, {"c": company_id, "s": scopes, "ro": True}, as_="anna"
        )
        answer = created["data"]["apiTokenCreate"]
        return answer["token"], answer["apiToken"]["id"]

    messages_only, _id = await token(["MESSAGES_READ"])
    assert (await uploads.gql(LINK, variables, token=messages_only))["data"]["node"] is None
    reader, reader_id = await token(["MESSAGES_READ", "REQUESTS_READ"])
    url = (await uploads.gql(LINK, variables, token=reader))["data"]["node"]["downloadUrl"]
    assert (await uploads.client.get(url)).status_code == 200
    revoked = await uploads.gql(
        "mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) { errors { code } } }",
        {"id": reader_id},
        as_="anna",
    )
    assert revoked["data"]["apiTokenRevoke"]["errors"] == []
    assert (await uploads.client.get(url)).status_code == 404


async def test_refused_upload_is_explained_in_polish(uploads: Hub) -> None:
    url, _pk = await declared(uploads, "umowa.pdf", 5)
    response = await uploads.client.put(url, content=b"<html", headers={"Accept-Language": "pl"})
    assert response.json() == {
        "error": "Zawartość pliku nie jest żadnym z akceptowanych rodzajów plików.",
        "code": "UNSUPPORTED_FILE_CONTENT",
    }


async def test_prune_forgets_expired_declarations_and_half_written_uploads(uploads: Hub) -> None:
    settings = uploads.settings
    assert settings is not None
    _url, never_sent = await declared(uploads, "a.pdf", 100)
    _url, half_written = await declared(uploads, "b.pdf", 100)
    _url, fresh = await declared(uploads, "c.pdf", 100)
    storage = storage_of(settings)
    key = storage.new_key()

    async def some_bytes() -> AsyncIterator[bytes]:
        yield b"%PDF-"

    await storage.put(key, some_bytes())
    long_ago = utcnow() - timedelta(hours=2)
    async with uploads.db.write() as session:
        await session.execute(
            update(Attachment)
            .where(Attachment.id == never_sent)
            .values(upload_expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.execute(
            update(Attachment)
            .where(Attachment.id == half_written)
            .values(status=AttachmentStatus.UPLOADING, storage_key=key, upload_expires_at=long_ago)
        )
    # Other tests leave expired declarations too.
    assert await prune_uploads(uploads.db, settings, now=utcnow()) >= 2
    assert await row(uploads, never_sent) is None and await row(uploads, half_written) is None
    assert await row(uploads, fresh) is not None
    assert key not in stored_files(uploads)


async def test_twenty_parallel_declarations_never_pass_the_quota(uploads: Hub) -> None:
    client_id = from_global_id(await company(uploads))[1]
    async with uploads.db.read() as session:
        used = await stored_bytes(session, client_id, utcnow())
    free = 8 * MiB - used
    bodies = await asyncio.gather(*(declare(uploads, f"p{i}.pdf", MiB) for i in range(20)))
    payloads = [body["data"]["attachmentUploadCreate"] for body in bodies]
    accepted = [p["attachment"]["id"] for p in payloads if not p["errors"]]
    refused = {e["code"] for p in payloads for e in p["errors"]}
    try:
        assert len(accepted) == free // MiB
        assert refused == {"QUOTA_EXCEEDED"}
    finally:
        async with uploads.db.write() as session:
            for gid in accepted:
                await session.delete(await session.get(Attachment, from_global_id(gid)[1]))


async def test_a_staff_download_of_an_attachment_is_on_the_companys_access_log(
    uploads: Hub,
) -> None:
    response, pk = await upload(uploads, "skan.pdf", pdf_file())
    assert response.status_code == 200, response.text
    async with uploads.db.read() as session:
        attachment = await session.get(Attachment, pk)
        assert attachment is not None
        company = attachment.client_id
    uploads.tokens["staff"] = await staff_token(uploads, StaffRole.CUSTOMER_SERVICE)

    async def logged() -> int:
        async with uploads.db.read() as session:
            query = select(func.count()).where(col(AccessLogEntry.client_id) == company)
            return int((await session.execute(query)).scalar_one())

    for who, more in (("anna", 0), ("staff", 1)):
        node = await uploads.gql(LINK, {"id": to_global_id("Attachment", pk)}, as_=who)
        url = node["data"]["node"]["downloadUrl"]
        before = await logged()
        download = await uploads.client.get(url)
        assert download.status_code == 200, download.text
        assert await logged() - before == more, who  # the client's own read is not logged
