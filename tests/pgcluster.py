"""A private, throwaway PostgreSQL cluster for tests that stop and restart the database.

The shared cluster on 5432 serves everyone's tests, so it is never restarted; a test that needs
to lose its database gets one of its own: ``initdb`` into a temporary directory, started with
``pg_ctl`` on a free loopback port with its socket in that directory. PostGIS and pgRouting come
with the installation, so every cluster of it can create them. PostgreSQL refuses to run as
root, so as root the server's commands run as ``postgres`` (``runuser``), which owns the
directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from tests.clients import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivateCluster:
    """One PostgreSQL 15 cluster in a temporary directory; ``url(db)`` names a database in it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gridsafe-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _pg(self, tool: str, *args: str, check: bool = True) -> int:
        command = [str(PG_BIN / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, check=check, capture_output=True, cwd=self.root)
        return done.returncode

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create the database ``name`` (a plain identifier) and return its URL."""
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # A throwaway cluster need not survive a crash of the machine.
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        log = str(self.root / "server.log")
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-l", log, "-o", options, "start")

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open transactions are rolled back)."""
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def running(self) -> bool:
        """Whether the server is up (``pg_ctl status``)."""
        return self._pg("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        if self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> bool:
    """Whether this machine has the PostgreSQL 15 server binaries."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


@dataclass
class National:
    """A sharded run's servers: the coordinator's database ``national``, a ``baseline``
    database beside it on the same cluster, and one ``shard`` database on each other cluster."""

    clusters: list[PrivateCluster]
    coordinator: Engine
    baseline: Engine
    shards: list[Engine]


@contextmanager
def national_clusters(shards: int) -> Iterator[National]:
    """Start ``shards + 1`` private clusters as a coordinator and its shards; stopped and
    removed on leaving."""
    clusters = [PrivateCluster() for _ in range(shards + 1)]
    engines: list[Engine] = []
    try:
        for cluster in clusters:
            cluster.start()
        coordinator = create_engine(clusters[0].create_database("national"))
        baseline = create_engine(clusters[0].create_database("baseline"))
        on_shards = [create_engine(c.create_database("shard")) for c in clusters[1:]]
        engines += [coordinator, baseline, *on_shards]
        yield National(clusters, coordinator, baseline, on_shards)
    finally:
        for engine in engines:
            engine.dispose()
        for cluster in clusters:
            cluster.remove()
