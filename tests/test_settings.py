"""Settings grouped by concern, read from the flat ``GRIDSAFE_*`` variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.settings import GROUP_OF, GROUPS, TOP_LEVEL, Settings, SettingsError
from tests.clients import gridsafe

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_variables_of_different_groups_reach_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSAFE_POOL_SIZE", "7")
    monkeypatch.setenv("GRIDSAFE_TRUSTED_PROXIES", '["10.0.0.1"]')
    monkeypatch.setenv("GRIDSAFE_RISK_INCIDENT_QUANTILES", "[0.95, 0.8, 0.6]")
    monkeypatch.setenv("GRIDSAFE_COVER_RADIUS_M_FOOT", "25")
    monkeypatch.setenv("GRIDSAFE_ROUTE_SPEED_KMH_FOOT", "4.5")
    monkeypatch.setenv("GRIDSAFE_BASEMAP", "amap")
    monkeypatch.setenv("GRIDSAFE_SRID", "32650")
    monkeypatch.setenv("GRIDSAFE_MODE", "demo")
    settings = Settings()
    assert settings.db.pool_size == 7
    assert settings.access.trusted_proxies == ["10.0.0.1"]
    assert settings.access.mode == "demo"
    assert settings.risk.risk_incident_quantiles == (0.95, 0.8, 0.6)
    assert settings.coverage.cover_radius_m_foot == 25.0
    assert settings.routing.route_speed_kmh_foot == 4.5
    assert settings.maps.basemap == "amap"
    assert settings.maps.overlays_in_gcj02
    assert settings.srid == 32650
    # What is not set keeps its default.
    assert settings.db.pool_max_overflow == 5
    assert settings.risk.risk_seed == 4547


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GRIDSAFE_POOL_SIZE", "many", "GRIDSAFE_POOL_SIZE: Input should be a valid integer"),
        ("GRIDSAFE_POOL_SIZE", "0", "GRIDSAFE_POOL_SIZE: Input should be greater than or equal"),
        ("GRIDSAFE_RISK_CONTIGUITY", "hex", "GRIDSAFE_RISK_CONTIGUITY: Input should be 'queen'"),
        ("GRIDSAFE_MODE", "staging", "GRIDSAFE_MODE: Input should be 'production' or 'demo'"),
        ("GRIDSAFE_LANGUAGE", "fr", "GRIDSAFE_LANGUAGE: Input should be 'zh_CN' or 'en'"),
        ("GRIDSAFE_SRID", "4326.5", "GRIDSAFE_SRID: Input should be a valid integer"),
        ("GRIDSAFE_RISK_INCIDENT_QUANTILES", "[0.9]", "GRIDSAFE_RISK_INCIDENT_QUANTILES"),
        ("GRIDSAFE_TRUSTED_PROXIES", "10.0.0.1", "GRIDSAFE_TRUSTED_PROXIES"),
    ],
)
def test_a_refused_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message) as caught:
        Settings()
    assert variable in str(caught.value)


def test_every_refused_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDSAFE_POOL_SIZE", "many")
    monkeypatch.setenv("GRIDSAFE_TRUSTED_PROXIES", "10.0.0.1")
    monkeypatch.setenv("GRIDSAFE_ROUTE_GAP_WEIGHT", "-1")
    with pytest.raises(SettingsError) as caught:
        Settings()
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid settings:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "GRIDSAFE_POOL_SIZE",
        "GRIDSAFE_TRUSTED_PROXIES",
        "GRIDSAFE_ROUTE_GAP_WEIGHT",
    ]


def test_replace_changes_a_copy_by_the_variables_names() -> None:
    base = Settings()
    changed = base.replace(pool_size=2, risk_seed=1, basemap="amap", region="elsewhere")
    assert (changed.db.pool_size, changed.risk.risk_seed) == (2, 1)
    assert changed.maps.overlays_in_gcj02
    assert changed.region == "elsewhere"
    # The original is untouched, and the other settings of a group are kept.
    assert (base.db.pool_size, base.risk.risk_seed, base.region) == (5, 4547, "410105010")
    assert changed.db.database_url == base.db.database_url
    with pytest.raises(SettingsError, match="GRIDSAFE_POOL_SIZE: Input should be greater"):
        base.replace(pool_size=0)
    with pytest.raises(SettingsError, match="GRIDSAFE_POOL_SIZES: no such setting"):
        base.replace(pool_sizes=2)


def test_the_constructor_refuses_a_grouped_name() -> None:
    # Settings(pool_size=...) would silently leave the group's value alone; it is refused.
    with pytest.raises(SettingsError, match="GRIDSAFE_POOL_SIZE"):
        Settings(pool_size=2)


def test_every_setting_has_one_variable_and_the_docs_list_it() -> None:
    names = [name for cls in GROUPS.values() for name in cls.model_fields]
    assert len(names) == len(set(names)), "two groups read the same variable"
    assert not TOP_LEVEL & set(names)
    docs = DOCS.read_text(encoding="utf-8")
    for name in [*TOP_LEVEL, *names]:
        where = f"`settings.{GROUP_OF[name]}.{name}`" if name in GROUP_OF else f"`settings.{name}`"
        assert f"`GRIDSAFE_{name.upper()}` | {where}" in docs, name


def test_the_command_line_names_a_refused_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    monkeypatch.setenv("GRIDSAFE_COVER_RADIUS_M_FOOT", "wide")
    result = gridsafe(settings, "user", "list")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "GRIDSAFE_COVER_RADIUS_M_FOOT: Input should be a valid number" in message
    assert "Traceback" not in result.stderr
