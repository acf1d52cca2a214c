"""The import page as a data officer uses it, in Chromium with real input (issue 19).

A CSV ledger with some bad rows and a time column no header names: upload it, choose the time
column in the preview, run it, watch the progress bar, read the report, download the rejected
rows (a file with a reason column), fix one, upload that file again, see it imported. The
Excel ledger of a platform (事件编号, 事件类型, 上报时间, 经度, 纬度, 发生地点) imports after a
mapping, and a type word it alone uses is added as a synonym from the report. The API docs page
makes a change while signed in (its CSRF token sent by Swagger UI). Screenshots of each page
are kept in the artifacts folder.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import Engine, text

from geo.access import Role
from geo.settings import Settings
from tests.browser import Tab, serve, sign_in
from tests.test_import_jobs import centre
from tests.test_maps import build_district

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def site(make_db: Callable[..., tuple[Engine, Settings]]) -> Iterator[tuple[Engine, Settings, str]]:
    engine, settings = make_db("importpage")
    build_district(engine, settings)
    with serve(settings) as base:
        yield engine, settings, base


def stored(engine: Engine, source: str) -> dict[str, str]:
    """The incidents of ``source``: id → type."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT source_id, type FROM incidents WHERE source = :s"), {"s": source}
        ).all()
    return {str(i): str(t) for i, t in rows}


def choose_file(tab: Tab, path: Path) -> None:
    """Click the file field and pick ``path`` in the file chooser it opens."""
    with tab.page.expect_file_chooser() as chooser:
        tab.page.locator("#gs-file").click()
    chooser.value.set_files(str(path))


def upload(tab: Tab, path: Path, *, source: str) -> None:
    """Fill in the first step (incidents from ``source``) and upload ``path``."""
    tab.page.locator("#gs-kind").select_option("incidents")
    tab.page.locator("#gs-source").fill(source)
    choose_file(tab, path)
    tab.page.get_by_role("button", name="上传并预览").click()
    tab.page.locator("#gs-import-preview").wait_for(state="visible", timeout=TIMEOUT_MS)


def run(tab: Tab) -> None:
    """Start the import; see the progress bar, then the report."""
    tab.page.get_by_role("button", name="导入", exact=True).click()
    tab.page.locator("#gs-import-run").wait_for(state="visible", timeout=TIMEOUT_MS)
    tab.page.locator("#gs-import-report").wait_for(state="visible", timeout=TIMEOUT_MS)


def count(tab: Tab, name: str) -> int:
    return int(tab.text(f'#gs-counts [data-count="{name}"] strong'))


def ledger_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A CSV ledger whose time column is called 受理日期 (no field is known by that name)."""
    lines = ["编号,类别,受理日期,经度,纬度,地址"]
    for ident, kind, when, where in rows:
        if where.startswith("M"):
            lon, lat = centre(int(where[1]), int(where[2]))
            lines.append(f"{ident},{kind},{when},{lon:.7f},{lat:.7f},某路{ident}号")
        else:
            lines.append(f"{ident},{kind},{when},{where},34.7,某路{ident}号")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fix_rejected(tab: Tab, tmp_path: Path) -> Path:
    """Download the report's rejected rows, check the file, fix R3's time as an officer would
    in Excel, and save it under a new name."""
    with tab.page.expect_download() as download:
        tab.page.locator("#gs-rejected-file").click()
    rejected = tmp_path / download.value.suggested_filename
    download.value.save_as(rejected)
    assert rejected.suffix == ".csv"
    table = list(csv.reader(io.StringIO(rejected.read_text(encoding="utf-8-sig"))))
    assert table[0][-1] == "原因"
    assert [r[0] for r in table[1:]] == ["R3", "R4"]
    assert "不是日期时间" in table[1][-1]
    # Fix R3's time in the file, as the officer would in Excel, and upload it again.
    table[1][2] = "2026-03-03 09:40"
    fixed = tmp_path / "三月台账-改.csv"
    with fixed.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(table)
    return fixed


def check_history(tab: Tab, artifacts: Path) -> None:
    """The history lists both runs, newest first; the first one's report shows its mapping."""
    tab.goto("/import/history", ready="#gs-runs")
    runs = tab.texts("#gs-runs tbody tr")
    assert len(runs) == 2
    assert "三月台账-改.csv" in runs[0]
    assert "三月台账.csv" in runs[1]
    tab.shot(artifacts / "import_history.png")
    tab.page.locator("#gs-runs tbody tr").nth(1).get_by_role("link", name="查看报告").click()
    tab.page.wait_for_selector("#gs-rejected")
    assert "受理日期" in tab.text("#gs-run-mapping")
    tab.shot(artifacts / "import_run.png")


def test_import_fix_the_rejected_rows_and_import_them(
    site: tuple[Engine, Settings, str], desktop: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    engine, settings, base = site
    tab = Tab.open(desktop, base)
    sign_in(tab, settings, Role.DATA_OFFICER)
    tab.goto("/import", ready="#gs-upload-form")
    assert "导入文件" in tab.text("h1")
    assert "数据导入" in tab.text(".gs-shell")  # the officer's navigation offers the page
    tab.shot(artifacts / "import_form.png")

    first = ledger_csv(
        tmp_path / "三月台账.csv",
        [
            ("R1", "纠纷", "2026-03-01 09:00", "M00"),
            ("R2", "fire", "2026-03-02 10:30", "M12"),
            ("R3", "dispute", "3月3日上午", "M21"),  # a time that cannot be read
            ("R4", "assault", "2026-03-04 22:00", "东经"),  # a longitude that is not a number
            ("R5", "theft", "2026-03-05 08:15", "M33"),
        ],
    )
    upload(tab, first, source="热线平台")
    assert tab.text("#gs-preview-encoding") == "utf-8-sig"
    assert tab.text("#gs-preview-crs") == "EPSG:4326"
    assert tab.texts("#gs-preview-rows tbody tr td:first-child") == ["R1", "R2", "R3", "R4", "R5"]
    occurred = tab.page.locator('#gs-mapping tr[data-field="occurred_at"]')
    assert "必填" in occurred.inner_text()
    # The officer says which columns hold the time and the type: the basis becomes their choice.
    occurred.locator("select").select_option(label="受理日期")
    tab.page.locator('#gs-mapping tr[data-field="type"] select').select_option(label="类别")
    assert occurred.locator(".gs-basis").inner_text() == "由您指定"
    assert tab.page.locator('#gs-mapping tr[data-field="source_id"] .gs-basis').inner_text() in (
        "依据列名",
        "依据单元格内容",
    )
    tab.shot(artifacts / "import_preview.png")

    run(tab)
    assert count(tab, "inserted") == 3
    assert count(tab, "rejected") == 2
    reasons = tab.texts("#gs-rejected tbody tr td:nth-child(3)")
    assert len(reasons) == 2
    assert "3月3日上午" in reasons[0]
    assert "不是日期时间" in reasons[0]
    assert "东经" in reasons[1]
    assert "不是数字" in reasons[1]
    tab.shot(artifacts / "import_report.png")
    assert set(stored(engine, "热线平台")) == {"R1", "R2", "R5"}

    fixed = fix_rejected(tab, tmp_path)
    tab.page.get_by_role("button", name="再导入一个文件").click()
    upload(tab, fixed, source="热线平台")
    # The source's mapping is remembered: the time column needs no question this time.
    occurred = tab.page.locator('#gs-mapping tr[data-field="occurred_at"]')
    assert occurred.locator("select").evaluate("s => s.selectedOptions[0].textContent") == (
        "受理日期"
    )
    assert occurred.locator(".gs-basis").inner_text() == "沿用该来源上次导入"
    run(tab)
    assert count(tab, "inserted") == 1
    assert count(tab, "rejected") == 1
    assert set(stored(engine, "热线平台")) == {"R1", "R2", "R3", "R5"}

    check_history(tab, artifacts)
    tab.assert_offline()


def test_the_platform_ledger_imports_after_a_mapping_and_a_synonym(
    site: tuple[Engine, Settings, str], desktop: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    engine, settings, base = site
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["事件编号", "事件类型", "上报时间", "经度", "纬度", "发生地点"])
    for ident, kind, when, where in [
        ("P1", "打架斗殴", "2026-03-01 21:00", "M00"),
        ("P2", "纠纷", "2026-03-02 09:30", "M13"),
        ("P3", "寻衅滋事", "2026-03-03 23:10", "M31"),
    ]:
        lon, lat = centre(int(where[1]), int(where[2]))
        sheet.append([ident, kind, when, lon, lat, f"某街{ident}号"])
    path = tmp_path / "平台台账.xlsx"
    book.save(path)

    tab = Tab.open(desktop, base)
    sign_in(tab, settings, Role.DATA_OFFICER)
    tab.goto("/import", ready="#gs-upload-form")
    upload(tab, path, source="综治平台")
    assert tab.text("#gs-preview-format") == "excel"
    # The officer confirms that the incidents happened when they were reported.
    occurred = tab.page.locator('#gs-mapping tr[data-field="occurred_at"] select')
    occurred.select_option(label="上报时间")
    run(tab)
    assert count(tab, "inserted") == 2
    assert stored(engine, "综治平台") == {"P1": "assault", "P2": "dispute"}
    # 寻衅滋事 is a word no type has: offered as a synonym, added, then the ledger again.
    word = tab.page.locator('#gs-synonyms tr[data-word="寻衅滋事"]')
    word.locator("select").select_option("mass_incident")
    word.get_by_role("button", name="添加为同义词").click()
    tab.page.wait_for_selector("#gs-import-status.gs-ok >> text=寻衅滋事")
    tab.shot(artifacts / "import_synonym.png")
    tab.page.get_by_role("button", name="再导入一个文件").click()
    upload(tab, path, source="综治平台")
    run(tab)
    assert count(tab, "inserted") == 1
    assert count(tab, "unchanged") == 2
    assert stored(engine, "综治平台") == {"P1": "assault", "P2": "dispute", "P3": "mass_incident"}
    tab.assert_offline()


def test_the_admin_landing_page_and_a_change_from_the_api_docs(
    site: tuple[Engine, Settings, str], desktop: BrowserContext, artifacts: Path, tmp_path: Path
) -> None:
    _, settings, base = site
    tab = Tab.open(desktop, base)
    sign_in(tab, settings, Role.ADMIN)
    tab.goto("/admin", ready=".gs-tiles")
    assert [a.get_attribute("href") for a in tab.page.locator(".gs-tile").all()] == [
        "/import",
        "/import/history",
        "/admin/users",
        "/admin/audit",
    ]
    tab.shot(artifacts / "admin.png")
    tab.goto("/upload", ready="#gs-upload-form")
    assert tab.page.url.endswith("/import")

    # In /docs, signed in by the page session: POST /api/admin/boundaries with a file.
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    tab.goto("/docs", ready="#swagger-ui .opblock")
    block = tab.page.locator("#operations-admin-upload_boundaries_api_admin_boundaries_post")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator('input[type="file"]').set_input_files(str(empty))
    block.locator("tr[data-property-name='level'] select").select_option("micro")
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table .response-col_status").first
    status.wait_for(timeout=TIMEOUT_MS)
    answer = block.locator(".live-responses-table .response-col_description").first.inner_text()
    tab.shot(artifacts / "docs_signed_in.png")
    assert status.inner_text().strip() != "403", answer
    assert "CSRF" not in answer
