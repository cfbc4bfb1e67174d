//! btrfs on-disk structures vhdlint checks itself before the `lambutter` crate reads the
//! filesystem: the superblock copies (where they are, their magic, checksum type and
//! checksum), so that a damaged primary superblock is reported and the copy that is read
//! instead is named. Pure functions over byte slices, no I/O.

/// Where the superblock copies live: the primary at 64 KiB, mirrors at 64 MiB and 256 GiB
/// (a fourth at 1 PiB is past any Azure disk).
pub const SUPERBLOCK_OFFSETS: [u64; 3] = [64 << 10, 64 << 20, 256 << 30];
/// Bytes of one superblock copy.
pub const SB_LEN: usize = 4096;
/// `_BHRfS_M`, at byte 64 of a superblock.
pub const MAGIC: &[u8; 8] = b"_BHRfS_M";

/// The checksum algorithms a superblock may name (`csum_type`, byte 196).
pub const CSUM_CRC32C: u16 = 0;
pub const CSUM_XXHASH: u16 = 1;
pub const CSUM_SHA256: u16 = 2;
pub const CSUM_BLAKE2: u16 = 3;

/// What one superblock copy holds, as far as vhdlint needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// Byte offset of this copy in the volume.
    pub offset: u64,
    pub generation: u64,
    pub num_devices: u64,
    pub csum_type: u16,
}

/// Why a superblock copy is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SbDefect {
    #[error("it lies past the end of the volume")]
    PastEnd,
    #[error("no btrfs magic (_BHRfS_M) at byte 64")]
    BadMagic,
    #[error("its bytenr field says {stored}, not its own offset")]
    WrongBytenr { stored: u64 },
    #[error("checksum type {0} is not one btrfs defines")]
    UnknownCsumType(u16),
    #[error("its crc32c checksum {stored:#010x} does not match the computed {computed:#010x}")]
    BadCsum { stored: u32, computed: u32 },
    #[error("it could not be read: {0}")]
    Io(String),
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// CRC-32C (Castagnoli), as btrfs computes it over metadata: reflected polynomial
/// 0x82F63B78, initial value and final xor all ones.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
        }
    }
    !crc
}

/// Checks the superblock copy `b` read at `offset`: magic, the bytenr it records, the
/// checksum type and (for crc32c, the default of `mkfs.btrfs`) the checksum over bytes
/// 32..4096. Other checksum types are not verified here.
pub fn parse_superblock(b: &[u8], offset: u64) -> Result<Superblock, SbDefect> {
    if b.len() < SB_LEN {
        return Err(SbDefect::PastEnd);
    }
    if &b[64..72] != MAGIC {
        return Err(SbDefect::BadMagic);
    }
    let stored_bytenr = le64(b, 48);
    if stored_bytenr != offset {
        return Err(SbDefect::WrongBytenr {
            stored: stored_bytenr,
        });
    }
    let csum_type = u16::from_le_bytes([b[196], b[197]]);
    match csum_type {
        CSUM_CRC32C => {
            let stored = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let computed = crc32c(&b[32..SB_LEN]);
            if stored != computed {
                return Err(SbDefect::BadCsum { stored, computed });
            }
        }
        CSUM_XXHASH | CSUM_SHA256 | CSUM_BLAKE2 => {}
        t => return Err(SbDefect::UnknownCsumType(t)),
    }
    Ok(Superblock {
        offset,
        generation: le64(b, 72),
        num_devices: le64(b, 136),
        csum_type,
    })
}

/// A size in the units btrfs's superblock offsets are written in (`64 KiB`, `64 MiB`,
/// `256 GiB`).
pub fn human_offset(offset: u64) -> String {
    match offset {
        o if o >= 1 << 30 && o % (1 << 30) == 0 => format!("{} GiB", o >> 30),
        o if o >= 1 << 20 && o % (1 << 20) == 0 => format!("{} MiB", o >> 20),
        o if o >= 1 << 10 && o % (1 << 10) == 0 => format!("{} KiB", o >> 10),
        o => format!("{o} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(offset: u64) -> Vec<u8> {
        let mut b = vec![0u8; SB_LEN];
        b[48..56].copy_from_slice(&offset.to_le_bytes());
        b[64..72].copy_from_slice(MAGIC);
        b[72..80].copy_from_slice(&7u64.to_le_bytes());
        b[136..144].copy_from_slice(&1u64.to_le_bytes());
        let c = crc32c(&b[32..]);
        b[0..4].copy_from_slice(&c.to_le_bytes());
        b
    }

    #[test]
    fn crc32c_known_value() {
        // The check value of CRC-32C over "123456789".
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn a_valid_copy_parses() {
        let sb = parse_superblock(&valid(65536), 65536).unwrap();
        assert_eq!((sb.generation, sb.num_devices, sb.csum_type), (7, 1, 0));
    }

    #[test]
    fn defects_are_named() {
        let mut b = valid(65536);
        b[100] ^= 1;
        assert!(matches!(
            parse_superblock(&b, 65536),
            Err(SbDefect::BadCsum { .. })
        ));
        assert_eq!(
            parse_superblock(&valid(65536), 64 << 20),
            Err(SbDefect::WrongBytenr { stored: 65536 })
        );
        let mut b = valid(65536);
        b[64] = b'x';
        assert_eq!(parse_superblock(&b, 65536), Err(SbDefect::BadMagic));
        let mut b = valid(65536);
        b[196] = 9;
        assert_eq!(
            parse_superblock(&b, 65536),
            Err(SbDefect::UnknownCsumType(9))
        );
        assert_eq!(parse_superblock(&[0; 10], 0), Err(SbDefect::PastEnd));
    }

    #[test]
    fn offsets_read_as_btrfs_writes_them() {
        assert_eq!(human_offset(65536), "64 KiB");
        assert_eq!(human_offset(64 << 20), "64 MiB");
        assert_eq!(human_offset(256 << 30), "256 GiB");
        assert_eq!(human_offset(100), "100 bytes");
    }
}
