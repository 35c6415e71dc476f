"""signing: PAdES signatures as Decree 30/2020/NĐ-CP prescribes, and their verification.

Imports only `motcua.errors` and `motcua.types` from the project; never `flows`, `extractors` or
`storage`. The public API (pyHanko and certomancer are imported lazily inside the functions):

- Signers, loaded once per batch (secrets are arguments: callers read them from
  MOTCUA_P12_PASSWORD / MOTCUA_PKCS11_PIN or a prompt):
  `load_pkcs12(path, password, chain=())`, `load_pem(key, cert, password=None, chain=())`,
  `open_pkcs11(module, token_label, key_label, pin, cert=None, chain=())` → `LoadedSigner`
  (a context manager; close it to end a PKCS#11 session).
- `sign_pdf(source_bytes_or_path, output_path_or_None, spec: SignatureSpec, signer)`
  → `(SignResult, signed_bytes)`. `SignatureSpec(role=Role.leader|Role.organization,
  level=Level.B_B|B_T|B_LT|B_LTA, signer_name, signer_title, organization, signature_image,
  seal_image, copy_mark, page, box, tsa_url, trust, extra_certs, certify, field_name)`.
  Fields are named `motcua_leader` / `motcua_organization` (that is how `verify` knows the role).
  A leader signature with `certify=True` (DocMDP 2) also prepares the organisation's empty field.
- `sign_batch(paths, out_dir, spec, signer, on_done=callback)` → `BatchOutcome` (bad files are
  recorded, the batch continues).
- `verify_pdf(source_bytes_or_path, trust=[root.pem, ...], at=None, fetch=True)`
  → `VerificationReport` with `.ok`, `.complete`, `.signatures` (`SignatureReport`) and
  `.as_json()` in the `motcua verify --json` contract. Raises `InputFileError` only when the
  file cannot be read at all; damaged signatures are reported, never raised.
- Signing on the signer's own device (pyHanko's interrupted signing), `signing.interrupted`:
  `prepare_signature(pdf, spec, certificates)` → `PendingSignature` (storable; what the device
  signs: `.signed_attributes` or `.digest`), then `finish_signature(pending, value, spec)` →
  the signed bytes; a value made with another key raises `BadArgumentError`.
  `certificates_from_pem(pem)` reads the chain the device sends.
- `testpki.init(dir) -> TestPki` builds a TEST hierarchy (root, intermediate, TSA, OCSP
  responder, leader/organisation/expired/revoked signers, PKCS#12 files, sample signature and
  seal PNGs); `testpki.load(dir)` reads it back; `TestPki` gives every path and URL.
- `TrustServices(pki)`: TSA + OCSP + CRLs for a TEST PKI on 127.0.0.1, a context manager.
"""

from __future__ import annotations

from signing.interrupted import (
    PendingSignature,
    certificates_from_pem,
    finish_signature,
    prepare_signature,
)
from signing.sign import (
    BatchOutcome,
    Level,
    Role,
    SignatureSpec,
    SignResult,
    sign_batch,
    sign_pdf,
)
from signing.signers import LoadedSigner, load_certificates, load_pem, load_pkcs12, open_pkcs11
from signing.testpki import TestPki
from signing.trust_services import TrustServices
from signing.verify import SignatureReport, VerificationReport, verify_pdf

__all__ = [
    "BatchOutcome",
    "Level",
    "LoadedSigner",
    "PendingSignature",
    "Role",
    "SignResult",
    "SignatureReport",
    "SignatureSpec",
    "TestPki",
    "TrustServices",
    "VerificationReport",
    "certificates_from_pem",
    "finish_signature",
    "load_certificates",
    "load_pem",
    "load_pkcs12",
    "open_pkcs11",
    "prepare_signature",
    "sign_batch",
    "sign_pdf",
    "verify_pdf",
]
