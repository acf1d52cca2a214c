"""The demo district loaded through the real import path into PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text


def test_counts_per_level(demo: Engine) -> None:
    with demo.connect() as conn:
        rows = conn.execute(text("SELECT level, count(*) FROM areas GROUP BY level")).all()
    counts: dict[str, int] = {row[0]: row[1] for row in rows}
    assert counts == {"subdistrict": 1, "grid2": 12, "grid3": 73, "micro": 652}


def test_micro_grids_tile_the_subdistrict(demo: Engine) -> None:
    with demo.connect() as conn:
        top = conn.execute(
            text("SELECT area_m2 FROM areas WHERE level = 'subdistrict'")
        ).scalar_one()
        micro = conn.execute(
            text("SELECT sum(area_m2) FROM areas WHERE level = 'micro'")
        ).scalar_one()
        # Every micro-grid's ancestry runs up to the sub-district through a grid3 and a grid2.
        paths = conn.execute(
            text("SELECT count(*) FROM areas WHERE level = 'micro' AND cardinality(ancestors) = 3")
        ).scalar_one()
    assert micro == pytest.approx(top, rel=1e-4)
    assert paths == 652


def test_reference_layers_loaded(demo: Engine) -> None:
    with demo.connect() as conn:
        buildings = conn.execute(text("SELECT count(*) FROM buildings")).scalar_one()
        addressed = conn.execute(
            text("SELECT count(*) FROM buildings WHERE address LIKE '郑州市金水区%'")
        ).scalar_one()
        roads = conn.execute(text("SELECT count(*) FROM roads")).scalar_one()
        stations = conn.execute(
            text("SELECT count(*) FROM pois WHERE kind = 'station'")
        ).scalar_one()
    assert buildings > 3000
    assert addressed == buildings
    assert roads > 400
    assert stations >= 2
