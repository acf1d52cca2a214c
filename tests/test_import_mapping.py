"""Column guessing with its basis, explicit and remembered mappings, synonyms (issue 19).

The Excel ledger of a platform (事件编号, 事件类型, 上报时间, 经度, 纬度, 发生地点) with its own
words for types (打架斗殴) imports after its columns are guessed; a type no word means is
reported as a candidate synonym, and imports once an officer adds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, text

from geo.errors import InputError
from geo.imports import guess_columns, import_file, preview_import, sample_file
from geo.records.vocabulary import add_type_synonym, remove_type_synonym, type_synonyms
from geo.settings import Settings
from tests.test_records import _wgs84, grid  # noqa: F401 - the fixture

LEDGER_HEADER = ["事件编号", "事件类型", "上报时间", "经度", "纬度", "发生地点"]


def _ledger(path: Path, rows: list[list[object]], header: list[str] = LEDGER_HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _ledger_rows() -> list[list[object]]:
    lon, lat = _wgs84(50, 50)
    lon2, lat2 = _wgs84(150, 150)
    return [
        ["SJ-001", "打架斗殴", "2026年3月5日 9时0分", lon, lat, "未来路123号"],
        ["SJ-002", "盗窃", "2026-03-06 10:30", lon2, lat2, "锦绣小区"],
        ["SJ-003", "高空抛物", "2026/3/7 21:15", lon, lat, "未来路"],
    ]


def _guesses(kind: str, sample_path: Path, settings: Settings, **kw: object) -> dict[str, tuple]:
    sample = sample_file(sample_path)
    found = guess_columns(kind, sample, timezone=settings.timezone, **kw)  # type: ignore[arg-type]
    return {g.field: (g.columns, g.basis) for g in found}


def test_the_excel_ledger_guesses_by_header_and_content(
    db_settings: Settings, tmp_path: Path
) -> None:
    path = _ledger(tmp_path / "ledger.xlsx", _ledger_rows())
    guesses = _guesses("incidents", path, db_settings)
    assert guesses["source_id"] == (("事件编号",), "header")
    assert guesses["type"] == (("事件类型",), "header")
    assert guesses["reported_at"] == (("上报时间",), "header")
    assert guesses["lon"] == (("经度",), "header")
    assert guesses["lat"] == (("纬度",), "header")
    assert guesses["address"] == (("发生地点",), "header")
    # No header says when the incidents happened: the only time column is the guess.
    assert guesses["occurred_at"] == (("上报时间",), "content")
    assert guesses["description"] == ((), "none")


def test_coordinates_found_by_content_and_a_time_of_day_joined_to_its_date(
    db_settings: Settings, tmp_path: Path
) -> None:
    lon, lat = _wgs84(50, 50)
    path = tmp_path / "plain.csv"
    path.write_text(
        "编号,类型,日期,发生时间,col_a,col_b\n"
        f"A1,fire,2026-03-05,9时0分,{lon},{lat}\n"
        f"A2,fire,2026-03-06,14时30分,{lon},{lat}\n",
        encoding="utf-8",
    )
    guesses = _guesses("incidents", path, db_settings)
    assert guesses["lon"] == (("col_a",), "content")
    assert guesses["lat"] == (("col_b",), "content")
    assert guesses["occurred_at"] == (("日期", "发生时间"), "header")


def test_an_explicit_mapping_wins_and_a_wrong_one_is_named(
    db_settings: Settings, tmp_path: Path
) -> None:
    path = _ledger(tmp_path / "ledger.xlsx", _ledger_rows())
    guesses = _guesses(
        "incidents", path, db_settings, mapping={"address": None, "description": "发生地点"}
    )
    assert guesses["address"] == ((), "explicit")
    assert guesses["description"] == (("发生地点",), "explicit")
    with pytest.raises(InputError, match=r"发生时间.*which the file lacks"):
        _guesses("incidents", path, db_settings, mapping={"occurred_at": "发生时间"})
    with pytest.raises(InputError, match="no field 'colour'"):
        _guesses("incidents", path, db_settings, mapping={"colour": "事件类型"})


def test_the_ledger_imports_with_synonyms_and_offers_an_unknown_type(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    path = _ledger(tmp_path / "ledger.xlsx", _ledger_rows())
    seen: list[tuple[int, int | None]] = []
    run = import_file(
        grid,
        db_settings,
        path,
        kind="incidents",
        source="网格化平台",
        progress=lambda done, total: seen.append((done, total)),
    )
    report = run.report
    assert report.inserted == 2
    assert [(p.row, p.code, p.params) for p in report.rejected] == [
        (4, "unknown_type", {"value": "高空抛物"})
    ]
    assert [(c.value, c.count, c.rows) for c in report.candidates] == [("高空抛物", 1, [4])]
    assert seen[0] == (0, 3)
    assert seen[-1][0] == 3
    with grid.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT source_id, type, source, to_char(occurred_at AT TIME ZONE :tz, "
                "'YYYY-MM-DD HH24:MI') FROM incidents ORDER BY source_id"
            ),
            {"tz": db_settings.timezone},
        ).all()
    assert stored == [
        ("SJ-001", "assault", "网格化平台", "2026-03-05 09:00"),
        ("SJ-002", "theft", "网格化平台", "2026-03-06 10:30"),
    ]
    # The officer adds the candidate as a synonym; the same file again imports only that row.
    add_type_synonym(grid, word="高空抛物", code="other")
    try:
        again = import_file(grid, db_settings, path, kind="incidents", source="网格化平台")
        assert (again.report.inserted, again.report.unchanged, again.report.rejected) == (1, 2, [])
        # Its mapping was remembered for the source: no questions asked.
        preview = preview_import(grid, db_settings, path, kind="incidents", source="网格化平台")
        assert {g.basis for g in preview.guesses if g.columns} == {"remembered"}
        assert preview.mapping["occurred_at"] == "上报时间"
    finally:
        assert remove_type_synonym(grid, word="高空抛物")


def test_synonyms_are_listed_added_and_refused_when_they_clash(db: Engine) -> None:
    shipped = {s["word"]: s["code"] for s in type_synonyms(db)}
    assert shipped["打架斗殴"] == "assault"
    with pytest.raises(InputError, match="no incident type 'meteor'"):
        add_type_synonym(db, word="流星", code="meteor")
    with pytest.raises(InputError, match="already the name of type 'fire'"):
        add_type_synonym(db, word="火灾", code="theft")
    assert add_type_synonym(db, word=" 偷车 ", code="theft")
    try:
        assert {"word": "偷车", "code": "theft", "builtin": False} in type_synonyms(db)
    finally:
        assert remove_type_synonym(db, word="偷车")
    assert not remove_type_synonym(db, word="偷车")
