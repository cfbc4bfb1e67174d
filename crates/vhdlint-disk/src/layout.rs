//! The disk's layout: its partition table (MBR with EBR chains, or GPT with its protective
//! MBR) and the volumes it holds (partitions, LVM2 logical volumes), each probed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::gpt::{self, Gpt};
use crate::guid::Guid;
use crate::lvm::{self, LvSource, PhysicalVolume, VolumeGroup};
use crate::mbr::{self, Mbr, TABLE_AT};
use crate::probe::{probe, FsKind, Probe};
use crate::source::{ReadAt, SharedSource, Slice};
use crate::{disklabel, guid, SECTOR};

pub const GPT_EFI_SYSTEM: Guid = guid!("C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
pub const GPT_BIOS_BOOT: Guid = guid!("21686148-6449-6E6F-744E-656564454649");
pub const GPT_LINUX_SWAP: Guid = guid!("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
pub const GPT_LINUX_LVM: Guid = guid!("E6D6D379-F507-44C2-A23C-238F2A3DF928");
pub const GPT_LINUX_XBOOTLDR: Guid = guid!("BC13C2FF-59E6-4262-A352-B275FD6F7172");
pub const GPT_MS_RESERVED: Guid = guid!("E3C9E316-0B5C-4DB8-817D-F92DF00215AE");
pub const GPT_WINDOWS_RECOVERY: Guid = guid!("DE94BBA4-06D1-4D40-A16A-BFD50179D6AC");
pub const GPT_MS_BASIC_DATA: Guid = guid!("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
pub const GPT_LINUX_FS: Guid = guid!("0FC63DAF-8483-4772-8E79-3D69D8477DE4");
pub const GPT_LINUX_ROOT_X86_64: Guid = guid!("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
pub const GPT_LINUX_ROOT_ARM64: Guid = guid!("B921B045-1DF0-41C3-AF44-4C6F280D3FAE");
pub const GPT_LINUX_USR_X86_64: Guid = guid!("8484680C-9521-48C6-9C11-B0720656F69E");

const GPT_NAMES: &[(Guid, &str)] = &[
    (GPT_EFI_SYSTEM, "EFI System"),
    (GPT_BIOS_BOOT, "BIOS boot"),
    (GPT_MS_BASIC_DATA, "Microsoft basic data"),
    (GPT_MS_RESERVED, "Microsoft reserved"),
    (GPT_WINDOWS_RECOVERY, "Windows recovery environment"),
    (GPT_LINUX_SWAP, "Linux swap"),
    (GPT_LINUX_FS, "Linux filesystem"),
    (GPT_LINUX_LVM, "Linux LVM"),
    (guid!("A19D880F-05FC-4D3B-A006-743F0F84911E"), "Linux RAID"),
    (GPT_LINUX_ROOT_X86_64, "Linux root (x86-64)"),
    (GPT_LINUX_ROOT_ARM64, "Linux root (ARM-64)"),
    (GPT_LINUX_USR_X86_64, "Linux /usr (x86-64)"),
    (guid!("933AC7E1-2EB4-4F13-B844-0E14E2AEF915"), "Linux home"),
    (GPT_LINUX_XBOOTLDR, "Linux extended boot"),
];

/// Bytes read from the start of the disk to tell a partition table from a boot sector: 12
/// sectors of 4 KiB, the most exFAT's boot checksum covers.
const EXFAT_BOOT_REGION: usize = 12 * 4096;

/// The partitioning scheme of the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// No partition table (empty disk, or a filesystem on the whole disk).
    None,
    Mbr,
    Gpt,
    /// A BSD disklabel on the whole disk (no MBR).
    Bsd,
    /// An SGI volume header (IRIX `dvh`).
    Sgi,
    /// A Sun (Solaris SPARC) VTOC label.
    Sun,
}

/// A partition's type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartType {
    Mbr(u8),
    Gpt(Guid),
    /// A BSD disklabel's `p_fstype`.
    Bsd(u8),
    /// An SGI volume header's partition type.
    Sgi(u32),
    /// A Sun VTOC tag.
    Sun(u16),
}

impl PartType {
    pub fn name(&self) -> String {
        match self {
            PartType::Mbr(t) => {
                match t {
                    0x01 => "FAT12",
                    0x04 | 0x06 | 0x0e => "FAT16",
                    0x05 | 0x0f | 0x85 => "extended",
                    0x07 => "HPFS/NTFS/exFAT",
                    0x0b | 0x0c => "W95 FAT32",
                    0x27 => "Windows recovery",
                    0x82 => "Linux swap",
                    0x83 => "Linux",
                    0x8e => "Linux LVM",
                    0xee => "GPT protective",
                    0xa5 => "FreeBSD",
                    0xa6 => "OpenBSD",
                    0xa9 => "NetBSD",
                    0xef => "EFI System",
                    0xfd => "Linux RAID autodetect",
                    _ => "other",
                }
                .to_string()
                    + &format!(" ({t:#04x})")
            }
            PartType::Gpt(g) => GPT_NAMES
                .iter()
                .find(|(x, _)| x == g)
                .map_or_else(|| g.to_string(), |(_, n)| format!("{n} ({g})")),
            PartType::Bsd(t) => format!("{} ({t})", disklabel::bsd_type_name(u32::from(*t))),
            PartType::Sgi(t) => format!("{} ({t:#x})", disklabel::sgi_type_name(*t)),
            PartType::Sun(t) => format!("{} ({t:#x})", disklabel::sun_type_name(u32::from(*t))),
        }
    }
    pub fn is_swap(&self) -> bool {
        matches!(
            self,
            PartType::Mbr(0x82) | PartType::Sgi(0x82) | PartType::Sun(0x82)
        ) || *self == PartType::Gpt(GPT_LINUX_SWAP)
    }
    pub fn is_lvm(&self) -> bool {
        matches!(
            self,
            PartType::Mbr(0x8e) | PartType::Sgi(0x8e) | PartType::Sun(0x8e)
        ) || *self == PartType::Gpt(GPT_LINUX_LVM)
    }
    pub fn is_efi_system(&self) -> bool {
        *self == PartType::Mbr(0xef) || *self == PartType::Gpt(GPT_EFI_SYSTEM)
    }
    pub fn is_bios_boot(&self) -> bool {
        *self == PartType::Gpt(GPT_BIOS_BOOT)
    }
    /// A type a Linux root (or what it is assembled from: LVM, /usr) is made on: MBR Linux
    /// (0x83) and Linux LVM (0x8e); GPT Linux filesystem, LVM, root and /usr.
    pub fn holds_linux_root(&self) -> bool {
        match self {
            PartType::Mbr(t) => matches!(t, 0x83 | 0x8e),
            PartType::Sgi(t) => matches!(t, 0x83 | 0x8e),
            PartType::Sun(t) => matches!(t, 0x83 | 0x8e),
            PartType::Bsd(_) => false,
            PartType::Gpt(g) => [
                GPT_LINUX_FS,
                GPT_LINUX_LVM,
                GPT_LINUX_ROOT_X86_64,
                GPT_LINUX_ROOT_ARM64,
                GPT_LINUX_USR_X86_64,
            ]
            .contains(g),
        }
    }
    /// A type a Windows system volume is made on: MBR HPFS/NTFS/exFAT (0x07), GPT Microsoft
    /// basic data.
    pub fn holds_windows_system(&self) -> bool {
        *self == PartType::Mbr(0x07) || *self == PartType::Gpt(GPT_MS_BASIC_DATA)
    }
}

/// One partition (primary, logical or GPT entry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partition {
    /// 1..=4 primary, 5.. logical (as Linux numbers them), or the GPT entry number.
    pub number: u32,
    pub part_type: PartType,
    pub type_name: String,
    pub start_lba: u64,
    pub sectors: u64,
    pub bootable: bool,
    /// GPT partition name.
    pub name: Option<String>,
    /// The partition's PARTUUID: the GPT unique GUID, or for MBR `SSSSSSSS-NN` (disk
    /// signature and partition number, as Linux forms it).
    pub partuuid: String,
    /// Byte offset (in the guest disk) of the entry that describes the partition.
    pub entry_offset: u64,
    /// An extended partition (a container of logical ones, not a volume).
    pub container: bool,
    /// For a partition of a label nested in an MBR slice (a BSD disklabel in a FreeBSD,
    /// OpenBSD or NetBSD partition): the number of that MBR partition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested_in: Option<u32>,
}

impl Partition {
    pub fn start(&self) -> u64 {
        self.start_lba.saturating_mul(SECTOR)
    }
    pub fn size(&self) -> u64 {
        self.sectors.saturating_mul(SECTOR)
    }
}

/// The partition table and every defect it has.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionTable {
    pub scheme: Scheme,
    pub partitions: Vec<Partition>,
    /// A protective MBR that also lists other partitions.
    pub hybrid_mbr: bool,
    pub findings: Vec<Finding>,
    /// Why sector 0, though it ends in 55AA, is not read as an MBR (libblkid's rules: a FAT,
    /// exFAT or NTFS boot sector, boot code where the status bytes are…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_mbr: Option<String>,
    #[serde(skip)]
    pub mbr: Option<Mbr>,
    pub gpt: Option<Gpt>,
}

/// Where a volume comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VolumeOrigin {
    WholeDisk,
    Partition { number: u32 },
    LogicalVolume { vg: String, lv: String },
}

/// A volume: something that can hold a filesystem.
#[derive(Clone, Serialize)]
pub struct Volume {
    /// Short identifier: `disk`, `p2`, `vg0/root`.
    pub id: String,
    pub origin: VolumeOrigin,
    /// Byte offset on the guest disk (not for logical volumes).
    pub offset: Option<u64>,
    pub size: u64,
    pub probe: Probe,
    #[serde(skip)]
    pub source: SharedSource,
}

impl std::fmt::Debug for Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Volume")
            .field("id", &self.id)
            .field("probe", &self.probe)
            .finish()
    }
}

/// Everything decoded from the guest disk below the filesystems.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub disk_size: u64,
    pub table: PartitionTable,
    pub volumes: Vec<Volume>,
    pub physical_volumes: Vec<PhysicalVolume>,
    pub volume_groups: Vec<VolumeGroup>,
    /// LVM2 defects outside any one PV (metadata that does not parse, missing PVs).
    pub lvm_findings: Vec<Finding>,
}

impl PartitionTable {
    /// Reads the partition table of `disk`.
    pub fn read(disk: &dyn ReadAt) -> PartitionTable {
        let mut t = PartitionTable {
            scheme: Scheme::None,
            partitions: Vec::new(),
            hybrid_mbr: false,
            findings: Vec::new(),
            not_mbr: None,
            mbr: None,
            gpt: None,
        };
        let total = disk.size() / SECTOR;
        let mut lba0 = [0u8; 512];
        if let Err(e) = disk.read_at(0, &mut lba0) {
            t.findings
                .push(Finding::fail(0u64, format!("sector 0 cannot be read: {e}")));
            return t;
        }
        let mbr = Mbr::parse(&lba0);
        let protective = mbr
            .signature_ok
            .then(|| mbr.protective_entry().copied())
            .flatten();
        if protective.is_some() || gpt::has_signature(disk) {
            t.scheme = Scheme::Gpt;
            match protective {
                None => t.findings.push(Finding::fail(
                    TABLE_AT as u64,
                    "GPT disk without a protective MBR (no 0xEE entry in sector 0)",
                )),
                Some(p) => {
                    let at = (TABLE_AT + 16 * p.slot) as u64;
                    if p.start_lba != 1 {
                        t.findings.push(Finding::fail(
                            at,
                            format!("protective MBR entry starts at LBA {}, not 1", p.start_lba),
                        ));
                    }
                    let want = total.saturating_sub(1).min(u64::from(u32::MAX));
                    if u64::from(p.sectors) != want {
                        t.findings.push(Finding::note(
                            at,
                            format!(
                                "protective MBR entry covers {} sectors, not {want}",
                                p.sectors
                            ),
                        ));
                    }
                    if mbr.entries.iter().any(|e| !e.is_empty() && e.kind != 0xEE) {
                        t.hybrid_mbr = true;
                        t.findings.push(Finding::warning(
                            TABLE_AT as u64,
                            "hybrid MBR: the protective MBR also lists other partitions",
                        ));
                    }
                }
            }
            let g = gpt::read(disk);
            t.findings.extend(g.findings.iter().cloned());
            let entries_at = |n: u32| {
                let h = match g.used {
                    Some("backup") => g.backup.as_ref().map_or(&g.primary.header, |b| &b.header),
                    _ => &g.primary.header,
                };
                h.entries_lba.saturating_mul(SECTOR)
                    + u64::from(n.saturating_sub(1)) * u64::from(h.entry_size)
            };
            t.partitions = g
                .entries()
                .iter()
                .map(|e| Partition {
                    number: e.number,
                    part_type: PartType::Gpt(e.type_guid),
                    type_name: PartType::Gpt(e.type_guid).name(),
                    start_lba: e.first_lba,
                    sectors: e.last_lba.saturating_sub(e.first_lba).saturating_add(1),
                    bootable: e.attributes & 4 != 0,
                    name: Some(e.name.clone()).filter(|n| !n.is_empty()),
                    partuuid: e.unique_guid.to_string().to_lowercase(),
                    entry_offset: entries_at(e.number),
                    container: false,
                    nested_in: None,
                })
                .collect();
            if g.used.is_none() {
                t.findings.push(Finding::fail(
                    SECTOR,
                    "neither the primary nor the backup GPT is valid; no partitions can be read",
                ));
            }
            t.mbr = Some(mbr);
            t.gpt = Some(g);
            return t;
        }
        // libblkid looks for SGI and Sun labels before an MBR: each has its magic and a
        // checksum over the sector.
        if let Some(entries) = disklabel::read_sgi(&lba0) {
            t.scheme = Scheme::Sgi;
            label_partitions(&mut t, entries, total);
            return t;
        }
        if let Some(entries) = disklabel::read_sun(&lba0) {
            t.scheme = Scheme::Sun;
            label_partitions(&mut t, entries, total);
            return t;
        }
        let whole = probe(disk);
        let head = disk.read_upto(0, EXFAT_BOOT_REGION).unwrap_or_default();
        if let Some(why) = mbr::not_a_table(&head, whole.kind) {
            // A BSD disklabel on the whole disk, as libblkid finds it after the MBR.
            if let Some((_, entries)) = disklabel::read_bsd(disk, 0) {
                t.scheme = Scheme::Bsd;
                label_partitions(&mut t, entries, total);
                return t;
            }
            // No table: a filesystem on the whole disk, a boot sector, or nothing.
            t.not_mbr = mbr.signature_ok.then_some(why);
            return t;
        }
        t.scheme = Scheme::Mbr;
        read_mbr_partitions(disk, &mbr, total, &mut t);
        t.mbr = Some(mbr);
        if whole.kind.is_signature() {
            let off = whole.magic_offset.unwrap_or(0);
            let name = whole.kind.name();
            let listed = t.partitions.iter().any(|p| !p.container);
            t.findings.push(Finding::warning(
                off,
                if listed {
                    format!(
                        "the whole disk also carries a signature ({name}, at byte {off}) beside the MBR: the kernel and blkid read the MBR's partitions and blkid -p reports both; a stale signature is removed with wipefs -o {off:#x}"
                    )
                } else {
                    format!(
                        "the MBR lists no partition: the signature on the whole disk ({name}, at byte {off}) makes it the disk's only volume"
                    )
                },
            ));
        }
        t
    }

    /// The whole disk is a volume of its own: there is no partition table, or an MBR that
    /// lists no partition beside a signature on the whole disk.
    fn whole_disk_volume(&self, whole: &Probe) -> bool {
        let listed = self.partitions.iter().any(|p| !p.container);
        match self.scheme {
            Scheme::None => true,
            Scheme::Mbr => whole.kind.is_signature() && !listed,
            Scheme::Gpt => false,
            // A label that lists nothing beside a signature on the whole disk.
            Scheme::Bsd | Scheme::Sgi | Scheme::Sun => whole.kind.is_signature() && !listed,
        }
    }
}

fn read_mbr_partitions(disk: &dyn ReadAt, mbr: &Mbr, total: u64, t: &mut PartitionTable) {
    for e in &mbr.entries {
        let at = (TABLE_AT + 16 * e.slot) as u64;
        // An entry is a partition when it has sectors, whatever its type (0x00 included), as
        // the kernel, blkid and fdisk count them; one with a type and no sectors is ignored.
        if e.sectors == 0 {
            if !e.is_empty() {
                t.findings.push(Finding::warning(
                    at,
                    format!(
                        "MBR entry {} (type {:#04x}) has zero sectors; the kernel, blkid and fdisk ignore it",
                        e.slot + 1,
                        e.kind
                    ),
                ));
            }
            continue;
        }
        t.partitions.push(Partition {
            number: e.slot as u32 + 1,
            part_type: PartType::Mbr(e.kind),
            type_name: PartType::Mbr(e.kind).name(),
            start_lba: u64::from(e.start_lba),
            sectors: u64::from(e.sectors),
            bootable: e.status == 0x80,
            name: None,
            partuuid: format!("{:08x}-{:02x}", mbr.disk_signature, e.slot + 1),
            entry_offset: at,
            container: e.is_extended(),
            nested_in: None,
        });
    }
    // Logical partitions come after every primary one, numbered from 5 across every extended
    // partition, as blkid and fdisk list them.
    let mut next_logical = 5;
    for (n, e) in mbr
        .entries
        .iter()
        .filter(|e| e.sectors != 0 && e.is_extended())
        .enumerate()
    {
        if n > 0 {
            t.findings.push(Finding::fail(
                (TABLE_AT + 16 * e.slot) as u64,
                "more than one extended partition in the MBR",
            ));
        }
        let (logicals, findings) = mbr::read_ebr_chain(disk, e);
        t.findings.extend(findings);
        for l in &logicals {
            let number = next_logical;
            next_logical += 1;
            t.partitions.push(Partition {
                number,
                part_type: PartType::Mbr(l.kind),
                type_name: PartType::Mbr(l.kind).name(),
                start_lba: l.start_lba,
                sectors: l.sectors,
                bootable: l.status == 0x80,
                name: None,
                partuuid: format!("{:08x}-{:02x}", mbr.disk_signature, number),
                entry_offset: l.ebr_lba * SECTOR + TABLE_AT as u64 + 16 * l.slot as u64,
                container: false,
                nested_in: None,
            });
        }
    }
    read_nested_labels(disk, mbr, &mut next_logical, t);
    past_the_end(t, total);
    for p in t.partitions.iter().filter(|p| p.nested_in.is_none()) {
        if p.start_lba == 0 && p.sectors > 0 {
            t.findings.push(Finding::fail(
                p.entry_offset,
                format!("partition {} starts at LBA 0, over the MBR", p.number),
            ));
        }
    }
    let mut spans: Vec<(u64, u64, u32)> = t
        .partitions
        .iter()
        .filter(|p| !p.container && p.sectors > 0 && p.nested_in.is_none())
        .map(|p| (p.start_lba, p.start_lba.saturating_add(p.sectors), p.number))
        .collect();
    spans.sort_unstable();
    for w in spans.windows(2) {
        if w[1].0 < w[0].1 {
            let off = t
                .partitions
                .iter()
                .find(|p| p.number == w[1].2)
                .map_or(0, |p| p.entry_offset);
            t.findings.push(Finding::fail(
                off,
                format!(
                    "partitions {} and {} overlap at LBA {}",
                    w[0].2, w[1].2, w[1].0
                ),
            ));
        }
    }
    // Primary partitions must not overlap the extended container unless they are inside it.
    for c in t.partitions.iter().filter(|p| p.container) {
        let (cs, ce) = (c.start_lba, c.start_lba.saturating_add(c.sectors));
        for p in t
            .partitions
            .iter()
            .filter(|p| !p.container && p.number <= 4)
        {
            let (ps, pe) = (p.start_lba, p.start_lba.saturating_add(p.sectors));
            if ps < ce && cs < pe {
                t.findings.push(Finding::fail(
                    p.entry_offset,
                    format!(
                        "primary partition {} overlaps the extended partition {}",
                        p.number, c.number
                    ),
                ));
            }
        }
    }
}

/// Partitions of BSD disklabels nested in MBR FreeBSD (0xA5), OpenBSD (0xA6) and NetBSD (0xA9)
/// primary partitions, numbered after the logical ones as the kernel and libblkid number them.
/// Like libblkid, an entry that repeats its slice or does not lie inside it is left out, and
/// disks of a floppy's size or less are not looked into.
fn read_nested_labels(disk: &dyn ReadAt, mbr: &Mbr, next: &mut u32, t: &mut PartitionTable) {
    if disk.size() <= TINY_DISK {
        return;
    }
    for e in &mbr.entries {
        if e.sectors == 0 || e.is_extended() || !matches!(e.kind, 0xa5 | 0xa6 | 0xa9) {
            continue;
        }
        let (start, sectors) = (u64::from(e.start_lba), u64::from(e.sectors));
        let Some((_, entries)) = disklabel::read_bsd(disk, start) else {
            continue;
        };
        for l in entries {
            let same = l.start_lba == start && l.sectors == sectors;
            let inside =
                l.start_lba >= start && l.start_lba.saturating_add(l.sectors) <= start + sectors;
            if same || !inside {
                continue;
            }
            let kind = PartType::Bsd(l.kind as u8);
            t.partitions.push(Partition {
                number: *next,
                part_type: kind,
                type_name: kind.name(),
                start_lba: l.start_lba,
                sectors: l.sectors,
                bootable: false,
                name: None,
                partuuid: String::new(),
                entry_offset: l.entry_offset,
                container: false,
                nested_in: Some(e.slot as u32 + 1),
            });
            *next += 1;
        }
    }
}

/// libblkid's "tiny" device (a floppy: 1440 KiB or less), where it reads no nested label.
const TINY_DISK: u64 = 1440 * 1024;

/// A finding for each partition that runs past the end of the disk.
fn past_the_end(t: &mut PartitionTable, total: u64) {
    for p in &t.partitions {
        let end = p.start_lba.saturating_add(p.sectors);
        if end > total {
            t.findings.push(Finding::fail(
                p.entry_offset,
                format!(
                    "partition {} (LBA {}..{end}) runs past the end of the disk ({total} sectors)",
                    p.number, p.start_lba
                ),
            ));
        }
    }
}

/// The partitions of a Sun, SGI or whole-disk BSD label: Sun and SGI ones numbered by their
/// slot, BSD ones one after the other, as libblkid and the kernel number them. They carry no
/// PARTUUID (libblkid gives none for these labels).
fn label_partitions(t: &mut PartitionTable, entries: Vec<disklabel::LabelEntry>, total: u64) {
    let scheme = t.scheme;
    t.partitions = entries
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let (number, kind) = match scheme {
                Scheme::Sgi => (l.slot as u32 + 1, PartType::Sgi(l.kind)),
                Scheme::Sun => (l.slot as u32 + 1, PartType::Sun(l.kind as u16)),
                _ => (i as u32 + 1, PartType::Bsd(l.kind as u8)),
            };
            Partition {
                number,
                part_type: kind,
                type_name: kind.name(),
                start_lba: l.start_lba,
                sectors: l.sectors,
                bootable: false,
                name: None,
                partuuid: String::new(),
                entry_offset: l.entry_offset,
                container: false,
                nested_in: None,
            }
        })
        .collect();
    past_the_end(t, total);
}

impl Layout {
    /// Reads the table, the volumes it holds and the LVM2 logical volumes on them.
    pub fn read(disk: SharedSource) -> Layout {
        let table = PartitionTable::read(disk.as_ref());
        let disk_size = disk.size();
        let mut volumes = Vec::new();
        // A GPT disk is never a volume of its own: its whole-disk signature is not read.
        let whole = (table.scheme != Scheme::Gpt).then(|| probe(disk.as_ref()));
        if let Some(whole) = whole.filter(|w| table.whole_disk_volume(w)) {
            volumes.push(Volume {
                id: "disk".into(),
                origin: VolumeOrigin::WholeDisk,
                offset: Some(0),
                size: disk_size,
                probe: whole,
                source: disk.clone(),
            });
        }
        for p in table.partitions.iter().filter(|p| !p.container) {
            let start = p.start().min(disk_size);
            let size = p.size().min(disk_size - start);
            let src: SharedSource = Arc::new(Slice::new(
                disk.clone(),
                start,
                size,
                format!("partition {}", p.number),
            ));
            volumes.push(Volume {
                id: format!("p{}", p.number),
                origin: VolumeOrigin::Partition { number: p.number },
                offset: Some(start),
                size,
                probe: probe(src.as_ref()),
                source: src,
            });
        }
        let mut layout = Layout {
            disk_size,
            table,
            volumes,
            physical_volumes: Vec::new(),
            volume_groups: Vec::new(),
            lvm_findings: Vec::new(),
        };
        layout.read_lvm();
        layout
    }

    fn read_lvm(&mut self) {
        // PV UUID → volume source.
        let mut by_uuid: BTreeMap<String, SharedSource> = BTreeMap::new();
        let mut texts: BTreeMap<String, (String, u64)> = BTreeMap::new();
        for v in self
            .volumes
            .iter()
            .filter(|v| v.probe.kind == FsKind::LvmPv)
        {
            let Some(sector) = lvm::find_label(v.source.as_ref()) else {
                continue;
            };
            let mut pv = lvm::read_pv(v.source.as_ref(), sector);
            pv.volume = v.id.clone();
            by_uuid.insert(pv.uuid.clone(), v.source.clone());
            if let Some(text) = &pv.metadata {
                match lvm::volume_group(text, v.offset.unwrap_or(0)) {
                    Ok(vg) => {
                        // Keep the newest copy of each VG's metadata.
                        let newer = texts.get(&vg.name).is_none_or(|(t, _)| {
                            lvm::volume_group(t, 0).map_or(true, |old| old.seqno < vg.seqno)
                        });
                        if newer {
                            texts.insert(vg.name.clone(), (text.clone(), v.offset.unwrap_or(0)));
                        }
                    }
                    Err(f) => {
                        pv.unread = Some(f.message.clone());
                        self.lvm_findings.push(Finding {
                            message: format!("{}: {}", v.id, f.message),
                            ..f
                        })
                    }
                }
            }
            self.physical_volumes.push(pv);
        }
        for (text, at) in texts.values() {
            let Ok(mut vg) = lvm::volume_group(text, *at) else {
                continue;
            };
            let mut pvs = BTreeMap::new();
            for (name, uuid) in &vg.pvs {
                match by_uuid.get(uuid) {
                    Some(src) => {
                        pvs.insert(name.clone(), src.clone());
                    }
                    None => vg.findings.push(Finding::warning(
                        None,
                        format!(
                            "volume group {}: physical volume {name} ({uuid}) is not on this disk",
                            vg.name
                        ),
                    )),
                }
            }
            for lv in &mut vg.lvs {
                match LvSource::new(lv, &pvs) {
                    Ok(src) => {
                        let src: SharedSource = Arc::new(src);
                        self.volumes.push(Volume {
                            id: format!("{}/{}", lv.vg, lv.name),
                            origin: VolumeOrigin::LogicalVolume {
                                vg: lv.vg.clone(),
                                lv: lv.name.clone(),
                            },
                            offset: None,
                            size: src.size(),
                            probe: probe(src.as_ref()),
                            source: src,
                        });
                    }
                    Err(why) => {
                        vg.findings.push(Finding::note(
                            None,
                            format!("logical volume {}/{} is not read: {why}", lv.vg, lv.name),
                        ));
                        lv.unreadable = Some(why);
                    }
                }
            }
            self.volume_groups.push(vg);
        }
    }

    /// The partition a volume comes from.
    pub fn partition(&self, v: &Volume) -> Option<&Partition> {
        match v.origin {
            VolumeOrigin::Partition { number } => {
                self.table.partitions.iter().find(|p| p.number == number)
            }
            _ => None,
        }
    }
}
