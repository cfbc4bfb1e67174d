//! NTFS structures read from raw bytes: the boot sector, and the MFT records and index records
//! checked before the `ntfs` crate parses them (attribute headers, `$ATTRIBUTE_LIST` entries,
//! `$INDEX_ROOT` and index entries, data runs: the fields the crate would trust), and reparse
//! points (`REPARSE_DATA_BUFFER`). Every function takes bytes and returns values or a reason;
//! none reads from the source.

use crate::FsError;

/// Reparse tag of a symbolic link.
pub const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;
/// Reparse tag of a junction / mount point.
pub const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;
/// Reparse tag of a WOF-compressed (CompactOS) file.
pub const IO_REPARSE_TAG_WOF: u32 = 0x8000_0017;
/// Reparse tag of a file moved to the deduplication chunk store.
pub const IO_REPARSE_TAG_DEDUP: u32 = 0x8000_0013;

/// What the cursor needs to know to check records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub(crate) cluster_size: u64,
    pub(crate) file_record_size: usize,
}

/// Checks the boot sector before the crate sees it (it allocates a record of the size given).
pub(crate) fn parse_boot(b: &[u8]) -> Result<Geometry, FsError> {
    let bad = |m: &str| FsError::Corrupt(format!("NTFS boot sector: {m}"));
    if b.len() < 512 || b[510..512] != [0x55, 0xAA] || &b[3..11] != b"NTFS    " {
        return Err(bad("no NTFS signature"));
    }
    let sector = u64::from(le16(b, 11).unwrap_or(0));
    if !(512..=4096).contains(&sector) || !sector.is_power_of_two() {
        return Err(bad("bad sector size"));
    }
    let spc = b[13];
    let spc = if spc > 128 {
        let e = u32::from(spc.wrapping_neg());
        if e > 12 {
            return Err(bad("bad sectors per cluster"));
        }
        1u64 << e
    } else if spc == 0 || !spc.is_power_of_two() {
        return Err(bad("bad sectors per cluster"));
    } else {
        u64::from(spc)
    };
    let cluster_size = sector * spc;
    if !(512..=2 << 20).contains(&cluster_size) {
        return Err(bad("bad cluster size"));
    }
    let info = b[0x40] as i8;
    let frs = if info > 0 {
        cluster_size * info as u64
    } else {
        let e = u32::from(info.unsigned_abs());
        if !(10..=12).contains(&e) {
            return Err(bad("bad file record size"));
        }
        1u64 << e
    };
    if !(1024..=65536).contains(&frs) {
        return Err(bad(&format!("unsupported file record size {frs}")));
    }
    Ok(Geometry {
        cluster_size,
        file_record_size: frs as usize,
    })
}

// ------------------------------------------------------------------ record pre-checks

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Applies the update sequence array as the crate does; `None` where the crate itself fails
/// (it then reports the error, so there is nothing to pre-check).
fn fixup(buf: &[u8]) -> Option<Vec<u8>> {
    let mut data = buf.to_vec();
    let usa_ofs = usize::from(le16(&data, 4)?);
    let usa_count = usize::from(le16(&data, 6)?);
    let usn: [u8; 2] = data.get(usa_ofs..usa_ofs + 2)?.try_into().ok()?;
    let count = usa_count.checked_sub(1)?;
    if usa_ofs + usa_count * 2 > data.len() || count * 512 > data.len() {
        return None;
    }
    for i in 0..count {
        let a = usa_ofs + 2 + 2 * i;
        let s = 510 + 512 * i;
        if data[s..s + 2] != usn {
            return None;
        }
        let new = [data[a], data[a + 1]];
        data[s..s + 2].copy_from_slice(&new);
    }
    Some(data)
}

/// Checks the attributes of an MFT record the way the crate will walk them.
pub(crate) fn check_file_record(buf: &[u8], geo: Geometry) -> Result<(), String> {
    let Some(data) = fixup(buf) else {
        return Ok(());
    };
    let Some(mut off) = le16(&data, 0x14).map(usize::from) else {
        return Ok(());
    };
    for _ in 0..data.len() / 16 + 1 {
        let Some(ty) = le32(&data, off) else {
            return Ok(());
        };
        if ty == 0xFFFF_FFFF {
            return Ok(());
        }
        let remaining = data.len() - off;
        if remaining < 16 {
            return Ok(());
        }
        let len = le32(&data, off + 4).unwrap_or(0) as usize;
        if len < 16 || len > remaining {
            return Ok(()); // the crate reports it
        }
        let attr = &data[off..off + len];
        let resident = attr[8] == 0;
        if resident {
            if len < 24 {
                return Err(format!(
                    "resident attribute {ty:#x} of {len} bytes is shorter than its header"
                ));
            }
            let vo = usize::from(le16(attr, 20).unwrap_or(0));
            let vl = le32(attr, 16).unwrap_or(0) as usize;
            if let Some(value) = attr.get(vo..vo.saturating_add(vl)) {
                match ty {
                    0x20 => check_attribute_list(value)?,
                    0x90 => check_index_root(value)?,
                    _ => {}
                }
            }
        } else {
            if len < 64 {
                return Err(format!(
                    "non-resident attribute {ty:#x} of {len} bytes is shorter than its header"
                ));
            }
            let runs_ofs = usize::from(le16(attr, 32).unwrap_or(0));
            if let Some(runs) = attr.get(runs_ofs..) {
                check_data_runs(runs, geo.cluster_size)?;
            }
        }
        off += len;
    }
    Ok(())
}

/// The entries of a resident `$ATTRIBUTE_LIST`, walked as the crate walks them: an entry
/// that leaves fewer bytes than its 26-byte header makes the crate panic (it meets a parse
/// error of a kind it declares unreachable).
pub(crate) fn check_attribute_list(value: &[u8]) -> Result<(), String> {
    const HEADER: usize = 26;
    let mut at = 0usize;
    while at < value.len() {
        let left = value.len() - at;
        if left < HEADER {
            return Err(format!(
                "attribute list entry at offset {at} has {left} bytes, fewer than its {HEADER}-byte header"
            ));
        }
        let len = usize::from(le16(value, at + 4).unwrap_or(0));
        if len < HEADER {
            return Ok(()); // the crate reports it
        }
        at += len;
    }
    Ok(())
}

/// Data runs whose byte range would overflow 2^64 (the crate adds offsets unchecked).
fn check_data_runs(runs: &[u8], cluster_size: u64) -> Result<(), String> {
    let mut at = 0usize;
    let mut lcn: i128 = 0;
    while let Some(&header) = runs.get(at) {
        if header == 0 {
            return Ok(());
        }
        let nc = usize::from(header & 0x0f);
        let no = usize::from(header >> 4);
        if nc > 8 || no > 8 {
            return Ok(()); // the crate reports it
        }
        let Some(bytes) = runs.get(at + 1..at + 1 + nc + no) else {
            return Ok(());
        };
        let mut count = [0u8; 8];
        count[..nc].copy_from_slice(&bytes[..nc]);
        let count = u64::from_le_bytes(count);
        if no > 0 {
            let mut delta = [0u8; 8];
            delta[..no].copy_from_slice(&bytes[nc..]);
            let shift = (8 - no as u32) * 8;
            let delta = i64::from_le_bytes(delta)
                .wrapping_shl(shift)
                .wrapping_shr(shift);
            lcn += i128::from(delta);
            let end = (lcn + i128::from(count)) * i128::from(cluster_size);
            if lcn < 0 || end > i128::from(u64::MAX) {
                return Err(format!("data run at cluster {lcn} lies outside 2^64 bytes"));
            }
        }
        at += 1 + nc + no;
    }
    Ok(())
}

/// The value of an `$INDEX_ROOT` attribute.
fn check_index_root(value: &[u8]) -> Result<(), String> {
    if value.len() < 32 {
        return Ok(()); // the crate reports it
    }
    let record_size = le32(value, 8).unwrap_or(0);
    if !(512..=65536).contains(&record_size) {
        return Err(format!(
            "index record size {record_size} is not 512..=65536"
        ));
    }
    let start = 16 + le32(value, 16).unwrap_or(0) as usize;
    let end = 16 + le32(value, 20).unwrap_or(0) as usize;
    if start >= value.len() || end > value.len() {
        return Ok(()); // the crate reports it
    }
    if start > end {
        return Err(format!(
            "index root entries start at {start}, after their end {end}"
        ));
    }
    check_index_entries(&value[start..end], 0, end - start)
}

/// An `INDX` record (as read, before fixups).
pub(crate) fn check_index_record(buf: &[u8]) -> Result<(), String> {
    let Some(data) = fixup(buf) else {
        return Ok(());
    };
    let entries_offset = le32(&data, 24).unwrap_or(0) as usize;
    let index_size = le32(&data, 28).unwrap_or(0) as usize;
    let allocated = le32(&data, 32).unwrap_or(0) as usize;
    // The crate adds its 24-byte header to these sizes in u32: values that overflow it would
    // panic (debug) or wrap past its own size checks (release). Found by fuzzing fs_ntfs.
    let limit = u32::MAX as usize - 24;
    if allocated > limit || index_size > limit {
        return Err(format!(
            "index record sizes {index_size}/{allocated} overflow the record header arithmetic"
        ));
    }
    if 24 + allocated > data.len() || index_size > allocated {
        return Ok(()); // the crate reports it (or the record was read in pieces)
    }
    let start = 24 + entries_offset;
    let end = 24 + index_size;
    if start >= end {
        return Ok(()); // empty: the crate reads no entry
    }
    check_index_entries(&data, start, end)
}

/// Entries of an index node in `data[start..end]`, walked as the crate walks them.
fn check_index_entries(data: &[u8], mut at: usize, end: usize) -> Result<(), String> {
    while at < end {
        let remaining = data.len() - at;
        if remaining < 16 {
            return Ok(()); // the crate reports it
        }
        let len = usize::from(le16(data, at + 8).unwrap_or(0));
        if len > remaining {
            return Ok(()); // the crate reports it
        }
        if len < 16 {
            return Err(format!("index entry at offset {at} is {len} bytes long"));
        }
        if data[at + 12] & 0x02 != 0 {
            return Ok(()); // last entry
        }
        at += len;
    }
    Ok(())
}

// ------------------------------------------------------------------ reparse points

/// What a reparse point says.
#[derive(Debug, Clone)]
pub(crate) struct Reparse {
    pub(crate) tag: u32,
    /// The substitute name in `/` form, for symlinks and junctions.
    pub(crate) target: Option<String>,
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Parses `REPARSE_DATA_BUFFER`.
pub(crate) fn parse_reparse(data: &[u8]) -> Option<Reparse> {
    let tag = le32(data, 0)?;
    let len = usize::from(le16(data, 4)?);
    let body = data.get(8..)?;
    let body = &body[..len.min(body.len())];
    let (buffer, relative) = match tag {
        IO_REPARSE_TAG_SYMLINK => (body.get(12..), le32(body, 8).is_some_and(|f| f & 1 != 0)),
        IO_REPARSE_TAG_MOUNT_POINT => (body.get(8..), false),
        _ => return Some(Reparse { tag, target: None }),
    };
    let name = |o: usize, l: usize| -> Option<String> {
        let s = buffer?.get(o..o.checked_add(l)?)?;
        Some(utf16(s)).filter(|s| !s.is_empty())
    };
    let sub = name(usize::from(le16(body, 0)?), usize::from(le16(body, 2)?));
    let print = name(usize::from(le16(body, 4)?), usize::from(le16(body, 6)?));
    let target = sub.or(print).map(|t| to_slash_form(&t, relative));
    Some(Reparse { tag, target })
}

/// `\??\C:\Windows\x` → `/Windows/x`; a relative target → `a/b`; other NT paths (volume GUIDs,
/// UNC) are returned as stored.
fn to_slash_form(t: &str, relative: bool) -> String {
    if relative {
        return t.replace('\\', "/");
    }
    let rest = t
        .strip_prefix("\\??\\")
        .or_else(|| t.strip_prefix("\\\\?\\"))
        .unwrap_or(t);
    let b = rest.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        let path = rest[2..].replace('\\', "/");
        let path = path.trim_start_matches('/');
        return format!("/{path}");
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_form() {
        assert_eq!(to_slash_form("\\??\\C:\\Windows\\x", false), "/Windows/x");
        assert_eq!(to_slash_form("\\??\\C:\\", false), "/");
        assert_eq!(to_slash_form("..\\a\\b", true), "../a/b");
        assert_eq!(
            to_slash_form("\\??\\Volume{1}\\x", false),
            "\\??\\Volume{1}\\x"
        );
    }

    #[test]
    fn index_entries_too_short() {
        let mut d = vec![0u8; 64];
        d[8] = 8; // length 8
        assert!(check_index_entries(&d, 0, 64).is_err());
        d[8] = 16;
        d[12] = 2;
        assert!(check_index_entries(&d, 0, 64).is_ok());
    }
}
