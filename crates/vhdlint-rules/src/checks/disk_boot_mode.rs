//! disk/boot-mode: whether the OS disk can boot as a generation 1 VM (BIOS) and as a generation 2
//! VM (UEFI), and that it can boot the generation it is published for (`--generation`).

use vhdlint_disk::layout::{Layout, Scheme};
use vhdlint_disk::SharedSource;
use vhdlint_guest::esp::EfiSystemPartition;
use vhdlint_guest::exe::{pe_header, pe_machine_name};
use vhdlint_guest::fs::FileKind;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::profile::Generation;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "disk/boot-mode",
    title: "Boot mode (generation 1 / 2)",
    what: "Generation 1 (BIOS): the MBR's boot code (bytes 0-439 of sector 0) must not be all zero. GRUB's boot.img (its \"GRUB\" message string) loads the sector its pointer at byte 0x5C names: on a GPT disk that must be the start of a BIOS boot partition (21686148-6449-6E6F-744E-656564454649) holding GRUB's core image, on an MBR disk a sector holding the core image; any other MBR code loads the active partition's boot sector, which must hold a loader (boot code and the 55AA signature). Generation 2 (UEFI): an EFI system partition (GPT C12A7328-F81F-11D2-BA4B-00A0C93EC93B or MBR 0xEF) whose FAT holds an EFI loader: \\EFI\\BOOT\\BOOTX64.EFI or BOOTAA64.EFI (the removable path firmware starts when it has no boot entry), \\EFI\\<distro>\\shimx64.efi or grubx64.efi (aa64 on Arm64), or Windows' \\EFI\\Microsoft\\Boot\\bootmgfw.efi, each a PE EFI application (subsystem 10) for the architecture its name says (x64: machine 0x8664, Arm64: 0xAA64). With --generation 1|2 (or a SKU manifest's generation) the disk must boot that way; with auto (the default) the check reports which generations it can boot and warns when neither.",
    why: "A generation 1 VM starts the MBR's code through BIOS; a generation 2 VM starts an EFI loader from the EFI system partition through UEFI, and never reads the MBR's code. An image published for a generation it cannot boot never reaches its operating system: the VM stops in the firmware and certification's boot test fails.",
    remedy: "Generation 1 on Linux: grub-install --target=i386-pc /dev/sdX (a GPT disk needs a 1 MiB BIOS boot partition, sgdisk -n 0:0:+1M -t 0:EF02). Generation 2 on Linux: create an EFI system partition (sgdisk -n 0:0:+200M -t 0:EF00; mkfs.vfat -F 32), mount it at /boot/efi and run grub-install --target=x86_64-efi --efi-directory=/boot/efi --uefi-secure-boot --force-extra-removable (Debian/Ubuntu: the shim-signed and grub-efi-amd64-signed packages). Windows: bcdboot C:\\Windows /s S: /f UEFI (or BIOS, or ALL). Or publish the image for the generation it boots (--generation).",
    sources: &[
        "Azure: Support for generation 2 VMs on Azure (learn.microsoft.com/azure/virtual-machines/generation-2): generation 2 VMs boot UEFI, generation 1 BIOS; features and differences",
        "Azure Marketplace VM image guide: OS disk requirements (generation 1 and 2 images, one SKU per generation)",
        "UEFI specification 2.x, 3.5.1.1 Removable Media Boot Behavior (\\EFI\\BOOT\\BOOT{machine}.EFI); 13.3 EFI System Partition (FAT)",
        "GRUB: boot.img (GRUB_BOOT_MACHINE_KERNEL_SECTOR at 0x5C), BIOS installation on GPT (the BIOS boot partition)",
    ],
    profiles: Profile::OS,
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("installing a boot loader writes the disk's boot sectors or its EFI system partition (grub-install on the device, a new partition): done where the disk is attached, as the remedy says");

/// Bytes of the MBR boot code.
const BOOT_CODE: usize = 440;
/// Where GRUB's boot.img keeps the sector of the core image's first sector.
const GRUB_KERNEL_SECTOR: usize = 0x5c;
/// Bytes of an EFI loader read for its PE header.
const PE_HEAD: u64 = 4096;
/// The PE optional header's Subsystem value of an EFI application.
const EFI_APPLICATION: u16 = 10;

/// What one generation's look found: whether it boots, the evidence, and an error that kept a
/// part of the disk from being looked at.
#[derive(Default)]
struct Look {
    boots: bool,
    evidence: Vec<Evidence>,
    /// Why it is not known (a sector or an ESP could not be read).
    error: Option<String>,
}

fn read(disk: &SharedSource, lba: u64) -> Result<Vec<u8>, String> {
    disk.read_vec(lba.saturating_mul(512), 512)
        .map_err(|e| format!("sector {lba}: {e}"))
}

/// Whether a boot sector holds a loader: boot code after its first 3 bytes (the jump) and the
/// 55AA signature.
fn has_loader(sector: &[u8]) -> bool {
    sector.len() == 512
        && sector[510..] == [0x55, 0xaa]
        && sector[..3].iter().any(|b| *b != 0)
        && sector[0x3e..0x1fe].iter().any(|b| *b != 0)
}

fn bios(layout: &Layout, disk: &SharedSource) -> Look {
    let mut l = Look::default();
    let mbr = match read(disk, 0) {
        Ok(s) => s,
        Err(e) => {
            l.error = Some(e);
            return l;
        }
    };
    let code = &mbr[..BOOT_CODE];
    if code.iter().all(|b| *b == 0) {
        l.evidence.push(Evidence::offset(
            0,
            "MBR boot code (bytes 0-439 of sector 0) is all zero: BIOS has nothing to start",
        ));
        return l;
    }
    let grub = code.windows(4).any(|w| w == b"GRUB");
    let bios_boot = layout
        .table
        .partitions
        .iter()
        .find(|p| p.part_type.is_bios_boot());
    if grub {
        let mut k = [0u8; 8];
        k.copy_from_slice(&code[GRUB_KERNEL_SECTOR..GRUB_KERNEL_SECTOR + 8]);
        let kernel = u64::from_le_bytes(k);
        l.evidence.push(Evidence::offset(
            0,
            format!("MBR boot code: GRUB's boot.img, loading its core image from sector {kernel} (pointer at byte 0x5C)"),
        ));
        if layout.table.scheme == Scheme::Gpt {
            match bios_boot {
                None => {
                    l.evidence.push(Evidence::note(
                        "GPT disk without a BIOS boot partition (21686148-6449-6E6F-744E-656564454649): GRUB has nowhere to keep its core image",
                    ));
                    return l;
                }
                Some(p) if p.start_lba != kernel => {
                    l.evidence.push(Evidence::offset(
                        p.start(),
                        format!(
                            "BIOS boot partition p{} starts at sector {}, not at sector {kernel} where boot.img looks",
                            p.number, p.start_lba
                        ),
                    ));
                    return l;
                }
                Some(_) => {}
            }
        }
        match read(disk, kernel) {
            Err(e) => l.error = Some(e),
            Ok(s) if s.iter().all(|b| *b == 0) => l.evidence.push(Evidence::offset(
                kernel * 512,
                format!(
                    "sector {kernel}, where boot.img loads GRUB's core image from, is all zero"
                ),
            )),
            Ok(_) => {
                l.boots = true;
                l.evidence.push(Evidence::offset(
                    kernel * 512,
                    match bios_boot.filter(|p| p.start_lba == kernel) {
                        Some(p) => format!(
                            "GRUB's core image in BIOS boot partition p{} (sector {kernel})",
                            p.number
                        ),
                        None => format!(
                            "GRUB's core image at sector {kernel}, before the first partition"
                        ),
                    },
                ));
            }
        }
        return l;
    }
    l.evidence.push(Evidence::offset(
        0,
        "MBR boot code present (not GRUB's): it starts the active partition's boot sector",
    ));
    if let Some(p) = bios_boot {
        // Another loader's core in a BIOS boot partition (GPT): it is what the code loads.
        match read(disk, p.start_lba) {
            Ok(s) if s.iter().any(|b| *b != 0) => {
                l.boots = true;
                l.evidence.push(Evidence::offset(
                    p.start(),
                    format!("BIOS boot partition p{} holds a boot loader", p.number),
                ));
                return l;
            }
            Ok(_) => {}
            Err(e) => l.error = Some(e),
        }
    }
    let active: Vec<_> = layout
        .table
        .mbr
        .as_ref()
        .map(|m| {
            m.entries
                .iter()
                .filter(|e| e.status == 0x80 && !e.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if active.is_empty() {
        l.evidence.push(Evidence::offset(
            446,
            "no active (bootable) partition in the MBR for its code to start",
        ));
        return l;
    }
    for e in active {
        let lba = u64::from(e.start_lba);
        match read(disk, lba) {
            Ok(s) if has_loader(&s) => {
                l.boots = true;
                l.evidence.push(Evidence::offset(
                    lba * 512,
                    format!(
                        "active partition {} (sector {lba}): its boot sector holds a loader{}",
                        e.slot + 1,
                        if &s[3..11] == b"NTFS    " { " (NTFS boot code)" } else { "" }
                    ),
                ));
                return l;
            }
            Ok(_) => l.evidence.push(Evidence::offset(
                lba * 512,
                format!("active partition {} (sector {lba}): its boot sector holds no loader (no boot code or no 55AA)", e.slot + 1),
            )),
            Err(err) => l.error = Some(err),
        }
    }
    l
}

/// The architecture an EFI loader's name says: `x64` or `aa64` (none for bootmgfw.efi, which
/// is either).
fn name_arch(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    if n.ends_with("x64.efi") {
        Some("x64")
    } else if n.ends_with("aa64.efi") {
        Some("aa64")
    } else {
        None
    }
}

fn machine_arch(m: u16) -> Option<&'static str> {
    match m {
        0x8664 => Some("x64"),
        0xAA64 => Some("aa64"),
        _ => None,
    }
}

/// The PE subsystem of an image whose PE signature is at `pe` (`None` when the header is
/// cut short).
fn subsystem(b: &[u8], pe: usize) -> Option<u16> {
    let at = pe.checked_add(24 + 68)?;
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

/// The loaders of one ESP: (path as stored, why it is or is not a loader).
fn loaders(esp: &EfiSystemPartition, l: &mut Look) {
    let Some(view) = &esp.view else {
        l.evidence.push(Evidence::offset(
            esp.offset,
            esp.error
                .clone()
                .unwrap_or_else(|| format!("{}: not opened", esp.volume)),
        ));
        l.error.get_or_insert_with(|| {
            esp.error
                .clone()
                .unwrap_or_else(|| format!("{}: not opened", esp.volume))
        });
        return;
    };
    let dir = |p: &str| -> Vec<(String, FileKind)> {
        view.read_dir(p)
            .map(|v| v.into_iter().map(|e| (e.name, e.kind)).collect())
            .unwrap_or_default()
    };
    // \EFI and its subdirectories, as stored (FAT ignores case).
    let mut candidates = Vec::new();
    let efi = dir("/");
    let Some((efi_name, _)) = efi
        .iter()
        .find(|(n, k)| *k == FileKind::Dir && n.eq_ignore_ascii_case("EFI"))
    else {
        l.evidence.push(Evidence::offset(
            esp.offset,
            format!("{}: no \\EFI directory", esp.describe("/")),
        ));
        return;
    };
    for (sub, kind) in dir(&format!("/{efi_name}")) {
        if kind != FileKind::Dir {
            continue;
        }
        let base = format!("/{efi_name}/{sub}");
        let subl = sub.to_ascii_lowercase();
        if subl == "microsoft" {
            if let Some((boot, _)) = dir(&base)
                .into_iter()
                .find(|(n, k)| *k == FileKind::Dir && n.eq_ignore_ascii_case("Boot"))
            {
                for (n, k) in dir(&format!("{base}/{boot}")) {
                    if k == FileKind::File && n.eq_ignore_ascii_case("bootmgfw.efi") {
                        candidates.push(format!("{base}/{boot}/{n}"));
                    }
                }
            }
            continue;
        }
        let wanted: &[&str] = if subl == "boot" {
            &["bootx64.efi", "bootaa64.efi"]
        } else {
            &["shimx64.efi", "grubx64.efi", "shimaa64.efi", "grubaa64.efi"]
        };
        for (n, k) in dir(&base) {
            if k == FileKind::File && wanted.contains(&n.to_ascii_lowercase().as_str()) {
                candidates.push(format!("{base}/{n}"));
            }
        }
    }
    if candidates.is_empty() {
        l.evidence.push(Evidence::offset(
            esp.offset,
            format!(
                "{}: no EFI loader (\\EFI\\BOOT\\BOOTX64.EFI, \\EFI\\<distro>\\shimx64.efi or grubx64.efi, \\EFI\\Microsoft\\Boot\\bootmgfw.efi)",
                esp.describe(&format!("/{efi_name}"))
            ),
        ));
    }
    for path in candidates {
        let name = path.rsplit('/').next().unwrap_or_default();
        let head = match view.read_upto(&path, PE_HEAD) {
            Ok(h) => h,
            Err(e) => {
                l.error
                    .get_or_insert_with(|| format!("{}: {e}", esp.describe(&path)));
                continue;
            }
        };
        let verdict = match pe_header(&head) {
            Err(e) => Err(format!("{e}")),
            Ok(h) => {
                let arch = machine_arch(h.machine);
                let sub = subsystem(&head, h.signature_at);
                let machine = format!(
                    "PE machine {:#06x} ({})",
                    h.machine,
                    pe_machine_name(h.machine)
                );
                if arch.is_none() {
                    Err(format!("{machine}: not an x64 or Arm64 loader"))
                } else if name_arch(name).is_some_and(|a| Some(a) != arch) {
                    Err(format!(
                        "{machine}, but its name is for {}",
                        name_arch(name).unwrap_or("?")
                    ))
                } else if sub != Some(EFI_APPLICATION) {
                    Err(format!(
                        "{machine}, subsystem {sub:?}: not an EFI application (10)"
                    ))
                } else {
                    Ok(format!("{machine}, EFI application"))
                }
            }
        };
        match verdict {
            Ok(what) => {
                l.boots = true;
                l.evidence.push(Evidence::offset(
                    esp.offset,
                    format!("{}: EFI loader, {what}", esp.describe(&path)),
                ));
            }
            Err(why) => l.evidence.push(Evidence::offset(
                esp.offset,
                format!("{}: {why}", esp.describe(&path)),
            )),
        }
    }
}

fn uefi(ctx: &Context) -> Look {
    let mut l = Look::default();
    let guest = match ctx.guest() {
        Ok(g) => g,
        Err(e) => {
            l.error = Some(e.to_string());
            return l;
        }
    };
    let esps = guest.efi_system_partitions();
    if esps.is_empty() {
        l.evidence.push(Evidence::note(
            "no EFI system partition (GPT C12A7328-F81F-11D2-BA4B-00A0C93EC93B or MBR 0xEF): UEFI has no loader to start",
        ));
    }
    for esp in esps {
        loaders(esp, &mut l);
    }
    l
}

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let disk = match ctx.disk() {
        Ok(d) => d,
        Err(e) => return Outcome::error(e.to_string()),
    };
    let gen1 = bios(layout, disk);
    let gen2 = uefi(ctx);
    let mut evidence: Vec<Evidence> = Vec::new();
    let tag = |g: &str, l: &Look| -> Vec<Evidence> {
        l.evidence
            .iter()
            .cloned()
            .map(|mut e| {
                e.text = format!("{g}: {}", e.text);
                e
            })
            .collect()
    };
    evidence.extend(tag("generation 1", &gen1));
    evidence.extend(tag("generation 2", &gen2));
    let said = |l: &Look| match (l.boots, &l.error) {
        (true, _) => "boots",
        (false, None) => "cannot boot",
        (false, Some(_)) => "unknown",
    };
    let actual = format!(
        "generation 1: {}; generation 2: {}",
        said(&gen1),
        said(&gen2)
    );
    let (asked, look, how) = match ctx.generation {
        Generation::Gen1 => ("generation 1", &gen1, "BIOS"),
        Generation::Gen2 => ("generation 2", &gen2, "UEFI"),
        Generation::Auto => {
            let required = "boots as generation 1 (BIOS) or generation 2 (UEFI)";
            let o = match (gen1.boots, gen2.boots) {
                (true, true) => Outcome::pass(actual, required)
                    .message("the disk boots as generation 1 (BIOS) and as generation 2 (UEFI)"),
                (true, false) | (false, true) => {
                    let g = if gen1.boots { 1 } else { 2 };
                    Outcome::pass(actual, required)
                        .message(format!("the disk boots as generation {g} only: publish it for generation {g} (--generation {g} checks that)"))
                }
                (false, false) => {
                    if let Some(e) = gen1.error.as_ref().or(gen2.error.as_ref()) {
                        Outcome::error(format!("whether the disk boots could not be read: {e}"))
                    } else {
                        Outcome::warning(actual, required)
                            .message("the disk boots neither as generation 1 (no BIOS boot loader) nor as generation 2 (no EFI loader)")
                            .remedy(META.remedy)
                    }
                }
            };
            return o.evidences(evidence);
        }
    };
    let required = format!("boots as {asked} ({how})");
    if look.boots {
        Outcome::pass(actual, required)
            .message(format!("the disk boots as {asked} ({how})"))
            .evidences(evidence)
    } else if let Some(e) = &look.error {
        Outcome::error(format!(
            "whether the disk boots as {asked} could not be read: {e}"
        ))
        .evidences(evidence)
    } else {
        Outcome::fail(actual, required)
            .message(format!(
                "the image is published for {asked}, but the disk has no {} boot loader",
                how
            ))
            .evidences(evidence)
            .remedy(META.remedy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{fixed_vhd, mbr_disk, put, said, with_image};
    use crate::Policy;

    fn run_gen(disk: &[u8], g: Generation) -> Outcome {
        with_image(fixed_vhd(disk), Profile::LinuxOs, &Policy::guide(), |ctx| {
            ctx.generation = g;
            run(ctx)
        })
    }

    /// An MBR disk whose MBR holds GRUB's boot.img shape (the "GRUB" string, the pointer at
    /// 0x5C) pointing at sector 1, and a non-zero sector 1.
    fn grub_mbr() -> Vec<u8> {
        let mut d = mbr_disk(8, &[(0x83, 2048, 8192)]);
        put(&mut d, 0, &[0xeb, 0x63, 0x90]);
        put(&mut d, GRUB_KERNEL_SECTOR, &1u64.to_le_bytes());
        put(&mut d, 0x180, b"GRUB \0Geom\0Hard Disk\0Read\0 Error");
        put(&mut d, 512, &[0x52, 0xe8, 0x28, 0x01]);
        d
    }

    #[test]
    fn grub_in_the_mbr_boots_generation_1_only() {
        let d = grub_mbr();
        let o = run_gen(&d, Generation::Gen1);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.evidence.iter().any(|e| e.offset == Some(512)),
            "{}",
            said(&o)
        );
        let o = run_gen(&d, Generation::Gen2);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(said(&o).contains("no EFI system partition"), "{}", said(&o));
        let o = run_gen(&d, Generation::Auto);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("generation 1 only"), "{}", said(&o));
    }

    #[test]
    fn grub_pointing_at_an_empty_sector_does_not_boot() {
        let mut d = grub_mbr();
        put(&mut d, 512, &[0; 4]);
        let o = run_gen(&d, Generation::Gen1);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(said(&o).contains("all zero"), "{}", said(&o));
    }

    #[test]
    fn zero_boot_code_boots_nothing() {
        let d = mbr_disk(8, &[(0x83, 2048, 8192)]);
        let o = run_gen(&d, Generation::Gen1);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        let o = run_gen(&d, Generation::Auto);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn other_mbr_code_needs_an_active_partition_with_a_loader() {
        let mut d = mbr_disk(8, &[(0x07, 2048, 8192)]);
        put(&mut d, 0, &[0x33, 0xc0, 0x8e, 0xd0]);
        let o = run_gen(&d, Generation::Gen1);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        // mark p1 active and give it a boot sector with code and 55AA
        d[446] = 0x80;
        let vbr = 2048 * 512;
        put(&mut d, vbr, &[0xeb, 0x52, 0x90]);
        put(&mut d, vbr + 3, b"NTFS    ");
        put(&mut d, vbr + 0x54, &[0xfa, 0x33, 0xc0]);
        put(&mut d, vbr + 510, &[0x55, 0xaa]);
        let o = run_gen(&d, Generation::Gen1);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("NTFS boot code"), "{}", said(&o));
    }

    #[test]
    fn subsystem_and_names() {
        assert_eq!(name_arch("BOOTX64.EFI"), Some("x64"));
        assert_eq!(name_arch("grubaa64.efi"), Some("aa64"));
        assert_eq!(name_arch("bootmgfw.efi"), None);
        let mut pe = vec![0u8; 512];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x80;
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x80 + 24 + 68] = 10;
        assert_eq!(subsystem(&pe, 0x80), Some(10));
        assert_eq!(subsystem(&pe, 500), None);
    }
}
