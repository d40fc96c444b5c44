"""PAdES: two executives sign the PDF/A-3b of a specification one after the other; the file
verifies against the deployment's certificate authority, stays PDF/A, and every kind of
tampering is caught and named. Pure: no app, no database."""

from __future__ import annotations

import gc
import io
import random
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs12
from pypdf import PdfReader
from weasyprint import HTML

from planner.core.errors import Conflict, ValidationError
from planner.spec import pades
from tests.spec import tamper

# a title and a modification date, so that the information dictionary and the XMP both have
# entries that signing must keep in step
DOCUMENT = (
    "<title>Specification v3</title><meta name=dcterms.modified content=2025-03-01>"
    "<p>Specificație 技术规范 מפרט</p>"
)
WHEN = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
LATER = datetime(2025, 3, 14, 11, 0, 5, tzinfo=timezone(timedelta(hours=2)))


def _pdfa() -> bytes:
    # WeasyPrint 70 leaves its sRGB profile file open when it writes PDF/A: its
    # ResourceWarning is WeasyPrint's, not ours, and must not fail the suite.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string=DOCUMENT).write_pdf(pdf_variant="pdf/a-3b")
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def authority() -> pades.CertificateAuthority:
    return pades.make_certificate_authority("Acme CRM rollout")


@pytest.fixture(scope="module")
def wei(authority) -> pades.SigningIdentity:
    return pades.make_signing_identity(
        "Li Wei", organisation="Acme CRM rollout", authority=authority
    )


@pytest.fixture(scope="module")
def ioana(authority) -> pades.SigningIdentity:
    return pades.make_signing_identity(
        "Ioana Dumitrescu", organisation="Acme CRM rollout", authority=authority
    )


@pytest.fixture(scope="module")
def original() -> bytes:
    return _pdfa()


@pytest.fixture(scope="module")
def once(original, wei) -> bytes:
    return pades.sign_pdf(
        original,
        pades.load_signer(wei.p12, wei.passphrase),
        field_name="Signature1",
        signer_name="Li Wei",
        reason="Approves specification v3",
        location="Bucharest",
        when=WHEN,
    )


@pytest.fixture(scope="module")
def twice(once, ioana) -> bytes:
    return pades.sign_pdf(
        once,
        pades.load_signer(ioana.p12, ioana.passphrase),
        field_name="Signature2",
        signer_name="Ioana Dumitrescu",
        reason="Approves specification v3 for Finance",
        when=LATER,
    )


@pytest.fixture(scope="module")
def ca_pem(authority) -> bytes:
    return authority.cert_pem


# --- identities ------------------------------------------------------------------------------


def test_an_identity_is_a_signing_key_under_the_deployments_authority(wei, ca_pem):
    key, certificate, others = pkcs12.load_key_and_certificates(wei.p12, wei.passphrase)
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert key is not None and certificate is not None
    assert [o.subject for o in others] == [ca.subject]
    assert certificate.issuer == ca.subject
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.public_key().verify(  # the authority really issued it
        certificate.signature,
        certificate.tbs_certificate_bytes,
        padding.PKCS1v15(),
        certificate.signature_hash_algorithm,
    )
    assert wei.passphrase.decode() not in repr(wei) and len(wei.passphrase) >= 40
    signer = pades.load_signer(wei.p12, wei.passphrase)
    assert signer.signing_cert.subject.native["common_name"] == "Li Wei"


def test_a_standalone_identity_has_an_authority_of_its_own(wei):
    alone = pades.make_signing_identity("Planner deployment", valid_days=30)
    assert alone.ca_cert_pem != wei.ca_cert_pem
    certificate = pkcs12.load_key_and_certificates(alone.p12, alone.passphrase)[1]
    assert certificate.not_valid_after_utc - datetime.now(UTC) < timedelta(days=31)


@pytest.mark.parametrize(("name", "days"), [("", 10), ("  ", 10), ("x" * 65, 10), ("Li Wei", 0)])
def test_an_identity_needs_a_name_and_a_lifetime(name, days):
    with pytest.raises(ValidationError):
        pades.make_signing_identity(name, valid_days=days)


def test_load_signer_names_a_wrong_passphrase_and_what_is_not_pkcs12(wei):
    with pytest.raises(ValidationError, match="passphrase"):
        pades.load_signer(wei.p12, b"not the passphrase")
    for junk in (b"", b"hello", b"%PDF-1.7\n", wei.ca_cert_pem):
        with pytest.raises(ValidationError, match="not a PKCS#12"):
            pades.load_signer(junk, wei.passphrase)


# --- signing and verifying -------------------------------------------------------------------


def test_two_signatures_verify_against_the_deployments_authority(original, once, twice, ca_pem):
    assert once.startswith(original) and twice.startswith(once)

    result = pades.verify_pdf(twice, ca_pem, expected_signers=2)

    assert result.valid, result.problems
    assert result.problems == []
    first, second = result.signatures
    assert (first.field, first.signer, first.claimed_name) == ("Signature1", "Li Wei", "Li Wei")
    assert first.reason == "Approves specification v3"
    assert first.signed_at == WHEN
    assert (second.field, second.signer) == ("Signature2", "Ioana Dumitrescu")
    assert second.reason == "Approves specification v3 for Finance"
    assert second.signed_at == LATER.astimezone(UTC) and second.signed_at.tzinfo == UTC
    assert all(s.intact and s.trusted and not s.modified_after for s in result.signatures)
    assert (first.covers_whole_file, second.covers_whole_file) == (False, True)


def test_the_signing_time_defaults_to_now(original, wei, ca_pem):
    before = datetime.now(UTC).replace(microsecond=0)
    signed = pades.sign_pdf(
        original,
        pades.load_signer(wei.p12, wei.passphrase),
        field_name="Signature1",
        signer_name="Li Wei",
        reason="",
    )
    (check,) = pades.verify_pdf(signed, ca_pem).signatures
    assert before <= check.signed_at <= datetime.now(UTC)
    assert check.reason is None


def test_the_signed_file_stays_pdfa_3b(original, twice):
    reader = PdfReader(io.BytesIO(twice))
    xmp = reader.xmp_metadata
    assert (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("3", "B")
    # the information dictionary says what the XMP says (PDF/A 6.6.2.3)
    info = reader.trailer["/Info"].get_object()
    assert info["/Producer"] == xmp.pdf_producer
    assert info["/Title"] == xmp.dc_title["x-default"] == "Specification v3"
    assert "/ModDate" not in info and xmp.xmp_modify_date is not None
    before = PdfReader(io.BytesIO(original)).trailer["/Info"].get_object()
    assert "/ModDate" in before  # WeasyPrint wrote one, which XMP alone now carries
    # still PDF 1.7 (the version of PDF/A-3), with only PAdES' developer extension added
    root = reader.trailer["/Root"]
    assert twice.startswith(b"%PDF-1.7") and "/Version" not in root
    assert set(root["/Extensions"]) == {"/ESIC"}
    assert set(root) - set(PdfReader(io.BytesIO(original)).trailer["/Root"]) == {
        "/AcroForm",
        "/Extensions",
    }
    # invisible widgets: zero rectangle, printable, not hidden, no appearance to embed a font in
    for field in root["/AcroForm"]["/Fields"]:
        widget = field.get_object()
        assert [float(v) for v in widget["/Rect"]] == [0, 0, 0, 0]
        assert widget["/F"] & 4 and not widget["/F"] & (1 | 2 | 32)
        assert "/AP" not in widget


def test_a_field_signs_once_and_only_a_pdf_is_signed(once, original, wei):
    signer = pades.load_signer(wei.p12, wei.passphrase)
    kwargs = {"signer_name": "Li Wei", "reason": "again"}
    with pytest.raises(Conflict):
        pades.sign_pdf(once, signer, field_name="Signature1", **kwargs)
    for junk in (b"", b"not a pdf at all", original[: len(original) // 2]):
        with pytest.raises(ValidationError):
            pades.sign_pdf(junk, signer, field_name="Signature9", **kwargs)
    with pytest.raises(ValidationError):
        pades.sign_pdf(original, signer, field_name="a.b", **kwargs)
    with pytest.raises(ValidationError):
        pades.sign_pdf(original, signer, field_name="S", when=datetime(2025, 1, 1), **kwargs)


# --- tampering -------------------------------------------------------------------------------


def test_a_changed_byte_in_the_signed_content_is_named(twice, ca_pem):
    result = pades.verify_pdf(tamper.flip_in_page_content(twice), ca_pem)

    assert not result.valid
    assert [s.intact for s in result.signatures] == [False, False]
    assert [s.trusted for s in result.signatures] == [True, True]  # the certificates are fine
    assert "signature 2 by Ioana Dumitrescu is not intact: the bytes it signed were changed" in (
        result.problems
    )
    assert any(p.startswith("signature 1 by Li Wei is not intact") for p in result.problems)


def test_bytes_hidden_in_a_signatures_padding_are_named(twice, ca_pem):
    result = pades.verify_pdf(tamper.write_in_padding(twice), ca_pem)

    assert not result.valid
    assert result.problems == [
        "signature 2 by Ioana Dumitrescu is not intact: its signature holds bytes it did not sign"
    ]
    assert [s.intact for s in result.signatures] == [True, False]


def test_content_drawn_after_the_last_signature_is_named(twice, ca_pem):
    result = pades.verify_pdf(tamper.update(twice, tamper.draw_on_page), ca_pem, expected_signers=2)

    assert not result.valid
    assert result.problems == ["the file was changed after the last signature"]
    assert all(s.intact and s.trusted for s in result.signatures)
    assert all(s.modified_after and not s.covers_whole_file for s in result.signatures)


def test_metadata_changed_after_the_last_signature_is_named(twice, ca_pem):
    # pyHanko's difference analysis allows metadata updates (ModificationLevel.LTA_UPDATES);
    # a signed-off specification gets nothing but signatures, so this is a change too
    result = pades.verify_pdf(tamper.update(twice, tamper.retitle), ca_pem)

    assert not result.valid
    assert result.problems == ["the file was changed after the last signature"]


def test_content_changed_between_two_signatures_is_named(once, ioana, ca_pem):
    drawn = tamper.update(once, tamper.draw_on_page)
    signed = pades.sign_pdf(
        drawn,
        pades.load_signer(ioana.p12, ioana.passphrase),
        field_name="Signature2",
        signer_name="Ioana Dumitrescu",
        reason="Approves",
    )
    result = pades.verify_pdf(signed, ca_pem)

    assert not result.valid
    assert result.problems == [
        "the document was changed after signature 1 by Li Wei, not only signed again"
    ]
    assert [s.modified_after for s in result.signatures] == [True, False]


def test_a_stripped_signature_is_missed_when_two_are_expected(once, twice, ca_pem):
    # cut back to the first signed revision: a valid file, but one signature short
    cut = twice[: len(once)]
    assert pades.verify_pdf(cut, ca_pem).valid
    result = pades.verify_pdf(cut, ca_pem, expected_signers=2)
    assert not result.valid
    assert result.problems == ["the file has 1 of 2 expected signatures"]

    # or the second field taken out of the form by a later update
    result = pades.verify_pdf(
        tamper.update(twice, tamper.drop_field("Signature2")), ca_pem, expected_signers=2
    )
    assert not result.valid
    assert [s.field for s in result.signatures] == ["Signature1"]
    assert result.problems == [
        "the file was changed after the last signature",
        "the file has 1 of 2 expected signatures",
    ]


def test_a_signature_from_another_authority_is_not_trusted(once, ca_pem):
    stranger = pades.make_signing_identity("Mallory")
    signed = pades.sign_pdf(
        once,
        pades.load_signer(stranger.p12, stranger.passphrase),
        field_name="Signature2",
        signer_name="Ioana Dumitrescu",  # claims to be someone the deployment knows
        reason="Approves",
    )
    result = pades.verify_pdf(signed, ca_pem)

    assert not result.valid
    assert result.problems == [
        "signature 2 for Ioana Dumitrescu (certificate Mallory) is not from the deployment's "
        "certificate authority"
    ]
    second = result.signatures[1]
    assert (second.intact, second.trusted, second.claimed_name) == (
        True,
        False,
        "Ioana Dumitrescu",
    )
    # its own authority trusts it, and not the deployment's first signature
    other = pades.verify_pdf(signed, stranger.ca_cert_pem)
    assert [s.trusted for s in other.signatures] == [False, True]


# --- what is not a signed PDF ----------------------------------------------------------------


@pytest.mark.parametrize("junk", [b"", b"garbage \x00\xff" * 100, b"%PDF-1.7\n%%EOF\n"])
def test_junk_is_not_a_readable_pdf(junk, ca_pem):
    result = pades.verify_pdf(junk, ca_pem)

    assert (result.valid, result.signatures) == (False, [])
    assert len(result.problems) == 1
    assert result.problems[0].startswith("the file is not a readable PDF: ")


def test_an_unsigned_pdf_has_no_signature(original, ca_pem):
    result = pades.verify_pdf(original, ca_pem, expected_signers=2)

    assert not result.valid
    assert result.problems == ["the file has no signature"]


def test_damaged_signed_files_never_raise(twice, ca_pem):
    rng = random.Random(20250314)
    damaged = [twice[: len(twice) - 10], twice + b"\n", twice[:100] + twice[300:]]
    for _ in range(6):
        at = rng.randrange(len(twice))
        damaged.append(twice[:at] + bytes([twice[at] ^ 0xFF]) + twice[at + 1 :])
    for pdf in damaged:
        result = pades.verify_pdf(pdf, ca_pem, expected_signers=2)
        assert not result.valid and result.problems


def test_the_trust_root_must_be_a_certificate(twice):
    with pytest.raises(ValidationError):
        pades.verify_pdf(twice, b"not a certificate")
