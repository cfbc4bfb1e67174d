//! Recognising the container format from its magic bytes.

use serde::Serialize;

use crate::source::ReadAt;

/// The container format of an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Microsoft VHD (fixed, dynamic or differencing; see the footer's disk type).
    Vhd,
    /// Hyper-V VHDX (`vhdxfile` at offset 0).
    Vhdx,
    /// qemu copy-on-write (`QFI\xfb` at offset 0).
    Qcow2,
    /// VMware hosted sparse extent (`KDMV`).
    VmdkSparse,
    /// VMware ESX sparse extent (`COWD`).
    VmdkCowd,
    /// VMware text descriptor.
    VmdkDescriptor,
    /// A raw disk: no container, but a partition table at the start.
    Raw,
    /// Nothing recognisable.
    Unknown,
}

impl Format {
    /// Short name, as the JSON facts report it.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Qcow2 => "qcow2",
            Format::VmdkSparse => "vmdk (sparse extent)",
            Format::VmdkCowd => "vmdk (ESX sparse extent)",
            Format::VmdkDescriptor => "vmdk (text descriptor)",
            Format::Raw => "raw",
            Format::Unknown => "unknown",
        }
    }
    /// The name `qemu-img -f` takes for this format, when qemu-img can read it.
    pub fn qemu_name(&self) -> Option<&'static str> {
        match self {
            Format::Vhd => Some("vpc"),
            Format::Vhdx => Some("vhdx"),
            Format::Qcow2 => Some("qcow2"),
            Format::VmdkSparse | Format::VmdkCowd | Format::VmdkDescriptor => Some("vmdk"),
            Format::Raw => Some("raw"),
            Format::Unknown => None,
        }
    }
}

/// What the magic bytes at the start of the file say, before the VHD footer is looked at.
pub fn sniff_start(src: &dyn ReadAt) -> Option<Format> {
    let head = src.read_upto(0, 4096).ok()?;
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"vhdxfile") {
        Some(Format::Vhdx)
    } else if starts(b"QFI\xfb") {
        Some(Format::Qcow2)
    } else if starts(b"KDMV") {
        Some(Format::VmdkSparse)
    } else if starts(b"COWD") {
        Some(Format::VmdkCowd)
    } else if is_vmdk_descriptor(&head) {
        Some(Format::VmdkDescriptor)
    } else {
        None
    }
}

/// Like qemu's probe: skip comments and blank lines; the first other line starts `version=`.
fn is_vmdk_descriptor(head: &[u8]) -> bool {
    // A descriptor may be padded with NULs to a sector; nothing but NULs may follow the text.
    let end = head.iter().position(|&b| b == 0).unwrap_or(head.len());
    if head[end..].iter().any(|&b| b != 0) {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&head[..end]) else {
        return false;
    };
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("version="))
}

/// Whether the first sectors look like a partitioned disk (MBR signature or GPT header).
pub fn looks_partitioned(src: &dyn ReadAt) -> bool {
    let Ok(b) = src.read_upto(0, 1024) else {
        return false;
    };
    b.get(510..512) == Some(&[0x55, 0xAA][..]) || b.get(512..520) == Some(&b"EFI PART"[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn magics() {
        let f = |b: &[u8]| sniff_start(&MemSource::new(b.to_vec()));
        assert_eq!(f(b"vhdxfile\0\0"), Some(Format::Vhdx));
        assert_eq!(f(b"QFI\xfb\0\0\0\x03"), Some(Format::Qcow2));
        assert_eq!(f(b"KDMV...."), Some(Format::VmdkSparse));
        assert_eq!(
            f(b"# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"),
            Some(Format::VmdkDescriptor)
        );
        assert_eq!(
            f(b"# Disk DescriptorFile\nversion=1\n\0\0\0"),
            Some(Format::VmdkDescriptor)
        );
        assert_eq!(f(b"version=1\n\0\0x"), None);
        assert_eq!(f(b"hello"), None);
        assert_eq!(f(b""), None);
    }
}
