//! `vhdlint fix --format virt-customize` applied by the real `virt-customize` (guestfs-tools) to
//! a copy of an image, against the sh form's round trip on the same root: the Debian 12 root of
//! `fixtures/debian12.sh` with the defects of `tests/fix.rs`, and DHCP lease files whose names
//! a hostile image could hold (a quote and `$(…)`, a newline followed by a command of the file,
//! glob characters, a backslash at the end). Both fixed images must get the same verdicts, the
//! failing checks must pass, and no name may have run a command or deleted a file it does not
//! name.
//!
//! One test, run once in the suite: virt-customize boots its appliance under emulation (TCG)
//! (35 to 50 s of a test of about 100 s on a 2-core machine).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{
    check_json, debian12_cache_dir, debian12_script_or_skip, result, skip, status, vhdlint,
};

/// What fails on that root before the fix and passes after it, in both forms.
const FIXED: [&str; 6] = [
    "linux/ssh-host-keys",
    "linux/ssh-client-alive",
    "linux/kernel-cmdline",
    "linux/shell-history",
    "linux/no-swap",
    "linux/dhcp-leases",
];

/// Lease files (non-empty: the check lists them, the fix deletes them) with hostile names. A
/// name holds no `/`: the commands spell it `\057` for printf.
const HOSTILE_LEASES: [&[u8]; 6] = [
    b"q'$(touch $(printf '\\057PWNED-quote'))'",
    b"n\nrun-command touch $(printf '\\057PWNED-newline')",
    b"c\n# comment\\",
    b"b*",
    b"{b-keep,x}",
    b"e\\",
];

/// An empty file beside them: no lease (the check passes it), so nothing may delete it; `b*`
/// and `{b-keep,x}` would match it as globs.
const KEEP: &str = "var/lib/dhcp/b-keep";

/// Whether `path` exists in the ext4 root of a plain-ext4 image (its first partition), as
/// e2fsprogs' debugfs reads it.
fn exists_in_image(image: &Path, path: &str) -> bool {
    let table = Command::new("sfdisk")
        .arg("-J")
        .arg(image)
        .output()
        .unwrap();
    assert!(table.status.success(), "sfdisk -J {}", image.display());
    let table: serde_json::Value = serde_json::from_slice(&table.stdout).unwrap();
    let start = table["partitiontable"]["partitions"][0]["start"]
        .as_u64()
        .expect("a first partition");
    let out = Command::new("debugfs")
        .arg("-R")
        .arg(format!("stat \"{path}\""))
        .arg(format!("{}?offset={}", image.display(), start * 512))
        .output()
        .expect("debugfs runs");
    String::from_utf8_lossy(&out.stdout).contains("Inode:")
}

fn statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    common::statuses(report).into_iter().collect()
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn virt_customize_applies_the_same_fix_as_the_sh_form() {
    for tool in ["virt-customize", "debugfs", "sfdisk"] {
        if !on_path(tool) {
            skip(
                "the virt-customize form applied by virt-customize",
                &format!("{tool} is not installed (Debian: guestfs-tools and linux-image-amd64, e2fsprogs, fdisk; scripts/setup-system)"),
            );
            return;
        }
    }
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tempfile::tempdir_in(&base).unwrap();
    let root = dir.path().join("root");
    let cache = debian12_cache_dir();
    let Some(_) = debian12_script_or_skip(
        "the Debian 12 root (debian12.sh plain-root)",
        &["plain-root".as_ref(), cache.as_os_str(), root.as_os_str()],
    ) else {
        return;
    };
    let made = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "-c", common::BUILD_LEFTOVERS])
        .status()
        .unwrap();
    assert!(made.success(), "writing the defects in the chroot");
    let dhcp = root.join("var/lib/dhcp");
    for name in HOSTILE_LEASES {
        std::fs::write(dhcp.join(OsStr::from_bytes(name)), "lease {}\n").unwrap();
    }
    std::fs::write(root.join(KEEP), "").unwrap();
    let image_of = |name: &str| common::debian12_image_of_root(&root, &dir.path().join(name));
    let before = image_of("before.vhd");
    let (code, report) = check_json(&before, &[]);
    assert_eq!(code, 1, "the image fails before the fix");
    for id in FIXED {
        assert_eq!(status(&report, id), "fail", "{id} before the fix");
    }
    let leases = result(&report, "linux/dhcp-leases")["evidence"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(leases, 1 + HOSTILE_LEASES.len(), "{report:#}");

    // Both forms from the same image.
    let commands = dir.path().join("fix.virt-customize");
    let out = vhdlint(&[
        "fix",
        "--format",
        "virt-customize",
        "-o",
        commands.to_str().unwrap(),
        before.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = common::fix_script(&[before.to_str().unwrap()]);

    // The virt-customize form, applied to a copy of the image.
    let copy = dir.path().join("virt-customize.vhd");
    let cp = Command::new("cp")
        .arg("--sparse=always")
        .arg(&before)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    let mut vc = Command::new("virt-customize");
    vc.args(["--no-network", "--format", "raw", "-a"])
        .arg(&copy)
        .arg("--commands-from-file")
        .arg(&commands)
        .env("LIBGUESTFS_BACKEND", "direct");
    // Emulation unless told otherwise: a nested KVM may refuse the appliance's CPU model.
    if std::env::var_os("LIBGUESTFS_BACKEND_SETTINGS").is_none() {
        vc.env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg");
    }
    let started = Instant::now();
    let ran = vc.output().expect("virt-customize runs");
    let took = started.elapsed();
    let _ = writeln!(
        std::io::stderr(),
        "virt-customize took {:.1} s",
        took.as_secs_f64()
    );
    assert!(
        ran.status.success(),
        "virt-customize failed ({}):\n{}\n{}\ncommands:\n{}",
        ran.status,
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr),
        std::fs::read_to_string(&commands).unwrap()
    );

    // The sh form's round trip: run in a chroot of the root, the image rebuilt from it.
    let mounted = Command::new("mount")
        .args(["-t", "proc", "proc"])
        .arg(root.join("proc"))
        .status()
        .unwrap();
    assert!(mounted.success());
    std::fs::write(root.join("tmp/vhdlint-fix.sh"), &script).unwrap();
    let sh = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "/tmp/vhdlint-fix.sh"])
        .output()
        .unwrap();
    let _ = Command::new("umount").arg(root.join("proc")).status();
    std::fs::remove_file(root.join("tmp/vhdlint-fix.sh")).unwrap();
    assert!(
        sh.status.success(),
        "the sh form failed:\n{}",
        String::from_utf8_lossy(&sh.stderr)
    );
    let by_sh = image_of("sh.vhd");

    let (vc_code, vc_report) = check_json(&copy, &[]);
    let (sh_code, sh_report) = check_json(&by_sh, &[]);
    assert_eq!(
        statuses(&vc_report),
        statuses(&sh_report),
        "the same verdicts after either form"
    );
    for id in FIXED {
        assert_eq!(status(&vc_report, id), "pass", "{id} after virt-customize");
    }
    assert_eq!((vc_code, sh_code), (0, 0), "{vc_report:#}");

    // No name ran a command or widened a delete, in either image; nothing was left behind.
    for image in [&copy, &by_sh] {
        for path in ["/PWNED-quote", "/PWNED-newline", "/tmp/builder.log"] {
            assert!(
                !exists_in_image(image, path),
                "{path} in {}",
                image.display()
            );
        }
        assert!(
            exists_in_image(image, &format!("/{KEEP}")),
            "/{KEEP} deleted in {}",
            image.display()
        );
    }
}
