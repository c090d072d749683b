"""The subscription API on the real broker: API keys, owners see only their own,
state in the compacted topic (a new API process reads it back)."""

import pytest
from fastapi.testclient import TestClient

from strikewatch.api import SubscriptionStore, create_app
from strikewatch.models import Subscription
from strikewatch.settings import ApiSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(new_topic):
    return new_topic("subs", compact=True)


@pytest.fixture
def client():
    """Factory: a test client on a new store (a new API process); the stores' producers
    are closed afterwards, or their threads go on asking for the deleted topic."""
    stores: list[SubscriptionStore] = []

    def make(bootstrap, topic):
        stores.append(SubscriptionStore(bootstrap, topic))
        s = ApiSettings(api_keys="ka=alice,kb=bob", bootstrap_servers=bootstrap)
        return TestClient(create_app(s, stores[-1]))

    yield make
    for store in stores:
        store.close()


def test_crud_and_isolation(kafka_bootstrap, topic, client):
    c = client(kafka_bootstrap, topic)
    assert c.get("/subscriptions").status_code == 401
    assert c.get("/subscriptions", headers={"X-API-Key": "nope"}).status_code == 401
    r = c.post("/subscriptions", headers={"X-API-Key": "ka"}, json={"name": "iraq", "countries": ["Iraq"], "event_types": ["air_strike"], "min_severity": 0.3})
    assert r.status_code == 201
    sub = Subscription.model_validate(r.json())
    assert sub.owner == "alice" and sub.countries == ["Iraq"]
    assert c.post("/subscriptions", headers={"X-API-Key": "ka"}, json={"min_severity": 3}).status_code == 422
    assert [s["id"] for s in c.get("/subscriptions", headers={"X-API-Key": "ka"}).json()] == [sub.id]
    assert c.get("/subscriptions", headers={"X-API-Key": "kb"}).json() == []
    assert c.get(f"/subscriptions/{sub.id}", headers={"X-API-Key": "kb"}).status_code == 404
    assert c.delete(f"/subscriptions/{sub.id}", headers={"X-API-Key": "kb"}).status_code == 404

    # A new API process rebuilds its state from the compacted topic.
    c2 = client(kafka_bootstrap, topic)
    assert [s["id"] for s in c2.get("/subscriptions", headers={"X-API-Key": "ka"}).json()] == [sub.id]
    assert c2.delete(f"/subscriptions/{sub.id}", headers={"X-API-Key": "ka"}).status_code == 204
    c3 = client(kafka_bootstrap, topic)  # the tombstone is read back too
    assert c3.get("/subscriptions", headers={"X-API-Key": "ka"}).json() == []
