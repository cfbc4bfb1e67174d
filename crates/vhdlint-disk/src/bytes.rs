//! Bounds-checked reads of integers from byte slices. Out-of-range reads yield zero, so
//! parsers over fixed-size buffers never panic; callers size their buffers first.

pub fn be_u16(b: &[u8], at: usize) -> u16 {
    take::<2>(b, at).map_or(0, u16::from_be_bytes)
}
pub fn be_u32(b: &[u8], at: usize) -> u32 {
    take::<4>(b, at).map_or(0, u32::from_be_bytes)
}
pub fn be_u64(b: &[u8], at: usize) -> u64 {
    take::<8>(b, at).map_or(0, u64::from_be_bytes)
}
pub fn le_u16(b: &[u8], at: usize) -> u16 {
    take::<2>(b, at).map_or(0, u16::from_le_bytes)
}
pub fn le_u32(b: &[u8], at: usize) -> u32 {
    take::<4>(b, at).map_or(0, u32::from_le_bytes)
}
pub fn le_u64(b: &[u8], at: usize) -> u64 {
    take::<8>(b, at).map_or(0, u64::from_le_bytes)
}

/// `N` bytes at `at`, if they are all inside `b`.
pub fn take<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Printable ASCII of `b`, other bytes escaped, for messages.
pub fn printable(b: &[u8]) -> String {
    b.iter()
        .flat_map(|c| std::ascii::escape_default(*c))
        .map(char::from)
        .collect()
}
