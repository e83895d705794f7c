"""The sanitizer: finds PII in conversation records and replaces it with tokens, ciphertexts or masks."""

from stages.sanitizer.actions import decrypt_token
from stages.sanitizer.engine import PiiEngine
from stages.sanitizer.recognizers.registry import ENTITY_TYPES

__all__ = ["ENTITY_TYPES", "PiiEngine", "decrypt_token"]
