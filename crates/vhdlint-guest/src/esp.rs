//! The EFI system partitions of a disk: every partition whose type says so (GPT
//! `C12A7328-F81F-11D2-BA4B-00A0C93EC93B`, MBR `0xEF`), its FAT filesystem opened read-only
//! ([`crate::fs::fat`]) and shown as a tree of its own, `\EFI\BOOT\BOOTX64.EFI` at
//! `/EFI/BOOT/BOOTX64.EFI`. Names are looked up without regard to case, as UEFI firmware and
//! Windows read FAT, so `/efi/boot/bootx64.efi` names the same file; listings give the names as
//! stored.
//!
//! This is what a firmware sees, whatever the operating system mounts: a Linux guest's own
//! fstab may also mount the ESP (at `/boot/efi`), which is then part of its view too.

use std::sync::Arc;

use serde::Serialize;
use vhdlint_disk::layout::Layout;
use vhdlint_disk::probe::FsKind;

use crate::fs::fat::FatFs;
use crate::fs::Filesystem;
use crate::view::{GuestView, Mount};

/// One EFI system partition.
#[derive(Clone, Serialize)]
pub struct EfiSystemPartition {
    /// The volume (`p1`).
    pub volume: String,
    /// The partition number in its table.
    pub partition: u32,
    /// Byte offset of the partition on the disk.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// The partition type as the table names it (`EFI System (C12A7328-…)`, `EFI System (0xef)`).
    pub part_type: String,
    /// What the volume's signature says it holds (`vfat`, `ext4`, `unknown`…).
    pub filesystem: &'static str,
    /// `FAT12`, `FAT16` or `FAT32`, when the FAT was opened.
    pub fat_type: Option<&'static str>,
    /// The volume serial number as blkid shows it (`D12E-5F01`), when the FAT was opened.
    pub serial: Option<String>,
    /// Why its files cannot be read (no FAT filesystem, a damaged one).
    pub error: Option<String>,
    /// Its files, the FAT mounted at `/` (`None` when it could not be opened: see `error`).
    #[serde(skip)]
    pub view: Option<GuestView>,
}

impl std::fmt::Debug for EfiSystemPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EfiSystemPartition")
            .field("volume", &self.volume)
            .field("offset", &self.offset)
            .field("fat_type", &self.fat_type)
            .field("error", &self.error)
            .finish()
    }
}

impl EfiSystemPartition {
    /// Where `path` of this partition is, for evidence: `p1 (EFI system partition at byte
    /// 1048576): \EFI\BOOT\BOOTX64.EFI`.
    pub fn describe(&self, path: &str) -> String {
        format!(
            "{} (EFI system partition at byte {}): {}",
            self.volume,
            self.offset,
            path.replace('/', "\\")
        )
    }
}

/// The EFI system partitions of `layout`, in partition order, each opened when it holds FAT.
pub fn efi_system_partitions(layout: &Layout) -> Vec<EfiSystemPartition> {
    let mut out = Vec::new();
    for v in &layout.volumes {
        let Some(p) = layout.partition(v) else {
            continue;
        };
        if !p.part_type.is_efi_system() {
            continue;
        }
        let mut esp = EfiSystemPartition {
            volume: v.id.clone(),
            partition: p.number,
            offset: p.start(),
            size: v.size,
            part_type: p.part_type.name(),
            filesystem: v.probe.kind.name(),
            fat_type: None,
            serial: None,
            error: None,
            view: None,
        };
        if v.probe.kind != FsKind::Fat {
            esp.error = Some(format!(
                "{}: the EFI system partition holds no FAT filesystem (its signature: {})",
                v.id,
                v.probe.kind.name()
            ));
        } else {
            match FatFs::open(v.source.clone()) {
                Ok(fat) => {
                    esp.fat_type = Some(fat.fat_type());
                    let id = fat.volume_id();
                    esp.serial = Some(format!("{:04X}-{:04X}", id >> 16, id & 0xffff));
                    let fs: Arc<dyn Filesystem> = Arc::new(fat);
                    esp.view = Some(GuestView::new(Mount {
                        point: "/".into(),
                        volume: v.id.clone(),
                        reason: "EFI system partition".into(),
                        fs,
                    }));
                }
                Err(e) => esp.error = Some(format!("{}: {e}", v.id)),
            }
        }
        out.push(esp);
    }
    out
}
