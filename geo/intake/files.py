"""Files as they arrive: the one table of formats, the text encoding, a zipped Shapefile, digests.

Formats
    :data:`FORMATS` names every file ending an importer reads and its family: ``csv`` (also
    ``.txt``), ``excel`` (``.xlsx``), ``vector`` (GeoJSON, GeoPackage, Shapefile, a zipped
    Shapefile) and ``gpx``. A reader says which families it reads (:func:`format_of`).

Encodings (CSV)
    UTF-8 with or without a byte-order mark, or GBK as Excel writes CSV on Chinese Windows (read as
    GB 18030, its superset). The whole file is checked as UTF-8 in blocks before reading (a
    streaming decode, fast and of constant memory); any invalid UTF-8 means GB 18030.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any, cast

import pyogrio

from geo.errors import InputError

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".geojson": "vector",
    ".json": "vector",
    ".gpkg": "vector",
    ".shp": "vector",
    ".zip": "vector",
    ".gpx": "gpx",
}
"""File ending → format family: the one list of what can come in."""

# Decompressed size allowed for a zipped Shapefile: refuses zip bombs before unpacking.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024


def suffixes(*families: str) -> frozenset[str]:
    """The file endings of ``families`` (see :data:`FORMATS`)."""
    return frozenset(s for s, family in FORMATS.items() if family in families)


VECTOR_SUFFIXES = suffixes("vector")
"""What a boundary or layer upload may be."""


def format_of(path: Path, families: tuple[str, ...]) -> str:
    """The family of ``path``'s format, one of ``families``.

    Raises
    ------
    InputError
        The ending is not one of those families', naming the endings that are.
    """
    suffix = path.suffix.lower()
    family = FORMATS.get(suffix)
    if family not in families:
        known = ", ".join(sorted(suffixes(*families)))
        msg = f"{path.name}: unsupported format {suffix!r} (use {known})"
        raise InputError(msg)
    return family


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def payload_digest(payload: object) -> str:
    """SHA-256 of a JSON payload (the import log's key of a batch posted over HTTP)."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def gdal_path(path: Path) -> str:
    """The path GDAL opens: the file itself, or the one Shapefile inside a zip archive.

    Raises
    ------
    InputError
        The archive cannot be read, unpacks to more than :data:`MAX_UNZIPPED_BYTES`, or holds
        no or several ``.shp`` files.
    """
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            names = [info.filename for info in zf.infolist()]
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name}: not a readable zip archive ({exc})") from exc
    if total > MAX_UNZIPPED_BYTES:
        msg = f"{path.name}: unpacks to {total} bytes, over the limit of {MAX_UNZIPPED_BYTES}"
        raise InputError(msg)
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        msg = f"{path.name}: a zipped Shapefile must hold exactly one .shp, found {len(shps)}"
        raise InputError(msg)
    return f"/vsizip/{path}/{shps[0]}"


def unreadable_layer(path: Path, exc: Exception) -> InputError:
    """The error for a file GDAL cannot read, naming the file as its sender knows it: GDAL's
    message names the path it opened, which for an upload is the server's temporary file."""
    reason = str(exc).replace(gdal_path(path), path.name).replace(str(path), path.name)
    return InputError(f"{path.name}: cannot be read as a vector layer ({reason})")


def read_info(path: Path, layer: str | None = None) -> dict[str, Any]:
    """GDAL's description of a vector file's layer: its fields, feature count and CRS.

    Raises
    ------
    InputError
        The file cannot be read as a vector layer, or a field name is not valid text.
    """
    try:
        return cast(dict[str, Any], pyogrio.read_info(gdal_path(path), layer=layer))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise unreadable_layer(path, exc) from exc
    except UnicodeDecodeError as exc:
        # A dBase header keeps 10 bytes of a field name: written in UTF-8, a Chinese name longer
        # than three characters is cut inside a character, and cannot be read back.
        msg = (
            f"{path.name}: a field name is not valid text ({exc.reason} at byte {exc.start}): "
            "a Shapefile keeps only 10 bytes of a name, which cut a UTF-8 Chinese name inside "
            "a character. Write the file with the GBK encoding or shorter field names, or as "
            "a GeoPackage"
        )
        raise InputError(msg) from exc


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_line(path: Path, encoding: str) -> tuple[int, bytes]:
    # A newline byte is never part of a UTF-8 or GB18030 character, so lines split the bytes
    # where the text splits.
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                return number, exc.object[exc.start : exc.start + 4]
    return 0, b""


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8 (BOM or not), else ``gb18030`` (GBK).

    Raises
    ------
    InputError
        The file is neither, naming the line and bytes where UTF-8 fails; a file that begins with
        a UTF-8 byte-order mark is UTF-8 or nothing.
    """
    if _decodes(path, "utf-8"):
        return "utf-8-sig"
    with path.open("rb") as fh:
        marked = fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    if not marked and _decodes(path, "gb18030"):
        return "gb18030"
    line, bad = _first_bad_line(path, "utf-8-sig" if marked else "utf-8")
    kind = "UTF-8 (it begins with a UTF-8 byte-order mark)" if marked else "UTF-8 nor GBK"
    msg = (
        f"{path.name}: line {line} is not valid text: bytes {bad.hex(' ')} are not {kind}; "
        "save the file again as UTF-8"
    )
    raise InputError(msg)
