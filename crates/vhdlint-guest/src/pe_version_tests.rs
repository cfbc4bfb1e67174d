use super::sample::*;
use super::*;
use proptest::prelude::*;

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn reads_the_fixed_versions_and_the_strings() {
    let v = version_info(&srv()).unwrap();
    let f = v.fixed.clone().unwrap();
    assert_eq!(f.file_version, FileVersion([6, 3, 9600, 18604]));
    assert_eq!(f.file_version.to_string(), "6.3.9600.18604");
    assert_eq!(f.product_version, FileVersion([6, 3, 9600, 18604]));
    assert_eq!(f.file_type, 3);
    assert_eq!(v.language, 0x409);
    assert_eq!(v.at, (RSRC_RAW + VERSION) as u64);
    assert_eq!(v.string_table.as_deref(), Some("040904b0"));
    assert_eq!(v.string("OriginalFilename"), Some("srv.sys"));
    assert_eq!(
        v.string("ProductName"),
        Some("Microsoft® Windows® Operating System")
    );
    assert_eq!(v.strings.len(), 4);
}

#[test]
fn the_resource_section_says_how_much_to_read() {
    let b = srv();
    let rs = resource_section(&b[..RSRC_RAW]).unwrap();
    assert_eq!(rs.directory_file_offset(), RSRC_RAW as u64);
    assert_eq!(rs.end(), b.len() as u64);
    // Bytes past the section are not needed; bytes short of it are reported.
    let mut longer = b.clone();
    longer.extend([0xCC; 1000]);
    assert_eq!(version_info(&longer), version_info(&b));
    match version_info(&b[..b.len() - 1]) {
        Err(VersionError::Truncated {
            structure: "resource section",
            offset,
            need,
            have,
        }) => {
            assert_eq!(offset, RSRC_RAW as u64);
            assert_eq!(need, have + 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_truncation_is_an_error() {
    let b = srv();
    for n in 0..b.len() {
        assert!(version_info(&b[..n]).is_err(), "{n} bytes");
    }
}

#[test]
fn a_file_without_resources_or_version_says_so() {
    let mut b = srv();
    put32(&mut b, 0x58 + 128, 0);
    assert_eq!(version_info(&b), Err(VersionError::NoResources));
    let mut b = srv();
    put32(&mut b, 0x58 + 108, 2); // data directory 2 not counted
    assert_eq!(version_info(&b), Err(VersionError::NoResources));
    let mut b = srv();
    put32(&mut b, RSRC_RAW + 16, 14); // RT_GROUP_ICON, not RT_VERSION
    assert_eq!(version_info(&b), Err(VersionError::NoVersionResource));
    let mut b = srv();
    put32(&mut b, 0x58 + 128, 0x9000);
    assert_eq!(
        version_info(&b),
        Err(VersionError::RvaOutsideSections { rva: 0x9000 })
    );
}

#[test]
fn a_loop_in_the_resource_directory_ends() {
    // The name table's entry points back at the root: the walk reads the root as the language
    // table, whose first entry is a table where the data entry belongs.
    let mut b = srv();
    put32(&mut b, RSRC_RAW + NAME_TABLE + 20, 0x8000_0000);
    let e = version_info(&b).unwrap_err();
    assert!(
        matches!(
            e,
            VersionError::Bad {
                structure: "RT_VERSION data entry",
                ..
            }
        ),
        "{e}"
    );
    // The root pointing at itself.
    let mut b = srv();
    put32(&mut b, RSRC_RAW + 20, 0x8000_0000);
    assert!(version_info(&b).is_err());
}

#[test]
fn offsets_beyond_the_file_are_errors_that_say_where() {
    let mut b = srv();
    put32(&mut b, RSRC_RAW + DATA_ENTRY, 0xFFFF_FFF0);
    let size = u32::from_le_bytes(b[RSRC_RAW + DATA_ENTRY + 4..][..4].try_into().unwrap());
    let e = version_info(&b).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "RT_VERSION data entry at offset {:#x}: data RVA 0xfffffff0 size {} lies beyond the resource section",
            RSRC_RAW + DATA_ENTRY,
            size
        )
    );
    let mut b = srv();
    put32(&mut b, RSRC_RAW + DATA_ENTRY, RSRC_RVA - 4);
    assert!(matches!(version_info(&b), Err(VersionError::Bad { .. })));
    let mut b = srv();
    put32(
        &mut b,
        RSRC_RAW + NAME_TABLE + 20,
        0x8000_0000 | 0x7FFF_FFF0,
    );
    assert!(matches!(version_info(&b), Err(VersionError::Bad { .. })));
    // The section's raw data beyond the file.
    let mut b = srv();
    put32(&mut b, 0x58 + 0xF0 + 20, 0xFFFF_0000);
    assert!(matches!(
        version_info(&b),
        Err(VersionError::Truncated { .. })
    ));
    // e_lfanew beyond the headers.
    let mut b = srv();
    put32(&mut b, 0x3C, u32::MAX);
    assert!(matches!(version_info(&b), Err(VersionError::Header(_))));
}

#[test]
fn huge_counts_are_bounded() {
    // A root claiming 65535 + 65535 entries: they do not fit in the section.
    let mut b = srv();
    b[RSRC_RAW + 12..RSRC_RAW + 16].copy_from_slice(&[0xFF; 4]);
    assert!(matches!(version_info(&b), Err(VersionError::Bad { .. })));
    // 5000 entries that fit: past MAX_PE_RESOURCE_ENTRIES.
    let vi = version_info_bytes([1, 2, 3, 4], &[]);
    let mut b = pe_with(&[vi.clone(), vec![0; 5000 * 8]].concat());
    b[RSRC_RAW + 14..RSRC_RAW + 16].copy_from_slice(&5000u16.to_le_bytes());
    assert!(matches!(
        version_info(&b),
        Err(VersionError::Limit {
            limit: "MAX_PE_RESOURCE_ENTRIES",
            ..
        })
    ));
    // More sections than the headers hold.
    let mut b = srv();
    b[0x46..0x48].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(matches!(
        version_info(&b),
        Err(VersionError::Truncated {
            structure: "section table",
            ..
        })
    ));
    // Too many strings.
    let many: Vec<(String, String)> = (0..MAX_PE_VERSION_STRINGS + 1)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let vi = version_info_bytes([1, 2, 3, 4], &refs);
    assert!(matches!(
        parse_version_info(&vi, 0),
        Err(VersionError::Limit {
            limit: "MAX_PE_VERSION_STRINGS",
            ..
        })
    ));
}

#[test]
fn broken_version_blocks_are_errors() {
    let good = version_info_bytes([10, 0, 14393, 953], &[("FileVersion", "10.0.14393.953")]);
    assert_eq!(
        parse_version_info(&good, 0)
            .unwrap()
            .fixed
            .unwrap()
            .file_version,
        FileVersion([10, 0, 14393, 953])
    );
    // wLength past the data, and shorter than a header.
    for len in [u16::MAX, 5, 0] {
        let mut b = good.clone();
        b[..2].copy_from_slice(&len.to_le_bytes());
        assert!(parse_version_info(&b, 0).is_err(), "{len}");
    }
    // wValueLength past wLength.
    let mut b = good.clone();
    b[2..4].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(parse_version_info(&b, 0).is_err());
    // A short VS_FIXEDFILEINFO.
    let mut b = good.clone();
    b[2..4].copy_from_slice(&40u16.to_le_bytes());
    assert!(matches!(
        parse_version_info(&b, 0x100),
        Err(VersionError::Truncated {
            structure: "VS_FIXEDFILEINFO",
            offset: 0x128,
            need: 52,
            have: 40
        })
    ));
    // A wrong signature.
    let mut b = good.clone();
    b[0x28] ^= 1;
    let e = parse_version_info(&b, 0x100).unwrap_err();
    assert_eq!(
        e.to_string(),
        "VS_FIXEDFILEINFO at offset 0x128: signature 0xfeef04bc, not 0xfeef04bd"
    );
    // A child whose wLength is zero does not loop.
    let mut b = good.clone();
    let child = 0x28 + 52;
    b[child..child + 2].copy_from_slice(&0u16.to_le_bytes());
    assert!(parse_version_info(&b, 0).is_err());
    // Another key.
    let other = blk(
        "VS_VERSION_INFX",
        &fixed_file_info([1, 0, 0, 0], [1, 0, 0, 0]),
        false,
        &[],
    );
    assert!(parse_version_info(&other, 0).is_err());
}

#[test]
fn file_versions_parse_and_order() {
    let v = FileVersion::parse("6.3.9600.18604").unwrap();
    assert_eq!(v, FileVersion([6, 3, 9600, 18604]));
    assert!(v < FileVersion([6, 3, 9600, 18605]));
    assert!(v > FileVersion([6, 3, 9600, 17000]));
    assert!(FileVersion([10, 0, 0, 0]) > FileVersion([6, 3, 9600, 65535]));
    for bad in ["6.3.9600", "6.3.9600.1.2", "6.3.x.1", "6.3.9600.70000", ""] {
        assert_eq!(FileVersion::parse(bad), None, "{bad}");
    }
    assert_eq!(
        FileVersion::from_ms_ls(0x000A_0000, 0x3839_03B9),
        FileVersion([10, 0, 14393, 953])
    );
}

proptest! {
    #[test]
    fn never_panics_on_mutated_files(flips in proptest::collection::vec((0usize..2048, any::<u8>()), 1..16)) {
        let mut b = srv();
        for (at, v) in flips {
            let n = b.len();
            b[at % n] = v;
        }
        let _ = version_info(&b);
        let _ = resource_section(&b);
        let _ = parse_version_info(&b[RSRC_RAW + VERSION..], 0);
    }

    #[test]
    fn never_panics_on_any_bytes(b in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = version_info(&b);
        let _ = parse_version_info(&b, 0);
    }
}

/// `pe_with`'s file with its resource section moved to file offset `at`.
fn moved(at: usize) -> Vec<u8> {
    let b = srv();
    let mut m = b[..RSRC_RAW].to_vec();
    put32(&mut m, 0x58 + 0xF0 + 20, at as u32);
    m.resize(at, 0);
    m.extend(&b[RSRC_RAW..]);
    m
}

#[test]
fn a_guest_file_is_read_up_to_its_resource_section() {
    use crate::view::GuestView;
    use vhdlint_fs::mem::MemFs;
    let mut fs = MemFs::default();
    fs.file("/srv.sys", srv());
    // Past the headers' read: a second read reaches the section.
    fs.file("/far.sys", moved(MAX_PE_HEADER_BYTES + 0x1000));
    // Past MAX_PE_VERSION_READ_BYTES: refused from the headers, before reading further.
    let mut huge = srv();
    put32(
        &mut huge,
        0x58 + 0xF0 + 20,
        MAX_PE_VERSION_READ_BYTES as u32,
    );
    fs.file("/huge.sys", huge);
    fs.file("/text.sys", b"placeholder");
    let view = GuestView::of(fs);
    let v = read_file_version(&view, "/srv.sys").unwrap();
    assert_eq!(
        v.fixed.unwrap().file_version,
        FileVersion([6, 3, 9600, 18604])
    );
    let far = read_file_version(&view, "/far.sys").unwrap();
    assert_eq!(far.at, (MAX_PE_HEADER_BYTES + 0x1000 + VERSION) as u64);
    assert!(matches!(
        read_file_version(&view, "/huge.sys"),
        Err(FileVersionError::TooLarge { .. })
    ));
    let e = read_file_version(&view, "/absent.sys").unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let e = read_file_version(&view, "/text.sys").unwrap_err();
    assert!(!e.is_not_found());
    assert_eq!(e.to_string(), "not a PE file (no MZ header)");
}
