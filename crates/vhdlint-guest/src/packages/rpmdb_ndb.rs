//! rpm's package database in its own "ndb" form, `Packages.db` (SUSE's default between Berkeley
//! DB and SQLite, and an option of rpm ≥ 4.15), read from bytes.
//!
//! The layout is that of rpm's `lib/backend/ndb/rpmpkg.c` (all numbers little-endian):
//!
//! - a 32-byte header: magic `RpmP`, version 0, generation, the number of slot pages, the next
//!   package index;
//! - slot pages of 4096 bytes from the start of the file (the first page's slots start after
//!   the header), each slot 16 bytes: magic `Slot`, package index, block offset, block count
//!   (blocks are 16 bytes; a block offset of 0 is a free slot);
//! - at each used slot's blocks, a blob: `BlbS`, package index, timestamp, length, the rpm
//!   header, zero padding, and a 12-byte trailer: Adler-32 of everything before it, the length
//!   again, `BlbE`.
//!
//! Every check rpm makes when it reads a blob is made here, and the Adler-32 checksum is always
//! verified (rpm verifies it when it moves or deletes a blob). Refused with an error that names
//! the file offset, never guessed: a bad magic or version, a slot outside the file or over the
//! slot pages, two slots for one package or overlapping blobs, a blob whose head or trailer
//! disagrees with its slot, a checksum mismatch. No independent reader of ndb was at hand to
//! test against (Debian's rpm is built without it): the tests write databases with a writer of
//! their own that follows the same source.

use std::collections::BTreeMap;

use super::rpmdb::{parse_header, RpmPackage, RpmdbError};
use crate::limits::MAX_RPM_HEADER_BYTES;

/// Why a `Packages.db` could not be read. Offsets are file offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdbError {
    /// The header, a slot or a blob does not make sense (or lies outside the file).
    #[error("ndb Packages.db offset {offset}: {what}")]
    Format { offset: u64, what: String },
    /// The rpm header stored in a blob does not make sense.
    #[error("ndb Packages.db blob at offset {offset}, package index {pkgidx}: {source}")]
    Header {
        offset: u64,
        pkgidx: u32,
        #[source]
        source: RpmdbError,
    },
}

const PKGDB_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const PKGDB_VERSION: u32 = 0;
const HEADER_SIZE: usize = 32;
const SLOT_PAGE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLK: u64 = 16;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn err(offset: u64, what: impl Into<String>) -> NdbError {
    NdbError::Format {
        offset,
        what: what.into(),
    }
}

/// Adler-32 (RFC 1950) of `data`.
pub(crate) fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before the u32 sums may overflow.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

struct Slot {
    /// File offset of the slot.
    at: u64,
    pkgidx: u32,
    blkoff: u64,
    blkcnt: u64,
}

/// Reads every package of a `Packages.db`, in package-index (header number) order.
pub fn read_packages(db: &[u8]) -> Result<Vec<RpmPackage>, NdbError> {
    if db.len() < HEADER_SIZE {
        return Err(err(
            0,
            format!(
                "{} bytes, shorter than the {HEADER_SIZE}-byte header",
                db.len()
            ),
        ));
    }
    if &db[..4] != PKGDB_MAGIC {
        return Err(err(0, "no \"RpmP\" magic: not an ndb package database"));
    }
    let version = le32(db, 4);
    if version != PKGDB_VERSION {
        return Err(err(
            4,
            format!("version {version}, this reader knows {PKGDB_VERSION}"),
        ));
    }
    if db.len() as u64 % BLK != 0 {
        return Err(err(
            db.len() as u64,
            format!(
                "file of {} bytes, not a whole number of 16-byte blocks (truncated?)",
                db.len()
            ),
        ));
    }
    let file_blocks = db.len() as u64 / BLK;
    let slot_pages = le32(db, 12) as usize;
    if slot_pages == 0 || slot_pages > db.len() / SLOT_PAGE {
        return Err(err(
            12,
            format!(
                "{slot_pages} slot pages of {SLOT_PAGE} bytes, the file holds {} bytes",
                db.len()
            ),
        ));
    }
    let first_data_block = (slot_pages * SLOT_PAGE) as u64 / BLK;
    let mut slots = Vec::new();
    for at in (HEADER_SIZE..slot_pages * SLOT_PAGE).step_by(SLOT_SIZE) {
        let s = &db[at..at + SLOT_SIZE];
        if &s[..4] != SLOT_MAGIC {
            return Err(err(at as u64, "slot without its \"Slot\" magic"));
        }
        let (pkgidx, blkoff, blkcnt) = (le32(s, 4), u64::from(le32(s, 8)), u64::from(le32(s, 12)));
        if blkoff == 0 {
            continue;
        }
        if pkgidx == 0 || blkcnt == 0 {
            return Err(err(
                at as u64,
                format!("used slot with package index {pkgidx} and {blkcnt} blocks"),
            ));
        }
        if blkoff < first_data_block || blkoff + blkcnt > file_blocks {
            return Err(err(
                at as u64,
                format!(
                    "slot of package {pkgidx}: blocks {blkoff}..{} outside the data blocks \
                     {first_data_block}..{file_blocks}",
                    blkoff + blkcnt
                ),
            ));
        }
        slots.push(Slot {
            at: at as u64,
            pkgidx,
            blkoff,
            blkcnt,
        });
    }
    // No two slots may share a package or overlap (rpm refuses to write to such a database).
    slots.sort_by_key(|s| s.blkoff);
    for w in slots.windows(2) {
        if w[0].blkoff + w[0].blkcnt > w[1].blkoff {
            return Err(err(
                w[1].at,
                format!(
                    "the blob of package {} overlaps that of package {} (slot at offset {})",
                    w[1].pkgidx, w[0].pkgidx, w[0].at
                ),
            ));
        }
    }
    let mut by_idx: BTreeMap<u32, RpmPackage> = BTreeMap::new();
    for s in &slots {
        let start = s.blkoff * BLK;
        let blob = &db[start as usize..(start + s.blkcnt * BLK) as usize];
        let header = read_blob(blob, s, start)?;
        let pkg = parse_header(header, i64::from(s.pkgidx)).map_err(|source| NdbError::Header {
            offset: start,
            pkgidx: s.pkgidx,
            source,
        })?;
        if by_idx.insert(s.pkgidx, pkg).is_some() {
            return Err(err(
                s.at,
                format!("a second slot for package index {}", s.pkgidx),
            ));
        }
    }
    Ok(by_idx.into_values().collect())
}

/// The rpm header inside the blob `b` (the slot's blocks, at file offset `start`), after the
/// head, trailer and checksum have been checked against the slot.
fn read_blob<'a>(b: &'a [u8], s: &Slot, start: u64) -> Result<&'a [u8], NdbError> {
    if b.len() < BLOB_HEAD + BLOB_TAIL {
        return Err(err(
            s.at,
            format!(
                "slot of package {}: {} blocks, too few for a blob",
                s.pkgidx, s.blkcnt
            ),
        ));
    }
    if &b[..4] != BLOB_HEAD_MAGIC {
        return Err(err(
            start,
            format!(
                "no \"BlbS\" magic where the slot at offset {} puts package {}",
                s.at, s.pkgidx
            ),
        ));
    }
    let idx = le32(b, 4);
    if idx != s.pkgidx {
        return Err(err(
            start + 4,
            format!(
                "blob of package index {idx} where the slot says {}",
                s.pkgidx
            ),
        ));
    }
    let len = le32(b, 12) as usize;
    if len > MAX_RPM_HEADER_BYTES {
        return Err(err(
            start + 12,
            format!(
                "blob of {len} bytes, over the limit MAX_RPM_HEADER_BYTES ({MAX_RPM_HEADER_BYTES})"
            ),
        ));
    }
    let need = (BLOB_HEAD + len + BLOB_TAIL).div_ceil(BLK as usize);
    if need as u64 != s.blkcnt {
        return Err(err(
            start + 12,
            format!(
                "blob of {len} bytes needs {need} blocks, its slot (offset {}) gives {}",
                s.at, s.blkcnt
            ),
        ));
    }
    let tail = b.len() - BLOB_TAIL;
    if &b[tail + 8..] != BLOB_TAIL_MAGIC {
        return Err(err(
            start + tail as u64 + 8,
            "no \"BlbE\" magic at the end of the blob",
        ));
    }
    let tail_len = le32(b, tail + 4) as usize;
    if tail_len != len {
        return Err(err(
            start + tail as u64 + 4,
            format!("trailer says {tail_len} bytes, head says {len}"),
        ));
    }
    let stored = le32(b, tail);
    let computed = adler32(&b[..tail]);
    if stored != computed {
        return Err(err(
            start + tail as u64,
            format!("Adler-32 {stored:#010x} stored, {computed:#010x} computed: damaged blob"),
        ));
    }
    Ok(&b[BLOB_HEAD..BLOB_HEAD + len])
}

/// A writer of `Packages.db` files for the tests (one slot page, or more when the packages
/// need them), following the same layout.
#[cfg(test)]
pub(crate) fn write(packages: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let slots_needed = packages.len() + HEADER_SIZE / SLOT_SIZE;
    let slot_pages = slots_needed.div_ceil(SLOT_PAGE / SLOT_SIZE).max(1);
    let mut out = vec![0u8; slot_pages * SLOT_PAGE];
    for at in (HEADER_SIZE..out.len()).step_by(SLOT_SIZE) {
        out[at..at + 4].copy_from_slice(SLOT_MAGIC);
    }
    out[..4].copy_from_slice(PKGDB_MAGIC);
    out[8..12].copy_from_slice(&1u32.to_le_bytes());
    out[12..16].copy_from_slice(&(slot_pages as u32).to_le_bytes());
    let next = packages.iter().map(|p| p.0).max().unwrap_or(0) + 1;
    out[16..20].copy_from_slice(&next.to_le_bytes());
    for (i, (idx, header)) in packages.iter().enumerate() {
        let blkoff = out.len() / BLK as usize;
        let blkcnt = (BLOB_HEAD + header.len() + BLOB_TAIL).div_ceil(BLK as usize);
        let mut blob = Vec::new();
        blob.extend(BLOB_HEAD_MAGIC);
        blob.extend(idx.to_le_bytes());
        blob.extend(1_700_000_000u32.to_le_bytes());
        blob.extend((header.len() as u32).to_le_bytes());
        blob.extend(header);
        blob.resize(blkcnt * BLK as usize - BLOB_TAIL, 0);
        let sum = adler32(&blob);
        blob.extend(sum.to_le_bytes());
        blob.extend((header.len() as u32).to_le_bytes());
        blob.extend(BLOB_TAIL_MAGIC);
        out.extend(blob);
        let at = HEADER_SIZE + i * SLOT_SIZE;
        out[at + 4..at + 8].copy_from_slice(&idx.to_le_bytes());
        out[at + 8..at + 12].copy_from_slice(&(blkoff as u32).to_le_bytes());
        out[at + 12..at + 16].copy_from_slice(&(blkcnt as u32).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packages::rpmdb_bdb::tests::blob;

    fn sample() -> Vec<u8> {
        write(&[(3, blob("three", 0)), (1, blob("one", 5000))])
    }

    fn e(db: &[u8]) -> String {
        read_packages(db).unwrap_err().to_string()
    }

    #[test]
    fn adler32_known_values() {
        // RFC 1950's algorithm; values as zlib computes them.
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&vec![0xff; 100_000]), {
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 255) % 65521;
                b = (b + a) % 65521;
            }
            ((b << 16) | a) as u32
        });
    }

    #[test]
    fn reads_written_databases() {
        let got = read_packages(&sample()).unwrap();
        let names: Vec<(i64, &str)> = got.iter().map(|p| (p.hnum, p.name.as_str())).collect();
        assert_eq!(names, [(1, "one"), (3, "three")]);
        // More packages than one slot page holds.
        let many: Vec<(u32, Vec<u8>)> = (1..=300).map(|i| (i, blob(&format!("p{i}"), 0))).collect();
        let db = write(&many);
        assert_eq!(le32(&db, 12), 2);
        assert_eq!(read_packages(&db).unwrap().len(), 300);
        // Free slots are skipped: an empty database has no packages.
        assert_eq!(read_packages(&write(&[])).unwrap(), []);
    }

    /// Offset of the first blob (after the one slot page of `sample`).
    const B: usize = SLOT_PAGE;

    #[test]
    fn refuses_what_it_does_not_understand() {
        let good = sample();
        let with = |at: usize, bytes: &[u8]| {
            let mut d = good.clone();
            d[at..at + bytes.len()].copy_from_slice(bytes);
            e(&d)
        };
        assert!(e(&good[..10]).contains("shorter than"));
        assert!(with(0, b"RpmQ").contains("no \"RpmP\" magic"));
        assert!(with(4, &[1]).contains("version 1"));
        assert!(e(&good[..good.len() - 1]).contains("not a whole number"));
        // Truncated by whole blocks: the last blob lies past the end.
        let s = e(&good[..good.len() - 16]);
        assert!(
            s.contains("outside the data blocks") && s.contains("offset 48"),
            "{s}"
        );
        assert!(with(12, &[9]).contains("9 slot pages"));
        assert!(with(32, b"Xlot").contains("offset 32: slot without"));
        // A slot pointing into the slot pages, or past the end.
        assert!(with(40, &[1, 0, 0, 0]).contains("outside the data blocks"));
        assert!(with(40, &[0xff, 0xff, 0, 0]).contains("outside the data blocks"));
        assert!(with(36, &[0, 0, 0, 0]).contains("package index 0"));
        // Both slots on the same blob.
        let second = le32(&good, 48 + 8).to_le_bytes();
        assert!(with(40, &second).contains("overlaps"));
        // Two slots for one package index.
        let mut d = write(&[(2, blob("a", 0)), (2, blob("b", 0))]);
        assert!(e(&d).contains("a second slot for package index 2"));
        // Blob head and trailer.
        assert!(with(B, b"BlbX").contains(&format!("offset {B}: no \"BlbS\"")));
        assert!(with(B + 4, &[7]).contains("package index 7 where the slot says 3"));
        assert!(with(B + 12, &[1]).contains("needs"));
        assert!(with(B + 14, &[0, 0x40]).contains("MAX_RPM_HEADER_BYTES"));
        let first_len = le32(&good, 32 + 12) as usize * 16;
        assert!(with(B + first_len - 4, b"BlbX").contains("no \"BlbE\""));
        assert!(with(B + first_len - 8, &[1]).contains("trailer says"));
        let s = with(B + 20, &[0x55]);
        assert!(
            s.contains("Adler-32") && s.contains(&format!("offset {}", B + first_len - 12)),
            "{s}"
        );
        // A checksum that matches damaged rpm header bytes: the header parser refuses.
        d = write(&[(4, vec![0, 0, 0, 1])]);
        let s = e(&d);
        assert!(s.contains("blob at offset 4096, package index 4"), "{s}");
    }
}
