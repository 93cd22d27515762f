"""No download token in any log line.

A signed `/download/<token>` link works for anyone who holds it until it expires, and uvicorn's
access log prints every request path. The redaction applies to each record as it is created (a
wrapped log record factory), so it holds for every logger and every handler, uvicorn's included,
however logging is configured later.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_TOKEN = re.compile(r"(/download/)[^\s?#\"']+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return _TOKEN.sub(REDACTED, text)


class RedactDownloadTokens(logging.Filter):
    """Rewrites the message and its string arguments in place. The arguments are kept as a
    tuple of the same length: uvicorn's access formatter reads them one by one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_redaction() -> None:
    """Make every log record of this process pass through `RedactDownloadTokens`; idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts_download_tokens", False):
        return
    redaction = RedactDownloadTokens()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        redaction.filter(record)
        return record

    redacting_factory.redacts_download_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
