"""StreamLake: JSON events in, schema-checked Avro records in Kafka out."""
