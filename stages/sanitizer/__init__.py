"""The sanitizer: finds PII in conversation records and replaces it with tokens, ciphertexts or masks.

Import what you need from its modules (`stages.sanitizer.engine.PiiEngine`, ...): the package itself
imports nothing, so a command that only computes tokens does not load spaCy."""
