"""Receiving uploaded files: streamed to a temporary file under a size limit.

Two ways: :func:`saved_upload` for an import done within the request (the file is removed when
it ends), and :class:`StagedUploads` for the import page, whose file is previewed first and
imported by a later request (kept until then, at most :data:`STAGED_KEEP_S`). Either way the
body is read a chunk at a time (memory stays bounded whatever the size) and a body cut off
before its end never reaches the handler: nothing is kept and nothing imported.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, UploadFile

from geo.errors import InputError, NotFoundError, storage_error
from geo.intake import VECTOR_SUFFIXES

CHUNK = 1 << 20
STAGED_KEEP_S = 3600.0
"""An uploaded file waiting for its import is kept an hour, then removed."""


def _checked_suffix(name: str, suffixes: frozenset[str]) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        msg = f"{name}: unsupported format {suffix!r} (use {', '.join(sorted(suffixes))})"
        raise InputError(msg)
    return suffix


def _write(upload: UploadFile, folder: Path, *, max_bytes: int, suffix: str) -> tuple[Path, int]:
    """Copy the upload into ``folder`` a chunk at a time, under (a tame form of) its own name,
    which the import's messages and report use; its path and size."""
    name = upload.filename or "upload"
    stem = re.sub(r"[^\w.-]+", "_", Path(name).stem).strip("._")[:80] or "upload"
    path = folder / f"{stem}{suffix}"
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
        raise storage_error(exc, f"the upload {name!r}") from exc
    return path, size


@contextmanager
def saved_upload(
    upload: UploadFile, *, max_bytes: int, suffixes: frozenset[str] = VECTOR_SUFFIXES
) -> Iterator[Path]:
    """Save an upload to a temporary file (removed afterwards), refusing one over ``max_bytes``."""
    name = upload.filename or "upload"
    suffix = _checked_suffix(name, suffixes)
    try:
        holder = tempfile.TemporaryDirectory(prefix="gridsafe-upload-")
    except OSError as exc:
        raise storage_error(exc, f"the upload {name!r}") from exc
    # The directory and whatever part of the file was written are removed on every way out:
    # a full disk, a cut-off body, a rejected import, or success.
    with holder as tmp:
        path, _ = _write(upload, Path(tmp), max_bytes=max_bytes, suffix=suffix)
        yield path


@dataclass(frozen=True)
class Staged:
    """A file uploaded for the import page, waiting to be previewed and imported."""

    id: str
    path: Path
    name: str
    """The file's name as the uploader's computer called it."""
    size: int
    owner: str
    """Who uploaded it (a user's label): nobody else may import it."""
    at: float


class StagedUploads:
    """The import page's uploaded files in one serving process, each in a temporary directory
    of its own, removed once imported (:meth:`drop`) or an hour after upload."""

    def __init__(self, keep_s: float = STAGED_KEEP_S) -> None:
        self._keep_s = keep_s
        self._files: dict[str, Staged] = {}
        self._lock = threading.Lock()

    def receive(
        self,
        upload: UploadFile,
        *,
        owner: str,
        max_bytes: int,
        suffixes: frozenset[str] = VECTOR_SUFFIXES,
    ) -> Staged:
        """Keep the upload (over ``max_bytes``: refused, nothing kept)."""
        name = upload.filename or "upload"
        suffix = _checked_suffix(name, suffixes)
        self._expire()
        try:
            folder = Path(tempfile.mkdtemp(prefix="gridsafe-staged-"))
        except OSError as exc:
            raise storage_error(exc, f"the upload {name!r}") from exc
        try:
            path, size = _write(upload, folder, max_bytes=max_bytes, suffix=suffix)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        staged = Staged(uuid.uuid4().hex, path, name, size, owner, time.monotonic())
        with self._lock:
            self._files[staged.id] = staged
        return staged

    def get(self, upload_id: str, *, owner: str) -> Staged:
        """The staged file of that id, uploaded by ``owner``.

        Raises
        ------
        NotFoundError
            No such file (never uploaded, someone else's, imported, or over an hour old).
        """
        with self._lock:
            staged = self._files.get(upload_id)
        if staged is None or staged.owner != owner or not staged.path.exists():
            msg = f"no uploaded file {upload_id!r}: upload it again"
            raise NotFoundError(msg, code="upload_not_found", params={"id": upload_id})
        return staged

    def drop(self, upload_id: str) -> None:
        """Remove the file (done with it)."""
        with self._lock:
            staged = self._files.pop(upload_id, None)
        if staged is not None:
            shutil.rmtree(staged.path.parent, ignore_errors=True)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [k for k, s in self._files.items() if now - s.at > self._keep_s]
        for key in old:
            self.drop(key)
