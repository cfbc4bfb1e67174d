//! linux/provisioning-deps, linux/omi and linux/kernel-config on images whose defects are
//! written by the real tools: the Debian 12 root of `fixtures/debian12.sh` with a CIS hardening
//! line in /etc/modprobe.d (which the root's own `modprobe -c` lists), its real kernel
//! configuration with CONFIG_CIFS switched off, and an `omi` 1.6.8-0 package installed by its
//! own `dpkg` (the `provisioning-defects` variant); the same root untouched (`plain-ext4`); and
//! an rpm guest whose `omi` 1.6.8-0 is built by `rpmbuild` and installed by `rpm --root`.

mod common;
#[path = "common/rpm_legacy.rs"]
mod rpm_legacy;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{check_json, debian12_or_skip, result, skip};
use rpm_legacy::{have, rpmbuild, run, spec};
use serde_json::Value;

fn said(r: &Value) -> String {
    r.to_string()
}

#[test]
fn debian_with_cis_hardening_old_omi_and_no_cifs_fails_under_current() {
    let Some(img) = debian12_or_skip("provisioning-defects") else {
        return;
    };
    let (_, r) = check_json(&img, &["--policy", "current"]);
    let p = result(&r, "linux/provisioning-deps");
    assert_eq!(p["status"], "fail", "{}", said(p));
    assert_eq!(
        p["actual"],
        "udf disabled (install udf /bin/true)",
        "{}",
        said(p)
    );
    assert!(
        said(p).contains("/etc/modprobe.d/CIS.conf"),
        "the CIS file is named: {}",
        said(p)
    );
    let o = result(&r, "linux/omi");
    assert_eq!(o["status"], "fail", "{}", said(o));
    assert_eq!(o["actual"], "OMI 1.6.8.0", "{}", said(o));
    assert!(said(o).contains("package omi 1.6.8-0"), "{}", said(o));
    assert!(said(o).contains("/var/lib/dpkg/status"), "{}", said(o));
    let k = result(&r, "linux/kernel-config");
    assert_eq!(k["status"], "fail", "{}", said(k));
    assert!(
        k["actual"]
            .as_str()
            .unwrap()
            .ends_with(": CONFIG_CIFS not set"),
        "{}",
        said(k)
    );
    assert!(said(k).contains("# CONFIG_CIFS is not set"), "{}", said(k));

    // The guide: provisioning still fails; OMI and the kernel configuration warn.
    let (_, r) = check_json(&img, &["--policy", "guide"]);
    assert_eq!(result(&r, "linux/provisioning-deps")["status"], "fail");
    assert_eq!(result(&r, "linux/omi")["status"], "warning");
    assert_eq!(result(&r, "linux/kernel-config")["status"], "warning");
}

#[test]
fn debian_as_debootstrap_leaves_it() {
    let Some(img) = debian12_or_skip("plain-ext4") else {
        return;
    };
    let (_, r) = check_json(&img, &["--policy", "current"]);
    // Debian's real configuration: CONFIG_WATCHDOG=y, CONFIG_CIFS=m.
    let k = result(&r, "linux/kernel-config");
    assert_eq!(k["status"], "pass", "{}", said(k));
    assert!(said(k).contains("CONFIG_WATCHDOG=y"), "{}", said(k));
    assert!(said(k).contains("CONFIG_CIFS=m"), "{}", said(k));
    let o = result(&r, "linux/omi");
    assert_eq!(o["status"], "pass", "{}", said(o));
    // udf and vfat are modules of the cloud kernel; minbase has neither sudo nor sfdisk/parted.
    let p = result(&r, "linux/provisioning-deps");
    assert_eq!(p["status"], "warning", "{}", said(p));
    let actual = p["actual"].as_str().unwrap();
    assert!(
        actual.contains("udf module, vfat module; missing sfdisk or parted, sudo"),
        "{}",
        said(p)
    );
    assert!(said(p).contains("kernel/fs/udf/udf.ko"), "{}", said(p));
}

const MIB: u64 = 1 << 20;

/// A 64 MiB MBR disk with one ext4 partition at 1 MiB made from `tree`, as a fixed VHD.
fn ext4_image(dir: &Path, tree: &Path) -> PathBuf {
    let part = dir.join("part.img");
    let raw = dir.join("disk.raw");
    let vhd = dir.join("disk.vhd");
    for f in [&part, &raw, &vhd] {
        let _ = std::fs::remove_file(f);
    }
    run(Command::new("truncate")
        .arg("-s")
        .arg((63 * MIB).to_string())
        .arg(&part));
    run(Command::new("mke2fs")
        .args(["-F", "-q", "-t", "ext4", "-E", "root_owner=0:0", "-d"])
        .arg(tree)
        .arg(&part));
    run(Command::new("truncate")
        .arg("-s")
        .arg((64 * MIB).to_string())
        .arg(&raw));
    let mut sfdisk = Command::new("sfdisk")
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(&raw)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(b"start=2048, type=83\n")
        .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    run(Command::new("dd")
        .arg(format!("if={}", part.display()))
        .arg(format!("of={}", raw.display()))
        .args(["bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]));
    run(Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "vpc",
            "-o",
            "subformat=fixed,force_size",
        ])
        .arg(&raw)
        .arg(&vhd));
    vhd
}

#[test]
fn an_rpm_installed_omi_1_6_8_0_fails_under_current() {
    for t in [
        "rpm", "rpmbuild", "mke2fs", "sfdisk", "qemu-img", "truncate", "dd",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            skip("the rpm guest with omi", &format!("{t} not found"));
            return;
        }
    }
    if !have("rpm") {
        skip("the rpm guest with omi", "rpm does not run");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("omi-rpm-guest");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rpms = rpmbuild(
        &dir,
        "omi",
        &spec(
            "Name: omi\nVersion: 1.6.8\nRelease: 0\nBuildArch: noarch",
            "%install\nmkdir -p %{buildroot}/opt/omi/bin %{buildroot}/etc/opt/omi/conf\n\
             echo httpsport=0 > %{buildroot}/etc/opt/omi/conf/omiserver.conf\n\
             %files\n/opt/omi\n/etc/opt/omi\n",
        ),
    );
    let tree = dir.join("tree");
    for d in ["etc", "var/lib/rpm", "usr/bin"] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    std::fs::write(tree.join("etc/fstab"), "/dev/sda1 / ext4 defaults 0 1\n").unwrap();
    std::fs::write(
        tree.join("etc/os-release"),
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.4\"\n",
    )
    .unwrap();
    let rpm = |c: &mut Command| {
        c.arg("--root").arg(&tree).args([
            "--dbpath",
            "/var/lib/rpm",
            "--define",
            "_db_backend sqlite",
        ]);
    };
    let mut c = Command::new("rpm");
    rpm(&mut c);
    run(c.arg("--initdb"));
    let mut c = Command::new("rpm");
    rpm(&mut c);
    run(c
        .args(["-i", "--nodeps", "--noscripts", "--ignorearch"])
        .args(&rpms));
    let mut c = Command::new("rpm");
    rpm(&mut c);
    assert_eq!(run(c.args(["-q", "omi"])).trim(), "omi-1.6.8-0.noarch");
    assert!(tree.join("opt/omi/bin").is_dir());

    let img = ext4_image(&dir, &tree);
    let (_, r) = check_json(&img, &["--profile", "linux-os", "--policy", "current"]);
    let o = result(&r, "linux/omi");
    assert_eq!(o["status"], "fail", "{}", said(o));
    assert_eq!(o["actual"], "OMI 1.6.8.0", "{}", said(o));
    assert!(said(o).contains("/var/lib/rpm/rpmdb.sqlite"), "{}", said(o));
    let (_, r) = check_json(&img, &["--profile", "linux-os", "--policy", "guide"]);
    assert_eq!(result(&r, "linux/omi")["status"], "warning");
}
