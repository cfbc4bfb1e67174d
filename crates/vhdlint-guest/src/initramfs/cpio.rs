//! cpio "newc" (and "crc") archives: headers, names, data, each padded to 4 bytes, ending in a
//! `TRAILER!!!` member; several archives may follow each other with zero padding between them.

use std::io::{self, BufRead};

use super::modules::normalize;
use super::{Ctx, Fail, InitramfsError, Location, Member, MemberKind, Where};

/// cpio "newc" magic.
pub(super) const NEWC_MAGIC: &[u8; 6] = b"070701";
/// cpio "crc" magic (newc plus a byte-sum checksum, which the listing does not verify).
pub(super) const CRC_MAGIC: &[u8; 6] = b"070702";
pub(super) const HEADER_LEN: u64 = 110;
pub(super) const TRAILER: &str = "TRAILER!!!";

/// A buffered reader that counts the bytes taken from it.
pub(super) struct Tracked<B> {
    pub(super) inner: B,
    pub(super) pos: u64,
    /// Total length, when known (a plain archive in memory).
    len: Option<u64>,
}

impl<B: BufRead> Tracked<B> {
    pub(super) fn new(inner: B, len: Option<u64>) -> Self {
        Tracked { inner, pos: 0, len }
    }

    pub(super) fn remaining(&self) -> Option<u64> {
        self.len.map(|l| l.saturating_sub(self.pos))
    }

    /// Fills `buf` as far as the data goes; returns how much was read.
    pub(super) fn read_full(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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
    pub(super) fn skip(&mut self, n: u64) -> io::Result<u64> {
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
    pub(super) fn skip_zeros(&mut self) -> io::Result<Option<u8>> {
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
pub(super) fn parse_archive<B: BufRead>(
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
        let member = Member {
            name,
            size,
            kind,
            mode,
            link_target,
            segment: seg,
        };
        let stop = ctx.listed(&member);
        ctx.out.members.push(member);
        if stop {
            return Ok(());
        }
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
pub(super) fn parse_stream<B: BufRead>(
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
                if ctx.out.stopped {
                    return Ok(());
                }
            }
            Some(_) => return Err(InitramfsError::Junk { at: wh.at(src.pos) }.into()),
        }
    }
}
