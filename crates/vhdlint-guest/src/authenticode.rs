//! Who signed a PE image (an EFI loader, a Linux kernel's EFI stub): its Authenticode
//! signatures, read from the certificate table the PE optional header's data directory
//! entry 4 points to (a file offset, not an RVA) and parsed as PKCS#7 SignedData.
//!
//! The table is a run of `WIN_CERTIFICATE` entries (PE/COFF specification, "The Attribute
//! Certificate Table"): `dwLength` (u32, the entry with its 8-byte header), `wRevision` (u16,
//! 0x0200), `wCertificateType` (u16, 0x0002 = `WIN_CERT_TYPE_PKCS_SIGNED_DATA`), then the
//! DER of a PKCS#7 ContentInfo; each entry starts 8-byte aligned. Each signature's signer
//! (the certificate its SignerInfo names by issuer and serial number, or by subject key
//! identifier) is reported with its subject and issuer, and signatures nested in a
//! signature's unsigned attributes (Microsoft's 1.3.6.1.4.1.311.2.4.1) are read too.
//!
//! The DER is parsed by RustCrypto's `cms` and `x509-cert` crates. Nothing is verified: not
//! the signature over the image's digest, not the chain to a root. This tells who signed an
//! image, not whether a firmware's `db` trusts that signer.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use serde::Serialize;
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::exe::{pe_header, ExeError};
use crate::limits::{
    MAX_AUTHENTICODE_ENTRIES, MAX_AUTHENTICODE_NESTING, MAX_AUTHENTICODE_SIGNATURES,
    MAX_PE_CERT_TABLE_BYTES, MAX_PE_HEADER_BYTES,
};

/// `wRevision` of the entries Windows and UEFI firmware read (`WIN_CERT_REVISION_2_0`).
pub const WIN_CERT_REVISION_2_0: u16 = 0x0200;
/// `wCertificateType` of an Authenticode signature (`WIN_CERT_TYPE_PKCS_SIGNED_DATA`).
pub const WIN_CERT_TYPE_PKCS_SIGNED_DATA: u16 = 0x0002;
/// PKCS#7 signedData (RFC 5652 `id-signedData`).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// Authenticode's content type, `SpcIndirectDataContent` (the image's digest).
pub const SPC_INDIRECT_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.4");
/// The unsigned attribute that holds a further, nested signature (`szOID_NESTED_SIGNATURE`).
pub const NESTED_SIGNATURE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.4.1");
/// X.509 subjectKeyIdentifier extension.
const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// Where a PE's certificate table is, from data directory entry 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CertTable {
    /// File offset of the table.
    pub offset: u64,
    /// Its size in bytes.
    pub size: u32,
}

impl CertTable {
    /// The file offset just past the table.
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.size)
    }
}

/// A distinguished name as its attributes, in the order the certificate lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistinguishedName {
    /// (short name such as `CN`, `O`, `C` — or the dotted OID of an other attribute, value).
    pub attributes: Vec<(String, String)>,
}

impl DistinguishedName {
    /// The value of the first attribute called `key` (`CN`, `O`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The common name, else the whole name: what a person reads as "who".
    pub fn short(&self) -> String {
        match self.get("CN") {
            Some(cn) => cn.to_string(),
            None => self.to_string(),
        }
    }
}

impl std::fmt::Display for DistinguishedName {
    /// `CN=…, O=…, C=…`: most specific first, as RFC 4514 writes names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.attributes.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

/// One Authenticode signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// File offset of the `WIN_CERTIFICATE` entry that holds it (or holds the signature it is
    /// nested in).
    pub entry_at: u64,
    /// 0 for an entry's own signature, 1 for a signature nested in it, and so on.
    pub nesting: usize,
    /// The signed content's type, dotted.
    pub content_type: String,
    /// Whether that is `SpcIndirectDataContent`, as an Authenticode signature's must be.
    pub spc_indirect_data: bool,
    /// The digest algorithm the signer used (`sha256`, or the dotted OID).
    pub digest: String,
    /// The signer's certificate: its subject.
    pub subject: DistinguishedName,
    /// The signer's certificate: its issuer.
    pub issuer: DistinguishedName,
}

/// What was read of a PE's signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authenticode {
    /// The certificate table, `None` when data directory entry 4 is empty (an unsigned image).
    pub table: Option<CertTable>,
    /// Every signature, entries in file order, each followed by those nested in it.
    pub signatures: Vec<Signature>,
}

/// Why the signatures could not be read. Offsets are file offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticodeError {
    #[error(transparent)]
    NotPe(#[from] ExeError),
    #[error("the PE headers run past byte {read} (the {what} at {at:#x})")]
    HeadersTruncated {
        what: &'static str,
        at: usize,
        read: usize,
    },
    #[error(
        "unknown PE optional header magic {magic:#06x} at {at:#x} (PE32 is 0x10b, PE32+ 0x20b)"
    )]
    OptionalHeaderMagic { magic: u16, at: usize },
    #[error("the certificate table at {offset:#x} is {size} bytes, more than MAX_PE_CERT_TABLE_BYTES ({MAX_PE_CERT_TABLE_BYTES})")]
    TableTooLarge { offset: u64, size: u32 },
    #[error("the certificate table at {offset:#x} ({size} bytes) runs past the end of the file ({file_len} bytes)")]
    TableOutsideFile {
        offset: u64,
        size: u32,
        file_len: u64,
    },
    #[error("WIN_CERTIFICATE at {at:#x}: {remaining} bytes left in the table, less than its 8-byte header")]
    EntryTruncated { at: u64, remaining: usize },
    #[error("WIN_CERTIFICATE at {at:#x}: dwLength {length} does not fit the {remaining} bytes left in the table")]
    EntryLength {
        at: u64,
        length: u32,
        remaining: usize,
    },
    #[error("WIN_CERTIFICATE at {at:#x}: wRevision {revision:#06x}, not 0x0200")]
    Revision { at: u64, revision: u16 },
    #[error("WIN_CERTIFICATE at {at:#x}: wCertificateType {cert_type:#06x}, not 0x0002 (PKCS_SIGNED_DATA)")]
    CertType { at: u64, cert_type: u16 },
    #[error("the certificate table has more than MAX_AUTHENTICODE_ENTRIES ({MAX_AUTHENTICODE_ENTRIES}) entries")]
    TooManyEntries,
    #[error("more than MAX_AUTHENTICODE_SIGNATURES ({MAX_AUTHENTICODE_SIGNATURES}) signatures, or nested more than MAX_AUTHENTICODE_NESTING ({MAX_AUTHENTICODE_NESTING}) deep, in the entry at {at:#x}")]
    TooManySignatures { at: u64 },
    #[error("WIN_CERTIFICATE at {at:#x}: {what}: {detail}")]
    Der {
        at: u64,
        what: &'static str,
        detail: String,
    },
    #[error("WIN_CERTIFICATE at {at:#x}: a ContentInfo of type {content_type}, not signedData")]
    NotSignedData { at: u64, content_type: String },
    #[error("WIN_CERTIFICATE at {at:#x}: the SignedData has no SignerInfo")]
    NoSigner { at: u64 },
    #[error("WIN_CERTIFICATE at {at:#x}: the signer's certificate ({signer}) is not among the signature's certificates")]
    SignerCertificateMissing { at: u64, signer: String },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Data directory entry 4 of a PE, from its first bytes (at least up to the end of the
/// optional header's data directories): `None` when the entry is empty or absent.
pub fn certificate_table(headers: &[u8]) -> Result<Option<CertTable>, AuthenticodeError> {
    let pe = pe_header(headers)?;
    let truncated = |what, at| AuthenticodeError::HeadersTruncated {
        what,
        at,
        read: headers.len(),
    };
    // COFF header: SizeOfOptionalHeader at +16 (after the 4-byte signature: +20).
    let coff = pe.signature_at + 4;
    let opt_size = u16_at(headers, coff + 16).ok_or(truncated("COFF header", coff))? as usize;
    let opt = coff + 20;
    let magic = u16_at(headers, opt).ok_or(truncated("optional header", opt))?;
    // NumberOfRvaAndSizes and the directories, by optional header kind.
    let (count_at, dirs) = match magic {
        0x10b => (92, 96),
        0x20b => (108, 112),
        _ => return Err(AuthenticodeError::OptionalHeaderMagic { magic, at: opt }),
    };
    let count = u32_at(headers, opt + count_at).ok_or(truncated("NumberOfRvaAndSizes", opt))?;
    let entry = dirs + 4 * 8;
    if count <= 4 || opt_size < entry + 8 {
        return Ok(None);
    }
    let at = opt + entry;
    let offset = u32_at(headers, at).ok_or(truncated("data directory entry 4", at))?;
    let size = u32_at(headers, at + 4).ok_or(truncated("data directory entry 4", at))?;
    if offset == 0 || size == 0 {
        return Ok(None);
    }
    let table = CertTable {
        offset: u64::from(offset),
        size,
    };
    if size as usize > MAX_PE_CERT_TABLE_BYTES {
        return Err(AuthenticodeError::TableTooLarge {
            offset: table.offset,
            size,
        });
    }
    Ok(Some(table))
}

/// The signatures of a whole PE file.
pub fn read(file: &[u8]) -> Result<Authenticode, AuthenticodeError> {
    let headers = &file[..file.len().min(MAX_PE_HEADER_BYTES)];
    let Some(table) = certificate_table(headers)? else {
        return Ok(Authenticode {
            table: None,
            signatures: Vec::new(),
        });
    };
    let bytes = usize::try_from(table.offset)
        .ok()
        .zip(usize::try_from(table.end()).ok())
        .and_then(|(a, b)| file.get(a..b))
        .ok_or(AuthenticodeError::TableOutsideFile {
            offset: table.offset,
            size: table.size,
            file_len: file.len() as u64,
        })?;
    Ok(Authenticode {
        table: Some(table),
        signatures: parse_table(bytes, table.offset)?,
    })
}

/// The signatures of a certificate table (`table`, read from file offset `at`).
pub fn parse_table(table: &[u8], at: u64) -> Result<Vec<Signature>, AuthenticodeError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut entries = 0usize;
    while pos < table.len() {
        let here = at + pos as u64;
        let rest = &table[pos..];
        if rest.len() < 8 {
            // Zeros left after the last entry's alignment are padding.
            if rest.iter().all(|b| *b == 0) {
                break;
            }
            return Err(AuthenticodeError::EntryTruncated {
                at: here,
                remaining: rest.len(),
            });
        }
        entries += 1;
        if entries > MAX_AUTHENTICODE_ENTRIES {
            return Err(AuthenticodeError::TooManyEntries);
        }
        let length = u32_at(rest, 0).unwrap_or(0);
        let revision = u16_at(rest, 4).unwrap_or(0);
        let cert_type = u16_at(rest, 6).unwrap_or(0);
        if length < 8 || length as usize > rest.len() {
            return Err(AuthenticodeError::EntryLength {
                at: here,
                length,
                remaining: rest.len(),
            });
        }
        if revision != WIN_CERT_REVISION_2_0 {
            return Err(AuthenticodeError::Revision { at: here, revision });
        }
        if cert_type != WIN_CERT_TYPE_PKCS_SIGNED_DATA {
            return Err(AuthenticodeError::CertType {
                at: here,
                cert_type,
            });
        }
        let body = &rest[8..length as usize];
        let ci = content_info(body, here)?;
        signed_data(&ci, here, 0, &mut out)?;
        // The next entry starts at the next multiple of 8 (relative to the table, which
        // itself is 8-aligned in any file a signing tool writes).
        pos += (length as usize).div_ceil(8) * 8;
    }
    Ok(out)
}

fn der_error(at: u64, what: &'static str) -> impl Fn(der::Error) -> AuthenticodeError {
    move |e| AuthenticodeError::Der {
        at,
        what,
        detail: format!("{e} (the DER starts at file offset {:#x})", at + 8),
    }
}

/// The ContentInfo at the start of an entry's body; what follows it must be zero padding.
fn content_info(body: &[u8], at: u64) -> Result<ContentInfo, AuthenticodeError> {
    let err = der_error(at, "the PKCS#7 ContentInfo");
    let mut r = SliceReader::new(body).map_err(&err)?;
    let ci = ContentInfo::decode(&mut r).map_err(&err)?;
    let left = r.remaining_len();
    let tail = r.read_slice(left).map_err(&err)?;
    if let Some(i) = tail.iter().position(|b| *b != 0) {
        return Err(AuthenticodeError::Der {
            at,
            what: "the PKCS#7 ContentInfo",
            detail: format!(
                "{} bytes after it, not zero padding (a non-zero byte {} bytes after its end)",
                tail.len(),
                i
            ),
        });
    }
    Ok(ci)
}

/// Reads the SignedData of `ci` into `out`, then the signatures nested in its signers'
/// unsigned attributes.
fn signed_data(
    ci: &ContentInfo,
    at: u64,
    nesting: usize,
    out: &mut Vec<Signature>,
) -> Result<(), AuthenticodeError> {
    if nesting > MAX_AUTHENTICODE_NESTING || out.len() >= MAX_AUTHENTICODE_SIGNATURES {
        return Err(AuthenticodeError::TooManySignatures { at });
    }
    if ci.content_type != ID_SIGNED_DATA {
        return Err(AuthenticodeError::NotSignedData {
            at,
            content_type: ci.content_type.to_string(),
        });
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(der_error(at, "the PKCS#7 SignedData"))?;
    let content_type = sd.encap_content_info.econtent_type;
    let certs: Vec<&Certificate> = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    if sd.signer_infos.0.is_empty() {
        return Err(AuthenticodeError::NoSigner { at });
    }
    for si in sd.signer_infos.0.iter() {
        if out.len() >= MAX_AUTHENTICODE_SIGNATURES {
            return Err(AuthenticodeError::TooManySignatures { at });
        }
        let cert = signer_certificate(si, &certs).ok_or_else(|| {
            AuthenticodeError::SignerCertificateMissing {
                at,
                signer: describe_sid(&si.sid),
            }
        })?;
        out.push(Signature {
            entry_at: at,
            nesting,
            content_type: content_type.to_string(),
            spc_indirect_data: content_type == SPC_INDIRECT_DATA,
            digest: digest_name(&si.digest_alg.oid),
            subject: name(&cert.tbs_certificate.subject),
            issuer: name(&cert.tbs_certificate.issuer),
        });
        for attr in si.unsigned_attrs.iter().flat_map(|a| a.iter()) {
            if attr.oid != NESTED_SIGNATURE {
                continue;
            }
            for v in attr.values.iter() {
                let nested: ContentInfo = v
                    .decode_as()
                    .map_err(der_error(at, "a nested signature's ContentInfo"))?;
                signed_data(&nested, at, nesting + 1, out)?;
            }
        }
    }
    Ok(())
}

/// The certificate a SignerInfo names.
fn signer_certificate<'a>(si: &SignerInfo, certs: &[&'a Certificate]) -> Option<&'a Certificate> {
    certs.iter().copied().find(|c| match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(i) => {
            c.tbs_certificate.issuer == i.issuer
                && c.tbs_certificate.serial_number == i.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == SUBJECT_KEY_IDENTIFIER)
            .any(|e| {
                OctetString::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|k| k.as_bytes() == ski.0.as_bytes())
            }),
    })
}

fn describe_sid(sid: &SignerIdentifier) -> String {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(i) => {
            format!("issuer {}, serial {}", name(&i.issuer), i.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(k) => {
            let hex: String = k.0.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            format!("subject key identifier {hex}")
        }
    }
}

fn digest_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => "sha256".into(),
        "2.16.840.1.101.3.4.2.2" => "sha384".into(),
        "2.16.840.1.101.3.4.2.3" => "sha512".into(),
        "1.3.14.3.2.26" => "sha1".into(),
        "1.2.840.113549.2.5" => "md5".into(),
        other => other.into(),
    }
}

/// The short name of a name attribute's type (the dotted OID for the unusual ones).
fn attribute_key(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.5.4.3" => "CN".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.6" => "C".into(),
        "2.5.4.8" => "ST".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.5" => "serialNumber".into(),
        "1.2.840.113549.1.9.1" => "emailAddress".into(),
        "0.9.2342.19200300.100.1.25" => "DC".into(),
        other => other.into(),
    }
}

/// A name attribute's value as text: the string types decoded, anything else as hex.
fn attribute_value(v: &der::Any) -> String {
    let b = v.value();
    match v.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            String::from_utf8_lossy(b).into_owned()
        }
        // T.61 in name, Latin-1 in practice.
        Tag::TeletexString => b.iter().map(|c| char::from(*c)).collect(),
        Tag::BmpString => {
            let units: Vec<u16> = b
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => {
            let hex: String = b.iter().map(|c| format!("{c:02x}")).collect();
            format!("#{hex}")
        }
    }
}

fn name(n: &Name) -> DistinguishedName {
    DistinguishedName {
        attributes: n
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .map(|atv| (attribute_key(&atv.oid), attribute_value(&atv.value)))
            .collect(),
    }
}

/// Signed PE images built from these types, for tests and fuzz seeds.
#[doc(hidden)]
#[path = "authenticode_sample.rs"]
pub mod sample;

#[cfg(test)]
#[path = "authenticode_tests.rs"]
mod tests;
