//! Hostile images: each test crafts a damaged or malicious image in a temporary file, lints it
//! through the public pipeline (`Image::open` + `run`), and checks that nothing panics, that
//! the run stays fast (no unbounded reads or allocations), and that the check responsible for
//! the defect reports it with a message naming what was read and where.

use std::io::Write;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vhdlint_disk::limits::{
    MAX_BAT_ENTRIES, MAX_EBR_CHAIN, MAX_GPT_ENTRY_ARRAY, MAX_LVM_AREAS, MAX_LVM_DEPTH,
    MAX_LVM_METADATA, MAX_LVM_SEGMENTS, MAX_LVM_VOLUMES,
};
use vhdlint_disk::vhd::Geometry;
use vhdlint_disk::Layout;
use vhdlint_rules::{
    run, CheckResult, Image, ImageReport, Policy, ProfileChoice, RunOptions, Selection, Status,
    CHECKS,
};

const SECTOR: usize = 512;
const MIB: usize = 1 << 20;
/// A hang guard, not a speed measurement (speed is measured with `--timings` and the
/// benchmarks): a lint of these small images takes well under a second alone, but many run at
/// once on a loaded 2-core machine, so the bound is wide; a loop without end still exceeds it.
const TIME_LIMIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Running the pipeline

/// A linted image: the temporary file (kept alive), the opened image and its report.
struct Linted {
    _file: tempfile::NamedTempFile,
    image: Image,
    report: ImageReport,
}

impl Linted {
    /// The result of check `id`, which must appear exactly once.
    fn check(&self, id: &str) -> &CheckResult {
        let found: Vec<&CheckResult> = self.report.checks.iter().filter(|c| c.id == id).collect();
        assert_eq!(found.len(), 1, "check {id} appears {} times", found.len());
        found[0]
    }

    /// The guest disk's layout, decoded again through the public disk API.
    fn layout(&self) -> Layout {
        let disk = self
            .image
            .container
            .virtual_disk()
            .expect("the guest disk is readable");
        Layout::read(disk)
    }
}

/// Writes `bytes` to a temporary file and lints it with the guide policy and the automatic
/// profile. Asserts the run is fast and that every catalogue check appears exactly once.
fn lint(bytes: &[u8]) -> Linted {
    lint_as(bytes, ProfileChoice::Auto)
}

/// Like [`lint`], with the profile given.
fn lint_as(bytes: &[u8], profile: ProfileChoice) -> Linted {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(bytes).expect("write image");
    file.flush().expect("flush image");
    let started = Instant::now();
    let image = Image::open(file.path()).expect("a regular file opens");
    let report = run(
        &image,
        &RunOptions {
            policy: Policy::guide(),
            profile,
            selection: Selection::default(),
            progress: None,
            generation: Default::default(),
        },
    );
    let took = started.elapsed();
    assert!(
        took < TIME_LIMIT,
        "linting a {}-byte image took {took:?}",
        bytes.len()
    );
    // Every disk check appears once; publishing checks judge what is submitted with a disk,
    // not its bytes, and never appear in an image's report.
    let disk_checks: Vec<_> = CHECKS
        .iter()
        .filter(|c| c.meta.profiles != [vhdlint_rules::Profile::Publish])
        .collect();
    for c in &disk_checks {
        let n = report.checks.iter().filter(|r| r.id == c.meta.id).count();
        assert_eq!(n, 1, "check {} appears {n} times", c.meta.id);
    }
    assert_eq!(report.checks.len(), disk_checks.len());
    Linted {
        _file: file,
        image,
        report,
    }
}

/// Everything a result says: message, actual value and evidence texts.
fn said(r: &CheckResult) -> String {
    let mut s = format!("{} | {}", r.message, r.actual);
    for e in &r.evidence {
        s.push_str(" | ");
        if let Some(o) = e.offset {
            s.push_str(&format!("@{o:#x} "));
        }
        s.push_str(&e.text);
    }
    s
}

/// Asserts `r` has `status` and says every one of `needles`.
#[track_caller]
fn expect(r: &CheckResult, status: Status, needles: &[&str]) {
    let s = said(r);
    assert_eq!(r.status, status, "{}: {s}", r.id);
    for n in needles {
        assert!(s.contains(n), "{} does not mention {n:?}: {s}", r.id);
    }
}

/// Asserts `r` is a failure or an error, i.e. the defect is not passed over.
#[track_caller]
fn expect_not_clean(r: &CheckResult) {
    assert!(
        matches!(r.status, Status::Fail | Status::Error),
        "{}: {:?}: {}",
        r.id,
        r.status,
        said(r)
    );
    assert!(!r.message.is_empty(), "{} gives no reason", r.id);
}

// ---------------------------------------------------------------------------------------------
// Building images

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

/// One's complement of the byte sum, the 4 bytes at `skip` taken as zero (VHD checksums).
fn vhd_checksum(b: &[u8], skip: usize) -> u32 {
    let sum = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !(skip..skip + 4).contains(i))
        .fold(0u32, |a, (_, &x)| a.wrapping_add(u32::from(x)));
    !sum
}

/// CRC-32 (IEEE, reflected), as GPT uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The fields of a VHD footer a test may want to spoil.
#[derive(Clone, Copy)]
struct FooterSpec {
    disk_type: u32,
    current_size: u64,
    data_offset: u64,
    features: u32,
    version: u32,
    saved_state: u8,
}

impl FooterSpec {
    fn fixed(current_size: u64) -> Self {
        FooterSpec {
            disk_type: 2,
            current_size,
            data_offset: u64::MAX,
            features: 2,
            version: 0x0001_0000,
            saved_state: 0,
        }
    }
    fn dynamic(current_size: u64) -> Self {
        FooterSpec {
            disk_type: 3,
            data_offset: 512,
            ..FooterSpec::fixed(current_size)
        }
    }
    /// The 512 footer bytes, with a valid checksum.
    fn bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        put(&mut b, 0, b"conectix");
        put(&mut b, 8, &self.features.to_be_bytes());
        put(&mut b, 12, &self.version.to_be_bytes());
        put(&mut b, 16, &self.data_offset.to_be_bytes());
        put(&mut b, 24, &0x2d00_0000u32.to_be_bytes()); // 2023
        put(&mut b, 28, b"win ");
        put(&mut b, 32, &0x000a_0000u32.to_be_bytes());
        put(&mut b, 36, b"Wi2k");
        put(&mut b, 40, &self.current_size.to_be_bytes());
        put(&mut b, 48, &self.current_size.to_be_bytes());
        let g = Geometry::for_sectors(self.current_size / 512);
        put(&mut b, 56, &g.cylinders.to_be_bytes());
        b[58] = g.heads;
        b[59] = g.sectors;
        put(&mut b, 60, &self.disk_type.to_be_bytes());
        put(&mut b, 68, &[0x5a; 16]); // unique id
        b[84] = self.saved_state;
        let c = vhd_checksum(&b, 64);
        put(&mut b, 64, &c.to_be_bytes());
        b
    }
}

/// A fixed VHD: the guest bytes, then a footer declaring `current_size`.
fn fixed_vhd(disk: &[u8], current_size: u64) -> Vec<u8> {
    let mut v = disk.to_vec();
    v.extend(FooterSpec::fixed(current_size).bytes());
    v
}

/// Sets MBR (or EBR) entry `slot` of the sector at `lba` and its 55AA signature.
fn mbr_entry(disk: &mut [u8], lba: usize, slot: usize, kind: u8, start: u32, sectors: u32) {
    let s = lba * SECTOR;
    let at = s + 446 + 16 * slot;
    disk[at + 4] = kind;
    put(disk, at + 8, &start.to_le_bytes());
    put(disk, at + 12, &sectors.to_le_bytes());
    put(disk, s + 510, &[0x55, 0xAA]);
}

/// The structures of a GPT disk of `sectors` sectors, as (byte offset, bytes): protective MBR,
/// primary header and array, backup array and header. Headers claim `claimed_entries`
/// entries; the arrays hold that many entries (128 when the claim exceeds the 4 MiB limit)
/// with `parts` (first, last LBA) in order.
fn gpt_structures(sectors: u64, claimed_entries: u32, parts: &[(u64, u64)]) -> Vec<(u64, Vec<u8>)> {
    let last = sectors - 1;
    let n = if u64::from(claimed_entries) * 128 <= MAX_GPT_ENTRY_ARRAY {
        claimed_entries as usize
    } else {
        128
    };
    let array_sectors = (n * 128).div_ceil(SECTOR) as u64;
    let mut array = vec![0u8; array_sectors as usize * SECTOR];
    for (i, &(first, end)) in parts.iter().enumerate() {
        let e = &mut array[i * 128..(i + 1) * 128];
        put(
            e,
            0,
            &[
                0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47,
                0x7D, 0xE4,
            ],
        );
        put(e, 16, &(i as u128 + 1).to_le_bytes());
        put(e, 32, &first.to_le_bytes());
        put(e, 40, &end.to_le_bytes());
    }
    let array_crc = crc32(&array[..n * 128]);
    let header = |my: u64, alt: u64, entries_lba: u64| {
        let mut h = vec![0u8; 512];
        put(&mut h, 0, b"EFI PART");
        put(&mut h, 8, &0x0001_0000u32.to_le_bytes());
        put(&mut h, 12, &92u32.to_le_bytes());
        put(&mut h, 24, &my.to_le_bytes());
        put(&mut h, 32, &alt.to_le_bytes());
        put(&mut h, 40, &(2 + array_sectors).to_le_bytes());
        put(&mut h, 48, &(last - array_sectors - 1).to_le_bytes());
        put(&mut h, 56, &[0x11; 16]);
        put(&mut h, 72, &entries_lba.to_le_bytes());
        put(&mut h, 80, &claimed_entries.to_le_bytes());
        put(&mut h, 84, &128u32.to_le_bytes());
        put(&mut h, 88, &array_crc.to_le_bytes());
        let crc = crc32(&h[..92]);
        put(&mut h, 16, &crc.to_le_bytes());
        h
    };
    let mut pmbr = vec![0u8; 512];
    mbr_entry(
        &mut pmbr,
        0,
        0,
        0xEE,
        1,
        last.min(u64::from(u32::MAX)) as u32,
    );
    vec![
        (0, pmbr),
        (512, header(1, last, 2)),
        (1024, array.clone()),
        ((last - array_sectors) * 512, array),
        (last * 512, header(last, 1, last - array_sectors)),
    ]
}

/// Writes the GPT structures that fit into `disk`.
fn put_gpt(disk: &mut [u8], sectors: u64, claimed_entries: u32, parts: &[(u64, u64)]) {
    for (at, bytes) in gpt_structures(sectors, claimed_entries, parts) {
        let at = at as usize;
        if at + bytes.len() <= disk.len() {
            put(disk, at, &bytes);
        }
    }
}

/// A dynamic VHD: footer copy at 0, dynamic header at 512, BAT at 1536, `body` chunks at
/// their file offsets, padded to `body_end`, then the footer.
struct DynSpec {
    footer: FooterSpec,
    block_size: u32,
    max_entries: u32,
    bat: Vec<u32>,
}

impl DynSpec {
    fn header(&self) -> Vec<u8> {
        let mut h = vec![0u8; 1024];
        put(&mut h, 0, b"cxsparse");
        put(&mut h, 8, &u64::MAX.to_be_bytes());
        put(&mut h, 16, &1536u64.to_be_bytes());
        put(&mut h, 24, &0x0001_0000u32.to_be_bytes());
        put(&mut h, 28, &self.max_entries.to_be_bytes());
        put(&mut h, 32, &self.block_size.to_be_bytes());
        let c = vhd_checksum(&h, 36);
        put(&mut h, 36, &c.to_be_bytes());
        h
    }

    fn image(&self, body: &[(usize, &[u8])], body_end: usize) -> Vec<u8> {
        let footer = self.footer.bytes();
        let bat: Vec<u8> = self.bat.iter().flat_map(|e| e.to_be_bytes()).collect();
        let bat_end = 1536 + bat.len().div_ceil(SECTOR) * SECTOR;
        let mut v = vec![0u8; body_end.max(bat_end)];
        put(&mut v, 0, &footer);
        put(&mut v, 512, &self.header());
        v[1536..bat_end].fill(0xFF);
        put(&mut v, 1536, &bat);
        for (at, bytes) in body {
            put(&mut v, *at, bytes);
        }
        v.extend(&footer);
        v
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Files too small to be anything

#[test]
fn empty_file() {
    let l = lint(&[]);
    expect(
        l.check("disk/format"),
        Status::Fail,
        &["0 bytes", "smaller than a VHD footer"],
    );
    expect(
        l.check("disk/footer"),
        Status::Fail,
        &["the file is 0 bytes, smaller than a 512-byte footer"],
    );
    expect(l.check("disk/fixed"), Status::Skipped, &["no VHD footer"]);
}

#[test]
fn hundred_byte_file() {
    let l = lint(&[0xA5; 100]);
    expect(l.check("disk/format"), Status::Fail, &["100 bytes"]);
    expect(
        l.check("disk/footer"),
        Status::Fail,
        &["the file is 100 bytes, smaller than a 512-byte footer"],
    );
}

#[test]
fn file_of_511_bytes_ending_in_a_cookie() {
    // The cookie is the file's last 8 bytes: not where a footer (512 or 511 bytes) starts.
    let mut b = vec![0x20u8; 511];
    put(&mut b, 503, b"conectix");
    let l = lint(&b);
    expect(
        l.check("disk/format"),
        Status::Fail,
        &["smaller than a VHD footer"],
    );
    expect(l.check("disk/footer"), Status::Fail, &["511 bytes"]);
}

#[test]
fn file_of_511_bytes_that_is_a_footer_only() {
    // A pre-2004 511-byte footer and nothing else: a VHD whose guest bytes are all missing.
    let mut b = FooterSpec::fixed(MIB as u64).bytes();
    b.truncate(511);
    let l = lint(&b);
    expect(l.check("disk/format"), Status::Pass, &["VHD (fixed)"]);
    expect(l.check("disk/footer"), Status::Warning, &["last 511 bytes"]);
    expect(
        l.check("disk/file-length"),
        Status::Fail,
        &["file length 511", "truncated copy"],
    );
    let t = l.check("partition/table");
    expect_not_clean(t);
    assert!(said(t).contains("sector 0 cannot be read"), "{}", said(t));
}

#[test]
fn file_of_511_bytes_with_a_garbage_footer() {
    let mut b = vec![0xEEu8; 511];
    put(&mut b, 0, b"conectix");
    let l = lint(&b);
    expect(
        l.check("disk/footer"),
        Status::Fail,
        &[
            "last 511 bytes",
            "file format version 0xeeeeeeee",
            "disk type 4008636142",
        ],
    );
    expect_not_clean(l.check("disk/footer-checksum"));
    expect(
        l.check("partition/table"),
        Status::Error,
        &["disk type 4008636142"],
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Garbage footer fields

#[test]
fn garbage_footer_fields_are_each_listed() {
    let spec = FooterSpec {
        disk_type: 9,
        version: 0x0002_0000,
        features: 0,
        saved_state: 7,
        ..FooterSpec::fixed(4 * MIB as u64)
    };
    let mut b = vec![0u8; 4 * MIB];
    b.extend(spec.bytes());
    let l = lint(&b);
    let f = l.check("disk/footer");
    expect(
        f,
        Status::Fail,
        &[
            "file format version 0x00020000, expected 0x00010000",
            "features 0x00000000: the reserved bit 0x2 must be set",
            "disk type 9, expected 2 (fixed), 3 (dynamic) or 4 (differencing)",
            "saved state byte 0x07",
        ],
    );
    // Each defect carries the offset of its field in the file.
    let footer_at = 4 * MIB as u64;
    for field in [8, 12, 60, 84] {
        assert!(
            f.evidence
                .iter()
                .any(|e| e.offset == Some(footer_at + field)),
            "no evidence at footer+{field}: {}",
            said(f)
        );
    }
    // The checksum was recomputed over the garbage, so it verifies.
    expect(l.check("disk/footer-checksum"), Status::Pass, &[]);
    expect(l.check("disk/fixed"), Status::Fail, &["unknown (9)"]);
    expect(l.check("partition/table"), Status::Error, &["disk type 9"]);
}

#[test]
fn absurd_current_size_does_not_overflow() {
    // A footer whose size fields are all ones: every size computation must saturate.
    for size in [u64::MAX, u64::MAX - 511, (u64::MAX / 512) * 512] {
        let mut disk = vec![0u8; MIB];
        mbr_entry(&mut disk, 0, 0, 0x83, 2048, u32::MAX);
        let l = lint(&fixed_vhd(&disk, size));
        expect(
            l.check("disk/size-alignment"),
            Status::Fail,
            &[&size.to_string()],
        );
        expect(
            l.check("disk/file-length"),
            Status::Fail,
            &["short: a truncated copy"],
        );
        expect(
            l.check("disk/data-size"),
            Status::Fail,
            &["above the 1024 GiB maximum"],
        );
        // Sector 0 is in the file, so the table is still read.
        assert_eq!(
            l.report.facts.partitions.len(),
            1,
            "{}",
            said(l.check("partition/table"))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A truncated fixed VHD

#[test]
fn truncated_fixed_vhd_with_gpt() {
    let gib: u64 = 1 << 30;
    let sectors = gib / 512;
    let mut disk = vec![0u8; MIB];
    put_gpt(&mut disk, sectors, 128, &[(2048, sectors - 34)]);
    let l = lint(&fixed_vhd(&disk, gib));
    expect(
        l.check("disk/file-length"),
        Status::Fail,
        &[
            &format!("file length {} ≠ current size {gib} + 512", MIB + 512),
            "short: a truncated copy",
        ],
    );
    // The primary GPT is in the file; the backup at the last LBA is not.
    let t = l.check("partition/table");
    expect(
        t,
        Status::Fail,
        &[
            &format!("backup GPT header at LBA {} cannot be read", sectors - 1),
            "the file holds fewer bytes",
        ],
    );
    assert_eq!(
        l.report.facts.partitions.len(),
        1,
        "the primary GPT's partition is still listed"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Dynamic VHDs whose BAT points outside the file or at overlapping blocks

/// A 4 MiB dynamic disk with 64 KiB blocks: 64 BAT entries, block 0 at sector 4 holding an MBR.
fn dynamic_with_bat(bat_head: &[u32], body_end: usize) -> Vec<u8> {
    let mut bat = vec![0xFFFF_FFFFu32; 64];
    bat[..bat_head.len()].copy_from_slice(bat_head);
    let spec = DynSpec {
        footer: FooterSpec::dynamic(4 * MIB as u64),
        block_size: 64 << 10,
        max_entries: 64,
        bat,
    };
    let mut mbr = vec![0u8; 512];
    mbr_entry(&mut mbr, 0, 0, 0x83, 64, 1000);
    spec.image(&[(2048, &[0xFF; 512]), (2560, &mbr)], body_end)
}

#[test]
fn dynamic_bat_entries_past_the_end_of_the_file() {
    let l = lint(&dynamic_with_bat(
        &[4, 0x0010_0000, 0xFFFF_FF00],
        2560 + (64 << 10),
    ));
    let d = l.check("disk/dynamic-structure");
    expect(
        d,
        Status::Fail,
        &[
            "BAT entry 1 puts its block at 0x20000000",
            "BAT entry 2 puts its block at 0x1fffffe0000",
            "past the footer",
        ],
    );
    assert!(
        d.evidence.iter().any(|e| e.offset == Some(0x2000_0000)),
        "{}",
        said(d)
    );
    // Block 0 is intact, so the partition table is still read.
    let t = l.check("partition/table");
    assert!(
        matches!(t.status, Status::Pass | Status::Fail | Status::Warning),
        "{}",
        said(t)
    );
    assert_eq!(l.report.facts.partitions.len(), 1);
    assert_eq!(l.report.facts.partitions[0].start_lba, 64);
}

#[test]
fn dynamic_bat_entries_that_overlap() {
    // Block 1 starts one sector after block 0 (both 512 + 64 KiB long).
    let l = lint(&dynamic_with_bat(&[4, 5], 3072 + (64 << 10)));
    expect(
        l.check("disk/dynamic-structure"),
        Status::Fail,
        &["BAT entries 0 and 1 overlap at 0xa00"],
    );
    let t = l.check("partition/table");
    assert!(
        matches!(t.status, Status::Pass | Status::Fail | Status::Warning),
        "{}",
        said(t)
    );
    assert_eq!(l.report.facts.partitions.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 5. A dynamic header claiming 2^32 - 1 BAT entries and a block size of 3

#[test]
fn dynamic_header_with_huge_bat_and_odd_block_size() {
    let spec = DynSpec {
        footer: FooterSpec::dynamic(4 * MIB as u64),
        block_size: 3,
        max_entries: u32::MAX,
        bat: vec![4; 256],
    };
    let l = lint(&spec.image(&[], 4096));
    expect(
        l.check("disk/dynamic-structure"),
        Status::Fail,
        &[
            "block size 3 is not a power of two",
            "BAT declares 4294967295 entries",
            "runs past the end of the file",
        ],
    );
    expect(l.check("partition/table"), Status::Error, &["block size 3"]);
    expect(l.check("partition/first-mib"), Status::Skipped, &[]);
}

#[test]
fn dynamic_header_with_huge_bat_and_huge_block_size() {
    // A valid block size of 2 GiB with 2^32 - 1 entries: the BAT would end 16 GiB into a
    // 4 KiB file, so every allocated entry lies over it.
    let spec = DynSpec {
        footer: FooterSpec::dynamic(4 * MIB as u64),
        block_size: 1 << 31,
        max_entries: u32::MAX,
        bat: vec![8; 256],
    };
    let l = lint(&spec.image(&[], 4096));
    expect(
        l.check("disk/dynamic-structure"),
        Status::Fail,
        &[
            "BAT declares 4294967295 entries",
            "over the header and BAT",
            "overlap",
        ],
    );
    // Block 0 is at sector 8 past its 256 KiB bitmap: outside the file.
    expect_not_clean(l.check("partition/table"));
}

// ---------------------------------------------------------------------------------------------
// 6. A dynamic VHD whose footer points its header past the end of the file

#[test]
fn dynamic_data_offset_past_the_end_of_the_file() {
    for data_offset in [1u64 << 40, u64::MAX - 1, 4096] {
        let spec = DynSpec {
            footer: FooterSpec {
                data_offset,
                ..FooterSpec::dynamic(4 * MIB as u64)
            },
            block_size: 2 << 20,
            max_entries: 2,
            bat: vec![0xFFFF_FFFF; 2],
        };
        let l = lint(&spec.image(&[], 2048));
        expect(
            l.check("disk/dynamic-structure"),
            Status::Fail,
            &[&format!("footer data offset {data_offset:#x} does not point at a 1024-byte dynamic header inside the file")],
        );
        expect(
            l.check("partition/table"),
            Status::Error,
            &["the guest disk cannot be read"],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. EBR chains that loop or never end

#[test]
fn ebr_chain_that_loops() {
    let mut disk = vec![0u8; 4 * MIB];
    mbr_entry(&mut disk, 0, 0, 0x05, 2048, 4096);
    mbr_entry(&mut disk, 2048, 0, 0x83, 1, 100);
    mbr_entry(&mut disk, 2048, 1, 0x05, 200, 200);
    mbr_entry(&mut disk, 2248, 0, 0x83, 1, 100);
    mbr_entry(&mut disk, 2248, 1, 0x05, 0, 200); // back to the first EBR
    let l = lint(&fixed_vhd(&disk, disk.len() as u64));
    expect(
        l.check("partition/table"),
        Status::Fail,
        &["EBR chain loops: the EBR at LBA 2248 links back to LBA 2048"],
    );
    // The two logical partitions before the loop are kept, once each.
    let logical: Vec<u64> = l
        .report
        .facts
        .partitions
        .iter()
        .filter(|p| p.number > 4)
        .map(|p| p.start_lba)
        .collect();
    assert_eq!(logical, [2049, 2249]);
}

#[test]
fn ebr_chain_of_a_thousand_links() {
    let mut disk = vec![0u8; 4 * MIB];
    mbr_entry(&mut disk, 0, 0, 0x05, 2048, 4096);
    for k in 0..1000u32 {
        let ebr = 2048 + 2 * k as usize;
        mbr_entry(&mut disk, ebr, 0, 0x83, 1, 1);
        if k + 1 < 1000 {
            mbr_entry(&mut disk, ebr, 1, 0x05, 2 * (k + 1), 2);
        }
    }
    let l = lint(&fixed_vhd(&disk, disk.len() as u64));
    expect(
        l.check("partition/table"),
        Status::Fail,
        &[&format!("EBR chain longer than {MAX_EBR_CHAIN} links")],
    );
    let logical = l
        .report
        .facts
        .partitions
        .iter()
        .filter(|p| p.number > 4)
        .count();
    assert_eq!(logical, MAX_EBR_CHAIN);
}

// ---------------------------------------------------------------------------------------------
// 8. A GPT claiming ten million entries

#[test]
fn gpt_with_ten_million_entries() {
    let mut disk = vec![0u8; 4 * MIB];
    let sectors = disk.len() as u64 / 512;
    put_gpt(&mut disk, sectors, 10_000_000, &[(2048, 4095)]);
    let l = lint(&fixed_vhd(&disk, disk.len() as u64));
    let limit = format!("10000000 entries of 128 bytes (1280000000 bytes) exceed the {MAX_GPT_ENTRY_ARRAY}-byte limit");
    expect(
        l.check("partition/table"),
        Status::Fail,
        &[
            &limit,
            "primary GPT header at LBA 1",
            "backup GPT header at LBA 8191",
        ],
    );
    // Both copies are refused, so no partitions are made up.
    assert!(l.report.facts.partitions.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 9. GPT entries overlapping, or beyond the last usable LBA

#[test]
fn gpt_entries_overlapping_and_past_the_usable_range() {
    let mut disk = vec![0u8; 4 * MIB];
    let sectors = disk.len() as u64 / 512; // last usable LBA 8158
    put_gpt(
        &mut disk,
        sectors,
        128,
        &[(2048, 4095), (3000, 5000), (6000, 9000)],
    );
    let l = lint(&fixed_vhd(&disk, disk.len() as u64));
    expect(
        l.check("partition/table"),
        Status::Fail,
        &[
            "GPT entries 1 and 2 overlap at LBA 3000",
            "GPT entry 3 (LBA 6000..9000) lies outside the usable range LBA 34..8158",
        ],
    );
    assert_eq!(l.report.facts.partitions.len(), 3);
}

#[test]
fn gpt_with_the_most_entries_read_all_overlapping() {
    // 32768 entries (a 4 MiB array, the limit) all naming the same 1 MiB: every one is a
    // partition to probe, and every pair overlaps.
    let n = (MAX_GPT_ENTRY_ARRAY / 128) as u32;
    let mut disk = vec![0u8; 16 * MIB];
    let sectors = disk.len() as u64 / 512;
    let first = 2 + u64::from(n) * 128 / 512;
    let parts = vec![(first, first + 2047); n as usize];
    put_gpt(&mut disk, sectors, n, &parts);
    let l = lint(&fixed_vhd(&disk, disk.len() as u64));
    expect(
        l.check("partition/table"),
        Status::Fail,
        &[
            "GPT entries 1 and 2 overlap",
            &format!("GPT entries {} and {n} overlap", n - 1),
        ],
    );
    assert_eq!(l.report.facts.partitions.len(), n as usize);
}

// ---------------------------------------------------------------------------------------------
// 10. LVM2 physical volumes with hostile metadata

const PV_UUID: &[u8; 32] = b"Hq3B0OGxSbWVnFz1e7ArRmfyq4jIXtHc";

/// Writes an LVM2 PV at byte `pv` of `disk`: label in its sector 1 (PV header at label offset
/// 32), one metadata area at 4096 of `mda_size` bytes whose first raw location
/// (`locn_offset`, `locn_size`) points at `text`, written at 4096 + 512.
fn put_pv(
    disk: &mut [u8],
    pv: usize,
    text: &[u8],
    mda_size: u64,
    locn_offset: u64,
    locn_size: u64,
) {
    use vhdlint_disk::lvm::{lvm_crc, LABEL_ID, LABEL_TYPE, MDA_MAGIC};
    let mut label = vec![0u8; 512];
    put(&mut label, 0, LABEL_ID);
    put(&mut label, 8, &1u64.to_le_bytes());
    put(&mut label, 20, &32u32.to_le_bytes());
    put(&mut label, 24, LABEL_TYPE);
    put(&mut label, 32, PV_UUID);
    put(&mut label, 64, &(2 * MIB as u64).to_le_bytes());
    // Data areas: (1 MiB, 0), end; metadata areas: (4096, mda_size), end.
    put(&mut label, 72, &(MIB as u64).to_le_bytes());
    put(&mut label, 104, &4096u64.to_le_bytes());
    put(&mut label, 112, &mda_size.to_le_bytes());
    let crc = lvm_crc(&label[20..]);
    put(&mut label, 16, &crc.to_le_bytes());
    put(disk, pv + 512, &label);
    // Metadata area header with its first raw location.
    let mut mda = vec![0u8; 512];
    put(&mut mda, 4, MDA_MAGIC);
    put(&mut mda, 20, &1u32.to_le_bytes());
    put(&mut mda, 24, &4096u64.to_le_bytes());
    put(&mut mda, 32, &mda_size.to_le_bytes());
    put(&mut mda, 40, &locn_offset.to_le_bytes());
    put(&mut mda, 48, &locn_size.to_le_bytes());
    put(&mut mda, 56, &lvm_crc(text).to_le_bytes());
    let crc = lvm_crc(&mda[4..]);
    put(&mut mda, 0, &crc.to_le_bytes());
    put(disk, pv + 4096, &mda);
    put(disk, pv + 4096 + 512, text);
}

/// An 8 MiB fixed VHD: partition 1 (LVM, LBA 2048, 2 MiB) holds a PV (see [`put_pv`]);
/// partition 2 holds an ext2 superblock so the disk is linted as a Linux OS disk.
fn lvm_image(text: &[u8], mda_size: u64, locn_offset: u64, locn_size: u64) -> Vec<u8> {
    let mut disk = vec![0u8; 8 * MIB];
    mbr_entry(&mut disk, 0, 0, 0x8e, 2048, 4096);
    mbr_entry(&mut disk, 0, 1, 0x83, 6144, 2048);
    put(&mut disk, 6144 * 512 + 1080, &[0x53, 0xEF]);
    put_pv(
        &mut disk,
        2048 * 512,
        text,
        mda_size,
        locn_offset,
        locn_size,
    );
    fixed_vhd(&disk, disk.len() as u64)
}

/// Lints an LVM image and checks the PV is still reported; returns every LVM2 defect found.
fn lint_lvm(image: &[u8]) -> (Linted, String) {
    // The ext2 beside the PV holds no Linux root, so the profile is declared.
    let l = lint_as(image, ProfileChoice::Fixed(vhdlint_rules::Profile::LinuxOs));
    expect(
        l.check("partition/no-lvm"),
        Status::Warning,
        &[
            "partition 1 has type Linux LVM (0x8e)",
            "volume p1 is an LVM2 physical volume",
        ],
    );
    expect(
        l.check("partition/table"),
        Status::Pass,
        &["MBR, 2 partition(s)"],
    );
    let layout = l.layout();
    assert_eq!(layout.physical_volumes.len(), 1);
    assert!(
        layout.volume_groups.is_empty(),
        "no volume group comes out of hostile metadata"
    );
    let defects: Vec<String> = layout.physical_volumes[0]
        .findings
        .iter()
        .chain(&layout.lvm_findings)
        .map(|f| f.message.clone())
        .collect();
    (l, defects.join("; "))
}

const MDA_SIZE: u64 = MIB as u64 - 4096;

#[test]
fn lvm_malformed_metadata() {
    let text = b"vg0 {\nid = \"abc\"\nseqno = \nextent_size = 8192\n";
    let (_, defects) = lint_lvm(&lvm_image(text, MDA_SIZE, 512, text.len() as u64));
    assert!(
        defects.contains("p1: LVM2 text metadata: syntax error"),
        "{defects}"
    );
}

#[test]
fn lvm_metadata_nested_ten_thousand_levels() {
    let text = "v {".repeat(10_000) + &"}".repeat(10_000);
    let (_, defects) = lint_lvm(&lvm_image(
        text.as_bytes(),
        MDA_SIZE,
        512,
        text.len() as u64,
    ));
    assert!(
        defects.contains(&format!("sections nested deeper than {MAX_LVM_DEPTH}")),
        "{defects}"
    );
}

#[test]
fn lvm_metadata_of_one_tebibyte() {
    let text = b"vg0 { extent_size = 8192 }";
    let (_, defects) = lint_lvm(&lvm_image(text, MDA_SIZE, 512, 1 << 40));
    assert!(
        defects.contains(&format!(
            "LVM2 metadata area at 0x1000: LVM2 text metadata size: 1099511627776 exceeds the limit of {}",
            MAX_LVM_METADATA.min(MDA_SIZE)
        )),
        "{defects}"
    );
}

#[test]
fn lvm_metadata_location_at_the_end_of_a_huge_area() {
    // The PV header claims a 2^64 - 1 byte metadata area and the raw location sits near its
    // end: the offset must not wrap around to the start of the volume.
    let text = b"vg0 { extent_size = 8192 }";
    let (_, defects) = lint_lvm(&lvm_image(text, u64::MAX, u64::MAX - 8, text.len() as u64));
    assert!(defects.contains("LVM2 metadata area at 0x1000: LVM2 metadata area at offset 0x1000: its 18446744073709551615 bytes run past the end of the volume"), "{defects}");
}

#[test]
fn lvm_segments_adding_up_past_two_to_the_64() {
    // A fixed VHD claiming 2^64 - 512 bytes whose first 2 MiB are in the file: a GPT
    // partition of about 2^63 bytes at LBA 2048 holds a PV whose volume group maps four
    // 2^62-byte segments one after the other, so the logical volume would end at 2^64.
    let size = u64::MAX / 512 * 512;
    let mut disk = vec![0u8; 2 * MIB];
    put_gpt(&mut disk, size / 512, 128, &[(2048, 1 << 54)]);
    let uuid = std::str::from_utf8(PV_UUID).unwrap();
    let segments: String = (0..4)
        .map(|k| {
            format!(
                "segment{} {{\nstart_extent = {}\nextent_count = 8192\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]\n}}\n",
                k + 1,
                k * 8192
            )
        })
        .collect();
    let text = format!(
        "vg0 {{\nid = \"v\"\nseqno = 1\nextent_size = 1099511627776\nphysical_volumes {{\npv0 {{\nid = \"{uuid}\"\npe_start = 2048\npe_count = 32768\n}}\n}}\nlogical_volumes {{\nlv0 {{\nsegment_count = 4\n{segments}}}\n}}\n}}\n"
    );
    put_pv(
        &mut disk,
        MIB,
        text.as_bytes(),
        MDA_SIZE,
        512,
        text.len() as u64,
    );
    let l = lint(&fixed_vhd(&disk, size));
    expect(
        l.check("disk/file-length"),
        Status::Fail,
        &["truncated copy"],
    );
    let layout = l.layout();
    assert_eq!(layout.volume_groups.len(), 1, "{:?}", layout.lvm_findings);
    let notes: Vec<&str> = layout.volume_groups[0]
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|m| m.contains("logical volume vg0/lv0 is not read") && m.contains("2^64")),
        "{notes:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 10b. The bounds of vhdlint_disk::limits not reached above, each exceeded once

/// What each bound test allows for the whole lint: a guard against a hang, as [`TIME_LIMIT`];
/// the bound itself is asserted from what the lint says.
fn bound_time_limit() -> Duration {
    TIME_LIMIT
}

/// [`lint_as`], asserting the bound tests' time limit.
fn lint_bound(bytes: &[u8], profile: ProfileChoice) -> Linted {
    let started = Instant::now();
    let l = lint_as(bytes, profile);
    let took = started.elapsed();
    assert!(took < bound_time_limit(), "took {took:?}");
    l
}

#[test]
fn dynamic_bat_of_one_entry_more_than_the_limit() {
    // A header declaring MAX_BAT_ENTRIES + 1 entries for a disk of 2 MiB blocks, the file
    // holding the first 256 (reading all 64 MiB of a full BAT takes seconds in a debug build).
    let n = MAX_BAT_ENTRIES + 1;
    let spec = DynSpec {
        footer: FooterSpec::dynamic(n * (2 << 20)),
        block_size: 2 << 20,
        max_entries: n as u32,
        bat: vec![0xFFFF_FFFF; 256],
    };
    let l = lint_bound(&spec.image(&[], 4096), ProfileChoice::Auto);
    expect(
        l.check("disk/dynamic-structure"),
        Status::Fail,
        &[
            &format!("BAT declares {n} entries, more than the {MAX_BAT_ENTRIES} vhdlint reads"),
            "runs past the end of the file",
        ],
    );
}

/// Rewrites the area lists of the PV label [`put_pv`] wrote at `pv`: data areas, then
/// metadata areas, each list ending with a zero pair.
fn rewrite_pv_areas(disk: &mut [u8], pv: usize, data: &[(u64, u64)], mda: &[(u64, u64)]) {
    use vhdlint_disk::lvm::lvm_crc;
    let label = pv + 512;
    let mut at = label + 72;
    for list in [data, mda] {
        for &(o, s) in list.iter().chain(&[(0, 0)]) {
            put(disk, at, &o.to_le_bytes());
            put(disk, at + 8, &s.to_le_bytes());
            at += 16;
        }
    }
    assert!(at <= label + 512);
    let crc = lvm_crc(&disk[label + 20..label + 512]);
    put(disk, label + 16, &crc.to_le_bytes());
}

#[test]
fn lvm_pv_header_listing_more_areas_than_the_limit() {
    // 20 data areas, then the one metadata area: the data areas past the limit are not
    // read, and the metadata area after them is still found.
    let text = b"vg0 {\nid = \"v\"\nseqno = 1\nextent_size = 8192\n}\n";
    let mut image = lvm_image(text, MDA_SIZE, 512, text.len() as u64);
    let data: Vec<(u64, u64)> = (0..MAX_LVM_AREAS as u64 + 4)
        .map(|i| (MIB as u64 + i * 4096, 4096))
        .collect();
    rewrite_pv_areas(&mut image, 2048 * 512, &data, &[(4096, MDA_SIZE)]);
    let l = lint_bound(
        &image,
        ProfileChoice::Fixed(vhdlint_rules::Profile::LinuxOs),
    );
    let layout = l.layout();
    assert_eq!(layout.physical_volumes.len(), 1);
    let defects: Vec<&str> = layout.physical_volumes[0]
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        defects.iter().any(|m| m.contains(&format!(
            "LVM2 PV header lists more than {MAX_LVM_AREAS} data areas, the limit"
        ))),
        "{defects:?}"
    );
    assert_eq!(layout.volume_groups.len(), 1, "{defects:?}");
}

/// VG metadata on the PV of [`lvm_image`] with the given logical_volumes section body.
fn vg_text(lvs: &str) -> String {
    let uuid = std::str::from_utf8(PV_UUID).unwrap();
    format!(
        "vg0 {{\nid = \"v\"\nseqno = 1\nextent_size = 8\nphysical_volumes {{\npv0 {{\nid = \"{uuid}\"\npe_start = 2048\npe_count = 100\n}}\n}}\nlogical_volumes {{\n{lvs}}}\n}}\n"
    )
}

/// The findings of the one volume group of `image`.
fn vg_findings(l: &Linted) -> Vec<String> {
    let layout = l.layout();
    assert_eq!(layout.volume_groups.len(), 1, "{:?}", layout.lvm_findings);
    layout.volume_groups[0]
        .findings
        .iter()
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn lvm_logical_volume_of_more_segments_than_the_limit() {
    let segments: String = (0..=MAX_LVM_SEGMENTS)
        .map(|k| {
            format!(
                "segment{} {{\nstart_extent = {k}\nextent_count = 1\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]\n}}\n",
                k + 1
            )
        })
        .collect();
    let text = vg_text(&format!("lv0 {{\n{segments}}}\n"));
    assert!(text.len() as u64 <= MDA_SIZE);
    let image = lvm_image(text.as_bytes(), MDA_SIZE, 512, text.len() as u64);
    let l = lint_bound(
        &image,
        ProfileChoice::Fixed(vhdlint_rules::Profile::LinuxOs),
    );
    let notes = vg_findings(&l);
    assert!(
        notes.iter().any(|m| m.contains(&format!(
            "logical volume vg0/lv0 is not read: more than {MAX_LVM_SEGMENTS} segments"
        ))),
        "{notes:?}"
    );
    assert_eq!(
        l.layout()
            .volumes
            .iter()
            .filter(|v| v.id.contains('/'))
            .count(),
        0
    );
}

#[test]
fn lvm_volume_group_of_more_logical_volumes_than_the_limit() {
    // Mirror segments: each volume is listed, none is read as a volume.
    let lvs: String = (0..=MAX_LVM_VOLUMES)
        .map(|k| {
            format!(
                "lv{k} {{\nsegment1 {{\nstart_extent = 0\nextent_count = 1\ntype = \"mirror\"\n}}\n}}\n"
            )
        })
        .collect();
    let text = vg_text(&lvs);
    assert!(text.len() as u64 <= MDA_SIZE);
    let image = lvm_image(text.as_bytes(), MDA_SIZE, 512, text.len() as u64);
    let l = lint_bound(
        &image,
        ProfileChoice::Fixed(vhdlint_rules::Profile::LinuxOs),
    );
    let notes = vg_findings(&l);
    assert!(
        notes.iter().any(|m| m.contains(&format!(
            "more than {MAX_LVM_VOLUMES} logical volumes; the rest are not read"
        ))),
        "{notes:?}"
    );
    let layout = l.layout();
    assert_eq!(layout.volume_groups[0].lvs.len(), MAX_LVM_VOLUMES);
}

// ---------------------------------------------------------------------------------------------
// 11. Other containers

#[test]
fn vhdx_magic_then_garbage() {
    let mut b = b"vhdxfile".to_vec();
    b.extend((0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let l = lint(&b);
    let f = l.check("disk/format");
    expect(
        f,
        Status::Fail,
        &[
            "the file is a vhdx image, not a VHD",
            "\"vhdxfile\" at offset 0",
        ],
    );
    assert_eq!(
        f.remedy.as_deref(),
        Some("qemu-img convert -f vhdx -O vpc -o subformat=fixed,force_size IN OUT.vhd")
    );
    expect(l.check("disk/footer"), Status::Skipped, &["vhdx"]);
    expect(
        l.check("partition/table"),
        Status::Skipped,
        &["see disk/format"],
    );
}

#[test]
fn qcow2_magic_then_garbage() {
    let mut b = b"QFI\xfb".to_vec();
    b.extend((0..8192u32).map(|i| (i.wrapping_mul(40_503) >> 3) as u8));
    // A footer-like cookie at the end must not make it a VHD.
    let n = b.len();
    put(&mut b, n - 512, b"conectix");
    let l = lint(&b);
    let f = l.check("disk/format");
    expect(f, Status::Fail, &["the file is a qcow2 image, not a VHD"]);
    assert_eq!(
        f.remedy.as_deref(),
        Some("qemu-img convert -f qcow2 -O vpc -o subformat=fixed,force_size IN OUT.vhd")
    );
}

// ---------------------------------------------------------------------------------------------
// Random damage to a valid image

/// A valid 2 MiB fixed VHD with an MBR: a Linux partition at LBA 2048 and an extended
/// partition at LBA 3072 with two logical partitions.
fn small_mbr_vhd() -> Vec<u8> {
    let mut disk = vec![0u8; 2 * MIB];
    mbr_entry(&mut disk, 0, 0, 0x83, 2048, 1024);
    mbr_entry(&mut disk, 0, 1, 0x05, 3072, 1024);
    mbr_entry(&mut disk, 3072, 0, 0x83, 1, 100);
    mbr_entry(&mut disk, 3072, 1, 0x05, 200, 200);
    mbr_entry(&mut disk, 3272, 0, 0x82, 1, 100);
    put(&mut disk, 2048 * 512 + 1080, &[0x53, 0xEF]);
    fixed_vhd(&disk, disk.len() as u64)
}

#[test]
fn the_base_image_is_clean() {
    let l = lint(&small_mbr_vhd());
    for id in [
        "disk/format",
        "disk/footer",
        "disk/footer-checksum",
        "disk/fixed",
        "disk/file-length",
        "partition/table",
    ] {
        expect(l.check(id), Status::Pass, &[]);
    }
    assert_eq!(l.report.facts.partitions.len(), 4);
}

fn mutation_offset(len: usize) -> impl Strategy<Value = usize> {
    let footer = len - 512;
    prop_oneof![
        0usize..512,                                // MBR
        3072 * SECTOR..3073 * SECTOR,               // first EBR
        3272 * SECTOR..3273 * SECTOR,               // second EBR
        2048 * SECTOR + 1024..2048 * SECTOR + 1536, // superblock
        footer..len,                                // footer
        0..len,                                     // anywhere
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_damage_never_panics(edits in proptest::collection::vec((mutation_offset(small_mbr_vhd().len()), any::<u8>()), 1..=16)) {
        let mut image = small_mbr_vhd();
        for (at, byte) in edits {
            image[at] = byte;
        }
        // `lint` asserts the time bound and that each catalogue check appears exactly once.
        let l = lint(&image);
        for r in &l.report.checks {
            prop_assert!(r.status == Status::Pass || !r.message.is_empty(), "{} gives no reason", r.id);
        }
    }
}
