"""The node's own ``ram:GovernmentSignature`` for pollers that require one (BOI-DMS).

BOI-DMS's letter reader requires the first ``ram:GovernmentSignature`` of a poll answer to
hold a ``ds:Signature`` (Reference URI, DigestValue, SignatureValue, X509SubjectName,
X509Certificate; RTL:136-148), and no letter either deployed client writes has one. A real
node must therefore have added it. The document itself is relayed byte for byte, so this
signature travels *beside* it, immediately before ``rsm:GovernmentDocument`` (BOI takes the
first in document order), and only for BOI-dialect pollers: mil-doc reads ``ram:GivenName[0/1]``
over the whole answer, and a signer's name placed first would shift them.

It is a real XML-DSig (signxml), detached, by the node's key, over the relayed document:
``Reference URI="#Letter"`` when the letter carries ``ID="Letter"`` (both clients set it), else
the whole document. Signer fields come from the document's own signature skeleton if any, else
from its SenderParty, cut to BOI's column sizes. Nothing is added when the document's first
``ram:GovernmentSignature`` already holds a ``ds:Signature`` with every part BOI-DMS reads
(signxml, for one, writes no ``X509SubjectName``: then the node's still goes first).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from hub.adapters.ecms.codec.letter import RAM, Letter

DS = "http://www.w3.org/2000/09/xmldsig#"
KEY_FILE, CERT_FILE = "ecms-node-key.pem", "ecms-node-cert.pem"
# BOI-DMS's TH_EGIF_DOC_INBOUND column sizes (ThEgifDocInboundLinq.vb:340-385).
SIGNER_LIMITS = {"GivenName": 100, "FamilyName": 100, "Title": 255, "MinistryCode": 10, "DepartmentCode": 10}


def _self_signed(folder: Path) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Back Office hub e-CMS node"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "TH")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / KEY_FILE).write_bytes(key_pem)
    (folder / KEY_FILE).chmod(0o600)
    (folder / CERT_FILE).write_bytes(cert_pem)
    return key_pem, cert_pem


# What BOI-DMS reads from the first ram:GovernmentSignature (RTL:136-148), all mandatory.
REQUIRED = (f"{{{RAM}}}TypeCode", f"{{{RAM}}}SignerParty", f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference",
            f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestValue",
            f"{{{DS}}}Signature/{{{DS}}}SignatureValue",
            f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509SubjectName",
            f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")


def _complete(signature: etree._Element) -> bool:
    """The document's own signature has everything BOI-DMS reads (else the node's goes first)."""
    return all(signature.find(path) is not None for path in REQUIRED)


@dataclass
class NodeSigner:
    key: bytes
    cert: bytes

    @classmethod
    def load(cls, settings: Any, data_dir: Path) -> NodeSigner:
        """The configured key and certificate, else the node's own made once in ``data_dir``."""
        if settings.signing_key and settings.signing_cert:
            return cls(Path(settings.signing_key).read_bytes(), Path(settings.signing_cert).read_bytes())
        key_path, cert_path = data_dir / KEY_FILE, data_dir / CERT_FILE
        if key_path.is_file() and cert_path.is_file():
            return cls(key_path.read_bytes(), cert_path.read_bytes())
        return cls(*_self_signed(data_dir))

    def subject(self) -> str:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.cert).subject.rfc4514_string()

    def signature_for(self, raw: bytes, letter: Letter) -> etree._Element | None:
        from signxml import XMLSigner, methods

        document = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        own = next(document.iter(f"{{{RAM}}}GovernmentSignature"), None)
        if own is not None and _complete(own):
            return None
        body = document.find(f"{{{RAM}}}CorrespondenceLetter")
        uri = "#Letter" if body is not None and body.get("ID") == "Letter" else None
        # Exclusive C14N: the signature verifies wherever the document stands (alone, or inside
        # the SOAP answer with the envelope's namespaces in scope).
        signer = XMLSigner(method=methods.detached, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                           c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
        signature = signer.sign(document, key=self.key, cert=self.cert, reference_uri=uri)
        x509_data = signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data")
        if x509_data is not None:
            name = etree.Element(f"{{{DS}}}X509SubjectName")
            name.text = self.subject()
            x509_data.insert(0, name)
        root = etree.Element(f"{{{RAM}}}GovernmentSignature", nsmap={"ram": RAM, "ds": DS})
        etree.SubElement(root, f"{{{RAM}}}TypeCode").text = "DSIG"
        party = etree.SubElement(root, f"{{{RAM}}}SignerParty")
        for name, value in self._signer_fields(own, letter).items():
            etree.SubElement(party, f"{{{RAM}}}{name}").text = value[: SIGNER_LIMITS[name]]
        root.append(signature)
        return root

    @staticmethod
    def _signer_fields(own: etree._Element | None, letter: Letter) -> dict[str, str]:
        if own is not None:
            party = own.find(f"{{{RAM}}}SignerParty")
            if party is not None:
                return {n: (party.findtext(f"{{{RAM}}}{n}") or "") for n in SIGNER_LIMITS}
        sender = letter.sender
        return {"GivenName": sender.given_name or "", "FamilyName": sender.family_name or "",
                "Title": sender.job_title or "", "MinistryCode": sender.ministry_id,
                "DepartmentCode": sender.department_id}
