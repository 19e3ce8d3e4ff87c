"""Self-signed TLS certificates for the emulators' ``--tls`` mode, generated in-process.

Real Salesforce and Dataverse clients refuse plain HTTP (simple-salesforce always builds
``https://`` URLs), so the emulators can serve HTTPS with a certificate valid for
``127.0.0.1``, ``::1`` and ``localhost``. Clients trust it through the PEM path printed in the
emulator's JSON line (``ca_cert``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertPair:
    """Paths of a PEM certificate (also the CA to trust) and its private key."""

    cert: Path
    key: Path


def ensure_self_signed(directory: Path, name: str = "emulator") -> CertPair:
    """Create (or reuse) a self-signed certificate for loopback in ``directory``.

    The certificate is its own CA, so the same PEM is what clients pass as ``verify``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pair = CertPair(directory / f"{name}-cert.pem", directory / f"{name}-key.pem")
    if pair.cert.exists() and pair.key.exists():
        return pair
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    tmp_key = pair.key.with_suffix(".tmp")
    tmp_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tmp_key.chmod(0o600)
    tmp_key.replace(pair.key)
    tmp_cert = pair.cert.with_suffix(".tmp")
    tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp_cert.replace(pair.cert)
    return pair
