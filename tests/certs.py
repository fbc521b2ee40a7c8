"""Test certificates made at test time with the `openssl` command: a private CA and its leaves.

Every certificate names feeds.example and 127.0.0.1 unless said otherwise, so one loopback
server can be reached under a name the certificate covers and under one it does not. Nothing
here is trusted by the system: a test trusts the CA by handing `Certs.client_context()` to the
Fetcher, or leaves it out to see the system's trust store refuse it.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

_CA_CONFIG = """\
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
copy_extensions = copy
unique_subject = no
[any_name]
commonName = supplied
"""
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


@dataclass(frozen=True)
class Certs:
    """Paths of the PEM files; every leaf uses `key`."""

    ca: Path
    key: Path
    good: Path  # signed by the CA, valid now, for feeds.example and 127.0.0.1
    expired: Path  # signed by the CA, valid only in January 2020
    not_yet_valid: Path  # signed by the CA, valid from 2099
    name_only: Path  # signed by the CA, valid now, for feeds.example only (no IP address)
    self_signed: Path  # its own issuer, valid now, for 127.0.0.1
    self_signed_key: Path

    def server_context(self, cert: Path, key: Path | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key or self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts the test CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca))


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(where: Path) -> Certs:
    """Write a CA and its leaves under `where` (about a tenth of a second of openssl)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the HTTPS tests need the openssl command (apt-get install openssl)")
    (where / "ca.cnf").write_text(_CA_CONFIG)
    (where / "index.txt").write_text("")
    (where / "serial").write_text("01\n")
    _openssl(
        where,
        *("req", "-x509", *_EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3"),
        *("-subj", "/CN=netplanet test CA"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
    )

    _openssl(
        where,
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "key.pem",
    )

    def leaf(name: str, san: str, *validity: str) -> Path:
        _openssl(
            where,
            *("req", "-new", "-key", "key.pem", "-out", f"{name}.csr"),
            *("-subj", "/CN=feeds.example", "-addext", f"subjectAltName={san}"),
        )
        _openssl(
            where,
            *("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key"),
            *("-in", f"{name}.csr", "-out", f"{name}.pem", "-notext", *validity),
        )
        return where / f"{name}.pem"

    both = "DNS:feeds.example,IP:127.0.0.1"
    good = leaf("good", both, "-days", "2")
    expired = leaf("expired", both, "-startdate", "20200101000000Z", "-enddate", "20200131000000Z")
    future = leaf("future", both, "-startdate", "20990101000000Z", "-enddate", "20991231000000Z")
    name_only = leaf("name-only", "DNS:feeds.example", "-days", "2")
    _openssl(
        where,
        *("req", "-x509", *_EC, "-keyout", "self.key", "-out", "self.pem", "-days", "2"),
        *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
    )
    return Certs(
        ca=where / "ca.pem",
        key=where / "key.pem",
        good=good,
        expired=expired,
        not_yet_valid=future,
        name_only=name_only,
        self_signed=where / "self.pem",
        self_signed_key=where / "self.key",
    )
