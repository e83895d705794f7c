"""What can go wrong talking to Cognigy, as types a caller can act on. Messages never quote credentials."""

from __future__ import annotations

from shared.errors import SourceError


class TransientSourceError(SourceError):
    """Worth retrying (429, 408, 5xx, network); `retry_after` is the server's own wait, if it gave one."""

    retriable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, details={"status": status} if status else None)
        self.status = status
        self.retry_after = retry_after


class AuthenticationFailed(SourceError):
    """The credentials were refused (401 after a refresh, or the token/login endpoint said no)."""

    code = "authentication_failed"


class PermissionDenied(SourceError):
    """Authenticated, but not allowed (403): the message names the scope or role that is missing."""

    code = "permission_denied"


class ExportJobFailed(SourceError):
    """Cognigy reported the export job FAILED; the message carries the server's reason."""

    code = "export_job_failed"
