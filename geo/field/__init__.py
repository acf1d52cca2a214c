"""Work on foot: what grid heads and members do from their phones.

- :mod:`geo.field.photos`: photos of reports, checked by content, stored without metadata, with
  thumbnails, read back only within the caller's area;
- :mod:`geo.field.street`: a report of an incident or a hazard, a hazard's rectification and a
  check-in, each through the engine that already stores such records (``geo.records``,
  ``geo.coverage.checkins``), keyed so that a phone sending the same thing twice stores it once;
- :mod:`geo.field.people`: each level-3 grid's people (三长九员一书记) and its three squads;
- :mod:`geo.field.home`: the summary of a caller's area (micro-grids, visits this week, gaps,
  open cases and hazards).
"""
