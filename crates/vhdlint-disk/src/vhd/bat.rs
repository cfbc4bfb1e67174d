//! The block allocation table of a dynamic or differencing VHD, and its validation.

use crate::finding::Finding;
use crate::limits::MAX_BAT_ENTRIES;
use crate::source::ReadAt;

/// BAT value of a block that was never written.
pub const UNUSED: u32 = 0xFFFF_FFFF;

/// The BAT as read, with what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Bat {
    /// Entries actually read (sector offsets of each block's bitmap).
    pub entries: Vec<u32>,
    /// Entries the header declares.
    pub declared: u32,
}

impl Bat {
    /// Reads the BAT at `table_offset`, bounded by the file and by [`MAX_BAT_ENTRIES`];
    /// returns it with the defects met while reading.
    pub fn read(src: &dyn ReadAt, table_offset: u64, declared: u32) -> (Bat, Vec<Finding>) {
        let mut findings = Vec::new();
        let size = src.size();
        let in_file = size.saturating_sub(table_offset) / 4;
        let mut n = u64::from(declared);
        if n > MAX_BAT_ENTRIES {
            findings.push(Finding::fail(
                table_offset,
                format!(
                    "BAT declares {declared} entries, more than the {MAX_BAT_ENTRIES} vhdlint reads"
                ),
            ));
            n = MAX_BAT_ENTRIES;
        }
        if n > in_file {
            findings.push(Finding::fail(
                table_offset,
                format!(
                    "BAT of {declared} entries at offset {table_offset:#x} runs past the end of the file ({size} bytes)"
                ),
            ));
            n = in_file;
        }
        let bytes = src
            .read_vec(table_offset, (n * 4) as usize)
            .unwrap_or_default();
        let entries = bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (Bat { entries, declared }, findings)
    }

    /// Allocated blocks as (block index, first sector).
    pub fn allocated(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, &e)| e != UNUSED)
            .map(|(i, &e)| (i, e))
    }

    /// Checks every allocated block: inside the file before the footer, not over the
    /// metadata, and not overlapping another block. `metadata_end` is the first byte past the
    /// header and BAT; `footer_at` the offset of the end footer.
    pub fn validate(&self, block_bytes: u64, metadata_end: u64, footer_at: u64) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut spans: Vec<(u64, u64, usize)> = Vec::new();
        for (i, sector) in self.allocated() {
            let start = u64::from(sector) * 512;
            let end = start.saturating_add(block_bytes);
            if start < metadata_end {
                findings.push(Finding::fail(
                    start,
                    format!("BAT entry {i} puts its block at {start:#x}, over the header and BAT (which end at {metadata_end:#x})"),
                ));
            } else if end > footer_at {
                findings.push(Finding::fail(
                    start,
                    format!("BAT entry {i} puts its block at {start:#x}..{end:#x}, past the footer at {footer_at:#x} (truncated image?)"),
                ));
            }
            spans.push((start, end, i));
        }
        spans.sort_unstable();
        let mut overlaps = 0usize;
        for w in spans.windows(2) {
            let ((_, end_a, a), (start_b, _, b)) = (w[0], w[1]);
            if start_b < end_a {
                overlaps += 1;
                if overlaps <= 20 {
                    findings.push(Finding::fail(
                        start_b,
                        format!("BAT entries {a} and {b} overlap at {start_b:#x}"),
                    ));
                }
            }
        }
        if overlaps > 20 {
            findings.push(Finding::fail(
                None,
                format!("{overlaps} overlapping BAT entries in all (first 20 listed)"),
            ));
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn overlap_and_bounds() {
        let bat = Bat {
            entries: vec![4, 4, UNUSED, 1, 100_000],
            declared: 5,
        };
        let f = bat.validate(4096, 1536, 64 * 1024);
        assert!(f.iter().any(|f| f.message.contains("overlap")));
        assert!(f.iter().any(|f| f.message.contains("over the header")));
        assert!(f.iter().any(|f| f.message.contains("past the footer")));
    }

    #[test]
    fn bounded_by_file() {
        let src = MemSource::new(vec![0xff; 2048]);
        let (bat, f) = Bat::read(&src, 1536, u32::MAX);
        assert_eq!(bat.entries.len(), 128);
        assert_eq!(f.len(), 2);
    }
}
