//! Small PE images carrying an Authenticode-shaped signature, built from the `cms` and
//! `x509-cert` types (DER encoded by the `der` crate, not by hand), for tests and fuzz seeds.
//! The certificate's and the signature's bytes are placeholders: nothing here can be
//! verified, and [`super::read`] verifies nothing either.

use std::str::FromStr;
use std::time::Duration;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::{ID_SIGNED_DATA, SPC_INDIRECT_DATA, WIN_CERT_REVISION_2_0};

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// A certificate for `subject` issued by `issuer` (RFC 4514 strings: `CN=…,O=…`).
pub fn certificate(subject: &str, issuer: &str, serial: &[u8]) -> Certificate {
    let time =
        |secs| Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).unwrap());
    Certificate {
        tbs_certificate: TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(serial).unwrap(),
            signature: alg(SHA256_RSA),
            issuer: Name::from_str(issuer).unwrap(),
            validity: Validity {
                not_before: time(1_600_000_000),
                not_after: time(1_900_000_000),
            },
            subject: Name::from_str(subject).unwrap(),
            subject_public_key_info: SubjectPublicKeyInfoOwned {
                algorithm: alg(RSA),
                subject_public_key: BitString::from_bytes(&[0x30, 0x00]).unwrap(),
            },
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: None,
        },
        signature_algorithm: alg(SHA256_RSA),
        signature: BitString::from_bytes(&[0u8; 16]).unwrap(),
    }
}

/// The DER of a PKCS#7 ContentInfo holding a SignedData of `content_type`, signed by
/// `subject` (a certificate issued by `issuer`), the signer's CA certificate beside it, and
/// `nested` ContentInfos in the signer's unsigned attributes.
pub fn pkcs7(
    subject: &str,
    issuer: &str,
    content_type: ObjectIdentifier,
    nested: &[Vec<u8>],
) -> Vec<u8> {
    let signer = certificate(subject, issuer, &[0x33, 0x01]);
    let ca = certificate(issuer, "CN=Sample Root", &[0x61, 0x02]);
    let mut certs = SetOfVec::new();
    certs.insert(CertificateChoices::Certificate(ca)).unwrap();
    certs
        .insert(CertificateChoices::Certificate(signer.clone()))
        .unwrap();
    let unsigned_attrs = if nested.is_empty() {
        None
    } else {
        let mut values = SetOfVec::new();
        for n in nested {
            values.insert(Any::from_der(n).unwrap()).unwrap();
        }
        let mut attrs = SetOfVec::new();
        attrs
            .insert(x509_cert::attr::Attribute {
                oid: super::NESTED_SIGNATURE,
                values,
            })
            .unwrap();
        Some(attrs)
    };
    let mut signer_infos = SetOfVec::new();
    signer_infos
        .insert(SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: signer.tbs_certificate.issuer.clone(),
                serial_number: signer.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: alg(SHA256),
            signed_attrs: None,
            signature_algorithm: alg(RSA),
            signature: OctetString::new(vec![0u8; 16]).unwrap(),
            unsigned_attrs,
        })
        .unwrap();
    let mut digests = SetOfVec::new();
    digests.insert(alg(SHA256)).unwrap();
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: Some(Any::encode_from(&OctetString::new(vec![0u8; 32]).unwrap()).unwrap()),
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// A `WIN_CERTIFICATE` entry of type PKCS_SIGNED_DATA holding `der`, padded to 8 bytes.
pub fn entry(der: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&(8 + der.len() as u32).to_le_bytes());
    e.extend_from_slice(&WIN_CERT_REVISION_2_0.to_le_bytes());
    e.extend_from_slice(&super::WIN_CERT_TYPE_PKCS_SIGNED_DATA.to_le_bytes());
    e.extend_from_slice(der);
    e.resize(e.len().div_ceil(8) * 8, 0);
    e
}

/// A PE32+ image (headers only, no sections) whose certificate table is `table` (none when
/// empty), placed at 0x200.
pub fn pe(table: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 0x200];
    b[..2].copy_from_slice(b"MZ");
    b[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b[0x80..0x84].copy_from_slice(b"PE\0\0");
    b[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
    // SizeOfOptionalHeader: PE32+ with 16 data directories.
    b[0x94..0x96].copy_from_slice(&240u16.to_le_bytes());
    let opt = 0x98;
    b[opt..opt + 2].copy_from_slice(&0x20Bu16.to_le_bytes());
    b[opt + 108..opt + 112].copy_from_slice(&16u32.to_le_bytes());
    if !table.is_empty() {
        let dir = opt + 112 + 4 * 8;
        b[dir..dir + 4].copy_from_slice(&0x200u32.to_le_bytes());
        b[dir + 4..dir + 8].copy_from_slice(&(table.len() as u32).to_le_bytes());
        b.extend_from_slice(table);
    }
    b
}

/// A PE signed once by `subject`, issued by `issuer`, as Authenticode signs.
pub fn signed_pe(subject: &str, issuer: &str) -> Vec<u8> {
    pe(&entry(&pkcs7(subject, issuer, SPC_INDIRECT_DATA, &[])))
}
