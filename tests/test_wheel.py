"""The package as a user gets it: a wheel, installed in a new virtualenv, runs its demo from any
directory.

The wheel is built from a copy of the working tree's files (so no stale build output of the
repository can slip in), installed with ``--no-deps`` into a fresh virtualenv made by the
project's interpreter; the dependencies come from the project's ``.venv`` through a ``.pth``
line added after the install (a clean install cannot fetch them offline). That line adds only
the third-party packages: the ``.pth`` files in that folder, among them the editable install
pointing at the repository, are not read. ``gridsafe demo --no-serve`` then runs in an empty
folder under ``/tmp`` against a new database, and must load every level of the district.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from geo.database import drop_database, make_engine, scratch_settings
from geo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COUNTS = {"subdistrict": 1, "grid2": 12, "grid3": 73, "micro": 652}

pytestmark = [pytest.mark.demo, pytest.mark.wheel, pytest.mark.timeout(1800)]


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=1500
    )
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _source_copy(into: Path) -> Path:
    """The repository's tracked and new (not ignored) files, copied into ``into``."""
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


@pytest.fixture
def wheel_settings(run_id: str, run_logins: Settings) -> Iterator[Settings]:
    """A new, empty database of this run that no other test uses."""
    settings = scratch_settings(f"gridsafe_wheel_{run_id}", run_id)
    yield settings
    drop_database(settings.db)


def test_an_installed_wheel_loads_the_demo_from_any_directory(
    wheel_settings: Settings,
) -> None:
    with tempfile.TemporaryDirectory(prefix="gridsafe-wheel-", dir="/tmp") as tmp_name:
        tmp = Path(tmp_name)
        source = _source_copy(tmp / "src")
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-q",
                "-w",
                str(tmp / "dist"),
                str(source),
            ],
            cwd=tmp,
        )
        (wheel,) = (tmp / "dist").glob("gridsafe-*.whl")
        venv = tmp / "venv"
        _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp)
        python = venv / "bin" / "python"
        _run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], cwd=tmp)
        site = Path(
            _run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                cwd=tmp,
            ).strip()
        )
        (site / "zz_project_dependencies.pth").write_text(
            sysconfig.get_path("purelib") + "\n", encoding="utf-8"
        )
        elsewhere = tmp / "elsewhere"
        elsewhere.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env |= {
            "GRIDSAFE_DATABASE_URL": wheel_settings.db.database_url,
            "GRIDSAFE_OWNER_DATABASE_URL": wheel_settings.db.owner_database_url,
            "GRIDSAFE_ADMIN_DATABASE_URL": wheel_settings.db.admin_database_url,
        }
        where = _run(
            [str(python), "-c", "import cli, demo, geo; print(demo.DATA); print(geo.__file__)"],
            cwd=elsewhere,
            env=env,
        ).split()
        assert all(Path(p).is_relative_to(site) for p in where), where
        shown = _run([str(venv / "bin" / "gridsafe"), "demo", "--no-serve"], cwd=elsewhere, env=env)
    assert "micro-grids by colour" in shown
    assert "demo account head" in shown
    engine = make_engine(wheel_settings.db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT level, count(*) FROM areas WHERE region = :r GROUP BY level"),
                {"r": wheel_settings.region},
            ).all()
    finally:
        engine.dispose()
    assert dict(rows) == COUNTS
