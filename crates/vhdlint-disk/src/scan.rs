//! The surface scan behind `disk/sparse`: which bytes of the image file are allocated on the
//! host filesystem, and how many of them hold only zeros.

use std::io;
use std::os::fd::AsFd;

use serde::Serialize;

use crate::source::{FileSource, ReadAt};

/// Granularity of the zero-block count: a filesystem block.
pub const ZERO_BLOCK: usize = 4096;
/// Bytes handed to one worker at a time.
const CHUNK: u64 = 8 << 20;

/// What the scan measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SparseScan {
    pub file_size: u64,
    /// Bytes the host filesystem has allocated (st_blocks × 512).
    pub allocated_bytes: u64,
    /// Bytes inside data extents (SEEK_DATA/SEEK_HOLE), the ones scanned.
    pub data_bytes: u64,
    /// Data extents found.
    pub extents: u64,
    /// Bytes of whole 4 KiB blocks inside data extents that hold only zeros.
    pub zero_bytes: u64,
}

/// The data extents of `file` as (offset, length), holes skipped.
pub fn data_extents(file: &FileSource) -> io::Result<Vec<(u64, u64)>> {
    use rustix::fs::{seek, SeekFrom};
    let fd = file.file().as_fd();
    let size = file.size();
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < size {
        let start = match seek(fd, SeekFrom::Data(pos)) {
            Ok(s) => s,
            Err(rustix::io::Errno::NXIO) => break,
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::OPNOTSUPP) => {
                // The filesystem cannot tell: everything is data.
                return Ok(vec![(0, size)]);
            }
            Err(e) => return Err(e.into()),
        };
        let end = match seek(fd, SeekFrom::Hole(start)) {
            Ok(e) => e.min(size),
            Err(_) => size,
        };
        if end <= start {
            break;
        }
        out.push((start, end - start));
        pos = end;
    }
    Ok(out)
}

/// Scans the allocated extents of `file` for zero-filled blocks, in parallel. `progress` is
/// called with the number of bytes each finished piece covered.
pub fn scan(file: &FileSource, progress: &(dyn Fn(u64) + Sync)) -> io::Result<SparseScan> {
    use rayon::prelude::*;
    use std::os::unix::fs::MetadataExt;
    let meta = file.file().metadata()?;
    let extents = data_extents(file)?;
    let pieces: Vec<(u64, u64)> = extents
        .iter()
        .flat_map(|&(o, l)| {
            (0..l.div_ceil(CHUNK)).map(move |i| (o + i * CHUNK, (l - i * CHUNK).min(CHUNK)))
        })
        .collect();
    let zero_bytes = pieces
        .par_iter()
        .map_init(Vec::new, |buf: &mut Vec<u8>, &(o, l)| {
            buf.resize(l as usize, 0);
            file.read_at(o, buf)
                .map_err(|e| io::Error::other(e.to_string()))?;
            let z = buf
                .chunks(ZERO_BLOCK)
                .filter(|b| b.len() == ZERO_BLOCK && is_zero(b))
                .count() as u64
                * ZERO_BLOCK as u64;
            progress(l);
            Ok(z)
        })
        .sum::<io::Result<u64>>()?;
    Ok(SparseScan {
        file_size: meta.len(),
        allocated_bytes: meta.blocks() * 512,
        data_bytes: extents.iter().map(|e| e.1).sum(),
        extents: extents.len() as u64,
        zero_bytes,
    })
}

fn is_zero(b: &[u8]) -> bool {
    let mut words = b.chunks_exact(16);
    words.all(|c| c == [0u8; 16]) && words.remainder().iter().all(|&x| x == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    #[test]
    fn counts_zero_blocks_and_skips_holes() {
        let dir = std::env::temp_dir().join(format!("vhdlint-scan-{}", std::process::id()));
        let mut f = std::fs::File::create(&dir).unwrap();
        f.write_all(&[1u8; 4096]).unwrap();
        f.write_all(&[0u8; 8192]).unwrap();
        f.seek(io::SeekFrom::Start(64 << 20)).unwrap();
        f.write_all(&[2u8; 4096]).unwrap();
        f.sync_all().unwrap();
        let src = FileSource::open(&dir).unwrap();
        let s = scan(&src, &|_| {}).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(s.file_size, (64 << 20) + 4096);
        assert!(s.data_bytes < 16 << 20, "holes skipped: {s:?}");
        assert_eq!(s.zero_bytes, 8192);
    }
}
