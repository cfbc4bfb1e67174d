use std::sync::Arc;

use super::*;
use crate::check::Status;
use crate::testing::{run_linux, said, MemFs};
use vhdlint_guest::authenticode::sample::{entry, pe, signed_pe};
use vhdlint_guest::linux::OsRelease;

/// Debian's signed shim and GRUB and its signed cloud kernel, each cut to its headers and
/// its real certificate table (the fuzz seeds, made by fuzz/seed.sh from Debian's packages).
const SHIM: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/shimx64");
const GRUB: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/grubx64");
const VMLINUZ: &[u8] = include_bytes!("../../../../fuzz/seeds/exe_authenticode/vmlinuz");
/// The first KiB of Debian's unsigned monolithic GRUB.
const GRUB_UNSIGNED: &[u8] =
    include_bytes!("../../../../fuzz/seeds/exe_authenticode/grubx64-unsigned");

const V: &str = "6.1.0-57-cloud-amd64";

fn linux(fs: MemFs) -> LinuxGuest {
    let view = GuestView::of(fs);
    LinuxGuest {
        mounts: view.mounts(),
        view,
        facts: Arc::default(),
        root_volume: "p2".into(),
        not_mounted: Vec::new(),
        os: OsRelease::default(),
    }
}

/// A root whose default GRUB entry boots `/boot/vmlinuz-V`, holding `kernel` there.
fn root(kernel: &[u8]) -> MemFs {
    let mut fs = MemFs::new();
    fs.file(
        "/boot/grub/grub.cfg",
        format!(
            "set default=0\nmenuentry 'Debian' {{\n  linux /boot/vmlinuz-{V} root=/dev/sda2\n}}\n"
        ),
    );
    fs.file(&format!("/boot/vmlinuz-{V}"), kernel);
    fs
}

fn esp(fs: MemFs) -> EfiSystemPartition {
    EfiSystemPartition {
        volume: "p1".into(),
        partition: 1,
        offset: 1 << 20,
        size: 100 << 20,
        part_type: "EFI System".into(),
        filesystem: "vfat",
        fat_type: Some("FAT32"),
        serial: Some("1234-ABCD".into()),
        error: None,
        view: Some(GuestView::of(fs)),
    }
}

/// Debian's ESP: shim as the fallback loader and under \EFI\debian, with `grub` beside it.
fn debian_esp(grub: &[u8]) -> MemFs {
    let mut fs = MemFs::new();
    fs.file("/EFI/BOOT/BOOTX64.EFI", SHIM);
    fs.file("/EFI/debian/shimx64.efi", SHIM);
    fs.file("/EFI/debian/grubx64.efi", grub);
    // Not loaders this check judges.
    fs.file("/EFI/debian/mmx64.efi", b"MZ");
    fs.file("/EFI/debian/grub.cfg", b"search.fs_uuid ...");
    fs
}

#[test]
fn debians_signed_chain_passes_with_its_signers() {
    let o = judge(&[esp(debian_esp(GRUB))], &linux(root(VMLINUZ)));
    let s = said(&o);
    assert_eq!(o.status, Status::Pass, "{s}");
    assert_eq!(
        o.actual,
        format!("signed: \\EFI\\BOOT\\BOOTX64.EFI, \\EFI\\debian\\grubx64.efi, \\EFI\\debian\\shimx64.efi, /boot/vmlinuz-{V}")
    );
    assert!(s.contains("p1 (EFI system partition at byte 1048576): \\EFI\\BOOT\\BOOTX64.EFI EFI loader, signed by Microsoft Windows UEFI Driver Publisher (O=Microsoft Corporation), issued by Microsoft Corporation UEFI CA 2011, sha256; Microsoft UEFI CA 2023 signer (O=Microsoft Corporation), issued by Microsoft UEFI CA 2023"), "{s}");
    assert!(
        s.contains("\\EFI\\debian\\grubx64.efi EFI loader, signed by Debian Secure Boot Signer"),
        "{s}"
    );
    assert!(s.contains(&format!("/boot/vmlinuz-{V} kernel (the default boot entry's kernel), signed by Debian Secure Boot Signer")), "{s}");
    assert!(!s.contains("mmx64"), "{s}");
}

#[test]
fn an_unsigned_grub_warns() {
    let o = judge(&[esp(debian_esp(GRUB_UNSIGNED))], &linux(root(VMLINUZ)));
    let s = said(&o);
    assert_eq!(o.status, Status::Warning, "{s}");
    assert_eq!(o.actual, "unsigned: \\EFI\\debian\\grubx64.efi");
    assert!(
        s.contains("\\EFI\\debian\\grubx64.efi EFI loader: no Authenticode signature"),
        "{s}"
    );
    assert!(o.message.contains("the boot stops there"), "{s}");
}

#[test]
fn a_kernel_without_its_efi_stub_or_signature_warns() {
    let o = judge(&[esp(debian_esp(GRUB))], &linux(root(b"\x7fELF not a PE")));
    assert_eq!(o.status, Status::Warning, "{}", said(&o));
    assert_eq!(o.actual, format!("unsigned: /boot/vmlinuz-{V}"));
    assert!(
        said(&o).contains("not a PE image (not a PE file (no MZ header))"),
        "{}",
        said(&o)
    );
    let o = judge(&[esp(debian_esp(GRUB))], &linux(root(&pe(&[]))));
    assert_eq!(o.status, Status::Warning, "{}", said(&o));
}

#[test]
fn the_newest_kernel_when_no_entry_names_one() {
    let mut fs = MemFs::new();
    fs.file("/boot/vmlinuz-6.1.0-9-cloud-amd64", pe(&[]));
    fs.file("/boot/vmlinuz-6.1.0-10-cloud-amd64", VMLINUZ);
    let o = judge(&[esp(debian_esp(GRUB))], &linux(fs));
    let s = said(&o);
    assert_eq!(o.status, Status::Pass, "{s}");
    assert!(s.contains("/boot/vmlinuz-6.1.0-10-cloud-amd64 kernel (the newest kernel (no default boot entry names one)), signed by"), "{s}");
}

#[test]
fn no_kernel_is_an_error() {
    let o = judge(&[esp(debian_esp(GRUB))], &linux(MemFs::new()));
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(o.message.contains("no kernel"), "{}", said(&o));
}

#[test]
fn skipped_without_an_esp_or_a_loader() {
    let o = run_linux(root(VMLINUZ), run);
    assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    assert!(
        o.message.contains("no EFI system partition"),
        "{}",
        said(&o)
    );
    let mut fs = MemFs::new();
    fs.file("/EFI/debian/grub.cfg", b"");
    fs.file("/EFI/BOOT/BOOTIA32.EFI", signed_pe("CN=x", "CN=y"));
    let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Skipped, "{}", said(&o));
    assert!(o.message.contains("no EFI loader"), "{}", said(&o));
    let o = judge(&[esp(MemFs::new())], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Skipped, "{}", said(&o));
}

#[test]
fn an_unreadable_esp_is_an_error() {
    let mut bad = esp(MemFs::new());
    bad.view = None;
    bad.error =
        Some("p1: the EFI system partition holds no FAT filesystem (its signature: ext4)".into());
    let o = judge(&[bad.clone()], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(
        o.message.contains("holds no FAT filesystem"),
        "{}",
        said(&o)
    );
    // Beside a readable one, the loaders found are judged and the unread one is named.
    let o = judge(&[bad, esp(debian_esp(GRUB))], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(
        said(&o).contains("signed by Debian Secure Boot Signer"),
        "{}",
        said(&o)
    );
}

#[test]
fn a_damaged_certificate_table_is_an_error_that_says_where() {
    let mut t = entry(&[0x30, 0x03, 1, 2, 3]);
    t[5] = 1;
    let mut fs = debian_esp(GRUB);
    fs.file("/EFI/debian/grubx64.efi", pe(&t));
    let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(o.message.contains("\\EFI\\debian\\grubx64.efi EFI loader: WIN_CERTIFICATE at 0x200: wRevision 0x0100, not 0x0200"), "{}", said(&o));
    // A table that ends past the file.
    let mut b = signed_pe("CN=a", "CN=b");
    b.truncate(b.len() - 100);
    let mut fs = debian_esp(GRUB);
    fs.file("/EFI/BOOT/BOOTX64.EFI", b);
    let o = judge(&[esp(fs)], &linux(root(VMLINUZ)));
    assert_eq!(o.status, Status::Error, "{}", said(&o));
    assert!(
        o.message.contains("runs past the end of the file"),
        "{}",
        said(&o)
    );
}

#[test]
fn error_without_a_linux_guest() {
    let o = crate::testing::run_no_linux(run);
    assert_eq!(o.status, Status::Error, "{}", said(&o));
}
