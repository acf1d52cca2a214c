"""Typed dependencies, so handlers never reach for globals.

They are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, one thread hop
per dependency per request, to read an attribute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from geo.settings import Settings


async def get_engine(request: Request) -> Engine:
    """The connection pool made in the app's lifespan."""
    engine: Engine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
