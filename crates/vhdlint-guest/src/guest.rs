//! One disk's guest: its layout, and the operating system its volumes hold, each looked for
//! once and only when asked. The lint's context, `vhdlint inspect`, `ls` and `cat` all read a
//! disk through it; the Linux guest's files are parsed once, by its [`crate::facts::Facts`].

use std::sync::{Arc, OnceLock};
use vhdlint_disk::timing::fact;

use vhdlint_disk::{Layout, SharedSource};

use crate::esp::EfiSystemPartition;
use crate::linux::{LinuxGuest, LinuxInspection};
use crate::unread::{UnreadOs, UnreadVolume};
use crate::windows::{WindowsGuest, WindowsInspection};
use crate::OsHint;

/// A disk's guest.
pub struct Guest {
    layout: Arc<Layout>,
    linux: OnceLock<LinuxInspection>,
    windows: OnceLock<WindowsInspection>,
    unread_os: OnceLock<Option<UnreadOs>>,
    esps: OnceLock<Vec<EfiSystemPartition>>,
}

impl Guest {
    /// The guest of a decoded layout.
    pub fn new(layout: Arc<Layout>) -> Self {
        Guest {
            layout,
            linux: OnceLock::new(),
            windows: OnceLock::new(),
            unread_os: OnceLock::new(),
            esps: OnceLock::new(),
        }
    }

    /// The guest of a disk: its partition table and volumes decoded now.
    pub fn read(disk: SharedSource) -> Self {
        Self::new(Arc::new(Layout::read(disk)))
    }

    /// A guest whose searches are already answered (`None`: searched when asked), for tests
    /// that put a guest held in memory on a disk.
    pub fn with_inspections(
        layout: Arc<Layout>,
        linux: Option<LinuxInspection>,
        windows: Option<WindowsInspection>,
    ) -> Self {
        let g = Self::new(layout);
        if let Some(l) = linux {
            let _ = g.linux.set(l);
        }
        if let Some(w) = windows {
            let _ = g.windows.set(w);
        }
        g
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The search for a Linux root, and its tree when found.
    pub fn linux(&self) -> &LinuxInspection {
        self.linux
            .get_or_init(|| fact("linux inspection", || crate::linux::inspect(&self.layout)))
    }

    /// The search for a Windows system volume.
    pub fn windows(&self) -> &WindowsInspection {
        self.windows.get_or_init(|| {
            fact("windows inspection", || {
                crate::windows::inspect(&self.layout)
            })
        })
    }

    /// The volumes that could hold an operating system's files but could not be read, with why
    /// ([`crate::unread::unread_volumes`]).
    pub fn unread_volumes(&self) -> Vec<UnreadVolume> {
        crate::unread::unread_volumes(&self.layout, self.linux(), self.windows())
    }

    /// Whether this is an OS disk whose system could not be read: no system found, a volume
    /// that could not be read, and signs of an operating system ([`crate::unread::unread_os`]).
    pub fn unread_os(&self) -> Option<&UnreadOs> {
        self.unread_os
            .get_or_init(|| {
                fact("unread volumes", || {
                    crate::unread::unread_os(&self.layout, self.linux(), self.windows())
                })
            })
            .as_ref()
    }

    /// The disk's EFI system partitions (GPT type `C12A7328-F81F-11D2-BA4B-00A0C93EC93B`, MBR
    /// type `0xEF`), in partition order, each with its FAT opened as a tree of its own
    /// ([`crate::esp`]): what a UEFI firmware reads, whatever the guest mounts.
    pub fn efi_system_partitions(&self) -> &[EfiSystemPartition] {
        self.esps.get_or_init(|| {
            fact("efi system partitions", || {
                crate::esp::efi_system_partitions(&self.layout)
            })
        })
    }

    /// What the volume signatures suggest about the OS.
    pub fn os_hint(&self) -> OsHint {
        crate::os_hint(&self.layout)
    }

    /// The Linux root, or every volume that was looked at and why it is not one (empty when
    /// the disk holds no Linux filesystem).
    pub fn linux_root(&self) -> Result<&LinuxGuest, Vec<String>> {
        let i = self.linux();
        i.guest.as_ref().ok_or_else(|| {
            i.candidates
                .iter()
                .map(|c| match &c.error {
                    Some(e) => format!("{} ({}): {e}", c.volume, c.filesystem),
                    None => format!(
                        "{} ({}): missing {}",
                        c.volume,
                        c.filesystem,
                        c.missing.join(", ")
                    ),
                })
                .collect()
        })
    }

    /// The Windows system volume, or every NTFS or BitLocker volume that was looked at and why
    /// it is not one (empty when the disk holds none).
    pub fn windows_system(&self) -> Result<&WindowsGuest, Vec<String>> {
        let w = self.windows();
        w.guest.as_ref().ok_or_else(|| {
            w.candidates
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.volume,
                        c.error
                            .clone()
                            .unwrap_or_else(|| "no \\Windows\\System32".into())
                    )
                })
                .collect()
        })
    }
}
