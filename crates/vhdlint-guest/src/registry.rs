//! A reader of Windows registry hive files (the regf format), for the SYSTEM and SOFTWARE
//! hives of a Windows image (`\Windows\System32\config\SYSTEM`, `SOFTWARE`).
//!
//! The format: a 4096-byte base block ("regf", sequence numbers, root cell offset, size of
//! the hive bins data, checksum), then hive bins ("hbin", 4096-byte multiples) holding cells.
//! A cell offset is relative to the first hbin (file offset 0x1000); a cell starts with its
//! size as an i32, negative when allocated. Cells: `nk` keys, `vk` values, subkey lists
//! (`lf`, `lh`, `li`, and `ri` indexes of lists), value lists, data, `db` big data and `sk`
//! security descriptors.
//!
//! Hostile input is expected: every reference is bounds-checked inside the hbins data, list
//! counts are checked against their cell's size and against [`MAX_HIVE_SUBKEYS`] and
//! [`MAX_HIVE_VALUES`], `ri` nesting is bounded, cycles are detected, and nothing panics. The
//! cells one list (or one walk) decodes may not add up to more bytes than the hive holds, so
//! a list naming the same cell over and over cannot make it allocate more than the hive's
//! size. Errors name what was read and the cell offset.

use std::collections::HashSet;

use crate::limits::{
    MAX_HIVE_KEY_DEPTH, MAX_HIVE_PATH_COMPONENTS, MAX_HIVE_RI_DEPTH, MAX_HIVE_SUBKEYS,
    MAX_HIVE_VALUES,
};

/// Where the hive bins begin in the file.
const BINS_START: usize = 0x1000;
/// Bytes of the base block that the checksum covers.
const CHECKSUM_AT: usize = 0x1FC;
/// The data held by one big-data segment.
const BIG_SEGMENT: usize = 16344;
/// The smallest cell holding a key: size field and the fixed part of `nk`.
const MIN_NK_CELL: usize = 4 + NK_FIXED;
const NK_FIXED: usize = 0x4C;
const VK_FIXED: usize = 0x14;
/// Unset cell reference.
const NONE: u32 = u32::MAX;

pub const REG_NONE: u32 = 0;
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
pub const REG_LINK: u32 = 6;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

/// What went wrong reading a hive; each names what was read and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    #[error("not a registry hive: {0}")]
    NotAHive(String),
    #[error("{what}: cell at offset {offset:#x} points outside the hive")]
    OutOfBounds { what: String, offset: u32 },
    #[error("{what} at offset {offset:#x}: {problem}")]
    Corrupt {
        what: String,
        offset: u32,
        problem: String,
    },
    #[error("value {name:?} at offset {offset:#x} is of type {found}, not {expected}")]
    WrongType {
        name: String,
        offset: u32,
        found: u32,
        expected: &'static str,
    },
    #[error("{0} not found in the hive")]
    Missing(String),
    /// A bound of [`crate::limits`] was reached.
    #[error("{what} at offset {offset:#x}: {problem}")]
    Limit {
        what: String,
        offset: u32,
        problem: String,
    },
}

/// A reference being followed: what it is meant to be and the cell holding it.
#[derive(Clone, Copy)]
struct Ref {
    what: &'static str,
    /// The cell holding the reference; `NONE` for the base block.
    from: u32,
}

impl Ref {
    fn new(what: &'static str, from: u32) -> Ref {
        Ref { what, from }
    }

    fn describe(self) -> String {
        if self.from == NONE {
            format!("{} (from the base block)", self.what)
        } else {
            format!("{} (from the cell at {:#x})", self.what, self.from)
        }
    }

    fn out_of_bounds(self, offset: u32) -> HiveError {
        HiveError::OutOfBounds {
            what: self.describe(),
            offset,
        }
    }

    fn corrupt(self, offset: u32, problem: impl Into<String>) -> HiveError {
        HiveError::Corrupt {
            what: self.what.to_string(),
            offset,
            problem: problem.into(),
        }
    }

    fn limit(self, offset: u32, problem: impl Into<String>) -> HiveError {
        HiveError::Limit {
            what: self.what.to_string(),
            offset,
            problem: problem.into(),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let lo = u32_at(b, at) as u64;
    let hi = u32_at(b, at + 4) as u64;
    lo | hi << 32
}

/// A parsed hive: the file's bytes and its base block.
pub struct Hive {
    data: Vec<u8>,
    /// End of the hbins data in `data`.
    bins_end: usize,
    root: u32,
    sequence: (u32, u32),
    version: (u32, u32),
    checksum: (u32, u32),
    warnings: Vec<String>,
}

impl std::fmt::Debug for Hive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hive")
            .field("len", &self.data.len())
            .field("bins_end", &self.bins_end)
            .field("root", &self.root)
            .field("sequence", &self.sequence)
            .field("version", &self.version)
            .field("checksum", &self.checksum)
            .finish()
    }
}

impl Hive {
    /// Reads the base block. A bad checksum, or a hive bins size that disagrees with the
    /// file, is reported in [`Hive::warnings`] and reading goes on.
    pub fn parse(data: Vec<u8>) -> Result<Hive, HiveError> {
        if data.len() < BINS_START {
            return Err(HiveError::NotAHive(format!(
                "{} bytes, shorter than the 4096-byte base block",
                data.len()
            )));
        }
        if &data[..4] != b"regf" {
            return Err(HiveError::NotAHive(format!(
                "base block signature {:02x?} is not \"regf\"",
                &data[..4]
            )));
        }
        let mut warnings = Vec::new();
        let sequence = (u32_at(&data, 4), u32_at(&data, 8));
        let version = (u32_at(&data, 0x14), u32_at(&data, 0x18));
        if version.0 != 1 {
            warnings.push(format!(
                "format version {}.{} (expected 1.x)",
                version.0, version.1
            ));
        }
        let root = u32_at(&data, 0x24);
        let declared = u32_at(&data, 0x28) as usize;
        let available = data.len() - BINS_START;
        let bins_len = if declared == 0 || declared > available {
            warnings.push(format!(
                "base block declares {declared} bytes of hive bins, the file holds {available}"
            ));
            available
        } else {
            declared
        };
        let stored = u32_at(&data, CHECKSUM_AT);
        let mut computed = (0..CHECKSUM_AT)
            .step_by(4)
            .fold(0u32, |acc, at| acc ^ u32_at(&data, at));
        computed = match computed {
            0 => 1,
            u32::MAX => u32::MAX - 1,
            c => c,
        };
        if stored != computed {
            warnings.push(format!(
                "base block checksum is {stored:#010x}, computed {computed:#010x}"
            ));
        }
        Ok(Hive {
            bins_end: BINS_START + bins_len,
            data,
            root,
            sequence,
            version,
            checksum: (stored, computed),
            warnings,
        })
    }

    /// The primary and secondary sequence numbers differ: the hive was not written back
    /// completely (its transaction logs hold changes not in the file).
    pub fn is_dirty(&self) -> bool {
        self.sequence.0 != self.sequence.1
    }

    /// Primary and secondary sequence numbers.
    pub fn sequence_numbers(&self) -> (u32, u32) {
        self.sequence
    }

    /// Format version (major, minor): 1.3 to 1.6.
    pub fn version(&self) -> (u32, u32) {
        self.version
    }

    /// The base block's checksum matches its contents.
    pub fn checksum_ok(&self) -> bool {
        self.checksum.0 == self.checksum.1
    }

    /// Problems of the base block that did not stop reading (bad checksum, size).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn bins(&self) -> &[u8] {
        &self.data[BINS_START..self.bins_end]
    }

    fn bins_len(&self) -> usize {
        self.bins_end - BINS_START
    }

    /// The payload of the allocated cell at `offset` (after its size field).
    fn cell(&self, offset: u32, r: Ref) -> Result<&[u8], HiveError> {
        let bins = self.bins();
        let pos = offset as usize;
        if offset == NONE || pos.checked_add(4).is_none_or(|end| end > bins.len()) {
            return Err(r.out_of_bounds(offset));
        }
        let raw = i32::from_le_bytes([bins[pos], bins[pos + 1], bins[pos + 2], bins[pos + 3]]);
        if raw >= 0 {
            return Err(r.corrupt(offset, format!("not an allocated cell (size field {raw})")));
        }
        let size = raw.unsigned_abs() as usize;
        if size < 8 {
            return Err(r.corrupt(offset, format!("cell size {size} is too small")));
        }
        if size > bins.len() - pos {
            return Err(r.corrupt(
                offset,
                format!("cell of {size} bytes runs past the end of the hive"),
            ));
        }
        Ok(&bins[pos + 4..pos + size])
    }

    /// The root key.
    pub fn root(&self) -> Result<Key<'_>, HiveError> {
        self.key_at(self.root, Ref::new("root key", NONE))
    }

    /// The key at `path` below the root (components separated by `\`, compared without
    /// regard to case); `None` when a component does not exist.
    pub fn open(&self, path: &str) -> Result<Option<Key<'_>>, HiveError> {
        let mut key = self.root()?;
        for (i, part) in path.split('\\').filter(|p| !p.is_empty()).enumerate() {
            if i >= MAX_HIVE_PATH_COMPONENTS {
                return Err(HiveError::NotAHive(format!(
                    "path {path:?} has more than {MAX_HIVE_PATH_COMPONENTS} components"
                )));
            }
            match key.subkey(part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }

    /// Visits every key depth first, with its path below the root (`""` for the root,
    /// components joined by `\`). Each key is visited once: a key reached twice (a cycle, or
    /// a key shared by two lists) is an error, and so is nesting deeper than
    /// [`MAX_HIVE_KEY_DEPTH`] levels, or keys whose cells add up to more bytes than the hive
    /// holds. The walk stops at the first error, of the hive or of `visit`.
    pub fn walk<F>(&self, mut visit: F) -> Result<(), HiveError>
    where
        F: FnMut(&str, &Key<'_>) -> Result<(), HiveError>,
    {
        let mut seen: HashSet<u32> = HashSet::new();
        let mut names: Vec<String> = Vec::new();
        let root = self.root()?;
        // Distinct cells do not overlap: the keys of one walk fit in the hive.
        let mut budget = self.bins_len().saturating_sub(root.cell_bytes);
        let mut stack: Vec<(usize, Key<'_>)> = vec![(0, root)];
        while let Some((depth, key)) = stack.pop() {
            if !seen.insert(key.offset) {
                return Err(Ref::new("key", key.parent).corrupt(
                    key.offset,
                    "key reached twice while walking the hive (a cycle or a shared key)",
                ));
            }
            names.truncate(depth.saturating_sub(1));
            if depth > 0 {
                names.push(key.name.clone());
            }
            visit(&names.join("\\"), &key)?;
            let subkeys = key.subkeys()?;
            if !subkeys.is_empty() && depth >= MAX_HIVE_KEY_DEPTH {
                return Err(Ref::new("key", key.parent).corrupt(
                    key.offset,
                    format!("subkeys nested deeper than {MAX_HIVE_KEY_DEPTH} levels"),
                ));
            }
            for k in &subkeys {
                budget = budget.checked_sub(k.cell_bytes).ok_or_else(|| {
                    Ref::new("key", key.offset).corrupt(
                        k.offset,
                        "the keys walked take more bytes than the hive holds (their cells overlap or repeat)",
                    )
                })?;
            }
            stack.extend(subkeys.into_iter().rev().map(|k| (depth + 1, k)));
        }
        Ok(())
    }

    fn key_at(&self, offset: u32, r: Ref) -> Result<Key<'_>, HiveError> {
        let c = self.cell(offset, r)?;
        if c.len() < NK_FIXED || &c[..2] != b"nk" {
            return Err(r.corrupt(offset, format!("not a key cell (nk): {:02x?}", head(c))));
        }
        let flags = u16_at(c, 2);
        let name_len = u16_at(c, 0x48) as usize;
        let raw = c.get(NK_FIXED..NK_FIXED + name_len).ok_or_else(|| {
            r.corrupt(
                offset,
                format!(
                    "key name of {name_len} bytes runs past its cell of {} bytes",
                    c.len() + 4
                ),
            )
        })?;
        Ok(Key {
            hive: self,
            offset,
            parent: r.from,
            cell_bytes: MIN_NK_CELL + name_len,
            name: decode_name(raw, flags & 0x20 != 0),
            last_written: u64_at(c, 4),
            subkey_count: u32_at(c, 0x14),
            subkey_list: u32_at(c, 0x1C),
            value_count: u32_at(c, 0x24),
            value_list: u32_at(c, 0x28),
        })
    }

    /// Appends the nk offsets of the subkey list at `offset` (lf, lh, li or ri) to `out`.
    fn collect_list(
        &self,
        offset: u32,
        r: Ref,
        depth: usize,
        seen: &mut HashSet<u32>,
        out: &mut Vec<u32>,
    ) -> Result<(), HiveError> {
        if depth > MAX_HIVE_RI_DEPTH {
            return Err(r.corrupt(
                offset,
                format!("subkey index (ri) nested deeper than {MAX_HIVE_RI_DEPTH} levels"),
            ));
        }
        if !seen.insert(offset) {
            return Err(r.corrupt(offset, "subkey list reached twice (a cycle)"));
        }
        let c = self.cell(offset, r)?;
        if c.len() < 4 {
            return Err(r.corrupt(offset, "subkey list cell too small"));
        }
        let count = u16_at(c, 2) as usize;
        let sig = [c[0], c[1]];
        let stride = match &sig {
            b"lf" | b"lh" => 8,
            b"li" | b"ri" => 4,
            _ => {
                return Err(r.corrupt(
                    offset,
                    format!("not a subkey list (lf, lh, li, ri): {:02x?}", head(c)),
                ))
            }
        };
        let capacity = (c.len() - 4) / stride;
        if count > capacity {
            return Err(r.corrupt(
                offset,
                format!(
                    "subkey list {} claims {count} entries but its cell holds at most {capacity}",
                    String::from_utf8_lossy(&sig)
                ),
            ));
        }
        let max_keys = self.bins_len() / MIN_NK_CELL;
        let entries = (0..count).map(|i| u32_at(c, 4 + i * stride));
        if &sig == b"ri" {
            for sub in entries {
                self.collect_list(
                    sub,
                    Ref::new("subkey list in an ri index", offset),
                    depth + 1,
                    seen,
                    out,
                )?;
            }
        } else {
            out.extend(entries);
        }
        if out.len() > MAX_HIVE_SUBKEYS {
            return Err(r.limit(
                offset,
                format!(
                    "subkey lists name {} keys, more than the limit of {MAX_HIVE_SUBKEYS}",
                    out.len()
                ),
            ));
        }
        if out.len() > max_keys {
            return Err(r.corrupt(
                offset,
                format!(
                    "subkey lists name {} keys, more than the hive can hold ({max_keys})",
                    out.len()
                ),
            ));
        }
        Ok(())
    }

    fn value_data(&self, vk: &VkHeader) -> Result<Vec<u8>, HiveError> {
        let r = Ref::new("value data", vk.offset);
        if vk.size & 0x8000_0000 != 0 {
            let len = (vk.size & 0x7FFF_FFFF) as usize;
            if len > 4 {
                return Err(Ref::new("value", NONE).corrupt(
                    vk.offset,
                    format!("inline data of {len} bytes (at most 4 fit)"),
                ));
            }
            return Ok(vk.data.to_le_bytes()[..len].to_vec());
        }
        let len = vk.size as usize;
        if len == 0 {
            return Ok(Vec::new());
        }
        if len > self.bins_len() {
            return Err(Ref::new("value", NONE).corrupt(
                vk.offset,
                format!("data of {len} bytes is larger than the hive"),
            ));
        }
        let c = self.cell(vk.data, r)?;
        if len > BIG_SEGMENT && self.version.1 >= 4 && c.len() >= 8 && &c[..2] == b"db" {
            return self.big_data(vk.data, c, len);
        }
        if len > c.len() {
            return Err(r.corrupt(
                vk.data,
                format!("data of {len} bytes but its cell holds {}", c.len()),
            ));
        }
        Ok(c[..len].to_vec())
    }

    fn big_data(&self, db_offset: u32, db: &[u8], len: usize) -> Result<Vec<u8>, HiveError> {
        let r = Ref::new("big data (db)", db_offset);
        let count = u16_at(db, 2) as usize;
        if count * BIG_SEGMENT < len {
            return Err(r.corrupt(
                db_offset,
                format!("{count} segments cannot hold {len} bytes"),
            ));
        }
        let list_offset = u32_at(db, 4);
        let list = self.cell(list_offset, Ref::new("big data segment list", db_offset))?;
        if count * 4 > list.len() {
            return Err(r.corrupt(
                list_offset,
                format!(
                    "segment list of {count} entries in a cell of {} bytes",
                    list.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(len);
        for i in 0..count {
            if out.len() == len {
                break;
            }
            let seg_offset = u32_at(list, i * 4);
            let seg = self.cell(seg_offset, Ref::new("big data segment", list_offset))?;
            let take = BIG_SEGMENT.min(len - out.len());
            let part = seg.get(..take).ok_or_else(|| {
                Ref::new("big data segment", list_offset).corrupt(
                    seg_offset,
                    format!("segment of {} bytes, {take} needed", seg.len()),
                )
            })?;
            out.extend_from_slice(part);
        }
        Ok(out)
    }

    fn vk_at(&self, offset: u32, r: Ref) -> Result<VkHeader, HiveError> {
        let c = self.cell(offset, r)?;
        if c.len() < VK_FIXED || &c[..2] != b"vk" {
            return Err(r.corrupt(offset, format!("not a value cell (vk): {:02x?}", head(c))));
        }
        let name_len = u16_at(c, 2) as usize;
        let flags = u16_at(c, 0x10);
        let raw = c.get(VK_FIXED..VK_FIXED + name_len).ok_or_else(|| {
            r.corrupt(
                offset,
                format!(
                    "value name of {name_len} bytes runs past its cell of {} bytes",
                    c.len() + 4
                ),
            )
        })?;
        Ok(VkHeader {
            offset,
            cell_bytes: 4 + VK_FIXED + name_len,
            name: decode_name(raw, flags & 1 != 0),
            size: u32_at(c, 4),
            data: u32_at(c, 8),
            kind: u32_at(c, 0x0C),
        })
    }
}

/// The first bytes of a cell, for error messages.
fn head(c: &[u8]) -> &[u8] {
    &c[..c.len().min(4)]
}

/// A name stored compressed (one byte a character, Latin-1) or as UTF-16LE.
fn decode_name(raw: &[u8], compressed: bool) -> String {
    if compressed {
        raw.iter().map(|&b| b as char).collect()
    } else {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    }
}

/// Simple case folding: the upper case when it is a single character.
fn fold(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Registry names compare without regard to case.
pub fn names_equal(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

struct VkHeader {
    offset: u32,
    /// The least the vk cell takes: size field, fixed part and name.
    cell_bytes: usize,
    name: String,
    size: u32,
    data: u32,
    kind: u32,
}

/// A key (nk cell) of a hive.
#[derive(Clone)]
pub struct Key<'h> {
    hive: &'h Hive,
    offset: u32,
    /// The cell that referenced this key (for messages).
    parent: u32,
    /// The least the nk cell takes: size field, fixed part and name.
    cell_bytes: usize,
    name: String,
    last_written: u64,
    subkey_count: u32,
    subkey_list: u32,
    value_count: u32,
    value_list: u32,
}

impl std::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("offset", &self.offset)
            .field("name", &self.name)
            .field("subkey_count", &self.subkey_count)
            .field("value_count", &self.value_count)
            .finish()
    }
}

impl<'h> Key<'h> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset of the key's nk cell (relative to the first hbin).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// When the key was last written (FILETIME: 100 ns since 1601-01-01 UTC).
    pub fn last_written(&self) -> u64 {
        self.last_written
    }

    /// The number of subkeys the key declares.
    pub fn subkey_count(&self) -> u32 {
        self.subkey_count
    }

    /// The number of values the key declares.
    pub fn value_count(&self) -> u32 {
        self.value_count
    }

    /// The subkeys, in the order of the key's subkey list (sorted by Windows).
    pub fn subkeys(&self) -> Result<Vec<Key<'h>>, HiveError> {
        if self.subkey_count == 0 || self.subkey_list == NONE {
            return Ok(Vec::new());
        }
        let mut offsets = Vec::new();
        let mut seen = HashSet::new();
        self.hive.collect_list(
            self.subkey_list,
            Ref::new("subkey list", self.offset),
            0,
            &mut seen,
            &mut offsets,
        )?;
        // Distinct cells do not overlap: the keys of one list fit in the hive.
        let mut budget = self.hive.bins_len();
        offsets
            .into_iter()
            .map(|o| {
                let k = self.hive.key_at(o, Ref::new("subkey", self.offset))?;
                budget = budget.checked_sub(k.cell_bytes).ok_or_else(|| {
                    Ref::new("subkey list", self.offset).corrupt(
                        self.subkey_list,
                        "its keys take more bytes than the hive holds (their cells overlap or repeat)",
                    )
                })?;
                Ok(k)
            })
            .collect()
    }

    /// The subkey named `name` (without regard to case).
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h>>, HiveError> {
        Ok(self
            .subkeys()?
            .into_iter()
            .find(|k| names_equal(&k.name, name)))
    }

    fn value_headers(&self) -> Result<Vec<VkHeader>, HiveError> {
        if self.value_count == 0 {
            return Ok(Vec::new());
        }
        let r = Ref::new("value list", self.offset);
        let count = self.value_count as usize;
        let list = self.hive.cell(self.value_list, r)?;
        if count > list.len() / 4 {
            return Err(r.corrupt(
                self.value_list,
                format!(
                    "value list claims {count} values but its cell holds at most {}",
                    list.len() / 4
                ),
            ));
        }
        if count > MAX_HIVE_VALUES {
            return Err(r.limit(
                self.value_list,
                format!("the key has {count} values, more than the limit of {MAX_HIVE_VALUES}"),
            ));
        }
        // Distinct cells do not overlap: the values of one list fit in the hive.
        let mut budget = self.hive.bins_len();
        (0..count)
            .map(|i| {
                let vk = self
                    .hive
                    .vk_at(u32_at(list, i * 4), Ref::new("value", self.value_list))?;
                budget = budget.checked_sub(vk.cell_bytes).ok_or_else(|| {
                    r.corrupt(
                        self.value_list,
                        "its values take more bytes than the hive holds (their cells overlap or repeat)",
                    )
                })?;
                Ok(vk)
            })
            .collect()
    }

    /// The values, in the order of the key's value list. Their data together may not
    /// exceed the size of the hive (each data cell belongs to one value).
    pub fn values(&self) -> Result<Vec<Value>, HiveError> {
        let mut budget = self.hive.bins_len();
        self.value_headers()?
            .into_iter()
            .map(|vk| {
                let data = self.hive.value_data(&vk)?;
                budget = budget.checked_sub(data.len()).ok_or_else(|| {
                    Ref::new("key", NONE)
                        .corrupt(self.offset, "the key's values hold more data than the hive")
                })?;
                Ok(Value {
                    name: vk.name,
                    kind: vk.kind,
                    data,
                    offset: vk.offset,
                })
            })
            .collect()
    }

    /// The value named `name` (without regard to case; `""` is the default value).
    pub fn value(&self, name: &str) -> Result<Option<Value>, HiveError> {
        for vk in self.value_headers()? {
            if names_equal(&vk.name, name) {
                let data = self.hive.value_data(&vk)?;
                return Ok(Some(Value {
                    name: vk.name,
                    kind: vk.kind,
                    data,
                    offset: vk.offset,
                }));
            }
        }
        Ok(None)
    }
}

/// A value (vk cell) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// `""` for the key's default value.
    pub name: String,
    /// The type: `REG_SZ`, `REG_DWORD`, ...
    pub kind: u32,
    pub data: Vec<u8>,
    /// The offset of the vk cell.
    pub offset: u32,
}

impl Value {
    fn wrong_type(&self, expected: &'static str) -> HiveError {
        HiveError::WrongType {
            name: self.name.clone(),
            offset: self.offset,
            found: self.kind,
            expected,
        }
    }

    fn utf16_units(&self) -> impl Iterator<Item = u16> + '_ {
        self.data
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
    }

    /// A REG_SZ or REG_EXPAND_SZ string (UTF-16LE), up to its terminating NUL (a string
    /// without one ends with its data; anything after the NUL is ignored, as Windows
    /// programs and hivex do).
    pub fn as_string(&self) -> Result<String, HiveError> {
        if self.kind != REG_SZ && self.kind != REG_EXPAND_SZ {
            return Err(self.wrong_type("REG_SZ or REG_EXPAND_SZ"));
        }
        let units: Vec<u16> = self.utf16_units().take_while(|&u| u != 0).collect();
        Ok(String::from_utf16_lossy(&units))
    }

    /// A REG_DWORD (little-endian) or REG_DWORD_BIG_ENDIAN; data longer than 4 bytes is
    /// read from its first 4.
    pub fn as_u32(&self) -> Result<u32, HiveError> {
        let bytes: [u8; 4] = self
            .data
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| self.short(4))?;
        match self.kind {
            REG_DWORD => Ok(u32::from_le_bytes(bytes)),
            REG_DWORD_BIG_ENDIAN => Ok(u32::from_be_bytes(bytes)),
            _ => Err(self.wrong_type("REG_DWORD")),
        }
    }

    /// A REG_QWORD (little-endian).
    pub fn as_u64(&self) -> Result<u64, HiveError> {
        if self.kind != REG_QWORD {
            return Err(self.wrong_type("REG_QWORD"));
        }
        let bytes: [u8; 8] = self
            .data
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| self.short(8))?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// A REG_MULTI_SZ: NUL-terminated UTF-16LE strings, ending at the first empty string
    /// (the list's terminator) or the end of the data.
    pub fn as_multi_string(&self) -> Result<Vec<String>, HiveError> {
        if self.kind != REG_MULTI_SZ {
            return Err(self.wrong_type("REG_MULTI_SZ"));
        }
        let units: Vec<u16> = self.utf16_units().collect();
        Ok(units
            .split(|&u| u == 0)
            .take_while(|s| !s.is_empty())
            .map(String::from_utf16_lossy)
            .collect())
    }

    fn short(&self, need: usize) -> HiveError {
        if self.kind != REG_DWORD && self.kind != REG_DWORD_BIG_ENDIAN && need == 4 {
            return self.wrong_type("REG_DWORD");
        }
        Ref::new("value", NONE).corrupt(
            self.offset,
            format!(
                "value {:?} holds {} bytes, {need} needed",
                self.name,
                self.data.len()
            ),
        )
    }
}

/// The control set the SYSTEM hive boots with: `Select\Current` = N gives `ControlSet00N`.
pub fn current_control_set(system: &Hive) -> Result<String, HiveError> {
    let select = system
        .open("Select")?
        .ok_or_else(|| HiveError::Missing("key Select".into()))?;
    let current = select
        .value("Current")?
        .ok_or_else(|| HiveError::Missing("value Select\\Current".into()))?;
    let n = current.as_u32()?;
    if n == 0 || n > 999 {
        return Err(Ref::new("value Select\\Current", NONE).corrupt(
            current.offset,
            format!("control set number {n} (1 to 999 expected)"),
        ));
    }
    Ok(format!("ControlSet{n:03}"))
}
