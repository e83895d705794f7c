"""Fixtures for the archiver's tests: the S3 server and its fault-injecting proxy."""

from tests.s3_server import s3_bucket, s3_endpoint, s3_proxy  # noqa: F401
