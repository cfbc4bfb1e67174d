//! Every windows/ check on Windows-shaped images (NTFS built with mkntfs + ntfscp, hives written
//! by fixtures/mkhive.py and checked with hivex in the guest crate's tests).

mod common;

use common::{check_json, result, status};

#[test]
fn generalized_server_passes_every_windows_check_and_os_size() {
    for name in ["win-generalized-gpt", "win-generalized-mbr"] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (code, r) = check_json(&img, &["--ignore", "disk/sparse"]);
        assert_eq!(r["profile"], "windows-os", "{name}");
        for c in r["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            if id.starts_with("windows/") || id == "disk/os-size" || id == "partition/os-found" {
                assert_eq!(c["status"], "pass", "{name} {id}: {c:#}");
            }
        }
        assert_eq!(code, 0, "{name}: {r:#}");
        assert_eq!(
            result(&r, "windows/version")["actual"],
            "Windows Server 2012 R2 Datacenter (build 9600)"
        );
    }
}

#[test]
fn each_defect_fails_its_check() {
    for (name, id, want, needle) in [
        (
            "win-complete",
            "windows/generalized",
            "fail",
            "IMAGE_STATE_COMPLETE",
        ),
        ("win-client", "windows/version", "fail", "Windows 10 Pro"),
        (
            "win-rdp-off",
            "windows/rdp",
            "fail",
            "fDenyTSConnections = 1",
        ),
        ("win-i386", "windows/architecture", "fail", "i386"),
        ("win-bitlocker", "windows/ntfs", "fail", "BitLocker"),
        (
            "win-unattend",
            "windows/unattend",
            "warning",
            "unattend.xml",
        ),
        (
            "win-pagefile-e",
            "windows/drives",
            "warning",
            "E:\\pagefile.sys",
        ),
    ] {
        let Some(img) = common::fixture_or_skip(name) else {
            continue;
        };
        let (code, r) = check_json(&img, &["--profile", "windows-os", "--select", "windows/*"]);
        let c = result(&r, id);
        assert_eq!(c["status"], want, "{name} {id}: {c:#}");
        assert!(
            c["message"].as_str().unwrap().contains(needle),
            "{name} {id}: {c:#}"
        );
        assert!(!c["evidence"].as_array().unwrap().is_empty(), "{name} {id}");
        assert_eq!(code, i32::from(want == "fail"), "{name}");
        // The other windows/ checks are not disturbed by this defect (BitLocker hides them all).
        if name != "win-bitlocker" {
            for other in r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|o| o["id"] != id)
            {
                assert_eq!(other["status"], "pass", "{name}: {other:#}");
            }
        }
    }
}

#[test]
fn rdp_follows_the_current_control_set() {
    // ControlSet002 denies connections in the generalized image and allows them in
    // win-rdp-off: only Select\Current decides.
    let img = fixture_or_skip!("win-generalized-mbr");
    let (_, r) = check_json(&img, &["--select", "windows/rdp"]);
    let c = result(&r, "windows/rdp");
    assert_eq!(c["status"], "pass");
    assert!(c["evidence"][0]["text"]
        .as_str()
        .unwrap()
        .contains("ControlSet001"));
}

#[test]
fn dirty_hive_is_reported() {
    let img = fixture_or_skip!("win-dirty-hive");
    let (_, r) = check_json(&img, &["--select", "windows/*"]);
    let c = result(&r, "windows/version");
    assert!(
        c["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().unwrap().contains("dirty")),
        "{c:#}"
    );
}

#[test]
fn os_found_and_profile_detection() {
    let img = fixture_or_skip!("win-no-system32");
    let (_, r) = check_json(&img, &[]);
    assert_eq!(r["profile"], "data-disk");
    let (_, r) = check_json(
        &img,
        &[
            "--profile",
            "windows-os",
            "--select",
            "partition/os-found,windows/ntfs",
        ],
    );
    assert_eq!(status(&r, "partition/os-found"), "fail");
    assert!(result(&r, "partition/os-found")["message"]
        .as_str()
        .unwrap()
        .contains("\\Windows\\System32"));
    assert_eq!(status(&r, "windows/ntfs"), "fail");
    // A Windows image declared as Linux: the wrong OS is found.
    let img = fixture_or_skip!("win-client");
    let (_, r) = check_json(
        &img,
        &["--profile", "linux-os", "--select", "partition/os-found"],
    );
    assert_eq!(status(&r, "partition/os-found"), "fail");
}
