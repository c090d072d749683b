"""The one Kafka connection layer: every strikewatch client is built here.

``config.KafkaConfig``  bootstrap servers, security protocol, SASL/SCRAM, TLS (``settings.kafka``)
``clients``             producer / consumer / admin from a config
``compacted``           read a compacted topic to its end
``window``              read what a topic received since a time
``acks``                acked sends: re-send what can pass, reject what never will
``acls``                the ACLs a deployment grants the strikewatch user
``loop``                the one consume loop (poll, handle, commit after the work, stop on a signal)
"""

from strikewatch.core.kafka.acks import AckedSender, Batch, NotAcknowledged, Rejected, Stopping
from strikewatch.core.kafka.compacted import read_compacted
from strikewatch.core.kafka.config import KafkaConfig
from strikewatch.core.kafka.loop import consume, stop_on_signals
from strikewatch.core.kafka.window import Published, iter_since, read_since

__all__ = [
    "AckedSender",
    "Batch",
    "KafkaConfig",
    "NotAcknowledged",
    "Published",
    "Rejected",
    "Stopping",
    "consume",
    "iter_since",
    "read_compacted",
    "read_since",
    "stop_on_signals",
]
