"""The archive: its format (segments, manifest), storage backends, encryption and keys, and reading,
verifying, expiring, searching and auditing what is archived."""
