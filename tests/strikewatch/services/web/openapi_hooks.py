"""Schemathesis hooks for tests/strikewatch/services/web/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

The OpenAPI document states each parameter's grammar exactly; three rules of the API are not a single
parameter's grammar, and OpenAPI has no way to state them. A generated case that schemathesis calls
valid (positive) is brought within them here, so "valid" means what the API means by it:

* ``bbox``: min <= max (query) and min < max (a subscription's), besides each number's range;
* ``since`` before ``until``;
* a subscription's ``webhook_url`` must resolve, when it is created, to addresses the deployment allows
  (DNS's answer, not the document's): valid cases use the test's own receiver on 127.0.0.1.

Negative cases are left as generated: the API must refuse them.
"""

from __future__ import annotations

import os
import re

import schemathesis

from strikewatch.services.web.routes import BBOX_PATTERN, _when

WEBHOOK = os.environ.get("STRIKEWATCH_TEST_WEBHOOK", "http://127.0.0.1:9/hook")


def _ordered_bbox(value: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(BBOX_PATTERN, value):
        return value
    x0, y0, x1, y1 = value.split(",")
    if float(x0) > float(x1):
        x0, x1 = x1, x0
    if float(y0) > float(y1):
        y0, y1 = y1, y0
    return ",".join((x0, y0, x1, y1))


def _instant(value):
    try:
        return _when(value, "-") if isinstance(value, str) else None
    except Exception:  # not a date: a case the API refuses either way
        return None


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    query = case.query
    if isinstance(query, dict):
        if "bbox" in query:
            query["bbox"] = _ordered_bbox(query["bbox"])
        since, until = _instant(query.get("since")), _instant(query.get("until"))
        if since is not None and until is not None and since >= until:
            if since == until:
                del query["until"]
            else:
                query["since"], query["until"] = query["until"], query["since"]
    body = case.body
    if case.method.upper() == "POST" and case.path == "/subscriptions" and isinstance(body, dict):
        if isinstance(body.get("webhook_url"), str):
            body["webhook_url"] = WEBHOOK
        box = body.get("bbox")
        if isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box):
            x0, x1 = sorted(box[0::2])
            y0, y1 = sorted(box[1::2])
            body["bbox"] = [x0, y0, x1, y1] if x0 < x1 and y0 < y1 else None
    return case
