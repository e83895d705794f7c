"""Prometheus metrics, one set per process (each stage is its own process), served on `/metrics`.
Labels carry stage names, entity types, partitions and outcomes: never values from records."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "cognigy_archiver_"

MESSAGES = Counter(PREFIX + "messages_processed", "Kafka messages processed", ["stage"])
MESSAGE_BYTES = Counter(PREFIX + "message_bytes_processed", "Bytes of Kafka messages processed", ["stage"])
PAGES = Counter(PREFIX + "pages_processed", "Pages processed", ["stage"])
RECORDS = Counter(PREFIX + "records_processed", "Conversation records processed", ["stage"])
DUPLICATES = Counter(PREFIX + "duplicate_records_dropped",
                     "Records dropped as fetched before by an earlier window of their schedule", ["stage"])
ERRORS = Counter(PREFIX + "errors", "Errors by kind", ["stage", "kind"])
DLQ = Counter(PREFIX + "dlq_messages", "Messages sent to the dead-letter topic", ["stage"])
LATENCY = Histogram(PREFIX + "processing_seconds", "Time to process one message", ["stage"],
                    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BATCH_COMMITS = Counter(PREFIX + "transactions_committed", "Kafka transactions committed", ["stage"])
LAG = Gauge(PREFIX + "consumer_lag", "Messages behind the end of the partition", ["stage", "topic", "partition"])
# entity_type: a built-in type, or CUSTOM for all the types export requests define (stages/sanitizer/stage.py).
PII_ENTITIES = Counter(PREFIX + "pii_entities", "PII entities replaced", ["entity_type", "action"])
WEBHOOK_ATTEMPTS = Counter(PREFIX + "webhook_attempts", "Webhook delivery attempts by outcome", ["outcome"])
SOURCE_THROTTLED = Counter(PREFIX + "source_throttled", "429 answers from Cognigy")
SOURCE_RETRIES = Counter(PREFIX + "source_retries", "Requests to Cognigy retried", ["reason"])
TOKEN_REFRESHES = Counter(PREFIX + "token_refreshes", "OAuth2 access tokens fetched")
# The scheduler (stages/scheduler), per schedule: how far continuous archiving is behind.
SCHEDULE_WATERMARK_AGE = Gauge(PREFIX + "schedule_watermark_age_seconds",
                               "Time since the end of the schedule's last fetched window", ["schedule"])
SCHEDULE_OLDEST_UNARCHIVED_AGE = Gauge(PREFIX + "schedule_oldest_unarchived_age_seconds",
                                       "Time since the start of the oldest window not yet wholly archived",
                                       ["schedule"])
SCHEDULE_EXPECTED_LAG = Gauge(PREFIX + "schedule_expected_lag_seconds",
                              "Window length plus settle lag: the watermark age in steady state stays below it",
                              ["schedule"])
SCHEDULE_RETENTION = Gauge(PREFIX + "schedule_retention_seconds",
                           "How long the tenant keeps conversations (CA_COGNIGY_RETENTION_DAYS)", ["schedule"])
SCHEDULE_WINDOW_FAILURES = Gauge(PREFIX + "schedule_window_failures",
                                 "Failed attempts in a row of the window in flight", ["schedule"])
SCHEDULE_WINDOWS = Counter(PREFIX + "schedule_windows", "Windows by event: submitted, fetched, failed, archived",
                           ["schedule", "event"])
