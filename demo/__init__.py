"""The demo district 未来路街道 and its synthetic activity, shipped inside the package.

``demo/data/`` holds the district's files (boundaries of the four levels, buildings, roads,
points of interest; made by :mod:`demo.district`). :mod:`demo.activity` and :mod:`demo.patrols`
generate its incidents, hazards, patrol tracks and check-ins up to the moment it is loaded,
:mod:`demo.cases` and :mod:`demo.users` seed its case histories and one account per role, and
:func:`demo.load.load_demo` puts it all into a database through the normal importers.

The package sits on top of ``geo/`` (which never imports it); ``cli/`` and the tests use it.
Every path is inside the installed package, so ``gridsafe demo`` works from any directory.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
"""The demo district's files (EPSG:4547), one GeoJSON per level and per layer."""
