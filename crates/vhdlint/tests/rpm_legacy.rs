//! A RHEL-8-shaped image whose rpm database is a Berkeley DB `/var/lib/rpm/Packages` (as RHEL
//! 7 and 8 keep it): linux/agent-installed takes the agent's package and version from it. The
//! package is built by `rpmbuild`, installed by `rpm --justdb`, its header written by
//! `db_load` and read back by rpm's own `bdb_ro` before the image is made (`mke2fs -d`,
//! `sfdisk`, `qemu-img convert`). The same image without the database says the agent is not
//! installed: the verdict comes from the database.

mod common;
#[path = "common/rpm_legacy.rs"]
mod rpm_legacy;

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::Command;

use common::{check_json, result, skip};
use rpm_legacy::{have, install, rpm_qa, rpmbuild, spec, write_bdb};

#[test]
fn agent_version_comes_from_a_berkeley_db_rpm_database() {
    for t in [
        "rpm", "rpmbuild", "sqlite3", "mke2fs", "sfdisk", "qemu-img", "truncate", "dd",
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            skip("the Berkeley DB guest image", &format!("{t} not found"));
            return;
        }
    }
    if rpm_legacy::db_load().is_none() || !have("rpm") {
        skip(
            "the Berkeley DB guest image",
            "db_load not installed (Debian package db5.3-util)",
        );
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rpm-legacy-guest");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The agent's package, installed into an SQLite database, written as Berkeley DB.
    let rpms = rpmbuild(
        &dir,
        "agent",
        &spec(
            "Name: WALinuxAgent\nVersion: 2.9.1.1\nRelease: 1.el8\nBuildArch: noarch",
            "%files\n",
        ),
    );
    let blobs = install(&dir.join("sqlite"), &rpms);
    let tree = dir.join("tree");
    let dbpath = tree.join("var/lib/rpm");
    std::fs::create_dir_all(&dbpath).unwrap();
    write_bdb(&dbpath.join("Packages"), &blobs, 4096, false);
    std::fs::remove_file(dbpath.join("Packages.dump")).unwrap();
    // rpm itself reads it.
    let qa = rpm_qa(&dbpath, "bdb_ro");
    assert_eq!(qa.len(), 1);
    assert_eq!(
        (qa[0].1.as_str(), qa[0].3.as_str()),
        ("WALinuxAgent", "2.9.1.1")
    );

    for d in [
        "etc/systemd/system/multi-user.target.wants",
        "usr/bin",
        "usr/lib/systemd/system",
        "root",
    ] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    symlink("usr/bin", tree.join("bin")).unwrap();
    let write = |rel: &str, text: &str| std::fs::write(tree.join(rel), text).unwrap();
    write("etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n");
    write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    write(
        "etc/os-release",
        "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"8.9 (Ootpa)\"\nID=\"rhel\"\n\
         ID_LIKE=\"fedora\"\nVERSION_ID=\"8.9\"\n",
    );
    write("usr/lib/systemd/system/waagent.service", "[Service]\n");
    symlink(
        "/usr/lib/systemd/system/waagent.service",
        tree.join("etc/systemd/system/multi-user.target.wants/waagent.service"),
    )
    .unwrap();

    let (_, report) = check_json(
        &rpm_legacy::ext4_vhd(&dir, &tree),
        &["--profile", "linux-os"],
    );
    let r = result(&report, "linux/agent-installed");
    let said = r.to_string();
    assert_eq!(r["status"], "pass", "{said}");
    assert!(
        r["actual"]
            .as_str()
            .unwrap()
            .contains("package WALinuxAgent 2.9.1.1-1.el8"),
        "{said}"
    );
    assert!(said.contains("/var/lib/rpm/Packages"), "{said}");
    assert!(!said.contains("not read"), "{said}");

    // Without the database the same image has no agent.
    std::fs::remove_file(dbpath.join("Packages")).unwrap();
    let (_, report) = check_json(
        &rpm_legacy::ext4_vhd(&dir, &tree),
        &["--profile", "linux-os"],
    );
    let r = result(&report, "linux/agent-installed");
    assert_eq!(r["status"], "fail", "{r}");
    assert_eq!(r["actual"], "not installed", "{r}");
}
