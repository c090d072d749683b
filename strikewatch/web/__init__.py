"""The read API (``routes``: ``/v1``), its export formats (``formats``) and the web app
(``static/``: the map, lists, incident pages, escalation charts and subscriptions), all served by
the subscription app's process. ``mount(app, settings, owner_of)`` adds them to it.

The web app fetches nothing from the network: Leaflet, topojson-client and the Natural Earth
countries (world-atlas) are vendored under ``static/vendor`` (versions and licences in
``static/vendor/VERSIONS.md``; ``scripts/vendor_web.sh`` refreshes them from npm).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

STATIC = Path(__file__).with_name("static")


def mount(app, settings, owner_of: Callable[..., str]) -> None:
    """Include the ``/v1`` router, serve the web app at ``/`` and document the API-key scheme
    on every operation that takes ``X-API-Key``."""
    from fastapi.staticfiles import StaticFiles

    from .routes import make_router

    router = make_router(settings.postgres_dsn(), owner_of)
    app.include_router(router)
    app.state.read_store = router.store
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="web")
    _document_security(app)


# Descriptions of the subscription routes (strikewatch/api.py), used where a route has none.
DESCRIPTIONS = {
    (
        "/subscriptions",
        "post",
    ): "Create an alert subscription for the key's owner: filters (event types, actors, countries, bbox, "
    "minimum severity and escalation) and a webhook (CloudEvents, Slack or Alertmanager JSON).",
    ("/subscriptions", "get"): "The key owner's subscriptions (never another owner's).",
    (
        "/subscriptions/{sub_id}",
        "get",
    ): "One of the key owner's subscriptions; another owner's id answers 404, like a missing one.",
    (
        "/subscriptions/{sub_id}",
        "delete",
    ): "Delete one of the key owner's subscriptions (a tombstone on the compacted topic).",
}


def _document_security(app) -> None:
    """OpenAPI: an ``apiKey`` security scheme (header ``X-API-Key``) on each operation that reads
    the header, instead of a bare header parameter."""
    build = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes.setdefault(
            "APIKeyHeader",
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "Your API key (local default: dev-key)",
            },
        )
        for path, path_item in spec.get("paths", {}).items():
            for method, op in path_item.items():
                if not op.get("description") and (path, method) in DESCRIPTIONS:
                    op["description"] = DESCRIPTIONS[(path, method)]
                params = op.get("parameters", [])
                if any(p.get("in") == "header" and p.get("name", "").lower() == "x-api-key" for p in params) or op.get(
                    "security"
                ):
                    op["parameters"] = [
                        p for p in params if not (p.get("in") == "header" and p.get("name", "").lower() == "x-api-key")
                    ]
                    op["security"] = [{"APIKeyHeader": []}]
                    if not op["parameters"]:
                        del op["parameters"]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi
