"""The demo's accounts: one per role, all with the demo password, in demo mode only.

The grid head's area is the first level-3 grid (by code), the member's its first micro-grid, so
both see a small part of the district and the other three roles all of it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from geo.access import DEMO_PASSWORD, DEMO_USERNAMES, Role, User, add_user, demo_users, list_users
from geo.database import sql
from geo.errors import InputError
from geo.settings import Settings


def add_demo_users(engine: Engine, settings: Settings, *, grid3: str, micro: str) -> list[User]:
    """Add one account per role with the demo password (demo mode only; existing kept)."""
    if settings.access.mode != "demo":
        msg = "demo accounts exist only in demo mode (GRIDSAFE_MODE=demo)"
        raise InputError(msg)
    existing = {u.username for u in list_users(engine)}
    scopes = {Role.GRID_HEAD: grid3, Role.GRID_MEMBER: micro}
    for name, role in zip(DEMO_USERNAMES, Role, strict=True):
        if name not in existing:
            add_user(
                engine,
                settings,
                name,
                role,
                password=DEMO_PASSWORD,
                scope=scopes.get(role),
                display_name=f"演示 {name}",
            )
    return demo_users(engine)


def seed_demo_users(engine: Engine, settings: Settings) -> list[User]:
    """The demo accounts, the grid head's in the first level-3 grid and the member's in its
    first micro-grid."""
    with engine.connect() as conn:
        grid3, micro = conn.execute(
            sql("demo_user_scopes", "demo"), {"region": settings.region}
        ).one()
    return add_demo_users(engine, settings, grid3=grid3, micro=micro)
