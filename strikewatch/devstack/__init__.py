"""The local development stack: Kafka, PostgreSQL, Prism, Flink, and ``strikewatch run``."""
