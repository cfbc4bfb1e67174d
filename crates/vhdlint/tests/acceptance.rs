//! The acceptance items of the foundation: real images built with qemu-img, sfdisk and
//! sgdisk, linted through the binary.

mod common;

use common::{check_json, result, status, vhdlint};

#[test]
fn force_size_30g_passes_every_disk_check() {
    let img = fixture_or_skip!("ext4-30g-fixed");
    let (code, r) = check_json(&img, &["--select", "disk/*"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["profile"], "linux-os");
    assert_eq!(r["facts"]["virtual_size"], 30u64 << 30);
    for c in r["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        // disk/boot-mode looks at the boot loader, which this fixture lacks (below)
        if id.starts_with("disk/") && id != "disk/boot-mode" {
            assert!(
                matches!(c["status"].as_str(), Some("pass") | Some("skipped")),
                "{id}: {c:#}"
            );
        }
    }
    assert_eq!(status(&r, "disk/sparse"), "pass");
    assert_eq!(status(&r, "disk/dynamic-structure"), "skipped");
    // sfdisk writes no boot code and the disk has no ESP: it boots neither generation
    assert_eq!(status(&r, "disk/boot-mode"), "warning");
}

#[test]
fn without_force_size_fails_alignment_naming_the_nearest_size_and_fix() {
    let img = fixture_or_skip!("ext4-30g-noforce");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    let c = result(&r, "disk/size-alignment");
    assert_eq!(c["status"], "fail");
    let msg = c["message"].as_str().unwrap();
    // qemu-img rounded 30 GiB up to a CHS size; the nearest whole MiB below is 30 GiB itself.
    assert!(msg.contains("32212254720 bytes (30720 MiB)"), "{msg}");
    assert!(msg.contains("32213303296 bytes (30721 MiB)"), "{msg}");
    assert!(msg.contains("force_size"), "{msg}");
    assert!(c["remedy"].as_str().unwrap().contains("force_size"));
    assert_eq!(
        c["evidence"][0]["offset"],
        r["facts"]["file_size"].as_u64().unwrap() - 512 + 48
    );
}

#[test]
fn dynamic_fails_fixed_and_partitions_are_found_through_the_bat() {
    let img = fixture_or_skip!("ext4-30g-dynamic");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "disk/fixed"), "fail");
    assert!(result(&r, "disk/fixed")["remedy"]
        .as_str()
        .unwrap()
        .contains("subformat=fixed,force_size"));
    assert_eq!(status(&r, "disk/dynamic-structure"), "pass");
    assert_eq!(status(&r, "partition/table"), "pass");
    let parts = r["facts"]["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["start_lba"], 2048);
    assert_eq!(r["facts"]["volumes"][0]["filesystem"], "ext4");
    assert_eq!(r["profile"], "linux-os");
}

#[test]
fn vhdx_and_qcow2_fail_format_with_the_conversion_command() {
    for (name, fmt) in [
        ("ext4-30g-vhdx", "vhdx"),
        ("ext4-30g-qcow2", "qcow2"),
        ("ext4-30g-vmdk", "vmdk"),
        ("vmdk-descriptor", "vmdk"),
    ] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (code, r) = check_json(&img, &[]);
        assert_eq!(code, 1, "{name}");
        let c = result(&r, "disk/format");
        assert_eq!(c["status"], "fail", "{name}");
        let remedy = c["remedy"].as_str().unwrap();
        assert_eq!(
            remedy,
            format!("qemu-img convert -f {fmt} -O vpc -o subformat=fixed,force_size IN OUT.vhd"),
            "{name}"
        );
    }
}

#[test]
fn flipped_footer_byte_fails_checksum() {
    let img = fixture_or_skip!("footer-flipped");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "disk/footer-checksum"), "fail");
    // The other footer fields still read.
    assert_eq!(status(&r, "disk/fixed"), "pass");
}

#[test]
fn missing_file_exits_2() {
    let out = vhdlint(&["check", "/nonexistent/vhdlint-test.vhd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
}

#[test]
fn directory_exits_2() {
    let out = vhdlint(&["check", env!("CARGO_TARGET_TMPDIR")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn random_1000_bytes_exit_1_with_a_json_report() {
    let img = fixture_or_skip!("random-1000");
    let (code, r) = check_json(&img, &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&r, "disk/format"), "fail");
    assert_eq!(status(&r, "disk/footer"), "fail");
    assert_eq!(r["facts"]["file_size"], 1000);
    assert_eq!(r["profile"], "data-disk");
}

#[test]
fn every_catalogue_check_appears_exactly_once() {
    let img = fixture_or_skip!("small-fixed");
    let (_, r) = check_json(&img, &[]);
    let out = vhdlint(&["rules", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every disk check; the publishing checks (profile "publish") judge what is submitted with
    // the disks and appear in the reports of `vhdlint sas` and `vhdlint sku` instead.
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["profiles"] != serde_json::json!(["publish"]))
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 63);
    let got: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, got);
    let s = &r["summary"];
    let total: u64 = ["pass", "fail", "warning", "skipped", "error"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, got.len());
    // Every non-pass result carries actual, required and a remedy.
    for c in r["checks"].as_array().unwrap() {
        if c["status"] != "pass" && c["status"] != "skipped" {
            assert!(
                c["remedy"].is_string() && c["actual"].is_string() && c["required"].is_string(),
                "{c:#}"
            );
            assert!(!c["evidence"].as_array().unwrap().is_empty(), "{c:#}");
        }
    }
}

#[test]
fn every_non_pass_result_carries_actual_required_evidence_and_remedy() {
    let names = [
        "ext4-30g-noforce",
        "ext4-30g-dynamic",
        "ext4-30g-vhdx",
        "footer-flipped",
        "random-1000",
        "raw-mbr",
        "mbr-logical",
        "gpt-damaged-primary",
        "gpt-backup-not-at-end",
        "mbr-first-mib",
        "ebr-loop",
        "differencing",
    ];
    for name in names {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (_, r) = check_json(&img, &["--policy", "current"]);
        for c in r["checks"].as_array().unwrap() {
            match c["status"].as_str().unwrap() {
                "pass" => assert!(c["remedy"].is_null(), "{name}: {c:#}"),
                "skipped" => assert!(!c["message"].as_str().unwrap().is_empty(), "{name}: {c:#}"),
                _ => {
                    for k in ["actual", "required", "message", "remedy"] {
                        assert!(
                            !c[k].as_str().unwrap_or("").is_empty(),
                            "{name}: {k} missing in {c:#}"
                        );
                    }
                    assert!(
                        !c["evidence"].as_array().unwrap().is_empty(),
                        "{name}: no evidence in {c:#}"
                    );
                }
            }
        }
    }
}
