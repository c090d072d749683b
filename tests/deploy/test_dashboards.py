"""Rules every Grafana dashboard follows, checked on every file in deploy/grafana/dashboards:

* every panel that graphs a rate (``rate``/``irate``/``increase``) has a unit;
* every table panel's queries are instant queries in table format (a range query in a table
  shows one row per timestamp);
* a geomap keys its markers by an ISO 3166-1 alpha-2 label against strikewatch's own gazetteer
  (Grafana's lacks South Sudan; names lose DR Congo, Republic of Congo, Palestine, Ivory Coast,
  Myanmar), which docker-compose mounts where the panel looks for it;
and the situation dashboard has a ``theatre`` variable used by its theatre panels and a
drill-down link to the web app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from strikewatch.core import countries
from strikewatch.core.metrics import CollectorRegistry
from strikewatch.services.store.consumer import make_metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RATE = re.compile(r"\b(rate|irate|increase)\(")
GAZETTEER_URL = "public/gazetteer/strikewatch-countries.json"


def panels():
    for path in DASHBOARDS:
        for p in json.loads(path.read_text())["panels"]:
            yield path.name, p


def test_there_are_dashboards():
    assert {p.name for p in DASHBOARDS} >= {"operations.json", "situation.json"}


@pytest.mark.parametrize("name, panel", list(panels()), ids=lambda v: v if isinstance(v, str) else v["title"])
def test_rate_panels_have_a_unit(name, panel):
    if any(RATE.search(t["expr"]) for t in panel["targets"]):
        assert (panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or "").strip(), (name, panel["title"])


@pytest.mark.parametrize(
    "name, panel",
    [x for x in panels() if x[1]["type"] in ("table", "geomap")],
    ids=lambda v: v if isinstance(v, str) else v["title"],
)
def test_tables_and_maps_are_instant_table_queries(name, panel):
    for t in panel["targets"]:
        assert t.get("instant") is True and t.get("format") == "table" and not t.get("range", False), (
            name,
            panel["title"],
            t,
        )


def test_geomaps_key_by_iso_code_against_the_mounted_gazetteer():
    maps = [(n, p) for n, p in panels() if p["type"] == "geomap"]
    assert maps
    for name, p in maps:
        for layer in p["options"]["layers"]:
            loc = layer["location"]
            assert loc["mode"] == "lookup" and loc["gazetteer"] == GAZETTEER_URL, (name, p["title"])
            label = loc["lookup"]
            for t in p["targets"]:  # the lookup field is a label the query groups by
                assert re.search(rf"by \(([^)]*\b)?{label}\b", t["expr"]), t["expr"]
            assert label == "iso"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./strikewatch/core/data/countries.json:/usr/share/grafana/{GAZETTEER_URL}:ro" in mounts


def test_the_gazetteer_has_the_countries_names_lose():
    entries = {c["key"]: c for c in json.loads(countries.GAZETTEER.read_text())}
    for code in ("CD", "CG", "PS", "CI", "MM", "SS", "IQ", "SY", "UA", "YE"):
        assert (
            code in entries and -90 <= entries[code]["latitude"] <= 90 and -180 <= entries[code]["longitude"] <= 180
        ), code
    assert all(re.fullmatch(r"[A-Z]{2}", k) for k in entries)
    assert (
        countries.iso_label("ss") == "SS"
        and countries.iso_label("Atlantis") == "other"
        and countries.iso_label(None) == "other"
    )


def test_the_map_metric_carries_a_bounded_iso_label():
    m = make_metrics(CollectorRegistry())
    m.incidents.labels("air_strike", "South Sudan", countries.iso_label("SS")).inc()
    [metric] = [x for x in m.incidents.collect() if x.name == "strikewatch_store_incidents"]
    labels = {s.labels["iso"] for s in metric.samples}
    assert labels == {"SS"} and labels <= countries.codes() | {countries.OTHER}


def test_situation_has_a_theatre_variable_and_a_drill_down_link():
    d = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "situation.json").read_text())
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["theatre"]["type"] == "query" and "theatre" in variables["theatre"]["query"]["query"]
    assert variables["theatre"]["includeAll"] and variables["theatre"]["allValue"] == ".*"
    for p in d["panels"]:
        for t in p["targets"]:
            if (
                "strikewatch_escalation_index" in t["expr"]
                or "strikewatch_incidents_total" in t["expr"]
                or "store_incidents" in t["expr"]
            ):
                assert '{theatre=~"$theatre"' in t["expr"], (p["title"], t["expr"])
    assert variables["webapp"]["query"] == "http://127.0.0.1:8088"
    assert any(link["url"].startswith("${webapp}/") for link in d["links"])
    drill = [link for p in d["panels"] for link in p.get("fieldConfig", {}).get("defaults", {}).get("links", [])]
    assert any("#/?country=${__data.fields.iso}" in link["url"] for link in drill)
