//! ext4's hashed directory index (htree): the name hashes (legacy, half-MD4, TEA, each with
//! signed or unsigned chars) and the index blocks (`dx_root`, `dx_node`), decoded from byte
//! slices. A lookup that cannot trust the index (an unknown hash, a field out of range, an
//! index out of order) is told so and scans the directory instead.

use vhdlint_disk::bytes::le_u16;

fn u32_at(b: &[u8], at: usize) -> u32 {
    vhdlint_disk::bytes::le_u32(b, at)
}

/// The hash functions of an htree (`dx_root_info.hash_version`, the unsigned variants as
/// the superblock's flags select them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Legacy { signed: bool },
    HalfMd4 { signed: bool },
    Tea { signed: bool },
}

impl Hash {
    /// The hash of an index of `version` (0 legacy, 1 half-MD4, 2 TEA, 3–5 their unsigned
    /// variants); `unsigned_flag`: the superblock's `EXT2_FLAGS_UNSIGNED_HASH` (for 0–2).
    /// `None` for another (siphash of casefolded directories, unknown).
    pub fn of(version: u8, unsigned_flag: bool) -> Option<Hash> {
        let (v, signed) = match version {
            0..=2 => (version, !unsigned_flag),
            3..=5 => (version - 3, false),
            _ => return None,
        };
        Some(match v {
            0 => Hash::Legacy { signed },
            1 => Hash::HalfMd4 { signed },
            _ => Hash::Tea { signed },
        })
    }
}

/// The default starting state of the half-MD4 and TEA hashes (when the seed is all zeros).
const DEFAULT_SEED: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// A name's byte as the hash reads it: sign-extended or not.
fn ch(c: u8, signed: bool) -> u32 {
    if signed {
        i32::from(c as i8) as u32
    } else {
        u32::from(c)
    }
}

fn legacy(name: &[u8], signed: bool) -> u32 {
    let (mut h0, mut h1) = (0x12a3_fe2du32, 0x37ab_e8f9u32);
    for &c in name {
        let mut h = h1.wrapping_add(h0 ^ ch(c, signed).wrapping_mul(7_152_373));
        if h & 0x8000_0000 != 0 {
            h = h.wrapping_sub(0x7fff_ffff);
        }
        h1 = h0;
        h0 = h;
    }
    h0 << 1
}

/// Packs up to `out.len() * 4` bytes of `msg` (of which `len` remain in the name) into
/// words, big end first, padded with a word made of the length.
fn pack(msg: &[u8], len: usize, out: &mut [u32], signed: bool) {
    let pad = {
        let p = (len as u32) | ((len as u32) << 8);
        p | (p << 16)
    };
    let mut val = pad;
    let mut n = 0;
    for (i, &c) in msg.iter().take(out.len() * 4).enumerate() {
        val = ch(c, signed).wrapping_add(val << 8);
        if i % 4 == 3 {
            out[n] = val;
            n += 1;
            val = pad;
        }
    }
    if n < out.len() {
        out[n] = val;
        n += 1;
    }
    for w in &mut out[n..] {
        *w = pad;
    }
}

fn half_md4(buf: &mut [u32; 4], x: &[u32; 8]) {
    let f = |x: u32, y: u32, z: u32| z ^ (x & (y ^ z));
    let g = |x: u32, y: u32, z: u32| (x & y).wrapping_add((x ^ y) & z);
    let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
    let [mut a, mut b, mut c, mut d] = *buf;
    // Each round: (function, constant, word order, shifts).
    type Round<'a> = (&'a dyn Fn(u32, u32, u32) -> u32, u32, [usize; 8], [u32; 4]);
    let rounds: [Round<'_>; 3] = [
        (&f, 0, [0, 1, 2, 3, 4, 5, 6, 7], [3, 7, 11, 19]),
        (&g, 0x5a82_7999, [1, 3, 5, 7, 0, 2, 4, 6], [3, 5, 9, 13]),
        (&h, 0x6ed9_eba1, [3, 7, 2, 6, 1, 5, 0, 4], [3, 9, 11, 15]),
    ];
    for (func, k, order, shifts) in rounds {
        for (step, &w) in order.iter().enumerate() {
            let s = shifts[step % 4];
            let word = x[w].wrapping_add(k);
            // The registers rotate: a, d, c, b take the new value in turn.
            match step % 4 {
                0 => {
                    a = a
                        .wrapping_add(func(b, c, d))
                        .wrapping_add(word)
                        .rotate_left(s)
                }
                1 => {
                    d = d
                        .wrapping_add(func(a, b, c))
                        .wrapping_add(word)
                        .rotate_left(s)
                }
                2 => {
                    c = c
                        .wrapping_add(func(d, a, b))
                        .wrapping_add(word)
                        .rotate_left(s)
                }
                _ => {
                    b = b
                        .wrapping_add(func(c, d, a))
                        .wrapping_add(word)
                        .rotate_left(s)
                }
            }
        }
    }
    buf[0] = buf[0].wrapping_add(a);
    buf[1] = buf[1].wrapping_add(b);
    buf[2] = buf[2].wrapping_add(c);
    buf[3] = buf[3].wrapping_add(d);
}

fn tea(buf: &mut [u32; 4], x: &[u32; 4]) {
    let (mut b0, mut b1) = (buf[0], buf[1]);
    let mut sum = 0u32;
    for _ in 0..16 {
        sum = sum.wrapping_add(0x9e37_79b9);
        b0 = b0.wrapping_add(
            (b1 << 4).wrapping_add(x[0]) ^ b1.wrapping_add(sum) ^ (b1 >> 5).wrapping_add(x[1]),
        );
        b1 = b1.wrapping_add(
            (b0 << 4).wrapping_add(x[2]) ^ b0.wrapping_add(sum) ^ (b0 >> 5).wrapping_add(x[3]),
        );
    }
    buf[0] = buf[0].wrapping_add(b0);
    buf[1] = buf[1].wrapping_add(b1);
}

/// The major hash of `name` (its low bit clear) under `hash` with the superblock's `seed`.
pub fn name_hash(hash: Hash, seed: [u32; 4], name: &[u8]) -> u32 {
    let mut buf = if seed == [0; 4] { DEFAULT_SEED } else { seed };
    let h = match hash {
        Hash::Legacy { signed } => legacy(name, signed),
        Hash::HalfMd4 { signed } => {
            let mut x = [0u32; 8];
            for (i, chunk) in name.chunks(32).enumerate() {
                pack(chunk, name.len() - i * 32, &mut x, signed);
                half_md4(&mut buf, &x);
            }
            buf[1]
        }
        Hash::Tea { signed } => {
            let mut x = [0u32; 4];
            for (i, chunk) in name.chunks(16).enumerate() {
                pack(chunk, name.len() - i * 16, &mut x, signed);
                tea(&mut buf, &x);
            }
            buf[0]
        }
    };
    let h = h & !1;
    // The hash that marks the end of a directory in readdir is never a name's.
    if h == 0x7fff_ffff << 1 {
        (0x7fff_ffff - 1) << 1
    } else {
        h
    }
}

/// The `dx_root` of an indexed directory: its hash version, levels of index nodes below the
/// root, and its entries.
#[derive(Debug, PartialEq, Eq)]
pub struct Root {
    pub hash_version: u8,
    pub levels: u8,
    pub entries: Vec<(u32, u32)>,
}

/// Decodes the `dx_root` in block 0 of an indexed directory; `max_levels`: 2 (3 with
/// `large_dir`).
pub fn parse_root(b: &[u8], max_levels: u8) -> Result<Root, String> {
    if b.len() < 40 {
        return Err("index root block too short".into());
    }
    // `.` of 12 bytes, then `..` over the rest of the block.
    if le_u16(b, 4) != 12 || b[6] != 1 || b[8] != b'.' {
        return Err("index root without its `.` entry".into());
    }
    if usize::from(le_u16(b, 16)) != b.len() - 12 || b[18] != 2 || &b[20..22] != b".." {
        return Err("index root without its `..` entry".into());
    }
    let (reserved, hash_version, info_len, levels) = (u32_at(b, 24), b[28], b[29], b[30]);
    if reserved != 0 || info_len != 8 {
        return Err(format!(
            "index root info: reserved {reserved:#x}, length {info_len}"
        ));
    }
    if levels >= max_levels {
        return Err(format!("index of {levels} levels below its root"));
    }
    Ok(Root {
        hash_version,
        levels,
        entries: entries(b, 32)?,
    })
}

/// Decodes a `dx_node`: an empty entry over the whole block, then the index entries.
pub fn parse_node(b: &[u8]) -> Result<Vec<(u32, u32)>, String> {
    let rec_len = match usize::from(le_u16(b, 4)) {
        0 | 65535 if b.len() == 65536 => 65536,
        n => n,
    };
    if b.len() < 16 || u32_at(b, 0) != 0 || rec_len != b.len() {
        return Err("index node without its empty entry".into());
    }
    entries(b, 8)
}

/// The index entries at `at`: `(hash, block)`, the first one's hash 0, hashes ascending.
fn entries(b: &[u8], at: usize) -> Result<Vec<(u32, u32)>, String> {
    let (limit, count) = (usize::from(le_u16(b, at)), usize::from(le_u16(b, at + 2)));
    if count == 0 || count > limit || at + limit * 8 > b.len() {
        return Err(format!(
            "index of {count} entries, limit {limit}, in a block of {}",
            b.len()
        ));
    }
    let mut out = Vec::with_capacity(count);
    out.push((0, u32_at(b, at + 4)));
    for i in 1..count {
        let e = at + i * 8;
        let h = u32_at(b, e);
        if h < out[i - 1].0 {
            return Err(format!("index entry {i} out of hash order"));
        }
        out.push((h, u32_at(b, e + 4)));
    }
    Ok(out)
}

/// The entry of `index` whose range holds `hash` (the last one not above it), and the hash
/// that starts the next range, if any.
pub fn pick(index: &[(u32, u32)], hash: u32) -> (u32, Option<u32>) {
    let i = index.partition_point(|&(h, _)| h <= hash).saturating_sub(1);
    (index[i].1, index.get(i + 1).map(|e| e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_versions() {
        assert_eq!(Hash::of(1, false), Some(Hash::HalfMd4 { signed: true }));
        assert_eq!(Hash::of(1, true), Some(Hash::HalfMd4 { signed: false }));
        assert_eq!(Hash::of(5, false), Some(Hash::Tea { signed: false }));
        assert_eq!(Hash::of(6, false), None);
    }

    #[test]
    fn picks_the_range_of_a_hash() {
        let idx = [(0, 1), (10, 2), (10, 3), (20, 4)];
        assert_eq!(pick(&idx, 5), (1, Some(10)));
        assert_eq!(pick(&idx, 10), (3, Some(20)));
        assert_eq!(pick(&idx, 25), (4, None));
    }

    #[test]
    fn parsers_never_panic_on_short_or_odd_blocks() {
        for len in [0, 8, 16, 39, 40, 64, 1024] {
            for fill in [0u8, 0xff, 12] {
                let b = vec![fill; len];
                let _ = parse_root(&b, 2);
                let _ = parse_node(&b);
            }
        }
    }
}
