"""Kafka-facing parts: topic management and the producers."""
