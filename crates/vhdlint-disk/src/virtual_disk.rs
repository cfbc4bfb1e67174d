//! The guest's disk on top of the image file: fixed VHDs pass through, dynamic and
//! differencing VHDs are read through the BAT.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::source::{check_bounds, ReadAt, SharedSource};
use crate::vhd::bat::UNUSED;
use crate::vhd::DynamicHeader;

/// A fixed VHD: guest sector N is at file offset N × 512.
pub struct FixedDisk {
    file: SharedSource,
    size: u64,
    data_end: u64,
}

impl FixedDisk {
    /// `size` is the footer's current size; `data_end` where the footer begins (guest bytes
    /// past it are not in the file).
    pub fn new(file: SharedSource, size: u64, data_end: u64) -> Self {
        Self {
            file,
            size,
            data_end,
        }
    }
}

impl ReadAt for FixedDisk {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.size)?;
        if offset + buf.len() as u64 > self.data_end {
            return Err(Error::OutOfBounds {
                what: "fixed VHD data (the file holds fewer bytes than its footer's current size)"
                    .into(),
                offset,
                len: buf.len() as u64,
                size: self.data_end,
            });
        }
        self.file.read_at(offset, buf)
    }
    fn name(&self) -> String {
        "virtual disk".into()
    }
}

/// A dynamic or differencing VHD read through its BAT. Blocks never written read as zeros; a
/// differencing disk's parent is not opened, so its unallocated blocks also read as zeros.
pub struct DynamicDisk {
    file: SharedSource,
    bat: Arc<Vec<u32>>,
    block_size: u64,
    bitmap_bytes: u64,
    size: u64,
}

impl DynamicDisk {
    pub fn new(
        file: SharedSource,
        header: &DynamicHeader,
        bat: Arc<Vec<u32>>,
        size: u64,
    ) -> Result<Self> {
        let bs = header.block_size;
        if !bs.is_power_of_two() || bs < 512 {
            return Err(Error::Malformed {
                what: "dynamic VHD header",
                offset: header.offset.saturating_add(32),
                reason: format!("block size {bs} is not a power of two of at least 512, so no sector can be located"),
            });
        }
        Ok(Self {
            file,
            bat,
            block_size: u64::from(bs),
            bitmap_bytes: header.bitmap_bytes(),
            size,
        })
    }
}

impl ReadAt for DynamicDisk {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_bounds(&|| self.name(), offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let block = pos / self.block_size;
            let within = pos % self.block_size;
            let n = ((self.block_size - within) as usize).min(buf.len() - done);
            let out = &mut buf[done..done + n];
            let entry = usize::try_from(block)
                .ok()
                .and_then(|b| self.bat.get(b))
                .copied()
                .unwrap_or(UNUSED);
            if entry == UNUSED {
                out.fill(0);
            } else {
                let at = u64::from(entry) * 512 + self.bitmap_bytes + within;
                self.file.read_at(at, out).map_err(|e| Error::Malformed {
                    what: "dynamic VHD block",
                    offset: u64::from(entry) * 512,
                    reason: format!("block {block} (guest offset {pos:#x}) cannot be read: {e}"),
                })?;
            }
            done += n;
        }
        Ok(())
    }
    fn name(&self) -> String {
        "virtual disk".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn reads_through_bat() {
        // Two 512-byte blocks (bitmap 512 each); block 0 unallocated, block 1 at sector 2.
        let mut file = vec![0u8; 2048];
        file[1024..1536].fill(9); // data of block 1
        let mut hb = vec![0u8; 1024];
        hb[32..36].copy_from_slice(&512u32.to_be_bytes());
        let h = DynamicHeader::parse(&hb, 0);
        let d = DynamicDisk::new(
            Arc::new(MemSource::new(file)),
            &h,
            Arc::new(vec![UNUSED, 1]),
            1024,
        )
        .unwrap();
        let mut b = vec![1u8; 1024];
        d.read_at(0, &mut b).unwrap();
        assert!(b[..512].iter().all(|&x| x == 0));
        assert!(b[512..].iter().all(|&x| x == 9));
        assert!(d.read_at(1000, &mut b[..100]).is_err());
    }
}
