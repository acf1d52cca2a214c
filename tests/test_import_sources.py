"""Sources made explicit (issue 19): a source is the platform or ledger a file comes from; ids
are unique within it, so the same records from two differently named files stay one set of
rows when given the same source, and are refused (never stored twice) with a reason naming the
source they are stored under when given another.

The second file is the platform's re-export in GCJ-02 (another coordinate system), as in the
issue: same ids, same types and times, coordinates that differ by the offset.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from geo.crs import gcj02_from_wgs84
from geo.imports import import_file
from geo.settings import Settings
from maps.i18n import translator
from maps.reasons import reason_text
from tests.test_records import _wgs84, grid  # noqa: F401 - the fixture

GRIDSAFE = Path(sys.executable).with_name("gridsafe")
POINTS = {"E1": (50, 50), "E2": (150, 50), "E3": (50, 150), "E4": (150, 150)}


def _export(path: Path, *, gcj02: bool = False) -> Path:
    lines = ["事件编号,事件类型,发生时间,经度,纬度"]
    for n, (ident, (dx, dy)) in enumerate(POINTS.items()):
        lon, lat = _wgs84(dx, dy)
        if gcj02:
            glon, glat = gcj02_from_wgs84(lon, lat)
            lon, lat = float(glon), float(glat)
        lines.append(f"{ident},打架斗殴,2026-03-0{n + 1} 08:30,{lon:.7f},{lat:.7f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(engine: Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        return [
            (str(s), str(i), a)
            for s, i, a in conn.execute(
                text("SELECT source, source_id, area_code FROM incidents ORDER BY source_id")
            )
        ]


def test_the_same_records_under_the_same_source_stay_one_set_of_rows(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    first = import_file(
        grid, db_settings, _export(tmp_path / "2026年3月.csv"), kind="incidents", source="综治平台"
    )
    assert (first.report.inserted, first.report.rejected) == (4, [])
    again = import_file(
        grid,
        db_settings,
        _export(tmp_path / "export (1).csv", gcj02=True),
        kind="incidents",
        source="综治平台",
        crs="gcj02",
    )
    # The re-export's points land within centimetres of the first: updated, not added.
    assert again.report.inserted == 0
    assert again.report.updated + again.report.unchanged == 4
    assert again.report.rejected == []
    assert _rows(grid) == [
        ("综治平台", "E1", "M1"),
        ("综治平台", "E2", "M2"),
        ("综治平台", "E3", "M3"),
        ("综治平台", "E4", "M4"),
    ]


def test_the_same_records_under_another_source_are_refused_naming_it(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    import_file(
        grid, db_settings, _export(tmp_path / "march.csv"), kind="incidents", source="综治平台"
    )
    other = import_file(
        grid,
        db_settings,
        _export(tmp_path / "march-gcj.csv", gcj02=True),
        kind="incidents",
        crs="gcj02",
    )
    # No source given: the file's name is the source, and the rows are someone else's.
    assert other.report.source == "march-gcj"
    assert other.report.loaded == 0
    assert [(p.row, p.ident, p.code, p.params) for p in other.report.rejected] == [
        (row, ident, "other_source", {"source": "综治平台"})
        for row, ident in zip(range(2, 6), POINTS, strict=True)
    ]
    assert "import the file again with source '综治平台'" in other.report.rejected[0].reason
    chinese = reason_text(other.report.rejected[0], translator("zh_CN"))
    assert "请以来源「综治平台」重新导入以更新它们" in chinese
    assert [s for s, _, _ in _rows(grid)] == ["综治平台"] * 4  # nothing duplicated
    # A record the other source does not hold (a new id) is imported under the file's source.
    path = tmp_path / "march-gcj.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "E9,盗窃,2026-03-09 10:00,"
        f"{_wgs84(60, 60)[0]:.7f},{_wgs84(60, 60)[1]:.7f}\n",
        encoding="utf-8",
    )
    more = import_file(grid, db_settings, path, kind="incidents")
    assert (more.report.inserted, len(more.report.rejected)) == (1, 4)


def test_the_command_line_takes_a_source(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    # A wide terminal: the report's lines are read whole.
    env = {**os.environ, "GRIDSAFE_DATABASE_URL": db_settings.db.database_url, "COLUMNS": "400"}
    for name in ("a.csv", "b.csv"):
        done = subprocess.run(
            [
                str(GRIDSAFE),
                "import",
                "incidents",
                str(_export(tmp_path / name)),
                "--source",
                "综治平台",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert "unchanged 4" in done.stdout
    assert [s for s, _, _ in _rows(grid)] == ["综治平台"] * 4
    refused = subprocess.run(
        [str(GRIDSAFE), "import", "incidents", str(_export(tmp_path / "c.csv"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 1  # nothing loaded
    lines = [line for line in refused.stdout.splitlines() if "rejected row" in line]
    assert len(lines) == 4, refused.stdout
    assert all("import the file again with source '综治平台'" in line for line in lines)
    assert len(_rows(grid)) == 4
