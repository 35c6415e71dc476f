"""A real SoftHSM2 token for tests: a key generated inside it, a certificate from the test PKI.

SoftHSM reads `SOFTHSM2_CONF` and its token folder when the library is initialised, and
python-pkcs11 keeps one library object per module path for the whole process. `softhsm_token`
therefore points the environment at a fresh token folder, (re)initialises the library on it, and
finalises it afterwards, so test modules using tokens pass in any order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pkcs11

from signing import TestPki

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class SoftToken:
    module: Path
    label: str
    key_label: str
    pin: str
    cert: Path

    def tool(self, *args: str, login: bool = True) -> str:
        """`pkcs11-tool` on this token; fails the test with its stderr when it fails."""
        auth = ["--login", "--pin", self.pin] if login else []
        done = subprocess.run(
            ["pkcs11-tool", "--module", str(self.module), "--token-label", self.label,
             *auth, *args],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout


@contextlib.contextmanager
def softhsm_token(
    folder: Path, pki: TestPki, *, label: str, key_label: str, pin: str, holder: str
) -> Iterator[SoftToken]:
    """A token in `folder` with an RSA key made inside it and `holder`'s certificate for it."""
    assert SOFTHSM.is_file(), "SoftHSM2 is missing: scripts/bootstrap installs softhsm2"
    assert shutil.which("pkcs11-tool"), "pkcs11-tool is missing: install opensc"
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n", encoding="utf-8")  # fmt: skip
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    library = pkcs11.lib(str(SOFTHSM))
    try:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
             "--so-pin", "13579"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        token = SoftToken(SOFTHSM, label, key_label, pin, folder / "token-cert.pem")
        # the private key is generated inside the token and never leaves it
        token.tool("--keypairgen", "--key-type", "rsa:2048", "--label", key_label, "--id", "01")
        public_der = folder / "public.der"
        token.tool("--read-object", "--type", "pubkey", "--label", key_label, "-o",
                   str(public_der))  # fmt: skip
        pki.issue_signer_certificate(public_der.read_bytes(), holder, token.cert)
        cert_der = folder / "token-cert.der"
        subprocess.run(
            ["openssl", "x509", "-in", str(token.cert), "-outform", "DER", "-out", str(cert_der)],
            check=True, timeout=60,
        )  # fmt: skip
        token.tool("--write-object", str(cert_der), "--type", "cert", "--label", key_label,
                   "--id", "01")  # fmt: skip
        library.reinitialize()  # read this folder's token, whatever an earlier module used
        yield token
    finally:
        with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
            library.finalize()
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
