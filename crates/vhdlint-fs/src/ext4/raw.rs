//! The ext4 superblock fields read before ext4-view opens the filesystem. Every function takes
//! bytes and returns values; none reads from the source.

/// Byte offset of the superblock on the volume.
pub(crate) const SB_OFFSET: u64 = 1024;
/// Bytes of the superblock.
pub(crate) const SB_LEN: usize = 1024;

/// `s_blocks_count_lo`.
const BLOCKS_COUNT_LO: usize = 0x04;
/// `s_first_data_block`.
const FIRST_DATA_BLOCK: usize = 0x14;
/// `s_blocks_per_group`.
const BLOCKS_PER_GROUP: usize = 0x20;
/// `s_blocks_count_hi`.
const BLOCKS_COUNT_HI: usize = 0x150;

/// The block groups a superblock implies, and the fields they are counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockGroups {
    pub(crate) groups: u64,
    pub(crate) blocks: u64,
    pub(crate) per_group: u64,
}

/// The block groups superblock `sb` implies, counted as ext4-view counts them; `None` where its
/// fields imply no count (a first data block past the block count, no blocks per group).
pub(crate) fn block_groups(sb: &[u8; SB_LEN]) -> Option<BlockGroups> {
    let u32_at = |o: usize| u32::from_le_bytes([sb[o], sb[o + 1], sb[o + 2], sb[o + 3]]);
    // As ext4-view counts them: with s_blocks_count_hi whether or not the 64bit feature is on.
    let blocks = u64::from(u32_at(BLOCKS_COUNT_LO)) | u64::from(u32_at(BLOCKS_COUNT_HI)) << 32;
    let per_group = u64::from(u32_at(BLOCKS_PER_GROUP));
    let data_blocks = blocks.checked_sub(u64::from(u32_at(FIRST_DATA_BLOCK)))?;
    if per_group == 0 {
        return None;
    }
    Some(BlockGroups {
        groups: data_blocks.div_ceil(per_group),
        blocks,
        per_group,
    })
}
