"""Errors a user can act on. The CLI prints them without a traceback."""

from __future__ import annotations

from typing import Any


class ArchiverError(Exception):
    """Base class: `code` is stable and machine-readable, the message is for humans."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


class ConfigError(ArchiverError):
    code = "config_error"


class ValidationFailed(ArchiverError):
    """A request broke one or more rules; `details["problems"]` lists each as {field, problem}."""

    code = "validation_failed"

    def __init__(self, problems: list[dict[str, str]], what: str = "export request") -> None:
        super().__init__(f"invalid {what}", details={"problems": problems})


class SourceError(ArchiverError):
    """The Cognigy side answered with something we cannot use."""

    code = "source_error"
