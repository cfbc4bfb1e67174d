//! LVM2 physical volumes: the label (`LABELONE`), the PV header, the metadata area header and
//! the text metadata it points at; and the linear logical volumes built from them, each
//! readable as a volume.

pub mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bytes::{le_u32, le_u64};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::limits::{MAX_LVM_AREAS, MAX_LVM_METADATA, MAX_LVM_SEGMENTS, MAX_LVM_VOLUMES};
use crate::source::{check_bounds, ReadAt, SharedSource};
use crate::SECTOR;

pub const LABEL_ID: &[u8; 8] = b"LABELONE";
pub const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
pub const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
const INITIAL_CRC: u32 = 0xf597_a6cf;

/// LVM's CRC-32: the reflected 0xEDB88320 polynomial seeded with 0xf597a6cf, no final xor.
pub fn lvm_crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(!INITIAL_CRC);
    h.update(data);
    !h.finalize()
}

/// Where the label sits in the first four sectors of a volume, if anywhere.
pub fn find_label(vol: &dyn ReadAt) -> Option<u64> {
    (0..4u64).find(|s| {
        let mut b = [0u8; 32];
        vol.read_at(s * SECTOR, &mut b).is_ok() && &b[0..8] == LABEL_ID && &b[24..32] == LABEL_TYPE
    })
}

/// A physical volume as read from its label and metadata.
#[derive(Debug, Clone, Serialize)]
pub struct PhysicalVolume {
    /// The volume it is on (`p2`); set by [`crate::layout::Layout`], empty from [`read_pv`].
    pub volume: String,
    /// The PV UUID, 32 characters without dashes.
    pub uuid: String,
    pub device_size: u64,
    pub label_sector: u64,
    /// The text metadata of the newest copy, when it could be read.
    #[serde(skip)]
    pub metadata: Option<String>,
    /// Why the PV's metadata could not be read, when it holds some that could not be: a label
    /// or PV header that does not make sense, metadata areas none of which could be read, or
    /// text that does not parse ([`crate::layout::Layout`] sets that one). `None` for a PV
    /// whose metadata was read and for one that holds none (no metadata area, or areas that
    /// hold no metadata yet: a PV in no volume group).
    pub unread: Option<String>,
    pub findings: Vec<Finding>,
}

/// Reads the PV whose label is at `label_sector` of `vol`.
pub fn read_pv(vol: &dyn ReadAt, label_sector: u64) -> PhysicalVolume {
    let mut findings = Vec::new();
    let base = label_sector * SECTOR;
    let label = vol.read_vec(base, 512).unwrap_or_default();
    let mut pv = PhysicalVolume {
        volume: String::new(),
        uuid: String::new(),
        device_size: 0,
        label_sector,
        metadata: None,
        unread: None,
        findings: Vec::new(),
    };
    if label.len() < 512 {
        pv.findings
            .push(Finding::fail(base, "LVM2 label sector cannot be read"));
        pv.unread = Some("its LVM2 label sector cannot be read".into());
        return pv;
    }
    if le_u64(&label, 8) != label_sector {
        findings.push(Finding::warning(
            base + 8,
            format!(
                "LVM2 label says it is in sector {} but was found in sector {label_sector}",
                le_u64(&label, 8)
            ),
        ));
    }
    let crc = lvm_crc(&label[20..]);
    if crc != le_u32(&label, 16) {
        findings.push(Finding::fail(
            base + 16,
            format!(
                "LVM2 label CRC {:#010x} does not match the computed {crc:#010x}",
                le_u32(&label, 16)
            ),
        ));
    }
    let hdr = le_u32(&label, 20) as usize;
    if !(32..=448).contains(&hdr) {
        let why = format!("LVM2 PV header offset {hdr} is outside the label sector");
        findings.push(Finding::fail(base + 20, why.clone()));
        pv.unread = Some(why);
        pv.findings = findings;
        return pv;
    }
    let h = &label[hdr..];
    pv.uuid = String::from_utf8_lossy(&h[..32.min(h.len())]).into_owned();
    pv.device_size = le_u64(h, 32);
    // Two lists of (offset, size), each ending with a zero pair: data areas, then metadata.
    let mut at = 40;
    let mut lists: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
    for (list, what) in lists.iter_mut().zip(["data", "metadata"]) {
        let mut over = false;
        loop {
            if at + 16 > h.len() {
                findings.push(Finding::fail(
                    base + (hdr + at) as u64,
                    "LVM2 PV header area list is not terminated inside the label sector",
                ));
                break;
            }
            let (o, s) = (le_u64(h, at), le_u64(h, at + 8));
            at += 16;
            if o == 0 && s == 0 {
                break;
            }
            if list.len() == MAX_LVM_AREAS {
                // Walked on to the terminator, so that the next list is found.
                if !over {
                    over = true;
                    findings.push(Finding::fail(
                        base + (hdr + at - 16) as u64,
                        format!(
                            "LVM2 PV header lists more than {MAX_LVM_AREAS} {what} areas, the limit; the rest are not read"
                        ),
                    ));
                }
                continue;
            }
            list.push((o, s));
        }
    }
    let mut unread = Vec::new();
    for &(mda_off, mda_size) in &lists[1] {
        match read_mda(vol, mda_off, mda_size) {
            Ok(Some((text, mut f))) => {
                findings.append(&mut f);
                if pv.metadata.is_none() {
                    pv.metadata = Some(text);
                }
            }
            Ok(None) => findings.push(Finding::note(
                mda_off,
                format!("LVM2 metadata area at {mda_off:#x} holds no metadata (a PV in no volume group)"),
            )),
            Err(e) => {
                let why = format!("LVM2 metadata area at {mda_off:#x}: {e}");
                findings.push(Finding::fail(mda_off, why.clone()));
                unread.push(why);
            }
        }
    }
    if pv.metadata.is_none() && !unread.is_empty() {
        pv.unread = Some(unread.join("; "));
    }
    if lists[1].is_empty() {
        findings.push(Finding::note(
            base,
            "LVM2 PV has no metadata area (its VG is described on another PV)",
        ));
    }
    pv.findings = findings;
    pv
}

/// The text metadata of the area at `start` and what was noticed reading it; `None` when the
/// area holds none (a PV that is in no volume group).
fn read_mda(vol: &dyn ReadAt, start: u64, size: u64) -> Result<Option<(String, Vec<Finding>)>> {
    let mut findings = Vec::new();
    let hdr = vol.read_vec(start, 512)?;
    if &hdr[4..20] != MDA_MAGIC {
        return Err(Error::Malformed {
            what: "LVM2 metadata area header",
            offset: start + 4,
            reason: "wrong magic".into(),
        });
    }
    let crc = lvm_crc(&hdr[4..]);
    if crc != le_u32(&hdr, 0) {
        findings.push(Finding::fail(
            start,
            format!(
                "LVM2 metadata area header CRC {:#010x} does not match the computed {crc:#010x}",
                le_u32(&hdr, 0)
            ),
        ));
    }
    if start.checked_add(size).is_none_or(|end| end > vol.size()) {
        return Err(Error::Malformed {
            what: "LVM2 metadata area",
            offset: start,
            reason: format!(
                "its {size} bytes run past the end of the volume ({} bytes)",
                vol.size()
            ),
        });
    }
    // The first raw location is the current metadata.
    let (off, len, sum) = (le_u64(&hdr, 40), le_u64(&hdr, 48), le_u32(&hdr, 56));
    if len == 0 {
        return Ok(None);
    }
    if len > MAX_LVM_METADATA || len > size {
        return Err(Error::Limit {
            what: "LVM2 text metadata size",
            found: len,
            limit: MAX_LVM_METADATA.min(size),
        });
    }
    if off < 512 || off >= size {
        return Err(Error::Malformed {
            what: "LVM2 metadata location",
            offset: start + 40,
            reason: format!("offset {off} outside the {size}-byte area"),
        });
    }
    // The area is a ring past its 512-byte header.
    let first = len.min(size - off);
    let mut text = vol.read_vec(start + off, first as usize)?;
    if first < len {
        text.extend(vol.read_vec(start + 512, (len - first) as usize)?);
    }
    let crc = lvm_crc(&text);
    if crc != sum {
        findings.push(Finding::fail(
            start + off,
            format!(
                "LVM2 text metadata checksum {sum:#010x} does not match the computed {crc:#010x}"
            ),
        ));
    }
    Ok(Some((
        String::from_utf8_lossy(&text).into_owned(),
        findings,
    )))
}

/// A segment of a logical volume mapped onto a physical volume.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    /// Byte offset inside the LV.
    pub lv_offset: u64,
    pub len: u64,
    /// Name of the PV in the metadata (`pv0`).
    pub pv: String,
    /// Byte offset inside that PV.
    pub pv_offset: u64,
}

/// A logical volume of the metadata.
#[derive(Debug, Clone, Serialize)]
pub struct LogicalVolume {
    pub vg: String,
    pub name: String,
    pub size: u64,
    pub segments: Vec<Segment>,
    /// Why the LV cannot be read as a volume (a segment type other than linear, a PV that is
    /// not on this disk), if it cannot.
    pub unreadable: Option<String>,
}

/// A volume group as its metadata describes it.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeGroup {
    pub name: String,
    pub seqno: i64,
    pub extent_size: u64,
    /// PV name in the metadata → PV UUID (without dashes).
    pub pvs: BTreeMap<String, String>,
    pub lvs: Vec<LogicalVolume>,
    pub findings: Vec<Finding>,
}

/// Interprets a text metadata tree into its volume group.
pub fn volume_group(text: &str, at: u64) -> std::result::Result<VolumeGroup, Finding> {
    let tree = text::parse(text).map_err(|e| {
        Finding::fail(
            at,
            format!("LVM2 text metadata: {} at byte {}", e.reason, e.position),
        )
    })?;
    let (name, vg) = tree
        .sections()
        .next()
        .ok_or_else(|| Finding::fail(at, "LVM2 text metadata holds no volume group section"))?;
    let mut findings = Vec::new();
    let sector_count = |v: Option<i64>| {
        v.filter(|&x| x > 0)
            .and_then(|x| (x as u64).checked_mul(SECTOR))
    };
    let extent_size = sector_count(vg.int("extent_size")).ok_or_else(|| {
        Finding::fail(
            at,
            format!("volume group {name} has no positive extent_size"),
        )
    })?;
    let mut pvs = BTreeMap::new();
    let mut pe_start = BTreeMap::new();
    if let Some(p) = vg.get("physical_volumes") {
        for (pv_name, pv) in p.sections() {
            pvs.insert(
                pv_name.to_string(),
                pv.str("id").unwrap_or_default().replace('-', ""),
            );
            pe_start.insert(
                pv_name.to_string(),
                sector_count(pv.int("pe_start")).unwrap_or(0),
            );
        }
    }
    let mut lvs = Vec::new();
    if let Some(l) = vg.get("logical_volumes") {
        for (lv_name, lv) in l.sections() {
            if lvs.len() >= MAX_LVM_VOLUMES {
                findings.push(Finding::fail(
                    at,
                    format!("more than {MAX_LVM_VOLUMES} logical volumes; the rest are not read"),
                ));
                break;
            }
            lvs.push(logical_volume(name, lv_name, lv, extent_size, &pe_start));
        }
    }
    Ok(VolumeGroup {
        name: name.to_string(),
        seqno: vg.int("seqno").unwrap_or(0),
        extent_size,
        pvs,
        lvs,
        findings,
    })
}

fn logical_volume(
    vg: &str,
    name: &str,
    lv: &text::Value,
    extent: u64,
    pe_start: &BTreeMap<String, u64>,
) -> LogicalVolume {
    let mut out = LogicalVolume {
        vg: vg.into(),
        name: name.into(),
        size: 0,
        segments: Vec::new(),
        unreadable: None,
    };
    let mut why = None;
    for (i, (_, seg)) in lv.sections().enumerate() {
        if i >= MAX_LVM_SEGMENTS {
            why = Some(format!("more than {MAX_LVM_SEGMENTS} segments"));
            break;
        }
        let count = seg.int("extent_count").unwrap_or(-1);
        let start = seg.int("start_extent").unwrap_or(-1);
        let (Ok(count), Ok(start)) = (u64::try_from(count), u64::try_from(start)) else {
            why = Some("a segment without a valid start_extent/extent_count".into());
            continue;
        };
        let len = count.saturating_mul(extent);
        out.size = out
            .size
            .max(start.saturating_mul(extent).saturating_add(len));
        let kind = seg.str("type").unwrap_or("");
        let stripes = match seg.get("stripes") {
            Some(text::Value::List(v)) => v.as_slice(),
            _ => &[],
        };
        if kind != "striped" || seg.int("stripe_count") != Some(1) || stripes.len() != 2 {
            why.get_or_insert(format!(
                "segment type \"{kind}\" (only linear segments are read)"
            ));
            continue;
        }
        let (text::Value::Str(pv), text::Value::Int(pe)) = (&stripes[0], &stripes[1]) else {
            why.get_or_insert("a segment whose stripes list is not [\"pvN\", extent]".into());
            continue;
        };
        let Some(&pv_base) = pe_start.get(pv) else {
            why.get_or_insert(format!(
                "a segment on {pv}, which the metadata does not list"
            ));
            continue;
        };
        let pv_offset = u64::try_from(*pe)
            .unwrap_or(u64::MAX)
            .saturating_mul(extent)
            .saturating_add(pv_base);
        out.segments.push(Segment {
            lv_offset: start.saturating_mul(extent),
            len,
            pv: pv.clone(),
            pv_offset,
        });
    }
    out.segments.sort_by_key(|s| s.lv_offset);
    out.unreadable = why;
    out
}

/// A linear logical volume read through its segments from the PVs that hold them.
pub struct LvSource {
    name: String,
    size: u64,
    /// (lv offset, len, pv source, pv offset)
    map: Vec<(u64, u64, SharedSource, u64)>,
}

impl LvSource {
    /// `pvs` maps the metadata's PV names to the volumes found on this disk.
    pub fn new(
        lv: &LogicalVolume,
        pvs: &BTreeMap<String, SharedSource>,
    ) -> std::result::Result<Self, String> {
        if let Some(why) = &lv.unreadable {
            return Err(why.clone());
        }
        let mut map = Vec::new();
        let mut expect = 0;
        for s in &lv.segments {
            if s.lv_offset != expect {
                return Err(format!("its segments leave a gap at byte {expect}"));
            }
            let pv = pvs
                .get(&s.pv)
                .ok_or_else(|| format!("{} is not on this disk", s.pv))?;
            if s.pv_offset
                .checked_add(s.len)
                .is_none_or(|end| end > pv.size())
            {
                return Err(format!(
                    "a segment runs past the end of {} ({} bytes)",
                    s.pv,
                    pv.size()
                ));
            }
            map.push((s.lv_offset, s.len, pv.clone(), s.pv_offset));
            expect = s.lv_offset.checked_add(s.len).ok_or_else(|| {
                format!(
                    "its segments end past 2^64 bytes (a segment at byte {} of {} bytes)",
                    s.lv_offset, s.len
                )
            })?;
        }
        Ok(LvSource {
            name: format!("logical volume {}/{}", lv.vg, lv.name),
            size: expect,
            map,
        })
    }
}

impl ReadAt for LvSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let i = self.map.partition_point(|m| m.0 + m.1 <= pos);
            let (lv_off, len, pv, pv_off) = &self.map[i];
            let n = ((lv_off + len - pos) as usize).min(buf.len() - done);
            pv.read_at(pv_off + (pos - lv_off), &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_lvm_reference() {
        // calc_crc(INITIAL_CRC, "", 0) is the seed itself.
        assert_eq!(lvm_crc(b""), INITIAL_CRC);
    }

    #[test]
    fn linear_lv() {
        let t = "vg0 { extent_size = 8\nphysical_volumes { pv0 { id = \"ab-cd\"\npe_start = 2\npe_count = 4 } }\nlogical_volumes { lv { segment1 { start_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 1] } } } }";
        let vg = volume_group(t, 0).unwrap();
        assert_eq!(vg.pvs["pv0"], "abcd");
        let lv = &vg.lvs[0];
        assert_eq!(lv.size, 2 * 8 * 512);
        assert_eq!(lv.segments[0].pv_offset, 2 * 512 + 8 * 512);
        let data: Vec<u8> = (0..16384u32).map(|x| (x / 512) as u8).collect();
        let mut pvs = BTreeMap::new();
        pvs.insert(
            "pv0".to_string(),
            std::sync::Arc::new(crate::MemSource::new(data)) as SharedSource,
        );
        let src = LvSource::new(lv, &pvs).unwrap();
        let mut b = [0u8; 1];
        src.read_at(0, &mut b).unwrap();
        assert_eq!(b[0], 10);
    }

    proptest::proptest! {
        #[test]
        fn pv_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096), hdr in 0u32..600, mda in 0u64..8192, len in 0u64..u64::MAX) {
            let mut b = bytes;
            b.resize(4096, 0);
            b[512..520].copy_from_slice(LABEL_ID);
            b[512 + 24..512 + 32].copy_from_slice(LABEL_TYPE);
            b[512 + 20..512 + 24].copy_from_slice(&hdr.to_le_bytes());
            b[600..608].copy_from_slice(&mda.to_le_bytes());
            b[1024 + 4..1024 + 20].copy_from_slice(MDA_MAGIC);
            b[1024 + 48..1024 + 56].copy_from_slice(&len.to_le_bytes());
            let src = crate::MemSource::new(b);
            let pv = read_pv(&src, find_label(&src).unwrap());
            if let Some(t) = pv.metadata { let _ = volume_group(&t, 0); }
        }
    }
}
