"""Settings: one object, read once from ``GRIDSAFE_*`` environment variables and passed in.

No other module reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings; every number in the risk, coverage and routing models lives here."""

    model_config = SettingsConfigDict(env_prefix="GRIDSAFE_", extra="ignore")

    database_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/gridsafe",
        description="SQLAlchemy URL of the PostGIS database (psycopg 3 driver).",
    )
    srid: int = Field(
        default=4547,
        description=(
            "The one metric projected CRS geometry is stored in. Default: CGCS2000 / "
            "3-degree Gauss-Kruger CM 114E (EPSG:4547), the demo district's zone."
        ),
    )
    region: str = Field(
        default="410105010",
        description="Region/tenant key written on every row (the distribution key at scale).",
    )
    pool_size: int = Field(default=5, ge=1, description="Database connection pool size.")
    pool_timeout_s: float = Field(default=10.0, gt=0, description="Wait for a pool connection.")

    # Boundary validation tolerances.
    sibling_overlap_tolerance_m2: float = Field(
        default=1.0,
        ge=0,
        description="Siblings may overlap by at most this many m² (digitising noise).",
    )
    containment_tolerance_m2: float = Field(
        default=1.0,
        ge=0,
        description="A child may stick out of its parent by at most this many m².",
    )
    gap_tolerance_m2: float = Field(
        default=1.0,
        ge=0,
        description="Uncovered parts of a parent smaller than this (m²) are ignored.",
    )
    min_area_m2: float = Field(
        default=1.0,
        ge=0,
        description="A polygon smaller than this is rejected as degenerate (point-sized).",
    )

    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, gt=0, description="Largest file accepted by an upload endpoint."
    )

    # Hazard assessment bands (geo/assessment.py): a score >= the bound has that colour.
    lec_red_min: float = Field(
        default=320.0,
        description="LEC D >= this is red (Graham-Kinney 'extremely dangerous', D > 320).",
    )
    lec_orange_min: float = Field(
        default=160.0,
        description="LEC D >= this is orange (Graham-Kinney 'highly dangerous', 160-320).",
    )
    lec_yellow_min: float = Field(
        default=70.0,
        description="LEC D >= this is yellow (Graham-Kinney 'notably dangerous', 70-160).",
    )
    ls_red_min: float = Field(
        default=20.0, description="LS R >= this is red (5x5 matrix 'major risk', GB/T 27921)."
    )
    ls_orange_min: float = Field(
        default=15.0, description="LS R >= this is orange (5x5 matrix 'large risk', 15-19)."
    )
    ls_yellow_min: float = Field(
        default=9.0, description="LS R >= this is yellow (5x5 matrix 'general risk', 9-14)."
    )

    # Locating and importing incidents and hazards (geo/records.py).
    import_batch_rows: int = Field(
        default=100_000,
        gt=0,
        description="Rows read, checked and located per batch when importing records (memory cap).",
    )
    geocode_min_score: float = Field(
        default=80.0,
        ge=0,
        le=100,
        description="Lowest address match score accepted (geo/address.py's default).",
    )

    mode: Literal["local", "production"] = "local"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
