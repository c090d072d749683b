"""The receiver example of docs/api.md, run as written, against what the deliverer signs."""

import re
import time
from datetime import UTC

from strikewatch.services import webhooks


def _readme_verifier(repo_root):
    text = (repo_root / "docs" / "api.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- receiver-example -->\s*```python\n(.*?)```", text, re.S)
    assert block, "docs/api.md has no receiver example"
    scope: dict = {}
    exec(compile(block.group(1), "docs/api.md", "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify_strikewatch"]


def test_the_readme_receiver_example_verifies_strikewatch_signatures(repo_root):
    verify = _readme_verifier(repo_root)
    secret = webhooks.subscription_secret(b"master", "sub_1234", 1)
    body = b'{"specversion":"1.0","id":"al_1"}'
    headers = webhooks.sign_headers(secret, "al_1", body)
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"al_1", b"al_2"))  # tampered
    assert not verify(webhooks.subscription_secret(b"master", "sub_other", 1), headers, body)  # someone else's secret
    old = webhooks.sign_headers(secret, "al_1", body, now=time.time() - 3600)
    assert not verify(secret, old, body)  # a replay an hour later
    # Several signatures (space-separated, as the spec allows during a rotation): one match suffices.
    both = {**headers, "webhook-signature": "v1,bm9wZQ== " + headers["webhook-signature"]}
    assert verify(secret, both, body)
    assert webhooks.verify(secret, headers, body)  # and it agrees with the library's own check


def test_the_matcher_copies_the_secret_version_into_alerts():
    """Rotation works only if alerts made after it carry the new version (pipeline/alerts.py)."""
    from datetime import datetime

    from pipeline.alerts import make_alert
    from strikewatch.core.models import EventType, Incident, Subscription

    sub = Subscription(id="sub_1", owner="o", webhook_url="https://example.org/hook", secret_version=3)
    inc = Incident(id="i1", event_type=EventType.AIR_STRIKE, first_seen_at=datetime.now(UTC))
    assert make_alert(sub, inc, None, "new_incident").webhook_secret_version == 3
