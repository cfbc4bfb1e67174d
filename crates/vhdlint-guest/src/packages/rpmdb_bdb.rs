//! rpm's package database in Berkeley DB form, `/var/lib/rpm/Packages` (rpm < 4.16: RHEL and
//! CentOS 7 and 8, SLES 12 and 15 before SP3), read from bytes without Berkeley DB itself.
//!
//! `Packages` is a Berkeley DB *hash* database. Its keys are rpm's header numbers (4 bytes, in
//! the byte order of the database), its values the packages' rpm header blobs; key 0 holds a
//! counter (the next header number) and is skipped. The reader knows just enough of the
//! format (Berkeley DB's `db_page.h` layouts, as `db_dump` and rpm's own read-only reader
//! `bdb_ro` read them) to walk every bucket:
//!
//! - the meta page (page 0): magic `0x061561` in either byte order (the database is written in
//!   the byte order of the host that made it: big-endian on s390x and ppc64), hash version 8 to
//!   10, page size, last page, `max_bucket` and the `spares` table that maps a bucket to its page;
//! - each bucket's chain of hash pages (`P_HASH`, `P_HASH_UNSORTED`) through `next_pgno`, the
//!   items on them in key/value pairs: `H_KEYDATA` (the bytes on the page) and `H_OFFPAGE` (a
//!   chain of `P_OVERFLOW` pages holding `tlen` bytes).
//!
//! Refused with an error, never guessed: other access methods (btree, recno, queue), encrypted
//! databases, page checksums, databases of several sub-databases, duplicate values
//! (`H_DUPLICATE`, `H_OFFDUP`: rpm stores one header per number, and its `bdb_ro` refuses them
//! too), a key that is not 4 bytes, a header number seen twice, a page that is not what its
//! reference says. Every page is visited at most once per read, so a loop in a bucket or
//! overflow chain is an error; every offset is checked against the page and the file.

use std::collections::BTreeMap;

use super::rpmdb::{parse_header, RpmPackage, RpmdbError};
use crate::limits::MAX_RPM_HEADER_BYTES;

/// Why a `Packages` Berkeley DB could not be read. Offsets are file offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BdbError {
    /// The meta page does not describe a Berkeley DB hash database this reader understands.
    #[error("Berkeley DB meta page, offset {offset}: {what}")]
    Meta { offset: u64, what: String },
    /// A page or an item on it does not make sense (or lies outside the file).
    #[error("Berkeley DB page {page} (file offset {offset}): {what}")]
    Page {
        page: u32,
        offset: u64,
        what: String,
    },
    /// A bucket, next-page or overflow link names a page outside the database.
    #[error("Berkeley DB: {0}")]
    Link(String),
    /// The rpm header stored under a header number does not make sense.
    #[error("Berkeley DB page {page}, header number {hnum}: {source}")]
    Header {
        page: u32,
        hnum: u32,
        #[source]
        source: RpmdbError,
    },
}

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const QUEUE_MAGIC: u32 = 0x0004_2253;

/// Page types (`db_page.h`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

/// Hash item types.
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;
const H_BLOB: u8 = 5;

/// The generic page header: lsn (8), pgno, prev_pgno, next_pgno, entries (u16), hf_offset
/// (u16), level, type.
const PAGE_HEADER: usize = 26;
const OFF_PGNO: usize = 8;
const OFF_NEXT: usize = 16;
const OFF_ENTRIES: usize = 20;
const OFF_HF_OFFSET: usize = 22;
const OFF_TYPE: usize = 25;

/// The meta page fields read (byte offsets in page 0).
const META_MAGIC: usize = 12;
const META_VERSION: usize = 16;
const META_PAGESIZE: usize = 20;
const META_ENCRYPT: usize = 24;
const META_TYPE: usize = 25;
const META_METAFLAGS: usize = 26;
const META_LAST_PGNO: usize = 32;
const META_FLAGS: usize = 48;
const META_MAX_BUCKET: usize = 72;
const META_SPARES: usize = 96;
/// Bytes of the hash meta page this reader looks at (up to the end of `spares[32]`).
const META_LEN: usize = META_SPARES + 32 * 4;

/// `metaflags` bit: pages carry checksums (their header is longer).
const DBMETA_CHKSUM: u8 = 0x01;
/// Hash meta `flags` bits: duplicates allowed, sub-databases.
const DB_HASH_SUBDB: u32 = 0x02;

/// Reads every package of a `Packages` hash database, in header-number order.
pub fn read_packages(db: &[u8]) -> Result<Vec<RpmPackage>, BdbError> {
    let file = BdbFile::open(db)?;
    let mut by_hnum: BTreeMap<u32, RpmPackage> = BTreeMap::new();
    file.walk(|page, hnum, blob| {
        if hnum == 0 {
            return Ok(());
        }
        let pkg = parse_header(blob, i64::from(hnum)).map_err(|source| BdbError::Header {
            page,
            hnum,
            source,
        })?;
        if by_hnum.insert(hnum, pkg).is_some() {
            return Err(file.page_err(page, 0, format!("header number {hnum} stored twice")));
        }
        Ok(())
    })?;
    Ok(by_hnum.into_values().collect())
}

struct BdbFile<'a> {
    data: &'a [u8],
    big_endian: bool,
    page_size: usize,
    /// Pages of the file that may be referenced: 0..=last_pgno.
    pages: u32,
    max_bucket: u32,
    spares: [u32; 32],
}

/// Pages visited once per read.
struct Visited(Vec<bool>);

impl Visited {
    /// Marks `page`; false if it was marked already.
    fn insert(&mut self, page: u32) -> bool {
        match self.0.get_mut(page as usize) {
            Some(seen) if !*seen => {
                *seen = true;
                true
            }
            _ => false,
        }
    }
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let raw: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

fn meta_err(offset: usize, what: impl Into<String>) -> BdbError {
    BdbError::Meta {
        offset: offset as u64,
        what: what.into(),
    }
}

impl<'a> BdbFile<'a> {
    fn open(data: &'a [u8]) -> Result<Self, BdbError> {
        if data.len() < META_LEN {
            return Err(meta_err(
                0,
                format!(
                    "{} bytes, shorter than the {META_LEN} bytes of a hash meta page",
                    data.len()
                ),
            ));
        }
        let le = u32_at(data, META_MAGIC, false).unwrap_or(0);
        let be = u32_at(data, META_MAGIC, true).unwrap_or(0);
        let big_endian = match (le, be) {
            (HASH_MAGIC, _) => false,
            (_, HASH_MAGIC) => true,
            (m, _) if m == BTREE_MAGIC || m.swap_bytes() == BTREE_MAGIC => {
                return Err(meta_err(
                    META_MAGIC,
                    "a Berkeley DB btree database, not hash (rpm's Packages is a hash database)",
                ))
            }
            (m, _) if m == QUEUE_MAGIC || m.swap_bytes() == QUEUE_MAGIC => {
                return Err(meta_err(
                    META_MAGIC,
                    "a Berkeley DB queue database, not hash",
                ))
            }
            (m, _) => {
                return Err(meta_err(
                    META_MAGIC,
                    format!(
                        "magic {m:#010x} is not Berkeley DB hash's 0x00061561 (either byte order)"
                    ),
                ))
            }
        };
        let u32m = |at: usize| u32_at(data, at, big_endian).unwrap_or(0);
        let version = u32m(META_VERSION);
        if !(8..=10).contains(&version) {
            return Err(meta_err(
                META_VERSION,
                format!("hash version {version}, this reader knows 8 to 10"),
            ));
        }
        let page_size = u32m(META_PAGESIZE) as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(meta_err(
                META_PAGESIZE,
                format!("page size {page_size}, expected a power of two from 512 to 65536"),
            ));
        }
        if data[META_ENCRYPT] != 0 {
            return Err(meta_err(
                META_ENCRYPT,
                format!("encrypted (algorithm {}): not read", data[META_ENCRYPT]),
            ));
        }
        if data[META_TYPE] != P_HASHMETA {
            return Err(meta_err(
                META_TYPE,
                format!(
                    "page type {}, expected the hash meta page type {P_HASHMETA}",
                    data[META_TYPE]
                ),
            ));
        }
        if data[META_METAFLAGS] & DBMETA_CHKSUM != 0 {
            return Err(meta_err(
                META_METAFLAGS,
                "pages carry checksums, a layout this reader does not know",
            ));
        }
        if u32m(META_FLAGS) & DB_HASH_SUBDB != 0 {
            return Err(meta_err(
                META_FLAGS,
                "a database of several sub-databases, not rpm's Packages",
            ));
        }
        let in_file = data.len() / page_size;
        let last = u32m(META_LAST_PGNO);
        if last as usize >= in_file {
            return Err(meta_err(
                META_LAST_PGNO,
                format!(
                    "last page {last} lies past the end of the file ({} bytes, {in_file} pages of \
                     {page_size} bytes)",
                    data.len()
                ),
            ));
        }
        let max_bucket = u32m(META_MAX_BUCKET);
        // Every bucket has a page of its own: more buckets than pages is a lie.
        if max_bucket >= last {
            return Err(meta_err(
                META_MAX_BUCKET,
                format!("max_bucket {max_bucket} but the last page is {last}"),
            ));
        }
        let mut spares = [0u32; 32];
        for (i, s) in spares.iter_mut().enumerate() {
            *s = u32m(META_SPARES + 4 * i);
        }
        Ok(BdbFile {
            data,
            big_endian,
            page_size,
            pages: last + 1,
            max_bucket,
            spares,
        })
    }

    fn page_err(&self, page: u32, within: usize, what: impl Into<String>) -> BdbError {
        BdbError::Page {
            page,
            offset: page as u64 * self.page_size as u64 + within as u64,
            what: what.into(),
        }
    }

    fn u16(&self, b: &[u8], at: usize) -> u16 {
        u16_at(b, at, self.big_endian).unwrap_or(0)
    }

    fn u32(&self, b: &[u8], at: usize) -> u32 {
        u32_at(b, at, self.big_endian).unwrap_or(0)
    }

    /// Page `no`, marked visited; `from` names what referred to it, for the error.
    fn page(
        &self,
        no: u32,
        visited: &mut Visited,
        from: &dyn Fn() -> String,
    ) -> Result<&'a [u8], BdbError> {
        if no == 0 || no >= self.pages {
            return Err(BdbError::Link(format!(
                "{} refers to page {no}, outside pages 1..={}",
                from(),
                self.pages - 1
            )));
        }
        if !visited.insert(no) {
            return Err(self.page_err(
                no,
                0,
                format!("{} refers to page {no}, already visited: a loop", from()),
            ));
        }
        let start = no as usize * self.page_size;
        let page = &self.data[start..start + self.page_size];
        let stored = self.u32(page, OFF_PGNO);
        if stored != no {
            return Err(self.page_err(
                no,
                OFF_PGNO,
                format!("page says it is page {stored} ({} referred to it)", from()),
            ));
        }
        Ok(page)
    }

    /// The page of bucket `b`: `b + spares[ceil(log2(b + 1))]`.
    fn bucket_page(&self, b: u32) -> Option<u32> {
        let log = (u32::BITS - b.leading_zeros()) as usize;
        b.checked_add(*self.spares.get(log)?)
    }

    /// Calls `f(page, header number, blob)` for every key/value pair of every bucket.
    fn walk(
        &self,
        mut f: impl FnMut(u32, u32, &[u8]) -> Result<(), BdbError>,
    ) -> Result<(), BdbError> {
        let mut visited = Visited(vec![false; self.pages as usize]);
        let mut overflow = Vec::new();
        for bucket in 0..=self.max_bucket {
            let mut no = self.bucket_page(bucket).ok_or_else(|| {
                meta_err(
                    META_SPARES,
                    format!("bucket {bucket}: its page number overflows"),
                )
            })?;
            let mut from = format!("bucket {bucket}");
            loop {
                let page = self.page(no, &mut visited, &|| from.clone())?;
                let ty = page[OFF_TYPE];
                if ty != P_HASH && ty != P_HASH_UNSORTED {
                    return Err(self.page_err(
                        no,
                        OFF_TYPE,
                        format!("page type {ty} in the chain of bucket {bucket}, expected a hash page (2 or 13)"),
                    ));
                }
                let entries = usize::from(self.u16(page, OFF_ENTRIES));
                if entries % 2 != 0 || PAGE_HEADER + 2 * entries > self.page_size {
                    return Err(self.page_err(
                        no,
                        OFF_ENTRIES,
                        format!("{entries} entries: not key/value pairs that fit the page"),
                    ));
                }
                let mut end = self.page_size;
                let mut item = |i: usize| -> Result<(usize, &'a [u8]), BdbError> {
                    let off = usize::from(self.u16(page, PAGE_HEADER + 2 * i));
                    if off < PAGE_HEADER + 2 * entries || off >= end {
                        return Err(self.page_err(
                            no,
                            PAGE_HEADER + 2 * i,
                            format!(
                                "item {i} at offset {off}, outside {}..{end}",
                                PAGE_HEADER + 2 * entries
                            ),
                        ));
                    }
                    let bytes = &page[off..end];
                    end = off;
                    Ok((off, bytes))
                };
                for pair in 0..entries / 2 {
                    let (koff, key) = item(2 * pair)?;
                    let (voff, value) = item(2 * pair + 1)?;
                    let key = self.item_bytes(no, koff, key, &mut visited, &mut overflow, "key")?;
                    if key.len() != 4 {
                        return Err(self.page_err(
                            no,
                            koff,
                            format!(
                                "a key of {} bytes, expected a 4-byte header number",
                                key.len()
                            ),
                        ));
                    }
                    let hnum = self.u32(&key, 0);
                    let value =
                        self.item_bytes(no, voff, value, &mut visited, &mut overflow, "value")?;
                    f(no, hnum, &value)?;
                }
                let next = self.u32(page, OFF_NEXT);
                if next == 0 {
                    break;
                }
                from = format!("the next-page link of page {no} (bucket {bucket})");
                no = next;
            }
        }
        Ok(())
    }

    /// The bytes of the hash item `raw` at offset `off` of page `no`: on the page
    /// (`H_KEYDATA`) or gathered from its overflow chain (`H_OFFPAGE`, into `buf`).
    fn item_bytes(
        &self,
        no: u32,
        off: usize,
        raw: &'a [u8],
        visited: &mut Visited,
        buf: &mut Vec<u8>,
        what: &str,
    ) -> Result<Vec<u8>, BdbError> {
        match raw.first().copied() {
            Some(H_KEYDATA) => Ok(raw[1..].to_vec()),
            Some(H_OFFPAGE) => {
                if raw.len() < 12 {
                    return Err(self.page_err(
                        no,
                        off,
                        format!("off-page {what} item of {} bytes, expected 12", raw.len()),
                    ));
                }
                let first = self.u32(raw, 4);
                let tlen = self.u32(raw, 8) as usize;
                self.overflow(no, off, first, tlen, visited, buf)?;
                Ok(std::mem::take(buf))
            }
            Some(H_DUPLICATE) | Some(H_OFFDUP) => {
                Err(self.page_err(
                    no,
                    off,
                    format!(
                    "a {what} with duplicate values ({}): rpm's Packages stores one header per \
                     number",
                    if raw[0] == H_DUPLICATE { "H_DUPLICATE" } else { "H_OFFDUP" }
                ),
                ))
            }
            Some(H_BLOB) => Err(self.page_err(
                no,
                off,
                format!("a {what} stored as an external blob (H_BLOB): not read"),
            )),
            Some(t) => Err(self.page_err(no, off, format!("unknown {what} item type {t}"))),
            None => Err(self.page_err(no, off, format!("empty {what} item"))),
        }
    }

    /// Gathers `tlen` bytes from the overflow chain starting at page `first`.
    fn overflow(
        &self,
        no: u32,
        off: usize,
        first: u32,
        tlen: usize,
        visited: &mut Visited,
        buf: &mut Vec<u8>,
    ) -> Result<(), BdbError> {
        if tlen == 0 {
            return Err(self.page_err(no, off, "off-page item of length 0"));
        }
        if tlen > MAX_RPM_HEADER_BYTES {
            return Err(self.page_err(
                no,
                off,
                format!(
                    "off-page item of {tlen} bytes, over the limit MAX_RPM_HEADER_BYTES \
                     ({MAX_RPM_HEADER_BYTES})"
                ),
            ));
        }
        buf.clear();
        let mut page_no = first;
        let mut from = format!("the off-page item at offset {off} of page {no}");
        while buf.len() < tlen {
            let page = self.page(page_no, visited, &|| from.clone())?;
            if page[OFF_TYPE] != P_OVERFLOW {
                return Err(self.page_err(
                    page_no,
                    OFF_TYPE,
                    format!(
                        "page type {}, expected an overflow page ({P_OVERFLOW}): {from}",
                        page[OFF_TYPE]
                    ),
                ));
            }
            let len = usize::from(self.u16(page, OFF_HF_OFFSET));
            if PAGE_HEADER + len > self.page_size || buf.len() + len > tlen {
                return Err(self.page_err(
                    page_no,
                    OFF_HF_OFFSET,
                    format!(
                        "{len} bytes on an overflow page: past the page or past the item's {tlen} \
                         bytes"
                    ),
                ));
            }
            if len == 0 {
                return Err(self.page_err(page_no, OFF_HF_OFFSET, "an empty overflow page"));
            }
            buf.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + len]);
            let next = self.u32(page, OFF_NEXT);
            if buf.len() < tlen && next == 0 {
                return Err(self.page_err(
                    page_no,
                    OFF_NEXT,
                    format!(
                        "the overflow chain ends after {} of the item's {tlen} bytes",
                        buf.len()
                    ),
                ));
            }
            from = format!("the next-page link of overflow page {page_no}");
            page_no = next;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Hand-built pages for what `db_load` does not write: loops, lying lengths and links,
    //! duplicates. Databases written by `db_load` and read back by rpm are in
    //! `tests/rpmdb_bdb.rs`.
    use super::*;

    const PS: usize = 512;

    /// A header blob with NAME, VERSION, RELEASE (and `pad` bytes of another tag).
    pub(crate) fn blob(name: &str, pad: usize) -> Vec<u8> {
        let mut data = Vec::new();
        let mut index = Vec::new();
        for (tag, s) in [(1000u32, name), (1001, "1.0"), (1002, "1")] {
            index.extend(tag.to_be_bytes());
            index.extend(6u32.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend(s.as_bytes());
            data.push(0);
        }
        index.extend(1004u32.to_be_bytes());
        index.extend(7u32.to_be_bytes());
        index.extend((data.len() as u32).to_be_bytes());
        index.extend((pad as u32).to_be_bytes());
        data.extend(vec![b'x'; pad]);
        let mut b = Vec::new();
        b.extend(4u32.to_be_bytes());
        b.extend((data.len() as u32).to_be_bytes());
        b.extend(index);
        b.extend(data);
        b
    }

    struct Db {
        be: bool,
        pages: Vec<Vec<u8>>,
    }

    impl Db {
        fn new(be: bool, max_bucket: u32) -> Self {
            let mut meta = vec![0u8; PS];
            let mut db = Db {
                be,
                pages: Vec::new(),
            };
            db.put32(&mut meta, META_MAGIC, HASH_MAGIC);
            db.put32(&mut meta, META_VERSION, 9);
            db.put32(&mut meta, META_PAGESIZE, PS as u32);
            meta[META_TYPE] = P_HASHMETA;
            db.put32(&mut meta, META_MAX_BUCKET, max_bucket);
            // Buckets 0..=max_bucket on pages 1..: spares[i] = 1 for every i.
            for i in 0..32 {
                db.put32(&mut meta, META_SPARES + 4 * i, 1);
            }
            db.pages.push(meta);
            for _ in 0..=max_bucket {
                db.add_page(P_HASH);
            }
            db
        }

        fn put16(&self, p: &mut [u8], at: usize, v: u16) {
            let b = if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            p[at..at + 2].copy_from_slice(&b);
        }

        fn put32(&self, p: &mut [u8], at: usize, v: u32) {
            let b = if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            p[at..at + 4].copy_from_slice(&b);
        }

        fn add_page(&mut self, ty: u8) -> u32 {
            let no = self.pages.len() as u32;
            let mut p = vec![0u8; PS];
            self.put32(&mut p, OFF_PGNO, no);
            p[OFF_TYPE] = ty;
            self.pages.push(p);
            no
        }

        fn link(&mut self, from: u32, to: u32) {
            let mut p = std::mem::take(&mut self.pages[from as usize]);
            self.put32(&mut p, OFF_NEXT, to);
            self.pages[from as usize] = p;
        }

        /// Appends items (already typed) to hash page `no`.
        fn items(&mut self, no: u32, items: &[Vec<u8>]) {
            let mut p = std::mem::take(&mut self.pages[no as usize]);
            let mut end = PS;
            for (i, it) in items.iter().enumerate() {
                end -= it.len();
                p[end..end + it.len()].copy_from_slice(it);
                self.put16(&mut p, PAGE_HEADER + 2 * i, end as u16);
            }
            self.put16(&mut p, OFF_ENTRIES, items.len() as u16);
            self.pages[no as usize] = p;
        }

        fn keydata(bytes: &[u8]) -> Vec<u8> {
            [&[H_KEYDATA][..], bytes].concat()
        }

        fn key(&self, n: u32) -> Vec<u8> {
            let b = if self.be {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            };
            Self::keydata(&b)
        }

        /// Stores `bytes` in a new overflow chain; returns the H_OFFPAGE item.
        fn offpage(&mut self, bytes: &[u8]) -> Vec<u8> {
            let mut first = 0;
            let mut prev = 0;
            for chunk in bytes.chunks(PS - PAGE_HEADER) {
                let no = self.add_page(P_OVERFLOW);
                let mut p = std::mem::take(&mut self.pages[no as usize]);
                p[PAGE_HEADER..PAGE_HEADER + chunk.len()].copy_from_slice(chunk);
                self.put16(&mut p, OFF_HF_OFFSET, chunk.len() as u16);
                self.pages[no as usize] = p;
                if prev == 0 {
                    first = no;
                } else {
                    self.link(prev, no);
                }
                prev = no;
            }
            let mut item = vec![H_OFFPAGE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            self.put32(&mut item, 4, first);
            self.put32(&mut item, 8, bytes.len() as u32);
            item
        }

        fn bytes(&self) -> Vec<u8> {
            let mut meta = self.pages[0].clone();
            self.put32(&mut meta, META_LAST_PGNO, self.pages.len() as u32 - 1);
            let mut out = meta;
            for p in &self.pages[1..] {
                out.extend(p);
            }
            out
        }
    }

    fn sample(be: bool) -> Db {
        let mut db = Db::new(be, 1);
        let big = db.offpage(&blob("big", 1500));
        let items = vec![
            db.key(0),
            Db::keydata(&[9, 0, 0, 0]),
            db.key(2),
            Db::keydata(&blob("small", 0)),
        ];
        db.items(1, &items);
        let items = vec![db.key(1), big];
        db.items(2, &items);
        db
    }

    #[test]
    fn reads_both_byte_orders_with_overflow() {
        for be in [false, true] {
            let got = read_packages(&sample(be).bytes()).unwrap();
            let names: Vec<(i64, &str)> = got.iter().map(|p| (p.hnum, p.name.as_str())).collect();
            assert_eq!(names, [(1, "big"), (2, "small")], "big-endian {be}");
        }
    }

    fn err(db: &[u8]) -> String {
        read_packages(db).unwrap_err().to_string()
    }

    #[test]
    fn bucket_chain_loop_is_an_error() {
        let mut db = sample(false);
        db.link(2, 1);
        let e = err(&db.bytes());
        assert!(e.contains("already visited: a loop"), "{e}");
        // A page linking to itself.
        let mut db = sample(false);
        db.link(1, 1);
        let e = err(&db.bytes());
        assert!(e.contains("page 1, already visited"), "{e}");
    }

    #[test]
    fn overflow_loop_and_lying_lengths_are_errors() {
        // The big blob's chain is pages 3..=6; make its second page point back to its first.
        let mut db = sample(false);
        assert_eq!(db.pages.len(), 7);
        db.link(4, 3);
        let e = err(&db.bytes());
        assert!(e.contains("page 3, already visited: a loop"), "{e}");
        // The chain cut short.
        let mut db = sample(false);
        db.link(5, 0);
        let e = err(&db.bytes());
        assert!(e.contains("page 5") && e.contains("ends after 1458"), "{e}");
        // A total length larger than the chain.
        let mut db = sample(false);
        let mut p = std::mem::take(&mut db.pages[2]);
        let voff = usize::from(u16::from_le_bytes([p[28], p[29]]));
        let tlen = u32::from_le_bytes(p[voff + 8..voff + 12].try_into().unwrap());
        p[voff + 8..voff + 12].copy_from_slice(&(tlen + 1).to_le_bytes());
        db.pages[2] = p;
        let e = err(&db.bytes());
        assert!(e.contains("overflow chain ends after"), "{e}");
        // Over the limit.
        let mut db = sample(false);
        let mut p = std::mem::take(&mut db.pages[2]);
        p[voff + 8..voff + 12].copy_from_slice(&(MAX_RPM_HEADER_BYTES as u32 + 1).to_le_bytes());
        db.pages[2] = p;
        let e = err(&db.bytes());
        assert!(e.contains("MAX_RPM_HEADER_BYTES"), "{e}");
    }

    #[test]
    fn duplicates_keys_and_twice_stored_numbers_are_errors() {
        for (ty, name) in [(H_DUPLICATE, "H_DUPLICATE"), (H_OFFDUP, "H_OFFDUP")] {
            let mut db = Db::new(false, 0);
            let items = vec![db.key(1), vec![ty, 0, 0, 0, 0, 0, 0, 0]];
            db.items(1, &items);
            let e = err(&db.bytes());
            assert!(e.contains(name) && e.contains("page 1"), "{e}");
        }
        let mut db = Db::new(false, 0);
        let items = vec![Db::keydata(b"Names"), Db::keydata(&blob("a", 0))];
        db.items(1, &items);
        let e = err(&db.bytes());
        assert!(
            e.contains("a key of 5 bytes, expected a 4-byte header number"),
            "{e}"
        );
        let mut db = Db::new(false, 1);
        let items = vec![db.key(7), Db::keydata(&blob("a", 0))];
        db.items(1, &items);
        db.items(2, &items);
        let e = err(&db.bytes());
        assert!(e.contains("header number 7 stored twice"), "{e}");
    }

    #[test]
    fn bad_meta_pages_are_errors() {
        let good = sample(false).bytes();
        let with = |at: usize, bytes: &[u8]| {
            let mut d = good.clone();
            d[at..at + bytes.len()].copy_from_slice(bytes);
            err(&d)
        };
        assert!(err(&good[..100]).contains("shorter than"));
        assert!(with(META_MAGIC, &0x0005_3162u32.to_le_bytes()).contains("btree"));
        assert!(with(META_MAGIC, &[1, 2, 3, 4]).contains("magic 0x04030201"));
        assert!(with(META_VERSION, &[7, 0, 0, 0]).contains("hash version 7"));
        assert!(with(META_PAGESIZE, &[0, 3, 0, 0]).contains("page size 768"));
        assert!(with(META_ENCRYPT, &[1]).contains("encrypted"));
        assert!(with(META_METAFLAGS, &[1]).contains("checksums"));
        assert!(with(META_FLAGS, &[2, 0, 0, 0]).contains("sub-databases"));
        assert!(with(META_LAST_PGNO, &[200, 0, 0, 0]).contains("past the end of the file"));
        assert!(with(META_MAX_BUCKET, &[0, 0, 0, 1]).contains("max_bucket"));
        assert!(with(META_SPARES + 4, &[0, 0, 0, 0x7f]).contains("outside pages"));
        // Truncated: the last page is cut.
        assert!(err(&good[..good.len() - 1]).contains("past the end of the file"));
    }

    #[test]
    fn bad_pages_are_errors() {
        let mut db = sample(false);
        db.pages[1][OFF_TYPE] = P_OVERFLOW;
        assert!(err(&db.bytes()).contains("expected a hash page"));
        let mut db = sample(false);
        db.pages[2][OFF_PGNO] = 9;
        assert!(err(&db.bytes()).contains("says it is page 9"));
        let mut db = sample(false);
        db.pages[1][OFF_ENTRIES] = 3;
        assert!(err(&db.bytes()).contains("3 entries"));
        let mut db = sample(false);
        db.pages[1][PAGE_HEADER..PAGE_HEADER + 2].copy_from_slice(&4u16.to_le_bytes());
        assert!(err(&db.bytes()).contains("item 0 at offset 4"));
        let mut db = sample(false);
        let off = usize::from(u16::from_le_bytes([db.pages[1][26], db.pages[1][27]]));
        db.pages[1][off] = 9;
        assert!(err(&db.bytes()).contains("unknown key item type 9"));
        // A broken rpm header names its page and number.
        let mut db = Db::new(false, 0);
        let items = vec![db.key(5), Db::keydata(&[0, 0, 0, 1])];
        db.items(1, &items);
        let e = err(&db.bytes());
        assert!(e.contains("page 1, header number 5"), "{e}");
    }
}
