//! GUIDs as stored in GPT (mixed-endian) and VHD (big-endian) structures.

use std::fmt;

/// A GUID in its canonical textual byte order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// From the mixed-endian layout of EFI: first three fields little-endian.
    pub fn from_mixed_endian(b: [u8; 16]) -> Self {
        let mut g = b;
        g[0..4].reverse();
        g[4..6].reverse();
        g[6..8].reverse();
        Guid(g)
    }
    /// From the big-endian layout (VHD unique ids).
    pub fn from_big_endian(b: [u8; 16]) -> Self {
        Guid(b)
    }
    /// Parses `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (either case).
    pub const fn parse(s: &str) -> Option<Self> {
        let s = s.as_bytes();
        if s.len() != 36 {
            return None;
        }
        let mut out = [0u8; 16];
        let mut i = 0;
        let mut o = 0;
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if s[i] != b'-' {
                    return None;
                }
                i += 1;
                continue;
            }
            let (Some(h), Some(l)) = (hex(s[i]), hex(s[i + 1])) else {
                return None;
            };
            out[o] = h << 4 | l;
            o += 1;
            i += 2;
        }
        Some(Guid(out))
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

const fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Builds a GUID constant from its text at compile time.
#[macro_export]
macro_rules! guid {
    ($s:literal) => {
        match $crate::guid::Guid::parse($s) {
            Some(g) => g,
            None => panic!("bad GUID literal"),
        }
    };
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        Guid::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("\"{s}\" is not a GUID")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        let g = guid!("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        assert_eq!(g.to_string(), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        let mut on_disk = g.0;
        on_disk[0..4].reverse();
        on_disk[4..6].reverse();
        on_disk[6..8].reverse();
        assert_eq!(Guid::from_mixed_endian(on_disk), g);
        assert!(Guid::parse("nope").is_none());
    }
}
