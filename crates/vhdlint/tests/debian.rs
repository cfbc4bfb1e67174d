//! A real Debian 12 root (debootstrap --variant=minbase with openssh-server, waagent, the cloud
//! kernel, python3, openssl, iptables, ifupdown, isc-dhcp-client, systemd-sysv), linted as
//! debootstrap leaves it and after the VM image guide's remediation, on ext4, XFS, LVM2 with a
//! separate /boot, and inside a dynamic VHD. File contents read by vhdlint are compared with
//! debugfs's.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{check_json, debian12_or_skip, result, skip, status, vhdlint};
use serde_json::Value;

/// Debian 12 image `$v`, or a return from the test when this machine cannot build it (not in a
/// loop: there, `let Some(img) = debian12_or_skip(v) else { continue };`).
macro_rules! debian_or_skip {
    ($v:expr) => {
        match debian12_or_skip($v) {
            Some(p) => p,
            None => return,
        }
    };
}

fn linux_statuses(r: &Value) -> BTreeMap<String, String> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("linux/"))
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn as_debootstrap_leaves_it() {
    let img = debian_or_skip!("plain-ext4");
    let (code, r) = check_json(&img, &["--ignore", "disk/sparse"]);
    assert_eq!(code, 1);
    assert_eq!(r["profile"], "linux-os");
    assert_eq!(r["facts"]["linux"]["os"]["id"], "debian");
    assert_eq!(r["facts"]["linux"]["os"]["version_id"], "12");
    for (id, want) in [
        ("linux/ssh-client-alive", "fail"),
        ("linux/kernel-cmdline", "fail"),
        ("linux/ssh-host-keys", "fail"),
        ("linux/agent-installed", "pass"),
        ("linux/hyperv-drivers", "pass"),
        ("partition/os-found", "pass"),
    ] {
        assert_eq!(status(&r, id), want, "{id}: {:#}", result(&r, id));
    }
    let agent = result(&r, "linux/agent-installed");
    assert!(
        agent["actual"]
            .as_str()
            .unwrap()
            .contains("version 2.7.3.0"),
        "{agent:#}"
    );
    let alive = result(&r, "linux/ssh-client-alive");
    assert_eq!(alive["actual"], "not set (sshd default 0)");
    let cmdline = result(&r, "linux/kernel-cmdline");
    assert_eq!(cmdline["evidence"][0]["path"], "/boot/grub/grub.cfg");
    assert!(cmdline["evidence"][0]["line"].as_u64().is_some());
    // What else debootstrap leaves behind: the build machine's resolv.conf, hostname and machine-id.
    assert_eq!(status(&r, "linux/resolv-conf"), "warning");
    assert_eq!(status(&r, "linux/hostname"), "warning");
    assert_eq!(status(&r, "linux/agent-state"), "warning");
}

#[test]
fn remediated_passes_every_check() {
    let img = debian_or_skip!("remediated-ext4");
    let (code, r) = check_json(&img, &[]);
    let failing: Vec<&Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" || c["status"] == "error")
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
    assert_eq!(code, 0);
    assert_eq!(status(&r, "linux/ssh-client-alive"), "pass");
    assert_eq!(
        result(&r, "linux/ssh-client-alive")["actual"],
        "180 seconds"
    );
    assert_eq!(status(&r, "linux/kernel-cmdline"), "pass");
}

#[test]
fn xfs_lvm_and_dynamic_give_the_same_linux_verdicts() {
    let reference = debian_or_skip!("remediated-ext4");
    let (_, r) = check_json(&reference, &["--ignore", "disk/sparse"]);
    let want = linux_statuses(&r);
    for variant in ["remediated-xfs", "remediated-lvm", "remediated-dynamic"] {
        let Some(img) = debian12_or_skip(variant) else {
            continue;
        };
        let (_, r) = check_json(&img, &["--ignore", "disk/sparse"]);
        assert_eq!(linux_statuses(&r), want, "{variant}");
        assert_eq!(r["profile"], "linux-os", "{variant}");
        if variant == "remediated-lvm" {
            assert_eq!(r["facts"]["linux"]["root_volume"], "vg0/root");
            let mounts = r["facts"]["linux"]["mounts"].as_array().unwrap();
            let boot = mounts
                .iter()
                .find(|m| m["point"] == "/boot")
                .expect("/boot mounted from fstab");
            assert_eq!(boot["volume"], "p1");
            assert!(boot["reason"]
                .as_str()
                .unwrap()
                .starts_with("/etc/fstab line"));
        }
        if variant == "remediated-xfs" {
            assert_eq!(r["facts"]["volumes"][0]["filesystem"], "xfs");
        }
    }
}

/// Runs `debugfs -R CMD` on the ext4 partition of `img` through a read-only loop device.
fn debugfs(img: &std::path::Path, offset: u64, cmds: &[String]) -> Option<Vec<Vec<u8>>> {
    let out = match Command::new("losetup")
        .args(["-r", "-f", "--show", "-o", &offset.to_string()])
        .arg(img)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            skip(
                "the debugfs comparison",
                &format!("losetup cannot run: {e}"),
            );
            return None;
        }
    };
    if !out.status.success() {
        skip(
            "the debugfs comparison",
            &format!("losetup: {}", String::from_utf8_lossy(&out.stderr).trim()),
        );
        return None;
    }
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let results = cmds
        .iter()
        .map(|c| {
            Command::new("debugfs")
                .args(["-R", c, &dev])
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default()
        })
        .collect();
    let _ = Command::new("losetup").args(["-d", &dev]).status();
    Some(results)
}

#[test]
fn file_contents_and_listings_match_debugfs() {
    let img = debian_or_skip!("plain-ext4");
    let (_, r) = check_json(&img, &["--select", "partition/*"]);
    let offset = r["facts"]["partitions"][0]["start_lba"].as_u64().unwrap() * 512;
    let kernel = {
        let (_, r) = check_json(&img, &["--select", "linux/hyperv-drivers"]);
        r["facts"]["linux"]["kernel"].as_str().unwrap().to_string()
    };
    // Files the checks read (canonical paths: Debian 12 has merged /usr).
    let files = [
        "/usr/lib/os-release".to_string(),
        "/etc/fstab".into(),
        "/etc/hostname".into(),
        "/etc/ssh/sshd_config".into(),
        "/etc/waagent.conf".into(),
        "/etc/passwd".into(),
        "/etc/shadow".into(),
        "/etc/default/grub".into(),
        "/boot/grub/grub.cfg".into(),
        "/etc/network/interfaces".into(),
        "/var/lib/dpkg/status".into(),
        "/etc/machine-id".into(),
        format!("/usr/lib/modules/{kernel}/modules.dep"),
        format!("/usr/lib/modules/{kernel}/modules.builtin"),
        format!("/boot/initrd.img-{kernel}"),
        "/usr/lib/python3/dist-packages/azurelinuxagent/common/version.py".into(),
    ];
    let dirs = [
        "/etc/ssh",
        "/etc/systemd/system/multi-user.target.wants",
        "/var/lib/waagent",
        "/var/lib/dhcp",
        "/boot",
        "/usr/lib/modules",
    ];
    let cmds: Vec<String> = files
        .iter()
        .map(|f| format!("cat {f}"))
        .chain(dirs.iter().map(|d| format!("ls -p {d}")))
        .collect();
    let Some(truth) = debugfs(&img, offset, &cmds) else {
        return;
    };
    for (f, want) in files.iter().zip(&truth) {
        let out = vhdlint(&["cat", img.to_str().unwrap(), f]);
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !want.is_empty() || out.stdout.is_empty(),
            "{f}: debugfs read nothing"
        );
        assert_eq!(out.stdout.len(), want.len(), "{f}");
        assert!(out.stdout == *want, "{f}: contents differ");
    }
    for (d, listing) in dirs.iter().zip(&truth[files.len()..]) {
        // debugfs ls -p: /inode/mode/uid/gid/name/size/ per entry.
        let mut want: Vec<String> = String::from_utf8_lossy(listing)
            .lines()
            .filter_map(|l| l.split('/').nth(5).map(str::to_string))
            .filter(|n| !n.is_empty() && n != "." && n != "..")
            .collect();
        want.sort();
        let out = vhdlint(&["ls", img.to_str().unwrap(), d]);
        let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' ').map(|x| x.1.to_string()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{d}");
    }
}

#[test]
fn xfs_contents_match_the_ext4_image_built_from_the_same_tree() {
    // The XFS image is built from the same remediated tree as the ext4 one, whose contents are
    // checked against debugfs above; equal bytes here check the XFS reader independently.
    let ext4 = debian_or_skip!("remediated-ext4");
    let xfs = debian_or_skip!("remediated-xfs");
    // (grub.cfg and fstab differ: they name each image's own root UUID.)
    for f in [
        "/etc/os-release",
        "/etc/ssh/sshd_config",
        "/etc/waagent.conf",
        "/etc/default/grub",
        "/var/lib/dpkg/status",
        "/etc/passwd",
        "/usr/lib/python3/dist-packages/azurelinuxagent/common/version.py",
    ] {
        let a = vhdlint(&["cat", ext4.to_str().unwrap(), f]);
        let b = vhdlint(&["cat", xfs.to_str().unwrap(), f]);
        assert!(a.status.success() && b.status.success(), "{f}");
        assert!(a.stdout == b.stdout, "{f} differs between ext4 and XFS");
    }
    let a = vhdlint(&["ls", ext4.to_str().unwrap(), "/usr/bin"]);
    let b = vhdlint(&["ls", xfs.to_str().unwrap(), "/usr/bin"]);
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
}
