//! NTFS through the `ntfs` crate (0.4.0, `forbid(unsafe_code)`).
//!
//! What the crate does not read is reported, never misread: NTFS-compressed and EFS-encrypted
//! `$DATA`, WOF/CompactOS-compressed system files and deduplicated files are
//! [`FsError::Unsupported`]. Symlinks and junctions (reparse points) are [`FileKind::Symlink`],
//! their substitute name converted to `/` form where it names a path on a drive.
//!
//! # Threads
//!
//! [`ntfs::Ntfs`] itself is plain data (geometry and the 128 KiB `$UpCase` table) and is
//! `Send + Sync`; only the byte reader it is handed on every call must be `&mut`. Each operation
//! therefore builds its own small [`Cursor`] (an `Arc` clone and a position) over the shared
//! source: no lock, no thread-local cache, and threads never wait on each other.
//!
//! # Hostile images
//!
//! The crate trusts a few on-disk fields and can panic on them (it indexes slices with
//! unchecked offsets). Every structure it parses passes through our `Cursor`, which checks the
//! ones that matter (on the raw bytes, in `raw`) before handing the bytes over and fails the read
//! otherwise:
//! * an MFT record (`FILE`, read whole): every attribute header is long enough for its
//!   resident/non-resident layout; an `$INDEX_ROOT`'s entries range is ordered, its index
//!   record size sane and its entries at least 16 bytes long; data runs do not overflow;
//! * an index record (`INDX`, read whole): the same for its entries; an index record read twice
//!   in one directory operation is a B-tree cycle, reported instead of followed.
//!
//! Each operation also has a read budget, so attribute lists or index chains of any length end.
//! What remains unchecked: an index record whose bytes are split across two data runs is read by
//! the crate in two pieces, and then is not pre-checked.

mod raw;

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

use ntfs::attribute_value::NtfsAttributeValue;
use ntfs::indexes::NtfsFileNameIndex;
use ntfs::structured_values::{
    NtfsAttributeList, NtfsAttributeListEntry, NtfsFileAttributeFlags, NtfsFileNamespace,
    NtfsStandardInformation, NtfsVolumeFlags,
};
use ntfs::{Ntfs, NtfsAttributeFlags, NtfsAttributeType, NtfsError, NtfsFile, NtfsReadSeek};
use vhdlint_disk::SharedSource;

use crate::limits::{
    MAX_DIR_ENTRIES, MAX_NTFS_ATTRIBUTES, MAX_NTFS_ATTRIBUTE_LIST_BYTES, MAX_NTFS_INDEX_RECORDS,
    MAX_NTFS_METADATA_BYTES, MAX_NTFS_REPARSE_BYTES,
};
use crate::{DirEntry, FileKind, FsError, Metadata};

use raw::{
    check_attribute_list, check_file_record, check_index_record, parse_boot, parse_reparse,
    Geometry, Reparse,
};
pub use raw::{
    IO_REPARSE_TAG_DEDUP, IO_REPARSE_TAG_MOUNT_POINT, IO_REPARSE_TAG_SYMLINK, IO_REPARSE_TAG_WOF,
};

/// Chunk of a file read at once.
const READ_CHUNK: usize = 1 << 20;
/// Records below this number are NTFS metafiles (`$MFT` … and the reserved range).
const FIRST_USER_RECORD: u64 = 24;

/// An NTFS volume.
pub struct NtfsFs {
    source: SharedSource,
    ntfs: Ntfs,
    geo: Geometry,
    dirty: Option<bool>,
    label: Option<String>,
}

impl fmt::Debug for NtfsFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtfsFs")
            .field("cluster_size", &self.geo.cluster_size)
            .field("file_record_size", &self.geo.file_record_size)
            .field("label", &self.label)
            .field("dirty", &self.dirty)
            .finish()
    }
}

/// Why our cursor refused a read: carried inside an `io::Error` through the crate.
#[derive(Debug)]
enum Refused {
    Io(String),
    Corrupt(String),
    Limit(&'static str, String),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Io(m) | Refused::Corrupt(m) | Refused::Limit(_, m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Refused {}

fn refuse(r: Refused) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, r)
}

/// `Read + Seek` over the shared source for one operation, checking the records it hands out.
struct Cursor<'a> {
    source: &'a SharedSource,
    geo: Geometry,
    size: u64,
    pos: u64,
    budget: u64,
    /// Pre-check `FILE` / `INDX` records (off while plain file contents are read).
    check: bool,
    /// Positions of the index records loaded by the current directory operation.
    index_records: HashSet<u64>,
}

impl<'a> Cursor<'a> {
    fn new(fs: &'a NtfsFs, extra_budget: u64) -> Self {
        Self::over(&fs.source, fs.geo, extra_budget)
    }

    fn over(source: &'a SharedSource, geo: Geometry, extra_budget: u64) -> Self {
        Cursor {
            source,
            geo,
            size: source.size(),
            pos: 0,
            budget: MAX_NTFS_METADATA_BYTES.saturating_add(extra_budget),
            check: true,
            index_records: HashSet::new(),
        }
    }

    /// Starts a new directory operation (index B-tree walk).
    fn new_index(&mut self) {
        self.index_records.clear();
    }

    fn check_record(&mut self, pos: u64, buf: &[u8]) -> Result<(), Refused> {
        if buf.len() == self.geo.file_record_size && buf.starts_with(b"FILE") {
            check_file_record(buf, self.geo)
                .map_err(|m| Refused::Corrupt(format!("MFT record at byte {pos:#x}: {m}")))?;
        } else if buf.len() >= 512 && buf.starts_with(b"INDX") {
            if !self.index_records.insert(pos) {
                return Err(Refused::Corrupt(format!(
                    "index record at byte {pos:#x} is reached twice (B-tree cycle)"
                )));
            }
            if self.index_records.len() > MAX_NTFS_INDEX_RECORDS {
                return Err(Refused::Limit(
                    "MAX_NTFS_INDEX_RECORDS",
                    format!(
                    "more than {MAX_NTFS_INDEX_RECORDS} index records in one directory, the limit"
                ),
                ));
            }
            check_index_record(buf)
                .map_err(|m| Refused::Corrupt(format!("index record at byte {pos:#x}: {m}")))?;
        }
        Ok(())
    }
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.size - self.pos) as usize;
        if n as u64 > self.budget {
            return Err(refuse(Refused::Limit("MAX_NTFS_METADATA_BYTES", format!(
                "one NTFS operation reads more than {MAX_NTFS_METADATA_BYTES} bytes of metadata, the limit (attribute list or index too large)"
            ))));
        }
        self.budget -= n as u64;
        let buf = &mut buf[..n];
        self.source
            .read_at(self.pos, buf)
            .map_err(|e| refuse(Refused::Io(e.to_string())))?;
        if self.check {
            self.check_record(self.pos, buf).map_err(refuse)?;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Cursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start or past 2^64",
            )),
        }
    }
}

// ------------------------------------------------------------------ errors

/// Checks the entries of a non-resident `$ATTRIBUTE_LIST` (a resident one is checked with
/// its MFT record) before the crate walks them: see [`check_attribute_list`]. Its bytes are
/// read through the operation's cursor, within its metadata budget.
fn check_list_value(
    c: &mut Cursor<'_>,
    attr: &ntfs::NtfsAttribute<'_, '_>,
    path: &str,
) -> Result<(), FsError> {
    if attr.is_resident() {
        return Ok(());
    }
    let declared = attribute_list_len(attr.value_length(), path)?;
    let mut value = attr.value(c).map_err(|e| map_err(path, e))?;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = value.read(c, &mut chunk).map_err(|e| map_err(path, e))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 >= declared {
            break;
        }
    }
    if (bytes.len() as u64) < declared {
        return Err(FsError::Corrupt(format!(
            "{path}: attribute list of {declared} bytes whose data runs hold {}",
            bytes.len()
        )));
    }
    check_attribute_list(&bytes).map_err(|m| FsError::Corrupt(format!("{path}: {m}")))
}

/// The length of a non-resident `$ATTRIBUTE_LIST` value, refused over
/// [`MAX_NTFS_ATTRIBUTE_LIST_BYTES`].
fn attribute_list_len(value_length: u64, path: &str) -> Result<u64, FsError> {
    if value_length > MAX_NTFS_ATTRIBUTE_LIST_BYTES {
        return Err(FsError::limit("MAX_NTFS_ATTRIBUTE_LIST_BYTES", format!(
            "{path}: attribute list of {value_length} bytes, over the limit of {MAX_NTFS_ATTRIBUTE_LIST_BYTES}"
        )));
    }
    Ok(value_length)
}

/// A file with more than [`MAX_NTFS_ATTRIBUTES`] attributes (its attribute list included).
fn attributes_limit(path: &str) -> FsError {
    FsError::limit(
        "MAX_NTFS_ATTRIBUTES",
        format!("{path} has more than {MAX_NTFS_ATTRIBUTES} attributes, the limit"),
    )
}

/// The length of a `$REPARSE_POINT` value, refused over [`MAX_NTFS_REPARSE_BYTES`] (Windows
/// writes none longer).
fn reparse_len(value_length: u64, path: &str) -> Result<usize, FsError> {
    usize::try_from(value_length)
        .ok()
        .filter(|&n| n <= MAX_NTFS_REPARSE_BYTES)
        .ok_or_else(|| {
            FsError::limit("MAX_NTFS_REPARSE_BYTES", format!(
                "{path}: reparse point of {value_length} bytes, over the limit of {MAX_NTFS_REPARSE_BYTES}"
            ))
        })
}

fn map_err(path: &str, e: NtfsError) -> FsError {
    if let NtfsError::Io(io) = &e {
        if let Some(r) = io.get_ref().and_then(|r| r.downcast_ref::<Refused>()) {
            return match r {
                Refused::Io(m) => FsError::Io(format!("{path}: {m}")),
                Refused::Corrupt(m) => FsError::Corrupt(format!("{path}: {m}")),
                Refused::Limit(limit, m) => FsError::limit(limit, format!("{path}: {m}")),
            };
        }
        if io.kind() == io::ErrorKind::UnexpectedEof {
            return FsError::Corrupt(format!("{path}: structure extends past the volume"));
        }
        // The crate turns some of its own errors into io::Error(Other, NtfsError).
        return FsError::Corrupt(format!("{path}: {io}"));
    }
    FsError::Corrupt(format!("{path}: {e}"))
}

// ------------------------------------------------------------------ the filesystem

/// What we learnt about one MFT record.
struct Info {
    kind: FileKind,
    reparse: Option<Reparse>,
    attributes: NtfsFileAttributeFlags,
}

impl NtfsFs {
    /// Opens the NTFS volume on `source`.
    pub fn open(source: SharedSource) -> Result<NtfsFs, FsError> {
        let boot = source
            .read_upto(0, 512)
            .map_err(|e| FsError::Io(format!("NTFS boot sector: {e}")))?;
        let geo = parse_boot(&boot)?;
        let mut ntfs = Ntfs::new(&mut io::Cursor::new(boot))
            .map_err(|e| FsError::Corrupt(format!("NTFS boot sector: {e}")))?;
        let mut c = Cursor::over(&source, geo, 0);
        // Without it the crate's name lookups panic: it is required, not optional.
        ntfs.read_upcase_table(&mut c)
            .map_err(|e| map_err("$UpCase", e))?;
        let dirty = ntfs
            .volume_info(&mut c)
            .ok()
            .map(|v| v.flags().contains(NtfsVolumeFlags::IS_DIRTY));
        let label = ntfs
            .volume_name(&mut c)
            .and_then(|r| r.ok())
            .map(|n| n.name().to_string_lossy());
        let fs = NtfsFs {
            source,
            ntfs,
            geo,
            dirty,
            label,
        };
        // The root must be a readable directory.
        fs.read_dir_limited("/", MAX_DIR_ENTRIES)?;
        Ok(fs)
    }

    /// The `$Volume` dirty flag (set while mounted, or after an unclean shutdown).
    pub fn volume_flags_dirty(&self) -> Option<bool> {
        self.dirty
    }

    /// The volume label.
    pub fn label(&self) -> Option<String> {
        self.label.clone()
    }

    /// The MFT record of `path` (not following a final symlink).
    fn lookup<'n>(&'n self, c: &mut Cursor<'_>, path: &str) -> Result<NtfsFile<'n>, FsError> {
        let mut file = self.ntfs.root_directory(c).map_err(|e| map_err("/", e))?;
        let mut walked = String::new();
        for comp in path.split('/').filter(|s| !s.is_empty()) {
            let here = if walked.is_empty() {
                "/"
            } else {
                walked.as_str()
            };
            if !file.is_directory() || self.info(c, &file, here)?.kind != FileKind::Dir {
                return Err(FsError::NotADirectory(here.to_string()));
            }
            walked.push('/');
            walked.push_str(comp);
            c.new_index();
            let index = file.directory_index(c).map_err(|e| map_err(&walked, e))?;
            let mut finder = index.finder();
            let next = match NtfsFileNameIndex::find(&mut finder, &self.ntfs, c, comp) {
                None => return Err(FsError::NotFound(walked)),
                Some(Err(e)) => return Err(map_err(&walked, e)),
                Some(Ok(entry)) => entry
                    .to_file(&self.ntfs, c)
                    .map_err(|e| map_err(&walked, e))?,
            };
            file = next;
        }
        Ok(file)
    }

    /// Kind, reparse point and attributes of `file`.
    fn info(&self, c: &mut Cursor<'_>, file: &NtfsFile<'_>, path: &str) -> Result<Info, FsError> {
        let si = file
            .info()
            .map_err(|e| map_err(path, e))
            .map(|si: NtfsStandardInformation| si.file_attributes())?;
        let reparse = if si.contains(NtfsFileAttributeFlags::REPARSE_POINT) {
            self.reparse(c, file, path)?
        } else {
            None
        };
        let link = reparse
            .as_ref()
            .is_some_and(|r| matches!(r.tag, IO_REPARSE_TAG_SYMLINK | IO_REPARSE_TAG_MOUNT_POINT));
        let kind = if link {
            FileKind::Symlink
        } else if file.is_directory() {
            FileKind::Dir
        } else {
            FileKind::File
        };
        Ok(Info {
            kind,
            reparse,
            attributes: si,
        })
    }

    /// The `$REPARSE_POINT` of `file`, if any.
    fn reparse(
        &self,
        c: &mut Cursor<'_>,
        file: &NtfsFile<'_>,
        path: &str,
    ) -> Result<Option<Reparse>, FsError> {
        // The crate walks the attribute list, if any: check it first.
        for (n, attr) in file.attributes_raw().enumerate() {
            if n >= MAX_NTFS_ATTRIBUTES {
                return Err(attributes_limit(path));
            }
            let attr = attr.map_err(|e| map_err(path, e))?;
            if attr.ty().ok() == Some(NtfsAttributeType::AttributeList) {
                check_list_value(c, &attr, path)?;
                break;
            }
        }
        let mut attrs = file.attributes();
        let mut n = 0;
        while let Some(item) = attrs.next(c) {
            n += 1;
            if n > MAX_NTFS_ATTRIBUTES {
                return Err(attributes_limit(path));
            }
            let item = item.map_err(|e| map_err(path, e))?;
            let attr = item.to_attribute().map_err(|e| map_err(path, e))?;
            if attr.ty().ok() != Some(NtfsAttributeType::ReparsePoint) {
                continue;
            }
            let len = reparse_len(attr.value_length(), path)?;
            let mut value = attr.value(c).map_err(|e| map_err(path, e))?;
            let mut buf = vec![0u8; len];
            value
                .read_exact(c, &mut buf)
                .map_err(|e| map_err(path, e))?;
            return Ok(parse_reparse(&buf));
        }
        Ok(None)
    }

    /// The attribute-list entries of the unnamed `$DATA` of `file`, in VCN order, or `None`
    /// when the file has no attribute list.
    ///
    /// The crate's own attribute-list walk skips the entries that point into the base record
    /// and so, when the first piece of `$DATA` is in the base record (as ntfs-3g writes it),
    /// returns a later piece whose data size is 0; the pieces are therefore walked here.
    fn data_list(
        &self,
        c: &mut Cursor<'_>,
        file: &NtfsFile<'_>,
        path: &str,
    ) -> Result<Option<Vec<NtfsAttributeListEntry>>, FsError> {
        let mut list = None;
        for (n, attr) in file.attributes_raw().enumerate() {
            if n >= MAX_NTFS_ATTRIBUTES {
                return Err(attributes_limit(path));
            }
            let attr = attr.map_err(|e| map_err(path, e))?;
            if attr.ty().ok() == Some(NtfsAttributeType::AttributeList) {
                check_list_value(c, &attr, path)?;
                list = Some(
                    attr.structured_value::<_, NtfsAttributeList>(c)
                        .map_err(|e| map_err(path, e))?,
                );
                break;
            }
        }
        let Some(list) = list else {
            return Ok(None);
        };
        let mut entries = list.entries();
        let mut out = Vec::new();
        let mut n = 0;
        while let Some(entry) = entries.next(c) {
            n += 1;
            if n > MAX_NTFS_ATTRIBUTES {
                return Err(attributes_limit(path));
            }
            let entry = entry.map_err(|e| map_err(path, e))?;
            if entry.ty().ok() == Some(NtfsAttributeType::Data) && entry.name_length() == 0 {
                out.push(entry);
            }
        }
        out.sort_by_key(|e| e.lowest_vcn().value());
        Ok(Some(out))
    }

    /// Flags and size of the unnamed `$DATA` of `file` (`None`: it has none).
    fn data_header(
        &self,
        c: &mut Cursor<'_>,
        file: &NtfsFile<'_>,
        list: Option<&[NtfsAttributeListEntry]>,
        path: &str,
    ) -> Result<Option<(NtfsAttributeFlags, u64)>, FsError> {
        let e = |e| map_err(path, e);
        match list {
            Some(list) => {
                let Some(first) = list.first() else {
                    return Ok(None);
                };
                if first.lowest_vcn().value() != 0 {
                    return Err(FsError::Corrupt(format!(
                        "{path}: $DATA does not start at cluster 0"
                    )));
                }
                let f = first.to_file(&self.ntfs, c).map_err(e)?;
                let a = first.to_attribute(&f).map_err(e)?;
                Ok(Some((a.flags(), a.value_length())))
            }
            None => match file.data(c, "") {
                None => Ok(None),
                Some(item) => {
                    let item = item.map_err(e)?;
                    let a = item.to_attribute().map_err(e)?;
                    Ok(Some((a.flags(), a.value_length())))
                }
            },
        }
    }

    /// Reads up to `want` bytes of the `$DATA` pieces listed in `list`.
    fn read_pieces(
        &self,
        c: &mut Cursor<'_>,
        list: &[NtfsAttributeListEntry],
        want: u64,
        path: &str,
    ) -> Result<Vec<u8>, FsError> {
        let e = |e| map_err(path, e);
        let mut out: Vec<u8> = Vec::with_capacity(want.min(READ_CHUNK as u64) as usize);
        let mut mapped: u64 = 0;
        for entry in list {
            if out.len() as u64 >= want {
                break;
            }
            let vcn_bytes = entry.lowest_vcn().offset(&self.ntfs).map_err(e)?;
            if u64::try_from(vcn_bytes).ok() != Some(mapped) {
                return Err(FsError::Corrupt(format!(
                    "{path}: $DATA pieces do not follow each other"
                )));
            }
            c.check = true;
            let f = entry.to_file(&self.ntfs, c).map_err(e)?;
            let a = entry.to_attribute(&f).map_err(e)?;
            let value = a.value(c).map_err(e)?;
            let NtfsAttributeValue::NonResident(value) = value else {
                // A resident piece (inside its MFT record, so small): only as the single piece.
                let mut value = value;
                let n = value.len().min(want - out.len() as u64) as usize;
                let mut buf = vec![0u8; n];
                value.read_exact(c, &mut buf).map_err(e)?;
                out.extend_from_slice(&buf);
                mapped = mapped.saturating_add(n as u64);
                continue;
            };
            c.check = false;
            for run in value.data_runs() {
                let mut run = run.map_err(e)?;
                mapped = mapped.saturating_add(run.allocated_size());
                while (out.len() as u64) < want {
                    let left = run.allocated_size().saturating_sub(run.stream_position());
                    let chunk = (want - out.len() as u64).min(READ_CHUNK as u64).min(left);
                    if chunk == 0 {
                        break;
                    }
                    let start = out.len();
                    out.resize(start + chunk as usize, 0);
                    let n = run.read(c, &mut out[start..]).map_err(e)?;
                    out.truncate(start + n);
                    if n == 0 {
                        break;
                    }
                }
                if out.len() as u64 >= want {
                    break;
                }
            }
        }
        c.check = true;
        if (out.len() as u64) < want {
            return Err(FsError::Corrupt(format!(
                "{path}: the data runs end before the data size"
            )));
        }
        Ok(out)
    }

    /// Entries of directory `path`, at most `limit` (more is an error).
    fn read_dir_limited(&self, path: &str, limit: usize) -> Result<Vec<DirEntry>, FsError> {
        let mut c = Cursor::new(self, 0);
        let dir = self.lookup(&mut c, path)?;
        let info = self.info(&mut c, &dir, path)?;
        if info.kind != FileKind::Dir {
            return Err(FsError::NotADirectory(path.into()));
        }
        let is_root = dir.file_record_number() == 5;
        c.new_index();
        let index = dir.directory_index(&mut c).map_err(|e| map_err(path, e))?;
        let mut entries = index.entries();
        // (name, kind, record to inspect for a reparse point)
        let mut found: Vec<(String, FileKind, Option<ntfs::NtfsFileReference>)> = Vec::new();
        while let Some(entry) = entries.next(&mut c) {
            let entry = entry.map_err(|e| map_err(path, e))?;
            let Some(key) = entry.key() else {
                continue;
            };
            let key = key.map_err(|e| map_err(path, e))?;
            if key.namespace() == NtfsFileNamespace::Dos {
                continue;
            }
            let name = key.name().to_string_lossy();
            let record = entry.file_reference();
            if name == "."
                || (is_root && name.starts_with('$') && {
                    record.file_record_number() < FIRST_USER_RECORD
                })
            {
                continue;
            }
            let attrs = key.file_attributes();
            let kind = if attrs.contains(NtfsFileAttributeFlags::IS_DIRECTORY) {
                FileKind::Dir
            } else {
                FileKind::File
            };
            let inspect = attrs
                .contains(NtfsFileAttributeFlags::REPARSE_POINT)
                .then_some(record);
            found.push((name, kind, inspect));
            if found.len() > limit {
                break;
            }
        }
        drop(entries);
        if found.len() > limit {
            return Err(FsError::limit(
                "MAX_DIR_ENTRIES",
                format!("{path} has more than {limit} entries"),
            ));
        }
        let mut out = Vec::with_capacity(found.len());
        for (name, mut kind, inspect) in found {
            if let Some(r) = inspect {
                let child = format!("{}/{name}", path.trim_end_matches('/'));
                let file = r
                    .to_file(&self.ntfs, &mut c)
                    .map_err(|e| map_err(&child, e))?;
                kind = self.info(&mut c, &file, &child)?.kind;
            }
            out.push(DirEntry { name, kind });
        }
        Ok(out)
    }
}

impl crate::Filesystem for NtfsFs {
    fn kind(&self) -> &'static str {
        "ntfs"
    }

    fn symlink_metadata(&self, path: &str) -> Result<Metadata, FsError> {
        let mut c = Cursor::new(self, 0);
        let file = self.lookup(&mut c, path)?;
        let info = self.info(&mut c, &file, path)?;
        let (len, mode) = match info.kind {
            FileKind::Dir => (0, 0o755),
            FileKind::Symlink => {
                let t = info.reparse.and_then(|r| r.target).unwrap_or_default();
                (t.len() as u64, 0o777)
            }
            _ => {
                let list = self.data_list(&mut c, &file, path)?;
                let header = self.data_header(&mut c, &file, list.as_deref(), path)?;
                (header.map_or(0, |(_, len)| len), 0o644)
            }
        };
        Ok(Metadata {
            kind: info.kind,
            len,
            mode,
            uid: 0,
            gid: 0,
        })
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        self.read_dir_limited(path, MAX_DIR_ENTRIES)
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        let mut c = Cursor::new(self, 0);
        let file = self.lookup(&mut c, path)?;
        let info = self.info(&mut c, &file, path)?;
        if info.kind != FileKind::Symlink {
            return Err(FsError::NotASymlink(path.into()));
        }
        info.reparse
            .and_then(|r| r.target)
            .ok_or_else(|| FsError::Corrupt(format!("{path}: reparse point without a target")))
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        let mut c = Cursor::new(self, max);
        let file = self.lookup(&mut c, path)?;
        let info = self.info(&mut c, &file, path)?;
        match info.kind {
            FileKind::Dir => return Err(FsError::IsADirectory(path.into())),
            FileKind::Symlink => {
                return Err(FsError::Unsupported(format!(
                    "{path} is a symlink (reparse point)"
                )))
            }
            _ => {}
        }
        match info.reparse.as_ref().map(|r| r.tag) {
            Some(IO_REPARSE_TAG_WOF) => {
                return Err(FsError::Unsupported(format!(
                    "{path} is WOF-compressed (CompactOS)"
                )))
            }
            Some(IO_REPARSE_TAG_DEDUP) => {
                return Err(FsError::Unsupported(format!(
                    "{path} is deduplicated (Data Deduplication chunk store)"
                )))
            }
            _ => {}
        }
        if info.attributes.contains(NtfsFileAttributeFlags::ENCRYPTED) {
            return Err(FsError::Unsupported(format!(
                "{path} is NTFS-encrypted (EFS)"
            )));
        }
        let list = self.data_list(&mut c, &file, path)?;
        let Some((flags, len)) = self.data_header(&mut c, &file, list.as_deref(), path)? else {
            return Ok(Vec::new());
        };
        if flags.contains(NtfsAttributeFlags::ENCRYPTED) {
            return Err(FsError::Unsupported(format!(
                "{path} is NTFS-encrypted (EFS)"
            )));
        }
        if flags.contains(NtfsAttributeFlags::COMPRESSED) {
            return Err(FsError::Unsupported(format!("{path} is NTFS-compressed")));
        }
        let want = len.min(max);
        if let Some(list) = list {
            return self.read_pieces(&mut c, &list, want, path);
        }
        let Some(item) = file.data(&mut c, "") else {
            return Ok(Vec::new());
        };
        let item = item.map_err(|e| map_err(path, e))?;
        let attr = item.to_attribute().map_err(|e| map_err(path, e))?;
        let mut value = attr.value(&mut c).map_err(|e| map_err(path, e))?;
        // Plain contents may look like records: do not check them.
        c.check = matches!(value, NtfsAttributeValue::AttributeListNonResident(_));
        let mut out = Vec::with_capacity(want.min(READ_CHUNK as u64) as usize);
        while (out.len() as u64) < want {
            let chunk = (want - out.len() as u64).min(READ_CHUNK as u64) as usize;
            let start = out.len();
            out.resize(start + chunk, 0);
            let n = value
                .read(&mut c, &mut out[start..])
                .map_err(|e| map_err(path, e))?;
            out.truncate(start + n);
            if n == 0 {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_sync() {
        fn is<T: Send + Sync>() {}
        is::<NtfsFs>();
    }

    // -------------------------------------------------------------- bounds (crate::limits)

    /// A volume of `size` bytes whose every `every`-byte piece starts with `head`.
    struct Pattern {
        size: u64,
        every: u64,
        head: &'static [u8],
    }

    impl vhdlint_disk::ReadAt for Pattern {
        fn size(&self) -> u64 {
            self.size
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
            buf.fill(0);
            let mut at = offset.div_ceil(self.every) * self.every;
            while at < offset + buf.len() as u64 {
                let p = (at - offset) as usize;
                let n = self.head.len().min(buf.len() - p);
                buf[p..p + n].copy_from_slice(&self.head[..n]);
                at += self.every;
            }
            Ok(())
        }
        fn name(&self) -> String {
            "pattern".into()
        }
    }

    fn limit_message(e: io::Error) -> String {
        match e.get_ref().and_then(|r| r.downcast_ref::<Refused>()) {
            Some(Refused::Limit(_, m)) => m.clone(),
            _ => panic!("not a limit: {e:?}"),
        }
    }

    const GEO: Geometry = Geometry {
        cluster_size: 4096,
        file_record_size: 1024,
    };

    #[test]
    fn metadata_reads_past_the_limit() {
        // One operation reading 16 MiB after 16 MiB: the 33rd read passes 512 MiB.
        let src: SharedSource = std::sync::Arc::new(Pattern {
            size: 1 << 30,
            every: 1 << 30,
            head: b"",
        });
        let mut c = Cursor::over(&src, GEO, 0);
        let mut buf = vec![0u8; 16 << 20];
        // The loop ends where the bound says, not when a clock runs out: the position shows
        // how much was read.
        let e = loop {
            if let Err(e) = c.read(&mut buf) {
                break e;
            }
        };
        assert_eq!(c.pos, MAX_NTFS_METADATA_BYTES);
        let m = limit_message(e);
        assert!(
            m.contains(&format!(
                "more than {MAX_NTFS_METADATA_BYTES} bytes of metadata"
            )),
            "{m}"
        );
    }

    #[test]
    fn index_records_past_the_limit() {
        // A directory operation loading 262,145 distinct 1 KiB index records.
        let src: SharedSource = std::sync::Arc::new(Pattern {
            size: 1 << 30,
            every: 1024,
            head: b"INDX",
        });
        let mut c = Cursor::over(&src, GEO, 0);
        c.new_index();
        let mut buf = vec![0u8; 1024];
        let e = loop {
            if let Err(e) = c.read(&mut buf) {
                break e;
            }
        };
        assert_eq!(c.index_records.len(), MAX_NTFS_INDEX_RECORDS + 1);
        let m = limit_message(e);
        assert!(
            m.contains(&format!("more than {MAX_NTFS_INDEX_RECORDS} index records")),
            "{m}"
        );
    }

    #[test]
    fn reparse_points_and_attributes_past_the_limits() {
        assert_eq!(
            reparse_len(MAX_NTFS_REPARSE_BYTES as u64, "/a").unwrap(),
            MAX_NTFS_REPARSE_BYTES
        );
        for len in [MAX_NTFS_REPARSE_BYTES as u64 + 1, u64::MAX] {
            let e = reparse_len(len, "/a").unwrap_err();
            assert!(
                matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("reparse point of {len} bytes, over the limit of {MAX_NTFS_REPARSE_BYTES}"))),
                "{e}"
            );
        }
        assert_eq!(attribute_list_len(4096, "/a").unwrap(), 4096);
        let e = attribute_list_len(MAX_NTFS_ATTRIBUTE_LIST_BYTES + 1, "/a").unwrap_err();
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("over the limit of {MAX_NTFS_ATTRIBUTE_LIST_BYTES}"))),
            "{e}"
        );
        let e = attributes_limit("/a");
        assert!(
            matches!(e, FsError::Limit(ref m) if m.what.contains(&format!("more than {MAX_NTFS_ATTRIBUTES} attributes"))),
            "{e}"
        );
    }
}
