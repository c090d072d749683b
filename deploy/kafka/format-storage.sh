#!/bin/bash
# KRaft keeps SCRAM credentials in its metadata log, so they are written when the data
# directory is formatted: this formats /var/lib/kafka/data once (--ignore-formatted:
# later starts leave it alone) with the admin and service users, then hands over to the
# image's own entrypoint (whose format step ignores the formatted directory).
# Environment: CLUSTER_ID, SCRAM_ADMIN_PASSWORD, SCRAM_APP_PASSWORD (docker-compose.yml).
set -euo pipefail
props=$(mktemp)
cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
controller.listener.names=CONTROLLER
listeners=SASL_PLAINTEXT://:9092,CONTROLLER://localhost:9093
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=/var/lib/kafka/data
PROPS
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "$CLUSTER_ID" -c "$props" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=${SCRAM_ADMIN_PASSWORD}]" \
  --add-scram "SCRAM-SHA-512=[name=strikewatch,password=${SCRAM_APP_PASSWORD}]"
rm -f "$props"
exec /etc/kafka/docker/run
