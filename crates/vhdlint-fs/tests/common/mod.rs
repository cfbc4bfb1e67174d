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

/// Byte ranges of a file of `len` bytes to read with `Filesystem::read_range`: the whole file,
/// ranges at and past its end, ranges around block boundaries, and `random` ranges drawn
/// from `seed` (offset up to a little past the end, length up to the file's).
#[allow(dead_code)]
pub fn ranges(len: u64, seed: u64, random: usize) -> Vec<(u64, usize)> {
    let mut v = vec![(0, len as usize), (0, 1), (len, 10), (len + 5, 3), (0, 0)];
    for edge in [511u64, 1023, 1024, 4095, 4096, 65535, 65536, 1 << 20] {
        if edge < len {
            v.push((edge, 2));
            v.push((edge - edge.min(100), 8192));
        }
    }
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m.max(1)
    };
    for _ in 0..random {
        let off = next(len + 64);
        let n = next(len.min(300_000) + 1) as usize;
        v.push((off, n));
    }
    v
}

/// Reads each of [`ranges`] of `path` with `read_range` and compares it with `want`, the
/// file's contents as an independent tool reads them.
#[allow(dead_code)]
pub fn check_ranges(fs: &dyn vhdlint_fs::Filesystem, path: &str, want: &[u8], seed: u64) {
    for (off, n) in ranges(want.len() as u64, seed, 40) {
        let mut buf = vec![0xa5u8; n];
        let got = fs
            .read_range(path, off, &mut buf)
            .unwrap_or_else(|e| panic!("{path}: read_range({off}, {n}): {e}"));
        let start = (off as usize).min(want.len());
        let expect = &want[start..(start + n).min(want.len())];
        assert_eq!(got, expect.len(), "{path}: read_range({off}, {n}) length");
        assert!(
            buf[..got] == *expect,
            "{path}: read_range({off}, {n}) differs from the file's bytes"
        );
    }
}
