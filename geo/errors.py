"""Domain errors.

Every error says what was wrong with which value. ``api/errors.py`` maps each class to one HTTP
status code; the command line prints the message. A user never sees a traceback.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field


class GridsafeError(Exception):
    """Base class of every error gridsafe raises on purpose.

    The message (``str(exc)``) is English, for the API and the command line. An error a page
    may show also carries a stable ``code`` and its ``params`` (the values the message names),
    from which the page layer writes it in the reader's language (maps/chrome.py).
    """

    def __init__(
        self, *args: object, code: str | None = None, params: dict[str, object] | None = None
    ) -> None:
        super().__init__(*args)
        self.code = code
        self.params = params or {}


class CRSError(GridsafeError):
    """A coordinate reference system was missing, unknown or unusable."""


class NotFoundError(GridsafeError):
    """An id or code names nothing (or nothing the caller may see)."""


class AuthenticationError(GridsafeError):
    """No credentials, or credentials that are unknown, expired, revoked or disabled."""


class PermissionDeniedError(GridsafeError):
    """The caller's role may not do this."""


class LoginThrottledError(GridsafeError):
    """Too many failed logins for this user or client; retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, code="login_throttled", params={"seconds": retry_after_s})
        self.retry_after_s = retry_after_s


class InputError(GridsafeError):
    """A request or file could not be read at all (bad format, bad parameter)."""


class DatabaseUnavailableError(GridsafeError):
    """The database could not be reached; the caller may retry."""


class BusyError(GridsafeError):
    """A resource is in use by other work for longer than a request may wait; retry later."""


class StorageError(GridsafeError):
    """The server could not write a file it needed (disk full, file too large, no permission)."""


# What each write failure means to the person whose file it was.
STORAGE_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "the server's disk is full",
    errno.EDQUOT: "the server's disk quota is used up",
    errno.EFBIG: "the file is larger than the server may write",
    errno.EROFS: "the server's temporary storage is read-only",
    errno.EACCES: "the server may not write its temporary files",
    errno.EPERM: "the server may not write its temporary files",
}


def storage_error(exc: OSError, what: str) -> StorageError:
    """A :class:`StorageError` for a write of ``what`` that failed with ``exc``."""
    reason = STORAGE_ERRNOS.get(exc.errno or 0, "the server could not write it")
    return StorageError(f"could not store {what}: {reason} ({exc.strerror}); nothing was written")


@dataclass(frozen=True)
class Problem:
    """One finding about one input row or feature.

    Attributes
    ----------
    row
        1-based row or feature number in the source file (``None`` for file-wide findings).
    ident
        The feature's code or source id when it has one.
    reason
        What is wrong, naming the offending value (English, for the command line and the API).
    code
        A stable name of the reason, from which a page or a rejected-rows file writes it in the
        reader's language with ``params`` (None: only the English text exists).
    params
        The values the reason names.
    """

    row: int | None
    ident: str | None
    reason: str
    code: str | None = field(default=None, compare=False)
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.ident:
            where.append(repr(self.ident))
        prefix = " ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


@dataclass
class ImportRejectedError(GridsafeError):
    """An import was refused as a whole; nothing was written.

    Attributes
    ----------
    problems
        Every reason, each naming its feature.
    """

    what: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.what}: rejected, nothing written ({len(self.problems)} problem(s))"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)
