use super::sample::{entry, pe, pkcs7, signed_pe};
use super::*;

const SIGNER: &str = "CN=Debian Secure Boot Signer 2022 - grub2";
const CA: &str = "CN=Debian Secure Boot CA,O=Debian";

#[test]
fn the_signer_is_the_certificate_its_signer_info_names() {
    let a = read(&signed_pe(SIGNER, CA)).unwrap();
    assert_eq!(a.table.unwrap().offset, 0x200);
    assert_eq!(a.signatures.len(), 1);
    let s = &a.signatures[0];
    // Not the CA certificate beside it.
    assert_eq!(s.subject.short(), "Debian Secure Boot Signer 2022 - grub2");
    assert_eq!(s.issuer.get("CN"), Some("Debian Secure Boot CA"));
    assert_eq!(s.issuer.get("O"), Some("Debian"));
    assert_eq!(s.issuer.to_string(), "CN=Debian Secure Boot CA, O=Debian");
    assert!(s.spc_indirect_data);
    assert_eq!(s.digest, "sha256");
    assert_eq!((s.entry_at, s.nesting), (0x200, 0));
}

#[test]
fn an_empty_data_directory_entry_is_unsigned() {
    let a = read(&pe(&[])).unwrap();
    assert_eq!(a.table, None);
    assert!(a.signatures.is_empty());
    // A PE32 whose NumberOfRvaAndSizes stops before entry 4.
    let mut b = pe(&[]);
    b[0x98..0x9A].copy_from_slice(&0x10Bu16.to_le_bytes());
    b[0x98 + 92..0x98 + 96].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(read(&b).unwrap().table, None);
}

#[test]
fn two_entries_and_a_nested_signature_are_all_read() {
    let inner = pkcs7("CN=Inner", "CN=Inner CA", SPC_INDIRECT_DATA, &[]);
    let outer = pkcs7("CN=Outer", "CN=Outer CA", SPC_INDIRECT_DATA, &[inner]);
    let mut table = entry(&outer);
    table.extend(entry(&pkcs7(
        "CN=Second",
        "CN=Second CA",
        SPC_INDIRECT_DATA,
        &[],
    )));
    let a = read(&pe(&table)).unwrap();
    let got: Vec<_> = a
        .signatures
        .iter()
        .map(|s| (s.subject.short(), s.nesting, s.entry_at))
        .collect();
    let second = 0x200 + entry(&outer).len() as u64;
    assert_eq!(
        got,
        [
            ("Outer".to_string(), 0, 0x200),
            ("Inner".to_string(), 1, 0x200),
            ("Second".to_string(), 0, second)
        ]
    );
}

#[test]
fn nesting_is_bounded() {
    let mut der = pkcs7("CN=0", "CN=CA", SPC_INDIRECT_DATA, &[]);
    for i in 1..=MAX_AUTHENTICODE_NESTING + 1 {
        der = pkcs7(&format!("CN={i}"), "CN=CA", SPC_INDIRECT_DATA, &[der]);
    }
    assert_eq!(
        read(&pe(&entry(&der))),
        Err(AuthenticodeError::TooManySignatures { at: 0x200 })
    );
}

#[test]
fn another_content_type_is_reported_as_not_authenticode() {
    let data = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    let a = read(&pe(&entry(&pkcs7(SIGNER, CA, data, &[])))).unwrap();
    assert!(!a.signatures[0].spc_indirect_data);
    assert_eq!(a.signatures[0].content_type, "1.2.840.113549.1.7.1");
}

#[test]
fn hostile_tables_are_refused_with_where() {
    let good = entry(&pkcs7(SIGNER, CA, SPC_INDIRECT_DATA, &[]));
    // A table that runs past the end of the file.
    let mut b = pe(&good);
    b.truncate(b.len() - 9);
    assert!(matches!(
        read(&b),
        Err(AuthenticodeError::TableOutsideFile { offset: 0x200, .. })
    ));
    // dwLength past the table, and a huge one.
    for len in [good.len() as u32 + 8, u32::MAX] {
        let mut t = good.clone();
        t[..4].copy_from_slice(&len.to_le_bytes());
        assert!(matches!(
            read(&pe(&t)),
            Err(AuthenticodeError::EntryLength { at: 0x200, length, .. }) if length == len
        ));
    }
    // dwLength below its own header.
    let mut t = good.clone();
    t[..4].copy_from_slice(&4u32.to_le_bytes());
    assert!(matches!(
        read(&pe(&t)),
        Err(AuthenticodeError::EntryLength { .. })
    ));
    // A table cut inside the header of its second entry.
    let mut t = good.clone();
    t.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(
        read(&pe(&t)),
        Err(AuthenticodeError::EntryTruncated {
            at: 0x200 + good.len() as u64,
            remaining: 4
        })
    );
    // Wrong revision and type.
    let mut t = good.clone();
    t[4..6].copy_from_slice(&0x0100u16.to_le_bytes());
    assert_eq!(
        read(&pe(&t)),
        Err(AuthenticodeError::Revision {
            at: 0x200,
            revision: 0x100
        })
    );
    let mut t = good.clone();
    t[6..8].copy_from_slice(&0x0EF1u16.to_le_bytes());
    assert_eq!(
        read(&pe(&t)),
        Err(AuthenticodeError::CertType {
            at: 0x200,
            cert_type: 0xEF1
        })
    );
    // Garbage DER, a truncated ContentInfo, and data after it that is not padding.
    let e = read(&pe(&entry(b"\x30\x82\xff\xff garbage"))).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("WIN_CERTIFICATE at 0x200: the PKCS#7 ContentInfo: "),
        "{e}"
    );
    let der = pkcs7(SIGNER, CA, SPC_INDIRECT_DATA, &[]);
    assert!(matches!(
        read(&pe(&entry(&der[..der.len() - 10]))),
        Err(AuthenticodeError::Der { at: 0x200, .. })
    ));
    let mut d = der.clone();
    d.extend_from_slice(&[0, 0, 7]);
    let e = read(&pe(&entry(&d))).unwrap_err();
    assert!(e.to_string().contains("not zero padding"), "{e}");
    // A table larger than the bound is not read at all.
    let mut b = pe(&good);
    b[0x98 + 112 + 36..0x98 + 112 + 40]
        .copy_from_slice(&(MAX_PE_CERT_TABLE_BYTES as u32 + 1).to_le_bytes());
    assert!(matches!(
        read(&b),
        Err(AuthenticodeError::TableTooLarge { .. })
    ));
    // Headers cut before the optional header.
    assert!(matches!(
        certificate_table(&signed_pe(SIGNER, CA)[..0x9A]),
        Err(AuthenticodeError::HeadersTruncated { .. })
    ));
    assert!(matches!(read(b"MZ"), Err(AuthenticodeError::NotPe(_))));
}

#[test]
fn a_signer_missing_from_the_certificates_is_named() {
    // Another signer's certificates with this SignerInfo: replace the serial of the signer's
    // certificate so the SignerInfo matches none.
    let der = pkcs7(SIGNER, CA, SPC_INDIRECT_DATA, &[]);
    let mut d = der.clone();
    // The signer certificate's serial 0x3301 appears first in the certificate, then in the
    // SignerInfo; change the first.
    let i = d
        .windows(4)
        .position(|w| w == [0x02, 0x02, 0x33, 0x01])
        .unwrap();
    d[i + 3] = 0x02;
    let e = read(&pe(&entry(&d))).unwrap_err();
    assert!(
        matches!(
            e,
            AuthenticodeError::SignerCertificateMissing { at: 0x200, .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("serial 33:01"), "{e}");
}

proptest::proptest! {
    #[test]
    fn any_bytes_in_the_table_never_panic(table in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = read(&pe(&table));
        let mut t = entry(&pkcs7(SIGNER, CA, SPC_INDIRECT_DATA, &[]));
        let n = t.len();
        for (i, b) in table.iter().enumerate() {
            t[8 + (i * 7919) % (n - 8)] ^= b;
        }
        let _ = read(&pe(&t));
    }
}
