//! Read-only decoding of disk images: the byte source, the container format and the VHD
//! container (footer, dynamic header, BAT), the guest's virtual disk (fixed, dynamic,
//! differencing), partition tables (MBR with EBR chains, GPT with its backup, and the BSD,
//! SGI and Sun labels of other Unix systems), LVM2 physical
//! volumes and their logical volumes, filesystem signatures, and the surface scan of the image
//! file. Images may be named by SAS URLs, whose signature [`sas`] hides from what is shown.
//!
//! Every parser here reports *every* defect it sees as a [`Finding`] instead of stopping at the
//! first, bounds what it reads by the limits in [`limits`], and never panics on hostile bytes.

pub mod access;
pub mod bytes;
pub mod container;
pub mod disklabel;
pub mod error;
pub mod finding;
pub mod format;
pub mod gpt;
pub mod guid;
pub mod layout;
pub mod limits;
pub mod lvm;
pub mod mbr;
pub mod probe;
pub mod sas;
pub mod scan;
pub mod source;
pub mod static_str;
pub mod timing;
pub mod vhd;
pub mod virtual_disk;

pub use container::Container;
pub use error::{Error, Result};
pub use finding::{Finding, Severity};
pub use format::Format;
pub use layout::{Layout, PartitionTable, Volume, VolumeOrigin};
pub use source::{FileSource, MemSource, ReadAt, SharedSource, Slice};

/// Bytes in a sector of a VHD and of every partition table this crate reads.
pub const SECTOR: u64 = 512;
/// One mebibyte.
pub const MIB: u64 = 1 << 20;
/// One gibibyte.
pub const GIB: u64 = 1 << 30;
