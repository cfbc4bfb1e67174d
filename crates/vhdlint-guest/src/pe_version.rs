//! The version resource of a PE file (`srv.sys`, `ntoskrnl.exe`): the file and product
//! versions of its VS_FIXEDFILEINFO and the strings of its StringFileInfo.
//!
//! The walk: the MZ header's e_lfanew, the COFF header, the optional header's data directory 2
//! (the resource table), the section that holds it; there the resource directory (read with
//! the `object` crate) to type RT_VERSION (16), its first name and that name's first language,
//! whose data entry gives the RVA and size of the VS_VERSIONINFO.
//!
//! Reading is in two steps so that a caller reads only what is needed: [`resource_section`]
//! reads the headers (the first [`MAX_PE_HEADER_BYTES`] of the file) and says where the
//! resource section ends; [`version_info`] reads a prefix of the file that reaches that end.
//! Every offset in an error is a file offset.

use crate::exe::{pe_header, ExeError};
use crate::fs::FsError;
use crate::limits::{
    MAX_PE_HEADER_BYTES, MAX_PE_RESOURCE_ENTRIES, MAX_PE_VERSION_BLOCKS, MAX_PE_VERSION_INFO_BYTES,
    MAX_PE_VERSION_READ_BYTES, MAX_PE_VERSION_STRINGS,
};
use crate::view::GuestView;
use object::pe::{ImageResourceDirectoryEntry, RT_VERSION};
use object::read::pe::{ResourceDirectory, ResourceDirectoryEntryData, ResourceNameOrId};
use object::LittleEndian as LE;

/// The signature of a VS_FIXEDFILEINFO.
pub const FIXED_FILE_INFO_SIGNATURE: u32 = 0xFEEF_04BD;

/// A four-part version (`major.minor.build.revision`) as a VS_FIXEDFILEINFO holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileVersion(pub [u16; 4]);

impl FileVersion {
    /// From the `MS` and `LS` double words of a VS_FIXEDFILEINFO.
    pub fn from_ms_ls(ms: u32, ls: u32) -> Self {
        FileVersion([(ms >> 16) as u16, ms as u16, (ls >> 16) as u16, ls as u16])
    }

    /// Parses `a.b.c.d` (each part a u16).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = [0u16; 4];
        let mut it = s.trim().split('.');
        for p in &mut parts {
            *p = it.next()?.parse().ok()?;
        }
        it.next().is_none().then_some(FileVersion(parts))
    }
}

impl std::fmt::Display for FileVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// The fields of a VS_FIXEDFILEINFO that the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedFileInfo {
    /// File offset of the structure.
    pub at: u64,
    pub file_version: FileVersion,
    pub product_version: FileVersion,
    pub file_flags: u32,
    pub file_os: u32,
    pub file_type: u32,
}

/// A PE file's version resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// File offset of the VS_VERSIONINFO.
    pub at: u64,
    /// The resource's language (the ID of the first language entry).
    pub language: u16,
    /// The VS_FIXEDFILEINFO; `None` when the VS_VERSIONINFO has no value.
    pub fixed: Option<FixedFileInfo>,
    /// The key of the first StringTable (language and code page, `040904b0`).
    pub string_table: Option<String>,
    /// The strings of the first StringTable in file order (`CompanyName`, `FileVersion`…).
    pub strings: Vec<(String, String)>,
}

impl VersionInfo {
    /// The value of string `key` (`FileVersion`, `ProductName`…).
    pub fn string(&self, key: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Where a PE file's resource section lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSection {
    /// RVA of the resource directory (data directory 2).
    pub directory_rva: u32,
    /// Size given by data directory 2.
    pub directory_size: u32,
    /// RVA and file offset of the section holding the directory.
    pub section_rva: u32,
    pub section_file_offset: u64,
    /// The section's bytes in the file (its SizeOfRawData).
    pub section_file_size: u64,
}

impl ResourceSection {
    /// File offset of the resource directory.
    pub fn directory_file_offset(&self) -> u64 {
        self.section_file_offset + u64::from(self.directory_rva - self.section_rva)
    }

    /// Bytes of the file to read (from its start) to hold the whole resource section.
    pub fn end(&self) -> u64 {
        self.section_file_offset + self.section_file_size
    }
}

/// Why a version resource could not be read. Offsets are file offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("{0}")]
    Header(#[from] ExeError),
    #[error("{structure} at offset {offset:#x} needs {need} bytes, {have} read")]
    Truncated {
        structure: &'static str,
        offset: u64,
        need: u64,
        have: u64,
    },
    #[error("optional header at offset {offset:#x}: magic {magic:#06x} is neither PE32 (0x10b) nor PE32+ (0x20b)")]
    OptionalMagic { offset: u64, magic: u16 },
    #[error("no resource table (data directory 2 is empty or absent)")]
    NoResources,
    #[error("no version resource (the resource directory has no RT_VERSION entry)")]
    NoVersionResource,
    #[error("resource table at RVA {rva:#x} lies in no section's file data")]
    RvaOutsideSections { rva: u32 },
    #[error("{structure} at offset {offset:#x}: {detail}")]
    Bad {
        structure: &'static str,
        offset: u64,
        detail: String,
    },
    #[error("{structure} at offset {offset:#x}: {limit} ({value}) reached")]
    Limit {
        structure: &'static str,
        offset: u64,
        limit: &'static str,
        value: usize,
    },
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

fn truncated(structure: &'static str, offset: usize, need: usize, have: usize) -> VersionError {
    VersionError::Truncated {
        structure,
        offset: offset as u64,
        need: need as u64,
        have: have as u64,
    }
}

/// Reads the headers and section table from the first bytes of a PE file (at most
/// [`MAX_PE_HEADER_BYTES`] are looked at) and finds the section holding the resource table.
pub fn resource_section(b: &[u8]) -> Result<ResourceSection, VersionError> {
    let b = &b[..b.len().min(MAX_PE_HEADER_BYTES)];
    let pe = pe_header(b)?.signature_at;
    let coff = pe + 4;
    let need = |structure, offset: usize, len: usize| -> Result<&[u8], VersionError> {
        offset
            .checked_add(len)
            .and_then(|end| b.get(offset..end))
            .ok_or_else(|| truncated(structure, offset, len, b.len().saturating_sub(offset)))
    };
    let h = need("COFF header", coff, 20)?;
    let sections = usize::from(u16::from_le_bytes([h[2], h[3]]));
    let opt_size = usize::from(u16::from_le_bytes([h[16], h[17]]));
    let opt = coff + 20;
    let o = need("optional header", opt, opt_size)?;
    let magic = u16_at(o, 0).ok_or_else(|| truncated("optional header", opt, 2, o.len()))?;
    let (count_at, dirs_at) = match magic {
        0x10b => (92, 96),
        0x20b => (108, 112),
        _ => {
            return Err(VersionError::OptionalMagic {
                offset: opt as u64,
                magic,
            })
        }
    };
    let count = u32_at(o, count_at).unwrap_or(0);
    // Data directory 2 must be both counted and inside the optional header's size.
    if count < 3 {
        return Err(VersionError::NoResources);
    }
    let (rva, size) = match (u32_at(o, dirs_at + 16), u32_at(o, dirs_at + 20)) {
        (Some(r), Some(s)) => (r, s),
        _ => return Err(VersionError::NoResources),
    };
    if rva == 0 || size == 0 {
        return Err(VersionError::NoResources);
    }
    let table = opt + opt_size;
    let t = need("section table", table, sections * 40)?;
    for s in t.chunks_exact(40) {
        let field = |at| u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]);
        let (va, raw_size, raw_ptr) = (field(12), field(16), field(20));
        if rva >= va && u64::from(rva) < u64::from(va) + u64::from(raw_size) {
            return Ok(ResourceSection {
                directory_rva: rva,
                directory_size: size,
                section_rva: va,
                section_file_offset: u64::from(raw_ptr),
                section_file_size: u64::from(raw_size),
            });
        }
    }
    Err(VersionError::RvaOutsideSections { rva })
}

/// Reads the version resource of a PE file from `file`, a prefix of it that reaches
/// [`ResourceSection::end`] (the whole file will do).
pub fn version_info(file: &[u8]) -> Result<VersionInfo, VersionError> {
    let rs = resource_section(file)?;
    let start = rs.directory_file_offset();
    let end = rs.end();
    let have = file.len() as u64;
    if end > have {
        return Err(VersionError::Truncated {
            structure: "resource section",
            offset: start,
            need: end - start,
            have: have.saturating_sub(start),
        });
    }
    // Both fit in the slice's length: end <= have.
    let sect = &file[start as usize..end as usize];
    let dir = ResourceDirectory::new(sect);
    let at = |off: u32| start + u64::from(off);
    let table_err = |off: u32, structure: &'static str| {
        VersionError::Bad {
        structure,
        offset: at(off),
        detail: "a resource directory table (16 bytes and its entries) does not fit in the resource section"
            .into(),
    }
    };
    let root = dir
        .root()
        .map_err(|_| table_err(0, "resource directory root"))?;
    let entries = |t: &[ImageResourceDirectoryEntry], off: u32, structure| {
        if t.len() > MAX_PE_RESOURCE_ENTRIES {
            Err(VersionError::Limit {
                structure,
                offset: at(off),
                limit: "MAX_PE_RESOURCE_ENTRIES",
                value: MAX_PE_RESOURCE_ENTRIES,
            })
        } else {
            Ok(())
        }
    };
    entries(root.entries, 0, "resource directory root")?;
    let version = root
        .entries
        .iter()
        .find(|e| matches!(e.name_or_id(), ResourceNameOrId::Id(RT_VERSION)))
        .ok_or(VersionError::NoVersionResource)?;
    // Type → name → language: the two levels below the type are tables, the third a data
    // entry. Each level is entered once, so a directory that points back at itself is read
    // three times at most.
    let sub_table = |e: &ImageResourceDirectoryEntry, structure: &'static str| {
        let off = e.data_offset();
        match e.data(dir) {
            Ok(ResourceDirectoryEntryData::Table(t)) => {
                entries(t.entries, off, structure)?;
                Ok((off, t))
            }
            Ok(ResourceDirectoryEntryData::Data(_)) => Err(VersionError::Bad {
                structure,
                offset: at(off),
                detail: "a data entry where a directory table belongs".into(),
            }),
            Err(_) => Err(table_err(off, structure)),
        }
    };
    let (name_off, names) = sub_table(version, "RT_VERSION name table")?;
    let name = names.entries.first().ok_or_else(|| VersionError::Bad {
        structure: "RT_VERSION name table",
        offset: at(name_off),
        detail: "no entries".into(),
    })?;
    let (lang_off, langs) = sub_table(name, "RT_VERSION language table")?;
    let lang = langs.entries.first().ok_or_else(|| VersionError::Bad {
        structure: "RT_VERSION language table",
        offset: at(lang_off),
        detail: "no entries".into(),
    })?;
    let language = match lang.name_or_id() {
        ResourceNameOrId::Id(id) => id,
        ResourceNameOrId::Name(_) => 0,
    };
    let data_off = lang.data_offset();
    let data = match lang.data(dir) {
        Ok(ResourceDirectoryEntryData::Data(d)) => d,
        Ok(ResourceDirectoryEntryData::Table(_)) => {
            return Err(VersionError::Bad {
                structure: "RT_VERSION data entry",
                offset: at(data_off),
                detail: "a directory table where the data entry belongs".into(),
            })
        }
        Err(_) => {
            return Err(VersionError::Bad {
                structure: "RT_VERSION data entry",
                offset: at(data_off),
                detail: "the 16-byte data entry does not fit in the resource section".into(),
            })
        }
    };
    let (rva, size) = (data.offset_to_data.get(LE), data.size.get(LE));
    let bad_data = |detail: String| VersionError::Bad {
        structure: "RT_VERSION data entry",
        offset: at(data_off),
        detail,
    };
    if size as usize > MAX_PE_VERSION_INFO_BYTES {
        return Err(VersionError::Limit {
            structure: "RT_VERSION data entry",
            offset: at(data_off),
            limit: "MAX_PE_VERSION_INFO_BYTES",
            value: MAX_PE_VERSION_INFO_BYTES,
        });
    }
    let rel = rva
        .checked_sub(rs.directory_rva)
        .ok_or_else(|| bad_data(format!("data RVA {rva:#x} lies before the resource table")))?;
    let v = (rel as usize)
        .checked_add(size as usize)
        .and_then(|e| sect.get(rel as usize..e))
        .ok_or_else(|| {
            bad_data(format!(
                "data RVA {rva:#x} size {size} lies beyond the resource section"
            ))
        })?;
    let mut info = parse_version_info(v, at(rel))?;
    info.language = language;
    Ok(info)
}

/// One block of a VS_VERSIONINFO (the root, StringFileInfo, StringTable, String, Var…):
/// `wLength`, `wValueLength`, `wType`, the key and, 32-bit aligned, the value and children.
struct Block<'a> {
    key: String,
    value: &'a [u8],
    /// Byte ranges (within the whole VS_VERSIONINFO) of the children.
    children: std::ops::Range<usize>,
    /// Bytes the block takes, rounded up to 32 bits.
    next: usize,
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Reads the block at `off` of `b` (which holds the whole VS_VERSIONINFO, 32-bit aligned at
/// its start), within `end`. `base` is the file offset of `b`, for errors. A block of
/// `wType` 1 holds UTF-16 text, whose `wValueLength` counts characters; others bytes.
fn block<'a>(
    b: &'a [u8],
    off: usize,
    end: usize,
    base: u64,
    structure: &'static str,
) -> Result<Block<'a>, VersionError> {
    let bad = |detail: String| VersionError::Bad {
        structure,
        offset: base + off as u64,
        detail,
    };
    if end.saturating_sub(off) < 6 {
        return Err(VersionError::Truncated {
            structure,
            offset: base + off as u64,
            need: 6,
            have: end.saturating_sub(off) as u64,
        });
    }
    let len = usize::from(u16_at(b, off).unwrap_or(0));
    let value_len = usize::from(u16_at(b, off + 2).unwrap_or(0));
    let kind = u16_at(b, off + 4).unwrap_or(0);
    if len < 6 {
        return Err(bad(format!(
            "wLength {len} is shorter than the block's header"
        )));
    }
    let block_end = off + len;
    if block_end > end {
        return Err(bad(format!(
            "wLength {len} runs past its parent's end ({} bytes left)",
            end - off
        )));
    }
    // The key: UTF-16 up to its NUL, inside the block.
    let mut k = off + 6;
    let mut key = Vec::new();
    loop {
        match u16_at(b, k) {
            Some(0) if k + 2 <= block_end => break,
            Some(c) if k + 2 <= block_end => key.push(c),
            _ => return Err(bad("the key has no NUL inside wLength".into())),
        }
        k += 2;
    }
    let key = String::from_utf16_lossy(&key);
    let value_at = align4(k + 2).min(block_end);
    // Text values count UTF-16 characters; binary ones bytes.
    let value_bytes = if kind == 1 { value_len * 2 } else { value_len };
    let value_end = if kind == 1 {
        // Text: writers disagree on whether the NUL is counted; never past the block.
        value_at.saturating_add(value_bytes).min(block_end)
    } else {
        let e = value_at.saturating_add(value_bytes);
        if e > block_end {
            return Err(bad(format!(
                "wValueLength {value_len} runs past wLength {len}"
            )));
        }
        e
    };
    Ok(Block {
        key,
        value: &b[value_at..value_end],
        children: align4(value_end).min(block_end)..block_end,
        next: align4(block_end),
    })
}

fn utf16z(v: &[u8]) -> String {
    let units: Vec<u16> = v
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&c| c != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// Walks the children of a block, calling `f` with each (bounded by `budget`).
fn children<'a>(
    b: &'a [u8],
    range: std::ops::Range<usize>,
    base: u64,
    structure: &'static str,
    budget: &mut usize,
    mut f: impl FnMut(Block<'a>, usize) -> Result<bool, VersionError>,
) -> Result<(), VersionError> {
    let mut off = range.start;
    while off < range.end {
        // Padding at the end of a parent is allowed.
        if range.end - off < 6 && b[off..range.end].iter().all(|&x| x == 0) {
            break;
        }
        if *budget == 0 {
            return Err(VersionError::Limit {
                structure,
                offset: base + off as u64,
                limit: "MAX_PE_VERSION_BLOCKS",
                value: MAX_PE_VERSION_BLOCKS,
            });
        }
        *budget -= 1;
        let c = block(b, off, range.end, base, structure)?;
        let next = c.next;
        if !f(c, off)? {
            break;
        }
        // A block's length is at least 6, so `off` grows each step.
        off = next;
    }
    Ok(())
}

/// Parses a VS_VERSIONINFO from its bytes; `base` is their file offset, for errors.
pub fn parse_version_info(b: &[u8], base: u64) -> Result<VersionInfo, VersionError> {
    let root = block(b, 0, b.len(), base, "VS_VERSIONINFO")?;
    if root.key != "VS_VERSION_INFO" {
        return Err(VersionError::Bad {
            structure: "VS_VERSIONINFO",
            offset: base,
            detail: format!("key {:?}, not \"VS_VERSION_INFO\"", root.key),
        });
    }
    let value_at = root.value.as_ptr() as usize - b.as_ptr() as usize;
    let fixed = if root.value.is_empty() {
        None
    } else {
        let v = root.value;
        let at = base + value_at as u64;
        if v.len() < 52 {
            return Err(VersionError::Truncated {
                structure: "VS_FIXEDFILEINFO",
                offset: at,
                need: 52,
                have: v.len() as u64,
            });
        }
        let d = |i: usize| u32_at(v, i * 4).unwrap_or(0);
        if d(0) != FIXED_FILE_INFO_SIGNATURE {
            return Err(VersionError::Bad {
                structure: "VS_FIXEDFILEINFO",
                offset: at,
                detail: format!(
                    "signature {:#010x}, not {FIXED_FILE_INFO_SIGNATURE:#010x}",
                    d(0)
                ),
            });
        }
        Some(FixedFileInfo {
            at,
            file_version: FileVersion::from_ms_ls(d(2), d(3)),
            product_version: FileVersion::from_ms_ls(d(4), d(5)),
            file_flags: d(7),
            file_os: d(8),
            file_type: d(9),
        })
    };
    let mut info = VersionInfo {
        at: base,
        language: 0,
        fixed,
        string_table: None,
        strings: Vec::new(),
    };
    let mut budget = MAX_PE_VERSION_BLOCKS;
    let mut tables = Vec::new();
    children(
        b,
        root.children,
        base,
        "VS_VERSIONINFO child",
        &mut budget,
        |c, _| {
            if c.key == "StringFileInfo" && tables.is_empty() {
                tables.push(c.children);
            }
            Ok(true)
        },
    )?;
    let Some(sfi) = tables.pop() else {
        return Ok(info);
    };
    let mut first = None;
    children(b, sfi, base, "StringTable", &mut budget, |t, _| {
        first = Some((t.key, t.children));
        Ok(false)
    })?;
    let Some((key, strings)) = first else {
        return Ok(info);
    };
    info.string_table = Some(key);
    let mut out = Vec::new();
    children(b, strings, base, "String", &mut budget, |s, off| {
        if out.len() >= MAX_PE_VERSION_STRINGS {
            return Err(VersionError::Limit {
                structure: "String",
                offset: base + off as u64,
                limit: "MAX_PE_VERSION_STRINGS",
                value: MAX_PE_VERSION_STRINGS,
            });
        }
        out.push((s.key, utf16z(s.value)));
        Ok(true)
    })?;
    info.strings = out;
    Ok(info)
}

/// Why the version resource of a file in the guest could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FileVersionError {
    /// The file could not be read (`FsError::NotFound` when it is absent).
    #[error("{0}")]
    Fs(#[from] FsError),
    #[error("{0}")]
    Version(#[from] VersionError),
    #[error("its resource section ends at byte {end}, past MAX_PE_VERSION_READ_BYTES ({MAX_PE_VERSION_READ_BYTES})")]
    TooLarge { end: u64 },
}

impl FileVersionError {
    /// The file is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileVersionError::Fs(FsError::NotFound(_)))
    }
}

/// Reads the version resource of guest file `path`: its headers, then the prefix of the file
/// up to the end of its resource section (at most [`MAX_PE_VERSION_READ_BYTES`]).
pub fn read_file_version(view: &GuestView, path: &str) -> Result<VersionInfo, FileVersionError> {
    let head = view.read_upto(path, MAX_PE_HEADER_BYTES as u64)?;
    let rs = resource_section(&head)?;
    let end = rs.end();
    if end <= head.len() as u64 {
        return Ok(version_info(&head)?);
    }
    if end > MAX_PE_VERSION_READ_BYTES {
        return Err(FileVersionError::TooLarge { end });
    }
    Ok(version_info(&view.read_upto(path, end)?)?)
}

#[path = "pe_version_sample.rs"]
pub mod sample;

#[cfg(test)]
#[path = "pe_version_tests.rs"]
mod tests;
