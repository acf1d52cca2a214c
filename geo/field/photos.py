"""Photos of reports: images only (decided by their content), within limits, re-encoded.

A photo is read with Pillow whatever its name or declared type says; anything Pillow does not
decode as a JPEG, PNG or WebP image is refused. It is stored re-encoded as a JPEG from its
pixels alone (turned upright first by its EXIF orientation), so nothing of its metadata, the
EXIF location above all, is kept; a thumbnail is stored beside it. A photo belongs to one
record (an incident, a hazard or a rectification) and carries that record's micro-grid, which
row-level security uses: a caller outside the area gets nothing, as if there were no photo.
The same photo sent again for the same record (a phone resending) is kept once. The limits (size,
count, pixels, the stored and thumbnail sides) are settings (``settings.intake.photo_*``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, Engine

from geo.database import sql
from geo.errors import InputError, NotFoundError
from geo.settings import IntakeSettings

RecordKind = Literal["incident", "hazard", "rectification"]

FORMATS = ("JPEG", "PNG", "WEBP")
"""What a photo may be, by its content."""


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: the re-encoded JPEG, its thumbnail, the digest of what was sent."""

    sha256: str
    content: bytes
    thumbnail: bytes
    width: int
    height: int


def _jpeg(image: Image.Image, side: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((side, side))
    out = io.BytesIO()
    # Saved from pixels alone: no exif, icc or comment is passed on.
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def prepare(data: bytes, name: str, intake: IntakeSettings) -> Photo:
    """Check one photo by its content and re-encode it without metadata, within ``intake``'s
    limits.

    Raises
    ------
    InputError
        Empty, too large, not an image Pillow reads, another format than JPEG, PNG or WebP, or
        too many pixels; the message names the file.
    """
    if not data:
        msg = f"photo {name!r} is empty"
        raise InputError(msg)
    if len(data) > intake.photo_max_bytes:
        msg = (
            f"photo {name!r} is {len(data)} bytes; at most {intake.photo_max_bytes} bytes "
            "(GRIDSAFE_PHOTO_MAX_BYTES)"
        )
        raise InputError(msg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = image.format
            if kind not in FORMATS:
                msg = f"photo {name!r} is {kind or 'not an image'}: use JPEG, PNG or WebP"
                raise InputError(msg)
            if image.width * image.height > intake.photo_max_pixels:
                msg = (
                    f"photo {name!r} has more than {intake.photo_max_pixels} pixels "
                    "(GRIDSAFE_PHOTO_MAX_PIXELS)"
                )
                raise InputError(msg)
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        msg = f"photo {name!r} is not an image (JPEG, PNG or WebP)"
        raise InputError(msg) from None
    except (OSError, SyntaxError, ValueError) as exc:
        msg = f"photo {name!r} could not be read as an image: {exc}"
        raise InputError(msg) from None
    content = _jpeg(upright, intake.photo_stored_side)
    width, height = Image.open(io.BytesIO(content)).size
    return Photo(
        sha256=hashlib.sha256(data).hexdigest(),
        content=content,
        thumbnail=_jpeg(upright, intake.photo_thumb_side),
        width=width,
        height=height,
    )


def prepare_all(files: list[tuple[str, bytes]], intake: IntakeSettings) -> list[Photo]:
    """:func:`prepare` each of a record's photos, refusing more than ``photo_max_count``."""
    if len(files) > intake.photo_max_count:
        msg = (
            f"{len(files)} photos: at most {intake.photo_max_count} per record "
            "(GRIDSAFE_PHOTO_MAX_COUNT)"
        )
        raise InputError(msg)
    return [prepare(data, name, intake) for name, data in files]


def store(
    conn: Connection,
    *,
    region: str,
    record_kind: RecordKind,
    record_id: int,
    area_code: str,
    photos: list[Photo],
    taken_by: str,
) -> None:
    """Keep a record's photos (one already stored for it is left as it is)."""
    for photo in photos:
        conn.execute(
            sql("field_photo_insert", "geo.field"),
            {
                "region": region,
                "kind": record_kind,
                "record_id": record_id,
                "area_code": area_code,
                "sha256": photo.sha256,
                "width": photo.width,
                "height": photo.height,
                "content": photo.content,
                "thumbnail": photo.thumbnail,
                "taken_by": taken_by,
            },
        )


def photo_ids(
    conn: Connection, *, region: str, record_kind: RecordKind, record_id: int
) -> list[int]:
    """The ids of a record's photos the caller may see, oldest first."""
    return list(
        conn.execute(
            sql("field_photo_ids", "geo.field"),
            {"region": region, "kind": record_kind, "record_id": record_id},
        ).scalars()
    )


def read(engine: Engine, *, region: str, photo_id: int, thumbnail: bool) -> bytes:
    """A photo (or its thumbnail) as JPEG bytes.

    Raises
    ------
    NotFoundError
        No such photo, or none the caller's area holds.
    """
    with engine.connect() as conn:
        row = conn.execute(
            sql("field_photo_get", "geo.field"), {"region": region, "id": photo_id}
        ).first()
    if row is None:
        msg = f"no photo {photo_id}"
        raise NotFoundError(msg)
    return bytes(row.thumbnail if thumbnail else row.content)
