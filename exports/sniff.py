"""What an uploaded file is, decided by its content alone (never by its name or header).

Accepted: PDF, DOC (OLE2 compound file), DOCX (a ZIP package with a Word main part), ZIP within
limits, JPEG and PNG. Anything else, and any file that is two things at once (a PDF that is also
a ZIP: a polyglot), is refused with a stable code.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from models.attachment import AttachmentKind

PDF_MAGIC = b"%PDF-"
PDF_END = b"%%EOF"
PDF_END_WINDOW = 1024  # the PDF spec lets a little trailing junk follow %%EOF
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local header, or an empty archive's end record
ZIP_END_RECORD = b"PK\x05\x06"
ZIP_TAIL = 65_557  # the end record (22 bytes) and the longest comment (65,535) it may carry
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WORD_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CONTENT_TYPES = "[Content_Types].xml"
CONTENT_TYPES_MAX = 1 << 20
ARCHIVE_SUFFIXES = (".zip", ".jar", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")


class Refused(Exception):
    """The file is not one we accept; `code` is stable, for the client."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int
    max_unpacked: int  # bytes, all entries together
    max_ratio: int  # unpacked / packed, per entry and overall


def detect(path: Path, limits: ZipLimits) -> AttachmentKind:
    with path.open("rb") as file:
        head = file.read(8)
        if head.startswith(PDF_MAGIC):
            return _pdf(file)
        if head.startswith(OLE2_MAGIC):
            return _single(file, AttachmentKind.DOC)
        if head.startswith(JPEG_MAGIC):
            return _single(file, AttachmentKind.JPEG)
        if head.startswith(PNG_MAGIC):
            return _single(file, AttachmentKind.PNG)
        if head.startswith(ZIP_MAGIC):
            return _archive(file, limits)
    raise Refused("UNSUPPORTED_FILE_CONTENT")


def _has_zip_end(file: IO[bytes]) -> bool:
    """A ZIP end-of-central-directory record in the tail: some reader would open it as ZIP."""
    file.seek(0, io.SEEK_END)
    file.seek(max(0, file.tell() - ZIP_TAIL))
    return ZIP_END_RECORD in file.read() or zipfile.is_zipfile(file)


def _single(file: IO[bytes], kind: AttachmentKind) -> AttachmentKind:
    if _has_zip_end(file):
        raise Refused("POLYGLOT_FILE")
    return kind


def _pdf(file: IO[bytes]) -> AttachmentKind:
    file.seek(0, io.SEEK_END)
    file.seek(max(0, file.tell() - PDF_END_WINDOW))
    if PDF_END not in file.read():
        raise Refused("UNSUPPORTED_FILE_CONTENT")
    return _single(file, AttachmentKind.PDF)


def _archive(file: IO[bytes], limits: ZipLimits) -> AttachmentKind:
    try:
        with zipfile.ZipFile(file) as archive:
            _check_entries(archive, limits, nested_allowed=True)
            if CONTENT_TYPES in archive.namelist() and WORD_MAIN in _content_types(archive):
                return AttachmentKind.DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise Refused("INVALID_ARCHIVE") from error
    return AttachmentKind.ZIP


def _content_types(archive: zipfile.ZipFile) -> bytes:
    if archive.getinfo(CONTENT_TYPES).file_size > CONTENT_TYPES_MAX:
        raise Refused("INVALID_ARCHIVE")
    with archive.open(CONTENT_TYPES) as part:
        return part.read(CONTENT_TYPES_MAX)


def _check_entries(archive: zipfile.ZipFile, limits: ZipLimits, *, nested_allowed: bool) -> None:
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise Refused("ARCHIVE_TOO_MANY_ENTRIES")
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if unpacked > limits.max_unpacked:
        raise Refused("ARCHIVE_TOO_LARGE_UNPACKED")
    if unpacked > limits.max_ratio * max(packed, 1):
        raise Refused("ARCHIVE_RATIO_TOO_HIGH")
    for entry in entries:
        _check_entry(entry, limits)
        if entry.filename.lower().endswith(ARCHIVE_SUFFIXES):
            if not nested_allowed:
                raise Refused("ARCHIVE_NESTED_TOO_DEEP")
            _check_nested(archive, entry, limits)


def _check_entry(entry: zipfile.ZipInfo, limits: ZipLimits) -> None:
    name = entry.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise Refused("ARCHIVE_UNSAFE_PATH")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise Refused("ARCHIVE_LINK_ENTRY")
    if entry.file_size > limits.max_ratio * max(entry.compress_size, 1):
        raise Refused("ARCHIVE_RATIO_TOO_HIGH")


def _check_nested(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """One level of archives inside: a ZIP in it is checked like the outer one, and may hold
    no archive itself; other archive formats cannot be looked into, so they are refused."""
    with archive.open(entry) as inner:
        content = inner.read(limits.max_unpacked + 1)  # its size was bounded just above
    if not content.startswith(ZIP_MAGIC):
        raise Refused("ARCHIVE_NESTED_TOO_DEEP")
    with zipfile.ZipFile(io.BytesIO(content)) as nested:
        _check_entries(nested, limits, nested_allowed=False)
