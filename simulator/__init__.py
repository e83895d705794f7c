"""A Cognigy-compatible HTTP server over a seeded synthetic dataset, for tests and the local demo.

`dataset` builds the conversation records and the ground truth of the PII planted in them; `server`
serves them through the export-job API, OData `Conversations` and the REST conversations API, with the
credentials each takes (`auth`) and the faults a test switches on (`config.Faults`).
"""
