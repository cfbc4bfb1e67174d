//! linux/root-device and linux/nvme on the fixture images: every image that boots has a root
//! (and boot-time mounts) that resolve on its own disk, and each `UUID=` vhdlint resolves is the
//! one `blkid` finds on the partition it names; a Debian image whose root filesystem got a new
//! UUID after fstab and grub.cfg were written (`tune2fs -U`) fails, one naming `/dev/sda1`
//! warns; Debian's cloud kernel has the NVMe driver built in.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{check_json, debian12_or_skip, fixture_or_skip, result, skip};
use serde_json::Value;

/// The root UUID fstab and grub.cfg of the debian12 images name.
const D12_ROOT_UUID: &str = "d12a0b1c-2d3e-4f50-8a61-72839405a6b1";
/// The UUID `tune2fs -U` gave the root of `debian12-uuid-changed`.
const D12_CLONE_UUID: &str = "d12a0b1c-2d3e-4f50-8a61-72839405a6d1";

/// One partition as `sfdisk --json` lists it on the image (a fixed VHD is a raw disk with a
/// footer after it): number, first sector, PARTUUID as blkid would write it (GPT: the GUID in
/// lower case; MBR: the disk id and the number), GPT name.
struct Part {
    n: u32,
    start: u64,
    partuuid: String,
    name: Option<String>,
}

/// The partitions of the image, or `None` (after saying so) when sfdisk cannot run.
fn partitions(img: &Path) -> Option<Vec<Part>> {
    let out = match Command::new("sfdisk").arg("--json").arg(img).output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "sfdisk --json {}: {}",
            img.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            skip("the blkid comparison", &format!("sfdisk cannot run: {e}"));
            return None;
        }
    };
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["partitiontable"];
    let name = img.to_str().unwrap();
    let disk_id = t["id"].as_str().unwrap_or("").to_lowercase();
    Some(
        t["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let node = p["node"].as_str().unwrap();
                let n: u32 = node[name.len()..].parse().unwrap();
                let partuuid = match p["uuid"].as_str() {
                    Some(u) => u.to_lowercase(),
                    None => format!("{}-{n:02x}", disk_id.trim_start_matches("0x")),
                };
                Part {
                    n,
                    start: p["start"].as_u64().unwrap(),
                    partuuid,
                    name: p["name"].as_str().map(str::to_string),
                }
            })
            .collect(),
    )
}

/// The tag `tag` (UUID, LABEL) `blkid -p` finds at `offset` in the image, as it prints it.
fn blkid_tag(img: &Path, offset: u64, tag: &str) -> Option<String> {
    let out = Command::new("blkid")
        .args(["-p", "-O", &offset.to_string(), "-s", tag, "-o", "value"])
        .arg(img)
        .output()
        .expect("blkid runs");
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn blkid_uuid(img: &Path, offset: u64) -> Option<String> {
    blkid_tag(img, offset, "UUID")
}

/// The (name, partition number) pairs linux/root-device resolved to a partition.
fn resolved_partitions(check: &Value) -> Vec<(String, u32)> {
    check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let t = e["text"].as_str()?;
            let (name, to) = t.split_once(" -> ")?;
            let n = to.split_once(" (partition ")?.1.split([',', ')']).next()?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .collect()
}

/// Asserts that linux/root-device passes on `img` and, when the image is a fixed VHD sfdisk
/// reads, that every `UUID=` it resolved to partition N is the UUID blkid finds there.
fn resolves(what: &str, img: &Path, blkid: bool) {
    let (_, r) = check_json(img, &["--select", "linux/root-device"]);
    let c = result(&r, "linux/root-device");
    let want = if what == "linux-debian-dirty" {
        "warning"
    } else {
        "pass"
    };
    assert_eq!(c["status"], want, "{what}: {c:#}");
    if want != "pass" {
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("/dev/sdb1 is a kernel name of another disk"),
            "{what}: {c:#}"
        );
    }
    let resolved = resolved_partitions(c);
    let judged = c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["text"].as_str().unwrap_or("").contains(" -> "))
        .count();
    assert!(judged >= 2, "{what}: fstab's / and root= at least: {c:#}");
    if !blkid {
        return;
    }
    let Some(parts) = partitions(img) else { return };
    let mut compared = 0;
    for (name, n) in resolved {
        let p = parts
            .iter()
            .find(|p| p.n == n)
            .unwrap_or_else(|| panic!("{what}: sfdisk has no partition {n}"));
        let (tag, value) = name.split_once('=').unwrap_or(("", ""));
        let truth = match tag {
            "UUID" => blkid_tag(img, p.start * 512, "UUID"),
            "LABEL" => blkid_tag(img, p.start * 512, "LABEL"),
            "PARTUUID" => Some(p.partuuid.clone()),
            "PARTLABEL" => p.name.clone(),
            _ => continue,
        };
        assert_eq!(
            truth.as_deref(),
            Some(value.trim_matches('"')),
            "{what}: {name} resolved to partition {n}"
        );
        compared += 1;
    }
    assert!(
        compared > 0 || what.contains("rhel") || what.contains("lvm"),
        "{what}: no name compared with sfdisk or blkid"
    );
}

/// The fixtures of build.sh that hold a system meant to boot, and whether sfdisk/blkid can
/// read them as raw disks (fixed VHDs).
const BOOTING: &[(&str, bool)] = &[
    ("ext4-30g-fixed", true),
    ("small-fixed", true),
    ("mbr-logical", true),
    ("raw-mbr", true),
    ("mbr-first-mib", true),
    ("gpt-swap-lvm", true),
    ("linux-debian-clean", true),
    ("linux-debian-dirty", true), // warns: /dev/sdb1 /data, by kernel name
    ("linux-ubuntu-clean", true),
    ("linux-ubuntu-dirty", true),
    ("linux-rhel-clean", true),
    ("linux-rhel-dirty", true),
    ("linux-suse-clean", true),
    ("linux-suse-dirty", true),
    ("linux-suse-btrfs", true),
    ("linux-suse-btrfs-zstd", true),
    ("linux-btrfs-toplevel", true),
];

/// The debian12.sh images that boot.
const DEBIAN: &[(&str, bool)] = &[
    ("plain-ext4", true),
    ("remediated-ext4", true),
    ("remediated-xfs", true),
    ("remediated-lvm", true),
    ("remediated-dynamic", false),
    ("grub-debian", true),
    ("grub-microsoft", true),
    ("grub-cloudimg", true),
    ("cloud-gen2", true),
];

#[test]
fn every_booting_fixture_resolves_as_blkid_sees_it() {
    for &(name, blkid) in BOOTING {
        let Some(img) = fixture_or_skip(name) else {
            continue;
        };
        resolves(name, &img, blkid);
    }
}

#[test]
fn every_debian_image_resolves_as_blkid_sees_it() {
    for &(variant, blkid) in DEBIAN {
        let Some(img) = debian12_or_skip(variant) else {
            continue;
        };
        resolves(variant, &img, blkid);
    }
}

fn debian(variant: &str) -> Option<PathBuf> {
    debian12_or_skip(variant)
}

#[test]
fn a_root_uuid_changed_after_fstab_was_written_fails() {
    let Some(img) = debian("uuid-changed") else {
        return;
    };
    let (code, r) = check_json(&img, &["--select", "linux/root-device"]);
    assert_eq!(code, 1);
    let c = result(&r, "linux/root-device");
    assert_eq!(c["status"], "fail", "{c:#}");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains(&format!(
            "/etc/fstab line 11 (/): UUID={D12_ROOT_UUID} names nothing on this disk"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "root= of /boot/grub/grub.cfg: UUID={D12_ROOT_UUID} names nothing on this disk"
        )),
        "{m}"
    );
    // blkid agrees: the partition holds the new UUID, no filesystem the old one.
    let Some(parts) = partitions(&img) else {
        return;
    };
    assert_eq!(parts.len(), 1);
    assert_eq!(
        blkid_uuid(&img, parts[0].start * 512).as_deref(),
        Some(D12_CLONE_UUID)
    );
}

#[test]
fn a_root_named_dev_sda1_warns() {
    let Some(img) = debian("kernel-names") else {
        return;
    };
    let (_, r) = check_json(&img, &["--select", "linux/*", "--policy", "current"]);
    let c = result(&r, "linux/root-device");
    assert_eq!(c["status"], "warning", "{c:#}");
    let m = c["message"].as_str().unwrap();
    assert!(
        m.contains("/etc/fstab line 11 (/): /dev/sda1 is a kernel name: p1 (partition 1, ext4, UUID d12a0b1c-"),
        "{m}"
    );
    assert!(
        m.contains("root= of /boot/grub/grub.cfg: /dev/sda1 is a kernel name"),
        "{m}"
    );
    let n = result(&r, "linux/nvme");
    assert_eq!(n["status"], "warning", "{n:#}");
    let m = n["message"].as_str().unwrap();
    assert!(
        m.contains("/etc/fstab line 11 mounts /dev/sda1 by its SCSI name"),
        "{m}"
    );
    assert!(
        m.contains("/boot/grub/grub.cfg: root=/dev/sda1 is a SCSI name"),
        "{m}"
    );
}

#[test]
fn debians_cloud_kernel_has_nvme_built_in() {
    // The cloud kernel's config has CONFIG_NVME_CORE=y and CONFIG_BLK_DEV_NVME=y, and its
    // modules.builtin lists nvme-core.ko and nvme.ko: nothing needs to be in the initramfs.
    let Some(img) = debian("remediated-ext4") else {
        return;
    };
    let (_, r) = check_json(&img, &["--select", "linux/nvme"]);
    let c = result(&r, "linux/nvme");
    assert_eq!(c["status"], "pass", "{c:#}");
    let actual = c["actual"].as_str().unwrap();
    assert!(actual.starts_with("kernel 6.1.0-"), "{actual}");
    assert!(
        actual.ends_with("-cloud-amd64: nvme_core built in, nvme built in"),
        "{actual}"
    );
    let ev = c["evidence"].to_string();
    assert!(ev.contains("kernel/drivers/nvme/host/nvme-core.ko"), "{ev}");
    assert!(ev.contains("modules.builtin"), "{ev}");
    // `current` also wants nvme_core.io_timeout=240, which Debian's boot line does not have.
    let (_, r) = check_json(&img, &["--select", "linux/nvme", "--policy", "current"]);
    let c = result(&r, "linux/nvme");
    assert_eq!(c["status"], "warning", "{c:#}");
    assert_eq!(
        c["message"],
        "/boot/grub/grub.cfg: no nvme_core.io_timeout=240 on the boot line"
    );
}
