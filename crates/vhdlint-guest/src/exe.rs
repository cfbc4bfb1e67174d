//! The few bytes of executable headers the architecture checks read: the PE/COFF machine of
//! a Windows kernel and the ELF class and machine of a Linux init.

/// The COFF header of a PE file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeHeader {
    /// Offset of the `PE\0\0` signature (the MZ header's e_lfanew).
    pub signature_at: usize,
    /// The COFF machine field.
    pub machine: u16,
}

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExeError {
    #[error("not a PE file (no MZ header)")]
    NoMz,
    #[error("no PE signature at e_lfanew {0:#x}")]
    NoPeSignature(usize),
    #[error("not an ELF file")]
    NotElf,
}

/// Reads the PE/COFF machine from the first bytes of a file (4 KiB holds the headers of any
/// file a linker writes).
pub fn pe_header(b: &[u8]) -> Result<PeHeader, ExeError> {
    if b.len() < 0x40 || &b[..2] != b"MZ" {
        return Err(ExeError::NoMz);
    }
    let pe = u32::from_le_bytes([b[0x3C], b[0x3D], b[0x3E], b[0x3F]]) as usize;
    match b.get(pe..pe.saturating_add(6)) {
        Some(h) if pe.checked_add(6).is_some() && &h[..4] == b"PE\0\0" => Ok(PeHeader {
            signature_at: pe,
            machine: u16::from_le_bytes([h[4], h[5]]),
        }),
        _ => Err(ExeError::NoPeSignature(pe)),
    }
}

/// The name of a COFF machine value.
pub fn pe_machine_name(m: u16) -> &'static str {
    match m {
        0x8664 => "x64",
        0xAA64 => "ARM64",
        0x014C => "i386",
        0x0200 => "IA-64",
        0x01C4 => "ARM (Thumb-2)",
        _ => "unknown",
    }
}

/// The identification of an ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfHeader {
    /// EI_CLASS: 1 = 32-bit, 2 = 64-bit.
    pub class: u8,
    /// e_machine, in the file's byte order.
    pub machine: u16,
}

impl ElfHeader {
    pub fn class_name(&self) -> &'static str {
        match self.class {
            1 => "32-bit",
            2 => "64-bit",
            _ => "unknown class",
        }
    }
}

/// Reads the ELF class and machine from the first 20 bytes of a file.
pub fn elf_header(h: &[u8]) -> Result<ElfHeader, ExeError> {
    if h.len() < 20 || &h[0..4] != b"\x7fELF" {
        return Err(ExeError::NotElf);
    }
    let machine = if h[5] == 2 {
        u16::from_be_bytes([h[18], h[19]])
    } else {
        u16::from_le_bytes([h[18], h[19]])
    };
    Ok(ElfHeader {
        class: h[4],
        machine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pe_machine_is_read_after_e_lfanew() {
        let mut b = vec![0u8; 0x100];
        b[..2].copy_from_slice(b"MZ");
        b[0x3C] = 0x80;
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(
            pe_header(&b),
            Ok(PeHeader {
                signature_at: 0x80,
                machine: 0x8664
            })
        );
        b[0x3C..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            pe_header(&b),
            Err(ExeError::NoPeSignature(u32::MAX as usize))
        );
        assert_eq!(pe_header(b"MZ"), Err(ExeError::NoMz));
    }

    #[test]
    fn elf_machine_follows_the_byte_order() {
        let mut h = vec![0u8; 20];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[18] = 0x3E;
        assert_eq!(elf_header(&h).unwrap().machine, 0x3E);
        h[5] = 2;
        assert_eq!(elf_header(&h).unwrap().machine, 0x3E00);
        assert_eq!(elf_header(&h[..19]), Err(ExeError::NotElf));
    }
}
