"""Pages and answers kept between the changes they depend on, gzip-compressed once.

An answer that depends only on the data of a few audited tables (the risk run, the areas), the
caller's area scope and language, the district's date and the request's path and query is kept
here, per worker, under a key made of exactly those (:func:`answer`); a vector tile under its
layer's tables and what ``geo.tiles.tile_key`` says it depends on (its query, parameters and
the caller's scope). The tables' version is
the count of statements that ever changed them (``geo.audit.source_version``), so a new risk
run or an import makes a new key and the old answer is never served again; it ages out of the
cache, which holds at most ``GRIDSAFE_RESPONSE_CACHE_MB`` (least recently used first out).

The ETag is computed from the key before any work: a conditional request that still holds the
current answer costs one version read and gets a 304. A miss builds the answer once, keeps it
as raw deflate pieces, and serves gzip clients by splicing the kept pieces into one gzip
stream: nothing is compressed again per request.

A page has parts that differ per response (``maps.chrome.PageParts``: its CSP nonce, the CSRF
token, the header with the caller's name): the page is kept cut at them, and each response
puts its own parts in as stored (uncompressed) deflate blocks between the kept pieces; the
gzip trailer's CRC-32 is combined from the pieces' kept CRCs without reading them again.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import Engine

from api.shell import request_translator, shell_for
from geo import clock
from geo.access import Credential
from geo.audit import source_version
from geo.database import current_scope, reading
from geo.settings import Settings
from maps.chrome import PageParts, chrome_holes, chrome_parts

GZIP_LEVEL = 6
"""zlib's default: the pieces are compressed once, on a miss."""

_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
"""RFC 1952: deflate, no name, no modification time, unknown system."""
_FINAL_BLOCK = b"\x03\x00"
"""An empty final block (fixed Huffman codes, end of block): ends the deflate stream."""
_ZEROS = bytes(1 << 16)
_STORED_MAX = 0xFFFF


def _deflate(data: bytes) -> bytes:
    """``data`` as raw deflate ending on a byte boundary with no final block (a sync flush),
    so kept pieces and stored blocks can follow one another in one stream."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored(data: bytes) -> bytes:
    """``data`` as stored (uncompressed) non-final deflate blocks (RFC 1951, 3.2.4)."""
    out = []
    for start in range(0, len(data), _STORED_MAX):
        chunk = data[start : start + _STORED_MAX]
        out += [b"\x00", struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF), chunk]
    return b"".join(out)


def _crc_of_zeros(n: int, crc: int = 0) -> int:
    while n > 0:
        step = min(n, len(_ZEROS))
        crc = zlib.crc32(_ZEROS[:step], crc)
        n -= step
    return crc


@dataclass(frozen=True)
class _Piece:
    deflated: bytes
    crc: int
    size: int
    zeros_crc: int
    """CRC-32 of ``size`` zero bytes: with it, CRC(A + piece) = CRC(zeros, CRC(A)) ^ this ^
    ``crc`` (CRC-32 is affine in its input), without the piece's text."""

    @classmethod
    def of(cls, data: bytes) -> _Piece:
        return cls(_deflate(data), zlib.crc32(data), len(data), _crc_of_zeros(len(data)))

    def after(self, crc: int) -> int:
        """The CRC-32 of the text ``crc`` is of, followed by this piece."""
        return _crc_of_zeros(self.size, crc) ^ self.zeros_crc ^ self.crc


@dataclass(frozen=True)
class Kept:
    """One answer as kept: compressed pieces with the holes each response fills between them."""

    media_type: str
    pieces: tuple[_Piece, ...]
    holes: tuple[str, ...] = ()

    @classmethod
    def of(cls, body: str | bytes | PageParts, media_type: str) -> Kept:
        """Compress ``body`` (a page cut at its holes, or a whole answer) once."""
        if isinstance(body, PageParts):
            pieces = tuple(_Piece.of(p.encode()) for p in body.pieces)
            return cls(media_type, pieces, body.holes)
        data = body.encode() if isinstance(body, str) else body
        return cls(media_type, (_Piece.of(data),))

    @property
    def nbytes(self) -> int:
        """Memory held (the compressed pieces)."""
        return sum(len(p.deflated) for p in self.pieces) + 64 * len(self.pieces)

    def _values(self, values: dict[str, str] | None) -> list[bytes]:
        if not self.holes:
            return []
        if values is None:
            msg = f"a kept answer with holes {sorted(set(self.holes))} needs their values"
            raise ValueError(msg)
        encoded = {k: v.encode() for k, v in values.items()}
        return [encoded[h] for h in self.holes]

    def gzip(self, values: dict[str, str] | None = None) -> bytes:
        """The answer as one gzip stream: the kept pieces, each hole as a stored block."""
        fills = self._values(values)
        out = [_GZIP_HEADER, self.pieces[0].deflated]
        crc = self.pieces[0].crc
        size = self.pieces[0].size
        for fill, piece in zip(fills, self.pieces[1:], strict=True):
            out += [_stored(fill), piece.deflated]
            crc = piece.after(zlib.crc32(fill, crc))
            size += len(fill) + piece.size
        out += [_FINAL_BLOCK, struct.pack("<II", crc, size & 0xFFFFFFFF)]
        return b"".join(out)

    def plain(self, values: dict[str, str] | None = None) -> bytes:
        """The answer uncompressed (for a client that does not take gzip)."""
        fills = self._values(values)
        texts = [zlib.decompressobj(-15).decompress(p.deflated) for p in self.pieces]
        out = [texts[0]]
        for fill, piece in zip(fills, texts[1:], strict=True):
            out += [fill, piece]
        return b"".join(out)


class ResponseCache:
    """Kept answers by key, at most ``max_bytes`` of them (least recently used out first).

    One per worker process (``app.state.responses``); thread-safe (handlers run in threads).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Memory held by the kept answers."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Kept | None:
        """The answer kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
            return kept

    def put(self, key: str, kept: Kept) -> None:
        """Keep ``kept`` under ``key``, dropping the least recently used over the bound; an
        answer larger than the whole bound is not kept."""
        if kept.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = kept
            self._bytes += kept.nbytes
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


def response_cache(settings: Settings) -> ResponseCache:
    """A worker's cache of the size the settings give."""
    return ResponseCache(int(settings.maps.response_cache_mb * 2**20))


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    sent = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in sent or "*" in sent


def _accepts_gzip(request: Request) -> bool:
    for coding in request.headers.get("accept-encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def answer(
    request: Request,
    *,
    sources: Sequence[str],
    build: Callable[[], str | bytes | PageParts],
    media_type: str,
    holes: Callable[[], dict[str, str]] | None = None,
    private: Sequence[object] = (),
    depends: str | None = None,
    max_age_s: int = 0,
) -> Response:
    """Answer from the cache, building the answer (``build``) only on a miss.

    The key is what the answer depends on, ``depends`` (by default the request's path and
    query, the caller's area scope and language and the district's date), and the version of
    ``sources`` (audited tables: whatever the answer is drawn from); ``build`` must depend on
    nothing else. ``holes`` fills a page's per-response parts; ``private`` names what those
    parts depend on (the caller, their session), so the ETag tells one caller's page from
    another's while the kept pieces are shared. A browser may use the answer ``max_age_s``
    seconds without asking again (0: it revalidates on every use).
    Call it from a thread (a sync handler): it reads the database.
    """
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    cache: ResponseCache = request.app.state.responses
    # Only the count of the audit log is read here: no caller's name, no scope.
    with reading(engine) as conn:
        version = source_version(conn, sources, settings.region)
    if depends is None:
        depends = json.dumps(
            [
                request.url.path,
                sorted(request.query_params.multi_items()),
                current_scope(),
                request_translator(request).language,
                clock.today(settings.timezone).isoformat(),
            ]
        )
    parts = [depends, sorted(sources), version]
    key = hashlib.blake2b(json.dumps(parts).encode(), digest_size=16).hexdigest()
    tag = hashlib.blake2b(json.dumps([key, *map(str, private)]).encode(), digest_size=12)
    etag = f'"{tag.hexdigest()}"'
    headers = {
        "ETag": etag,
        # Never kept by a shared cache (private); without a max-age, revalidated on every use.
        "Cache-Control": f"private, max-age={max_age_s}" if max_age_s else "private, no-cache",
        "Vary": "Accept-Encoding, Authorization, Cookie",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    kept = cache.get(key)
    if kept is None:
        kept = Kept.of(build(), media_type)
        cache.put(key, kept)
    values = holes() if holes is not None else None
    if _accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(kept.gzip(values), media_type=media_type, headers=headers)
    return Response(kept.plain(values), media_type=media_type, headers=headers)


def cached_page(request: Request, *, sources: Sequence[str], build: Callable[[], str]) -> Response:
    """A page in the caller's shell (as ``api.shell.page``), the page itself from the cache:
    ``build`` makes it for the caller's scope and language from ``sources`` alone, and each
    response fills in its nonce, the session's CSRF token and the header."""
    settings: Settings = request.app.state.settings
    credential: Credential = request.state.credential
    return answer(
        request,
        sources=sources,
        build=lambda: chrome_parts(build()),
        media_type="text/html; charset=utf-8",
        holes=lambda: chrome_holes(settings, shell_for(request)),
        # The header names the caller and their role's pages; the <meta> holds the session's
        # CSRF token.
        private=(credential.user.id, credential.user.role, credential.csrf),
    )
