"""Fixtures for the signing tests: one TEST PKI, its trust services, loaded signers per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signing import LoadedSigner, TestPki, TrustServices, load_pkcs12, testpki
from signing.samples import result_pdf


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return testpki.init(tmp_path_factory.mktemp("signing") / "test-pki")


@pytest.fixture(scope="session")
def services(pki: TestPki) -> Iterator[TrustServices]:
    with TrustServices(pki) as running:
        yield running


@pytest.fixture(scope="session")
def leader(pki: TestPki) -> LoadedSigner:
    return load_pkcs12(pki.p12("leader"), pki.p12_password)


@pytest.fixture(scope="session")
def organization(pki: TestPki) -> LoadedSigner:
    return load_pkcs12(pki.p12("organization"), pki.p12_password)


@pytest.fixture(scope="session")
def unsigned_pdf() -> bytes:
    return result_pdf(pages=2)
