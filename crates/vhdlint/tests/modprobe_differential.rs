//! modprobe.d as vhdlint reads it, against kmod's own answer.
//!
//! Trees of modprobe.d files are generated from a fixed seed over kmod's four directories
//! (/etc, /run, /usr/local/lib and /lib modprobe.d): `blacklist` and `install` lines (also
//! with globs, `-`/`_` spellings, commands with blanks and `#`), comments in the first column
//! and indented, CRLF endings, `\` continuations and escapes, lines kmod rejects (`install udf`
//! without a command, `blacklist` alone, unknown commands), other commands (`options`, `alias`,
//! `softdep`); files kmod reads (`*.conf`, `*.alias`) and skips (dot files, `README`,
//! `x.conf.bak`), and the same name in several directories (the first directory's file wins).
//!
//! The truth is `modprobe -c` of the Debian 12 root that `fixtures/debian12.sh rootfs`
//! debootstraps (kmod as Debian ships it), run in a chroot of that root with each tree copied
//! into its directories: the `blacklist` and `install` lines it prints, in its order. vhdlint's
//! answer is `kmod::read_modprobe` over the same files. Every tree must agree.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{debian12_rootfs_or_skip, skip};
use vhdlint_guest::config::modprobe::Kind;
use vhdlint_guest::fs::mem::MemFs;
use vhdlint_guest::kmod::read_modprobe;
use vhdlint_guest::view::GuestView;

const SEED: u64 = 0x6b6d_6f64_0000_0015;
const TREES: usize = 200;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

type Tree = BTreeMap<String, String>;

const DIRS: [&str; 4] = [
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/lib/modprobe.d",
];
const NAMES: [&str; 9] = [
    "CIS.conf",
    "a.conf",
    "b-x.conf",
    "Z.conf",
    "local.alias",
    ".hidden.conf",
    "README",
    "x.conf.bak",
    "c.conf",
];
const MODULES: [&str; 10] = [
    "udf",
    "vfat",
    "fs-udf",
    "hv-vmbus",
    "hv_vmbus",
    "u*",
    "[uv]fat",
    "cramfs",
    "usb-storage",
    "v?at",
];
const COMMANDS: [&str; 7] = [
    "/bin/true",
    "/bin/false",
    "/sbin/modprobe --ignore-install udf",
    " /bin/true  ",
    "/bin/true # CIS 1.1.1.7",
    "echo \"disabled\"\t; exit 1",
    "true",
];

fn line(r: &mut Rng) -> String {
    let m = r.pick(&MODULES);
    let c = r.pick(&COMMANDS);
    let sep = r.pick(&[" ", "  ", "\t", " \t "]);
    let l = match r.below(16) {
        0..=4 => format!("blacklist{sep}{m}"),
        5..=9 => format!("install{sep}{m}{sep}{c}"),
        10 => format!("# blacklist {m}"),
        11 => format!("  # install {m} {c}"),
        12 => r
            .pick(&[
                "options udf x=1",
                "alias fs-foo udf",
                "softdep udf pre: crc-itu-t",
                "frob udf",
                "blacklist",
                "install udf",
                "install udf ",
                "",
                "#",
            ])
            .to_string(),
        13 => format!("install {m} \\\n  {c}"),
        14 => format!("black\\list {m}"),
        _ => format!("{}blacklist {m} # trailing", r.pick(&["", " ", "\t"])),
    };
    let end = r.pick(&["\n", "\n", "\n", "\r\n"]);
    format!("{l}{end}")
}

fn tree(r: &mut Rng) -> Tree {
    let mut t = Tree::new();
    for _ in 0..1 + r.below(6) {
        let dir = r.pick(&DIRS);
        let name = r.pick(&NAMES);
        let text: String = (0..r.below(6)).map(|_| line(r)).collect();
        t.insert(format!("{dir}/{name}"), text);
    }
    t
}

/// (blacklisted modules, install (module, command)) in order.
type Answer = (Vec<String>, Vec<(String, String)>);

fn ours(t: &Tree) -> Answer {
    let mut fs = MemFs::new();
    for d in DIRS {
        fs.dir(d);
    }
    for (p, text) in t {
        fs.file(p, text.as_bytes());
    }
    let m = read_modprobe(&GuestView::of(fs));
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let mut a: Answer = Default::default();
    for d in &m.directives {
        match &d.directive.kind {
            Kind::Blacklist => a.0.push(d.directive.module.clone()),
            Kind::Install(c) => a.1.push((d.directive.module.clone(), c.clone())),
        }
    }
    a
}

fn kmod_answers(out: &str) -> BTreeMap<usize, Answer> {
    let mut v: BTreeMap<usize, Answer> = BTreeMap::new();
    let mut cur = None;
    for l in out.split('\n') {
        if let Some(n) = l.strip_prefix("@@ ") {
            let n: usize = n.trim().parse().unwrap();
            v.insert(n, Default::default());
            cur = Some(n);
        } else if let Some(m) = l.strip_prefix("blacklist ") {
            v.get_mut(&cur.unwrap()).unwrap().0.push(m.to_string());
        } else if let Some(rest) = l.strip_prefix("install ") {
            let (m, c) = rest.split_once(' ').unwrap_or((rest, ""));
            v.get_mut(&cur.unwrap())
                .unwrap()
                .1
                .push((m.to_string(), c.to_string()));
        }
    }
    v
}

const RUNNER: &str = r#"#!/bin/sh
for d in /gen/t*; do
    n=${d#/gen/t}
    for m in /etc/modprobe.d /run/modprobe.d /usr/local/lib/modprobe.d /lib/modprobe.d; do
        rm -rf "$m"; mkdir -p "$m"
    done
    cp -a "$d/." /
    echo "@@ $n"
    /usr/sbin/modprobe -c 2>/dev/null
done
"#;

#[test]
fn blacklists_and_install_commands_agree_with_modprobe_c() {
    if !is_root() {
        skip("the modprobe -c comparison", "chroot needs root");
        return;
    }
    let Some(tar) = debian12_rootfs_or_skip() else {
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("modprobe-differential.")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path();
    let ok = Command::new("tar")
        .args(["--numeric-owner", "-xpf"])
        .arg(&tar)
        .arg("-C")
        .arg(root)
        .args([
            "--exclude=./usr/lib/modules",
            "--exclude=./boot",
            "--exclude=./usr/share",
            "--exclude=./var/cache",
            "--exclude=./usr/lib/python3*",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar -x of the Debian root");
    let mut r = Rng(SEED);
    let trees: Vec<Tree> = (0..TREES).map(|_| tree(&mut r)).collect();
    for (i, t) in trees.iter().enumerate() {
        let dir = root.join(format!("gen/t{i:04}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (p, text) in t {
            // /lib is a symlink to usr/lib in the (merged-/usr) root: `cp -a` would not
            // write through it.
            let rel = p.trim_start_matches('/');
            let rel = rel
                .strip_prefix("lib/")
                .map_or(rel.to_string(), |r| format!("usr/lib/{r}"));
            let host = dir.join(rel);
            std::fs::create_dir_all(host.parent().unwrap()).unwrap();
            std::fs::write(host, text).unwrap();
        }
    }
    std::fs::write(root.join("gen/run.sh"), RUNNER).unwrap();
    let out = Command::new("chroot")
        .arg(root)
        .args(["/bin/sh", "/gen/run.sh"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth = kmod_answers(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(truth.len(), TREES);
    let mut bad = Vec::new();
    let (mut blacklists, mut installs) = (0, 0);
    for (i, t) in trees.iter().enumerate() {
        let mine = ours(t);
        let real = &truth[&i];
        blacklists += real.0.len();
        installs += real.1.len();
        if &mine != real {
            bad.push(format!(
                "tree {i}: modprobe -c {real:?}\nvhdlint {mine:?}\n{t:#?}"
            ));
        }
    }
    eprintln!(
        "modprobe differential: {TREES} trees, {blacklists} blacklists and {installs} install commands from kmod, {} disagree",
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} of {TREES} trees disagree with modprobe -c:\n{}",
        bad.len(),
        bad.iter().take(6).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        blacklists > TREES && installs > TREES / 2,
        "the trees exercise little"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
