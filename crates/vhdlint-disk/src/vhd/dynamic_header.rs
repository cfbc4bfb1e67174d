//! The 1024-byte dynamic disk header (cookie `cxsparse`) and its parent locators.

use serde::Serialize;

use super::ones_complement_sum;
use crate::bytes::{be_u32, be_u64, printable};
use crate::guid::Guid;

pub const COOKIE: &[u8; 8] = b"cxsparse";
pub const HEADER_LEN: usize = 1024;
pub const CHECKSUM_AT: usize = 36;

/// One of the eight parent locator entries.
#[derive(Debug, Clone, Serialize)]
pub struct ParentLocator {
    pub index: usize,
    pub platform_code: String,
    pub platform_data_space: u32,
    pub platform_data_length: u32,
    pub reserved: u32,
    pub platform_data_offset: u64,
}

/// The dynamic disk header.
#[derive(Debug, Clone, Serialize)]
pub struct DynamicHeader {
    /// File offset the header was read from.
    pub offset: u64,
    pub cookie: String,
    pub data_offset: u64,
    pub table_offset: u64,
    pub header_version: u32,
    pub max_table_entries: u32,
    pub block_size: u32,
    pub checksum: u32,
    pub computed_checksum: u32,
    pub parent_unique_id: Guid,
    pub parent_timestamp: u32,
    pub reserved1: u32,
    pub parent_name: String,
    pub parent_locators: Vec<ParentLocator>,
    pub reserved2_nonzero: bool,
    #[serde(skip)]
    cookie_raw: [u8; 8],
}

impl DynamicHeader {
    /// Decodes a header from up to 1024 bytes (missing bytes are taken as zero).
    pub fn parse(bytes: &[u8], offset: u64) -> DynamicHeader {
        let mut b = [0u8; HEADER_LEN];
        let n = bytes.len().min(HEADER_LEN);
        b[..n].copy_from_slice(&bytes[..n]);
        let name_units: Vec<u16> = b[64..576]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let parent_locators = (0..8)
            .map(|i| {
                let at = 576 + i * 24;
                ParentLocator {
                    index: i,
                    platform_code: printable(&b[at..at + 4]),
                    platform_data_space: be_u32(&b, at + 4),
                    platform_data_length: be_u32(&b, at + 8),
                    reserved: be_u32(&b, at + 12),
                    platform_data_offset: be_u64(&b, at + 16),
                }
            })
            .collect();
        let mut cookie_raw = [0u8; 8];
        cookie_raw.copy_from_slice(&b[0..8]);
        DynamicHeader {
            offset,
            cookie: printable(&b[0..8]),
            data_offset: be_u64(&b, 8),
            table_offset: be_u64(&b, 16),
            header_version: be_u32(&b, 24),
            max_table_entries: be_u32(&b, 28),
            block_size: be_u32(&b, 32),
            checksum: be_u32(&b, CHECKSUM_AT),
            computed_checksum: ones_complement_sum(&b, CHECKSUM_AT),
            parent_unique_id: Guid::from_big_endian(b[40..56].try_into().unwrap_or_default()),
            parent_timestamp: be_u32(&b, 56),
            reserved1: be_u32(&b, 60),
            parent_name: String::from_utf16_lossy(&name_units),
            parent_locators,
            reserved2_nonzero: b[768..].iter().any(|&x| x != 0),
            cookie_raw,
        }
    }

    pub fn cookie_ok(&self) -> bool {
        &self.cookie_raw == COOKIE
    }
    pub fn checksum_ok(&self) -> bool {
        self.checksum == self.computed_checksum
    }
    /// Locators with a platform code other than none.
    pub fn used_locators(&self) -> impl Iterator<Item = &ParentLocator> {
        self.parent_locators
            .iter()
            .filter(|l| l.platform_code != "\\x00\\x00\\x00\\x00")
    }
    /// Bytes of the sector bitmap in front of each block: one bit per sector, padded to a
    /// sector.
    pub fn bitmap_bytes(&self) -> u64 {
        (u64::from(self.block_size) / 512).div_ceil(8).div_ceil(512) * 512
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1100)) {
            let h = DynamicHeader::parse(&bytes, 0);
            let _ = (h.bitmap_bytes(), h.used_locators().count(), h.checksum_ok());
        }
    }

    #[test]
    fn bitmap_size() {
        let mut b = vec![0u8; 1024];
        b[32..36].copy_from_slice(&0x0020_0000u32.to_be_bytes());
        assert_eq!(DynamicHeader::parse(&b, 0).bitmap_bytes(), 512);
    }
}
