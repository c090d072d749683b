"""The topic catalogue: every Kafka topic strikewatch uses, in one place.

The stack creates topics from this list (``strikewatch up``); producers and the
pipeline name topics only through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strikewatch.core import models


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str  # what the record key is
    model: type[models.Record]
    cleanup_policy: str = "delete"
    config: dict[str, str] = field(default_factory=dict)

    def kafka_config(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup_policy, **self.config}


# Partition counts: 6 for the article/event streams so up to 6 pipeline workers share
# them (2-core dev box runs 1-2; a production cluster scales the consumers, not the
# topic); low-volume control topics get 1 so their order is total.
# Retention: 7 days (604800000 ms) on streams, enough to replay a week's backfill.
WEEK_MS = "604800000"

ARTICLES = Topic(
    "strikewatch.articles",
    6,
    "article id",
    models.Article,
    config={"retention.ms": WEEK_MS, "max.message.bytes": "4194304"},
)
EVENTS = Topic("strikewatch.events", 6, "event id", models.Event, config={"retention.ms": WEEK_MS})
INCIDENTS = Topic("strikewatch.incidents", 3, "incident id", models.Incident, config={"retention.ms": WEEK_MS})
ESCALATION = Topic("strikewatch.escalation", 1, "scope:key", models.EscalationScore, config={"retention.ms": WEEK_MS})
ALERTS = Topic("strikewatch.alerts", 3, "subscription id", models.Alert, config={"retention.ms": WEEK_MS})
SUBSCRIPTIONS = Topic("strikewatch.subscriptions", 1, "subscription id", models.Subscription, cleanup_policy="compact")
# Dedup state of the connectors: key = canonical-URL id or content hash, value = article id.
SEEN = Topic("strikewatch.connector-seen", 3, "dedup key", models.Article, cleanup_policy="compact")
# Alerts the deliverer has delivered (key = alert id): read back on start so a restart
# re-sends nothing already delivered.
DELIVERED = Topic("strikewatch.delivered", 1, "alert id", models.Alert, cleanup_policy="compact")
DEAD_LETTERS = Topic("strikewatch.dead-letters", 1, "stage", models.DeadLetter, config={"retention.ms": "2592000000"})

CATALOGUE: tuple[Topic, ...] = (
    ARTICLES,
    EVENTS,
    INCIDENTS,
    ESCALATION,
    ALERTS,
    SUBSCRIPTIONS,
    SEEN,
    DELIVERED,
    DEAD_LETTERS,
)
BY_NAME = {t.name: t for t in CATALOGUE}
