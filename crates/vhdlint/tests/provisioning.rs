//! linux/provisioning-deps, linux/omi and linux/kernel-config on images whose defects are
//! written by the real tools: the Debian 12 root of `fixtures/debian12.sh` with a CIS hardening
//! line in /etc/modprobe.d (which the root's own `modprobe -c` lists), its real kernel
//! configuration with CONFIG_CIFS switched off, and an `omi` 1.6.8-0 package installed by its
//! own `dpkg` (the `provisioning-defects` variant); the same root untouched (`plain-ext4`); and
//! an rpm guest whose `omi` 1.6.8-0 is built by `rpmbuild` and installed by `rpm --root`.

mod common;
#[path = "common/rpm_legacy.rs"]
mod rpm_legacy;

use std::path::PathBuf;
use std::process::Command;

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

    let img = rpm_legacy::ext4_vhd(&dir, &tree);
    let (_, r) = check_json(&img, &["--profile", "linux-os", "--policy", "current"]);
    let o = result(&r, "linux/omi");
    assert_eq!(o["status"], "fail", "{}", said(o));
    assert_eq!(o["actual"], "OMI 1.6.8.0", "{}", said(o));
    assert!(said(o).contains("/var/lib/rpm/rpmdb.sqlite"), "{}", said(o));
    let (_, r) = check_json(&img, &["--profile", "linux-os", "--policy", "guide"]);
    assert_eq!(result(&r, "linux/omi")["status"], "warning");
}

/// Debian's real kernel configuration, read by vhdlint's parser and by `grep` (as LISA
/// reads it: `grep ^CONFIG_X=y`): the same symbols are on, modules, off, and set otherwise,
/// and a handful of options have the values the file gives them.
#[test]
fn debians_kernel_configuration_reads_as_grep_reads_it() {
    use vhdlint_guest::config::kconfig::{parse, Value};
    let Some(tar) = common::debian12_rootfs_or_skip() else {
        return;
    };
    let list = run(Command::new("tar").arg("-tf").arg(&tar));
    let member = list
        .lines()
        .find(|l| l.starts_with("./boot/config-"))
        .expect("a /boot/config-VERSION in the Debian root")
        .to_string();
    let text = run(Command::new("tar").arg("-xOf").arg(&tar).arg(&member));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kconfig-grep");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config");
    std::fs::write(&file, &text).unwrap();
    let grep = |pattern: &str| -> Vec<String> {
        let out = Command::new("grep")
            .args(["-E", pattern])
            .arg(&file)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let cfg = parse(&text);
    let names = |v: &dyn Fn(&Value) -> bool| -> Vec<String> {
        cfg.symbols
            .iter()
            .filter(|(_, s)| v(&s.value))
            .map(|(n, _)| format!("CONFIG_{n}"))
            .collect()
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let on = sorted(
        grep("^CONFIG_[A-Za-z0-9_]+=y$")
            .iter()
            .map(|l| l.trim_end_matches("=y").to_string())
            .collect(),
    );
    let modules = sorted(
        grep("^CONFIG_[A-Za-z0-9_]+=m$")
            .iter()
            .map(|l| l.trim_end_matches("=m").to_string())
            .collect(),
    );
    let off = sorted(
        grep("^# CONFIG_[A-Za-z0-9_]+ is not set$")
            .iter()
            .map(|l| l[2..].trim_end_matches(" is not set").to_string())
            .collect(),
    );
    let other = grep("^CONFIG_[A-Za-z0-9_]+=[^ym]|^CONFIG_[A-Za-z0-9_]+=[ym].");
    assert!(on.len() > 1000 && modules.len() > 1000 && off.len() > 1000);
    assert_eq!(names(&|v| *v == Value::Yes), on);
    assert_eq!(names(&|v| *v == Value::Module), modules);
    assert_eq!(names(&|v| *v == Value::No), off);
    assert_eq!(names(&|v| matches!(v, Value::Other(_))).len(), other.len());
    for (sym, want) in [
        ("CONFIG_WATCHDOG", "CONFIG_WATCHDOG=y"),
        ("CONFIG_CIFS", "CONFIG_CIFS=m"),
        ("CONFIG_UDF_FS", "CONFIG_UDF_FS=m"),
        ("CONFIG_VFAT_FS", "CONFIG_VFAT_FS=m"),
        ("CONFIG_HYPERV", "CONFIG_HYPERV=m"),
    ] {
        let s = cfg.get(sym).unwrap();
        assert_eq!(s.text, want);
        let n = run(Command::new("grep").args(["-n", "-x", want]).arg(&file));
        assert_eq!(n.split(':').next().unwrap(), s.line.to_string(), "{sym}");
    }
    let local = grep("^CONFIG_LOCALVERSION=");
    assert_eq!(local.len(), 1);
    let quoted = local[0].trim_start_matches("CONFIG_LOCALVERSION=");
    assert_eq!(
        cfg.get("LOCALVERSION").unwrap().value,
        Value::Other(quoted.trim_matches('"').to_string())
    );
}
