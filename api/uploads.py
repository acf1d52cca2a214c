"""Receiving uploaded files: streamed to a temporary file under a size limit."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import HTTPException, UploadFile

from geo.errors import InputError, storage_error
from geo.intake import VECTOR_SUFFIXES

CHUNK = 1 << 20


@contextmanager
def saved_upload(
    upload: UploadFile, *, max_bytes: int, suffixes: frozenset[str] = VECTOR_SUFFIXES
) -> Iterator[Path]:
    """Save an upload to a temporary file (removed afterwards), refusing one over ``max_bytes``."""
    name = upload.filename or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        msg = f"{name}: unsupported format {suffix!r} (use {', '.join(sorted(suffixes))})"
        raise InputError(msg)
    what = f"the upload {name!r}"
    try:
        holder = tempfile.TemporaryDirectory(prefix="gridsafe-upload-")
    except OSError as exc:
        raise storage_error(exc, what) from exc
    # The directory and whatever part of the file was written are removed on every way out:
    # a full disk, a cut-off body, a rejected import, or success.
    with holder as tmp:
        # Under (a tame form of) its own name, which the import's messages and report use.
        stem = re.sub(r"[^\w.-]+", "_", Path(name).stem).strip("._")[:80] or "upload"
        path = Path(tmp) / f"{stem}{suffix}"
        size = 0
        try:
            with path.open("wb") as out:
                while chunk := upload.file.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise HTTPException(
                            status_code=413,
                            detail=f"{name}: upload over the limit of {max_bytes} bytes",
                        )
                    out.write(chunk)
        except OSError as exc:
            raise storage_error(exc, what) from exc
        yield path
