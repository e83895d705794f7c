"""Errors a user can act on, in one hierarchy. The CLI prints them without a traceback.

Every error has a stable `code` and says, in `retriable`, whether the same input tried again can succeed:
yes when what failed is not the input but something it needs that can come back (a broker, storage, the key
store or master key the deployment points at); no when the input itself can never succeed (malformed,
invalid, over its quota). The stage loop decides on that alone: a retriable error aborts the batch and
retries it from the same offsets, any other error dead-letters its input (shared/kafka/loop.py).

An error lives in the module that raises it; one raised in several modules lives here.

    ArchiverError                                   code, retriable (False unless said)
    ├── ConfigError
    │   └── WrongKey                                shared/archive/key_check.py
    ├── ValidationFailed
    ├── QuotaExceeded
    ├── RetryableError                  retriable
    ├── PoisonError                                 export_id
    │   ├── MessageTooLarge
    │   ├── UnarchivableRecord                      shared/archive/parquet_records.py
    │   └── ChecksumMismatch, MalformedPage         stages/verifier/stage.py
    ├── SourceError
    │   ├── TransientSourceError        retriable   stages/fetcher/errors.py
    │   └── AuthenticationFailed, PermissionDenied, ExportJobFailed   stages/fetcher/errors.py
    ├── DataKeyMissing                  retriable
    ├── DecryptionFailed                retriable   shared/archive/encryption.py
    ├── SegmentError
    ├── StorageError                    retriable   shared/archive/storage/base.py
    │   ├── ObjectMissing               retriable   shared/archive/storage/base.py
    │   └── _PreconditionFailed         retriable   shared/archive/storage/s3.py
    ├── InvalidObjectKey                            shared/archive/storage/base.py
    ├── MessageRefused                  retriable   shared/kafka/loop.py
    ├── ManifestNotAuthentic                        shared/archive/manifest.py
    ├── AuditTampered                               shared/archive/audit.py
    ├── SubjectIndexError                           shared/archive/subject_index.py
    ├── IcebergError                                shared/archive/iceberg_table.py
    │   └── IcebergUnavailable          retriable   shared/archive/iceberg_table.py
    ├── TooDeeplyNested                             shared/nesting.py
    ├── PatternTimeout                              shared/user_patterns.py
    ├── LocalKafkaError                             cognigy_archiver/localkafka/__init__.py
    ├── WorkerCrashed                   retriable   stages/sanitizer/pool.py
    ├── DetectionTimedOut                           stages/sanitizer/pool.py
    └── ResubmittedWithChanges                      stages/fetcher/stage.py

Anything else a stage raises (a bug, a library's error on odd input) is not retriable: never a crash loop.
"""

from __future__ import annotations

from typing import Any


class ArchiverError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for humans."""

    code = "error"
    retriable = False

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


def is_retriable(exc: BaseException) -> bool:
    """Whether trying `exc`'s input again can succeed: only an ArchiverError can say so."""
    return isinstance(exc, ArchiverError) and exc.retriable


class ConfigError(ArchiverError):
    code = "config_error"


class ValidationFailed(ArchiverError):
    """A request broke one or more rules; `details["problems"]` lists each as {field, problem}."""

    code = "validation_failed"

    def __init__(self, problems: list[dict[str, str]], what: str = "export request") -> None:
        super().__init__(f"invalid {what}", details={"problems": problems})


class QuotaExceeded(ArchiverError):
    """An export that needs more than its `max_storage_mb` (shared/messages.py ExportOptions), or that the
    source refused for its quota (413)."""

    code = "quota_exceeded"


class RetryableError(ArchiverError):
    """A transient failure with no error of its own to say so (the broker, a table not read to its end):
    the batch is aborted and retried from the same offsets."""

    code = "retryable"
    retriable = True


class PoisonError(ArchiverError):
    """Input that will never process: it goes to the DLQ with this message as the reason (and the problems
    of the error it was raised from), and `export_id` when the input named a valid one. The message must not
    contain PII."""

    code = "poison"

    def __init__(self, message: str, *, export_id: str | None = None) -> None:
        super().__init__(message)
        self.export_id = export_id


class MessageTooLarge(PoisonError):
    """An output over the message limit: it is never sent."""


class SourceError(ArchiverError):
    """The Cognigy side answered with something we cannot use."""

    code = "source_error"


class DataKeyMissing(ArchiverError):
    """An export's data key that the key store does not hold, or holds wrapped by another master key.
    Retriable: the key store or master key is at fault, not the page that needs it; a stage waits for the
    deployment to be fixed rather than dead-letter every page of the export (/healthz says it waits)."""

    code = "data_key_missing"
    retriable = True


class SegmentError(ArchiverError):
    """A segment that cannot be read back."""

    code = "segment_error"
