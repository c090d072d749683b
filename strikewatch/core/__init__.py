"""The shared core: records, topics, settings, errors, metrics, the Kafka layer. Imports nothing above it."""
