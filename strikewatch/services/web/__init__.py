"""The read API (``routes``: ``/v1``), its export formats (``formats``) and the web app
(``static/``: the map, lists, incident pages, escalation charts and subscriptions), all served by
the subscription app's process. ``mount(app, settings, owner_of)`` adds them to it and finishes
its OpenAPI document (``finish_openapi``).

The web app fetches nothing from the network: Leaflet, topojson-client and the Natural Earth
countries (world-atlas) are vendored under ``static/vendor`` (versions and licences in
``static/vendor/VERSIONS.md``; ``scripts/vendor_web.sh`` refreshes them from npm).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

STATIC = Path(__file__).with_name("static")
# The web app's own files at the root (the rest is under /vendor). Served one by one rather than by a
# catch-all mount at "/", which answered every unknown method on an API path itself (405 without Allow).
APP_FILES = ("index.html", "app.js", "app.css")


def mount(app, settings, owner_of: Callable[..., str]) -> None:
    """Include the ``/v1`` router, serve the web app at ``/`` and finish the OpenAPI document."""
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    from strikewatch.services.web.routes import make_router

    router = make_router(
        settings.postgres_dsn(),
        owner_of,
        public_url=settings.public_url,
        max_streams_per_key=settings.max_streams_per_key,
        stream_max_s=settings.stream_max_s,
    )
    app.include_router(router)
    app.state.read_store = router.store

    def file_route(name: str):
        async def serve():
            return FileResponse(STATIC / name)

        return serve

    app.add_api_route("/", file_route("index.html"), methods=["GET"], include_in_schema=False)
    for name in APP_FILES:
        app.add_api_route(f"/{name}", file_route(name), methods=["GET"], include_in_schema=False)
    app.mount("/vendor", StaticFiles(directory=STATIC / "vendor"), name="vendor")
    finish_openapi(app)


# Descriptions of the subscription routes (strikewatch/services/api.py), used where a route has none.
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
ERROR_REF = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer", "minimum": 0}}
}
# What every operation may answer whatever its route (the app's middleware and key dependency): a body
# over the limit (413) or a malformed Content-Length (400), before anything else reads the request.
EVERY_OPERATION = {
    "400": {
        "description": "a malformed request (Content-Length, body encoding, cursor)",
        "content": {"application/json": {"schema": ERROR_REF}},
    },
    "413": {"description": "request body over the limit", "content": {"application/json": {"schema": ERROR_REF}}},
}
# ... and every operation behind X-API-Key.
SECURED_OPERATION = {
    "401": {"description": "missing or unknown X-API-Key", "content": {"application/json": {"schema": ERROR_REF}}},
    "429": {
        "description": "over the key's rate limit or stream cap, or too many failed keys from this address",
        "headers": RETRY_AFTER,
        "content": {"application/json": {"schema": ERROR_REF}},
    },
}


def _extra_schemas() -> dict:
    """Component schemas the routes refer to by $ref beyond FastAPI's own (the errors, GeoJSON)."""
    from pydantic.json_schema import models_json_schema

    from strikewatch.services.web import schemas

    _, top = models_json_schema(
        [(m, "serialization") for m in (schemas.Error, schemas.ValidationErrors, schemas.FeatureCollection)],
        ref_template="#/components/schemas/{model}",
    )
    return top.get("$defs", {})


def _strip_null(schema: dict) -> dict:
    """A parameter's schema without FastAPI's ``null`` branch: a query string has no null (it sent the
    string "null", which a cursor answered 400, undocumented)."""
    branches = schema.get("anyOf")
    if not branches:
        return schema
    kept = [b for b in branches if b != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(kept) == 1:
        return {**kept[0], **outer}  # the parameter's own keywords (json_schema_extra) over the branch's
    return {**outer, "anyOf": kept}


def _link_subscriptions(spec: dict) -> None:
    """OpenAPI links from a created subscription to the operations on it (its id in the path), so a client
    generator, or schemathesis' stateful phase, can follow them."""
    paths = spec.get("paths", {})
    created = paths.get("/subscriptions", {}).get("post", {}).get("responses", {}).get("201")
    if created is None:
        return
    targets = {
        "GetSubscription": ("/subscriptions/{sub_id}", "get"),
        "RotateSecret": ("/subscriptions/{sub_id}/rotate-secret", "post"),
        "DeleteSubscription": ("/subscriptions/{sub_id}", "delete"),
    }
    links = created.setdefault("links", {})
    for name, (path, method) in targets.items():
        op = paths.get(path, {}).get(method)
        if op and op.get("operationId"):
            links[name] = {"operationId": op["operationId"], "parameters": {"sub_id": "$response.body#/id"}}


def finish_openapi(app) -> None:
    """The OpenAPI document as served: an ``apiKey`` security scheme (header ``X-API-Key``) on each
    operation that reads the header instead of a bare header parameter; every 422 in the one shape the
    app answers (``ValidationErrors``); the statuses the middleware and the key dependency answer on every
    operation (400, 413; 401, 429 with Retry-After); parameter schemas without a null a query cannot carry."""
    build = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        components = spec.setdefault("components", {})
        schemas_ = components.setdefault("schemas", {})
        schemas_.update(_extra_schemas())
        for gone in ("HTTPValidationError", "ValidationError"):
            schemas_.pop(gone, None)
        components.setdefault("securitySchemes", {}).setdefault(
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
                secured = any(
                    p.get("in") == "header" and p.get("name", "").lower() == "x-api-key" for p in params
                ) or op.get("security")
                if secured:
                    params = [
                        p for p in params if not (p.get("in") == "header" and p.get("name", "").lower() == "x-api-key")
                    ]
                    op["security"] = [{"APIKeyHeader": []}]
                for p in params:
                    if "schema" in p:
                        p["schema"] = _strip_null(p["schema"])
                if params:
                    op["parameters"] = params
                else:
                    op.pop("parameters", None)
                responses = op.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "a parameter or body field is not valid",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrors"}}},
                    }
                for status, response in {**EVERY_OPERATION, **(SECURED_OPERATION if secured else {})}.items():
                    responses.setdefault(status, response)
        _link_subscriptions(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi
