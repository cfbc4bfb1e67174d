//! The 512-byte hard disk footer (big-endian), every field kept as read.

use serde::Serialize;

use super::{ones_complement_sum, Geometry};
use crate::bytes::{be_u16, be_u32, be_u64, printable};
use crate::guid::Guid;

pub const COOKIE: &[u8; 8] = b"conectix";
pub const FOOTER_LEN: usize = 512;
pub const CHECKSUM_AT: usize = 64;

/// Disk type field (offset 60).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskType {
    Fixed,
    Dynamic,
    Differencing,
    Other(u32),
}

impl DiskType {
    pub fn from_u32(v: u32) -> Self {
        match v {
            2 => DiskType::Fixed,
            3 => DiskType::Dynamic,
            4 => DiskType::Differencing,
            v => DiskType::Other(v),
        }
    }
    pub fn name(&self) -> String {
        match self {
            DiskType::Fixed => "fixed".into(),
            DiskType::Dynamic => "dynamic".into(),
            DiskType::Differencing => "differencing".into(),
            DiskType::Other(v) => format!("unknown ({v})"),
        }
    }
    pub fn is_sparse(&self) -> bool {
        matches!(self, DiskType::Dynamic | DiskType::Differencing)
    }
}

/// How tools decide the virtual size from a footer, by its creator application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSource {
    /// qemu (and Virtual PC, Virtual Server, unknown creators) derive the size from the CHS
    /// geometry.
    Chs,
    /// Hyper-V, qemu with force_size, disk2vhd, XenServer, Citrix use the current size field.
    CurrentSize,
}

/// The hard disk footer.
#[derive(Debug, Clone, Serialize)]
pub struct Footer {
    /// File offset the footer was read from.
    pub offset: u64,
    pub cookie: String,
    pub features: u32,
    pub format_version: u32,
    pub data_offset: u64,
    pub timestamp: u32,
    pub creator_app: String,
    #[serde(skip)]
    pub creator_app_raw: [u8; 4],
    pub creator_version: u32,
    pub creator_host_os: String,
    pub original_size: u64,
    pub current_size: u64,
    pub geometry: Geometry,
    pub disk_type: DiskType,
    pub checksum: u32,
    pub computed_checksum: u32,
    pub unique_id: Guid,
    pub saved_state: u8,
    /// Offset (in the footer) of the first non-zero reserved byte past offset 85, if any.
    pub reserved_nonzero_at: Option<usize>,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

impl Footer {
    /// Decodes a footer from its bytes (512, or 511 for pre-2004 images: the missing last
    /// byte is reserved and taken as zero). Never fails: validity is judged by the checks.
    pub fn parse(bytes: &[u8], offset: u64) -> Footer {
        let mut raw = [0u8; FOOTER_LEN];
        let n = bytes.len().min(FOOTER_LEN);
        raw[..n].copy_from_slice(&bytes[..n]);
        let b = &raw[..];
        let mut app = [0u8; 4];
        app.copy_from_slice(&b[28..32]);
        Footer {
            offset,
            cookie: printable(&b[0..8]),
            features: be_u32(b, 8),
            format_version: be_u32(b, 12),
            data_offset: be_u64(b, 16),
            timestamp: be_u32(b, 24),
            creator_app: printable(&app),
            creator_app_raw: app,
            creator_version: be_u32(b, 32),
            creator_host_os: printable(&b[36..40]),
            original_size: be_u64(b, 40),
            current_size: be_u64(b, 48),
            geometry: Geometry {
                cylinders: be_u16(b, 56),
                heads: b[58],
                sectors: b[59],
            },
            disk_type: DiskType::from_u32(be_u32(b, 60)),
            checksum: be_u32(b, CHECKSUM_AT),
            computed_checksum: ones_complement_sum(b, CHECKSUM_AT),
            unique_id: Guid::from_big_endian(b[68..84].try_into().unwrap_or_default()),
            saved_state: b[84],
            reserved_nonzero_at: b[86..].iter().position(|&x| x != 0).map(|p| p + 86),
            raw: raw.to_vec(),
        }
    }

    pub fn cookie_ok(&self) -> bool {
        self.raw.get(0..8) == Some(COOKIE.as_slice())
    }
    pub fn checksum_ok(&self) -> bool {
        self.checksum == self.computed_checksum
    }
    /// Where the virtual size comes from for the tools that read this footer.
    pub fn size_source(&self) -> SizeSource {
        match &self.creator_app_raw {
            b"win " | b"qem2" | b"d2v " | b"d2v\0" | b"CTXS" | b"tap\0" => SizeSource::CurrentSize,
            _ => SizeSource::Chs,
        }
    }
    /// The size qemu-img reports: from the geometry for the CHS family (unless the geometry
    /// is the maximum), from the current size field otherwise.
    pub fn qemu_size(&self) -> u64 {
        if self.size_source() == SizeSource::Chs && self.geometry != Geometry::MAX {
            self.geometry.total_sectors() * 512
        } else {
            self.current_size
        }
    }
    /// Creator version as `major.minor`.
    pub fn creator_version_text(&self) -> String {
        format!(
            "{}.{}",
            self.creator_version >> 16,
            self.creator_version & 0xffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn qemu_fixed_footer(size: u64) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[0..8].copy_from_slice(COOKIE);
        b[8..12].copy_from_slice(&2u32.to_be_bytes());
        b[12..16].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        b[16..24].copy_from_slice(&u64::MAX.to_be_bytes());
        b[28..32].copy_from_slice(b"qem2");
        b[32..36].copy_from_slice(&0x0005_0003u32.to_be_bytes());
        b[36..40].copy_from_slice(b"Wi2k");
        b[40..48].copy_from_slice(&size.to_be_bytes());
        b[48..56].copy_from_slice(&size.to_be_bytes());
        b[56..58].copy_from_slice(&65535u16.to_be_bytes());
        b[58] = 16;
        b[59] = 255;
        b[60..64].copy_from_slice(&2u32.to_be_bytes());
        let c = ones_complement_sum(&b, CHECKSUM_AT);
        b[64..68].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parses_fields() {
        let f = Footer::parse(&qemu_fixed_footer(1 << 30), 42);
        assert!(f.cookie_ok() && f.checksum_ok());
        assert_eq!(f.disk_type, DiskType::Fixed);
        assert_eq!(f.current_size, 1 << 30);
        assert_eq!(f.size_source(), SizeSource::CurrentSize);
        assert_eq!(f.qemu_size(), 1 << 30);
        assert_eq!(f.creator_version_text(), "5.3");
    }

    #[test]
    fn flipped_byte_breaks_checksum() {
        let mut b = qemu_fixed_footer(1 << 30);
        b[70] ^= 1;
        assert!(!Footer::parse(&b, 0).checksum_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let f = Footer::parse(&bytes, 0);
            let _ = (f.qemu_size(), f.size_source(), f.checksum_ok());
        }
    }
}
