"""The set-up identity of the test session's object stores, found from a working config.

The session's store hands tests its working identity (`s3_config`); bucket creation needs the
set-up identity, which the code under test receives as `MOTCUA_S3_SETUP_*` settings or as
`Archive(setup=...)`. `tests/conftest.py` registers each store it starts here.
"""

from __future__ import annotations

from storage.s3 import S3Config
from storage.server import EmbeddedS3Server

_SETUP_BY_ENDPOINT: dict[str, S3Config] = {}


def register(server: EmbeddedS3Server) -> None:
    setup = server.setup_config()
    _SETUP_BY_ENDPOINT[setup.endpoint] = setup


def setup_identity(working: S3Config) -> S3Config:
    """The set-up identity of the store `working` points at."""
    return _SETUP_BY_ENDPOINT[working.endpoint]


def setup_env(working: S3Config) -> dict[str, str]:
    """`MOTCUA_S3_SETUP_*` for the store `working` points at."""
    setup = setup_identity(working)
    return {
        "MOTCUA_S3_SETUP_ACCESS_KEY": setup.access_key,
        "MOTCUA_S3_SETUP_SECRET_KEY": setup.secret_key,
    }
