//! rpm's package database in SQLite form, `/var/lib/rpm/rpmdb.sqlite` (rpm ≥ 4.16: RHEL/CentOS
//! 8+ … 9, Fedora 33+, SUSE 15 SP3+), read from bytes without SQLite itself.
//!
//! The reader knows just enough of the SQLite file format (<https://www.sqlite.org/fileformat2.html>)
//! to find table `Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)` in
//! `sqlite_schema` and walk its table b-tree; each row's blob is an rpm header, of which the
//! name, epoch, version, release and architecture are decoded.
//!
//! The input is hostile: every loop is bounded by the input's size (each page of the file is
//! visited at most once per b-tree walk, overflow pages included, so a cycle is an error), every
//! offset is checked, and no allocation exceeds what the input can back. Nothing panics.
//!
//! Not supported: the write-ahead log (`rpmdb.sqlite-wal`; rows committed to the log but not yet
//! checkpointed into the main file are not seen — rpm checkpoints on a clean close). The
//! Berkeley DB (`Packages`) and ndb (`Packages.db`) databases of older releases are read by
//! [`super::rpmdb_bdb`] and [`super::rpmdb_ndb`], with the header decoder of this module.

use std::fmt;

use crate::limits::MAX_RPM_HEADER_ENTRIES;

/// One installed package (one row of `Packages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    /// None when the header has no EPOCH tag (which rpm treats as epoch 0).
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    /// None when the header has no ARCH tag (e.g. the `gpg-pubkey` pseudo-packages).
    pub arch: Option<String>,
    /// The row's key in `Packages` (rpm's header number).
    pub hnum: i64,
}

impl RpmPackage {
    /// `[epoch:]version-release`, as `rpm -q --qf '%{EVR}'` prints it (no epoch when the header
    /// has none).
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

impl fmt::Display for RpmPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.evr())?;
        if let Some(a) = &self.arch {
            write!(f, ".{a}")?;
        }
        Ok(())
    }
}

/// Why the database could not be read. Offsets are byte offsets within the named page (page 1
/// starts at file offset 0, so its offsets are file offsets) or within the rpm header blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpmdbError {
    /// The bytes are not an SQLite 3 database (too short, bad magic).
    #[error("not an SQLite 3 database: {0}")]
    NotSqlite(String),
    /// An SQLite structure does not make sense (or lies outside the file).
    #[error("rpmdb.sqlite page {page}, offset {offset}: {what}")]
    Sqlite {
        page: u32,
        offset: usize,
        what: String,
    },
    /// `sqlite_schema` has no table `Packages`.
    #[error("rpmdb.sqlite has no table Packages")]
    NoPackagesTable,
    /// The rpm header stored in row `hnum` does not make sense.
    #[error("rpm header of row hnum {hnum}, offset {offset}: {what}")]
    RpmHeader {
        hnum: i64,
        offset: usize,
        what: String,
    },
}

/// Reads every package of an `rpmdb.sqlite` file's `Packages` table, in row (hnum) order.
pub fn read_packages(db: &[u8]) -> Result<Vec<RpmPackage>, RpmdbError> {
    let file = SqliteFile::open(db)?;
    let root = file.find_table_root("Packages")?;
    let mut packages = Vec::new();
    file.walk_table(root, |rowid, payload, page| {
        let blob = packages_blob(&file, payload, page)?;
        packages.push(parse_header(blob, rowid)?);
        Ok(())
    })?;
    Ok(packages)
}

// ---------------------------------------------------------------------------------------------
// SQLite

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const PAGE_TABLE_INTERIOR: u8 = 0x05;
const PAGE_TABLE_LEAF: u8 = 0x0D;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

struct SqliteFile<'a> {
    data: &'a [u8],
    page_size: usize,
    /// The usable size U of a page (page size minus the reserved bytes at its end).
    usable: usize,
    /// Pages present in the file (1..=page_count).
    page_count: u32,
    encoding: TextEncoding,
}

fn sqlite_err(page: u32, offset: usize, what: impl Into<String>) -> RpmdbError {
    RpmdbError::Sqlite {
        page,
        offset,
        what: what.into(),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// An SQLite varint (1–9 bytes, big-endian, 7 bits per byte, all 8 bits of a 9th) at `at`:
/// its value and length, None if it runs past the end of `b`.
fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(at.checked_add(i)?)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// A page visited once per walk: a set of page numbers.
struct Visited(Vec<bool>);

impl Visited {
    fn new(page_count: u32) -> Self {
        Visited(vec![false; page_count as usize + 1])
    }

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

impl<'a> SqliteFile<'a> {
    fn open(data: &'a [u8]) -> Result<Self, RpmdbError> {
        if data.len() < 100 {
            return Err(RpmdbError::NotSqlite(format!(
                "{} bytes, shorter than the 100-byte database header",
                data.len()
            )));
        }
        if &data[..16] != MAGIC {
            return Err(RpmdbError::NotSqlite(
                "no \"SQLite format 3\" magic at offset 0".into(),
            ));
        }
        let raw = be16(data, 16).unwrap_or(0);
        let page_size = if raw == 1 { 65536 } else { usize::from(raw) };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(sqlite_err(1, 16, format!("invalid page size {raw}")));
        }
        let reserved = usize::from(data[20]);
        let usable = page_size - reserved;
        if usable < 480 {
            return Err(sqlite_err(
                1,
                20,
                format!("{reserved} reserved bytes leave a usable page size of {usable} < 480"),
            ));
        }
        let encoding = match be32(data, 56).unwrap_or(0) {
            // 0 only in a database without a schema yet; take the default.
            0 | 1 => TextEncoding::Utf8,
            2 => TextEncoding::Utf16Le,
            3 => TextEncoding::Utf16Be,
            e => return Err(sqlite_err(1, 56, format!("invalid text encoding {e}"))),
        };
        let in_file = u32::try_from(data.len() / page_size).unwrap_or(u32::MAX);
        // The in-header database size is valid when non-zero and written by the same change
        // as the version-valid-for number.
        let declared = be32(data, 28).unwrap_or(0);
        if declared != 0 && be32(data, 24) == be32(data, 92) && declared > in_file {
            return Err(sqlite_err(
                1,
                28,
                format!(
                    "truncated file: the header declares {declared} pages of {page_size} bytes, \
                     the file holds {} bytes",
                    data.len()
                ),
            ));
        }
        Ok(SqliteFile {
            data,
            page_size,
            usable,
            page_count: in_file,
            encoding,
        })
    }

    /// The usable bytes of page `no` (1-based).
    fn page(&self, no: u32, referenced_by: (u32, usize)) -> Result<&'a [u8], RpmdbError> {
        if no == 0 || no > self.page_count {
            return Err(sqlite_err(
                referenced_by.0,
                referenced_by.1,
                format!(
                    "reference to page {no}, outside the file's {} pages",
                    self.page_count
                ),
            ));
        }
        let start = (no as usize - 1) * self.page_size;
        Ok(&self.data[start..start + self.usable])
    }

    /// The root page of table `name` (case-insensitive, as SQLite compares names).
    fn find_table_root(&self, name: &str) -> Result<u32, RpmdbError> {
        let mut found = None;
        self.walk_table(1, |_, payload, page| {
            if found.is_some() {
                return Ok(());
            }
            let rec = Record::parse(payload, page, self)?;
            let ty = rec.text(0);
            let nm = rec.text(1);
            if ty.as_deref() == Some("table") && nm.is_some_and(|n| n.eq_ignore_ascii_case(name)) {
                let root = match rec.value(3) {
                    Some(Value::Int(r)) => r,
                    _ => return Err(sqlite_err(page.0, page.1, "table row without a rootpage")),
                };
                match u32::try_from(root) {
                    Ok(r) if r >= 1 && r <= self.page_count => found = Some(r),
                    _ => {
                        return Err(sqlite_err(
                            page.0,
                            page.1,
                            format!("table {name} has root page {root}, outside the file"),
                        ));
                    }
                }
            }
            Ok(())
        })?;
        found.ok_or(RpmdbError::NoPackagesTable)
    }

    /// Walks the table b-tree rooted at `root` in rowid order, calling `row(rowid, payload,
    /// (page, offset of the cell))` for each leaf cell with its payload reassembled from the
    /// overflow chain. Each page is visited at most once (overflow pages included): a page
    /// reached twice is a cycle (or a shared page) and an error.
    fn walk_table(
        &self,
        root: u32,
        mut row: impl FnMut(i64, &[u8], (u32, usize)) -> Result<(), RpmdbError>,
    ) -> Result<(), RpmdbError> {
        let mut visited = Visited::new(self.page_count);
        // Pages to visit, with where they were referenced from; popped in rowid order.
        let mut stack: Vec<(u32, (u32, usize))> = vec![(root, (1, 0))];
        let mut payload = Vec::new();
        while let Some((no, from)) = stack.pop() {
            let page = self.page(no, from)?;
            if !visited.insert(no) {
                return Err(sqlite_err(
                    from.0,
                    from.1,
                    format!("b-tree page {no} reached twice (a cycle)"),
                ));
            }
            let hdr = if no == 1 { 100 } else { 0 };
            let kind = page[hdr];
            let (hdr_len, interior) = match kind {
                PAGE_TABLE_LEAF => (8, false),
                PAGE_TABLE_INTERIOR => (12, true),
                k => {
                    return Err(sqlite_err(
                        no,
                        hdr,
                        format!("page type 0x{k:02x}, expected a table b-tree page"),
                    ));
                }
            };
            let cells = usize::from(be16(page, hdr + 3).unwrap_or(0));
            let ptrs = hdr + hdr_len;
            if ptrs + 2 * cells > page.len() {
                return Err(sqlite_err(
                    no,
                    hdr + 3,
                    format!("{cells} cells do not fit in the page"),
                ));
            }
            let cell_at = |i: usize| -> Result<usize, RpmdbError> {
                let off = usize::from(be16(page, ptrs + 2 * i).unwrap_or(0));
                if off < ptrs + 2 * cells || off >= page.len() {
                    return Err(sqlite_err(
                        no,
                        ptrs + 2 * i,
                        format!("cell {i} at offset {off}, outside the cell content area"),
                    ));
                }
                Ok(off)
            };
            if interior {
                let right = be32(page, hdr + 8).unwrap_or(0);
                stack.push((right, (no, hdr + 8)));
                for i in (0..cells).rev() {
                    let off = cell_at(i)?;
                    let child = be32(page, off)
                        .ok_or_else(|| sqlite_err(no, off, "interior cell past the page end"))?;
                    stack.push((child, (no, off)));
                }
                continue;
            }
            // Cells may not overlap: their bytes add up to at most the content area, which
            // bounds the bytes copied per page (hostile pointers could name one cell many times).
            let mut budget = page.len() - (ptrs + 2 * cells);
            for i in 0..cells {
                let off = cell_at(i)?;
                let (size, n1) = varint(page, off)
                    .ok_or_else(|| sqlite_err(no, off, "payload size varint past the page end"))?;
                let (rowid, n2) = varint(page, off + n1)
                    .ok_or_else(|| sqlite_err(no, off, "rowid varint past the page end"))?;
                let local = self.local_size(size);
                let spills = (local as u64) < size;
                let start = off + n1 + n2;
                let end = start + local + if spills { 4 } else { 0 };
                if end > page.len() {
                    return Err(sqlite_err(
                        no,
                        off,
                        format!(
                            "cell payload of {size} bytes ({local} local) runs past the page end"
                        ),
                    ));
                }
                budget = budget.checked_sub(end - off).ok_or_else(|| {
                    sqlite_err(
                        no,
                        ptrs + 2 * i,
                        "cells overlap: they add up to more than the page holds",
                    )
                })?;
                let first_overflow = if spills {
                    be32(page, start + local).unwrap_or(0)
                } else {
                    0
                };
                self.read_payload(
                    &page[start..start + local],
                    first_overflow,
                    (no, start + local),
                    size,
                    &mut visited,
                    &mut payload,
                )?;
                row(rowid as i64, &payload, (no, off))?;
            }
        }
        Ok(())
    }

    /// How many bytes of a `size`-byte table leaf payload are stored in the cell itself (the
    /// rest spills to overflow pages).
    fn local_size(&self, size: u64) -> usize {
        let u = self.usable as u64;
        let x = u - 35;
        if size <= x {
            return size as usize;
        }
        let m = ((u - 12) * 32 / 255) - 23;
        let k = m + ((size - m) % (u - 4));
        (if k <= x { k } else { m }) as usize
    }

    /// Reassembles into `out` the `size`-byte payload of a table leaf cell from its `local`
    /// bytes and, if they are fewer than `size`, the chain of overflow pages starting at
    /// `first_overflow` (whose number is stored at `pointer`).
    fn read_payload(
        &self,
        local: &[u8],
        first_overflow: u32,
        pointer: (u32, usize),
        size: u64,
        visited: &mut Visited,
        out: &mut Vec<u8>,
    ) -> Result<(), RpmdbError> {
        out.clear();
        if local.len() as u64 >= size {
            out.extend_from_slice(local);
            return Ok(());
        }
        // The overflow part must fit in the file's pages: this also bounds the allocation.
        let per_page = self.usable as u64 - 4;
        let rest = size - local.len() as u64;
        if rest.div_ceil(per_page) > u64::from(self.page_count) {
            return Err(sqlite_err(
                pointer.0,
                pointer.1,
                format!("cell payload of {size} bytes, more than the file holds"),
            ));
        }
        out.reserve_exact(size as usize);
        out.extend_from_slice(local);
        let mut next = first_overflow;
        let mut from = pointer;
        while (out.len() as u64) < size {
            let ov = self.page(next, from)?;
            if !visited.insert(next) {
                return Err(sqlite_err(
                    from.0,
                    from.1,
                    format!("overflow page {next} reached twice (a cycle)"),
                ));
            }
            let want = (size - out.len() as u64).min(per_page) as usize;
            out.extend_from_slice(&ov[4..4 + want]);
            from = (next, 0);
            next = be32(ov, 0).unwrap_or(0);
        }
        Ok(())
    }

    fn decode_text(&self, b: &[u8]) -> String {
        let units = |f: fn([u8; 2]) -> u16| {
            b.chunks_exact(2)
                .map(|c| f([c[0], c[1]]))
                .collect::<Vec<u16>>()
        };
        match self.encoding {
            TextEncoding::Utf8 => String::from_utf8_lossy(b).into_owned(),
            TextEncoding::Utf16Le => String::from_utf16_lossy(&units(u16::from_le_bytes)),
            TextEncoding::Utf16Be => String::from_utf16_lossy(&units(u16::from_be_bytes)),
        }
    }
}

/// A column value of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value<'p> {
    Null,
    Int(i64),
    Float(f64),
    Blob(&'p [u8]),
    Text(&'p [u8]),
}

/// A record (row) in the SQLite record format: a header of serial types, then the values.
struct Record<'p, 'f> {
    values: Vec<Value<'p>>,
    file: &'f SqliteFile<'f>,
}

impl<'p, 'f> Record<'p, 'f> {
    fn parse(
        payload: &'p [u8],
        at: (u32, usize),
        file: &'f SqliteFile<'f>,
    ) -> Result<Self, RpmdbError> {
        let bad = |what: String| sqlite_err(at.0, at.1, format!("record: {what}"));
        let (hsize, n) =
            varint(payload, 0).ok_or_else(|| bad("header size varint past the payload".into()))?;
        let hsize = usize::try_from(hsize).unwrap_or(usize::MAX);
        if hsize > payload.len() || hsize < n {
            return Err(bad(format!(
                "header of {hsize} bytes in a payload of {}",
                payload.len()
            )));
        }
        let mut pos = n;
        let mut body = hsize;
        let mut values = Vec::new();
        while pos < hsize {
            let (st, len) = varint(&payload[..hsize], pos)
                .ok_or_else(|| bad(format!("serial type varint at {pos} past the header")))?;
            pos += len;
            let size: usize = match st {
                0 | 8 | 9 => 0,
                1..=4 => st as usize,
                5 => 6,
                6 | 7 => 8,
                10 | 11 => return Err(bad(format!("reserved serial type {st}"))),
                n => usize::try_from((n - 12) / 2).unwrap_or(usize::MAX),
            };
            let bytes = payload
                .get(body..body.saturating_add(size))
                .ok_or_else(|| {
                    bad(format!(
                        "value of {size} bytes at {body}, past the payload of {}",
                        payload.len()
                    ))
                })?;
            body += size;
            let int = || {
                let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                    -1
                } else {
                    0
                };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                v
            };
            values.push(match st {
                0 => Value::Null,
                1..=6 => Value::Int(int()),
                7 => Value::Float(f64::from_bits(int() as u64)),
                8 => Value::Int(0),
                9 => Value::Int(1),
                n if n % 2 == 0 => Value::Blob(bytes),
                _ => Value::Text(bytes),
            });
        }
        Ok(Record { values, file })
    }

    fn value(&self, i: usize) -> Option<Value<'p>> {
        self.values.get(i).copied()
    }

    fn text(&self, i: usize) -> Option<String> {
        match self.value(i)? {
            Value::Text(t) => Some(self.file.decode_text(t)),
            _ => None,
        }
    }
}

/// The `blob` column (the second) of a `Packages` row.
fn packages_blob<'p>(
    file: &SqliteFile<'_>,
    payload: &'p [u8],
    at: (u32, usize),
) -> Result<&'p [u8], RpmdbError> {
    let rec = Record::parse(payload, at, file)?;
    match rec.value(1) {
        Some(Value::Blob(b)) => Ok(b),
        other => Err(sqlite_err(
            at.0,
            at.1,
            format!(
                "Packages row: column blob is {}, expected a BLOB",
                match other {
                    None => "missing",
                    Some(Value::Null) => "NULL",
                    Some(Value::Int(_)) => "an integer",
                    Some(Value::Float(_)) => "a float",
                    Some(Value::Text(_)) => "TEXT",
                    Some(Value::Blob(_)) => unreachable!(),
                }
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// rpm header

const HEADER_MAGIC: [u8; 3] = [0x8e, 0xad, 0xe8];
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;

/// Decodes the fields of an rpm header blob (shared by the three database readers) (`il`, `dl`, index entries, data store; optionally
/// preceded by the 8-byte header magic).
pub(crate) fn parse_header(blob: &[u8], hnum: i64) -> Result<RpmPackage, RpmdbError> {
    let bad = |offset: usize, what: String| RpmdbError::RpmHeader { hnum, offset, what };
    let base = if blob.starts_with(&HEADER_MAGIC) {
        8
    } else {
        0
    };
    let il = be32(blob, base).ok_or_else(|| bad(base, "blob too short for il".into()))?;
    let dl = be32(blob, base + 4).ok_or_else(|| bad(base + 4, "blob too short for dl".into()))?;
    if il > MAX_RPM_HEADER_ENTRIES {
        return Err(bad(
            base,
            format!("{il} index entries, over the limit of {MAX_RPM_HEADER_ENTRIES}"),
        ));
    }
    let index = base + 8;
    let store = index + 16 * il as usize;
    let end = store
        .checked_add(dl as usize)
        .filter(|&e| e <= blob.len())
        .ok_or_else(|| {
            bad(
                base,
                format!(
                    "{il} index entries and {dl} data bytes do not fit in a blob of {} bytes",
                    blob.len()
                ),
            )
        })?;
    let data = &blob[store..end];
    let (mut name, mut version, mut release, mut epoch, mut arch) = (None, None, None, None, None);
    for i in 0..il as usize {
        let e = index + 16 * i;
        let field = |k: usize| be32(blob, e + 4 * k).unwrap_or(0);
        let (tag, ty, off, count) = (field(0), field(1), field(2) as usize, field(3));
        let slot = match tag {
            TAG_NAME => &mut name,
            TAG_VERSION => &mut version,
            TAG_RELEASE => &mut release,
            TAG_ARCH => &mut arch,
            TAG_EPOCH => {
                if epoch.is_none() {
                    if ty != TYPE_INT32 || count == 0 {
                        return Err(bad(
                            e,
                            format!("EPOCH of type {ty} and count {count}, expected INT32"),
                        ));
                    }
                    epoch = Some(be32(data, off).ok_or_else(|| {
                        bad(
                            e + 8,
                            format!("EPOCH at data offset {off}, past the {dl}-byte data store"),
                        )
                    })?);
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_some() {
            continue;
        }
        if ty != TYPE_STRING {
            return Err(bad(
                e,
                format!("tag {tag} of type {ty}, expected STRING (6)"),
            ));
        }
        let s = data
            .get(off..)
            .and_then(|d| d.iter().position(|&b| b == 0).map(|n| &d[..n]))
            .ok_or_else(|| {
                bad(
                    e + 8,
                    format!(
                        "tag {tag}: string at data offset {off} not NUL-terminated within the \
                         {dl}-byte data store"
                    ),
                )
            })?;
        *slot = Some(String::from_utf8_lossy(s).into_owned());
    }
    let need = |v: Option<String>, what: &str| v.ok_or_else(|| bad(base, format!("no {what} tag")));
    Ok(RpmPackage {
        name: need(name, "NAME")?,
        epoch,
        version: need(version, "VERSION")?,
        release: need(release, "RELEASE")?,
        arch,
        hnum,
    })
}

#[cfg(test)]
mod tests {
    //! Hand-built databases (512-byte pages) for the cases real ones do not show: cycles in
    //! overflow chains, lying sizes, broken rpm headers. Real databases made by `rpm` are
    //! in `tests/rpmdb.rs`.
    use super::*;

    const PS: usize = 512;

    fn enc_varint(v: u64) -> Vec<u8> {
        if v > 0x00ff_ffff_ffff_ffff {
            let mut out: Vec<u8> = (0..8)
                .map(|i| ((v >> (8 + 7 * (7 - i))) & 0x7f) as u8 | 0x80)
                .collect();
            out.push(v as u8);
            return out;
        }
        let mut groups = vec![(v & 0x7f) as u8];
        let mut rest = v >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        groups.reverse();
        groups
    }

    enum Col<'a> {
        Null,
        Int(i64),
        Text(&'a str),
        Blob(&'a [u8]),
    }

    fn record(cols: &[Col]) -> Vec<u8> {
        let (mut types, mut body) = (Vec::new(), Vec::new());
        for c in cols {
            match c {
                Col::Null => types.push(0),
                Col::Int(i) => {
                    types.push(6);
                    body.extend_from_slice(&i.to_be_bytes());
                }
                Col::Text(t) => {
                    types.push(t.len() as u64 * 2 + 13);
                    body.extend_from_slice(t.as_bytes());
                }
                Col::Blob(b) => {
                    types.push(b.len() as u64 * 2 + 12);
                    body.extend_from_slice(b);
                }
            }
        }
        let types: Vec<u8> = types.into_iter().flat_map(enc_varint).collect();
        // The header size counts itself (one byte here: headers stay under 128 bytes).
        let mut out = enc_varint(types.len() as u64 + 1);
        out.extend(types);
        out.extend(body);
        out
    }

    /// A table leaf page holding `cells` (content packed at the end).
    fn leaf(first: bool, cells: &[Vec<u8>]) -> Vec<u8> {
        let mut page = vec![0u8; PS];
        let hdr = if first { 100 } else { 0 };
        page[hdr] = PAGE_TABLE_LEAF;
        page[hdr + 3..hdr + 5].copy_from_slice(&(cells.len() as u16).to_be_bytes());
        let mut end = PS;
        for (i, c) in cells.iter().enumerate() {
            end -= c.len();
            page[end..end + c.len()].copy_from_slice(c);
            let p = hdr + 8 + 2 * i;
            page[p..p + 2].copy_from_slice(&(end as u16).to_be_bytes());
        }
        page[hdr + 5..hdr + 7].copy_from_slice(&(end as u16).to_be_bytes());
        page
    }

    /// A database whose `Packages` (root page 2, one leaf) holds `rows`; payloads over a page
    /// spill to overflow pages appended after page 2.
    fn build(rows: &[(i64, Vec<u8>)]) -> Vec<u8> {
        let schema = record(&[
            Col::Text("table"),
            Col::Text("Packages"),
            Col::Text("Packages"),
            Col::Int(2),
            Col::Text("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY, blob BLOB)"),
        ]);
        let mut overflow: Vec<Vec<u8>> = Vec::new();
        let mut cells = Vec::new();
        for (rowid, blob) in rows {
            let payload = record(&[Col::Null, Col::Blob(blob)]);
            let (u, n) = (PS, payload.len());
            let local = if n <= u - 35 {
                n
            } else {
                let m = ((u - 12) * 32 / 255) - 23;
                let k = m + (n - m) % (u - 4);
                if k <= u - 35 {
                    k
                } else {
                    m
                }
            };
            let mut cell = enc_varint(n as u64);
            cell.extend(enc_varint(*rowid as u64));
            cell.extend_from_slice(&payload[..local]);
            let chunks: Vec<&[u8]> = payload[local..].chunks(u - 4).collect();
            if !chunks.is_empty() {
                let first = 3 + overflow.len() as u32;
                cell.extend_from_slice(&first.to_be_bytes());
                for (i, c) in chunks.iter().enumerate() {
                    let next = if i + 1 < chunks.len() {
                        first + i as u32 + 1
                    } else {
                        0
                    };
                    let mut page = next.to_be_bytes().to_vec();
                    page.extend_from_slice(c);
                    page.resize(PS, 0);
                    overflow.push(page);
                }
            }
            cells.push(cell);
        }
        let mut schema_cell = enc_varint(schema.len() as u64);
        schema_cell.push(1);
        schema_cell.extend(schema);
        let mut db = leaf(true, &[schema_cell]);
        db[..16].copy_from_slice(MAGIC);
        db[16..18].copy_from_slice(&(PS as u16).to_be_bytes());
        db[18] = 1;
        db[19] = 1;
        db[21] = 64;
        db[22] = 32;
        db[23] = 32;
        let pages = 2 + overflow.len() as u32;
        db[28..32].copy_from_slice(&pages.to_be_bytes());
        db[56..60].copy_from_slice(&1u32.to_be_bytes());
        db.extend(leaf(false, &cells));
        for p in overflow {
            db.extend(p);
        }
        db
    }

    /// An rpm header (without magic) of the given (tag, type, count, data) entries.
    fn header(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, count, d) in entries {
            for v in [*tag, *ty, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(d);
        }
        let mut out = (entries.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    fn pkg_header(name: &str, epoch: Option<u32>, pad: usize) -> Vec<u8> {
        let mut e = vec![
            (63, 7, 16, vec![0; 16]),
            (TAG_NAME, TYPE_STRING, 1, s(name)),
            (TAG_VERSION, TYPE_STRING, 1, s("1.0")),
            (TAG_RELEASE, TYPE_STRING, 1, s("3.el9")),
            (TAG_ARCH, TYPE_STRING, 1, s("x86_64")),
            (1004, TYPE_STRING, 1, s(&"x".repeat(pad))),
        ];
        if let Some(ep) = epoch {
            e.push((TAG_EPOCH, TYPE_INT32, 1, ep.to_be_bytes().to_vec()));
        }
        header(&e)
    }

    fn sample() -> Vec<u8> {
        build(&[
            (1, pkg_header("bash", None, 10)),
            (7, pkg_header("kernel", Some(3), 2000)),
        ])
    }

    #[test]
    fn varints() {
        for v in [
            0,
            1,
            127,
            128,
            16383,
            16384,
            1 << 40,
            u64::MAX,
            0x00ff_ffff_ffff_ffff,
        ] {
            let e = enc_varint(v);
            assert_eq!(varint(&e, 0), Some((v, e.len())), "{v}");
        }
        assert_eq!(varint(&[0x81], 0), None);
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
    }

    #[test]
    fn reads_hand_built_db_with_overflow_chain() {
        let db = sample();
        assert!(
            db.len() / PS >= 6,
            "the kernel row spans several overflow pages"
        );
        let got = read_packages(&db).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "bash");
        assert_eq!(got[0].hnum, 1);
        assert_eq!(got[0].evr(), "1.0-3.el9");
        assert_eq!(got[1].name, "kernel");
        assert_eq!(got[1].hnum, 7);
        assert_eq!(got[1].evr(), "3:1.0-3.el9");
        assert_eq!(got[1].arch.as_deref(), Some("x86_64"));
        assert_eq!(got[1].to_string(), "kernel-3:1.0-3.el9.x86_64");
    }

    #[test]
    fn header_with_magic_prefix() {
        let mut blob = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
        blob.extend(pkg_header("zlib", Some(0), 0));
        let p = parse_header(&blob, 5).unwrap();
        assert_eq!((p.name.as_str(), p.epoch, p.hnum), ("zlib", Some(0), 5));
    }

    #[test]
    fn overflow_cycle_is_an_error() {
        let mut db = sample();
        // Pages 3.. are the kernel row's chain: make page 4 point back to page 3.
        db[3 * PS..3 * PS + 4].copy_from_slice(&3u32.to_be_bytes());
        let e = read_packages(&db).unwrap_err();
        assert_eq!(
            e,
            RpmdbError::Sqlite {
                page: 4,
                offset: 0,
                what: "overflow page 3 reached twice (a cycle)".into()
            }
        );
        // A chain ending early (next page 0).
        let mut db = sample();
        db[3 * PS..3 * PS + 4].copy_from_slice(&0u32.to_be_bytes());
        let e = read_packages(&db).unwrap_err().to_string();
        assert!(e.contains("page 4, offset 0: reference to page 0"), "{e}");
    }

    #[test]
    fn btree_cycle_is_an_error() {
        let mut db = sample();
        // Page 2 becomes an interior page whose right-most child is itself.
        db[PS] = PAGE_TABLE_INTERIOR;
        db[PS + 3..PS + 5].copy_from_slice(&0u16.to_be_bytes());
        db[PS + 8..PS + 12].copy_from_slice(&2u32.to_be_bytes());
        let e = read_packages(&db).unwrap_err().to_string();
        assert!(
            e.contains("page 2, offset 8: b-tree page 2 reached twice"),
            "{e}"
        );
        // Its child the schema page.
        db[PS + 8..PS + 12].copy_from_slice(&1u32.to_be_bytes());
        assert!(read_packages(&db).is_err());
        // Beyond the file.
        db[PS + 8..PS + 12].copy_from_slice(&99u32.to_be_bytes());
        let e = read_packages(&db).unwrap_err().to_string();
        assert!(e.contains("reference to page 99"), "{e}");
    }

    #[test]
    fn lying_payload_size_is_an_error() {
        for claim in [600u64, 1 << 20, 1 << 40, u64::MAX] {
            let mut cell = enc_varint(claim);
            cell.extend(enc_varint(1));
            cell.extend(vec![0u8; 40]);
            cell.extend_from_slice(&3u32.to_be_bytes());
            let mut db = build(&[]);
            db.truncate(PS);
            db.extend(leaf(false, &[cell]));
            db[28..32].copy_from_slice(&2u32.to_be_bytes());
            let e = read_packages(&db).unwrap_err();
            assert!(
                matches!(e, RpmdbError::Sqlite { page: 2, .. }),
                "{claim}: {e}"
            );
        }
    }

    #[test]
    fn bad_files() {
        let db = sample();
        assert!(matches!(
            read_packages(&db[..99]),
            Err(RpmdbError::NotSqlite(_))
        ));
        // Truncated: the header's page count is larger than the file.
        let e = read_packages(&db[..db.len() - 1]).unwrap_err().to_string();
        assert!(e.contains("page 1, offset 28: truncated"), "{e}");
        let mut bad = db.clone();
        bad[56] = 9;
        assert!(read_packages(&bad)
            .unwrap_err()
            .to_string()
            .contains("offset 56"));
        let mut bad = db.clone();
        bad[20] = 100;
        assert!(read_packages(&bad)
            .unwrap_err()
            .to_string()
            .contains("offset 20"));
        // Not a table page.
        let mut bad = db.clone();
        bad[PS] = 0x0A;
        let e = read_packages(&bad).unwrap_err().to_string();
        assert!(e.contains("page 2, offset 0: page type 0x0a"), "{e}");
        // Too many cells.
        let mut bad = db.clone();
        bad[PS + 3..PS + 5].copy_from_slice(&300u16.to_be_bytes());
        assert!(read_packages(&bad).is_err());
        // A cell pointer into the pointer array.
        let mut bad = db.clone();
        bad[PS + 8..PS + 10].copy_from_slice(&2u16.to_be_bytes());
        assert!(read_packages(&bad).is_err());
        // Two cell pointers naming the same cell: its overflow chain is reached twice.
        let mut bad = db.clone();
        bad.copy_within(PS + 10..PS + 12, PS + 8);
        let e = read_packages(&bad).unwrap_err().to_string();
        assert!(e.contains("overflow page 3 reached twice"), "{e}");
        // Cells without overflow, overlapping: more cell bytes than the page holds.
        let mut bad = build(&[(1, pkg_header("bash", None, 250))]);
        bad[PS + 3..PS + 5].copy_from_slice(&2u16.to_be_bytes());
        bad.copy_within(PS + 8..PS + 10, PS + 10);
        let e = read_packages(&bad).unwrap_err().to_string();
        assert!(e.contains("page 2, offset 10: cells overlap"), "{e}");
        // No Packages table.
        let mut bad = db.clone();
        let at = bad.windows(8).position(|w| w == b"Packages").unwrap();
        bad[at] = b'X';
        assert_eq!(read_packages(&bad), Err(RpmdbError::NoPackagesTable));
    }

    #[test]
    fn bad_records() {
        // Reserved serial type, text instead of blob, a value past the payload.
        for payload in [
            vec![3, 0, 10],
            record(&[Col::Null, Col::Text("x")]),
            vec![2, 40],
        ] {
            let mut cell = enc_varint(payload.len() as u64);
            cell.push(1);
            cell.extend(payload);
            let mut db = build(&[]);
            db.truncate(PS);
            db.extend(leaf(false, &[cell]));
            let e = read_packages(&db).unwrap_err();
            assert!(matches!(e, RpmdbError::Sqlite { page: 2, .. }), "{e}");
        }
    }

    #[test]
    fn rpm_header_entries_past_the_limit() {
        // 100,001 real index entries (1.6 MB), each a 4-byte integer tag.
        let n = MAX_RPM_HEADER_ENTRIES + 1;
        let entries: Vec<(u32, u32, u32, Vec<u8>)> = (0..n)
            .map(|i| (5000 + i, TYPE_INT32, 1, i.to_be_bytes().to_vec()))
            .collect();
        let blob = header(&entries);
        let start = std::time::Instant::now();
        let e = parse_header(&blob, 3).unwrap_err().to_string();
        let took = start.elapsed();
        let limit = std::time::Duration::from_secs(if cfg!(debug_assertions) { 3 } else { 1 });
        assert!(took < limit, "{took:?}");
        assert!(
            e.contains(&format!(
                "{n} index entries, over the limit of {MAX_RPM_HEADER_ENTRIES}"
            )),
            "{e}"
        );
        // One entry fewer is read.
        assert!(parse_header(&header(&entries[1..]), 3)
            .is_err_and(|e| !e.to_string().contains("limit")));
    }

    #[test]
    fn bad_rpm_headers() {
        let ok = pkg_header("a", Some(1), 0);
        assert!(parse_header(&ok, 1).is_ok());
        let err = |blob: &[u8]| parse_header(blob, 9).unwrap_err().to_string();
        assert!(err(&[]).contains("too short"));
        let mut b = ok.clone();
        b[..4].copy_from_slice(&200_000u32.to_be_bytes());
        assert!(err(&b).contains("over the limit"));
        let mut b = ok.clone();
        b[..4].copy_from_slice(&1000u32.to_be_bytes());
        assert!(err(&b).contains("do not fit"));
        let mut b = ok.clone();
        b[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(err(&b).contains("do not fit"));
        // Unterminated string, offset out of range, wrong types, missing tags.
        let e = err(&header(&[(TAG_NAME, TYPE_STRING, 1, b"abc".to_vec())]));
        assert!(
            e.contains("hnum 9, offset 16: tag 1000: string at data offset 0 not NUL"),
            "{e}"
        );
        let mut b = header(&[(TAG_NAME, TYPE_STRING, 1, s("abc"))]);
        b[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(err(&b).contains("not NUL-terminated"));
        let e = err(&header(&[(TAG_NAME, 4, 1, vec![0; 4])]));
        assert!(e.contains("expected STRING"), "{e}");
        let e = err(&header(&[(TAG_EPOCH, TYPE_STRING, 1, s("1"))]));
        assert!(e.contains("EPOCH of type 6"), "{e}");
        let e = err(&header(&[(TAG_EPOCH, TYPE_INT32, 1, vec![0; 2])]));
        assert!(e.contains("past the 2-byte data store"), "{e}");
        let e = err(&header(&[(TAG_NAME, TYPE_STRING, 1, s("n"))]));
        assert!(e.contains("no VERSION tag"), "{e}");
        // No ARCH (gpg-pubkey): fine.
        let p = parse_header(
            &header(&[
                (TAG_NAME, TYPE_STRING, 1, s("gpg-pubkey")),
                (TAG_VERSION, TYPE_STRING, 1, s("fd431d51")),
                (TAG_RELEASE, TYPE_STRING, 1, s("4ae0493b")),
            ]),
            2,
        )
        .unwrap();
        assert_eq!(
            (p.arch.as_deref(), p.evr().as_str()),
            (None, "fd431d51-4ae0493b")
        );
    }

    proptest::proptest! {
        #[test]
        fn mutated_hand_built_db_never_panics(
            edits in proptest::collection::vec((0usize..8 * PS, proptest::prelude::any::<u8>()), 1..16),
            cut in 0usize..8 * PS,
        ) {
            let mut db = sample();
            for (at, v) in edits {
                let n = db.len();
                db[at % n] = v;
            }
            db.truncate(cut.max(100));
            let _ = read_packages(&db);
        }

        #[test]
        fn arbitrary_headers_never_panic(blob in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_header(&blob, 0);
            let mut b = pkg_header("a", Some(1), 0);
            b.extend(&blob);
            let _ = parse_header(&b, 0);
        }
    }
}
