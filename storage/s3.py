"""Connection parameters for an S3 server and a MinIO SDK client built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minio import Minio


@dataclass(frozen=True)
class S3Config:
    """Where an S3 server is and how to sign requests to it."""

    endpoint: str  # host:port
    access_key: str
    secret_key: str = field(repr=False)
    secure: bool = False
    region: str = "us-east-1"

    def client(self, http_client: Any = None) -> Minio:
        """A MinIO SDK client; `http_client` is a urllib3 PoolManager for custom timeouts."""
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.secure,
            region=self.region,
            http_client=http_client,
        )
