"""A file opened for import: :func:`open_table` and the :class:`Source` it returns."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar, cast

from geo.crs import SourceCRS
from geo.errors import InputError, Problem
from geo.intake.files import file_digest, format_of

B = TypeVar("B")
B_co = TypeVar("B_co", covariant=True)


@dataclass
class Source(Generic[B]):
    """An opened file (or batch of posted rows): what its coordinates are in, and its batches.

    Attributes
    ----------
    crs
        The CRS its coordinates are read in (for the report, and for the records' projection).
    warnings
        File-wide findings that did not stop the import (a ``--crs`` overriding the file's own).
    batches
        What the reader makes of the file, a bounded batch at a time.
    digest
        SHA-256 of the file (or of the posted payload): the import log's key.
    """

    crs: SourceCRS
    warnings: list[Problem]
    batches: Iterator[B]
    digest: str


class Reader(Protocol[B_co]):
    """How one kind of import reads a file: :class:`~geo.intake.rows.Rows` (incidents and
    hazards), :class:`~geo.intake.points.Points` (tracks and check-ins),
    :class:`~geo.intake.features.Features` (boundaries and reference layers)."""

    @property
    def families(self) -> tuple[str, ...]:
        """The format families it reads (:data:`geo.intake.files.FORMATS`)."""
        ...

    def open(
        self, path: Path, family: str, crs: str | int | None
    ) -> tuple[SourceCRS, list[Problem], Iterator[B_co]]:
        """The file's source CRS (by :func:`geo.intake.projection.resolve_source_crs`), its
        warnings and its batches; a problem with the whole file is raised here or when the
        first batch is read."""
        ...


def open_table(path: Path, crs: str | int | None, reader: Reader[B]) -> Source[B]:
    """Open a file for import: the one way a file comes in.

    Parameters
    ----------
    crs
        ``--crs``: the coordinates' CRS when the file does not say (or says wrongly).
    reader
        What the import makes of the file's rows.

    Raises
    ------
    InputError
        No such file, a format the reader does not read, or a file it cannot read.
    CRSError
        No CRS can be determined, or the coordinates do not fit the CRS they claim.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    family = format_of(path, reader.families)
    source, warnings, batches = reader.open(path, family, crs)
    return Source(crs=source, warnings=warnings, batches=batches, digest=file_digest(path))


_GC_LOCK = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the block runs (reference counting still
    frees everything that is not a cycle).

    A file's rows are read as millions of small lists and tuples, each of which counts toward
    the collector's next pass, and every pass of the older generations walks all the rows
    still held: on a million-row import that was a fifth of the time. Blocks on several
    threads at once (two imports of a server) nest: the collector runs again, as it was,
    once the last of them ends.
    """
    global _gc_pausers, _gc_was_enabled  # noqa: PLW0603 - one collector per process
    with _GC_LOCK:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def prefetch(items: Iterator[B], *, depth: int = 1) -> Iterator[B]:
    """Produce ``items`` in a background thread, at most ``depth`` ahead of the consumer.

    An import reads and splits batch k+1 while the database locates and writes batch k (the
    driver releases the GIL while it waits on the server), so the two cores overlap; memory
    stays bounded by ``depth + 2`` batches. An exception in the producer is raised in the
    consumer; a consumer that stops early (an error, a closed generator) stops the producer.
    """
    done = object()
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator reading a file closes it, in its own thread
        put(done)

    worker = threading.Thread(target=produce, name="gridsafe-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(B, item)
    finally:
        stop.set()
        worker.join()
