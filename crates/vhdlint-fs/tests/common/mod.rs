//! What the filesystem tests share: finding the real tools that build and read their images,
//! and the file contents they write.

use std::path::PathBuf;

/// `name` on PATH or in the sbin directories a non-root PATH leaves out.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `len` bytes that do not compress, the same for the same `seed` (xorshift; distinct seeds
/// give distinct bytes, 0 included).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
