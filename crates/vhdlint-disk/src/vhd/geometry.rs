//! CHS geometry of a VHD footer and the specification's algorithm that derives it from a size.

use serde::{Deserialize, Serialize};

/// Cylinders, heads, sectors per track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub cylinders: u16,
    pub heads: u8,
    pub sectors: u8,
}

/// 65535 × 16 × 255 sectors: the largest geometry, which tools read as "use current size".
pub const MAX_CHS_SECTORS: u64 = 65535 * 16 * 255;

impl Geometry {
    pub const MAX: Geometry = Geometry {
        cylinders: 65535,
        heads: 16,
        sectors: 255,
    };

    /// Sectors the geometry addresses.
    pub fn total_sectors(&self) -> u64 {
        u64::from(self.cylinders) * u64::from(self.heads) * u64::from(self.sectors)
    }

    /// The geometry the VHD specification's appendix computes for `total_sectors`
    /// (rounding down).
    pub fn for_sectors(total_sectors: u64) -> Geometry {
        let total = total_sectors.min(MAX_CHS_SECTORS);
        let (spt, heads, cth);
        if total >= 65535 * 16 * 63 {
            spt = 255;
            heads = 16;
            cth = total / spt;
        } else {
            let mut s = 17;
            let mut c = total / s;
            let mut h = c.div_ceil(1024).max(4);
            if c >= h * 1024 || h > 16 {
                s = 31;
                h = 16;
                c = total / s;
            }
            if c >= h * 1024 {
                s = 63;
                h = 16;
                c = total / s;
            }
            spt = s;
            heads = h;
            cth = c;
        }
        Geometry {
            cylinders: (cth / heads).min(65535) as u16,
            heads: heads as u8,
            sectors: spt as u8,
        }
    }
}

impl std::fmt::Display for Geometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.cylinders, self.heads, self.sectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        // 30 GiB: 62914560 sectors < 65535*16*63, so 63 sectors per track.
        let g = Geometry::for_sectors(30 << 21);
        assert_eq!((g.heads, g.sectors), (16, 63));
        assert_eq!(g.cylinders as u64, (30u64 << 21) / 63 / 16);
        // Past the CHS maximum the geometry is capped.
        assert_eq!(Geometry::for_sectors(u64::MAX), Geometry::MAX);
        assert_eq!(Geometry::for_sectors(0).total_sectors(), 0);
    }
}
