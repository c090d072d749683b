"""The ACLs a deployment grants the strikewatch service user, and nothing more.

    strikewatch topics --grant strikewatch     # as the admin user: topics, then ACLs

The user may read, write and describe the ``strikewatch.`` topics and use the
``strikewatch`` consumer groups (prefixed patterns, so every catalogue topic and every
group the services use is covered: ``strikewatch-pipeline``, ``strikewatch-delivery``,
...). It cannot create, delete or reconfigure topics, nor touch any other topic; the
brokers run an authorizer that denies what no ACL allows (docker-compose.yml:
``allow.everyone.if.no.acl.found=false``), with the admin user as the only super user.
"""

from __future__ import annotations

from strikewatch.core.kafka.config import KafkaConfig

TOPIC_PREFIX = "strikewatch."
GROUP_PREFIX = "strikewatch"


def app_acls(user: str, topic_prefix: str = TOPIC_PREFIX, group_prefix: str = GROUP_PREFIX) -> list:
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType

    principal = f"User:{user}"
    topic = ResourcePattern(ResourceType.TOPIC, topic_prefix, ACLResourcePatternType.PREFIXED)
    group = ResourcePattern(ResourceType.GROUP, group_prefix, ACLResourcePatternType.PREFIXED)
    cluster = ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", ACLResourcePatternType.LITERAL)
    allow = ACLPermissionType.ALLOW
    return (
        [ACL(principal, "*", op, allow, topic) for op in (ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE)]
        + [ACL(principal, "*", op, allow, group) for op in (ACLOperation.READ, ACLOperation.DESCRIBE)]
        # Idempotent producers: implied by topic Write on Kafka >= 3.0 (KIP-679), explicit for older brokers.
        + [ACL(principal, "*", ACLOperation.IDEMPOTENT_WRITE, allow, cluster)]
    )


def grant(config: KafkaConfig | str, user: str, **prefixes: str) -> int:
    """Create the app ACLs for ``user`` (idempotent: the broker keeps one copy of each);
    returns how many the broker accepted. Needs an admin (super user) connection."""
    from strikewatch.core.kafka import clients

    admin = clients.admin(config)
    try:
        result = admin.create_acls(app_acls(user, **prefixes))
    finally:
        admin.close()
    if result["failed"]:
        from strikewatch.core.errors import StrikewatchError

        raise StrikewatchError(f"creating ACLs for {user} failed: {result['failed']}")
    return len(result["succeeded"])
