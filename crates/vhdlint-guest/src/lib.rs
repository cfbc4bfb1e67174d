//! The guest's view of a disk, read offline: which operating system its volumes hold
//! ([`os_hint`], from their signatures), and what is inside them. Its filesystems (ext4, XFS,
//! NTFS) are read without mounting; a Linux root is joined with the volumes its own fstab
//! mounts into one tree ([`linux`], [`view`]), a Windows system volume is found with its
//! registry hives ([`windows`], [`registry`]). Configuration files ([`config`]), the package
//! databases ([`packages`]), the initramfs ([`initramfs`]) and executable headers ([`exe`]) are
//! parsed, versions ordered ([`version`]), and the facts several checks share read once
//! ([`facts`]). The EFI system partitions are opened as FAT trees of their own ([`esp`]).
//!
//! Image contents are hostile: every read is bounded by [`limits`], nothing panics, and what
//! could not be read is reported as a [`note::Note`].

pub mod authenticode;
pub mod config;
pub mod devices;
pub mod esp;
pub mod exe;
pub mod facts;
pub mod guest;
pub mod initramfs;
pub mod kmod;
pub mod limits;
pub mod linux;
pub mod note;
pub mod packages;
pub mod pe_version;
pub mod registry;
pub mod unread;
pub mod version;
pub mod view;
pub mod windows;

/// The filesystem readers and their trait, from `vhdlint-fs`: `vhdlint_guest::fs::…` names the
/// same items as `vhdlint_fs::…`.
pub use vhdlint_fs as fs;

use serde::{Deserialize, Serialize};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::Layout;

/// The operating system family a disk appears to hold, or that a SKU manifest declares
/// (`os = "linux"`): `linux` or `windows`, in JSON and TOML alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Linux,
    Windows,
}

/// What the volume signatures suggest, with the volumes that say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsHint {
    pub family: Option<OsFamily>,
    /// Volume ids and what they hold, e.g. `p1 (ext4)`.
    pub evidence: Vec<String>,
}

/// Judges the OS family from the volumes: a Linux filesystem means Linux, an NTFS or
/// BitLocker volume (without a Linux filesystem) means Windows, nothing means no OS.
pub fn os_hint(layout: &Layout) -> OsHint {
    let describe = |v: &vhdlint_disk::Volume| format!("{} ({})", v.id, v.probe.kind.name());
    let linux: Vec<String> = layout
        .volumes
        .iter()
        .filter(|v| v.probe.kind.is_linux_fs())
        .map(describe)
        .collect();
    if !linux.is_empty() {
        return OsHint {
            family: Some(OsFamily::Linux),
            evidence: linux,
        };
    }
    let windows: Vec<String> = layout
        .volumes
        .iter()
        .filter(|v| matches!(v.probe.kind, FsKind::Ntfs | FsKind::Bitlocker))
        .map(describe)
        .collect();
    if !windows.is_empty() {
        return OsHint {
            family: Some(OsFamily::Windows),
            evidence: windows,
        };
    }
    OsHint {
        family: None,
        evidence: Vec::new(),
    }
}
