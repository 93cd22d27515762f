"""Attachments: the files on a client's request replies and on customer service's messages,
with real bytes (a one-page PDF, a CSV) so downloads can be tried."""

from __future__ import annotations

import hashlib
from datetime import date

from hub.demo.draft import ClientDraft
from hub.demo.rows import stamps
from hub.demo.texts import ascii_fold
from models import Attachment


def attach(
    draft: ClientDraft,
    filename: str,
    content_type: str,
    content: bytes,
    day: date,
    *,
    stage_id: int | None = None,
    message_id: int | None = None,
) -> None:
    """A file on a request stage (`stage_id`) or on a message (`message_id`)."""
    draft.rows.add(
        Attachment,
        {
            "client_id": draft.client_id,
            "request_stage_id": stage_id,
            "message_id": message_id,
            "filename": filename,
            "content_type": content_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            **stamps(day),
        },
    )


def pdf(text: str) -> bytes:
    """A one-page PDF with one line of text, so attachment downloads have real bytes."""
    line = ascii_fold(text).replace("\\", "").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 770 Td ({line}) Tj ET".encode()
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref, size = len(out), len(bodies) + 1  # object 0 is the free list's head
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)
