"""The import history (issue 19): every run with who, when, the file, its digest, the mapping,
the counts and the report; the rejected rows given back as the same kind of file with a 原因
column in Chinese, which, fixed and imported again, loads those rows and changes nothing else.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, text

from geo.database import acting_as
from geo.imports import REASON_HEADER, get_import, import_file, list_imports
from geo.settings import Settings
from tests.clients import api_client
from tests.test_records import _wgs84, grid  # noqa: F401 - the fixture

HEADER = ["隐患编号", "隐患类型", "排查时间", "可能性", "严重程度", "经度", "纬度"]


def _hazard_rows() -> list[list[str]]:
    lon, lat = _wgs84(50, 50)
    return [
        ["YH-1", "消防通道堵塞", "2026-03-01 09:00", "2", "3", f"{lon:.7f}", f"{lat:.7f}"],
        ["YH-2", "电线私拉", "2026年3月2日 9时30分", "3", "2", f"{lon:.7f}", f"{lat:.7f}"],
        ["YH-3", "燃气泄漏", "昨天", "2", "2", f"{lon:.7f}", f"{lat:.7f}"],  # no time
        ["YH-4", "堆物", "2026-03-04 10:00", "2", "2", "abc", f"{lat:.7f}"],  # no number
        ["YH-5", "", "2026-03-05 10:00", "2", "2", f"{lon:.7f}", f"{lat:.7f}"],  # no type
    ]


def _gbk_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM hazards")).scalar_one())


def test_a_run_is_logged_and_its_rejected_rows_come_back_to_fix(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    path = _gbk_csv(tmp_path / "upload-tmp.csv", _hazard_rows())
    with acting_as("user:数据员"):
        run = import_file(
            grid, db_settings, path, kind="hazards", source="安监台账", file_name="3月隐患.csv"
        )
    assert (run.report.inserted, len(run.report.rejected)) == (2, 3)
    listed = list_imports(grid, db_settings.region)
    assert [(r["id"], r["actor"], r["kind"], r["source"], r["file_name"]) for r in listed] == [
        (run.run_id, "user:数据员", "hazards", "安监台账", "3月隐患.csv")
    ]
    assert listed[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (listed[0]["loaded"], listed[0]["inserted"], listed[0]["rejected"]) == (2, 2, 3)
    one = get_import(grid, db_settings.region, run.run_id)
    assert one["file_format"] == "csv"
    assert one["encoding"] == "gb18030"
    assert one["mapping"]["identified_at"] == "排查时间"
    assert one["mapping"]["category"] == "隐患类型"
    assert [p["row"] for p in one["report"]["rejected"]] == [4, 5, 6]

    with api_client(db_settings) as client:
        assert [r["id"] for r in client.get("/api/imports").json()] == [run.run_id]
        assert client.get(f"/api/imports/{run.run_id}").json()["source"] == "安监台账"
        answer = client.get(f"/api/imports/{run.run_id}/rejected")
        assert client.get("/api/imports/999999").status_code == 404
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''3%E6%9C%88" in answer.headers["content-disposition"]
    back = list(csv.reader(io.StringIO(answer.content.decode("gb18030"))))
    assert back[0] == [*HEADER, REASON_HEADER]
    assert [r[0] for r in back[1:]] == ["YH-3", "YH-4", "YH-5"]
    assert back[1][:-1] == _hazard_rows()[2]  # the cells as the file held them
    reasons = [r[-1] for r in back[1:]]
    assert "不是日期时间" in reasons[0]
    assert "不是数字" in reasons[1]
    assert "为空" in reasons[2]

    # The officer fixes two rows (the third stays broken) and imports the file again.
    fixed = [row[:-1] for row in back[1:]]
    fixed[0][2] = "2026-03-03 08:00"
    fixed[1][5] = _hazard_rows()[0][5]
    again_path = _gbk_csv(tmp_path / "again.csv", fixed)
    again = import_file(
        grid, db_settings, again_path, kind="hazards", source="安监台账", file_name="fixed.csv"
    )
    assert (again.report.inserted, again.report.updated) == (2, 0)
    assert [p.ident for p in again.report.rejected] == ["YH-5"]
    assert _count(grid) == 4
    with grid.connect() as conn:
        props = conn.execute(text("SELECT props FROM hazards WHERE source_id = 'YH-3'")).scalar()
    assert REASON_HEADER not in (props or {})  # the reason column is not data
    # The whole original file again: nothing changes.
    third = import_file(grid, db_settings, path, kind="hazards", source="安监台账")
    assert (third.report.inserted, third.report.updated, third.report.unchanged) == (0, 0, 2)
    assert _count(grid) == 4
    assert len(list_imports(grid, db_settings.region)) == 3


def test_an_excel_file_comes_back_as_excel(
    grid: Engine,  # noqa: F811 - the fixture
    db_settings: Settings,
    tmp_path: Path,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in _hazard_rows():
        sheet.append(row)
    path = tmp_path / "台账.xlsx"
    book.save(path)
    run = import_file(grid, db_settings, path, kind="hazards", source="安监台账")
    assert [p.row for p in run.report.rejected] == [4, 5, 6]
    with api_client(db_settings) as client:
        answer = client.get(f"/api/imports/{run.run_id}/rejected")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    back = load_workbook(io.BytesIO(answer.content), read_only=True)
    values = [list(r) for r in back.worksheets[0].iter_rows(values_only=True)]
    assert values[0] == [*HEADER, REASON_HEADER]
    assert [r[0] for r in values[1:]] == ["YH-3", "YH-4", "YH-5"]
    assert "不是数字" in str(values[2][-1])
