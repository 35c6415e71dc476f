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


# Signing checks the certificate's revocation at every level: signers come with the services.
@pytest.fixture(scope="session")
def leader(pki: TestPki, services: TrustServices) -> LoadedSigner:
    return load_pkcs12(pki.p12("leader"), pki.p12_password)


@pytest.fixture(scope="session")
def organization(pki: TestPki, services: TrustServices) -> LoadedSigner:
    return load_pkcs12(pki.p12("organization"), pki.p12_password)


@pytest.fixture(scope="session")
def unsigned_pdf() -> bytes:
    return result_pdf(pages=2)


def sign_unchecked(pdf: bytes, signer: LoadedSigner, field: str = "motcua_leader") -> bytes:
    """A PAdES B-B signature made with pyHanko directly, bypassing motcua's certificate checks:
    how a PDF signed with an expired or revoked certificate elsewhere reaches `verify`."""
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    out = signers.PdfSigner(
        meta,
        signer=signer.signer,
        new_field_spec=fields.SigFieldSpec(field, box=(50, 50, 250, 120)),
    ).sign_pdf(writer)
    return bytes(out.getvalue())
