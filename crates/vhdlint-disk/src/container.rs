//! Opening an image file: its format, and for a VHD every footer, the dynamic header and BAT.

use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::format::{looks_partitioned, sniff_start, Format};
use crate::source::{ReadAt, SharedSource};
use crate::vhd::footer::{COOKIE, FOOTER_LEN};
use crate::vhd::{Bat, DiskType, DynamicHeader, Footer};
use crate::virtual_disk::{DynamicDisk, FixedDisk};

/// Where the footer that describes the disk was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FooterPlace {
    /// The last 512 bytes, as the specification asks.
    End,
    /// The last 511 bytes (images made before Virtual PC 2004).
    End511,
    /// Only the copy at offset 0 carries a cookie: the end of the file is missing.
    StartCopyOnly,
}

/// The dynamic part of a dynamic or differencing VHD.
#[derive(Debug, Clone)]
pub struct Dynamic {
    pub header: DynamicHeader,
    pub bat: Bat,
    /// Structural defects of the header and BAT.
    pub findings: Vec<Finding>,
}

/// An opened image file.
#[derive(Clone)]
pub struct Container {
    pub source: SharedSource,
    pub file_size: u64,
    pub format: Format,
    /// The footer that describes the disk (VHD only).
    pub footer: Option<Footer>,
    pub footer_place: Option<FooterPlace>,
    /// The footer copy at offset 0 (dynamic and differencing disks), when it carries the
    /// cookie.
    pub start_copy: Option<Footer>,
    pub dynamic: Option<Dynamic>,
}

impl Container {
    /// Decodes what the file is. Never fails: a file that is not a VHD is a [`Format`] other
    /// than [`Format::Vhd`], and every defect is kept for the checks to report.
    pub fn open(source: SharedSource) -> Container {
        let file_size = source.size();
        let mut c = Container {
            source: source.clone(),
            file_size,
            format: Format::Unknown,
            footer: None,
            footer_place: None,
            start_copy: None,
            dynamic: None,
        };
        if let Some(f) = sniff_start(source.as_ref()) {
            c.format = f;
            return c;
        }
        let start = source
            .read_upto(0, FOOTER_LEN)
            .ok()
            .filter(|b| b.len() == FOOTER_LEN && b.starts_with(COOKIE))
            .map(|b| Footer::parse(&b, 0));
        let at_end = |len: u64| -> Option<Footer> {
            let off = file_size.checked_sub(len)?;
            let b = source.read_vec(off, len as usize).ok()?;
            b.starts_with(COOKIE).then(|| Footer::parse(&b, off))
        };
        if let Some(f) = at_end(512) {
            c.footer = Some(f);
            c.footer_place = Some(FooterPlace::End);
        } else if let Some(f) = at_end(511) {
            c.footer = Some(f);
            c.footer_place = Some(FooterPlace::End511);
        } else if let Some(f) = &start {
            c.footer = Some(f.clone());
            c.footer_place = Some(FooterPlace::StartCopyOnly);
        }
        if c.footer.is_none() {
            c.format = if looks_partitioned(source.as_ref()) {
                Format::Raw
            } else {
                Format::Unknown
            };
            return c;
        }
        c.format = Format::Vhd;
        c.start_copy = start;
        let footer = c.footer.clone().expect("set above");
        if footer.disk_type.is_sparse() {
            c.dynamic = Some(read_dynamic(source.as_ref(), &footer));
        }
        c
    }

    /// The offset of the footer in the file (where a dynamic disk's data must end).
    pub fn footer_offset(&self) -> u64 {
        match self.footer_place {
            Some(FooterPlace::End) | Some(FooterPlace::End511) => {
                self.footer.as_ref().map_or(self.file_size, |f| f.offset)
            }
            _ => self.file_size,
        }
    }

    /// The disk as the guest sees it: fixed VHDs pass through, dynamic and differencing ones
    /// are read through the BAT (unallocated blocks read as zeros), raw files are the disk.
    pub fn virtual_disk(&self) -> Result<SharedSource> {
        match self.format {
            Format::Raw => Ok(self.source.clone()),
            Format::Vhd => {
                let footer = self.footer.as_ref().expect("a VHD has a footer");
                match footer.disk_type {
                    DiskType::Fixed => Ok(Arc::new(FixedDisk::new(
                        self.source.clone(),
                        footer.current_size,
                        self.footer_offset(),
                    ))),
                    DiskType::Dynamic | DiskType::Differencing => {
                        let d = self.dynamic.as_ref().expect("read for sparse disks");
                        let at = d.header.offset;
                        if at.checked_add(1024).is_none_or(|end| end > self.file_size) {
                            return Err(Error::Malformed {
                                what: "dynamic VHD header",
                                offset: at,
                                reason: format!("the footer's data offset points past the end of the file ({} bytes), so the BAT cannot be found", self.file_size),
                            });
                        }
                        Ok(Arc::new(DynamicDisk::new(
                            self.source.clone(),
                            &d.header,
                            Arc::new(d.bat.entries.clone()),
                            footer.current_size,
                        )?))
                    }
                    DiskType::Other(v) => Err(Error::Unreadable(format!(
                        "VHD whose footer has disk type {v} (neither fixed, dynamic nor differencing)"
                    ))),
                }
            }
            other => Err(Error::Unreadable(other.name().to_string())),
        }
    }
}

fn read_dynamic(src: &dyn ReadAt, footer: &Footer) -> Dynamic {
    let mut findings = Vec::new();
    let size = src.size();
    let at = footer.data_offset;
    let hdr_bytes = match at.checked_add(1024) {
        Some(end) if end <= size => src.read_vec(at, 1024).unwrap_or_default(),
        _ => {
            findings.push(Finding::fail(
                16u64,
                format!("footer data offset {at:#x} does not point at a 1024-byte dynamic header inside the file ({size} bytes)"),
            ));
            Vec::new()
        }
    };
    let header = DynamicHeader::parse(&hdr_bytes, at);
    if hdr_bytes.is_empty() {
        return Dynamic {
            header,
            bat: Bat::default(),
            findings,
        };
    }
    if !header.cookie_ok() {
        findings.push(Finding::fail(
            at,
            format!(
                "dynamic header cookie is \"{}\", not \"cxsparse\"",
                header.cookie
            ),
        ));
    }
    if !header.checksum_ok() {
        findings.push(Finding::fail(
            at + 36,
            format!(
                "dynamic header checksum {:#010x} does not match the computed {:#010x}",
                header.checksum, header.computed_checksum
            ),
        ));
    }
    if header.header_version != 0x0001_0000 {
        findings.push(Finding::fail(
            at + 24,
            format!(
                "dynamic header version {:#010x}, expected 0x00010000",
                header.header_version
            ),
        ));
    }
    if header.data_offset != u64::MAX {
        findings.push(Finding::warning(
            at + 8,
            format!(
                "dynamic header data offset {:#x}, expected all ones",
                header.data_offset
            ),
        ));
    }
    let bs = header.block_size;
    if !bs.is_power_of_two() || bs < 512 {
        findings.push(Finding::fail(
            at + 32,
            format!("block size {bs} is not a power of two of at least 512"),
        ));
    }
    let t = header.table_offset;
    if t == 0 || t % 512 != 0 {
        findings.push(Finding::fail(
            at + 16,
            format!("BAT offset {t:#x} is not a non-zero multiple of 512"),
        ));
    }
    let needed = if bs > 0 {
        footer.current_size.div_ceil(u64::from(bs))
    } else {
        0
    };
    if u64::from(header.max_table_entries) < needed {
        findings.push(Finding::fail(
            at + 28,
            format!(
                "BAT has {} entries but the {}-byte disk needs {needed} blocks of {bs} bytes",
                header.max_table_entries, footer.current_size
            ),
        ));
    }
    if header.reserved1 != 0 || header.reserved2_nonzero {
        findings.push(Finding::warning(
            at + 60,
            "dynamic header reserved bytes are not zero",
        ));
    }
    if footer.disk_type == DiskType::Dynamic
        && (!header.parent_unique_id.is_zero() || header.used_locators().next().is_some())
    {
        findings.push(Finding::warning(
            at + 40,
            "a dynamic (not differencing) disk carries parent identity or locators",
        ));
    }
    for l in header.used_locators() {
        let end = l
            .platform_data_offset
            .saturating_add(u64::from(l.platform_data_length));
        if end > size.saturating_sub(512) {
            findings.push(Finding::fail(
                at + 576 + 24 * l.index as u64,
                format!(
                    "parent locator {} ({}) points at {:#x}..{end:#x}, past the footer",
                    l.index, l.platform_code, l.platform_data_offset
                ),
            ));
        }
    }
    let (bat, mut bat_findings) = Bat::read(src, t, header.max_table_entries);
    findings.append(&mut bat_findings);
    if bs.is_power_of_two() && bs >= 512 {
        let block_bytes = u64::from(bs) + header.bitmap_bytes();
        let metadata_end = t
            .saturating_add(u64::from(header.max_table_entries) * 4)
            .max(at + 1024);
        let footer_at = size.saturating_sub(512);
        findings.extend(bat.validate(block_bytes, metadata_end, footer_at));
    }
    Dynamic {
        header,
        bat,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn garbage_is_unknown() {
        let c = Container::open(Arc::new(MemSource::new(vec![7; 1000])));
        assert_eq!(c.format, Format::Unknown);
        assert!(c.virtual_disk().is_err());
        let c = Container::open(Arc::new(MemSource::new(vec![])));
        assert_eq!(c.format, Format::Unknown);
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(mut bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096), cookie_at in 0usize..3) {
            // Plant a cookie so the VHD paths are exercised.
            let n = bytes.len();
            if n >= 1024 {
                let at = [0, n - 512, n - 511][cookie_at];
                bytes[at..at + 8].copy_from_slice(COOKIE);
                bytes[at + 60..at + 64].copy_from_slice(&3u32.to_be_bytes());
                bytes[at + 16..at + 24].copy_from_slice(&512u64.to_be_bytes());
            }
            let c = Container::open(Arc::new(MemSource::new(bytes)));
            if let Ok(d) = c.virtual_disk() {
                let mut buf = vec![0u8; 4096];
                let _ = d.read_at(0, &mut buf);
                let _ = d.read_at(d.size().saturating_sub(100), &mut buf[..100]);
            }
        }
    }
}
