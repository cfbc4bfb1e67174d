//! `vhdlint fix` end to end on a root written by the real tools: the Debian 12 root of
//! `fixtures/debian12.sh` as plain-ext4 has it (debootstrap's host keys, no ClientAliveInterval,
//! no serial console, the build host's resolv.conf and hostname, a machine-id). The script is
//! run as root in a chroot of that root with /proc mounted, the image is rebuilt from the
//! changed root, and `vhdlint check` must then exit 0; a second run of the script must change
//! nothing; sshd itself (`sshd -T` in the chroot) must read the interval the script set.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{check_json, debian12_cache_dir, debian12_script_or_skip, status, vhdlint};

/// /proc mounted in a root for as long as it lives.
struct ProcMount(PathBuf);

impl ProcMount {
    fn new(root: &Path) -> Self {
        let proc = root.join("proc");
        let ok = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc)
            .status()
            .expect("mount runs")
            .success();
        assert!(ok, "mount -t proc proc {}", proc.display());
        ProcMount(proc)
    }
}

impl Drop for ProcMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Every entry of the tree but /proc and /tmp: path → (size, mode, mtime in ns, link target).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, u32, i64, Option<PathBuf>)> {
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut BTreeMap<PathBuf, (u64, u32, i64, Option<PathBuf>)>,
    ) {
        for e in std::fs::read_dir(dir).expect("reads the directory") {
            let p = e.expect("an entry").path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new("proc") || rel == Path::new("tmp") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).expect("stats");
            let link = m
                .file_type()
                .is_symlink()
                .then(|| std::fs::read_link(&p).unwrap());
            out.insert(
                rel,
                (
                    m.size(),
                    m.mode(),
                    m.mtime() * 1_000_000_000 + m.mtime_nsec(),
                    link,
                ),
            );
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Runs the script in a chroot of `root`: its standard output.
fn run_in_chroot(root: &Path, script: &str) -> String {
    std::fs::write(root.join("tmp/vhdlint-fix.sh"), script).unwrap();
    let out = Command::new("chroot")
        .arg(root)
        .args(["/bin/sh", "/tmp/vhdlint-fix.sh"])
        .output()
        .expect("chroot runs");
    std::fs::remove_file(root.join("tmp/vhdlint-fix.sh")).unwrap();
    assert!(
        out.status.success(),
        "the script failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What fails on that root before the script, and passes after it.
const FAILING: [&str; 7] = [
    "linux/ssh-host-keys",
    "linux/ssh-client-alive",
    "linux/kernel-cmdline",
    "linux/shell-history",
    "linux/no-swap",
    "linux/provisioning-deps",
    "linux/dhcp-leases",
];

#[test]
fn the_script_makes_the_debootstrapped_debian_image_pass() {
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
    // More of what a build leaves, written in a chroot by the root's own tools: bash's history
    // (an interactive bash writing its history on exit), a swap file made by mkswap and listed in fstab, a CIS hardening line that
    // disables udf, and a lease as dhclient writes it.
    let defects = r#"set -e
i=0; while [ $i -lt 60 ]; do i=$((i + 1)); echo "echo building step $i of the image >/dev/null"; done | HOME=/root HISTFILE=/root/.bash_history bash -i >/dev/null 2>&1
test -s /root/.bash_history
dd if=/dev/zero of=/swapfile bs=1M count=1 2>/dev/null && chmod 600 /swapfile && mkswap /swapfile >/dev/null
echo '/swapfile none swap sw 0 0' >>/etc/fstab
printf '%s\n' '# CIS Debian Linux 12 Benchmark' 'install udf /bin/true' >/etc/modprobe.d/CIS.conf
mkdir -p /var/lib/dhcp
printf 'lease {\n  interface "eth0";\n  fixed-address 10.0.0.4;\n}\n' >/var/lib/dhcp/dhclient.eth0.leases
"#;
    let made = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "-c", defects])
        .status()
        .unwrap();
    assert!(made.success(), "writing the defects in the chroot");
    let image_of = |name: &str| -> PathBuf {
        let out = dir.path().join(name);
        debian12_script_or_skip(
            "an image of the root (debian12.sh image-of-root)",
            &[
                OsStr::new("image-of-root"),
                root.as_os_str(),
                out.as_os_str(),
            ],
        )
        .expect("the root was built, so its image can be")
    };
    let before = image_of("before.vhd");
    let (code, report) = check_json(&before, &[]);
    assert_eq!(code, 1, "the plain image fails");
    for id in FAILING {
        assert_eq!(status(&report, id), "fail", "{id} before the fix");
    }

    let out = vhdlint(&["fix", before.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    let parses = Command::new("sh")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(parses.success(), "sh -n rejects the script:\n{script}");
    for id in FAILING {
        assert!(
            script.contains(&format!("# ---- {id} (fail)")),
            "a block for {id}:\n{script}"
        );
    }
    // What has no mechanical fix is listed with its remedy, not silently dropped.
    assert!(script.contains("#   linux/python (warning)"), "{script}");

    let said = {
        let _proc = ProcMount::new(&root);
        let said = run_in_chroot(&root, &script);
        let first = snapshot(&root);
        let again = run_in_chroot(&root, &script);
        assert_eq!(again, "", "a second run says it changed something");
        assert!(first == snapshot(&root), "a second run changed the tree");

        // sshd's own reading of its configuration, with a throw-away host key (the script
        // deleted the image's).
        let keygen = Command::new("chroot")
            .arg(&root)
            .args([
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                "/tmp/hostkey",
            ])
            .status()
            .unwrap();
        assert!(keygen.success());
        // sshd -T wants its privilege separation directory (made at boot by systemd).
        let run_sshd = root.join("run/sshd");
        let made = !run_sshd.exists();
        std::fs::create_dir_all(&run_sshd).unwrap();
        let t = Command::new("chroot")
            .arg(&root)
            .args(["/usr/sbin/sshd", "-T", "-h", "/tmp/hostkey"])
            .output()
            .unwrap();
        if made {
            std::fs::remove_dir(&run_sshd).unwrap();
        }
        let _ = std::fs::remove_file(root.join("tmp/hostkey"));
        let _ = std::fs::remove_file(root.join("tmp/hostkey.pub"));
        let t = format!(
            "{}{}",
            String::from_utf8_lossy(&t.stdout),
            String::from_utf8_lossy(&t.stderr)
        );
        assert!(
            t.lines().any(|l| l == "clientaliveinterval 180"),
            "sshd -T:\n{t}"
        );
        said
    };
    for change in [
        "deleted /etc/ssh/ssh_host_rsa_key",
        "added ClientAliveInterval 180 as the first line of /etc/ssh/sshd_config",
        "added console=ttyS0,115200n8 to GRUB_CMDLINE_LINUX in /etc/default/grub",
        "deleted the swap file /swapfile",
        "deleted line 2 of /etc/modprobe.d/CIS.conf (it disabled udf or vfat)",
        "deleted /root/.bash_history",
        "set Provisioning.Agent=auto in /etc/waagent.conf",
    ] {
        assert!(said.contains(change), "the script says {change:?}:\n{said}");
    }
    assert!(!root.join("etc/ssh/ssh_host_rsa_key").exists());

    let after = image_of("after.vhd");
    let (code, report) = check_json(&after, &[]);
    for id in FAILING
        .iter()
        .filter(|id| **id != "linux/provisioning-deps")
        .chain(&["linux/agent-config", "linux/hostname", "linux/resolv-conf"])
    {
        assert_eq!(status(&report, id), "pass", "{id} after the fix");
    }
    // The missing sfdisk/parted and sudo stay: installing packages is left to the build.
    assert_eq!(status(&report, "linux/provisioning-deps"), "warning");
    assert_eq!(code, 0, "check after the fix: {report:#}");
}
