"""Patrol coverage and gaps: GPS tracks and grid-head check-ins in, coverage and gaps out.

- timed point files come in through :mod:`geo.intake` (its ``Points`` reader);
- :mod:`geo.coverage.tracks` imports and cleans patrol fixes into the partitioned ``fixes`` table;
- :mod:`geo.coverage.checkins` imports grid-head check-ins, located in their micro-grid;
- :mod:`geo.coverage.periods` turns shifts, days and weeks into time ranges;
- :mod:`geo.coverage.compute` computes coverage per micro-grid and rolls it up;
- :mod:`geo.coverage.gaps` ranks the micro-grids that need a visit.
"""
