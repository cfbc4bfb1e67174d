//! The VHD container: hard disk footer, dynamic disk header, block allocation table, and the
//! CHS geometry algorithm of the specification.

pub mod bat;
pub mod dynamic_header;
pub mod footer;
pub mod geometry;

pub use bat::Bat;
pub use dynamic_header::DynamicHeader;
pub use footer::{DiskType, Footer};
pub use geometry::Geometry;

/// Seconds between the Unix epoch and the VHD epoch (2000-01-01 00:00:00 UTC).
pub const VHD_EPOCH: i64 = 946_684_800;

/// One's complement of the byte sum of `bytes`, with the 4 bytes at `skip` taken as zero:
/// the checksum of the VHD footer and dynamic header.
pub fn ones_complement_sum(bytes: &[u8], skip: usize) -> u32 {
    let sum = bytes
        .iter()
        .enumerate()
        .filter(|(i, _)| !(skip..skip + 4).contains(i))
        .fold(0u32, |acc, (_, b)| acc.wrapping_add(u32::from(*b)));
    !sum
}
