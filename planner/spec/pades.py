"""PAdES signatures of the signed-off specification, and their verification.

Pure functions on bytes, built on pyHanko: no Flask, no database, no network.

- ``make_signing_identity`` makes what ``planner init-signing`` stores: the deployment's
  certificate authority (PEM, the trust root verification needs) and a signing key with its
  certificate as PKCS#12 under a random passphrase.
- ``load_signer`` opens that PKCS#12 for pyHanko.
- ``sign_pdf`` adds one invisible PAdES signature (``ETSI.CAdES.detached``) as an incremental
  update, so the bytes signed before stay a prefix of the file and several people can sign one
  after another, each in a field of their own.
- ``verify_pdf`` checks every signature of a file against the deployment's authority and reports
  in plain values and words; it never raises for a hostile or broken PDF.

There is no timestamp authority: the signing time is the signer's clock, written in the
signature dictionary's ``/M`` entry (PAdES forbids the CMS signingTime attribute), and the
certificate chain is checked at the time of verification, without revocation data.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO

from asn1crypto import parser as asn1_parser
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.metadata.xmp_xml import XmpXmlProcessingError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, Signer, SimpleSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext

from planner.core.errors import Conflict, ValidationError

# RSA rather than ECDSA: pyHanko marks a P-256/P-384 signature as ISO 32002 and raises the
# file's version to PDF 2.0, which a PDF/A-3 file (based on PDF 1.7) must not declare.
_KEY_BITS = 3072
_CLOCK_SKEW = timedelta(minutes=5)
_NAME_LIMIT = 64  # ub-common-name and ub-organization-name of RFC 5280


@dataclass(frozen=True)
class CertificateAuthority:
    """A certificate authority held in memory, to issue several signing identities under it.

    Its private key is never serialised by this module: an authority made by
    ``make_signing_identity`` alone is dropped once its one certificate is issued, so nothing
    else can ever be issued under that deployment's trust root.
    """

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def cert_pem(self) -> bytes:
        """The authority's certificate as PEM: the trust root ``verify_pdf`` takes."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class SigningIdentity:
    """What ``planner init-signing`` stores: the authority's certificate (public, the trust
    root), the signing key and certificate as PKCS#12, and the passphrase that opens it
    (a secret, kept apart from the PKCS#12 file)."""

    ca_cert_pem: bytes
    p12: bytes = field(repr=False)
    passphrase: bytes = field(repr=False)


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of a file, in signing order.

    ``signer`` is the common name of the signing certificate; ``claimed_name`` the name the
    signature dictionary gives (``/Name``), which is who signed when one deployment certificate
    signs for several people. ``signed_at`` is the signer's clock (``/M``), in UTC.

    ``intact``: the signed bytes' hash matches, the signature value over it verifies, and the
    space reserved for the signature holds nothing else (its padding, which no signature
    covers, is all zeros as pyHanko wrote it). ``trusted``: the certificate chains to the given
    authority and may sign (judged whenever the signature value verifies, so a changed byte
    does not make a known signer look foreign). ``covers_whole_file``: nothing
    follows this signature's revision. ``modified_after``: some later revision did more than add
    signatures. A signature that could not be checked has every flag at its failing value.
    """

    field: str
    signer: str
    claimed_name: str | None
    reason: str | None
    signed_at: datetime | None
    intact: bool
    trusted: bool
    covers_whole_file: bool
    modified_after: bool


@dataclass(frozen=True)
class Verification:
    """The verdict on a file: ``valid`` when it has signatures (as many as expected), each
    intact and trusted, and nothing but signatures was added after the first one; otherwise
    ``problems`` says in words what is wrong."""

    signatures: list[SignatureCheck]
    valid: bool
    problems: list[str]


# --- identities -----------------------------------------------------------------------------


def _check_name(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(f"The {what} must not be empty.", {what: ["Required."]})
    if len(value) > _NAME_LIMIT:
        raise ValidationError(
            f"The {what} is longer than {_NAME_LIMIT} characters.",
            {what: [f"At most {_NAME_LIMIT} characters."]},
        )
    return value


def _check_days(valid_days: int) -> None:
    if valid_days < 1:
        raise ValidationError(
            "A certificate must be valid for at least one day.",
            {"valid_days": ["At least 1."]},
        )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,  # nonRepudiation, which pyHanko requires by default
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def make_certificate_authority(
    organisation: str = "planner", *, valid_days: int = 3650
) -> CertificateAuthority:
    """Make a self-signed certificate authority that may only issue end-entity certificates
    (path length 0), named "<organisation> signing authority".

    Raises ValidationError if the organisation is empty or too long for a certificate, or if
    ``valid_days`` is below 1.
    """
    organisation = _check_name(organisation, "organisation")
    _check_days(valid_days)
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    name = _name(f"{organisation} signing authority"[:_NAME_LIMIT], organisation)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate=certificate, private_key=key)


def make_signing_identity(
    common_name: str,
    *,
    organisation: str = "planner",
    valid_days: int = 3650,
    authority: CertificateAuthority | None = None,
) -> SigningIdentity:
    """Make a signing key and a certificate for it named ``common_name``, issued by
    ``authority`` or, by default, by a new certificate authority made for it alone (whose key is
    then forgotten). The certificate has the digitalSignature and nonRepudiation key usages PDF
    validators expect, and is valid for ``valid_days`` but never beyond its authority.

    The key, its certificate and the authority's certificate are packed as PKCS#12 (AES-256,
    PBKDF2-SHA256, SHA-256 MAC) under a random passphrase of 256 bits; store the passphrase
    apart from the file, and ``ca_cert_pem`` wherever files are verified.

    Raises ValidationError if a name is empty or longer than 64 characters, or ``valid_days`` is
    below 1.
    """
    common_name = _check_name(common_name, "common_name")
    organisation = _check_name(organisation, "organisation")
    _check_days(valid_days)
    if authority is None:
        authority = make_certificate_authority(organisation, valid_days=valid_days)
    ca = authority.certificate
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + timedelta(days=valid_days), ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.private_key.public_key()),
            critical=False,
        )
        .sign(authority.private_key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(32).encode("ascii")
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(100_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    p12 = pkcs12.serialize_key_and_certificates(
        common_name.encode("utf-8"), key, certificate, [ca], encryption
    )
    return SigningIdentity(ca_cert_pem=authority.cert_pem, p12=p12, passphrase=passphrase)


def load_signer(p12: bytes, passphrase: bytes) -> SimpleSigner:
    """Open a PKCS#12 signing key file (as ``make_signing_identity`` makes) for ``sign_pdf``.

    Raises ValidationError if the bytes are not PKCS#12, or if the passphrase does not open
    them (or they are damaged, which PKCS#12 cannot tell apart from a wrong passphrase).
    """
    try:
        pfx = asn1_pkcs12.Pfx.load(p12, strict=True)
        # asn1crypto parses lazily: reading the fields is what checks them
        is_pkcs12 = pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native in (
            "data",
            "signed_data",
        )
    except (ValueError, TypeError):
        is_pkcs12 = False
    if not is_pkcs12:
        raise ValidationError("The signing key file is not a PKCS#12 file.")
    try:
        signer = SimpleSigner.load_pkcs12_data(p12, other_certs=[], passphrase=passphrase)
    except ValueError as error:
        raise ValidationError(
            "The passphrase does not open the signing key file (or the file is damaged)."
        ) from error
    return signer


# --- signing --------------------------------------------------------------------------------


def _keep_pdfa_metadata_consistent(writer: IncrementalPdfFileWriter) -> None:
    """PDF/A wants each entry of the document information dictionary to equal its XMP
    counterpart. When the file has XMP, pyHanko rewrites it with ``pdf:Producer`` = "pyHanko
    x.y" and ``xmp:ModifyDate`` = now, but appends "; pyHanko x.y" to the info /Producer and
    computes the info /ModDate with a second clock read. So the info dictionary gets the same
    producer beforehand and loses /ModDate (XMP carries it): both then agree."""
    if "/Metadata" not in writer.root:
        return
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        return
    info = info_ref.get_object()
    if not isinstance(info, generic.DictionaryObject):
        return
    changed = False
    if info.get("/Producer") != VENDOR:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        changed = True
    if "/ModDate" in info:
        del info["/ModDate"]
        changed = True
    if changed and isinstance(info_ref, generic.IndirectObject):
        writer.mark_update(info_ref)


async def _sign(pdf_signer: PdfSigner, writer: IncrementalPdfFileWriter, when: datetime) -> bytes:
    """pyHanko's ``PdfSigner.async_sign_pdf``, step by step, to set the signing time
    (``PdfSigningSession.system_time``, which ``sign_pdf`` always takes from the clock)."""
    session = pdf_signer.init_signing_session(writer)
    session.system_time = when
    validation_info = await session.perform_presign_validation(writer)
    bytes_reserved = await session.estimate_signature_container_size(validation_info)
    tbs = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=bytes_reserved
    )
    prepared, output = tbs.digest_tbs_document()
    signed = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=when),
    )
    await signed.post_signature_processing(output)
    return output.getvalue()


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    *,
    field_name: str,
    signer_name: str,
    reason: str,
    location: str = "",
    when: datetime | None = None,
) -> bytes:
    """Add one PAdES signature (``ETSI.CAdES.detached``, SHA-256) by ``signer`` in a new
    invisible signature field ``field_name``, as an incremental update: ``pdf`` is a prefix of
    the result. ``signer_name`` goes to the signature's /Name, ``reason`` and ``location`` to
    /Reason and /Location; ``when`` (timezone-aware) is the signing time written to /M, the
    current time by default.

    PDF/A (the input is PDF/A-3b from WeasyPrint): the field is invisible, a widget with a
    zero rectangle and the Print flag, so it needs no appearance stream and no font; the update
    keeps the PDF version (1.7: RSA keys, so no PDF 2.0 extension) and adds only the ESIC
    developer extension PAdES declares; the XMP metadata stream is kept, with its pdfaid
    part and conformance, and pyHanko only sets its producer and modification date; the
    information dictionary is brought in line with it (``_keep_pdfa_metadata_consistent``).
    No timestamp, no DSS: nothing else is added to the file.

    Raises ValidationError if an argument is empty or ``when`` is naive, or if ``pdf`` is not a
    PDF pyHanko can extend (unreadable, encrypted, hybrid cross-references); Conflict if the
    file already has a signed field by that name.
    """
    field_name = field_name.strip()
    if not field_name or "." in field_name:
        raise ValidationError(
            "A signature field needs a name without dots.", {"field_name": ["Invalid."]}
        )
    if not signer_name.strip():
        raise ValidationError(
            "The signer's name must not be empty.", {"signer_name": ["Required."]}
        )
    if when is not None and when.utcoffset() is None:
        raise ValidationError("The signing time must say its time zone.", {"when": ["Naive."]})
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
        if writer.prev.encrypted:
            raise ValidationError("An encrypted PDF cannot be signed.")
        if any(enumerate_sig_fields(writer.prev, filled_status=True, with_name=field_name)):
            raise Conflict(
                f"The file already has a signature in the field {field_name}.",
                {"field_name": ["Already signed."]},
            )
        _keep_pdfa_metadata_consistent(writer)
        pdf_signer = PdfSigner(
            PdfSignatureMetadata(
                field_name=field_name,
                name=signer_name.strip(),
                reason=reason.strip() or None,
                location=location.strip() or None,
                subfilter=SigSeedSubFilter.PADES,
                md_algorithm="sha256",
            ),
            signer,
            new_field_spec=SigFieldSpec(sig_field_name=field_name),
        )
        return asyncio.run(_sign(pdf_signer, writer, when or datetime.now(UTC)))
    except (misc.PdfError, misc.FormFillingError, XmpXmlProcessingError) as error:
        # PdfError: pyHanko could not read or write the file; FormFillingError: its
        # SigningError; XmpXmlProcessingError: the XMP it must update is not XML it can parse
        raise ValidationError(f"The PDF could not be signed: {error}") from error


# --- verification ---------------------------------------------------------------------------


def _trust_roots(trusted_ca_pem: bytes) -> list[asn1_x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(trusted_ca_pem)
    except ValueError as error:
        raise ValidationError(
            "The trusted certificate authority is not a PEM certificate."
        ) from error
    return [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates
    ]


def _say(error: Exception) -> str:
    """An exception in words, short enough for a problem line (a hostile file chooses them)."""
    words = str(error) or type(error).__name__
    return words if len(words) <= 200 else words[:199] + "…"


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) else None


def _common_name(embedded: EmbeddedPdfSignature) -> str:
    try:
        common_name = embedded.signer_cert.subject.native.get("common_name")
    except Exception:  # a hostile certificate: no name to show
        return "an unknown signer"
    if isinstance(common_name, list):
        common_name = ", ".join(str(part) for part in common_name)
    return str(common_name)[:_NAME_LIMIT] if common_name else "an unknown signer"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _changes_content(status: PdfSignatureStatus, later_fields: set[str]) -> bool:
    """Whether pyHanko's difference analysis found more than signatures added after this one:
    beyond form filling, or form filling of a field that is not a later signature."""
    level = status.modification_level
    if level is None or level > ModificationLevel.FORM_FILLING:
        return True
    diff = status.diff_result
    if level == ModificationLevel.FORM_FILLING and isinstance(diff, DiffResult):
        return not diff.changed_form_fields <= later_fields
    return False


_TRUST_WORDS = {
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: (
        "is not from the deployment's certificate authority"
    ),
    AdESIndeterminate.EXPIRED: "has an expired certificate",
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: "has an expired certificate",
    AdESIndeterminate.NOT_YET_VALID: "has a certificate that is not valid yet",
    AdESFailure.NOT_YET_VALID: "has a certificate that is not valid yet",
    AdESFailure.REVOKED: "has a revoked certificate",
    AdESIndeterminate.SIG_CONSTRAINTS_FAILURE: "has a certificate that may not sign documents",
}


def _trust_problem(status: PdfSignatureStatus) -> str:
    """Why a signature whose value verifies is not trusted, as the end of a sentence."""
    indication = status.trust_problem_indic
    if indication is None:  # no path to a trust root, and pyHanko said no more
        return _TRUST_WORDS[AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND]
    if indication in _TRUST_WORDS:
        return _TRUST_WORDS[indication]
    words = getattr(indication, "name", str(indication)).lower().replace("_", " ")
    return f"has a certificate that is not acceptable ({words})"


@dataclass
class _Checked:
    embedded: EmbeddedPdfSignature
    status: PdfSignatureStatus | None
    error: str | None


def _validate(embedded: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]) -> _Checked:
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as error:  # whatever a hostile signature does, answer in words
        return _Checked(embedded, None, _say(error))
    return _Checked(embedded, status, None)


def _padding_is_clean(embedded: EmbeddedPdfSignature) -> bool:
    """Whether the bytes after the CMS object in /Contents are the signer's zeros: they are the
    one part of a signed revision no signature covers, so a forger could hide data there."""
    contents = embedded.pkcs7_content
    try:
        length = asn1_parser.peek(contents)
    except (ValueError, TypeError):
        return False
    return not contents[length:].strip(b"\x00")


def _plain(embedded: EmbeddedPdfSignature, attribute: str) -> str | None:
    try:
        return _text(embedded.sig_object.get(attribute))
    except Exception:  # a hostile signature dictionary: nothing to show
        return None


def verify_pdf(
    pdf: bytes, trusted_ca_pem: bytes, *, expected_signers: int | None = None
) -> Verification:
    """Check every signature of ``pdf`` against the certificate authority (or authorities) in
    ``trusted_ca_pem``, with pyHanko's validation (difference analysis included) and no network
    and no revocation data, and report it in plain values; ``expected_signers``, when given,
    is how many signatures the file should have.

    Never raises for the file: an unreadable or hostile PDF gives ``valid=False`` with the
    reason among the problems. Raises ValidationError only if ``trusted_ca_pem`` holds no PEM
    certificate (the deployment's configuration, not the file, is wrong).
    """
    roots = _trust_roots(trusted_ca_pem)
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=True)
        total_revisions = reader.xrefs.total_revisions
    except Exception as error:  # whatever the bytes, answer in words
        return Verification([], False, [f"the file is not a readable PDF: {_say(error)}"])
    try:
        embedded = reader.embedded_regular_signatures
    except Exception as error:  # a signature field or value that is not one
        return Verification([], False, [f"the file's signatures cannot be read: {_say(error)}"])

    checked = [_validate(e, roots) for e in embedded]
    signed_revisions = {c.embedded.signed_revision for c in checked}
    checks: list[SignatureCheck] = []
    problems: list[str] = []
    for index, item in enumerate(checked):
        later_fields = {str(c.embedded.field_name) for c in checked[index + 1 :]}
        unsigned_later = any(
            revision not in signed_revisions
            for revision in range(item.embedded.signed_revision + 1, total_revisions)
        )
        checks.append(_check(item, later_fields, unsigned_later))

    for number, (item, check) in enumerate(zip(checked, checks, strict=True), start=1):
        who = check.claimed_name or check.signer
        label = (
            f"signature {number} by {who}"
            if who == check.signer
            else f"signature {number} for {who} (certificate {check.signer})"
        )
        if item.status is None:
            problems.append(f"{label} could not be checked: {item.error}")
            continue
        if not (item.status.intact and item.status.valid):
            problems.append(f"{label} is not intact: the bytes it signed were changed")
        elif not check.intact:
            problems.append(f"{label} is not intact: its signature holds bytes it did not sign")
        elif not check.trusted:
            problems.append(f"{label} {_trust_problem(item.status)}")
        if item.status.coverage is not None and (
            item.status.coverage < SignatureCoverageLevel.ENTIRE_REVISION
        ):
            problems.append(f"{label} does not cover the whole of its revision")
        last = number == len(checks)
        if check.modified_after and not last and not checks[number].modified_after:
            problems.append(f"the document was changed after {label}, not only signed again")
    last_checked = bool(checked) and checked[-1].status is not None
    if last_checked and (not checks[-1].covers_whole_file or checks[-1].modified_after):
        problems.append("the file was changed after the last signature")
    if not checks:
        problems.append("the file has no signature")
    elif expected_signers is not None and len(checks) < expected_signers:
        problems.append(f"the file has {len(checks)} of {expected_signers} expected signatures")

    valid = (
        bool(checks)
        and not problems
        and all(c.intact and c.trusted and not c.modified_after for c in checks)
        and checks[-1].covers_whole_file
    )
    return Verification(checks, valid, problems)


def _check(item: _Checked, later_fields: set[str], unsigned_later: bool) -> SignatureCheck:
    embedded, status = item.embedded, item.status
    common = {
        "field": str(embedded.field_name),
        "signer": _common_name(embedded),
        "claimed_name": _plain(embedded, "/Name"),
        "reason": _plain(embedded, "/Reason"),
    }
    if status is None:
        return SignatureCheck(
            **common,
            signed_at=None,
            intact=False,
            trusted=False,
            covers_whole_file=False,
            modified_after=True,
        )
    return SignatureCheck(
        **common,
        signed_at=_utc(status.signer_reported_dt),
        intact=status.intact and status.valid and _padding_is_clean(embedded),
        # the chain alone, so that a changed byte does not read as a foreign certificate
        trusted=status.valid
        and status.validation_path is not None
        and status.trust_problem_indic is None,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modified_after=unsigned_later or _changes_content(status, later_fields),
    )


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files a PDF carries (its EmbeddedFiles name tree, first level), by name; {} for a
    file without any or one that cannot be read. Raises nothing."""

    def deref(obj):
        return obj.get_object() if hasattr(obj, "get_object") else obj

    try:
        root = PdfFileReader(BytesIO(pdf), strict=False).root
        if "/Names" not in root or "/EmbeddedFiles" not in deref(root["/Names"]):
            return {}
        tree = deref(deref(root["/Names"])["/EmbeddedFiles"])
        entries = [deref(e) for e in deref(tree.get("/Names", []))]
        out: dict[str, bytes] = {}
        for name, spec in zip(entries[::2], entries[1::2], strict=False):
            stream = deref(deref(spec["/EF"])["/F"])
            out[str(name)] = stream.data
        return out
    except Exception:  # noqa: BLE001 - a hostile file is a verdict, never a crash
        return {}
