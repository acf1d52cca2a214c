"""Settings, read once from ``GRIDSAFE_*`` environment variables and passed in.

No other module reads the environment. The variables form one flat namespace
(``GRIDSAFE_POOL_SIZE``, ``GRIDSAFE_RISK_SEED``, ...), and :class:`Settings` groups them by the
part of the code that reads them: ``settings.db`` (connections, admission control),
``settings.access`` (accounts, tokens, login limits, proxies), ``settings.intake`` (uploads and
record imports), ``settings.areas`` (boundary checks, the locate grid), ``settings.risk``,
``settings.cases``, ``settings.coverage``, ``settings.routing``, ``settings.maps`` (basemap,
page and tile sizes) and ``settings.batch`` (dask). What every part needs (``srid``,
``timezone``, ``language``, ``region``) stays on :class:`Settings` itself. A function takes
the group it reads, not the whole object.

Each group reads its own variables (``env_prefix="GRIDSAFE_"``), so a variable keeps its name
whatever group its setting sits in; ``docs/settings.md`` lists which variable is where. A value
a setting does not accept raises :class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as UnparsedError

from geo.errors import GridsafeError

ENV_PREFIX = "GRIDSAFE_"


class SettingsError(GridsafeError):
    """A ``GRIDSAFE_*`` variable holds a value its setting does not accept."""


class _Group(BaseSettings):
    """A group of settings, each read from ``GRIDSAFE_<NAME>``; unknown names are refused."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")


class DatabaseSettings(_Group):
    """Connections and admission control (geo/database.py, api/admission.py).

    Three logins (README "Database roles"; geo/database.py ensure_database): the app's, which
    owns nothing and may not write the audit log; the owner's, which runs the migrations; and
    a superuser's, used only by `gridsafe db init` to create the database, both logins and the
    extensions. Each server worker has its own pool and its own in-flight limit; size them so
    that workers x (pool_size + pool_max_overflow) stays under PostgreSQL's max_connections (100
    by default).
    """

    database_url: str = Field(
        default="postgresql+psycopg://gridsafe_service:gridsafe_service@127.0.0.1:5432/gridsafe",
        description=(
            "SQLAlchemy URL (psycopg 3 driver) the app, the API and the command line connect "
            "with: a login that is no superuser and owns no table."
        ),
    )

    owner_database_url: str = Field(
        default="postgresql+psycopg://gridsafe_owner:gridsafe_owner@127.0.0.1:5432/gridsafe",
        description="URL of the login that owns the schema and runs the migrations (db init).",
    )

    admin_database_url: str = Field(
        default="",
        description=(
            "URL of a superuser login: `db init` creates through it the database, the owner "
            "and the app logins (with the passwords of their URLs) and the PostGIS and "
            "pgRouting extensions. Empty: the owner's URL is used, and all that must exist."
        ),
    )

    pool_size: int = Field(
        default=5, ge=1, description="Database connections each worker keeps open."
    )

    pool_max_overflow: int = Field(
        default=5,
        ge=0,
        description=(
            "Connections a worker may open beyond pool_size under load; like the others they "
            "are opened when needed and then kept, so a busy worker starts no new sessions."
        ),
    )

    pool_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Wait for a free pool connection; past it the request gets a 503 with Retry-After."
        ),
    )

    max_in_flight: int = Field(
        default=10,
        ge=1,
        description=(
            "Requests one worker handles at once; the default is pool_size + pool_max_overflow, "
            "so every admitted request can hold a connection. More wait in a queue."
        ),
    )

    admission_queue: int = Field(
        default=40,
        ge=0,
        description="Requests one worker lets wait for a slot; past it a request gets 503 at once.",
    )

    admission_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait in the queue; past it the request gets a 503 with Retry-After.",
    )

    retry_after_s: int = Field(
        default=2,
        ge=1,
        description="Retry-After of every 503 (server busy, pool exhausted, database down).",
    )

    list_count_cap: int = Field(
        default=10_000,
        ge=1,
        description=(
            "GET /api/incidents and /api/hazards count their matches up to this many: past it "
            "`total` is this number and `total_exact` false (an exact count of millions of "
            "rows on every page would take seconds)."
        ),
    )


class AccessSettings(_Group):
    """Accounts, sessions and API tokens, the failed-login limit and the proxies trusted to
    name the client (geo/access.py, api/auth.py)."""

    mode: Literal["production", "demo"] = Field(
        default="production",
        description=(
            "production: no account exists until an admin adds one, passwords must be long. "
            "demo: `gridsafe demo` adds one account per role with the password 'demo', and "
            "every page says so in a banner."
        ),
    )

    session_ttl_h: float = Field(default=12.0, gt=0, description="Page login lifetime (hours).")

    token_ttl_h: float = Field(
        default=24.0 * 30, gt=0, description="Default API bearer token lifetime (hours)."
    )

    password_min_length: int = Field(
        default=12, ge=8, description="Shortest password accepted in production mode."
    )

    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per user (or 4x per client) in the window."
    )

    login_window_min: float = Field(
        default=15.0, gt=0, description="Window of the failed-login limit (minutes)."
    )

    credential_cache_s: float = Field(
        default=2.0,
        ge=0,
        description=(
            "How long a worker keeps a bearer token or session it checked (seconds; 0: check "
            "every request). A token revoked or a user disabled through gridsafe is refused "
            "at once by the worker that did it, and by every other worker within this time."
        ),
    )

    login_log_days: float = Field(
        default=90.0,
        gt=0,
        description=(
            "How long sign-in attempts are kept (days; never less than the failed-login "
            "window): each sign-in deletes its user name's and its client's older ones."
        ),
    )

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses of the reverse proxies in front of the app (JSON list). Only a request "
            "from one of them has its client read from X-Forwarded-For (the nearest address "
            "no trusted proxy added); from anywhere else the header is ignored, so it cannot "
            "dodge the per-client login limit."
        ),
    )


class IntakeSettings(_Group):
    """What comes in: upload and request sizes (api/guards.py) and the import of incidents and
    hazards (geo/records/)."""

    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, gt=0, description="Largest file accepted by an upload endpoint."
    )

    max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        gt=0,
        description=(
            "Largest JSON request body (record, track and check-in batches); larger gets a 413. "
            "Sized for the largest batch the API takes: 100,000 GPS fixes of ~150 bytes each "
            "(api/routers/coverage.py MAX_BATCH), with a factor of two to spare."
        ),
    )

    import_batch_rows: int = Field(
        default=100_000,
        gt=0,
        description="Rows read, checked and located per batch when importing records (memory cap).",
    )

    import_work_mem_mb: int = Field(
        default=64,
        gt=0,
        description=(
            "work_mem (MiB) for the import transaction: the locate join's hash of the cell "
            "lookup and the per-batch sorts stay in memory (PostgreSQL's default is 4)."
        ),
    )

    submit_wait_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "How long a POST of incidents or hazards waits while a file import of the same kind "
            "is writing (they take turns); past it, a 503 with Retry-After."
        ),
    )

    geocode_min_score: float = Field(
        default=80.0,
        ge=0,
        le=100,
        description="Lowest address match score accepted (geo/address.py's default).",
    )

    photo_max_bytes: int = Field(
        default=6 * 1024 * 1024,
        gt=0,
        description=(
            "Largest photo of a field report accepted, as sent (geo/field/photos.py); the most "
            "photos of a record at this size must fit GRIDSAFE_MAX_UPLOAD_BYTES."
        ),
    )

    photo_max_count: int = Field(
        default=4, ge=1, description="Most photos of one field report or rectification step."
    )

    photo_max_pixels: int = Field(
        default=40_000_000,
        gt=0,
        description=(
            "Largest photo decoded, width × height in pixels; above it the file is refused "
            "unread (a decompression bomb). 40 million is above any phone camera's photo."
        ),
    )

    photo_stored_side: int = Field(
        default=2048,
        ge=16,
        description="A stored photo's longer side at most, in pixels (it is scaled down to it).",
    )

    photo_thumb_side: int = Field(
        default=320,
        ge=16,
        description="A photo's thumbnail's longer side at most, in pixels (lists and pages).",
    )


class AreaSettings(_Group):
    """Boundary validation tolerances (geo/boundaries.py) and the grid that locates points in
    micro-grids (geo/locate.py)."""

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

    locate_cell_m: float = Field(
        default=4.0,
        gt=0,
        description=(
            "Side (m) of the grid cells that locate most points without geometry "
            "(geo/locate.py). Smaller: fewer points tested exactly, a bigger lookup (the demo "
            "district: 4 m gives 327k cells, 9.5 % of them on a boundary)."
        ),
    )


class RiskSettings(_Group):
    """The hazard assessment bands (geo/assessment.py: a score >= the bound has that colour) and
    the four-colour risk engine (geo/risk/). Sources of each default are in its description."""

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

    risk_type_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "fire": 10.0,
            "mass_incident": 10.0,
            "robbery": 8.0,
            "workplace_accident": 8.0,
            "assault": 6.0,
            "domestic_violence": 4.0,
            "drugs": 4.0,
            "traffic_accident": 3.0,
            "theft": 3.0,
            "fraud": 2.0,
            "petition": 1.0,
            "dispute": 1.0,
            "police_call": 1.0,
            "noise": 0.5,
            "other": 1.0,
        },
        description=(
            "Harm weight of each incident type (a type not listed weighs as 'other'). The idea is "
            "the Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016, Policing 10(3)): "
            "weigh a record by the harm it stands for, not 1 each. The scale is ours: a dispute "
            "(the commonest, least harmful record) is 1; a fire or mass incident is 10, the "
            "'zero accidents'/'zero petitions' goals they break outright; robbery (PRC Criminal "
            "Law art. 263, 3-10 years) over assault (art. 234, up to 3) over theft (art. 264)."
        ),
    )

    risk_half_life_days: float = Field(
        default=90.0,
        gt=0,
        description=(
            "Half-life of an incident's weight. Near-repeat studies find elevated risk for weeks "
            "to a few months after an event (Johnson & Bowers 2004, Eur. J. Criminology 1(2); "
            "Bowers, Johnson & Pease 2004, prospective hot-spotting): 90 days keeps a quarter of "
            "the weight after six months and a sixteenth after a year."
        ),
    )

    risk_window_days: int = Field(
        default=365,
        gt=0,
        description=(
            "Incidents older than this are not read (their weight is below 1/16 at the default "
            "half-life); one reporting year."
        ),
    )

    risk_incident_quantiles: tuple[float, float, float] = Field(
        default=(0.90, 0.75, 0.50),
        description=(
            "Quantiles of the smoothed intensity among micro-grids with incidents at which the "
            "incident colour turns red, orange, yellow. Crime concentrates: about half of it in "
            "under 5% of places (Weisburd 2015, Criminology 53(2)), so red+orange at most the top "
            "quarter of affected micro-grids is a generous envelope."
        ),
    )

    risk_incident_thresholds: tuple[float, float, float] | None = Field(
        default=None,
        description=(
            "Fixed (red, orange, yellow) lower bounds of the smoothed intensity per km², used "
            "instead of the quantiles when set (a deployment that wants stable bands over time)."
        ),
    )

    risk_fdr_alpha: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description=(
            "False-discovery rate of the hot-spot tests (Benjamini & Hochberg 1995, via esda.fdr; "
            "Caldas de Castro & Singer 2006 for local statistics)."
        ),
    )

    risk_permutations: int = Field(
        default=999,
        ge=99,
        description=(
            "Conditional permutations of Gi* (esda's default, 999: the smallest pseudo p-value is "
            "0.001, enough for FDR over hundreds of micro-grids)."
        ),
    )

    risk_seed: int = Field(
        default=4547, description="Seed of the permutations, so a recomputation is reproducible."
    )

    risk_contiguity: Literal["queen", "rook"] = Field(
        default="queen",
        description="Micro-grid adjacency for Gi*: queen (shared edge or corner) or rook (edge).",
    )

    risk_reasons_top: int = Field(
        default=10, ge=1, description="Hazards and child areas listed in an area's reasons."
    )

    risk_composite_weight: Literal["area", "population"] = Field(
        default="area",
        description=(
            "What the composite view of the risk map averages an area's micro-grid scores over "
            "when the page does not say (its weight= choice): area, or population (residents; "
            "an area with no known residents then has no score). geo/risk/composite.py."
        ),
    )


class CaseSettings(_Group):
    """Cases in a closed loop (geo/cases.py): the time from receipt to handled, per incident
    type."""

    case_deadline_days: dict[str, float] = Field(
        default_factory=lambda: {
            "petition": 60.0,
            "mass_incident": 60.0,
            "dispute": 30.0,
            "noise": 3.0,
            "police_call": 1.0,
            "fire": 1.0,
        },
        description=(
            "Days from receipt by which a case of this type must be handled (resolved or "
            "unresolved); a type not listed takes case_deadline_default_days. Petitions and mass "
            "incidents: 60 days, the limit of 信访工作条例 (2022) art. 32 (办结 within 60 "
            "days of 受理). Disputes: 30 days, the one-month norm for 人民调解 (司法部"
            "《人民调解工作若干规定》2002: 一般在一个月内调结). Noise 3 days, police calls "
            "and fires 1 day: judgement (a follow-up the grid makes on the spot)."
        ),
    )

    case_deadline_default_days: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Deadline of the other types: 5 days, judgement after the common municipal 12345 "
            "hotline rule of five working days for an ordinary request."
        ),
    )


class CoverageSettings(_Group):
    """Patrol tracks, coverage and gaps (geo/coverage/)."""

    shift_start_hours: tuple[int, ...] = Field(
        default=(0, 8, 16),
        description=(
            "Local start hours of the shifts of the day, ascending from 0: police and community "
            "patrol jointly in three 8-hour shifts around the clock, 00-08, 08-16, 16-24."
        ),
    )

    track_gap_s: float = Field(
        default=600.0,
        gt=0,
        description="A track splits where consecutive fixes are further apart (default 10 min).",
    )

    max_speed_kmh_foot: float = Field(
        default=20.0,
        gt=0,
        description="A fix implying a faster move on foot is dropped (a steady run is ~15 km/h).",
    )

    max_speed_kmh_bicycle: float = Field(
        default=45.0,
        gt=0,
        description=(
            "Likewise by bicycle or e-bike (GB 17761-2018 caps e-bikes at 25 km/h; margin for "
            "downhill and GPS error)."
        ),
    )

    max_speed_kmh_vehicle: float = Field(
        default=150.0,
        gt=0,
        description="Likewise by car or motorbike (urban expressways are signed 100-120 km/h).",
    )

    cover_radius_m_foot: float = Field(
        default=30.0, gt=0, description="A fix on foot covers a disc of this radius."
    )

    cover_radius_m_bicycle: float = Field(
        default=40.0,
        gt=0,
        description=(
            "Radius for a bicycle: a rider sees from a pedestrian's height but is visible and "
            "reachable a little further (it covers 50 m in under 15 s): between foot and car."
        ),
    )

    cover_radius_m_vehicle: float = Field(
        default=50.0, gt=0, description="A fix in a vehicle covers a disc this wide."
    )

    coverage_thin_m: float = Field(
        default=0.0,
        ge=0,
        description=(
            "Douglas-Peucker tolerance (m) applied to tracks before buffering. The thinned track "
            "stays within it of the fixes, so the cover lies between the exact covers at the "
            "radius minus and plus it (geo/coverage/covered.py). 0 (the default) buffers every "
            "fix: with GPS noise of a few metres thinning to under a metre saves little time "
            "(bench/RESULTS.md), and coverage stays exact."
        ),
    )

    coverage_workers: int = Field(
        default=2,
        ge=1,
        description=(
            "Connections computing the covers of a closed shift at once, each for a run of its "
            "micro-grids (geo/coverage/covered.py): buffers and unions then use that many "
            "cores. A request doing so holds them besides its own; one short of a free pool "
            "connection within pool_timeout_s leaves its part to the request's own."
        ),
    )

    koper_dwell_s: float = Field(
        default=600.0,
        ge=0,
        description=(
            "A visit this long counts as deterrent: Koper (1995, Justice Quarterly 12(4)) found "
            "stops of 10-15 min deter crime longest after the patrol leaves."
        ),
    )

    weekly_visit_days: float = Field(
        default=7.0,
        gt=0,
        description="Every micro-grid must be visited within this many days (每周遍访, weekly).",
    )

    coverage_gap_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="A micro-grid whose covered share over the gap window is below this is a gap.",
    )

    coverage_gap_window_h: float = Field(
        default=24.0,
        gt=0,
        description=(
            "Hours before now over which the gap list measures covered share: a day holds all "
            "three shifts."
        ),
    )

    track_batch_rows: int = Field(
        default=100_000, ge=1, description="Rows read and staged per batch when importing fixes."
    )


class RoutingSettings(_Group):
    """Patrol routes on the road network (geo/routing/)."""

    route_speed_kmh_foot: float = Field(
        default=5.0, gt=0, description="Walking speed (OSRM's foot profile: walking_speed = 5)."
    )

    route_speed_kmh_bicycle: float = Field(
        default=15.0, gt=0, description="Cycling speed (OSRM bicycle profile: default_speed 15)."
    )

    route_speed_kmh_vehicle: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Patrol car speed cap in town; a road's lower maxspeed wins. 30 km/h is the urban "
            "limit on roads without a centre line (道路交通安全法实施条例 Art. 45)."
        ),
    )

    route_node_tolerance_m: float = Field(
        default=0.01,
        gt=0,
        description=(
            "Road vertices closer than this grid (m) are one network node: shared OSM nodes and "
            "noded GIS segments meet exactly, this only absorbs reprojection noise."
        ),
    )

    route_snap_max_m: float = Field(
        default=300.0,
        gt=0,
        description="A candidate or station further than this from the network is left out.",
    )

    route_dwell_s_hotspot: int = Field(
        default=900,
        ge=0,
        description=(
            "Dwell at a hot spot: 15 min, the top of Koper's (1995, Justice Quarterly 12(4)) "
            "10-15 min band of longest residual deterrence."
        ),
    )

    route_dwell_s_area: int = Field(
        default=600,
        ge=0,
        description="Dwell at a red/orange micro-grid or a gap: 10 min, the bottom of Koper's band",
    )

    route_gap_weight: float = Field(
        default=0.5,
        gt=0,
        description=(
            "A coverage gap (no visit in 7 days, low coverage) in a micro-grid that is not red or "
            "orange is worth this multiple of the riskiest candidate: the weekly visit rule "
            "(每周遍访) must be kept, but below the hot spots (judgement, not a published figure)."
        ),
    )

    route_school_gate_weight: float = Field(
        default=1.0,
        gt=0,
        description=(
            "A school-gate duty (护学岗) is worth this multiple of the riskiest other candidate: "
            "the duty is required at drop-off and pick-up, so by default it ranks with the "
            "riskiest stop."
        ),
    )

    route_time_limit_s: float = Field(
        default=5.0,
        gt=0,
        description="Search time of the route planner (PyVRP, OR-Tools, or both at once) per plan.",
    )


class MapSettings(_Group):
    """Web maps and vector tiles (maps/, geo/tiles.py)."""

    basemap: str = Field(
        default="none",
        description=(
            "Basemap of the web maps: 'none' (the district's roads and buildings drawn as the "
            "background; works offline), a local XYZ tile URL template ('/tiles-local/{z}/{x}/{y}"
            ".png' or 'http://10.0.0.5/{z}/{x}/{y}.png'), 'tianditu' (needs basemap_key) or "
            "'amap' (Gaode tiles are in GCJ-02, so overlays are shifted with geo/crs.py)."
        ),
    )

    basemap_key: str = Field(
        default="", description="The Tianditu API key (tk=...), when basemap is 'tianditu'."
    )

    @property
    def overlays_in_gcj02(self) -> bool:
        """Whether overlays must move from WGS84 to GCJ-02 to sit on the basemap (Amap's is)."""
        return self.basemap.strip() == "amap"

    vendor_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "build" / "vendor",
        description="Where scripts/vendor.py put Leaflet and VectorGrid at install time.",
    )

    map_embed_max_features: int = Field(
        default=5000,
        ge=0,
        description=(
            "Above this many areas at one level a map draws them from vector tiles instead of "
            "embedding their GeoJSON in the page (measured in bench/bench_maps.py)."
        ),
    )

    map_simplify_m: float = Field(
        default=1.0,
        ge=0,
        description=(
            "Tolerance (m) of the coverage-preserving simplification of embedded area outlines; "
            "1 m is below a screen pixel up to zoom 17."
        ),
    )

    tile_max_age_s: int = Field(
        default=300, ge=0, description="Cache-Control max-age of vector tiles (risk changes daily)."
    )

    response_cache_mb: float = Field(
        default=64.0,
        ge=0,
        description=(
            "Memory (MiB, per worker, gzip-compressed) of the cache of vector tiles, and of "
            "pages and answers that depend only on the risk run, level, scope, language and "
            "query (api/cache.py); the least recently used go first. 0: no cache."
        ),
    )


class BatchSettings(_Group):
    """Batch jobs as dask tasks, one per region (geo/scale/batch.py, `gridsafe batch`)."""

    dask_scheduler: str | None = Field(
        default=None,
        description=(
            "Address of a running dask.distributed scheduler (tcp://host:8786) the batch jobs "
            "are sent to; unset: a LocalCluster of dask_workers processes on this machine, "
            "started for the run and stopped after it."
        ),
    )
    dask_workers: int = Field(
        default=2,
        ge=1,
        description=(
            "Worker processes of the LocalCluster when no scheduler is set (one thread each: "
            "a task is one region's job, waiting mostly on PostgreSQL)."
        ),
    )


class Settings(BaseSettings):
    """Deployment settings; every number in the risk, coverage and routing models lives in one
    of its groups.

    Build it from the environment with ``Settings()`` (:func:`get_settings` keeps one per
    process) and change fields of a copy with :meth:`replace`, which takes the variables' names.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    srid: int = Field(
        default=4547,
        description=(
            "The one metric projected CRS geometry is stored in. Default: CGCS2000 / "
            "3-degree Gauss-Kruger CM 114E (EPSG:4547), the demo district's zone."
        ),
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description=(
            "The local time zone (China Standard Time, UTC+8): the zone of every time written "
            "without an offset (records, cases, tracks, visits), and of shifts, days and "
            "statistics periods, which start at local midnight."
        ),
    )
    language: Literal["zh_CN", "en"] = Field(
        default="zh_CN",
        description=(
            "The pages' language for a user who has not chosen one (maps/locale): zh_CN "
            "(Chinese, the default) or en."
        ),
    )
    region: str = Field(
        default="410105010",
        description="Region/tenant key written on every row (the distribution key at scale).",
    )

    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    areas: AreaSettings = Field(default_factory=AreaSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    cases: CaseSettings = Field(default_factory=CaseSettings)
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    maps: MapSettings = Field(default_factory=MapSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)

    def __init__(self, **values: Any) -> None:
        """Read the settings from the environment (``values`` win over it).

        Raises
        ------
        SettingsError
            When a variable's value is refused: the message names each such variable.
        """
        try:
            super().__init__(**values)
        except (ValidationError, UnparsedError) as exc:
            problems = refused(exc)
            # The first group refused stops the reading: read the others, to name them all.
            for name, group in GROUPS.items():
                if name not in values:
                    try:
                        group()
                    except (ValidationError, UnparsedError) as more:
                        problems += refused(more)
            msg = "invalid settings:\n" + "\n".join(dict.fromkeys(problems))
            raise SettingsError(msg) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with the settings named like their variables (``pool_size=3``,
        ``srid=4326``) changed, whatever group they sit in; the copy is validated.

        Raises
        ------
        SettingsError
            When a name is no setting, or a value is refused.
        """
        data = self.model_dump()
        for name, value in changes.items():
            group = GROUP_OF.get(name)
            if group is None and name not in TOP_LEVEL:
                msg = f"{ENV_PREFIX}{name.upper()}: no such setting"
                raise SettingsError(msg)
            (data[group] if group else data)[name] = value
        try:
            return self.model_validate(data)
        except ValidationError as exc:
            raise SettingsError("invalid settings:\n" + "\n".join(refused(exc))) from None


GROUPS: dict[str, type[_Group]] = {
    name: info.annotation
    for name, info in Settings.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Group)
}
"""The groups of :class:`Settings`: attribute name to class."""

GROUP_OF: dict[str, str] = {
    field: group for group, cls in GROUPS.items() for field in cls.model_fields
}
"""Each grouped setting's name (its variable without the prefix, lower case) to its group."""

TOP_LEVEL = frozenset(Settings.model_fields) - frozenset(GROUPS)
"""The settings on :class:`Settings` itself."""


def refused(exc: ValidationError | UnparsedError) -> list[str]:
    """The refused values of ``exc``, one line each, named as their environment variables."""
    if isinstance(exc, UnparsedError):
        # A list, tuple or mapping is read as JSON; pydantic-settings names only the field.
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{field.group(1).upper()}" if field else "a GRIDSAFE_ variable"
        return [f"{name}: not valid JSON ({exc.__cause__ or exc})"]
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if len(loc) > 1 and loc[0] in GROUPS:
            loc = loc[1:]
        name = f"{ENV_PREFIX}{loc[0].upper()}" if loc else "settings"
        where = "".join(f"[{part}]" for part in loc[1:])
        lines.append(f"{name}{where}: {error['msg']} (got {error.get('input')!r})")
    return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
