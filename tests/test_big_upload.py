"""Real uploads against ``gridsafe serve`` in its own process: 100 MB at the default limits,
and one onto a disk that fills up.

The bad-input tests shrink the limits to a few kilobytes; this one sends 100 MB through the
network stack to the command users run, as a browser or ``curl -F`` would: a boundary file that
is 100 MB of features cut off mid-way (a truncated download). It must get its clear error,
not a timeout or a crash, and the server must not hold the upload in memory (its peak resident
set, read from /proc, stays far below the upload's size), must write nothing and must leave no
temporary file behind. Then a body over the limit, declared or streamed, gets a 413.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from geo.access import Role
from geo.settings import Settings
from tests.clients import free_port, make_user, token_for

MB = 1024 * 1024
BOUNDARY = "gridsafe-test-boundary"
FEATURE = (
    b'{"type": "Feature", "properties": {"code": "S%07d", "name": "\xe8\xa1\x97\xe9\x81\x93"}, '
    b'"geometry": {"type": "Polygon", "coordinates": [[[113.6, 34.7], [113.61, 34.7], '
    b"[113.61, 34.71], [113.6, 34.7]]]}},\n"
)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    msg = "no VmHWM in /proc status"
    raise RuntimeError(msg)


def _multipart(total: int, *, level: str = "subdistrict") -> Iterator[bytes]:
    """A multipart body streamed in 1 MiB chunks: the level field, then a GeoJSON file of
    ``total`` bytes that stops in the middle of a feature."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="level"\r\n\r\n{level}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="district.geojson"\r\nContent-Type: application/geo+json\r\n\r\n'
    ).encode()
    sent = 0
    chunk = bytearray(b'{"type": "FeatureCollection", "features": [\n')
    i = 0
    while sent < total:
        while len(chunk) < MB:
            chunk += FEATURE % i
            i += 1
        piece = bytes(chunk[: min(MB, total - sent)])
        del chunk[: len(piece)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@contextlib.contextmanager
def _serve(db_settings: Settings, tmp: Path, *, start_s: float = 30) -> Iterator[tuple[str, int]]:
    """``gridsafe serve`` on a free port with the test database and ``tmp`` as its temporary
    directory (given ``start_s`` seconds to start); yields the base URL and its pid."""
    port = free_port()
    env = {**os.environ, "GRIDSAFE_DATABASE_URL": db_settings.db.database_url, "TMPDIR": str(tmp)}
    exe = Path(sys.executable).with_name("gridsafe")
    server = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_s
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("gridsafe serve did not start")
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def served(db: Engine, db_settings: Settings) -> Iterator[tuple[str, int, Path]]:
    """The server with a temporary directory of its own (to see that no upload is left
    there); yields the base URL, its pid and the directory."""
    tmp = Path(tempfile.mkdtemp(prefix="gridsafe-uploads-"))
    with _serve(db_settings, tmp) as (base, pid):
        yield base, pid, tmp


def _admin_headers(settings: Settings) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token_for(settings, make_user(settings, Role.ADMIN))}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }


def test_a_100_mb_upload_gets_its_error_streamed_not_held(
    served: tuple[str, int, Path], db: Engine, db_settings: Settings
) -> None:
    base, pid, tmp = served
    assert db_settings.intake.max_upload_bytes == 200 * MB  # the defaults, not shrunk
    headers = _admin_headers(db_settings)
    before = _peak_rss_mib(pid)
    t0 = time.monotonic()
    r = httpx.post(
        f"{base}/api/admin/boundaries",
        content=_multipart(100 * MB),
        headers=headers,
        timeout=300,
    )
    took = time.monotonic() - t0
    assert r.status_code == 400, r.text[:500]
    assert r.json()["detail"].startswith("district.geojson: cannot be read as a vector layer")
    assert took < 120
    # Streamed to disk and read from there: the server grew by much less than the upload.
    grown = _peak_rss_mib(pid) - before
    assert grown < 80, f"the server's peak RSS grew by {grown:.0f} MiB for a 100 MiB upload"
    assert list(tmp.iterdir()) == []  # the upload's temporary file is gone
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == 0
    # Over the limit: refused from the declared length, before a byte of the body is sent.
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST /api/admin/boundaries HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        f"Content-Type: {headers['Content-Type']}\r\n"
        f"Content-Length: {db_settings.intake.max_upload_bytes + 64 * MB}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head.encode())
        received = b""
        while b"}" not in received and (more := conn.recv(65536)):  # the JSON body's end
            received += more
        answer = received.decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "GRIDSAFE_MAX_UPLOAD_BYTES" in answer
    # ... and a stream over it, without a length, is cut off at the limit with the same 413.
    r = httpx.post(
        f"{base}/api/admin/boundaries",
        content=_multipart(db_settings.intake.max_upload_bytes + MB),
        headers=headers,
        timeout=300,
    )
    assert r.status_code == 413, r.text[:300]
    assert list(tmp.iterdir()) == []


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 2 MiB tmpfs: a real disk that fills up (ENOSPC). Needs root and a kernel that lets
    this process mount (CI runs as root); skipped otherwise."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="gridsafe-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()


def test_an_upload_onto_a_full_disk_gets_a_507_and_leaves_nothing(
    db: Engine, db_settings: Settings, full_disk: Path
) -> None:
    """A 20 MiB upload onto a 2 MiB temporary disk: the write fails with ENOSPC (a real full
    disk, not a simulated one), the server answers a clear 507, keeps serving, and the disk is
    empty again."""
    with _serve(db_settings, full_disk) as (base, _pid):
        r = httpx.post(
            f"{base}/api/admin/boundaries",
            content=_multipart(20 * MB),
            headers=_admin_headers(db_settings),
            timeout=120,
        )
        assert r.status_code == 507, r.text[:300]
        detail = r.json()["detail"]
        assert detail.startswith("could not store the upload"), detail  # while it streamed in
        assert "the server's disk is full" in detail
        assert "No space left on device" in detail
        assert "nothing was written" in detail
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    assert list(full_disk.iterdir()) == []
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == 0
