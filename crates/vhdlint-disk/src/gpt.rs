//! The GUID partition table: primary header at LBA 1, backup header at the last LBA, each with
//! its partition entry array, verified the way the Linux kernel does (`is_gpt_valid`,
//! `compare_gpts`).

use serde::Serialize;

use crate::bytes::le_u32;
use crate::bytes::le_u64;
use crate::finding::Finding;
use crate::guid::Guid;
use crate::limits::MAX_GPT_ENTRY_ARRAY;
use crate::source::ReadAt;
use crate::SECTOR;

pub const SIGNATURE: &[u8; 8] = b"EFI PART";

/// A decoded GPT header.
#[derive(Debug, Clone, Serialize)]
pub struct GptHeader {
    /// LBA the header was read from.
    pub lba: u64,
    pub signature_ok: bool,
    pub revision: u32,
    pub header_size: u32,
    pub header_crc: u32,
    pub computed_crc: u32,
    pub my_lba: u64,
    pub alternate_lba: u64,
    pub first_usable_lba: u64,
    pub last_usable_lba: u64,
    pub disk_guid: Guid,
    pub entries_lba: u64,
    pub num_entries: u32,
    pub entry_size: u32,
    pub entries_crc: u32,
}

impl GptHeader {
    pub fn parse(sector: &[u8], lba: u64) -> GptHeader {
        let mut b = [0u8; 512];
        let n = sector.len().min(512);
        b[..n].copy_from_slice(&sector[..n]);
        let header_size = le_u32(&b, 12);
        let covered = (header_size as usize).clamp(20, 512);
        let mut h = crc32fast::Hasher::new();
        h.update(&b[..16]);
        h.update(&[0; 4]);
        h.update(&b[20..covered]);
        GptHeader {
            lba,
            signature_ok: &b[0..8] == SIGNATURE,
            revision: le_u32(&b, 8),
            header_size,
            header_crc: le_u32(&b, 16),
            computed_crc: h.finalize(),
            my_lba: le_u64(&b, 24),
            alternate_lba: le_u64(&b, 32),
            first_usable_lba: le_u64(&b, 40),
            last_usable_lba: le_u64(&b, 48),
            disk_guid: Guid::from_mixed_endian(b[56..72].try_into().unwrap_or_default()),
            entries_lba: le_u64(&b, 72),
            num_entries: le_u32(&b, 80),
            entry_size: le_u32(&b, 84),
            entries_crc: le_u32(&b, 88),
        }
    }
}

/// One used partition entry.
#[derive(Debug, Clone, Serialize)]
pub struct GptEntry {
    /// 1-based entry number.
    pub number: u32,
    pub type_guid: Guid,
    pub unique_guid: Guid,
    pub first_lba: u64,
    pub last_lba: u64,
    pub attributes: u64,
    pub name: String,
}

/// One header with the verdicts on it and, when it could be read, its entry array.
#[derive(Debug, Clone, Serialize)]
pub struct GptCopy {
    pub header: GptHeader,
    /// The header passed every check and its entries verified.
    pub valid: bool,
    pub computed_entries_crc: Option<u32>,
    #[serde(skip)]
    pub entries: Vec<GptEntry>,
}

/// Both copies of the GPT and every defect found.
#[derive(Debug, Clone, Serialize)]
pub struct Gpt {
    pub primary: GptCopy,
    pub backup: Option<GptCopy>,
    /// The copy whose entries are used (primary when valid, otherwise a valid backup).
    pub used: Option<&'static str>,
    pub findings: Vec<Finding>,
}

impl Gpt {
    /// Entries of the copy in use.
    pub fn entries(&self) -> &[GptEntry] {
        match self.used {
            Some("primary") => &self.primary.entries,
            Some("backup") => self.backup.as_ref().map_or(&[], |b| &b.entries),
            _ => &[],
        }
    }
}

/// Whether LBA 1 carries the `EFI PART` signature.
pub fn has_signature(disk: &dyn ReadAt) -> bool {
    let mut b = [0u8; 8];
    disk.read_at(SECTOR, &mut b).is_ok() && &b == SIGNATURE
}

fn read_copy(
    disk: &dyn ReadAt,
    lba: u64,
    label: &str,
    findings: &mut Vec<Finding>,
) -> Option<GptCopy> {
    let last_lba = (disk.size() / SECTOR).checked_sub(1)?;
    let off = lba.checked_mul(SECTOR)?;
    let mut sector = [0u8; 512];
    if let Err(e) = disk.read_at(off, &mut sector) {
        findings.push(Finding::fail(
            off,
            format!("{label} GPT header at LBA {lba} cannot be read: {e}"),
        ));
        return None;
    }
    let h = GptHeader::parse(&sector, lba);
    let mut ok = true;
    let mut bad = |at: u64, msg: String| {
        ok = false;
        findings.push(Finding::fail(
            off + at,
            format!("{label} GPT header at LBA {lba}: {msg}"),
        ));
    };
    if !h.signature_ok {
        bad(0, "no \"EFI PART\" signature".into());
        return Some(GptCopy {
            header: h,
            valid: false,
            computed_entries_crc: None,
            entries: Vec::new(),
        });
    }
    if h.revision != 0x0001_0000 {
        bad(
            8,
            format!("revision {:#010x}, expected 0x00010000", h.revision),
        );
    }
    if !(92..=512).contains(&h.header_size) {
        bad(12, format!("header size {} outside 92..512", h.header_size));
    }
    if h.header_crc != h.computed_crc {
        bad(
            16,
            format!(
                "header CRC32 {:#010x} does not match the computed {:#010x}",
                h.header_crc, h.computed_crc
            ),
        );
    }
    if h.my_lba != lba {
        bad(
            24,
            format!("claims to be at LBA {} but was read at LBA {lba}", h.my_lba),
        );
    }
    if h.first_usable_lba > last_lba
        || h.last_usable_lba > last_lba
        || h.last_usable_lba < h.first_usable_lba
    {
        bad(
            40,
            format!(
                "usable range LBA {}..{} does not fit the disk (last LBA {last_lba})",
                h.first_usable_lba, h.last_usable_lba
            ),
        );
    }
    if h.entry_size != 128 {
        bad(
            84,
            format!("partition entry size {}, expected 128", h.entry_size),
        );
    }
    let array_bytes = u64::from(h.num_entries) * u64::from(h.entry_size);
    let mut computed_entries_crc = None;
    let mut entries = Vec::new();
    if array_bytes > MAX_GPT_ENTRY_ARRAY {
        bad(80, format!("{} entries of {} bytes ({array_bytes} bytes) exceed the {MAX_GPT_ENTRY_ARRAY}-byte limit; entries not read", h.num_entries, h.entry_size));
    } else if h.entry_size >= 128 {
        match h
            .entries_lba
            .checked_mul(SECTOR)
            .map(|at| (at, disk.read_vec(at, array_bytes as usize)))
        {
            Some((_, Ok(arr))) => {
                let crc = crc32fast::hash(&arr);
                computed_entries_crc = Some(crc);
                if crc != h.entries_crc {
                    bad(88, format!("partition entry array CRC32 {:#010x} does not match the computed {crc:#010x}", h.entries_crc));
                }
                entries = parse_entries(&arr, h.entry_size as usize);
            }
            Some((at, Err(e))) => bad(
                72,
                format!(
                    "partition entry array at LBA {} cannot be read ({e})",
                    at / SECTOR
                ),
            ),
            None => bad(
                72,
                format!(
                    "partition entry array LBA {} is out of range",
                    h.entries_lba
                ),
            ),
        }
    }
    Some(GptCopy {
        header: h,
        valid: ok,
        computed_entries_crc,
        entries,
    })
}

fn parse_entries(arr: &[u8], size: usize) -> Vec<GptEntry> {
    arr.chunks_exact(size)
        .enumerate()
        .filter_map(|(i, e)| {
            let type_guid = Guid::from_mixed_endian(e[0..16].try_into().ok()?);
            if type_guid.is_zero() {
                return None;
            }
            let units: Vec<u16> = e[56..128]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            Some(GptEntry {
                number: i as u32 + 1,
                type_guid,
                unique_guid: Guid::from_mixed_endian(e[16..32].try_into().ok()?),
                first_lba: le_u64(e, 32),
                last_lba: le_u64(e, 40),
                attributes: le_u64(e, 48),
                name: String::from_utf16_lossy(&units),
            })
        })
        .collect()
}

/// Reads and cross-checks both GPT copies.
pub fn read(disk: &dyn ReadAt) -> Gpt {
    let mut findings = Vec::new();
    let last_lba = (disk.size() / SECTOR).saturating_sub(1);
    let primary = read_copy(disk, 1, "primary", &mut findings).unwrap_or_else(|| GptCopy {
        header: GptHeader::parse(&[], 1),
        valid: false,
        computed_entries_crc: None,
        entries: Vec::new(),
    });
    // Where the backup is: where a valid primary says, else the last LBA.
    let alt = if primary.header.signature_ok && primary.header.alternate_lba != 1 {
        primary.header.alternate_lba
    } else {
        last_lba
    };
    if primary.header.signature_ok && alt != last_lba {
        findings.push(Finding::warning(
            SECTOR + 32,
            format!("primary GPT header places the backup at LBA {alt}, not at the last LBA {last_lba} (the disk was resized without moving the backup GPT)"),
        ));
    }
    let mut backup = if alt <= last_lba && alt > 1 {
        read_copy(disk, alt, "backup", &mut findings)
    } else {
        findings.push(Finding::fail(
            SECTOR + 32,
            format!("backup GPT header LBA {alt} is outside the disk (last LBA {last_lba})"),
        ));
        None
    };
    if !backup.as_ref().is_some_and(|b| b.valid) && alt != last_lba {
        if let Some(b) = read_copy(disk, last_lba, "backup", &mut Vec::new()).filter(|b| b.valid) {
            backup = Some(b);
        }
    }
    if let Some(b) = &backup {
        if b.valid
            && b.header.lba != last_lba
            && !findings
                .iter()
                .any(|f| f.message.contains("not at the last LBA"))
        {
            findings.push(Finding::warning(
                b.header.lba * SECTOR,
                format!(
                    "backup GPT header is at LBA {}, not at the last LBA {last_lba}",
                    b.header.lba
                ),
            ));
        }
        if b.valid && primary.valid {
            compare(&primary.header, &b.header, &mut findings);
        }
    }
    let used = if primary.valid {
        Some("primary")
    } else if backup.as_ref().is_some_and(|b| b.valid) {
        findings.push(Finding::fail(
            SECTOR,
            "primary GPT is damaged; only the backup copy is usable",
        ));
        Some("backup")
    } else {
        None
    };
    let gpt = Gpt {
        primary,
        backup,
        used,
        findings,
    };
    let mut more = check_entries(&gpt, last_lba);
    let mut gpt = gpt;
    gpt.findings.append(&mut more);
    gpt
}

fn compare(p: &GptHeader, b: &GptHeader, findings: &mut Vec<Finding>) {
    let mut diff = |what: &str, a: String, c: String| {
        findings.push(Finding::fail(
            b.lba * SECTOR,
            format!("primary and backup GPT headers disagree on {what}: {a} vs {c}"),
        ));
    };
    if p.alternate_lba != b.my_lba || b.alternate_lba != p.my_lba {
        diff(
            "their locations",
            format!("alternate {}", p.alternate_lba),
            format!("backup at {} pointing to {}", b.my_lba, b.alternate_lba),
        );
    }
    if p.first_usable_lba != b.first_usable_lba || p.last_usable_lba != b.last_usable_lba {
        diff(
            "the usable range",
            format!("{}..{}", p.first_usable_lba, p.last_usable_lba),
            format!("{}..{}", b.first_usable_lba, b.last_usable_lba),
        );
    }
    if p.disk_guid != b.disk_guid {
        diff(
            "the disk GUID",
            p.disk_guid.to_string(),
            b.disk_guid.to_string(),
        );
    }
    if p.num_entries != b.num_entries || p.entry_size != b.entry_size {
        diff(
            "the entry array shape",
            format!("{}×{}", p.num_entries, p.entry_size),
            format!("{}×{}", b.num_entries, b.entry_size),
        );
    }
    if p.entries_crc != b.entries_crc {
        diff(
            "the entry array CRC",
            format!("{:#010x}", p.entries_crc),
            format!("{:#010x}", b.entries_crc),
        );
    }
}

fn check_entries(gpt: &Gpt, last_lba: u64) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(h) = (match gpt.used {
        Some("primary") => Some(&gpt.primary.header),
        Some("backup") => gpt.backup.as_ref().map(|b| &b.header),
        _ => None,
    }) else {
        return findings;
    };
    let entry_at = |n: u32| h.entries_lba * SECTOR + u64::from(n - 1) * u64::from(h.entry_size);
    let mut spans: Vec<(u64, u64, u32)> = Vec::new();
    for e in gpt.entries() {
        if e.last_lba < e.first_lba {
            findings.push(Finding::fail(
                entry_at(e.number),
                format!(
                    "GPT entry {} ends (LBA {}) before it starts (LBA {})",
                    e.number, e.last_lba, e.first_lba
                ),
            ));
            continue;
        }
        if e.first_lba < h.first_usable_lba || e.last_lba > h.last_usable_lba.min(last_lba) {
            findings.push(Finding::fail(
                entry_at(e.number),
                format!(
                    "GPT entry {} (LBA {}..{}) lies outside the usable range LBA {}..{}",
                    e.number, e.first_lba, e.last_lba, h.first_usable_lba, h.last_usable_lba
                ),
            ));
        }
        spans.push((e.first_lba, e.last_lba, e.number));
    }
    spans.sort_unstable();
    for w in spans.windows(2) {
        if w[1].0 <= w[0].1 {
            findings.push(Finding::fail(
                entry_at(w[1].2),
                format!(
                    "GPT entries {} and {} overlap at LBA {}",
                    w[0].2, w[1].2, w[1].0
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096), n in 0u32..u32::MAX, lba in 0u64..u64::MAX) {
            let mut b = bytes;
            if b.len() >= 1024 {
                b[512..520].copy_from_slice(SIGNATURE);
                b[512 + 80..512 + 84].copy_from_slice(&n.to_le_bytes());
                b[512 + 32..512 + 40].copy_from_slice(&lba.to_le_bytes());
                b[512 + 72..512 + 80].copy_from_slice(&(lba / 3).to_le_bytes());
            }
            let _ = read(&MemSource::new(b));
        }
    }
}
