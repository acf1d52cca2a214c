"""The data desk's engine: a file of any kind in, with its columns guessed and remembered.

Modules, one concern each: ``kinds`` (the fields of each kind of file), ``guess`` (a file's
first rows and each field's column with the basis of the guess), ``mappings`` (the mapping
confirmed per region, kind and source), ``history`` (the import log, and the rejected rows as a
file to fix), ``run`` (:func:`import_file`, one import of one file). The incident type synonyms
are part of the vocabulary (:mod:`geo.records.vocabulary`). Their SQL is in ``geo/imports/sql/``.
"""

from geo.imports.guess import (
    ColumnGuess,
    Preview,
    Sample,
    guess_columns,
    preview_import,
    sample_file,
)
from geo.imports.history import (
    REASON_HEADER,
    RejectedFile,
    get_import,
    list_imports,
    rejected_file,
)
from geo.imports.kinds import KIND_FIELDS, KINDS, FieldSpec, kind_key
from geo.imports.mappings import forget_mapping, remember_mapping, remembered_mapping
from geo.imports.run import ImportRun, Progress, import_file

__all__ = [
    "KINDS",
    "KIND_FIELDS",
    "REASON_HEADER",
    "ColumnGuess",
    "FieldSpec",
    "ImportRun",
    "Preview",
    "Progress",
    "RejectedFile",
    "Sample",
    "forget_mapping",
    "get_import",
    "guess_columns",
    "import_file",
    "kind_key",
    "list_imports",
    "preview_import",
    "rejected_file",
    "remember_mapping",
    "remembered_mapping",
    "sample_file",
]
