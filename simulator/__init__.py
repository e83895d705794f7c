"""A Cognigy-compatible HTTP server over a seeded synthetic dataset, for tests and the local demo.

`dataset` builds the conversation records and the ground truth of the PII planted in them;
`server` serves them through the export-job API (token, job, status, paged data).
"""
