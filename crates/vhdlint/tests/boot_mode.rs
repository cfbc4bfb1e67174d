//! disk/boot-mode and the EFI system partition on the Debian 12 boot-mode images
//! (`fixtures/debian12.sh image gen2-secureboot|gen2-unsigned|bios-grub`): the signed shim and
//! GRUB (or the unsigned monolithic GRUB) on a FAT32 ESP of a GPT disk, and GRUB for BIOS
//! (boot.img in the MBR, its core image after it) on an MBR disk.
//!
//! Independent truth for the ESP: mtools reading the partition's bytes of the image
//! (`mdir -/ -b -i IMAGE@@OFFSET`, `mcopy`), the offset taken from `sfdisk --json`; vhdlint's
//! `ls` and `cat` of /boot/efi (the ESP mounted by the image's fstab) must list and read the
//! same files.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{check_json, debian12_or_skip, result, skip, vhdlint};
use serde_json::Value;

/// disk/boot-mode's result with `--generation g`, and the report's `generation` field.
fn boot_mode(img: &Path, g: &str) -> (Value, Value) {
    let (_, r) = check_json(img, &["--select", "disk/boot-mode", "--generation", g]);
    assert_eq!(r["profile"], "linux-os", "{r:#}");
    (
        result(&r, "disk/boot-mode").clone(),
        r["generation"].clone(),
    )
}

fn texts(r: &Value) -> Vec<String> {
    r["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gen2_images_boot_uefi_only() {
    for variant in ["gen2-secureboot", "gen2-unsigned"] {
        let Some(img) = debian12_or_skip(variant) else {
            return;
        };
        let (two, g) = boot_mode(&img, "2");
        assert_eq!(g, "2");
        assert_eq!(two["status"], "pass", "{variant}: {two:#}");
        let ev = texts(&two);
        let removable = "generation 2: p1 (EFI system partition at byte 1048576): \\EFI\\BOOT\\BOOTX64.EFI: EFI loader, PE machine 0x8664 (x64), EFI application";
        assert!(ev.iter().any(|t| t == removable), "{variant}: {ev:#?}");
        assert!(
            ev.iter()
                .any(|t| t.contains("\\EFI\\debian\\grubx64.efi: EFI loader")),
            "{variant}: {ev:#?}"
        );
        assert_eq!(
            ev.iter()
                .any(|t| t.contains("\\EFI\\debian\\shimx64.efi: EFI loader")),
            variant == "gen2-secureboot",
            "{variant}: {ev:#?}"
        );
        // no BIOS boot code: generation 1 fails, on the MBR's zero boot code
        let (one, g) = boot_mode(&img, "1");
        assert_eq!(g, "1");
        assert_eq!(one["status"], "fail", "{variant}: {one:#}");
        assert!(
            texts(&one)
                .iter()
                .any(|t| t.contains("MBR boot code (bytes 0-439 of sector 0) is all zero")),
            "{one:#}"
        );
        let (auto, g) = boot_mode(&img, "auto");
        assert_eq!(g, "auto");
        assert_eq!(auto["status"], "pass", "{auto:#}");
        assert_eq!(
            auto["actual"],
            "generation 1: cannot boot; generation 2: boots"
        );
    }
}

#[test]
fn the_bios_image_boots_bios_only() {
    let Some(img) = debian12_or_skip("bios-grub") else {
        return;
    };
    let (one, _) = boot_mode(&img, "1");
    assert_eq!(one["status"], "pass", "{one:#}");
    let offsets: Vec<u64> = one["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["offset"].as_u64())
        .collect();
    assert_eq!(
        offsets,
        [0, 512],
        "boot.img in sector 0, core image in sector 1: {one:#}"
    );
    // what the image holds: GRUB's boot.img in the MBR, the core image (diskboot.img) after it
    let mut bytes = [0u8; 512];
    std::io::Read::read_exact(&mut std::fs::File::open(&img).unwrap(), &mut bytes).unwrap();
    assert!(bytes[..440].windows(4).any(|w| w == b"GRUB"));
    assert_eq!(u64::from_le_bytes(bytes[0x5c..0x64].try_into().unwrap()), 1);
    let (two, _) = boot_mode(&img, "2");
    assert_eq!(two["status"], "fail", "{two:#}");
    assert!(texts(&two)
        .iter()
        .any(|t| t.contains("no EFI system partition")));
    let (auto, _) = boot_mode(&img, "auto");
    assert_eq!(auto["status"], "pass");
    assert_eq!(
        auto["actual"],
        "generation 1: boots; generation 2: cannot boot"
    );
}

/// The ESP's byte offset in the image, from `sfdisk --json` (partition 1).
fn esp_offset(img: &Path) -> Option<u64> {
    let out = Command::new("sfdisk")
        .arg("--json")
        .arg(img)
        .output()
        .ok()?;
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    let p = &v["partitiontable"]["partitions"][0];
    assert_eq!(
        p["type"].as_str().map(str::to_ascii_uppercase).as_deref(),
        Some("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
    );
    p["start"].as_u64().map(|s| s * 512)
}

/// Every path below `dir` of the image's tree, by `vhdlint ls`; directories end in `/`.
fn ls_r(img: &str, dir: &str, out: &mut BTreeSet<String>) {
    let o = vhdlint(&["ls", img, dir]);
    assert!(
        o.status.success(),
        "ls {dir}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let (kind, name) = line.split_once(' ').unwrap();
        let p = format!("{dir}/{name}");
        if kind == "dir" {
            out.insert(format!("{p}/"));
            ls_r(img, &p, out);
        } else {
            out.insert(p);
        }
    }
}

#[test]
fn the_esp_mounted_at_boot_efi_matches_mtools() {
    let Some(img) = debian12_or_skip("gen2-secureboot") else {
        return;
    };
    let Some(off) = esp_offset(&img) else {
        skip(
            "the mtools comparison",
            "sfdisk --json cannot read the image",
        );
        return;
    };
    let target = format!("{}@@{off}", img.display());
    let mdir = match Command::new("mdir")
        .env("MTOOLS_SKIP_CHECK", "1")
        .args(["-/", "-b", "-i", &target, "::/"])
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => panic!("mdir: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            skip(
                "the mtools comparison",
                &format!("mdir (mtools) cannot run: {e}"),
            );
            return;
        }
    };
    let theirs: BTreeSet<String> = String::from_utf8(mdir)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("::").map(|p| format!("/boot/efi{p}")))
        .collect();
    let mut ours = BTreeSet::new();
    ls_r(img.to_str().unwrap(), "/boot/efi", &mut ours);
    assert_eq!(ours, theirs, "vhdlint ls against mdir -/ -b");
    for p in [
        "/boot/efi/EFI/debian/shimx64.efi",
        "/boot/efi/EFI/debian/grubx64.efi",
        "/boot/efi/EFI/debian/mmx64.efi",
        "/boot/efi/EFI/debian/BOOTX64.CSV",
        "/boot/efi/EFI/debian/grub.cfg",
        "/boot/efi/EFI/BOOT/BOOTX64.EFI",
    ] {
        assert!(ours.contains(p), "{p}: {ours:#?}");
    }
    // contents: vhdlint cat against mcopy's copy of the same file
    let dir = std::env::temp_dir().join(format!("vhdlint-esp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for p in [
        "/EFI/debian/grub.cfg",
        "/EFI/debian/shimx64.efi",
        "/EFI/BOOT/BOOTX64.EFI",
    ] {
        let dst = dir.join(p.rsplit('/').next().unwrap());
        let o = Command::new("mcopy")
            .env("MTOOLS_SKIP_CHECK", "1")
            .args(["-n", "-i", &target, &format!("::{p}")])
            .arg(&dst)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mcopy {p}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let want = std::fs::read(&dst).unwrap();
        let got = vhdlint(&["cat", img.to_str().unwrap(), &format!("/boot/efi{p}")]);
        assert!(got.status.success(), "cat {p}");
        assert!(
            got.stdout == want,
            "{p}: vhdlint cat {} bytes, mcopy {}",
            got.stdout.len(),
            want.len()
        );
        // FAT ignores case: the lower-case path names the same file
        let lower = vhdlint(&[
            "cat",
            img.to_str().unwrap(),
            &format!("/boot/efi{}", p.to_lowercase()),
        ]);
        assert!(lower.stdout == want, "{p} in lower case");
    }
    // the shim is the removable path's loader
    let a = vhdlint(&[
        "cat",
        img.to_str().unwrap(),
        "/boot/efi/EFI/BOOT/BOOTX64.EFI",
    ]);
    let b = vhdlint(&[
        "cat",
        img.to_str().unwrap(),
        "/boot/efi/EFI/debian/shimx64.efi",
    ]);
    assert!(a.stdout == b.stdout && a.stdout.starts_with(b"MZ"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Windows layouts: `win-gen2` (GPT: ESP + MSR + Windows, an x86-64 EFI application at
/// \EFI\Microsoft\Boot\bootmgfw.efi and \EFI\Boot\bootx64.efi), `win-gen1` (MBR: active System
/// Reserved + Windows, boot code in the MBR), and `win-generalized-mbr` (the same without MBR
/// boot code, as mkntfs and sfdisk leave it).
#[test]
fn windows_layouts_are_judged() {
    let want = [
        ("win-gen2", "generation 1: cannot boot; generation 2: boots"),
        ("win-gen1", "generation 1: boots; generation 2: cannot boot"),
        (
            "win-generalized-mbr",
            "generation 1: cannot boot; generation 2: cannot boot",
        ),
    ];
    for (name, actual) in want {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &["--select", "disk/boot-mode"]);
        assert_eq!(r["profile"], "windows-os", "{name}");
        let c = result(&r, "disk/boot-mode");
        assert_eq!(c["actual"], actual, "{name}: {c:#}");
        let ev = texts(c);
        match name {
            "win-gen2" => {
                assert_eq!(c["status"], "pass");
                assert!(ev.iter().any(|t| t == "generation 2: p1 (EFI system partition at byte 1048576): \\EFI\\Microsoft\\Boot\\bootmgfw.efi: EFI loader, PE machine 0x8664 (x64), EFI application"), "{ev:#?}");
                let (_, r1) =
                    check_json(&img, &["--select", "disk/boot-mode", "--generation", "1"]);
                assert_eq!(result(&r1, "disk/boot-mode")["status"], "fail");
            }
            "win-gen1" => {
                assert_eq!(c["status"], "pass");
                assert!(ev.iter().any(|t| t.contains("active partition 1 (sector 2048): its boot sector holds a loader (NTFS boot code)")), "{ev:#?}");
                let (_, r2) =
                    check_json(&img, &["--select", "disk/boot-mode", "--generation", "2"]);
                assert_eq!(result(&r2, "disk/boot-mode")["status"], "fail");
            }
            _ => {
                assert_eq!(c["status"], "warning", "{c:#}");
                assert!(ev.iter().any(|t| t.contains("is all zero")), "{ev:#?}");
            }
        }
    }
}
