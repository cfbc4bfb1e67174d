//! Every bound the parsers apply to what an image asks them to read, named in one place.
//! A structure that exceeds one is reported as a defect, never followed.

/// Logical partitions followed along an EBR chain (the Linux kernel stops at 100 links).
pub const MAX_EBR_CHAIN: usize = 128;
/// Bytes of a GPT partition entry array read (128 entries × 128 bytes is usual; 4 MiB allows
/// 32768 of them).
pub const MAX_GPT_ENTRY_ARRAY: u64 = 4 << 20;
/// BAT entries read from a dynamic VHD (64 MiB of BAT, enough for 2040 GiB at 4 KiB blocks
/// ... and far more than the 2 MiB blocks every tool writes need).
pub const MAX_BAT_ENTRIES: u64 = 16 << 20;
/// Bytes of LVM2 text metadata read from one metadata area.
pub const MAX_LVM_METADATA: u64 = 4 << 20;
/// Nesting depth of LVM2 text metadata sections.
pub const MAX_LVM_DEPTH: usize = 32;
/// Segments of one LVM2 logical volume.
pub const MAX_LVM_SEGMENTS: usize = 4096;
/// Logical volumes decoded from one volume group.
pub const MAX_LVM_VOLUMES: usize = 1024;
/// Disk areas or metadata areas listed in an LVM2 PV header.
pub const MAX_LVM_AREAS: usize = 16;
