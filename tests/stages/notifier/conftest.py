"""Fixtures for the notifier's tests: real webhook receivers, and the S3 server."""

from tests.s3_server import s3_bucket, s3_endpoint, s3_proxy  # noqa: F401
from tests.stages.notifier.webhook_receivers import receivers  # noqa: F401
