"""The archiver: writes sanitized pages as durable, checksummed, zstd-compressed segments."""
