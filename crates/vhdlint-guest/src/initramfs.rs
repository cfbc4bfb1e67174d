//! The initramfs: concatenated cpio (newc) archives, compressed or not, with an early-microcode
//! archive in front.
//!
//! The image is read the way the kernel's `unpack_to_rootfs` reads it: zero bytes between
//! pieces are skipped, a piece starting with `0707` is one uncompressed cpio archive, anything
//! else must start with a compression magic and is one compressed stream (one gzip member, one
//! xz stream, one zstd frame, ...) whose decompressed bytes are one or more cpio archives with
//! zero padding between them. A stream must end between archives, never inside one. Legacy lz4
//! has no end marker; like the kernel it runs to the end of the image, except that zero padding
//! or a block that cannot be one ends it.
//!
//! Hostile images are expected: everything is bounded by [`Limits`], every step advances, and
//! decompressed data is parsed as it streams (only the member contents asked for are kept).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::Serialize;

use crate::limits::{
    MAX_INITRAMFS_DECOMPRESSED, MAX_INITRAMFS_KEPT_MEMBER, MAX_INITRAMFS_KEPT_TOTAL,
    MAX_INITRAMFS_MEMBERS, MAX_INITRAMFS_NAME_LEN,
};

/// cpio "newc" magic.
const NEWC_MAGIC: &[u8; 6] = b"070701";
/// cpio "crc" magic (newc plus a byte-sum checksum, which the listing does not verify).
const CRC_MAGIC: &[u8; 6] = b"070702";
const HEADER_LEN: u64 = 110;
const TRAILER: &str = "TRAILER!!!";

const LZ4_LEGACY_MAGIC: u32 = 0x184C_2102;
/// Uncompressed size of a legacy lz4 block (as written by the kernel's tools and `lz4 -l`).
const LZ4_LEGACY_BLOCK: usize = 8 << 20;
/// Largest compressed legacy block: the lz4 bound of an 8 MiB block.
const LZ4_LEGACY_BOUND: usize = LZ4_LEGACY_BLOCK + LZ4_LEGACY_BLOCK / 255 + 16;
const LZ4_FRAME_MAGIC: u32 = 0x184D_2204;
const LZ4_WINDOW: usize = 64 << 10;

/// Member file names whose contents are always kept (when within the size limits).
pub const MODULE_INDEXES: [&str; 3] = ["modules.dep", "modules.builtin", "modules.order"];

/// Suffixes a kernel module file may carry after `.ko`.
const MODULE_COMPRESSIONS: [&str; 3] = [".xz", ".zst", ".gz"];

/// Bounds on what [`list`] reads and keeps; the defaults are the `MAX_INITRAMFS_*` bounds of
/// [`crate::limits`]. Reaching one is an error, except the `kept` bounds: a member over them
/// is listed without its contents, and named in [`Initramfs::not_kept`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes produced by all decompressed streams together.
    pub max_decompressed: u64,
    /// Members across all archives (trailers not counted).
    pub max_members: usize,
    /// Bytes of one member name (without its terminating NUL).
    pub max_name_len: usize,
    /// A kept member larger than this is listed but its contents are not kept.
    pub max_kept_member: u64,
    /// Bytes of kept contents and symlink targets together.
    pub max_kept_total: u64,
    /// Further members to keep, besides [`MODULE_INDEXES`]: a path (`etc/modprobe.d/hv.conf`)
    /// or a trailing part of one at a `/` (`hv.conf`, `modprobe.d/hv.conf`); a leading `/` or
    /// `./` is ignored. Only regular files are kept.
    pub keep: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed: MAX_INITRAMFS_DECOMPRESSED,
            max_members: MAX_INITRAMFS_MEMBERS,
            max_name_len: MAX_INITRAMFS_NAME_LEN,
            max_kept_member: MAX_INITRAMFS_KEPT_MEMBER,
            max_kept_total: MAX_INITRAMFS_KEPT_TOTAL,
            keep: Vec::new(),
        }
    }
}

impl Limits {
    /// Adds a member to keep (see [`Limits::keep`]).
    pub fn keeping(mut self, name: impl Into<String>) -> Self {
        self.keep.push(name.into());
        self
    }

    fn wants(&self, path: &str) -> bool {
        MODULE_INDEXES.iter().any(|pat| path_matches(path, pat))
            || self.keep.iter().any(|pat| path_matches(path, pat))
    }
}

/// How one piece of the image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// A plain cpio archive.
    None,
    Gzip,
    Bzip2,
    /// The legacy `.lzma` format.
    Lzma,
    Xz,
    /// Recognised, not supported.
    Lzo,
    /// The legacy lz4 format the kernel reads (`lz4 -l`).
    Lz4Legacy,
    /// The lz4 frame format (which the kernel itself does not read).
    Lz4Frame,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Lzma => "lzma",
            Compression::Xz => "xz",
            Compression::Lzo => "lzo",
            Compression::Lz4Legacy => "lz4-legacy",
            Compression::Lz4Frame => "lz4-frame",
            Compression::Zstd => "zstd",
        }
    }

    /// The compression whose magic `bytes` start with, if any (a plain cpio archive is not
    /// recognised here).
    pub fn detect(bytes: &[u8]) -> Option<Compression> {
        const MAGICS: [(&[u8], Compression); 8] = [
            (&[0x1f, 0x8b], Compression::Gzip),
            (b"BZh", Compression::Bzip2),
            (&[0x5d, 0x00, 0x00], Compression::Lzma),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Compression::Xz),
            (&[0x89, b'L', b'Z', b'O'], Compression::Lzo),
            (&[0x02, 0x21, 0x4c, 0x18], Compression::Lz4Legacy),
            (&[0x04, 0x22, 0x4d, 0x18], Compression::Lz4Frame),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
        ];
        MAGICS
            .iter()
            .find(|(magic, _)| bytes.starts_with(magic))
            .map(|&(_, c)| c)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The file type of a member, from its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberKind {
    File,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    /// A type the mode bits do not name.
    Other,
}

impl MemberKind {
    fn from_mode(mode: u32) -> MemberKind {
        match mode & 0o170_000 {
            0o100_000 => MemberKind::File,
            0o040_000 => MemberKind::Directory,
            0o120_000 => MemberKind::Symlink,
            0o020_000 => MemberKind::CharDevice,
            0o060_000 => MemberKind::BlockDevice,
            0o010_000 => MemberKind::Fifo,
            0o140_000 => MemberKind::Socket,
            _ => MemberKind::Other,
        }
    }
}

/// One cpio member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The name as stored (often with a leading `./`); see [`Member::path`].
    pub name: String,
    /// Data bytes (for a symlink, the target's length; 0 for all but the last of hard links).
    pub size: u64,
    pub kind: MemberKind,
    /// The full mode, type bits included.
    pub mode: u32,
    /// A symlink's target, when within the name and kept-bytes limits.
    pub link_target: Option<String>,
    /// Index into [`Initramfs::segments`] of the piece holding this member.
    pub segment: usize,
}

impl Member {
    /// The name without leading `/` or `./` (the root itself is `""`).
    pub fn path(&self) -> &str {
        normalize(&self.name)
    }
}

/// A top-level piece of the image: one plain cpio archive or one compressed stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Image offset of its first byte.
    pub offset: u64,
    /// Image bytes it spans.
    pub len: u64,
    pub compression: Compression,
    /// Bytes of cpio data (for a plain archive, equal to `len`).
    pub decompressed_len: u64,
    /// cpio archives (trailer-terminated) inside.
    pub archives: usize,
}

/// Where in the image something was found: byte `offset` of the (decompressed) data of the
/// segment that starts at image offset `segment_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub segment_offset: u64,
    pub compression: Compression,
    pub offset: u64,
}

impl Location {
    /// The image offset, for a place in an uncompressed segment.
    pub fn image_offset(&self) -> Option<u64> {
        (self.compression == Compression::None)
            .then(|| self.segment_offset.saturating_add(self.offset))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.image_offset() {
            Some(at) => write!(f, "image offset {at}"),
            None => write!(
                f,
                "offset {} of the {} stream at image offset {}",
                self.offset, self.compression, self.segment_offset
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InitramfsError {
    #[error("truncated cpio {what} at {at}")]
    Truncated { at: Location, what: &'static str },
    #[error("no cpio magic at {at}")]
    BadMagic { at: Location },
    #[error("cpio header at {at}: field {field} is not hexadecimal")]
    BadField { at: Location, field: &'static str },
    #[error("cpio header at {at}: name of {len} bytes, over the limit of {limit}")]
    NameTooLong {
        at: Location,
        len: u64,
        limit: usize,
    },
    #[error("cpio header at {at} declares {size} data bytes, only {available} follow")]
    SizePastEnd {
        at: Location,
        size: u64,
        available: u64,
    },
    #[error("more than {limit} cpio members")]
    TooManyMembers { limit: usize },
    #[error(
        "decompressed data over the limit of {limit} bytes (in the {compression} stream at image offset {offset})"
    )]
    DecompressedTooLarge {
        limit: u64,
        offset: u64,
        compression: Compression,
    },
    #[error("{compression} compression (at image offset {offset}) is not supported")]
    Unsupported {
        offset: u64,
        compression: Compression,
    },
    #[error("corrupt {compression} stream at image offset {offset}: {message}")]
    Corrupt {
        offset: u64,
        compression: Compression,
        message: String,
    },
    #[error("neither a cpio archive nor a known compression at image offset {offset}")]
    UnknownFormat { offset: u64 },
    #[error("data that is no cpio archive at {at}")]
    Junk { at: Location },
}

/// Everything [`list`] found.
#[derive(Debug, Clone, Default)]
pub struct Initramfs {
    members: Vec<Member>,
    segments: Vec<Segment>,
    /// Kept contents by normalized path; a later member of the same path replaces (or, when
    /// not kept itself, removes) an earlier one, as extraction would.
    kept: HashMap<String, Vec<u8>>,
    /// Members whose contents were wanted but not kept because of a `kept` bound.
    not_kept: Vec<String>,
}

impl Initramfs {
    /// All members in image order (an extractor lets later ones replace earlier ones).
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Contents of a kept member (see [`Limits::keep`]) by path, leading `/` or `./`
    /// ignored; `None` when no member has that path or its contents were not kept (a wanted
    /// member over the `kept` bounds is named in [`Initramfs::not_kept`]).
    pub fn read_member(&self, name: &str) -> Option<&[u8]> {
        self.kept.get(normalize(name)).map(Vec::as_slice)
    }

    /// Why wanted members (see [`Limits::keep`]; symlink targets too) were listed without
    /// their contents: one message per member, naming the `kept` bound it passed.
    pub fn not_kept(&self) -> &[String] {
        &self.not_kept
    }

    /// Whether a regular file for kernel module `name` is in the image: `hv_vmbus`,
    /// `hv-vmbus` and `hv_vmbus.ko` all find `.../hv_vmbus.ko`, `.ko.xz`, `.ko.zst` or `.ko.gz`.
    pub fn has_module(&self, name: &str) -> bool {
        self.module(name).is_some()
    }

    /// The last member that is kernel module `name` (matched as in [`Initramfs::has_module`]),
    /// e.g. to see which `lib/modules/<version>` it is under.
    pub fn module(&self, name: &str) -> Option<&Member> {
        let base = name.rsplit('/').next().unwrap_or(name);
        let wanted = module_stem(base).unwrap_or(base);
        if wanted.is_empty() {
            return None;
        }
        self.members.iter().rev().find(|m| {
            m.kind == MemberKind::File
                && module_stem(m.name.rsplit('/').next().unwrap_or(&m.name))
                    .is_some_and(|stem| same_module_name(stem, wanted))
        })
    }
}

/// Lists every member of every archive in an initramfs image.
pub fn list(bytes: &[u8], limits: Limits) -> Result<Initramfs, InitramfsError> {
    let mut ctx = Ctx {
        limits,
        out: Initramfs::default(),
        kept_total: 0,
        decompressed_left: 0,
    };
    ctx.decompressed_left = ctx.limits.max_decompressed;
    let mut pos = 0usize;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        if rest[0] == 0 {
            pos += rest.iter().position(|&b| b != 0).unwrap_or(rest.len());
            continue;
        }
        let offset = pos as u64;
        let seg = ctx.out.segments.len();
        let consumed = if rest.starts_with(b"0707") {
            ctx.out.segments.push(Segment {
                offset,
                len: 0,
                compression: Compression::None,
                decompressed_len: 0,
                archives: 0,
            });
            let wh = Where {
                segment_offset: offset,
                compression: Compression::None,
            };
            let mut src = Tracked::new(rest, Some(rest.len() as u64));
            match parse_archive(&mut src, &mut ctx, seg, wh) {
                Ok(()) => {}
                Err(Fail::Cpio(e)) => return Err(e),
                // Reading a slice cannot fail.
                Err(Fail::Io(e)) => {
                    return Err(InitramfsError::Corrupt {
                        offset,
                        compression: Compression::None,
                        message: e.to_string(),
                    })
                }
            }
            let s = &mut ctx.out.segments[seg];
            s.decompressed_len = src.pos;
            s.archives = 1;
            src.pos
        } else {
            let compression =
                Compression::detect(rest).ok_or(InitramfsError::UnknownFormat { offset })?;
            ctx.out.segments.push(Segment {
                offset,
                len: 0,
                compression,
                decompressed_len: 0,
                archives: 0,
            });
            decode_segment(compression, rest, &mut ctx, seg)?
        };
        // Every segment starts with a non-zero byte that it consumes; this guards the promise.
        let consumed = usize::try_from(consumed)
            .unwrap_or(usize::MAX)
            .clamp(1, rest.len());
        ctx.out.segments[seg].len = consumed as u64;
        pos += consumed;
    }
    Ok(ctx.out)
}

struct Ctx {
    limits: Limits,
    out: Initramfs,
    kept_total: u64,
    decompressed_left: u64,
}

#[derive(Clone, Copy)]
struct Where {
    segment_offset: u64,
    compression: Compression,
}

impl Where {
    fn at(self, offset: u64) -> Location {
        Location {
            segment_offset: self.segment_offset,
            compression: self.compression,
            offset,
        }
    }
}

enum Fail {
    /// The decompressor (or the size limit) failed.
    Io(io::Error),
    Cpio(InitramfsError),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Io(e)
    }
}

impl From<InitramfsError> for Fail {
    fn from(e: InitramfsError) -> Self {
        Fail::Cpio(e)
    }
}

/// A buffered reader that counts the bytes taken from it.
struct Tracked<B> {
    inner: B,
    pos: u64,
    /// Total length, when known (a plain archive in memory).
    len: Option<u64>,
}

impl<B: BufRead> Tracked<B> {
    fn new(inner: B, len: Option<u64>) -> Self {
        Tracked { inner, pos: 0, len }
    }

    fn remaining(&self) -> Option<u64> {
        self.len.map(|l| l.saturating_sub(self.pos))
    }

    /// Fills `buf` as far as the data goes; returns how much was read.
    fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Skips up to `n` bytes; returns how many there were.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut left = n;
        while left > 0 {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b.len(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail == 0 {
                break;
            }
            let k = avail.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.inner.consume(k);
            left -= k as u64;
            self.pos += k as u64;
        }
        Ok(n - left)
    }

    /// Skips zero bytes; returns the next byte (not consumed), or `None` at the end.
    fn skip_zeros(&mut self) -> io::Result<Option<u8>> {
        loop {
            let (skip, next) = match self.inner.fill_buf() {
                Ok([]) => return Ok(None),
                Ok(b) => match b.iter().position(|&x| x != 0) {
                    Some(i) => (i, Some(b[i])),
                    None => (b.len(), None),
                },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.inner.consume(skip);
            self.pos += skip as u64;
            if next.is_some() {
                return Ok(next);
            }
        }
    }
}

fn pad4(n: u64) -> u64 {
    (4 - n % 4) % 4
}

fn hex_field(field: &[u8]) -> Option<u32> {
    field.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some((acc << 4) | d)
    })
}

/// Parses one archive, up to and including its trailer.
fn parse_archive<B: BufRead>(
    src: &mut Tracked<B>,
    ctx: &mut Ctx,
    seg: usize,
    wh: Where,
) -> Result<(), Fail> {
    loop {
        let at = wh.at(src.pos);
        let mut hdr = [0u8; HEADER_LEN as usize];
        if src.read_full(&mut hdr)? < hdr.len() {
            return Err(InitramfsError::Truncated { at, what: "header" }.into());
        }
        if &hdr[..6] != NEWC_MAGIC && &hdr[..6] != CRC_MAGIC {
            return Err(InitramfsError::BadMagic { at }.into());
        }
        const FIELDS: [&str; 13] = [
            "ino",
            "mode",
            "uid",
            "gid",
            "nlink",
            "mtime",
            "filesize",
            "devmajor",
            "devminor",
            "rdevmajor",
            "rdevminor",
            "namesize",
            "check",
        ];
        let mut values = [0u32; 13];
        for (i, (value, field)) in values.iter_mut().zip(FIELDS).enumerate() {
            let start = 6 + 8 * i;
            *value =
                hex_field(&hdr[start..start + 8]).ok_or(InitramfsError::BadField { at, field })?;
        }
        let (mode, size, namesize) = (values[1], u64::from(values[6]), u64::from(values[11]));
        if namesize == 0 {
            return Err(InitramfsError::BadField {
                at,
                field: "namesize",
            }
            .into());
        }
        let limit = ctx.limits.max_name_len;
        if namesize - 1 > limit as u64 {
            return Err(InitramfsError::NameTooLong {
                at,
                len: namesize - 1,
                limit,
            }
            .into());
        }
        let mut raw_name = vec![0u8; namesize as usize];
        if src.read_full(&mut raw_name)? < raw_name.len() {
            return Err(InitramfsError::Truncated { at, what: "name" }.into());
        }
        let end = raw_name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_name.len());
        let name = String::from_utf8_lossy(&raw_name[..end]).into_owned();
        let name_pad = pad4(HEADER_LEN + namesize);
        if name == TRAILER {
            // Lenient about a trailer whose padding runs past the end.
            src.skip(name_pad)?;
            src.skip(size)?;
            src.skip(pad4(size))?;
            return Ok(());
        }
        if src.skip(name_pad)? < name_pad {
            return Err(InitramfsError::Truncated { at, what: "name" }.into());
        }
        if ctx.out.members.len() >= ctx.limits.max_members {
            return Err(InitramfsError::TooManyMembers {
                limit: ctx.limits.max_members,
            }
            .into());
        }
        if let Some(available) = src.remaining().filter(|&r| r < size) {
            return Err(InitramfsError::SizePastEnd {
                at,
                size,
                available,
            }
            .into());
        }
        let kind = MemberKind::from_mode(mode);
        let path = normalize(&name).to_owned();
        let kept_room = ctx.limits.max_kept_total.saturating_sub(ctx.kept_total);
        let (wanted, member_max) = match kind {
            MemberKind::File => (ctx.limits.wants(&path), ctx.limits.max_kept_member),
            MemberKind::Symlink => (true, limit as u64),
            _ => (false, 0),
        };
        let keep = wanted && size <= member_max && size <= kept_room;
        if wanted && !keep {
            ctx.out.not_kept.push(if size > member_max {
                format!(
                    "{name} ({size} bytes): contents not kept, over the limit of {member_max} bytes for one member"
                )
            } else {
                format!(
                    "{name} ({size} bytes): contents not kept, the {} bytes kept in all would pass the limit of {}",
                    ctx.kept_total + size,
                    ctx.limits.max_kept_total
                )
            });
        }
        let data = if keep {
            let mut data = vec![0u8; size as usize];
            let got = src.read_full(&mut data)? as u64;
            if got < size {
                return Err(size_past_end(at, size, got));
            }
            ctx.kept_total += size;
            Some(data)
        } else {
            let got = src.skip(size)?;
            if got < size {
                return Err(size_past_end(at, size, got));
            }
            None
        };
        let data_pad = pad4(size);
        if src.skip(data_pad)? < data_pad {
            return Err(InitramfsError::Truncated { at, what: "data" }.into());
        }
        let mut link_target = None;
        match (kind, data) {
            (MemberKind::Symlink, Some(d)) => {
                link_target = Some(String::from_utf8_lossy(&d).into_owned());
                ctx.out.kept.remove(&path);
            }
            (_, Some(d)) => {
                ctx.out.kept.insert(path, d);
            }
            (_, None) => {
                ctx.out.kept.remove(&path);
            }
        }
        ctx.out.members.push(Member {
            name,
            size,
            kind,
            mode,
            link_target,
            segment: seg,
        });
    }
}

fn size_past_end(at: Location, size: u64, available: u64) -> Fail {
    Fail::Cpio(InitramfsError::SizePastEnd {
        at,
        size,
        available,
    })
}

/// Parses the decompressed data of one stream: archives with zero padding between them.
fn parse_stream<B: BufRead>(
    src: &mut Tracked<B>,
    ctx: &mut Ctx,
    seg: usize,
    wh: Where,
) -> Result<(), Fail> {
    loop {
        match src.skip_zeros()? {
            None => return Ok(()),
            Some(b'0') => {
                parse_archive(src, ctx, seg, wh)?;
                ctx.out.segments[seg].archives += 1;
            }
            Some(_) => return Err(InitramfsError::Junk { at: wh.at(src.pos) }.into()),
        }
    }
}

/// Counts decompressed bytes and fails once they pass the budget.
struct Budget<R> {
    inner: R,
    left: u64,
    produced: u64,
    exceeded: bool,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded = true;
            return Err(io::Error::other("decompressed size limit reached"));
        }
        self.left -= n as u64;
        self.produced += n as u64;
        Ok(n)
    }
}

/// Parses a decompressor's output to its end; gives the decompressor back to learn how much
/// input it took.
fn run<R: Read>(dec: R, ctx: &mut Ctx, seg: usize) -> Result<R, InitramfsError> {
    let s = &ctx.out.segments[seg];
    let (offset, compression) = (s.offset, s.compression);
    let wh = Where {
        segment_offset: offset,
        compression,
    };
    let budget = Budget {
        inner: dec,
        left: ctx.decompressed_left,
        produced: 0,
        exceeded: false,
    };
    let mut src = Tracked::new(BufReader::with_capacity(64 << 10, budget), None);
    let res = parse_stream(&mut src, ctx, seg, wh);
    let budget = src.inner.into_inner();
    ctx.decompressed_left = ctx.decompressed_left.saturating_sub(budget.produced);
    ctx.out.segments[seg].decompressed_len = budget.produced;
    match res {
        Ok(()) => Ok(budget.inner),
        Err(Fail::Cpio(e)) => Err(e),
        Err(Fail::Io(_)) if budget.exceeded => Err(InitramfsError::DecompressedTooLarge {
            limit: ctx.limits.max_decompressed,
            offset,
            compression,
        }),
        Err(Fail::Io(e)) => Err(corrupt(offset, compression, e)),
    }
}

fn corrupt(offset: u64, compression: Compression, e: impl fmt::Display) -> InitramfsError {
    InitramfsError::Corrupt {
        offset,
        compression,
        message: e.to_string(),
    }
}

/// Decodes one compressed stream at the start of `input`; returns the input bytes it took.
fn decode_segment(
    compression: Compression,
    input: &[u8],
    ctx: &mut Ctx,
    seg: usize,
) -> Result<u64, InitramfsError> {
    let offset = ctx.out.segments[seg].offset;
    let taken = |rest: usize| (input.len() - rest.min(input.len())) as u64;
    // Dictionary memory of xz and lzma, bounded like the output.
    let mem_limit_kb = u32::try_from(ctx.limits.max_decompressed.div_ceil(1024))
        .unwrap_or(u32::MAX - 1)
        .min(u32::MAX - 1);
    match compression {
        Compression::None => Ok(0),
        Compression::Gzip => {
            let dec = run(flate2::bufread::GzDecoder::new(input), ctx, seg)?;
            Ok(taken(dec.into_inner().len()))
        }
        Compression::Bzip2 => {
            let dec = run(bzip2::bufread::BzDecoder::new(input), ctx, seg)?;
            Ok(taken(dec.into_inner().len()))
        }
        Compression::Xz => {
            let dec = lzma_rust2::XzReader::new_mem_limit(input, false, mem_limit_kb);
            let dec = run(dec, ctx, seg)?;
            Ok(taken(dec.into_inner().len()))
        }
        Compression::Lzma => {
            let dec = lzma_rust2::LzmaReader::new_mem_limit(input, mem_limit_kb, None)
                .map_err(|e| corrupt(offset, compression, e))?;
            let dec = run(dec, ctx, seg)?;
            let (rest, unread) = dec.into_parts();
            Ok(taken(rest.len() + unread.len()))
        }
        Compression::Zstd => {
            let dec = ruzstd::StreamingDecoder::new(input)
                .map_err(|e| corrupt(offset, compression, e))?;
            let dec = run(dec, ctx, seg)?;
            let (rest, frame) = dec.into_parts();
            if let (Some(stored), Some(computed)) = (
                frame.get_checksum_from_data(),
                frame.get_calculated_checksum(),
            ) {
                if stored != computed {
                    return Err(corrupt(offset, compression, "content checksum mismatch"));
                }
            }
            Ok(taken(rest.len()))
        }
        Compression::Lz4Legacy => {
            let dec = run(Lz4Legacy::new(input), ctx, seg)?;
            Ok(taken(dec.rest.len()))
        }
        Compression::Lz4Frame => {
            let dec = Lz4Frame::new(input).map_err(|e| corrupt(offset, compression, e))?;
            let dec = run(dec, ctx, seg)?;
            Ok(taken(dec.rest.len()))
        }
        Compression::Lzo => Err(InitramfsError::Unsupported {
            offset,
            compression,
        }),
    }
}

fn invalid(msg: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Decoded bytes of the current block, handed out by `read`.
#[derive(Default)]
struct BlockBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl BlockBuf {
    fn copy_out(&mut self, buf: &mut [u8]) -> usize {
        let n = (self.end - self.start).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.start..self.start + n]);
        self.start += n;
        n
    }

    fn empty(&self) -> bool {
        self.start == self.end
    }

    /// The buffer to decode the next block into, at least `size` bytes.
    fn target(&mut self, size: usize) -> &mut [u8] {
        if self.data.len() < size {
            self.data.resize(size, 0);
        }
        self.start = 0;
        self.end = 0;
        &mut self.data[..size]
    }
}

/// The legacy lz4 format: a magic, then blocks of a 4-byte little-endian compressed length
/// and data decoding to at most 8 MiB; the magic may repeat. Nothing marks the end, so it ends
/// where the input does or, after a first block, at anything that cannot be a block.
struct Lz4Legacy<'a> {
    rest: &'a [u8],
    out: BlockBuf,
    blocks: u64,
    done: bool,
}

impl<'a> Lz4Legacy<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lz4Legacy {
            rest: input,
            out: BlockBuf::default(),
            blocks: 0,
            done: false,
        }
    }

    fn next_block(&mut self) -> io::Result<bool> {
        loop {
            let Some((len, body)) = self.rest.split_first_chunk::<4>() else {
                return Ok(false);
            };
            let n = u32::from_le_bytes(*len);
            if n == LZ4_LEGACY_MAGIC {
                self.rest = body;
                continue;
            }
            let n = n as usize;
            let plausible = n != 0 && n <= LZ4_LEGACY_BOUND && n <= body.len();
            if !plausible {
                return if self.blocks == 0 {
                    Err(invalid("lz4 block length out of range"))
                } else {
                    Ok(false)
                };
            }
            match lz4_flex::block::decompress_into(&body[..n], self.out.target(LZ4_LEGACY_BLOCK)) {
                Ok(m) => {
                    self.out.end = m;
                    self.rest = &body[n..];
                    self.blocks += 1;
                    return Ok(true);
                }
                Err(e) if self.blocks == 0 => return Err(invalid(e)),
                Err(_) => return Ok(false),
            }
        }
    }
}

impl Read for Lz4Legacy<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.empty() {
            if self.done || !self.next_block()? {
                self.done = true;
                return Ok(0);
            }
        }
        Ok(self.out.copy_out(buf))
    }
}

/// One lz4 frame (checksums are skipped, not verified).
struct Lz4Frame<'a> {
    rest: &'a [u8],
    out: BlockBuf,
    block_max: usize,
    linked: bool,
    block_checksum: bool,
    content_checksum: bool,
    /// The last 64 KiB of output, for linked blocks.
    window: Vec<u8>,
    done: bool,
}

impl<'a> Lz4Frame<'a> {
    fn new(input: &'a [u8]) -> io::Result<Self> {
        let short = || invalid("truncated lz4 frame header");
        let (magic, rest) = input.split_first_chunk::<4>().ok_or_else(short)?;
        if u32::from_le_bytes(*magic) != LZ4_FRAME_MAGIC {
            return Err(invalid("no lz4 frame magic"));
        }
        let (flags, mut rest) = rest.split_first_chunk::<2>().ok_or_else(short)?;
        let [flg, bd] = *flags;
        if flg >> 6 != 1 {
            return Err(invalid("unknown lz4 frame version"));
        }
        if flg & 0x01 != 0 {
            return Err(invalid("lz4 frames with a dictionary are not supported"));
        }
        let block_max = match (bd >> 4) & 7 {
            4 => 64 << 10,
            5 => 256 << 10,
            6 => 1 << 20,
            7 => 4 << 20,
            _ => return Err(invalid("bad lz4 block size")),
        };
        // Content size, then the header checksum.
        let extra = if flg & 0x08 != 0 { 9 } else { 1 };
        rest = rest.get(extra..).ok_or_else(short)?;
        Ok(Lz4Frame {
            rest,
            out: BlockBuf::default(),
            block_max,
            linked: flg & 0x20 == 0,
            block_checksum: flg & 0x10 != 0,
            content_checksum: flg & 0x04 != 0,
            window: Vec::new(),
            done: false,
        })
    }

    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(invalid("truncated lz4 frame"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn next_block(&mut self) -> io::Result<bool> {
        let word = self.take(4)?;
        let n = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        if n == 0 {
            if self.content_checksum {
                self.take(4)?;
            }
            return Ok(false);
        }
        let stored = n & 0x8000_0000 != 0;
        let len = (n & 0x7fff_ffff) as usize;
        if len > self.block_max {
            return Err(invalid("lz4 block larger than the frame's block size"));
        }
        let data = self.take(len)?;
        if self.block_checksum {
            self.take(4)?;
        }
        let target = self.out.target(self.block_max);
        let m = if stored {
            target[..len].copy_from_slice(data);
            len
        } else if self.linked {
            lz4_flex::block::decompress_into_with_dict(data, target, &self.window)
                .map_err(invalid)?
        } else {
            lz4_flex::block::decompress_into(data, target).map_err(invalid)?
        };
        self.out.end = m;
        if self.linked {
            self.window.extend_from_slice(&self.out.data[..m]);
            let excess = self.window.len().saturating_sub(LZ4_WINDOW);
            self.window.drain(..excess);
        }
        Ok(true)
    }
}

impl Read for Lz4Frame<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out.empty() {
            if self.done || !self.next_block()? {
                self.done = true;
                return Ok(0);
            }
        }
        Ok(self.out.copy_out(buf))
    }
}

/// A path without leading `/` or `./` and trailing `/`; the root is `""`.
fn normalize(p: &str) -> &str {
    let mut s = p;
    loop {
        if let Some(r) = s.strip_prefix("./") {
            s = r;
        } else if let Some(r) = s.strip_prefix('/') {
            s = r;
        } else {
            break;
        }
    }
    let s = s.trim_end_matches('/');
    if s == "." {
        ""
    } else {
        s
    }
}

/// Whether normalized `path` is `pattern` or ends with it at a `/`.
fn path_matches(path: &str, pattern: &str) -> bool {
    let pattern = normalize(pattern);
    if pattern.is_empty() {
        return false;
    }
    path == pattern
        || path
            .strip_suffix(pattern)
            .is_some_and(|head| head.ends_with('/'))
}

/// `hv_vmbus` for `hv_vmbus.ko`, `.ko.xz`, `.ko.zst` or `.ko.gz`.
fn module_stem(file: &str) -> Option<&str> {
    let file = MODULE_COMPRESSIONS
        .iter()
        .find_map(|s| file.strip_suffix(s))
        .unwrap_or(file);
    file.strip_suffix(".ko")
}

/// Module names compare with `-` and `_` alike, as modprobe does.
fn same_module_name(a: &str, b: &str) -> bool {
    let canon = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| canon(x) == canon(y))
}

#[cfg(test)]
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;

    const KVER: &str = "6.1.0-13-cloud-amd64";
    const MODULES_DEP: &str = "kernel/drivers/hv/hv_vmbus.ko:\n\
        kernel/drivers/scsi/hv_storvsc.ko.zst: kernel/drivers/hv/hv_vmbus.ko\n\
        kernel/drivers/net/hyperv/hv_netvsc.ko.xz: kernel/drivers/hv/hv_vmbus.ko\n";

    // ---- archives built in Rust -------------------------------------------------------------

    /// A newc archive (with trailer, padded to 512 like cpio writes it).
    fn newc(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut push = |name: &str, mode: u32, data: &[u8], ino: u32| {
            let header = format!(
                "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                0,
                0,
                1,
                0,
                data.len(),
                0,
                0,
                0,
                0,
                name.len() + 1,
                0
            );
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for (i, &(name, mode, data)) in entries.iter().enumerate() {
            push(name, mode, data, i as u32 + 1);
        }
        push(TRAILER, 0, b"", 0);
        while out.len() % 512 != 0 {
            out.push(0);
        }
        out
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// An lz4 block of literals only (valid, if not small).
    fn lz4_literals(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = data.len();
        if n < 15 {
            out.push((n as u8) << 4);
        } else {
            out.push(0xf0);
            let mut rest = n - 15;
            while rest >= 255 {
                out.push(255);
                rest -= 255;
            }
            out.push(rest as u8);
        }
        out.extend_from_slice(data);
        out
    }

    fn lz4_legacy(data: &[u8]) -> Vec<u8> {
        let mut out = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
        for chunk in data.chunks(LZ4_LEGACY_BLOCK) {
            let block = lz4_literals(chunk);
            out.extend_from_slice(&(block.len() as u32).to_le_bytes());
            out.extend_from_slice(&block);
        }
        out
    }

    /// An lz4 frame of 64 KiB blocks, alternately stored and literal-compressed.
    fn lz4_frame(data: &[u8]) -> Vec<u8> {
        let mut out = LZ4_FRAME_MAGIC.to_le_bytes().to_vec();
        out.extend_from_slice(&[0x64, 0x40, 0x00]); // independent blocks, content checksum
        for (i, chunk) in data.chunks(64 << 10).enumerate() {
            if i % 2 == 0 {
                out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
                out.extend_from_slice(chunk);
            } else {
                let block = lz4_literals(chunk);
                out.extend_from_slice(&(block.len() as u32).to_le_bytes());
                out.extend_from_slice(&block);
            }
        }
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&[0xaa; 4]);
        out
    }

    fn lcg_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect()
    }

    fn sample_entries() -> Vec<(String, u32, Vec<u8>)> {
        let m = format!("lib/modules/{KVER}");
        vec![
            (".".into(), 0o40755, vec![]),
            ("./bin".into(), 0o40755, vec![]),
            ("./bin/sh".into(), 0o100755, b"#!busybox\n".to_vec()),
            ("./sbin".into(), 0o120777, b"bin".to_vec()),
            (
                format!("./{m}/kernel/drivers/hv/hv_vmbus.ko"),
                0o100644,
                vec![1; 100],
            ),
            (
                format!("./{m}/kernel/drivers/scsi/hv_storvsc.ko.zst"),
                0o100644,
                vec![2; 5],
            ),
            (
                format!("./{m}/kernel/drivers/net/hyperv/hv-netvsc.ko.xz"),
                0o100644,
                vec![3; 7],
            ),
            (
                format!("./{m}/modules.dep"),
                0o100644,
                MODULES_DEP.as_bytes().to_vec(),
            ),
            (format!("./{m}/modules.dep.bin"), 0o100644, vec![9; 33]),
            ("./dev/console".into(), 0o20600, vec![]),
            (
                "./etc/hv.conf".into(),
                0o100644,
                b"options hv_vmbus x=1\n".to_vec(),
            ),
        ]
    }

    fn sample_newc() -> Vec<u8> {
        let entries = sample_entries();
        let refs: Vec<(&str, u32, &[u8])> = entries
            .iter()
            .map(|(n, m, d)| (n.as_str(), *m, d.as_slice()))
            .collect();
        newc(&refs)
    }

    fn early_newc() -> Vec<u8> {
        newc(&[
            ("kernel", 0o40755, b""),
            (
                "kernel/x86/microcode/GenuineIntel.bin",
                0o100644,
                &[0xee; 1000],
            ),
        ])
    }

    fn names(ir: &Initramfs) -> Vec<&str> {
        ir.members().iter().map(|m| m.name.as_str()).collect()
    }

    // ---- unit tests -------------------------------------------------------------------------

    #[test]
    fn initramfs_lists_plain_archive() {
        let ir = list(&sample_newc(), Limits::default().keeping("/etc/hv.conf")).unwrap();
        assert_eq!(ir.members().len(), sample_entries().len());
        assert_eq!(ir.segments().len(), 1);
        assert_eq!(ir.segments()[0].compression, Compression::None);
        assert_eq!(ir.segments()[0].archives, 1);
        let sbin = &ir.members()[3];
        assert_eq!(sbin.kind, MemberKind::Symlink);
        assert_eq!(sbin.link_target.as_deref(), Some("bin"));
        assert_eq!(sbin.path(), "sbin");
        assert_eq!(ir.members()[0].path(), "");
        assert_eq!(ir.members()[0].kind, MemberKind::Directory);
        assert_eq!(ir.members()[9].kind, MemberKind::CharDevice);
        let dep = format!("lib/modules/{KVER}/modules.dep");
        assert_eq!(ir.read_member(&dep), Some(MODULES_DEP.as_bytes()));
        assert_eq!(
            ir.read_member(&format!("/{dep}")),
            Some(MODULES_DEP.as_bytes())
        );
        assert_eq!(
            ir.read_member(&format!("./{dep}")),
            Some(MODULES_DEP.as_bytes())
        );
        assert_eq!(
            ir.read_member("etc/hv.conf"),
            Some(&b"options hv_vmbus x=1\n"[..])
        );
        // Not asked for.
        assert_eq!(ir.read_member(&format!("{dep}.bin")), None);
        assert_eq!(ir.read_member("bin/sh"), None);
    }

    #[test]
    fn initramfs_module_names() {
        let ir = list(&sample_newc(), Limits::default()).unwrap();
        for name in [
            "hv_vmbus",
            "hv-vmbus",
            "hv_vmbus.ko",
            "kernel/drivers/hv/hv_vmbus.ko",
            "hv_storvsc",
            "hv_netvsc",
            "hv-netvsc.ko.xz",
        ] {
            assert!(ir.has_module(name), "{name}");
        }
        for name in ["hv_utils", "hv", "vmbus", "", "modules", "hv_vmbus.k"] {
            assert!(!ir.has_module(name), "{name}");
        }
        let m = ir.module("hv_storvsc").unwrap();
        assert!(m.path().starts_with(&format!("lib/modules/{KVER}/")));
    }

    #[test]
    fn initramfs_crc_format_and_concatenation() {
        let mut crc = early_newc();
        crc[5] = b'2';
        let mut image = crc.clone();
        image.extend_from_slice(&sample_newc());
        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(ir.segments().len(), 2);
        assert_eq!(ir.segments()[1].offset, crc.len() as u64);
        assert_eq!(ir.members().len(), 2 + sample_entries().len());
        assert!(ir.members()[..2].iter().all(|m| m.segment == 0));
        assert!(ir.members()[2..].iter().all(|m| m.segment == 1));
    }

    #[test]
    fn initramfs_in_rust_compressed_layouts() {
        let main = sample_newc();
        for (compression, stream) in [
            (Compression::Gzip, gz(&main)),
            (Compression::Lz4Legacy, lz4_legacy(&main)),
            (Compression::Lz4Frame, lz4_frame(&main)),
        ] {
            let mut image = early_newc();
            image.extend_from_slice(&stream);
            let ir = list(&image, Limits::default()).unwrap();
            let segs = ir.segments();
            assert_eq!(segs.len(), 2, "{compression}");
            assert_eq!(segs[1].compression, compression);
            assert_eq!(segs[1].len, stream.len() as u64, "{compression}");
            assert_eq!(segs[1].decompressed_len, main.len() as u64);
            assert!(ir.has_module("hv_vmbus"));
            assert_eq!(ir.members().len(), 2 + sample_entries().len());
        }
    }

    #[test]
    fn initramfs_two_archives_in_one_stream_and_padding() {
        let mut inner = sample_newc();
        inner.extend_from_slice(&[0; 12]);
        inner.extend_from_slice(&newc(&[("usr/lib/x/hv_utils.ko", 0o100644, b"x")]));
        let mut image = early_newc();
        image.extend_from_slice(&gz(&inner));
        image.extend_from_slice(&[0; 7]);
        image.extend_from_slice(&gz(&newc(&[("late", 0o100644, b"y")])));
        image.extend_from_slice(&[0; 5]);
        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(ir.segments().len(), 3);
        assert_eq!(ir.segments()[1].archives, 2);
        assert!(ir.has_module("hv_utils"));
        assert_eq!(ir.members().last().unwrap().name, "late");
    }

    #[test]
    fn initramfs_later_member_replaces_kept_contents() {
        let dep = "lib/modules/x/modules.dep";
        let mut image = newc(&[(dep, 0o100644, b"old")]);
        image.extend_from_slice(&newc(&[(dep, 0o100644, &[7u8; 100])]));
        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(ir.read_member(dep), Some(&[7u8; 100][..]));
        let limits = Limits {
            max_kept_member: 10,
            ..Limits::default()
        };
        let ir = list(&image, limits).unwrap();
        assert_eq!(ir.members().len(), 2);
        assert_eq!(ir.read_member(dep), None);
    }

    #[test]
    fn initramfs_empty_and_zeros() {
        assert!(list(b"", Limits::default()).unwrap().members().is_empty());
        let ir = list(&[0; 4096], Limits::default()).unwrap();
        assert!(ir.members().is_empty() && ir.segments().is_empty());
    }

    #[test]
    fn initramfs_truncated_header() {
        let mut image = early_newc();
        let early_len = image.len();
        let main = sample_newc();
        image.extend_from_slice(&main[..60]);
        match list(&image, Limits::default()) {
            Err(InitramfsError::Truncated { at, what: "header" }) => {
                assert_eq!(at.image_offset(), Some(early_len as u64))
            }
            other => panic!("{other:?}"),
        }
        // Cut inside the name.
        match list(&main[..111], Limits::default()) {
            Err(InitramfsError::Truncated { what: "name", .. }) => {}
            other => panic!("{other:?}"),
        }
        // A compressed stream that stops inside an archive.
        let cut = gz(&main[..main.len() / 2]);
        match list(&cut, Limits::default()) {
            Err(InitramfsError::Truncated { at, .. })
            | Err(InitramfsError::SizePastEnd { at, .. }) => {
                assert_eq!(at.compression, Compression::Gzip)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn initramfs_size_past_end() {
        let mut archive = newc(&[("a", 0o100644, b"12345678")]);
        archive.truncate(110 + 2 + 8);
        // Claim 0x100 bytes where 8 follow.
        archive[54..62].copy_from_slice(b"00000100");
        let mut image = vec![0u8; 8];
        image.extend_from_slice(&archive);
        let err = list(&image, Limits::default()).unwrap_err();
        match &err {
            InitramfsError::SizePastEnd {
                at,
                size,
                available,
            } => {
                assert_eq!(at.image_offset(), Some(8));
                assert_eq!((*size, *available), (0x100, 8));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("image offset 8"), "{err}");
        // Same inside a compressed stream: the offset is in the decompressed data.
        let err = list(&gz(&archive), Limits::default()).unwrap_err();
        match &err {
            InitramfsError::SizePastEnd { at, size, .. } => {
                assert_eq!(
                    (at.offset, at.compression, *size),
                    (0, Compression::Gzip, 0x100)
                )
            }
            other => panic!("{other:?}"),
        }
        // The largest size a header can state.
        archive[54..62].copy_from_slice(b"ffffffff");
        assert!(matches!(
            list(&gz(&archive), Limits::default()),
            Err(InitramfsError::SizePastEnd { .. })
        ));
    }

    #[test]
    fn initramfs_bad_fields_and_magic() {
        let mut a = sample_newc();
        a[20] = b'g';
        assert!(matches!(
            list(&a, Limits::default()),
            Err(InitramfsError::BadField { field: "mode", .. })
        ));
        let mut a = sample_newc();
        a[5] = b'3';
        assert!(matches!(
            list(&a, Limits::default()),
            Err(InitramfsError::BadMagic { .. })
        ));
        let mut a = sample_newc();
        a[94..102].copy_from_slice(b"00000000");
        assert!(matches!(
            list(&a, Limits::default()),
            Err(InitramfsError::BadField {
                field: "namesize",
                ..
            })
        ));
    }

    #[test]
    fn initramfs_gzip_of_zeros_over_the_limit() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let limits = Limits {
            max_decompressed: 8 << 20,
            ..Limits::default()
        };
        match list(&bomb, limits.clone()) {
            Err(InitramfsError::DecompressedTooLarge {
                limit, compression, ..
            }) => assert_eq!((limit, compression), (8 << 20, Compression::Gzip)),
            other => panic!("{other:?}"),
        }
        // The budget is shared across streams.
        let half = gz(&vec![0u8; 5 << 20]);
        let mut image = half.clone();
        image.extend_from_slice(&half);
        assert!(list(&half, limits.clone()).is_ok());
        assert!(matches!(
            list(&image, limits),
            Err(InitramfsError::DecompressedTooLarge { .. })
        ));
    }

    #[test]
    fn initramfs_member_and_name_limits() {
        let limits = Limits {
            max_members: 5,
            ..Limits::default()
        };
        assert!(matches!(
            list(&sample_newc(), limits),
            Err(InitramfsError::TooManyMembers { limit: 5 })
        ));
        let limits = Limits {
            max_name_len: 8,
            ..Limits::default()
        };
        assert!(matches!(
            list(&sample_newc(), limits),
            Err(InitramfsError::NameTooLong { limit: 8, .. })
        ));
    }

    #[test]
    fn initramfs_junk_unknown_and_unsupported() {
        let mut inner = sample_newc();
        inner.extend_from_slice(b"junk");
        assert!(matches!(
            list(&gz(&inner), Limits::default()),
            Err(InitramfsError::Junk { .. })
        ));
        assert!(matches!(
            list(b"\0\0\0\0hello", Limits::default()),
            Err(InitramfsError::UnknownFormat { offset: 4 })
        ));
        assert!(matches!(
            list(b"\x89LZO\0\r\n\x1a\n", Limits::default()),
            Err(InitramfsError::Unsupported {
                compression: Compression::Lzo,
                ..
            })
        ));
    }

    #[test]
    fn initramfs_random_bytes() {
        for seed in 0..64 {
            let bytes = lcg_bytes(8192, seed);
            assert!(list(&bytes, Limits::default()).is_err());
            // Behind every magic.
            for magic in [
                &b"070701"[..],
                &[0x1f, 0x8b, 8, 0],
                b"BZh9",
                &[0x5d, 0, 0, 0x80, 0],
                &[0xfd, b'7', b'z', b'X', b'Z', 0],
                &[0x02, 0x21, 0x4c, 0x18],
                &[0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0],
                &[0x28, 0xb5, 0x2f, 0xfd],
            ] {
                let mut b = magic.to_vec();
                b.extend_from_slice(&bytes);
                let _ = list(&b, Limits::default());
            }
        }
    }

    // ---- archives built with the real tools -------------------------------------------------

    fn have(tool: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
    }

    /// Whether every tool is there; if not, `prereq::skip` says which are missing (or fails
    /// the test, under `VHDLINT_REQUIRE_PREREQS=1`).
    fn have_all(tools: &[&str]) -> bool {
        let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
        if !missing.is_empty() {
            super::prereq::skip(
                "the archives built with the real tools",
                &format!("{} not found", missing.join(", ")),
            );
        }
        missing.is_empty()
    }

    /// Runs `cmd` (through `sh -c`, in `dir`) with `input` on stdin; returns stdout.
    fn sh(cmd: &str, dir: Option<&Path>, input: &[u8]) -> Vec<u8> {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(d) = dir {
            c.current_dir(d);
        }
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(out.status.success(), "`{cmd}` failed");
        out.stdout
    }

    fn cpio_names(archive: &[u8]) -> Vec<String> {
        String::from_utf8(sh("cpio -it --quiet", None, archive))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    struct Fixture {
        early: Vec<u8>,
        main: Vec<u8>,
        /// Regular file sizes by normalized path.
        sizes: HashMap<String, u64>,
    }

    fn write_tree(root: &Path, big: bool) -> HashMap<String, u64> {
        let m = format!("lib/modules/{KVER}");
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("init".into(), b"#!/bin/sh\nexec /sbin/init\n".to_vec()),
            ("bin/busybox".into(), lcg_bytes(50_000, 7)),
            (
                format!("{m}/kernel/drivers/hv/hv_vmbus.ko"),
                lcg_bytes(3000, 1),
            ),
            (
                format!("{m}/kernel/drivers/scsi/hv_storvsc.ko.zst"),
                lcg_bytes(2000, 2),
            ),
            (
                format!("{m}/kernel/drivers/net/hyperv/hv_netvsc.ko.xz"),
                lcg_bytes(2500, 3),
            ),
            (format!("{m}/kernel/fs/ext4/ext4.ko"), lcg_bytes(5000, 4)),
            (format!("{m}/modules.dep"), MODULES_DEP.as_bytes().to_vec()),
            (
                format!("{m}/modules.order"),
                b"kernel/drivers/hv/hv_vmbus.ko\n".to_vec(),
            ),
            (
                format!("{m}/modules.builtin"),
                b"kernel/drivers/ata/libata.ko\n".to_vec(),
            ),
            (format!("{m}/modules.dep.bin"), lcg_bytes(77, 5)),
            ("etc/empty".into(), Vec::new()),
        ];
        if big {
            // Over one 8 MiB legacy-lz4 block, compressible.
            let text: Vec<u8> = (0..400_000u32)
                .flat_map(|i| format!("firmware line {i:08}\n").into_bytes())
                .collect();
            assert!(text.len() > LZ4_LEGACY_BLOCK);
            files.push(("usr/lib/firmware/big.bin".into(), text));
        }
        let mut sizes = HashMap::new();
        for (path, data) in files {
            let p = root.join(&path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &data).unwrap();
            sizes.insert(path, data.len() as u64);
        }
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::os::unix::fs::symlink("bin", root.join("sbin")).unwrap();
        std::fs::hard_link(root.join("bin/busybox"), root.join("bin/sh")).unwrap();
        sizes
    }

    fn cpio_of(dir: &Path, what: &str) -> Vec<u8> {
        sh(
            &format!("find {what} | LC_ALL=C sort | cpio -o -H newc --quiet"),
            Some(dir),
            b"",
        )
    }

    fn build_fixture(big: bool) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let early_dir = tmp.path().join("early");
        let ucode = early_dir.join("kernel/x86/microcode");
        std::fs::create_dir_all(&ucode).unwrap();
        std::fs::write(ucode.join("GenuineIntel.bin"), lcg_bytes(4321, 9)).unwrap();
        let main_dir = tmp.path().join("main");
        std::fs::create_dir_all(&main_dir).unwrap();
        let sizes = write_tree(&main_dir, big);
        Fixture {
            // mkinitramfs/dracut style: plain names in the early archive, `./` in the main one.
            early: cpio_of(&early_dir, "kernel"),
            main: cpio_of(&main_dir, "."),
            sizes,
        }
    }

    fn fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| build_fixture(true))
    }

    fn small_fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| build_fixture(false))
    }

    /// Early microcode archive plus the main archive compressed with `compress`; the listing
    /// must equal `cpio -it` of the early archive and of the tool-decompressed main archive.
    fn check_tool_layout(tool: &str, compress: &str, decompress: &str, expected: Compression) {
        if !have_all(&["cpio", "find", "sort", tool]) {
            return;
        }
        let fx = fixture();
        let stream = sh(compress, None, &fx.main);
        let mut image = fx.early.clone();
        image.extend_from_slice(&stream);

        let decompressed = sh(decompress, None, &stream);
        let mut truth = cpio_names(&fx.early);
        truth.extend(cpio_names(&decompressed));

        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(names(&ir), truth, "{tool}");
        let segs = ir.segments();
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].compression, Compression::None);
        // A plain archive's segment ends with its trailer, before cpio's block padding.
        assert!(segs[0].len <= fx.early.len() as u64);
        assert_eq!(segs[1].compression, expected);
        assert_eq!(segs[1].offset, fx.early.len() as u64);
        assert_eq!(segs[1].len, stream.len() as u64, "{tool}: input taken");
        assert_eq!(segs[1].decompressed_len, decompressed.len() as u64);

        // newc stores hard-linked data once, with the last link.
        let mut linked: Vec<u64> = ir
            .members()
            .iter()
            .filter(|m| ["bin/busybox", "bin/sh"].contains(&m.path()))
            .map(|m| m.size)
            .collect();
        linked.sort_unstable();
        assert_eq!(linked, [0, fx.sizes["bin/busybox"]]);
        for m in ir.members() {
            match m.kind {
                MemberKind::File if m.segment == 1 && !linked_path(m.path()) => {
                    assert_eq!(Some(&m.size), fx.sizes.get(m.path()), "{}", m.name)
                }
                MemberKind::Symlink => assert_eq!(m.link_target.as_deref(), Some("bin")),
                _ => {}
            }
        }
        assert_eq!(
            ir.members()[3].name,
            "kernel/x86/microcode/GenuineIntel.bin"
        );
        for module in ["hv_vmbus", "hv_storvsc", "hv_netvsc", "hv-netvsc"] {
            assert!(ir.has_module(module), "{tool}: {module}");
        }
        assert!(!ir.has_module("hv_utils"));
        let m = format!("lib/modules/{KVER}");
        assert_eq!(
            ir.read_member(&format!("/{m}/modules.dep")),
            Some(MODULES_DEP.as_bytes())
        );
        assert!(ir.read_member(&format!("{m}/modules.order")).is_some());
        assert!(ir.read_member(&format!("{m}/modules.builtin")).is_some());
        assert_eq!(ir.read_member(&format!("{m}/modules.dep.bin")), None);
    }

    fn linked_path(path: &str) -> bool {
        path.starts_with("bin/")
    }

    #[test]
    fn initramfs_tool_gzip() {
        check_tool_layout("gzip", "gzip -n -9 -c", "gzip -dc", Compression::Gzip);
    }

    #[test]
    fn initramfs_tool_xz() {
        check_tool_layout("xz", "xz --check=crc32 -c", "xz -dc", Compression::Xz);
    }

    #[test]
    fn initramfs_tool_zstd() {
        check_tool_layout("zstd", "zstd -q -c -19", "zstd -q -dc", Compression::Zstd);
    }

    #[test]
    fn initramfs_tool_lz4_legacy() {
        check_tool_layout("lz4", "lz4 -l -q -c", "lz4 -q -dc", Compression::Lz4Legacy);
    }

    #[test]
    fn initramfs_tool_lz4_frame() {
        check_tool_layout("lz4", "lz4 -q -c", "lz4 -q -dc", Compression::Lz4Frame);
    }

    #[test]
    fn initramfs_tool_lz4_frame_independent_checksummed() {
        check_tool_layout(
            "lz4",
            "lz4 -q -c -BD -BX -B4",
            "lz4 -q -dc",
            Compression::Lz4Frame,
        );
    }

    #[test]
    fn initramfs_tool_bzip2() {
        check_tool_layout("bzip2", "bzip2 -c", "bzip2 -dc", Compression::Bzip2);
    }

    #[test]
    fn initramfs_tool_lzma() {
        check_tool_layout(
            "xz",
            "xz --format=lzma -c",
            "xz --format=lzma -dc",
            Compression::Lzma,
        );
    }

    #[test]
    fn initramfs_tool_uncompressed() {
        if !have_all(&["cpio", "find", "sort"]) {
            return;
        }
        let fx = fixture();
        let mut image = fx.early.clone();
        image.extend_from_slice(&fx.main);
        let mut truth = cpio_names(&fx.early);
        truth.extend(cpio_names(&fx.main));
        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(names(&ir), truth);
        assert!(ir.has_module("hv_vmbus"));
    }

    /// Several compressed streams back to back, with zero padding, as when extra archives
    /// are appended to an image.
    #[test]
    fn initramfs_tool_mixed_streams() {
        if !have_all(&["cpio", "find", "sort", "gzip", "zstd", "xz", "lz4"]) {
            return;
        }
        let fx = small_fixture();
        let extra = newc(&[("usr/lib/modules/x/hv_utils.ko.zst", 0o100644, b"u")]);
        let mut image = fx.early.clone();
        let mut truth = cpio_names(&fx.early);
        for cmd in ["gzip -c", "xz --check=crc32 -c", "zstd -q -c"] {
            let stream = sh(cmd, None, &fx.main);
            image.extend_from_slice(&stream);
            image.extend_from_slice(&[0; 4]);
            truth.extend(cpio_names(&fx.main));
        }
        // Legacy lz4 runs to the end of the image, so it comes last.
        image.extend_from_slice(&sh("lz4 -l -q -c", None, &extra));
        truth.extend(cpio_names(&extra));
        let ir = list(&image, Limits::default()).unwrap();
        assert_eq!(names(&ir), truth);
        assert_eq!(ir.segments().len(), 5);
        assert!(ir.has_module("hv_utils"));
    }

    // ---- mutated archives -------------------------------------------------------------------

    fn mutation_bases() -> &'static Vec<Vec<u8>> {
        static B: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
        B.get_or_init(|| {
            let main = sample_newc();
            let with_early = |stream: Vec<u8>| {
                let mut image = early_newc();
                image.extend_from_slice(&stream);
                image
            };
            let mut bases = vec![
                main.clone(),
                with_early(gz(&main)),
                with_early(lz4_legacy(&main)),
                with_early(lz4_frame(&main)),
            ];
            // Missing tools are reported by the test before its cases.
            if have("cpio") && have("find") && have("sort") {
                let fx = small_fixture();
                for (tool, cmd) in [
                    ("gzip", "gzip -c"),
                    ("xz", "xz --check=crc32 -c"),
                    ("xz", "xz --format=lzma -c"),
                    ("zstd", "zstd -q -c"),
                    ("lz4", "lz4 -l -q -c"),
                    ("lz4", "lz4 -q -c"),
                    ("bzip2", "bzip2 -c"),
                ] {
                    if have(tool) {
                        let mut image = fx.early.clone();
                        image.extend_from_slice(&sh(cmd, None, &fx.main));
                        bases.push(image);
                    }
                }
            }
            bases
        })
    }

    /// Mutated archives, among them the ones built with cpio and each compressor (without
    /// them, the others only: the missing tools say SKIP first).
    #[test]
    fn initramfs_mutated_archives_are_bounded() {
        have_all(&["cpio", "find", "sort", "gzip", "xz", "zstd", "lz4", "bzip2"]);
        initramfs_mutated_archives_cases();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// The cases of `initramfs_mutated_archives_are_bounded`.
        fn initramfs_mutated_archives_cases(
            base in 0usize..64,
            flips in proptest::collection::vec((0usize..1 << 20, proptest::num::u8::ANY), 0..8),
            cut in proptest::option::of(0usize..1 << 20),
        ) {
            let bases = mutation_bases();
            let mut image = bases[base % bases.len()].clone();
            for (at, byte) in flips {
                let i = at % image.len();
                image[i] = byte;
            }
            if let Some(cut) = cut {
                image.truncate(cut % (image.len() + 1));
            }
            let limits = Limits {
                max_decompressed: 4 << 20,
                max_members: 1000,
                max_kept_total: 1 << 20,
                ..Limits::default()
            };
            if let Ok(ir) = list(&image, limits) {
                proptest::prop_assert!(ir.members().len() <= 1000);
                let produced: u64 = ir
                    .segments()
                    .iter()
                    .filter(|s| s.compression != Compression::None)
                    .map(|s| s.decompressed_len)
                    .sum();
                proptest::prop_assert!(produced <= 4 << 20);
                let spanned: u64 = ir.segments().iter().map(|s| s.len).sum();
                proptest::prop_assert!(spanned <= image.len() as u64);
            }
        }
    }
}
