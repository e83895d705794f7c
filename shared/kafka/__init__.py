"""Kafka plumbing written once: client settings, topic admin, the transactional page and source loops,
changelog-backed state, and reading topics back."""
