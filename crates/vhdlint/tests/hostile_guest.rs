//! The Linux guest inspection on hostile images: symlinks that try to leave the image, loops,
//! directory cycles, huge sparse files, binary garbage, missing or unreadable roots. Every
//! image is built at test time with the real tools (mke2fs -d, debugfs -w, sfdisk, qemu-img)
//! and must be answered quickly, with a reason, and without reading anything on the host.

mod common;

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{result, skip};

const MIB: u64 = 1 << 20;
/// The disk: an MBR, one partition from 1 MiB to the end.
const DISK_BYTES: u64 = 64 * MIB;
const PART_OFFSET: u64 = MIB;
/// Generous for debug builds; a release build answers in a few milliseconds.
const MAX_RUN: Duration = Duration::from_secs(3);
/// Past this the binary is considered hung and killed.
const HANG: Duration = Duration::from_secs(60);

const TOOLS: &[&str] = &[
    "mke2fs", "debugfs", "dumpe2fs", "sfdisk", "qemu-img", "truncate", "dd",
];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a tool, panicking with its output when it fails.
fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file on the host that no image may reach: its content is unique to this test run.
struct Marker {
    path: PathBuf,
    content: String,
}

impl Marker {
    fn new(test: &str) -> Marker {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = PathBuf::from(format!(
            "/tmp/vhdlint-host-marker-{}-{test}",
            std::process::id()
        ));
        // A valid host name, so a check that read it would show it.
        let content = format!(
            "HOST-ONLY-{:x}",
            nanos ^ (u128::from(std::process::id()) << 64)
        );
        std::fs::write(&path, format!("{content}\n")).unwrap();
        Marker { path, content }
    }
    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One test's working directory, with the image tree being built.
struct Case {
    dir: PathBuf,
    tree: PathBuf,
    marker: Marker,
}

impl Case {
    /// A fresh case with a minimal Linux root in `tree/`; `None` when a tool is missing, after
    /// `skip` has said so (or failed the test, under `VHDLINT_REQUIRE_PREREQS=1`).
    fn new(name: &str) -> Option<Case> {
        if let Some(t) = TOOLS.iter().find(|t| !have(t)) {
            skip(&format!("the {name} case"), &format!("{t} not found"));
            return None;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("hostile-guest")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let tree = dir.join("tree");
        for d in ["etc/ssh", "usr/bin", "root"] {
            std::fs::create_dir_all(tree.join(d)).unwrap();
        }
        symlink("usr/bin", tree.join("bin")).unwrap();
        let c = Case {
            dir,
            tree,
            marker: Marker::new(name),
        };
        c.write("etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n");
        c.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        c.write("etc/shadow", "root:*:19000:0:99999:7:::\n");
        Some(c)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tree.join(rel)
    }

    /// Writes a file of the tree (creating its directory).
    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Makes `rel` a symlink to `target` (replacing what is there).
    fn link(&self, rel: &str, target: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        symlink(target, p).unwrap();
    }

    /// Builds the image: ext4 (with `features`) populated from the tree, then `debugfs -w`
    /// requests, then `damage` on the bare filesystem image; placed at 1 MiB in an MBR disk
    /// and converted to a fixed VHD.
    fn image(&self, features: &[&str], debugfs: &[&str], damage: impl FnOnce(&Path)) -> PathBuf {
        self.image_of("type=83", |part| {
            self.ext4(part, features, debugfs);
            damage(part);
        })
    }

    /// `mke2fs -t ext4` with `features` on `part`, populated from the tree, then `debugfs -w`
    /// requests.
    fn ext4(&self, part: &Path, features: &[&str], debugfs: &[&str]) {
        let mut mkfs = Command::new("mke2fs");
        mkfs.env("E2FSPROGS_FAKE_TIME", "1700000000")
            .args(["-F", "-q", "-t", "ext4", "-b", "4096"])
            .args([
                "-E",
                "nodiscard,lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0",
            ]);
        for f in features {
            mkfs.args(["-O", f]);
        }
        sh(mkfs.arg("-d").arg(&self.tree).arg(part));
        for req in debugfs {
            let out = sh(Command::new("debugfs").args(["-w", "-R", req]).arg(part));
            assert!(!out.contains("Couldn't"), "debugfs {req}: {out}");
        }
    }

    /// Builds the image: `make` writes the filesystem into the bare partition image (sized
    /// already); placed at 1 MiB in an MBR disk whose one partition is `sfdisk_type` (an
    /// sfdisk script field list, e.g. `type=83, bootable`), converted to a fixed VHD.
    fn image_of(&self, sfdisk_type: &str, make: impl FnOnce(&Path)) -> PathBuf {
        let part = self.dir.join("part.img");
        let raw = self.dir.join("disk.raw");
        let vhd = self.dir.join("disk.vhd");
        let _ = std::fs::remove_file(&part);
        let _ = std::fs::remove_file(&raw);
        let part_bytes = DISK_BYTES - PART_OFFSET;
        sh(Command::new("truncate")
            .arg("-s")
            .arg(part_bytes.to_string())
            .arg(&part));
        make(&part);
        sh(Command::new("truncate")
            .arg("-s")
            .arg(DISK_BYTES.to_string())
            .arg(&raw));
        let mut sfdisk = Command::new("sfdisk")
            .args([
                "--quiet",
                "--no-reread",
                "--no-tell-kernel",
                "--wipe",
                "never",
            ])
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
            .write_all(format!("start={}, {sfdisk_type}\n", PART_OFFSET / 512).as_bytes())
            .unwrap();
        assert!(sfdisk.wait().unwrap().success());
        sh(Command::new("dd")
            .arg(format!("if={}", part.display()))
            .arg(format!("of={}", raw.display()))
            .args(["bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]));
        sh(Command::new("qemu-img")
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

    /// Runs `vhdlint check --profile linux-os --format json` and asserts what holds for every
    /// hostile image: answered in time, exit 0 or 1 (no crash, no signal, no exit 2), JSON
    /// out, no panic, and the host marker nowhere in the output.
    fn check(&self, image: &Path) -> Value {
        self.check_with(image, &["--profile", "linux-os"]).1
    }

    /// [`Case::check`] with `args` instead of `--profile linux-os`: the exit code and the
    /// image's report.
    fn check_with(&self, image: &Path, args: &[&str]) -> (i32, Value) {
        let start = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vhdlint"))
            .args(["check", "--format", "json"])
            .args(args)
            .arg(image)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out_pipe = child.stdout.take().unwrap();
        let mut err_pipe = child.stderr.take().unwrap();
        let out_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            out_pipe.read_to_end(&mut v).unwrap();
            v
        });
        let err_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            err_pipe.read_to_end(&mut v).unwrap();
            v
        });
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > HANG {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!(
                    "vhdlint did not finish within {HANG:?} on {}",
                    image.display()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        eprintln!("vhdlint answered in {elapsed:?} on {}", image.display());
        let stdout = String::from_utf8(out_t.join().unwrap()).unwrap();
        let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
        assert!(
            elapsed < MAX_RUN,
            "took {elapsed:?} on {}\n{stderr}",
            image.display()
        );
        let code = status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {status:?}\n{stderr}"));
        assert!(code == 0 || code == 1, "exit code {code}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(&self.marker.content),
                "the host marker's content leaked into {name}:\n{text}"
            );
        }
        let v: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
        let report = v["images"][0].clone();
        // Every check answers, with a reason.
        for c in report["checks"].as_array().unwrap() {
            assert!(
                !c["message"].as_str().unwrap_or("").is_empty(),
                "no message: {c}"
            );
        }
        (code, report)
    }
}

fn status(r: &Value, id: &str) -> String {
    result(r, id)["status"].as_str().unwrap().to_string()
}

fn message(r: &Value, id: &str) -> String {
    result(r, id)["message"].as_str().unwrap().to_string()
}

/// Asserts the status of check `id` and that its message contains every one of `parts`.
#[track_caller]
fn expect(r: &Value, id: &str, want: &str, parts: &[&str]) {
    let c = result(r, id);
    assert_eq!(c["status"], want, "{id}: {c:#}");
    let msg = message(r, id);
    for p in parts {
        assert!(msg.contains(p), "{id}: message lacks {p:?}: {msg}");
    }
}

/// Every linux/* check errors with `reason` in its message.
#[track_caller]
fn all_linux_checks_error(r: &Value, reason: &[&str]) {
    let linux: Vec<&Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("linux/") && c["status"] != "skipped")
        .collect();
    assert!(linux.len() > 10, "{r:#}");
    for c in linux {
        let id = c["id"].as_str().unwrap();
        expect(r, id, "error", reason);
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), with NULs, 0xff and invalid UTF-8 mixed
/// into text-looking lines.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        match r % 7 {
            0 => v.push(0),
            1 => v.extend_from_slice(&[0xff, 0xfe, 0xc3]),
            2 => v.push(b'\n'),
            3 => v.extend_from_slice(b"="),
            _ => v.extend_from_slice(&r.to_le_bytes()[..5]),
        }
    }
    v.truncate(len);
    v
}

/// The filesystem block holding the data of `path` (first extent), from `debugfs stat`.
fn first_block(part: &Path, path: &str) -> u64 {
    let out = sh(Command::new("debugfs")
        .args(["-R", &format!("blocks {path}")])
        .arg(part));
    out.split_whitespace()
        .next()
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no block for {path}: {out}"))
}

/// Zeroes filesystem block `block` (4 KiB) of the filesystem image.
fn zero_block(part: &Path, block: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(part).unwrap();
    f.write_all_at(&[0u8; 4096], block * 4096).unwrap();
}

#[test]
fn symlinks_out_of_the_image_never_reach_the_host() {
    let Some(c) = Case::new("outside") else {
        return;
    };
    let m = c.marker.path().to_string();
    let up = format!("../../../../../../..{m}");
    c.link("etc/hostname", &m);
    c.link("etc/ssh/sshd_config", &m);
    c.link("etc/waagent.conf", &up);
    c.link("etc/os-release", &up);
    c.link("etc/shadow", &format!("/../../..{m}"));
    c.link("etc/default/grub", &m);
    c.link("boot/grub/grub.cfg", &format!("../../..{m}"));
    c.link("etc/network/interfaces", &up);
    // A directory symlink out of the image, then a file inside it.
    c.link("etc/resolvdir", "/tmp");
    let name = c.marker.path.file_name().unwrap().to_str().unwrap();
    c.link("etc/resolv.conf", &format!("resolvdir/{name}"));
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);

    // The links resolve inside the image, where /tmp does not exist.
    expect(&r, "linux/hostname", "pass", &["absent"]);
    assert_eq!(result(&r, "linux/hostname")["actual"], "absent");
    expect(
        &r,
        "linux/agent-config",
        "fail",
        &["/etc/waagent.conf is missing"],
    );
    expect(
        &r,
        "linux/ssh-client-alive",
        "skipped",
        &["no /etc/ssh/sshd_config"],
    );
    expect(
        &r,
        "linux/root-password",
        "error",
        &["/etc/shadow", "no such file or directory"],
    );
    expect(&r, "linux/resolv-conf", "pass", &[]);
    expect(
        &r,
        "linux/kernel-cmdline",
        "error",
        &["no /boot/grub/grub.cfg"],
    );
    expect(
        &r,
        "partition/os-found",
        "pass",
        &["distribution unknown (no os-release)"],
    );

    // And nothing opened, stat'ed or read the marker's path at all.
    if have("strace") {
        let trace = c.dir.join("strace.txt");
        let out = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=%file,%desc", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_vhdlint"))
            .args(["check", "--profile", "linux-os", "--format", "json"])
            .arg(&img)
            .output()
            .unwrap();
        if out.status.code().is_some() && trace.exists() {
            let t = std::fs::read_to_string(&trace).unwrap();
            assert!(t.contains("disk.vhd"), "strace saw nothing: {t}");
            assert!(!t.contains(name), "the host marker was touched:\n{t}");
        }
    } else {
        skip("the system-call check", "strace not found (Debian: strace)");
    }
}

#[test]
fn symlink_loops_and_long_chains_are_bounded() {
    let Some(c) = Case::new("loops") else {
        return;
    };
    // a -> b -> a
    c.link("etc/ssh/a", "b");
    c.link("etc/ssh/b", "/etc/ssh/a");
    c.link("etc/ssh/sshd_config", "a");
    c.write("usr/sbin/sshd", "");
    // A self-loop.
    c.link("etc/passwd", "passwd");
    // 100 links, each to the next, ending in a real file.
    c.write(
        "etc/real-waagent.conf",
        "Provisioning.RegenerateSshHostKeyPair=y\n",
    );
    for i in 0..100 {
        let next = if i == 99 {
            "/etc/real-waagent.conf".to_string()
        } else {
            format!("l{}", i + 1)
        };
        c.link(&format!("etc/chain/l{i}"), &next);
    }
    c.link("etc/waagent.conf", "chain/l0");
    // A chain of 40 links is still followed (as Linux does).
    c.write("etc/real-hostname", "localhost.localdomain\n");
    for i in 0..39 {
        let next = if i == 38 {
            "/etc/real-hostname".to_string()
        } else {
            format!("h{}", i + 1)
        };
        c.link(&format!("etc/hchain/h{i}"), &next);
    }
    c.link("etc/hostname", "hchain/h0");
    // A directory loop through symlinks.
    c.link("etc/default", "/etc/default/");
    // A tree 990 levels deep and a chain of 39 absolute links through it: each hop walks
    // the whole depth again (tens of millions of lookups if nothing bounds the walk).
    let deep = vec!["d"; 990].join("/");
    c.write(&format!("{deep}/real"), "root:*:19000:0:99999:7:::\n");
    for i in 0..39 {
        let next = if i == 38 {
            format!("/{deep}/real")
        } else {
            format!("/{deep}/h{}", i + 1)
        };
        c.link(&format!("{deep}/h{i}"), &next);
    }
    c.link("etc/shadow", &format!("/{deep}/h0"));
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);

    let loops = "more than 40 symlinks";
    expect(
        &r,
        "linux/ssh-client-alive",
        "error",
        &["/etc/ssh/sshd_config", loops],
    );
    expect(
        &r,
        "linux/agent-config",
        "error",
        &["/etc/waagent.conf", loops],
    );
    expect(&r, "linux/shell-history", "error", &["/etc/passwd", loops]);
    expect(&r, "linux/hostname", "pass", &["localhost.localdomain"]);
    // (default-accounts reads /etc/shadow before /etc/passwd.)
    for id in ["linux/root-password", "linux/default-accounts"] {
        expect(
            &r,
            id,
            "error",
            &[
                "/etc/shadow",
                "limit reached",
                "resolving it walks more than 8192 directory levels",
            ],
        );
    }
    // /etc/default/grub is behind a looping directory: no default grub command line.
    assert_ne!(status(&r, "linux/kernel-cmdline"), "pass");
}

#[test]
fn dotdot_chains_stop_at_the_image_root() {
    let Some(c) = Case::new("dotdot") else {
        return;
    };
    c.write("etc/real-hostname", "image-vm-name\n");
    c.link("etc/hostname", "../../../../../../../../etc/real-hostname");
    c.write(
        "etc/agent/real.conf",
        "Provisioning.RegenerateSshHostKeyPair=y\nProvisioning.DeleteRootPassword=y\nResourceDisk.EnableSwap=n\n",
    );
    c.link(
        "etc/waagent.conf",
        "/../../../../../../../../../etc/../etc/agent/../../../../etc/agent/real.conf",
    );
    // The same escape attempt towards the host marker finds nothing.
    c.link(
        "etc/ssh/sshd_config",
        &format!("../../../../../../../../../../..{}", c.marker.path()),
    );
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);
    expect(
        &r,
        "linux/hostname",
        "warning",
        &["/etc/hostname sets the host name \"image-vm-name\""],
    );
    let ev = &result(&r, "linux/hostname")["evidence"][0];
    assert_eq!(ev["path"], "/etc/hostname");
    assert_eq!(ev["line"], 1);
    expect(&r, "linux/agent-config", "pass", &[]);
    assert_eq!(result(&r, "linux/agent-config")["evidence"][0]["line"], 1);
    expect(
        &r,
        "linux/ssh-client-alive",
        "skipped",
        &["no /etc/ssh/sshd_config"],
    );
}

#[test]
fn directory_cycles_are_walked_a_bounded_number_of_times() {
    let Some(c) = Case::new("dircycle") else {
        return;
    };
    c.write("root/a/b/.keep", "");
    // Over the guide's 1 KiB: a failure.
    c.write("root/a/.bash_history", "echo secret-token\n".repeat(100));
    c.write("home/user/.keep", "");
    c.write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/sh\n",
    );
    let img = c.image(
        &[],
        &[
            // Hard links to directories: /root/a/b/back is /root/a, /home/user/up is /.
            "link /root/a /root/a/b/back",
            "link / /home/user/up",
            "link /root /root/a/b/root",
        ],
        |_| {},
    );
    // The cycles are there: debugfs sees /root/a through them.
    let out = sh(Command::new("debugfs")
        .args(["-R", "ls -l /root/a/b/back/b/back/b/back"])
        .arg(c.dir.join("part.img")));
    assert!(out.contains(".bash_history"), "{out}");

    let r = c.check(&img);
    expect(
        &r,
        "linux/shell-history",
        "fail",
        &[
            "shell history left in the image",
            "/root/a/.bash_history (1800 bytes)",
        ],
    );
    // The walk went round the cycle only a bounded number of times.
    let ev = result(&r, "linux/shell-history")["evidence"]
        .as_array()
        .unwrap()
        .len();
    assert!((1..=1000).contains(&ev), "{ev} evidence entries");
    // It did go round the cycle (the reader does not hide it), a bounded number of times.
    let msg = message(&r, "linux/shell-history");
    assert!(msg.contains("/root/a/b/back/.bash_history"), "{msg}");
    assert!(!msg.contains(&"/b/back".repeat(8)), "{msg}");
    expect(&r, "partition/os-found", "pass", &["Linux root on p1"]);
}

#[test]
fn huge_sparse_config_files_are_refused_not_read() {
    let Some(c) = Case::new("sparse") else {
        return;
    };
    let huge = 4u64 << 30;
    for (p, head) in [
        (
            "etc/waagent.conf",
            "Provisioning.RegenerateSshHostKeyPair=y\n",
        ),
        ("etc/hostname", "sparse-host\n"),
        ("etc/ssh/sshd_config", "ClientAliveInterval 120\n"),
        ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
    ] {
        c.write(p, head);
        std::fs::OpenOptions::new()
            .write(true)
            .open(c.path(p))
            .unwrap()
            .set_len(huge)
            .unwrap();
    }
    c.write("usr/sbin/sshd", "");
    let img = c.image(&[], &[], |_| {});
    // mke2fs -d kept the holes: 4 GiB files in a 63 MiB filesystem.
    let out = sh(Command::new("debugfs")
        .args(["-R", "stat /etc/waagent.conf"])
        .arg(c.dir.join("part.img")));
    assert!(out.contains(&format!("Size: {huge}")), "{out}");

    let r = c.check(&img);
    let limit = "is larger than 1048576 bytes";
    expect(
        &r,
        "linux/agent-config",
        "error",
        &["/etc/waagent.conf", "limit reached", limit],
    );
    expect(&r, "linux/hostname", "error", &["/etc/hostname", limit]);
    expect(
        &r,
        "linux/ssh-client-alive",
        "error",
        &["/etc/ssh/sshd_config", limit],
    );
    expect(&r, "linux/root-password", "error", &["/etc/shadow", limit]);
}

#[test]
fn parser_bounds_reached_are_shown_in_the_results() {
    let Some(c) = Case::new("parser-bounds") else {
        return;
    };
    c.write(
        "boot/grub/grub.cfg",
        "set default=0\nmenuentry 'Linux' {\n  linux /boot/vmlinuz-6.1.0 root=/dev/sda1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300\n}\n",
    );
    // A quote left open for more than 64 lines (MAX_KEYVALUE_CONTINUATION).
    c.write(
        "etc/default/grub",
        format!(
            "GRUB_CMDLINE_LINUX=\"console=ttyS0 earlyprintk=ttyS0 rootdelay=300\"\nGRUB_TIMEOUT_STYLE=\"never closed\n{}",
            "# more\n".repeat(70)
        ),
    );
    // YAML nested deeper than 200 levels (MAX_YAML_DEPTH) beside a good DHCP configuration.
    c.write(
        "etc/netplan/50-cloud-init.yaml",
        format!(
            "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n  x: {}{}\n",
            "[".repeat(210),
            "]".repeat(210)
        ),
    );
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);

    // Without the bound both would pass: each says its result may be wrong, and why.
    expect(
        &r,
        "linux/kernel-cmdline",
        "warning",
        &[
            "this result may be wrong",
            "/etc/default/grub:2: the value of GRUB_TIMEOUT_STYLE is still open (a quote left open) after 64 lines, the limit",
        ],
    );
    expect(
        &r,
        "linux/network",
        "warning",
        &[
            "this result may be wrong",
            "/etc/netplan/50-cloud-init.yaml:6: line 6: nested deeper than 200 levels, the limit",
        ],
    );
    for id in ["linux/kernel-cmdline", "linux/network"] {
        let ev = result(&r, id)["evidence"].to_string();
        assert!(ev.contains(", the limit"), "{id}: {ev}");
    }
}

#[test]
fn binary_garbage_in_config_files() {
    let Some(c) = Case::new("garbage") else {
        return;
    };
    let files = [
        "etc/ssh/sshd_config",
        "etc/waagent.conf",
        "etc/default/grub",
        "boot/grub/grub.cfg",
        "etc/passwd",
        "etc/shadow",
        "var/lib/dpkg/status",
        "etc/network/interfaces",
        "etc/os-release",
        "etc/hostname",
        "etc/resolv.conf",
        "etc/sudoers",
    ];
    for (i, f) in files.iter().enumerate() {
        c.write(f, garbage(0x5eed_0000 + i as u64, 16 * 1024));
    }
    c.write("usr/sbin/sshd", "");
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);

    // Nothing parses as a setting: the checks say what is missing.
    expect(
        &r,
        "linux/agent-config",
        "fail",
        &[
            "/etc/waagent.conf",
            "Provisioning.RegenerateSshHostKeyPair not set",
        ],
    );
    expect(
        &r,
        "linux/ssh-client-alive",
        "fail",
        &["no active ClientAliveInterval"],
    );
    expect(
        &r,
        "linux/root-password",
        "error",
        &["/etc/shadow has no root entry"],
    );
    expect(&r, "partition/os-found", "pass", &["Linux root on p1"]);
    // Every check answered with a status of its own (no crash turned into exit 2).
    for c in r["checks"].as_array().unwrap() {
        let s = c["status"].as_str().unwrap();
        assert!(
            ["pass", "warning", "fail", "error", "skipped"].contains(&s),
            "{c}"
        );
    }
}

#[test]
fn a_root_without_etc_is_not_a_linux_root() {
    let Some(c) = Case::new("no-etc") else {
        return;
    };
    std::fs::remove_dir_all(c.path("etc")).unwrap();
    let img = c.image(&[], &[], |_| {});
    let r = c.check(&img);
    expect(
        &r,
        "partition/os-found",
        "fail",
        &["no Linux root filesystem found", "/etc (directory)"],
    );
    let ev = result(&r, "partition/os-found")["evidence"].to_string();
    assert!(
        ev.contains("p1 (ext4): found /bin or /usr/bin (directory); missing /etc (directory), /etc/fstab or /etc/hosts (file)"),
        "{ev}"
    );
    all_linux_checks_error(
        &r,
        &[
            "no Linux root filesystem could be inspected",
            "p1 (ext4): missing /etc (directory), /etc/fstab or /etc/hosts (file)",
        ],
    );
}

#[test]
fn an_ext4_feature_the_reader_refuses_is_explained() {
    let Some(c) = Case::new("inline-data") else {
        return;
    };
    c.write("etc/hostname", "small\n");
    // inline_data, which ext4-view refused, is read: the root is found, its small files read.
    let img = c.image(&["inline_data"], &[], |_| {});
    let out = sh(Command::new("dumpe2fs")
        .arg("-h")
        .arg(c.dir.join("part.img")));
    assert!(out.contains("inline_data"), "{out}");
    let r = c.check(&img);
    expect(&r, "partition/os-found", "pass", &["Linux root on p1"]);
    expect(&r, "linux/hostname", "warning", &["small"]);
    // An incompatible feature bit no ext4 defines is refused, and named.
    let img = c.image(&[], &[], |part| set_incompat(part, 0x4000_0000));
    let r = c.check(&img);
    let reason = "p1 (ext4): cannot inspect contents: ext4 feature not supported by the reader";
    expect(
        &r,
        "partition/os-found",
        "error",
        &[
            "a Linux root was not found, and a volume that could hold it could not be read",
            reason,
        ],
    );
    let ev = result(&r, "partition/os-found")["evidence"].to_string();
    assert!(
        ev.contains("p1 (ext4): not readable: cannot inspect contents: ext4 feature not supported by the reader"),
        "{ev}"
    );
    assert!(ev.contains("incompatible feature"), "{ev}");
    assert!(ev.contains("0x40000000"), "{ev}");
    all_linux_checks_error(&r, &["no Linux root filesystem could be inspected", reason]);
}

#[test]
fn a_corrupt_ext4_gives_clear_errors() {
    let Some(c) = Case::new("corrupt") else {
        return;
    };
    // The root directory's block.
    let img = c.image(&[], &[], |part| {
        let b = first_block(part, "/");
        zero_block(part, b);
    });
    let r = c.check(&img);
    expect(
        &r,
        "partition/os-found",
        "error",
        &[
            "a Linux root was not found, and a volume that could hold it could not be read",
            "unknown: p1 (ext4): corrupt filesystem",
        ],
    );
    let ev = result(&r, "partition/os-found")["evidence"].to_string();
    // The reason, not "missing /etc": the markers are unreadable, not absent.
    assert!(
        ev.contains("p1 (ext4): not readable: corrupt filesystem: ext4 inode 2, block ")
            && ev.contains("directory entry at 0: record length 0"),
        "{ev}"
    );
    all_linux_checks_error(
        &r,
        &[
            "no Linux root filesystem could be inspected",
            "p1 (ext4): corrupt filesystem: ext4 inode 2",
        ],
    );

    // The first inode table block (inodes 1..16, the root's among them).
    let Some(c) = Case::new("corrupt-inodes") else {
        return;
    };
    let img = c.image(&[], &[], |part| {
        let out = sh(Command::new("dumpe2fs").arg(part));
        let b: u64 = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("Inode table at "))
            .and_then(|l| l.split('-').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no inode table: {out}"));
        zero_block(part, b);
    });
    let r = c.check(&img);
    expect(
        &r,
        "partition/os-found",
        "error",
        &[
            "a Linux root was not found, and a volume that could hold it could not be read",
            "unknown: p1 (ext4): corrupt filesystem",
        ],
    );
    let ev = result(&r, "partition/os-found")["evidence"].to_string();
    assert!(
        ev.contains(
            "p1 (ext4): not readable: corrupt filesystem: ext4 inode 2: the root inode is not a directory"
        ),
        "{ev}"
    );
    all_linux_checks_error(
        &r,
        &[
            "no Linux root filesystem could be inspected",
            "p1 (ext4): corrupt filesystem: ext4 inode 2",
        ],
    );
}

/// Writes `bytes` at byte `at` of the bare filesystem image `part`.
fn poke(part: &Path, at: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(part).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

/// Lints `img` under `auto` and asserts what holds for an OS disk whose root cannot be read:
/// exit 1, a linux-os disk (never a data disk), partition/os-found `error` naming p1 and
/// `reason`, every linux/ check `error` naming it too.
#[track_caller]
fn assert_unread_linux_os(c: &Case, img: &Path, filesystem: &str, reason: &str) {
    let (code, r) = c.check_with(img, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["profile"], "linux-os", "{r:#}");
    let why = r["profile_reason"].as_str().unwrap();
    assert!(
        why.starts_with("auto: a Linux OS disk whose system could not be read"),
        "{why}"
    );
    let volume = format!("p1 ({filesystem})");
    assert!(why.contains(&volume) && why.contains(reason), "{why}");
    expect(
        &r,
        "partition/os-found",
        "error",
        &[&format!("unknown: {volume}: "), reason],
    );
    assert_eq!(
        result(&r, "partition/os-found")["actual"],
        format!("{volume} could not be read")
    );
    all_linux_checks_error(&r, &[&volume, reason]);
    assert_ne!(status(&r, "windows/ntfs"), "pass");
}

/// A case of an ext4 root the reader refuses: its name, `mke2fs -O` features, `debugfs -w`
/// requests, the damage done to the bare filesystem, the filesystem probed and the reason
/// expected.
type UnreadCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    fn(&Path),
    &'static str,
    &'static str,
);

/// Sets bit `bit` of `s_feature_incompat` in the superblock of the bare filesystem `part`.
fn set_incompat(part: &Path, bit: u32) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(part).unwrap();
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, 1024 + 0x60).unwrap();
    poke(
        part,
        1024 + 0x60,
        &(u32::from_le_bytes(b) | bit).to_le_bytes(),
    );
}

#[test]
fn an_os_disk_whose_root_cannot_be_read_never_exits_0() {
    // ext4 the reader refuses: an incompatible feature it does not know, a journal on an
    // external device that needs recovery (it cannot be replayed from the volume), a damaged
    // superblock.
    let cases: &[UnreadCase] = &[
        (
            "unknown-incompat",
            &[],
            &[],
            // An incompatible feature bit no ext4 defines.
            |part| set_incompat(part, 0x4000_0000),
            "ext4",
            "ext4 feature not supported by the reader",
        ),
        (
            "external-journal-needs-recovery",
            &[],
            &[
                "feature needs_recovery",
                "ssv journal_inum 0",
                "ssv journal_dev 0x801",
            ],
            |_| {},
            "ext4",
            "journal on an external device",
        ),
        (
            "bad-superblock",
            &[],
            &[],
            // s_log_block_size: a block of 2^(10+200) bytes.
            |part| poke(part, 1024 + 0x18, &200u32.to_le_bytes()),
            "ext4",
            "corrupt filesystem",
        ),
        (
            "no-superblock",
            &[],
            &[],
            // The primary superblock wiped: no signature left.
            |part| poke(part, 1024, &[0u8; 1024]),
            "unknown",
            "no filesystem signature vhdlint recognises",
        ),
    ];
    for &(name, features, debugfs, damage, filesystem, reason) in cases {
        let Some(c) = Case::new(name) else {
            return;
        };
        let img = c.image_of("type=83", |part| {
            c.ext4(part, features, debugfs);
            damage(part);
        });
        eprintln!("case {name}");
        assert_unread_linux_os(&c, &img, filesystem, reason);
    }
}

#[test]
fn an_ext4_root_of_every_era_is_read() {
    // Roots ext4-view could not read: 128-byte inodes, inline data, no filetype, and a journal
    // that needs recovery holding a committed transaction (written by debugfs, not replayed on
    // the image), whose replay is reported beside the root.
    for name in ["inode-128", "inline-data", "no-filetype", "needs-recovery"] {
        let Some(c) = Case::new(&format!("era-{name}")) else {
            return;
        };
        let img = c.image_of("type=83", |part| match name {
            "inode-128" => {
                sh(Command::new("mke2fs")
                    .env("E2FSPROGS_FAKE_TIME", "1700000000")
                    .args(["-F", "-q", "-t", "ext4", "-I", "128", "-d"])
                    .arg(&c.tree)
                    .arg(part));
            }
            "inline-data" => c.ext4(part, &["inline_data"], &[]),
            "no-filetype" => c.ext4(part, &["^filetype"], &[]),
            _ => {
                c.ext4(part, &[], &[]);
                // A committed transaction rewriting block 1 (the group descriptors) with
                // the bytes it holds.
                let block = c.dir.join("block");
                let part_bytes = std::fs::read(part).unwrap();
                std::fs::write(&block, &part_bytes[4096..8192]).unwrap();
                let script = c.dir.join("jw");
                std::fs::write(&script, format!("jo\njw -b 1 {}\njc\n", block.display())).unwrap();
                sh(Command::new("debugfs")
                    .arg("-w")
                    .arg("-f")
                    .arg(&script)
                    .arg(part));
                let out = sh(Command::new("dumpe2fs").arg("-h").arg(part));
                assert!(out.contains("needs_recovery"), "{out}");
            }
        });
        eprintln!("case {name}");
        let (_, r) = c.check_with(&img, &[]);
        assert_eq!(r["profile"], "linux-os", "{name}: {r:#}");
        expect(&r, "partition/os-found", "pass", &["Linux root on p1"]);
        let said = result(&r, "partition/os-found").to_string();
        assert_eq!(
            said.contains("journal replayed in memory: 1 transaction, 1 block"),
            name == "needs-recovery",
            "{name}: {said}"
        );
        for id in [
            "linux/hostname",
            "linux/ssh-host-keys",
            "linux/root-password",
        ] {
            assert_ne!(status(&r, id), "error", "{name}: {id}: {r:#}");
        }
    }
}

#[test]
fn a_btrfs_root_with_a_damaged_superblock_is_an_os_disk_that_cannot_be_read() {
    if !have("mkfs.btrfs") {
        skip(
            "the damaged btrfs case",
            "mkfs.btrfs not found (btrfs-progs)",
        );
        return;
    }
    let Some(c) = Case::new("btrfs-damaged-superblock") else {
        return;
    };
    // The partition is under 64 MiB, so there is no mirror: one flipped byte in the primary
    // superblock's checksummed area leaves nothing to read (the magic stays, so the probe still
    // says btrfs).
    let img = c.image_of("type=83, bootable", |part| {
        sh(Command::new("mkfs.btrfs")
            .args(["-q", "-f", "-r"])
            .arg(&c.tree)
            .arg(part));
        let mut b = std::fs::read(part).unwrap();
        b[0x10000 + 300] ^= 0xff;
        std::fs::write(part, b).unwrap();
    });
    assert_unread_linux_os(
        &c,
        &img,
        "btrfs",
        "btrfs: no usable superblock (at 64 KiB: its crc32c checksum",
    );
}

#[test]
fn a_btrfs_root_it_cannot_read_is_an_os_disk_that_cannot_be_read() {
    if !have("mkfs.btrfs") {
        skip("the btrfs root case", "mkfs.btrfs not found (btrfs-progs)");
        return;
    }
    let Some(c) = Case::new("btrfs-root") else {
        return;
    };
    // A GPT-less SUSE-style layout in one MBR partition, marked active as a BIOS install would,
    // on a btrfs whose metadata is checksummed with xxhash64, which the reader does not verify
    // and so does not read.
    let img = c.image_of("type=83, bootable", |part| {
        sh(Command::new("mkfs.btrfs")
            .args(["-q", "-f", "--csum", "xxhash", "-r"])
            .arg(&c.tree)
            .arg(part));
    });
    assert_unread_linux_os(
        &c,
        &img,
        "btrfs",
        "btrfs: metadata checksummed with xxhash64",
    );
    let (_, r) = c.check_with(&img, &[]);
    let ev = result(&r, "partition/os-found")["evidence"].to_string();
    assert!(
        ev.contains("sign of an operating system: p1: active (bootable) partition"),
        "{ev}"
    );
    // An error counts like a failure: alone it makes the run exit 1, and a waiver accepts it.
    let (code, r) = c.check_with(&img, &["--select", "partition/os-found"]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["summary"]["error"], 1);
    assert_eq!(r["summary"]["fail"], 0);
    let waivers = c.dir.join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\ncheck = \"partition/os-found\"\njustification = \"read by hand: SLES 15 root\"\n",
    )
    .unwrap();
    let (code, r) = c.check_with(
        &img,
        &[
            "--select",
            "partition/os-found",
            "--waivers",
            waivers.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    let os = result(&r, "partition/os-found");
    assert_eq!(os["status"], "error", "a waived result keeps its status");
    assert_eq!(os["waived"], "read by hand: SLES 15 root");
    // Declared a data disk, it is one.
    let (code, r) = c.check_with(&img, &["--profile", "data-disk"]);
    assert_eq!(r["profile"], "data-disk");
    assert_eq!(code, 0, "{r:#}");
}

#[test]
fn data_disks_stay_data_disks() {
    // A readable ext4 data filesystem, no OS markers.
    let Some(c) = Case::new("data-ext4") else {
        return;
    };
    for d in ["etc", "usr", "root", "bin"] {
        let p = c.path(d);
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_dir_all(&p);
    }
    c.write("backups/db.dump", "data\n");
    let img = c.image(&[], &[], |_| {});
    let (code, r) = c.check_with(&img, &[]);
    assert_eq!(r["profile"], "data-disk", "{r:#}");
    assert_eq!(r["summary"]["error"], 0, "{r:#}");
    assert_eq!(code, 0, "{r:#}");
    // No partition table, nothing written.
    let Some(c) = Case::new("data-empty") else {
        return;
    };
    let raw = c.dir.join("empty.raw");
    let vhd = c.dir.join("empty.vhd");
    sh(Command::new("truncate")
        .arg("-s")
        .arg(DISK_BYTES.to_string())
        .arg(&raw));
    sh(Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "vpc"])
        .args(["-o", "subformat=fixed,force_size"])
        .arg(&raw)
        .arg(&vhd));
    let (code, r) = c.check_with(&vhd, &[]);
    assert_eq!(r["profile"], "data-disk", "{r:#}");
    assert_eq!(
        r["profile_reason"],
        "auto: no operating system volume found"
    );
    assert_eq!(code, 0, "{r:#}");
}

/// A loop device over a file, detached when dropped.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn an_lvm_pv_whose_metadata_cannot_be_read_is_an_unread_os_volume() {
    // The real pvcreate and vgcreate write the label and the metadata of vg0 on the
    // partition (through a loop device); then every copy of the metadata text is damaged so
    // that it no longer parses.
    let Some(c) = Case::new("lvm-damaged-metadata") else {
        return;
    };
    if let Some(t) = ["pvcreate", "vgcreate", "losetup"]
        .into_iter()
        .find(|t| !have(t))
    {
        skip("the LVM case", &format!("{t} not found"));
        return;
    }
    if !Path::new("/dev/loop-control").exists() {
        skip(
            "the LVM case",
            "no /dev/loop-control: loop devices unavailable",
        );
        return;
    }
    let lvm = c.dir.join("lvm");
    let img = c.image_of("type=8e", |part| {
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(part)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "losetup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dev = Loop(String::from_utf8_lossy(&out.stdout).trim().to_string());
        std::fs::create_dir_all(lvm.join("lock")).unwrap();
        std::fs::write(
            lvm.join("lvm.conf"),
            format!(
                "devices {{\n filter = [ \"a|^{d}$|\", \"r|.*|\" ]\n global_filter = [ \"a|^{d}$|\", \"r|.*|\" ]\n obtain_device_list_from_udev = 0\n use_devicesfile = 0\n}}\nactivation {{\n udev_sync = 0\n udev_rules = 0\n monitoring = 0\n}}\nglobal {{\n use_lvmpolld = 0\n locking_dir = \"{l}\"\n}}\nbackup {{\n backup = 0\n archive = 0\n}}\n",
                d = dev.0,
                l = lvm.join("lock").display()
            ),
        )
        .unwrap();
        for args in [
            &["pvcreate", "-q", "-y", "--norestorefile", &dev.0][..],
            &["vgcreate", "-q", "--setautoactivation", "n", "vg0", &dev.0][..],
        ] {
            sh(Command::new(args[0])
                .args(&args[1..])
                .env("LVM_SYSTEM_DIR", &lvm)
                .env("LVM_SUPPRESS_FD_WARNINGS", "1"));
        }
        drop(dev);
        let mut bytes = std::fs::read(part).unwrap();
        let mut damaged = 0;
        let mut at = 0;
        while let Some(i) = bytes[at..].windows(6).position(|w| w == b"vg0 {\n") {
            bytes[at + i + 4] = b'[';
            at += i + 6;
            damaged += 1;
        }
        assert!(damaged > 0, "no metadata text of vg0 found on the PV");
        std::fs::write(part, bytes).unwrap();
    });
    assert_unread_linux_os(
        &c,
        &img,
        "LVM2_member",
        "LVM2 physical volume whose metadata could not be read",
    );
}
