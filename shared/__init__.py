"""Code every stage shares: settings, message schemas, Kafka plumbing, archive storage, telemetry."""
