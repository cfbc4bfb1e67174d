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
//!
//! A caller that only asks whether some kernel modules are in the image names them in
//! [`Limits::until_modules`]: decompression and parsing stop right after the member that
//! completes the set (see [`Initramfs::complete`]), so an image holding them all is read only as
//! far as its last wanted module, and one lacking any is read to its end as without the set.

mod cpio;
mod decompress;
mod input;
mod lz4;
mod modules;
#[cfg(test)]
#[path = "../../../vhdlint/tests/common/prereq.rs"]
mod prereq;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, Read};

use serde::Serialize;

use crate::limits::{
    MAX_INITRAMFS_DECOMPRESSED, MAX_INITRAMFS_KEPT_MEMBER, MAX_INITRAMFS_KEPT_TOTAL,
    MAX_INITRAMFS_MEMBERS, MAX_INITRAMFS_NAME_LEN,
};
use cpio::{parse_archive, Tracked};
use decompress::decode_segment;
pub use decompress::Compression;
use input::Input;
pub use input::{FIRST_PULL, LAST_PULL};
pub use modules::MODULE_INDEXES;
use modules::{module_stem, normalize, path_matches, same_module_name};

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
    /// Kernel modules (named as [`Initramfs::has_module`] takes them) whose presence is all
    /// the caller asks: once a regular-file member has been listed for each of them, reading
    /// stops and [`Initramfs::complete`] is false. Empty (the default): read to the end.
    pub until_modules: Vec<String>,
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
            until_modules: Vec::new(),
        }
    }
}

impl Limits {
    /// Adds a member to keep (see [`Limits::keep`]).
    pub fn keeping(mut self, name: impl Into<String>) -> Self {
        self.keep.push(name.into());
        self
    }

    /// Stops reading once all of `modules` are found (see [`Limits::until_modules`]).
    pub fn until_modules<S: Into<String>>(mut self, modules: impl IntoIterator<Item = S>) -> Self {
        self.until_modules
            .extend(modules.into_iter().map(Into::into));
        self
    }

    fn wants(&self, path: &str) -> bool {
        MODULE_INDEXES.iter().any(|pat| path_matches(path, pat))
            || self.keep.iter().any(|pat| path_matches(path, pat))
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
    /// Image bytes it spans (in the segment where a listing stopped early, the bytes its
    /// decoder took before it stopped, which depends on how the image was pulled).
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
    /// The image could not be read (from [`list_reader`]'s reader), at about this offset.
    #[error("reading the image at offset {offset}: {source}")]
    Read {
        offset: u64,
        #[source]
        source: io::Error,
    },
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
    /// Reading stopped once all of [`Limits::until_modules`] were found.
    stopped: bool,
}

impl Initramfs {
    /// Whether the whole image was read: false when reading stopped early because every
    /// module of [`Limits::until_modules`] had been found. Then [`Initramfs::members`],
    /// [`Initramfs::segments`] and the kept contents cover the image only up to the member
    /// that completed the set; [`Initramfs::has_module`] is exact for the modules of that set
    /// (all present), and for others only when it answers `true`.
    pub fn complete(&self) -> bool {
        !self.stopped
    }

    /// Whether [`Initramfs::has_module`] gives the image's answer for `name`: always for a
    /// complete listing, and for one that stopped early when the module was found.
    pub fn answers(&self, name: &str) -> bool {
        !self.stopped || self.has_module(name)
    }

    /// All members in image order (an extractor lets later ones replace earlier ones); up to
    /// where reading stopped when it stopped early (see [`Initramfs::complete`]).
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
        let wanted = wanted_stem(name)?;
        self.members
            .iter()
            .rev()
            .find(|m| member_module(m).is_some_and(|stem| same_module_name(stem, wanted)))
    }
}

/// The module name `name` asks for (`hv_vmbus` for `hv_vmbus`, `hv_vmbus.ko`,
/// `.../hv_vmbus.ko.xz`); `None` for an empty one, which no member is.
fn wanted_stem(name: &str) -> Option<&str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    Some(module_stem(base).unwrap_or(base)).filter(|s| !s.is_empty())
}

/// The module a member is, if it is a regular file named like one.
fn member_module(m: &Member) -> Option<&str> {
    if m.kind != MemberKind::File {
        return None;
    }
    module_stem(m.name.rsplit('/').next().unwrap_or(&m.name))
}

/// Lists every member of every archive in an initramfs image held in memory: what
/// [`list_reader`] lists reading it.
pub fn list(bytes: &[u8], limits: Limits) -> Result<Initramfs, InitramfsError> {
    let mut reader = bytes;
    list_reader(&mut reader, bytes.len() as u64, limits)
}

/// Lists an initramfs image of `len` bytes read from `reader` from its start, pulling it as
/// the listing goes, in pieces from [`FIRST_PULL`] bytes doubling up to [`LAST_PULL`], so
/// that a listing that stops early (see [`Limits::until_modules`]) reads the file only a
/// little past where it stopped. A failure of `reader` is an [`InitramfsError::Read`]
/// holding its error.
///
/// How the image is pulled changes no listing, only which of two defects of a damaged image
/// is met first: a decompressor given more input may run into a corrupt stream before the
/// archive walker reaches the bytes it did decode, so the error may differ, and a listing
/// that stops early may stop before a defect that one pulled otherwise reports.
pub fn list_reader(
    reader: &mut dyn Read,
    len: u64,
    limits: Limits,
) -> Result<Initramfs, InitramfsError> {
    list_reader_with(reader, len, FIRST_PULL, LAST_PULL, limits)
}

/// [`list_reader`] pulling `first` bytes first, then twice as many each time up to `last`
/// (a peek past them may pull more, e.g. a whole legacy lz4 block).
pub fn list_reader_with(
    reader: &mut dyn Read,
    len: u64,
    first: usize,
    last: usize,
    limits: Limits,
) -> Result<Initramfs, InitramfsError> {
    let mut input = Input::new(reader, len, first, last);
    let res = list_input(&mut input, limits);
    match input.take_failure() {
        Some(source) => Err(InitramfsError::Read {
            offset: input.pos(),
            source,
        }),
        None => res,
    }
}

fn list_input(input: &mut Input<'_>, limits: Limits) -> Result<Initramfs, InitramfsError> {
    // Modules still to be found before reading may stop; an empty name is never found, so a
    // set holding one reads to the end.
    let pending: Option<Vec<String>> = limits
        .until_modules
        .iter()
        .map(|n| wanted_stem(n).map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .filter(|p| !p.is_empty());
    let mut ctx = Ctx {
        out: Initramfs::default(),
        kept_total: 0,
        decompressed_left: limits.max_decompressed,
        limits,
        pending,
    };
    let io_err = |offset: u64, e: io::Error| InitramfsError::Corrupt {
        offset,
        compression: Compression::None,
        message: e.to_string(),
    };
    loop {
        let offset = input.pos();
        if input.skip_zeros().map_err(|e| io_err(offset, e))?.is_none() {
            break;
        }
        let offset = input.pos();
        let seg = ctx.out.segments.len();
        let head = input.peek(8).map_err(|e| io_err(offset, e))?;
        if head.starts_with(b"0707") {
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
            let remaining = input.remaining();
            let mut src = Tracked::new(&mut *input, Some(remaining));
            match parse_archive(&mut src, &mut ctx, seg, wh) {
                Ok(()) => {}
                Err(Fail::Cpio(e)) => return Err(e),
                Err(Fail::Io(e)) => return Err(io_err(offset, e)),
            }
            let s = &mut ctx.out.segments[seg];
            s.decompressed_len = src.pos;
            s.archives = 1;
        } else {
            let compression =
                Compression::detect(head).ok_or(InitramfsError::UnknownFormat { offset })?;
            ctx.out.segments.push(Segment {
                offset,
                len: 0,
                compression,
                decompressed_len: 0,
                archives: 0,
            });
            decode_segment(compression, input, &mut ctx, seg)?;
        }
        // Every segment starts with a non-zero byte that it consumes; this guards the promise.
        if input.pos() == offset {
            input.consume(1);
        }
        ctx.out.segments[seg].len = input.pos() - offset;
        if ctx.out.stopped {
            break;
        }
    }
    Ok(ctx.out)
}

struct Ctx {
    limits: Limits,
    out: Initramfs,
    kept_total: u64,
    decompressed_left: u64,
    /// Module names of [`Limits::until_modules`] not found yet; `None` when reading does not
    /// stop early.
    pending: Option<Vec<String>>,
}

impl Ctx {
    /// Notes a listed member; true when it completes [`Limits::until_modules`], and reading
    /// stops.
    fn listed(&mut self, m: &Member) -> bool {
        let (Some(pending), Some(stem)) = (self.pending.as_mut(), member_module(m)) else {
            return false;
        };
        pending.retain(|w| !same_module_name(stem, w));
        if pending.is_empty() {
            self.pending = None;
            self.out.stopped = true;
        }
        self.out.stopped
    }
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
