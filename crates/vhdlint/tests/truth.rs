//! vhdlint's view compared with independent tools on the same images: qemu-img for sizes,
//! sfdisk for partitions (fixtures/expected/*.json, written by `sfdisk --json`), blkid for
//! filesystem signatures.

mod common;

use std::process::Command;

use common::{check_json, repo_root, skip};
use serde_json::Value;

const PARTITIONED: &[&str] = &[
    "ext4-30g-fixed",
    "ext4-30g-noforce",
    "ext4-30g-dynamic",
    "small-fixed",
    "mbr-logical",
    "gpt-swap-lvm",
    "gpt-damaged-primary",
    "gpt-backup-not-at-end",
    "mbr-first-mib",
    "ntfs-data",
    "big-127g-ntfs-gpt",
    "gpt-hybrid",
    "btrfs-data",
    "differencing",
];

fn qemu_virtual_size(img: &std::path::Path) -> u64 {
    let out = Command::new("qemu-img")
        .args(["info", "-f", "vpc", "--output", "json"])
        .arg(img)
        .output()
        .expect("qemu-img runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

#[test]
fn virtual_size_matches_qemu_img() {
    for name in PARTITIONED.iter().chain(&["data-empty"]) {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &[]);
        // qemu-img sizes the CHS family (creator "qemu") from the geometry; vhdlint reports the
        // current size, which for qemu-made images is exactly that geometry's size.
        assert_eq!(
            r["facts"]["virtual_size"].as_u64().unwrap(),
            qemu_virtual_size(&img),
            "{name}"
        );
    }
}

#[test]
fn partitions_match_sfdisk() {
    for name in PARTITIONED {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &[]);
        let exp: Value = serde_json::from_str(
            &std::fs::read_to_string(repo_root().join(format!("fixtures/expected/{name}.json")))
                .unwrap(),
        )
        .unwrap();
        let table = &exp["partitiontable"];
        let scheme = if table["label"] == "dos" {
            "mbr"
        } else {
            "gpt"
        };
        assert_eq!(r["facts"]["partition_scheme"], scheme, "{name}");
        let want = table["partitions"].as_array().unwrap();
        let got = r["facts"]["partitions"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: {got:#?}");
        for (g, w) in got.iter().zip(want) {
            let node = w["node"].as_str().unwrap();
            let number: u64 = node
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(g["number"], number, "{name} {node}");
            assert_eq!(g["start_lba"], w["start"], "{name} {node}");
            assert_eq!(g["sectors"], w["size"], "{name} {node}");
            let t = w["type"].as_str().unwrap().to_uppercase();
            let gt = &g["part_type"];
            if scheme == "mbr" {
                assert_eq!(
                    format!("{:X}", gt["mbr"].as_u64().unwrap()),
                    t,
                    "{name} {node}"
                );
                assert_eq!(
                    g["bootable"],
                    w.get("bootable").cloned().unwrap_or(Value::Bool(false)),
                    "{name} {node}"
                );
            } else {
                assert_eq!(gt["gpt"].as_str().unwrap(), t, "{name} {node}");
                if let Some(n) = w.get("name") {
                    assert_eq!(g["name"], *n, "{name} {node}");
                }
            }
        }
    }
}

fn blkid_type(img: &std::path::Path, offset: u64, size: u64) -> String {
    let out = Command::new("blkid")
        .args([
            "-p",
            "-O",
            &offset.to_string(),
            "-S",
            &size.to_string(),
            "-o",
            "value",
            "-s",
            "TYPE",
        ])
        .arg(img)
        .output()
        .expect("blkid runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn filesystems_match_blkid() {
    // Fixed VHDs only: their guest bytes sit at the same offsets in the file.
    for name in PARTITIONED
        .iter()
        .filter(|n| !n.contains("dynamic") && **n != "differencing")
    {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &[]);
        let parts = r["facts"]["partitions"].as_array().unwrap();
        for v in r["facts"]["volumes"].as_array().unwrap() {
            let id = v["id"].as_str().unwrap();
            let Some(num) = id.strip_prefix('p') else {
                continue;
            };
            let num: u64 = num.parse().unwrap();
            let p = parts.iter().find(|p| p["number"] == num).unwrap();
            let off = p["start_lba"].as_u64().unwrap() * 512;
            let ours = v["filesystem"].as_str().unwrap();
            let theirs = blkid_type(&img, off, v["size"].as_u64().unwrap());
            let ours = if ours == "empty" || ours == "unknown" {
                ""
            } else {
                ours
            };
            assert_eq!(ours, theirs, "{name} {id}");
        }
    }
}

#[test]
fn logical_volume_matches_the_lvm_metadata_and_its_filesystem() {
    let img = fixture_or_skip!("gpt-swap-lvm");
    let (_, r) = check_json(&img, &[]);
    let lv = r["facts"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "vg0/root")
        .expect("vg0/root found")
        .clone();
    // 20 extents of 4 MiB, as lvs reported when the fixture was made; ext4 made by mke2fs
    // with the fixture's fixed UUID and label.
    assert_eq!(lv["size"], 83886080);
    assert_eq!(lv["filesystem"], "ext4");
    assert_eq!(lv["label"], "root");
    let out = Command::new("bash")
        .args(["-c", "grep -o 'RHEL_ROOT_UUID=[0-9a-f-]*' fixtures/lib.sh fixtures/build.sh | head -1 | cut -d= -f2"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let uuid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(lv["uuid"], uuid);
}

#[test]
fn ext_superblock_state_and_features_match_dumpe2fs() {
    for name in ["ext4-30g-fixed", "small-fixed", "mbr-logical"] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &["--select", "partition/table"]);
        let parts = r["facts"]["partitions"].as_array().unwrap().clone();
        for v in r["facts"]["volumes"].as_array().unwrap() {
            let Some(ext) = v.get("ext") else { continue };
            let Some(num) = v["id"].as_str().unwrap().strip_prefix('p') else {
                continue;
            };
            let num: u64 = num.parse().unwrap();
            let p = parts.iter().find(|p| p["number"] == num).unwrap();
            let off = p["start_lba"].as_u64().unwrap() * 512;
            let out = Command::new("losetup")
                .args(["-r", "-f", "--show", "-o", &off.to_string()])
                .arg(&img)
                .output()
                .unwrap();
            if !out.status.success() {
                skip(
                    &format!("the dumpe2fs comparison of {name} {}", v["id"]),
                    &format!("losetup: {}", String::from_utf8_lossy(&out.stderr).trim()),
                );
                continue;
            }
            let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let dump = Command::new("dumpe2fs")
                .args(["-h", &dev])
                .output()
                .unwrap();
            let _ = Command::new("losetup").args(["-d", &dev]).status();
            let text = String::from_utf8_lossy(&dump.stdout);
            let field = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            let mut want: Vec<String> = field("Filesystem features:")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let mut got: Vec<String> = ext["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name} {}", v["id"]);
            assert_eq!(
                ext["clean"],
                field("Filesystem state:") == "clean",
                "{name}"
            );
            assert_eq!(
                ext["mount_count"].as_u64().unwrap().to_string(),
                field("Mount count:"),
                "{name}"
            );
        }
    }
}
