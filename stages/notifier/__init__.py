"""The notifier: when every page of an export is archived, writes its manifest, sends signed webhooks and
appends to the tamper-evident audit log."""
