"""Kafka plumbing written once: client settings, the transactional consume-transform-produce loop."""
