//! ext2/3/4 through the `ext4-view` crate.
