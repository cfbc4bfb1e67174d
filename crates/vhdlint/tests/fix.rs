//! `vhdlint fix` end to end on roots written by the real tools: the Debian 12 root of
//! `fixtures/debian12.sh` as plain-ext4 has it (debootstrap's host keys, no ClientAliveInterval,
//! no serial console, the build host's resolv.conf and hostname, a machine-id), and the same
//! root after `apt-get install cloud-init netplan.io` and cloud-init's first boot. The script is
//! run as root in a chroot of that root with /proc mounted, the image is rebuilt from the
//! changed root, and `vhdlint check` must then exit 0; a second run of the script must change
//! nothing; sshd itself (`sshd -T` in the chroot) must read the interval the script set.
//! The PowerShell form is checked on every Windows fixture (structure, no password).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    check_json, debian12_cache_dir, debian12_script_or_skip, status, vhdlint, BUILD_LEFTOVERS,
};
use serde_json::Value;

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
fn snapshot(root: &Path) -> Snapshot {
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

/// The root filesystem's UUID and partition 1's PARTUUID in `debian12.sh image-of-root`'s
/// images (D12_ROOT_UUID, label-id 0xd1200001).
const ROOT_UUID: &str = "d12a0b1c-2d3e-4f50-8a61-72839405a6b1";
const ROOT_PARTUUID: &str = "d1200001-01";

/// While it lives, the disk the root will be on, as grub-mkconfig asks about it: the fixtures'
/// grub-probe stand-in (fixtures/grub-probe-standin.sh, answering from GRUB_PROBE_UUID and
/// GRUB_PROBE_PARTUUID) over the root's grub-probe, and /dev/sda1 with its by-uuid link. The
/// real update-grub and /etc/grub.d scripts then run in the chroot as in the build VM.
struct AttachedDisk(PathBuf);

impl AttachedDisk {
    fn new(root: &Path) -> Option<Self> {
        let probe = root.join("usr/sbin/grub-probe");
        if !probe.exists() {
            return None;
        }
        std::fs::rename(&probe, root.join("usr/sbin/grub-probe.real")).unwrap();
        let standin =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/grub-probe-standin.sh");
        std::fs::copy(standin, &probe).unwrap();
        std::fs::set_permissions(&probe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        std::fs::create_dir_all(root.join("dev/disk/by-uuid")).unwrap();
        std::fs::write(root.join("dev/sda1"), b"").unwrap();
        std::os::unix::fs::symlink("../../sda1", root.join("dev/disk/by-uuid").join(ROOT_UUID))
            .unwrap();
        Some(AttachedDisk(root.to_path_buf()))
    }
}

impl Drop for AttachedDisk {
    fn drop(&mut self) {
        let r = &self.0;
        let _ = std::fs::rename(
            r.join("usr/sbin/grub-probe.real"),
            r.join("usr/sbin/grub-probe"),
        );
        let _ = std::fs::remove_dir_all(r.join("dev/disk"));
        let _ = std::fs::remove_file(r.join("dev/sda1"));
    }
}

type Snapshot = BTreeMap<PathBuf, (u64, u32, i64, Option<PathBuf>)>;

/// The two snapshots are the same: a second run of the script changed nothing.
fn same_tree(once: &Snapshot, twice: &Snapshot, what: &str) {
    let changed: Vec<_> = twice
        .iter()
        .filter(|(p, v)| once.get(*p) != Some(*v))
        .map(|(p, _)| p)
        .chain(once.keys().filter(|p| !twice.contains_key(*p)))
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: a second run changed {changed:?}"
    );
}

/// Runs the script in a chroot of `root` with `/bin/sh`: its standard output.
fn run_in_chroot(root: &Path, script: &str) -> String {
    run_script(root, script, &["/bin/sh"])
}

/// Runs the script in a chroot of `root` through `shell` (the command and its first arguments):
/// its standard output, or a failed test with what it printed.
fn run_script(root: &Path, script: &str, shell: &[&str]) -> String {
    std::fs::write(root.join("tmp/vhdlint-fix.sh"), script).unwrap();
    let out = Command::new("chroot")
        .arg(root)
        .args(shell)
        .arg("/tmp/vhdlint-fix.sh")
        .env("GRUB_PROBE_UUID", ROOT_UUID)
        .env("GRUB_PROBE_PARTUUID", ROOT_PARTUUID)
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

/// A round trip: a Debian 12 root from `fixtures/debian12.sh` (`plain-root` or `cloud-root`),
/// more of what a build leaves written in a chroot by the root's own tools (`defects`), and
/// `boot` run on the host (cloud-init's first boot); then image → `vhdlint fix` → the script in
/// a chroot with /proc → image → `vhdlint check` exits 0.
struct RoundTrip<'a> {
    root: &'a str,
    defects: &'a str,
    boot: Option<fn(&Path)>,
    /// Fail before, pass after.
    failing: &'a [&'a str],
    /// Warn before, pass after.
    warning: &'a [&'a str],
    /// What the script must say it changed.
    says: &'a [&'a str],
}

/// What fails on the plain root before the script, and passes after it (with
/// [`BUILD_LEFTOVERS`]; linux/provisioning-deps keeps a warning for the packages it lacks).
const FAILING: [&str; 7] = [
    "linux/ssh-host-keys",
    "linux/ssh-client-alive",
    "linux/kernel-cmdline",
    "linux/shell-history",
    "linux/no-swap",
    "linux/provisioning-deps",
    "linux/dhcp-leases",
];

const PLAIN_SAYS: &[&str] = &[
    "deleted /etc/ssh/ssh_host_rsa_key",
    "added ClientAliveInterval 180 as the first line of /etc/ssh/sshd_config",
    "added console=ttyS0,115200n8 to GRUB_CMDLINE_LINUX in /etc/default/grub",
    "deleted the swap file /swapfile",
    "deleted line 2 of /etc/modprobe.d/CIS.conf (it disabled udf or vfat)",
    "deleted /root/.bash_history",
];

#[test]
fn the_script_makes_the_debootstrapped_debian_image_pass() {
    let mut says = PLAIN_SAYS.to_vec();
    says.push("set Provisioning.Agent=auto in /etc/waagent.conf");
    round_trip(RoundTrip {
        root: "plain-root",
        defects: BUILD_LEFTOVERS,
        boot: None,
        failing: &FAILING,
        warning: &["linux/agent-config", "linux/hostname", "linux/resolv-conf"],
        says: &says,
    });
}

/// cloud-init's first boot of the build VM, as the root's own cloud-init (22.4) runs it: its
/// init-local stage in a network namespace of its own with a veth whose MAC the NoCloud seed's
/// network-config names (match: macaddress, set-name), /proc and /sys mounted there. It renders
/// eth0 for ifupdown, writes a udev rule pinning eth0 to that MAC, sets the hostname and
/// keeps its instance state — what a capture of that VM carries.
fn cloud_init_first_boot(root: &Path) {
    let seed = root.join("var/lib/cloud/seed/nocloud");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::write(
        seed.join("meta-data"),
        "instance-id: iid-build-vm-01\nlocal-hostname: build-vm-01\n",
    )
    .unwrap();
    std::fs::write(seed.join("user-data"), "#cloud-config\n{}\n").unwrap();
    std::fs::write(
        seed.join("network-config"),
        "version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: \"00:15:5d:01:02:03\"\n    set-name: eth0\n    dhcp4: true\n",
    )
    .unwrap();
    let r = root.to_str().unwrap();
    let out = Command::new("unshare")
        .args(["--net", "--mount", "sh", "-ec"])
        .arg(format!(
            "ip link add eth0 address 00:15:5d:01:02:03 type veth peer name peer0\n\
             mount -t proc proc '{r}/proc'\nmount -t sysfs sysfs '{r}/sys'\n\
             timeout 300 chroot '{r}' cloud-init init --local"
        ))
        .output()
        .expect("unshare runs");
    assert!(
        out.status.success(),
        "cloud-init init --local: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&seed).unwrap();
    assert!(root
        .join("etc/udev/rules.d/70-persistent-net.rules")
        .exists());
    assert!(root
        .join("var/lib/cloud/instances/iid-build-vm-01")
        .exists());
}

/// The Debian image after `apt-get install cloud-init netplan.io` in the chroot (debian12.sh
/// cloud-root), the build's leftovers, a netplan definition pinned to a MAC by `netplan set`,
/// and cloud-init's first boot.
#[test]
fn the_script_makes_the_debian_image_with_cloud_init_pass() {
    // And a file of /etc/default/grub.d that sets GRUB_CMDLINE_LINUX after /etc/default/grub
    // (as Ubuntu's cloud images ship one): an argument added to /etc/default/grub would be lost.
    let defects = format!(
        "{BUILD_LEFTOVERS}netplan set \"ethernets.eth1={{dhcp4: true, match: {{macaddress: '00:15:5d:0a:0b:0c'}}, set-name: eth1}}\"\nmkdir -p /etc/default/grub.d\nprintf 'GRUB_CMDLINE_LINUX=\"net.ifnames=0\"\\n' >/etc/default/grub.d/50-cloudimg-settings.cfg\n"
    );
    let mut says: Vec<&str> = PLAIN_SAYS
        .iter()
        .copied()
        .filter(|s| !s.contains("/etc/default/grub"))
        .collect();
    says.extend([
        "added console=ttyS0,115200n8 to GRUB_CMDLINE_LINUX in /etc/default/grub.d/99-vhdlint-kernel-cmdline.cfg",
        "ran update-grub",
        "netplan: eth1 no longer matches a MAC address (netplan set)",
        "deleted /etc/udev/rules.d/70-persistent-net.rules",
        "emptied /etc/hostname",
    ]);
    round_trip(RoundTrip {
        root: "cloud-root",
        defects: &defects,
        boot: Some(cloud_init_first_boot),
        failing: &FAILING,
        warning: &[
            "linux/network",
            "linux/agent-state",
            "linux/hostname",
            "linux/resolv-conf",
        ],
        says: &says,
    });
}

fn round_trip(t: RoundTrip) {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tempfile::tempdir_in(&base).unwrap();
    let root = dir.path().join("root");
    let cache = debian12_cache_dir();
    let Some(_) = debian12_script_or_skip(
        &format!("the Debian 12 root (debian12.sh {})", t.root),
        &[t.root.as_ref(), cache.as_os_str(), root.as_os_str()],
    ) else {
        return;
    };
    let made = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "-c", t.defects])
        .status()
        .unwrap();
    assert!(made.success(), "writing the defects in the chroot");
    if let Some(boot) = t.boot {
        boot(&root);
    }
    let image_of = |name: &str| common::debian12_image_of_root(&root, &dir.path().join(name));
    let before = image_of("before.vhd");
    let (code, report) = check_json(&before, &[]);
    assert_eq!(code, 1, "the image fails before the fix");
    for id in t.failing {
        assert_eq!(status(&report, id), "fail", "{id} before the fix");
    }
    for id in t.warning {
        assert_eq!(status(&report, id), "warning", "{id} before the fix");
    }

    let script = common::fix_script(&[before.to_str().unwrap()]);
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    let parses = Command::new("sh")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(parses.success(), "sh -n rejects the script:\n{script}");
    for id in t.failing {
        assert!(
            script.contains(&format!("# ---- {id} (fail)")),
            "a block for {id}:\n{script}"
        );
    }
    // What has no mechanical fix is listed with its remedy, not silently dropped.
    assert!(script.contains("#   linux/python (warning)"), "{script}");
    // The agent's deprovisioning is the last block, and only on request.
    let last = script.rfind("# ---- ").unwrap();
    let deprovision = script
        .find("==== LAST STEP (optional)")
        .expect("the deprovision step");
    assert!(deprovision > last, "{script}");
    assert!(script[deprovision..].contains("if [ \"${VHDLINT_DEPROVISION:-0}\" = 1 ]; then"));

    let said = {
        let _proc = ProcMount::new(&root);
        let _disk = AttachedDisk::new(&root);
        let said = run_in_chroot(&root, &script);
        let first = snapshot(&root);
        let again = run_in_chroot(&root, &script);
        assert_eq!(again, "", "a second run says it changed something");
        same_tree(&first, &snapshot(&root), t.root);
        assert!(
            sshd_reads(&root)
                .lines()
                .any(|l| l == "clientaliveinterval 180"),
            "sshd -T"
        );
        said
    };
    for change in t.says {
        assert!(said.contains(change), "the script says {change:?}:\n{said}");
    }
    assert!(!root.join("etc/ssh/ssh_host_rsa_key").exists());

    let after = image_of("after.vhd");
    let (code, report) = check_json(&after, &[]);
    for id in t
        .failing
        .iter()
        .chain(t.warning)
        .filter(|id| **id != "linux/provisioning-deps")
    {
        assert_eq!(status(&report, id), "pass", "{id} after the fix");
    }
    // The missing sfdisk/parted and sudo stay: installing packages is left to the build.
    assert_eq!(status(&report, "linux/provisioning-deps"), "warning");
    assert_eq!(code, 0, "check after the fix: {report:#}");
}

/// sshd's own reading of its configuration in the chroot (`sshd -T`), with a throw-away host
/// key (the script deleted the image's).
fn sshd_reads(root: &Path) -> String {
    let keygen = Command::new("chroot")
        .arg(root)
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
        .arg(root)
        .args(["/usr/sbin/sshd", "-T", "-h", "/tmp/hostkey"])
        .output()
        .unwrap();
    if made {
        std::fs::remove_dir(&run_sshd).unwrap();
    }
    let _ = std::fs::remove_file(root.join("tmp/hostkey"));
    let _ = std::fs::remove_file(root.join("tmp/hostkey.pub"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&t.stdout),
        String::from_utf8_lossy(&t.stderr)
    )
}

/// The Windows fixtures (NTFS written by mkntfs, hives by fixtures/mkhive.py), each with its
/// defect: the generalized server and one disk per failing windows/ check.
const WINDOWS_FIXTURES: &[&str] = &[
    "win-generalized-gpt",
    "win-complete",
    "win-rdp-off",
    "win-rdp-policy",
    "win-unattend",
    "win-panther",
    "win-pagefile-e",
    "win-cdrom-off",
    "win-cdrom-policy",
    "win-roles",
    "win-autologon",
    "win-no-agent",
    "win-pending-reboot",
    "win-sql",
];

/// The automatic logon password fixtures/reg/win-software-autologon.reg stores.
const AUTOLOGON_PASSWORD: &str = "Vhdl1nt-AutoLogon-7Qx9Kd2Wm";

/// What a PowerShell tokenizer needs to say about a script: every string closed, every
/// bracket matched (outside strings and comments, and inside `$( )` of expandable strings),
/// and the statements outside comments (their first words), in order. A model of the
/// language specification's lexical rules (single-quoted strings with doubled quotes of any of
/// the five quote characters, expandable strings with backtick escapes and subexpressions, line
/// and block comments), for the parts the script uses.
fn ps_structure(script: &str) -> Result<Vec<String>, String> {
    fn sq(c: char) -> bool {
        matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
    }
    fn dq(c: char) -> bool {
        matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
    }
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    // The bracket stack; `$"` marks a subexpression of an expandable string.
    let mut stack: Vec<char> = Vec::new();
    let mut in_dq = false;
    let mut statements = Vec::new();
    let mut line = String::new();
    let mut lineno = 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            lineno += 1;
        }
        if in_dq {
            match c {
                '`' => i += 1,
                '$' if chars.get(i + 1) == Some(&'(') => {
                    stack.push('$');
                    in_dq = false;
                    i += 1;
                }
                c if dq(c) => {
                    if chars.get(i + 1).is_some_and(|&n| dq(n)) {
                        i += 1;
                    } else {
                        in_dq = false;
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '<' if chars.get(i + 1) == Some(&'#') => {
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '#' && chars[j + 1] == '>')
                    .ok_or(format!("line {lineno}: block comment not closed"))?;
                i = end + 2;
                continue;
            }
            c if sq(c) => {
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("line {lineno}: string not closed")),
                        Some(&q) if sq(q) => {
                            if chars.get(j + 1).is_some_and(|&n| sq(n)) {
                                j += 2;
                                continue;
                            }
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                line.push_str("''");
                i = j + 1;
                continue;
            }
            c if dq(c) => {
                in_dq = true;
                line.push_str("\"\"");
            }
            '(' | '{' | '[' => stack.push(c),
            ')' | '}' | ']' => {
                let open = stack
                    .pop()
                    .ok_or(format!("line {lineno}: {c} without an opening"))?;
                let want = match c {
                    ')' => "($",
                    '}' => "{",
                    _ => "[",
                };
                if !want.contains(open) {
                    return Err(format!("line {lineno}: {open} closed by {c}"));
                }
                if open == '$' {
                    in_dq = true;
                }
            }
            '\n' => {
                let t = line.trim();
                if !t.is_empty() && stack.is_empty() {
                    statements.push(t.split_whitespace().next().unwrap_or("").to_string());
                }
                if stack.is_empty() {
                    line.clear();
                }
            }
            _ => {}
        }
        if c != '\n' {
            line.push(c);
        }
        i += 1;
    }
    if in_dq {
        return Err("an expandable string is not closed".into());
    }
    if let Some(open) = stack.last() {
        return Err(format!("{open} not closed"));
    }
    Ok(statements)
}

#[test]
fn the_structure_check_catches_broken_powershell() {
    assert!(ps_structure("Say 'ok'\nif ($a) { Say \"$($b -join '; ')\" }\n").is_ok());
    for broken in [
        "Say 'it's'\n",
        "if ($a) { Say 'x'\n",
        "Say \"$($b -join ')\"\n",
        "Say \u{2019}x\n",
        "<# open\n",
        "$a = @(1, 2]\n",
    ] {
        assert!(ps_structure(broken).is_err(), "{broken:?}");
    }
}

/// `vhdlint fix` on each Windows fixture writes PowerShell by default (a Windows profile): a
/// script that tokenizes (strings closed, brackets matched), starts with #Requires and its
/// param block, has one block per failing or warning check with a PowerShell fix and lists the
/// rest with their remedy, ends with sysprep behind -Generalize, and never holds the automatic
/// logon password that win-autologon stores.
#[test]
fn the_powershell_form_for_every_windows_fixture() {
    for name in WINDOWS_FIXTURES {
        let img = fixture_or_skip!(*name);
        let (_, report) = check_json(&img, &[]);
        let script = common::fix_script(&[img.to_str().unwrap()]);
        assert!(
            script.starts_with("#Requires -RunAsAdministrator\n"),
            "{name}:\n{script}"
        );
        assert!(
            !script.contains(AUTOLOGON_PASSWORD),
            "{name}: the password is in the script"
        );
        let statements = ps_structure(&script).unwrap_or_else(|e| panic!("{name}: {e}\n{script}"));
        assert!(
            statements[0].starts_with("param("),
            "{name}: {statements:?}"
        );
        // sysprep is the last step, behind -Generalize.
        let last = script.rfind("==== LAST STEP").expect("the sysprep step");
        assert!(script[last..].contains("if ($Generalize)"), "{name}");
        assert!(script[last..].contains("sysprep.exe"), "{name}");
        assert!(
            !script[last..].contains("# ---- "),
            "{name}: a block after sysprep"
        );
        let (top, body) = script.split_once("\nparam(").unwrap();
        for c in report["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            let st = c["status"].as_str().unwrap();
            let header = format!("# ---- {id} ({st})");
            let fixable = id.starts_with("windows/")
                && matches!(st, "fail" | "warning")
                && c.get("waived").is_none_or(Value::is_null)
                && !matches!(
                    id,
                    "windows/architecture"
                        | "windows/ntfs"
                        | "windows/version"
                        | "windows/patch-level"
                        | "windows/sql-server"
                        | "windows/guest-agent"
                );
            match st {
                "fail" | "warning" | "error" if fixable => {
                    assert!(
                        body.contains(&header),
                        "{name}: no block for {id}\n{script}"
                    )
                }
                "fail" | "warning" | "error" => {
                    assert!(
                        top.contains(&format!("#   {id} ({st})")),
                        "{name}: {id} not listed\n{script}"
                    );
                    assert!(!body.contains(&header), "{name}: {id}");
                }
                _ => assert!(
                    !script.contains(&format!("# ---- {id} ")),
                    "{name}: {id} passes"
                ),
            }
        }
    }
    // The forms can be asked for: sh on a Windows disk fixes nothing and says why.
    let img = fixture_or_skip!("win-rdp-off");
    let out = vhdlint(&["fix", "--format", "sh", img.to_str().unwrap()]);
    let sh = String::from_utf8(out.stdout).unwrap();
    assert!(
        sh.contains("windows/rdp (fail)") && sh.contains("--format powershell"),
        "{sh}"
    );
    assert!(sh.contains("say 'nothing to fix'"), "{sh}");
}

/// What an installation and a build VM leave on any of the distribution-shaped trees, written
/// with the host's own tools into the tree `$T`: SSH host keys (ssh-keygen), root's history, a
/// swap file (mkswap) in fstab, the build's hostname, resolv.conf and machine-id, a password for
/// root (crypt(3) SHA-512).
const SHAPED_COMMON: &str = r#"set -e
cd "$T"
for t in rsa ecdsa ed25519; do ssh-keygen -q -t $t -N '' -C root@build-vm -f etc/ssh/ssh_host_${t}_key; done
printf '%s\n' 'sudo -i' 'vi /etc/ssh/sshd_config' 'systemctl restart sshd' >root/.bash_history
chmod 600 root/.bash_history
dd if=/dev/zero of=swapfile bs=1M count=1 2>/dev/null
chmod 600 swapfile
mkswap swapfile >/dev/null
printf '/swapfile none swap defaults 0 0\n' >>etc/fstab
echo build-vm-07.corp.example.com >etc/hostname
rm -f etc/resolv.conf
printf 'search corp.example.com\nnameserver 10.1.0.53\n' >etc/resolv.conf
echo 3d5a70e5ca0948d5ab2842460091a2b2 >etc/machine-id
hash=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("build", "$6$vhdlintbuild"))')
sed -i "s|^root:[^:]*:|root:$hash:|" etc/shadow
"#;

/// A RHEL 9 installation: ClientAliveInterval left at sshd's default, no serial console on the
/// kernel line (/etc/default/grub, /etc/kernel/cmdline and kernelopts in grubenv, which stays a
/// 1024-byte block as grub2-editenv keeps it), a NetworkManager lease, firewalld enabled, the
/// NIC's MAC in ifcfg-eth0.
const RHEL_DEFECTS: &str = r##"sed -i 's/^ClientAliveInterval 3m$/#ClientAliveInterval 0/' etc/ssh/sshd_config
sed -i 's/ console=ttyS0 earlyprintk=ttyS0//' etc/default/grub etc/kernel/cmdline
python3 - boot/grub2/grubenv <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
t = b.rstrip(b"#").replace(b" console=ttyS0 earlyprintk=ttyS0", b"")
open(p, "wb").write(t + b"#" * (len(b) - len(t)))
PY
mkdir -p var/lib/NetworkManager
printf '# This is private data. Do not parse.\nADDRESS=10.0.0.4\nNETMASK=255.255.255.0\nROUTER=10.0.0.1\n' >var/lib/NetworkManager/internal-4a0f5c3e-2b1d-4f6e-9a8b-7c6d5e4f3a2b-eth0.lease
mkdir -p etc/systemd/system/multi-user.target.wants
ln -s /usr/lib/systemd/system/firewalld.service etc/systemd/system/multi-user.target.wants/firewalld.service
echo 'HWADDR=00:15:5d:01:02:03' >>etc/sysconfig/network-scripts/ifcfg-eth0
"##;

/// SLES 15: no ClientAliveInterval, no serial console (/etc/default/grub and grub.cfg), the
/// `Defaults targetpw` and `ALL ALL=(ALL) ALL` SUSE's sudoers ships, firewalld enabled.
const SUSE_DEFECTS: &str = r#"sed -i '/^ClientAliveInterval 180$/d' etc/ssh/sshd_config
sed -i 's/ earlyprintk=ttyS0 console=ttyS0//' etc/default/grub boot/grub2/grub.cfg
sed -i '/^Defaults env_reset$/a Defaults targetpw   # ask for the password of the target user i.e. root' etc/sudoers
sed -i "/^root ALL=(ALL) ALL\$/a ALL   ALL=(ALL) ALL   # WARNING! Only use this together with 'Defaults targetpw'!" etc/sudoers
mkdir -p etc/systemd/system/multi-user.target.wants
ln -s /usr/lib/systemd/system/firewalld.service etc/systemd/system/multi-user.target.wants/firewalld.service
"#;

/// Ubuntu 22.04 from its installer rather than Azure's image: no 50-azure.conf (so no
/// ClientAliveInterval), no serial console, ufw enabled, udev's persistent-net rule pinning eth0
/// to a MAC, a dhclient lease, NetworkManager enabled beside netplan's networkd.
const UBUNTU_DEFECTS: &str = r#"rm etc/ssh/sshd_config.d/50-azure.conf
ln -s /usr/lib/systemd/system/NetworkManager.service etc/systemd/system/multi-user.target.wants/NetworkManager.service
sed -i 's/ console=ttyS0 earlyprintk=ttyS0//' etc/default/grub boot/grub/grub.cfg
sed -i 's/^ENABLED=no$/ENABLED=yes/' etc/ufw/ufw.conf
mkdir -p etc/udev/rules.d var/lib/dhcp
printf 'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="00:15:5d:01:02:03", NAME="eth0"\n' >etc/udev/rules.d/70-persistent-net.rules
printf 'lease {\n  interface "eth0";\n  fixed-address 10.0.0.4;\n}\n' >var/lib/dhcp/dhclient.eth0.leases
"#;

/// Checks that every shaped tree fails before the script and passes after it.
const SHAPED_FAILING: &[&str] = &[
    "linux/ssh-host-keys",
    "linux/ssh-client-alive",
    "linux/kernel-cmdline",
    "linux/no-swap",
    "linux/root-password",
    "linux/default-accounts",
];
const SHAPED_WARNING: &[&str] = &[
    "linux/shell-history",
    "linux/hostname",
    "linux/resolv-conf",
    "linux/agent-state",
    "linux/firewall",
];

/// Runs the script in a chroot of a tree that has no shell of its own: busybox (the host's
/// static build, its applets linked in /tmp/bb) is the only PATH, so the script sees none of
/// the tree's stand-in binaries and takes its fallbacks (no grubby, systemctl or usermod).
fn run_with_busybox(root: &Path, script: &str) -> String {
    let bb = root.join("tmp/bb");
    if !bb.exists() {
        // The VM has /dev/null; the tree has an empty /dev (removed again with /tmp/bb).
        let made = Command::new("mknod")
            .arg(root.join("dev/null"))
            .args(["c", "1", "3"])
            .status()
            .unwrap();
        assert!(made.success(), "mknod dev/null");
        std::fs::create_dir_all(&bb).unwrap();
        let host = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox (Debian's busybox-static; scripts/setup-system installs it)");
        std::fs::copy(host, bb.join("busybox")).unwrap();
        let list = Command::new(host).arg("--list").output().unwrap();
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            let link = bb.join(applet);
            if !link.exists() {
                std::os::unix::fs::symlink("busybox", link).unwrap();
            }
        }
    }
    // chroot itself is found on the host's PATH; the script sees only busybox's.
    run_script(
        root,
        script,
        &["/tmp/bb/env", "-i", "PATH=/tmp/bb", "/tmp/bb/sh"],
    )
}

/// The round trip on a distribution-shaped tree of fixtures/build.sh (trees/linux/NAME): the
/// clean fixture's tree, what an installation leaves, an image with that fixture's own layout
/// (LVM and XFS for RHEL, XFS for SUSE, ext4 for Ubuntu) on a 30 GiB sparse disk, the script
/// in a chroot with /proc, the image again, `vhdlint check` exits 0.
fn shaped_round_trip(name: &str, defects: &str, failing: &[&str], warning: &[&str]) {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tempfile::tempdir_in(&base).unwrap();
    let tree = dir.path().join("tree");
    let first = dir.path().join("first");
    std::fs::create_dir_all(&first).unwrap();
    let Some(_) = common::build_sh_or_skip(
        &format!("the {name} tree"),
        name,
        &first,
        &[("LX_TREE_OUT", tree.as_os_str())],
    ) else {
        return;
    };
    std::fs::remove_dir_all(&first).unwrap();
    let made = Command::new("bash")
        .args(["-c", &format!("{SHAPED_COMMON}{defects}")])
        .env("T", &tree)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{name}: writing the defects: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let image_of = |what: &str| -> PathBuf {
        let out = dir.path().join(what);
        std::fs::create_dir_all(&out).unwrap();
        common::build_sh_or_skip(
            &format!("an image of the {name} tree"),
            name,
            &out,
            &[
                ("LX_TREE_IN", tree.as_os_str()),
                ("LX_DISK_GIB", OsStr::new("30")),
            ],
        )
        .expect("the tree was built, so its image can be")
    };
    let before = image_of("before");
    let (code, report) = check_json(&before, &[]);
    assert_eq!(code, 1, "{name}: the image fails before the fix");
    for id in failing {
        assert_eq!(status(&report, id), "fail", "{name}: {id} before the fix");
    }
    for id in warning {
        assert_eq!(
            status(&report, id),
            "warning",
            "{name}: {id} before the fix"
        );
    }
    let script = common::fix_script(&[before.to_str().unwrap()]);
    for id in failing.iter().chain(warning) {
        assert!(
            script.contains(&format!("# ---- {id} (")),
            "{name}: a block for {id}:\n{script}"
        );
    }
    {
        let _proc = ProcMount::new(&tree);
        let said = run_with_busybox(&tree, &script);
        assert!(said.contains("vhdlint fix: "), "{name}: {said}");
        let once = snapshot(&tree);
        let again = run_with_busybox(&tree, &script);
        assert_eq!(again, "", "{name}: a second run says it changed something");
        same_tree(&once, &snapshot(&tree), name);
    }
    std::fs::remove_dir_all(tree.join("tmp/bb")).unwrap();
    std::fs::remove_file(tree.join("dev/null")).unwrap();
    let after = image_of("after");
    let (code, report) = check_json(&after, &[]);
    for id in failing.iter().chain(warning) {
        assert_eq!(status(&report, id), "pass", "{name}: {id} after the fix");
    }
    assert_eq!(code, 0, "{name}: check after the fix: {report:#}");
}

#[test]
fn the_script_makes_the_rhel_shaped_image_pass() {
    let mut warning = SHAPED_WARNING.to_vec();
    warning.push("linux/network");
    let mut failing = SHAPED_FAILING.to_vec();
    failing.push("linux/dhcp-leases");
    shaped_round_trip("linux-rhel-clean", RHEL_DEFECTS, &failing, &warning);
}

#[test]
fn the_script_makes_the_suse_shaped_image_pass() {
    let mut failing = SHAPED_FAILING.to_vec();
    failing.push("linux/sudoers");
    shaped_round_trip("linux-suse-clean", SUSE_DEFECTS, &failing, SHAPED_WARNING);
}

#[test]
fn the_script_makes_the_ubuntu_shaped_image_pass() {
    let mut warning = SHAPED_WARNING.to_vec();
    warning.extend(["linux/network", "linux/network-manager"]);
    let mut failing = SHAPED_FAILING.to_vec();
    failing.push("linux/dhcp-leases");
    shaped_round_trip("linux-ubuntu-clean", UBUNTU_DEFECTS, &failing, &warning);
}
