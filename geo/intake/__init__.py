"""The intake: the one way a file comes in, for every importer.

``open_table(path, crs, reader)`` checks the file's format against the one table of formats
(:data:`~geo.intake.files.FORMATS`), decides the CRS of its coordinates by the one rule
(:mod:`geo.intake.projection`) and returns a :class:`~geo.intake.source.Source`: that CRS, the
file-wide warnings, the batches the reader makes and the file's digest. The readers:

- :class:`~geo.intake.rows.Rows`: incidents and hazards, text cells by field
  (:mod:`geo.records` decides what they mean);
- :class:`~geo.intake.points.Points`: patrol fixes and check-ins, timed points projected to the
  store's SRID (:mod:`geo.coverage`); posted rows come in through
  :func:`~geo.intake.points.records_source`;
- :class:`~geo.intake.features.Features`: boundaries and reference layers, the whole layer
  projected (:mod:`geo.boundaries`, :mod:`geo.layers`).

All of them find their columns in one header-alias table (:data:`~geo.intake.fields.ALIASES`),
read a cell as text one way (:func:`~geo.intake.fields.cell_text`), and tell a CSV file's
encoding one way (:func:`~geo.intake.files.detect_encoding`). The intake imports nothing of the
importers: they call it, never the other way round.
"""

from geo.intake.features import Features
from geo.intake.fields import ALIASES, cell_text, find_column, match_headers, plain_value
from geo.intake.files import MAX_UNZIPPED_BYTES, VECTOR_SUFFIXES, payload_digest
from geo.intake.points import PointBatch, Points, parse_times, records_source
from geo.intake.rows import RawBatch, Rows
from geo.intake.source import Source, open_table, paused_gc, prefetch

__all__ = [
    "ALIASES",
    "MAX_UNZIPPED_BYTES",
    "VECTOR_SUFFIXES",
    "Features",
    "PointBatch",
    "Points",
    "RawBatch",
    "Rows",
    "Source",
    "cell_text",
    "find_column",
    "match_headers",
    "open_table",
    "parse_times",
    "paused_gc",
    "payload_digest",
    "plain_value",
    "prefetch",
    "records_source",
]
