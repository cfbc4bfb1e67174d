//! ClientAliveInterval as vhdlint evaluates sshd's configuration, against OpenSSH's own answer.
//!
//! Several hundred sshd_config trees are generated from a fixed seed: `Include` with globs,
//! relative and absolute patterns, several patterns on a line, patterns that match nothing;
//! drop-ins in /etc/ssh/sshd_config.d/ whose names sort in byte order (`Z` before `a`, dot
//! files skipped); includes of includes; `Match` blocks (also around an `Include`, and inside
//! included files) and `Match all`; time units (`3m`, `1h30s`, `2W`, signs, quoted values with
//! blanks); keywords in any case, quoted, with `=` separators, blanks and comments; Debian's
//! stock sshd_config with lines added; an empty and a missing sshd_config. About one tree in
//! seven holds a line that makes sshd refuse to start (an invalid time anywhere, extra or missing
//! arguments, a lone quote, an include cycle).
//!
//! The truth is `sshd -T` of the Debian 12 root that `fixtures/debian12.sh rootfs` debootstraps
//! (OpenSSH as Debian ships it), run in a chroot of that root with each tree copied into its
//! /etc: the `clientaliveinterval` it prints, or its refusal. vhdlint's answer is the one its
//! check reads, `Facts::sshd` over the same files: the value in effect (none is sshd's default,
//! 0), a value sshd refuses, or a syntax problem noted (sshd exits on those). Every tree must
//! agree.
//!
//! `VHDLINT_SSHD_SEED` and `VHDLINT_SSHD_TREES` change the seed and the number of trees (to
//! explore further; the test runs with the defaults).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use common::{debian12_rootfs_or_skip, skip};
use vhdlint_guest::config::sshd::SshdConfig;
use vhdlint_guest::facts::Facts;
use vhdlint_guest::fs::mem::MemFs;
use vhdlint_guest::fs::FsError;
use vhdlint_guest::note::NoteKind;
use vhdlint_guest::view::GuestView;

const DEFAULT_SEED: u64 = 0x5eed_55d0_c0f1_9001;
const DEFAULT_TREES: usize = 320;

/// splitmix64: a small deterministic generator (the trees must be the same on every machine).
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
    /// True with probability `pct` %.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The files of one tree: absolute path → contents.
type Tree = BTreeMap<String, String>;

const MAIN: &str = "/etc/ssh/sshd_config";

/// Directories of included files, in tiers: a file of one tier includes only files of a later
/// tier, so includes do not loop unless a tree asks for a cycle.
const TIERS: [&str; 3] = [
    "/etc/ssh/sshd_config.d",
    "/etc/ssh/conf.d",
    "/etc/sshd.local",
];

/// File names for each tier (`README`, `x.conf.bak` and the dot file are not matched by
/// `*.conf`; `Z-upper.conf` sorts before `a-lower.conf`).
const NAMES: [&[&str]; 3] = [
    &[
        "00-first.conf",
        "10-azure.conf",
        "50-cloudimg-settings.conf",
        "60-local.conf",
        "9-early.conf",
        "99-last.conf",
        "Z-upper.conf",
        "a-lower.conf",
        "README",
        ".hidden.conf",
        "x.conf.bak",
    ],
    &["10-a.conf", "20-b.conf", "30-c.conf", "40-d.txt"],
    &["one", "two.conf", "three.conf"],
];

/// `Include` patterns reaching tier `t`, as written (relative ones are under /etc/ssh).
const PATTERNS: [&[&str]; 3] = [
    &[
        "/etc/ssh/sshd_config.d/*.conf",
        "sshd_config.d/*.conf",
        "\"/etc/ssh/sshd_config.d/*.conf\"",
        "sshd_config.d/[0-5]*.conf",
        "/etc/ssh/sshd_config.d/?0-*.conf",
        "sshd_config.d/*",
        "sshd_config.d/50-cloudimg-settings.conf",
        "/etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config.d/9*.conf",
        "sshd_config.d/missing-*.conf",
    ],
    &[
        "conf.d/*.conf",
        "/etc/ssh/conf.d/*",
        "conf.d/[12]0-?.conf",
        "conf.d/30-c.conf conf.d/10-a.conf",
        "/etc/ssh/conf.d/none.conf",
    ],
    &[
        "/etc/sshd.local/*",
        "/etc/sshd.local/*.conf",
        "/etc/sshd.local/one",
        "'/etc/sshd.local/t*'",
    ],
];

/// Keywords sshd accepts inside a Match block, with values.
const MATCH_OK: &[&str] = &[
    "ClientAliveCountMax 3",
    "ClientAliveCountMax 0",
    "X11Forwarding no",
    "X11Forwarding yes",
    "PasswordAuthentication no",
    "PermitRootLogin prohibit-password",
    "MaxAuthTries 4",
    "AllowTcpForwarding no",
    "Banner none",
    "AuthorizedKeysFile .ssh/authorized_keys",
];

/// Keywords sshd accepts only outside Match blocks.
const GLOBAL_ONLY: &[&str] = &[
    "Port 22",
    "UsePAM yes",
    "LoginGraceTime 2m",
    "PrintMotd no",
    "AcceptEnv LANG LC_*",
    "UseDNS no",
    "Compression no",
];

const MATCHES: &[&str] = &[
    "Match User alice",
    "Match Group admins,wheel",
    "Match Address 10.0.0.0/8,192.168.1.0/24",
    "Match Host *.example.com",
    "Match User bob Address 172.16.0.0/12",
    "match user carol",
    "Match User \"dave\"",
];

const MATCH_ALL: &[&str] = &[
    "Match all",
    "match ALL",
    "Match All # back to global",
    "Match\tall",
];

/// What makes sshd refuse a tree: one such line is put somewhere in one tree out of seven.
#[derive(Clone, Copy, Debug)]
enum Poison {
    BadTime,
    ExtraArgument,
    MissingValue,
    LoneQuote,
    Cycle,
}

struct Gen {
    rng: Rng,
    tree: Tree,
    poison: Option<Poison>,
}

impl Gen {
    /// A ClientAliveInterval value sshd accepts.
    fn time(&mut self) -> String {
        let r = &mut self.rng;
        let v = match r.below(10) {
            0..=3 => {
                let n = *r.pick(&[0, 1, 29, 30, 45, 60, 120, 180, 235, 236, 240, 300, 3600]);
                n.to_string()
            }
            4 => r.below(100_000).to_string(),
            5..=7 => {
                // one to three number+unit parts
                let mut s = String::new();
                for _ in 0..=r.below(3) {
                    let unit = *r.pick(&["s", "m", "h", "S", "M", "H", "d", "w", "W", "D"]);
                    let n = match unit {
                        "d" | "D" | "w" | "W" => r.below(3),
                        "h" | "H" => r.below(5),
                        _ => r.below(90),
                    };
                    let _ = write!(s, "{n}{unit}");
                }
                // a final bare number counts as seconds
                if r.chance(20) {
                    let _ = write!(s, "{}", r.below(60));
                }
                s
            }
            8 => format!("0{}", r.below(400)),
            _ => (*r.pick(&["+90", "-0", "+3m", "1m+30", "2147483647", "35791394m"])).to_string(),
        };
        match self.rng.below(12) {
            0 => format!("\"{v}\""),
            1 => format!("'{v}'"),
            2 => format!("\" {v}\""),
            3 => "\"1h 30m\"".to_string(),
            4 if v.len() > 1 => format!("{}\"{}\"", &v[..1], &v[1..]),
            _ => v,
        }
    }

    /// A value sshd refuses as a time.
    fn bad_time(&mut self) -> String {
        (*self.rng.pick(&[
            "3x",
            "1mm",
            "-5",
            "m",
            "2147483648",
            "60#c",
            "0x10",
            "1.5m",
            "\"\"",
            "5 m",
            "1h-5",
            "36000000m",
        ]))
        .to_string()
    }

    fn keyword(&mut self) -> String {
        let k = "ClientAliveInterval";
        match self.rng.below(8) {
            0 => k.to_ascii_lowercase(),
            1 => k.to_ascii_uppercase(),
            2 => "clientAliveInterval".into(),
            3 => format!("\"{k}\""),
            4 => k
                .chars()
                .map(|c| {
                    if self.rng.chance(50) {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
            _ => k.into(),
        }
    }

    /// `KEY VALUE` written in one of the ways sshd reads the same.
    fn styled(&mut self, key: &str, value: &str) -> String {
        let quoted_key = key.starts_with('"');
        let sep = if quoted_key {
            // after a quoted keyword only blanks separate (an `=` would be the value)
            *self.rng.pick(&[" ", "\t", "  "])
        } else {
            *self
                .rng
                .pick(&[" ", " ", " ", "\t", "=", " = ", "= ", " =", "\t=\t", "  "])
        };
        let lead = *self.rng.pick(&["", "", "", "  ", "\t", " = ", "="]);
        let trail = *self
            .rng
            .pick(&["", "", "", " ", "\t", " # a comment", "\t#x", "\r", " \x0c"]);
        format!("{lead}{key}{sep}{value}{trail}")
    }

    fn cai_line(&mut self) -> String {
        let k = self.keyword();
        let v = self.time();
        self.styled(&k, &v)
    }

    fn other_line(&mut self, global: bool) -> String {
        let l = if global && self.rng.chance(40) {
            *self.rng.pick(GLOBAL_ONLY)
        } else {
            *self.rng.pick(MATCH_OK)
        };
        let (k, v) = l.split_once(' ').unwrap();
        let k = if self.rng.chance(20) {
            k.to_ascii_lowercase()
        } else {
            k.to_string()
        };
        self.styled(&k, v)
    }

    fn comment_line(&mut self) -> String {
        let v = self.time();
        match self.rng.below(5) {
            0 => String::new(),
            1 => format!("#ClientAliveInterval {v}"),
            2 => format!("  # ClientAliveInterval {v}"),
            3 => "#\tMatch User x".into(),
            _ => "# comment".into(),
        }
    }

    /// An `Include` of a tier from `tier` on.
    fn include_line(&mut self, tier: usize) -> String {
        let t = tier + self.rng.below(TIERS.len() - tier);
        let p = (*self.rng.pick(PATTERNS[t])).to_string();
        let k = *self.rng.pick(&["Include", "include", "INCLUDE"]);
        self.styled(k, &p)
    }

    /// The lines of one file. `global`: keywords sshd allows only outside Match may appear
    /// (the main file, outside its Match blocks). `next_tier`: the tier this file may include.
    fn body(&mut self, global: bool, next_tier: Option<usize>, len: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let mut in_match = false;
        for _ in 0..len {
            let roll = self.rng.below(100);
            let line = match roll {
                0..=29 => self.cai_line(),
                30..=49 => self.other_line(global && !in_match),
                50..=61 => self.comment_line(),
                62..=73 => {
                    in_match = !in_match;
                    if in_match {
                        (*self.rng.pick(MATCHES)).to_string()
                    } else if self.rng.chance(80) {
                        (*self.rng.pick(MATCH_ALL)).to_string()
                    } else {
                        // another Match block right after this one
                        in_match = true;
                        (*self.rng.pick(MATCHES)).to_string()
                    }
                }
                _ => match next_tier {
                    Some(t) => self.include_line(t),
                    None => self.cai_line(),
                },
            };
            lines.push(line);
        }
        if global && in_match {
            // what follows in the main file may hold keywords sshd refuses inside Match
            lines.push((*self.rng.pick(MATCH_ALL)).to_string());
        }
        lines
    }

    fn poison_line(&mut self, p: Poison) -> String {
        let k = self.keyword();
        match p {
            Poison::BadTime => {
                let v = self.bad_time();
                self.styled(&k, &v)
            }
            Poison::ExtraArgument => {
                let (a, b) = (self.time(), self.time());
                self.styled(&k, &format!("{a} {b}"))
            }
            Poison::MissingValue => {
                format!("{k}{}", self.rng.pick(&["", " ", " #60", " \"\"", " ="]))
            }
            Poison::LoneQuote => (*self.rng.pick(&[
                "ClientAliveInterval \"60",
                "X11Forwarding 'no",
                "Include \"sshd_config.d/*.conf",
            ]))
            .to_string(),
            Poison::Cycle => unreachable!("a cycle is an Include, placed by tree()"),
        }
    }

    /// One whole tree.
    fn tree(seed: u64, stock: &str) -> (Tree, Option<Poison>) {
        let mut g = Gen {
            rng: Rng(seed),
            tree: Tree::new(),
            poison: None,
        };
        if g.rng.chance(14) {
            g.poison = Some(*g.rng.pick(&[
                Poison::BadTime,
                Poison::BadTime,
                Poison::ExtraArgument,
                Poison::MissingValue,
                Poison::LoneQuote,
                Poison::Cycle,
            ]));
        }
        // included files, from the last tier up
        for t in (0..TIERS.len()).rev() {
            let n = g.rng.below(NAMES[t].len().min(5) + 1);
            for _ in 0..n {
                let name = *g.rng.pick(NAMES[t]);
                let next = (t + 1 < TIERS.len()).then_some(t + 1);
                let len = 1 + g.rng.below(6);
                let body = g.body(false, next, len).join("\n");
                g.tree.insert(format!("{}/{name}", TIERS[t]), body + "\n");
            }
        }
        // the main file
        let main_kind = g.rng.below(100);
        if main_kind < 2 {
            // no sshd_config at all
        } else if main_kind < 4 {
            g.tree.insert(MAIN.into(), String::new());
        } else {
            let mut lines: Vec<String> = if main_kind < 35 {
                stock.lines().map(str::to_string).collect()
            } else {
                Vec::new()
            };
            let len = 2 + g.rng.below(12);
            let added = g.body(true, Some(0), len);
            // added lines go before, inside or after the stock text
            let at = g.rng.below(lines.len() + 1);
            lines.splice(at..at, added);
            if g.rng.chance(50) {
                // the stock Include, often at the top as Ubuntu and Debian put it
                let at = if g.rng.chance(60) {
                    0
                } else {
                    g.rng.below(lines.len() + 1)
                };
                let inc = g.include_line(0);
                lines.insert(at, inc);
            }
            g.tree.insert(MAIN.into(), lines.join("\n") + "\n");
        }
        if let Some(p) = g.poison {
            let files: Vec<String> = g.tree.keys().cloned().collect();
            if files.is_empty() {
                g.poison = None;
            } else {
                let f = g.rng.pick(&files).clone();
                let line = match p {
                    Poison::Cycle => {
                        // the file includes itself (sshd recurses until its depth limit)
                        format!("Include {f}")
                    }
                    _ => g.poison_line(p),
                };
                let text = g.tree.get_mut(&f).unwrap();
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                let at = g.rng.below(lines.len() + 1);
                lines.insert(at, line);
                *text = lines.join("\n") + "\n";
            }
        }
        (g.tree, g.poison)
    }
}

/// What one side says about a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// ClientAliveInterval in seconds.
    Value(u64),
    /// sshd does not start (with its message, or vhdlint's reason).
    Refused(String),
}

impl Verdict {
    fn agrees(&self, other: &Verdict) -> bool {
        match (self, other) {
            (Verdict::Value(a), Verdict::Value(b)) => a == b,
            (Verdict::Refused(_), Verdict::Refused(_)) => true,
            _ => false,
        }
    }
}

/// vhdlint's view: the facts its check reads, over the tree plus /etc/ssh's other files.
fn vhdlint_verdict(base: &Tree, tree: &Tree) -> (Verdict, Option<SshdConfig>) {
    let mut fs = MemFs::new();
    for (p, t) in base.iter().chain(tree) {
        fs.file(p, t.as_bytes());
    }
    let view = GuestView::of(fs);
    let facts = Facts::default();
    let cfg = match facts.sshd(&view) {
        Ok(c) => c.clone(),
        Err(FsError::NotFound(_)) => return (Verdict::Refused("no sshd_config".into()), None),
        Err(e) => panic!("reading the tree: {e}"),
    };
    if let Some(Err(bad)) = cfg.client_alive_interval() {
        return (
            Verdict::Refused(format!(
                "invalid ClientAliveInterval \"{}\" at {}:{}",
                bad.raw, bad.setting.path, bad.setting.line
            )),
            Some(cfg),
        );
    }
    if let Some(i) = cfg
        .issues
        .iter()
        .find(|i| matches!(i.kind, NoteKind::Syntax))
    {
        return (Verdict::Refused(i.to_string()), Some(cfg));
    }
    let v = match cfg.client_alive_interval() {
        Some(Ok((secs, _))) => secs,
        _ => 0,
    };
    (Verdict::Value(v), Some(cfg))
}

/// Runs `cmd` and returns its stdout, or skips (returns None) when it cannot run.
fn run(cmd: &mut Command, what: &str) -> Option<String> {
    match cmd.output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!(
            "{what} failed ({}):\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            skip("the sshd -T comparison", &format!("{what} cannot run: {e}"));
            None
        }
    }
}

/// Extracts the Debian root into `root`, ready for `sshd -T` (host keys, /run/sshd). What sshd
/// and the shell loop do not use is left in the tarball (kernel modules, /boot, /usr/share,
/// apt's cache, Python): two thirds of the files, and most of the time spent writing and
/// removing them.
fn prepare_root(tar: &Path, root: &Path) -> Option<()> {
    run(
        Command::new("tar")
            .args(["--numeric-owner", "-xpf"])
            .arg(tar)
            .arg("-C")
            .arg(root)
            .args([
                "--exclude=./usr/lib/modules",
                "--exclude=./boot",
                "--exclude=./usr/share",
                "--exclude=./var/cache",
                "--exclude=./usr/lib/python3*",
            ]),
        "tar -x of the Debian root",
    )?;
    std::fs::create_dir_all(root.join("run/sshd")).unwrap();
    let has_key = std::fs::read_dir(root.join("etc/ssh"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("ssh_host_") && n.ends_with("_key")
        });
    if !has_key {
        run(
            Command::new("chroot")
                .arg(root)
                .args(["/usr/bin/ssh-keygen", "-A"]),
            "ssh-keygen -A in the chroot",
        )?;
    }
    Some(())
}

/// The files of the root's /etc/ssh other than sshd's configuration (host keys, moduli,
/// ssh_config), which stay in every tree.
fn base_files(root: &Path) -> Tree {
    fn walk(host: &Path, guest: &str, out: &mut Tree) {
        for e in std::fs::read_dir(host).unwrap().filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let g = format!("{guest}/{name}");
            if g == MAIN || g == TIERS[0] {
                continue;
            }
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(&e.path(), &g, out);
            } else if t.is_file() {
                out.insert(
                    g,
                    String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into(),
                );
            }
        }
    }
    let mut out = Tree::new();
    walk(&root.join("etc/ssh"), "/etc/ssh", &mut out);
    out
}

/// Writes tree `i` under ROOT/gen/tNNNN (a mirror of the root's paths).
fn write_tree(root: &Path, i: usize, tree: &Tree) {
    let dir = root.join(format!("gen/t{i:04}"));
    // an empty directory for a tree without files (sshd then has no sshd_config)
    std::fs::create_dir_all(&dir).unwrap();
    for (p, t) in tree {
        let host = dir.join(p.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(host, t).unwrap();
    }
}

/// One chroot for every tree: each is copied over /etc (after removing the previous tree's
/// files; host keys and ssh_config stay), then `sshd -T` runs. Output per tree: `@@ N RC`, then
/// the clientaliveinterval line, or sshd's messages prefixed with `! `.
const RUNNER: &str = r#"#!/bin/sh
cd /
for d in /gen/t*; do
    n=${d#/gen/t}
    find /etc/ssh -mindepth 1 -maxdepth 1 ! -name 'ssh_host_*' ! -name moduli ! -name ssh_config ! -name ssh_config.d -exec rm -rf {} +
    rm -rf /etc/sshd.local
    cp -a "$d/." /
    out=$(/usr/sbin/sshd -T 2>&1)
    rc=$?
    echo "@@ $n $rc"
    if [ "$rc" = 0 ]; then
        printf '%s\n' "$out" | grep -i '^clientaliveinterval '
    else
        printf '%s\n' "$out" | sed 's/^/! /'
    fi
done
"#;

fn sshd_verdicts(out: &str) -> BTreeMap<usize, Verdict> {
    let mut v = BTreeMap::new();
    let mut cur: Option<(usize, bool)> = None;
    let mut msg = String::new();
    let flush = |cur: Option<(usize, bool)>, msg: &mut String, v: &mut BTreeMap<_, _>| {
        if let Some((n, false)) = cur {
            v.insert(n, Verdict::Refused(std::mem::take(msg)));
        }
        msg.clear();
    };
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("@@ ") {
            flush(cur, &mut msg, &mut v);
            let (n, rc) = rest.split_once(' ').unwrap();
            cur = Some((n.parse().unwrap(), rc == "0"));
        } else if let Some(m) = line.strip_prefix("! ") {
            msg.push_str(m);
            msg.push('\n');
        } else if let Some(val) = line.strip_prefix("clientaliveinterval ") {
            let (n, ok) = cur.expect("a value after a tree marker");
            assert!(ok, "a value for a refused tree: {line}");
            v.insert(n, Verdict::Value(val.trim().parse().unwrap()));
        }
    }
    flush(cur, &mut msg, &mut v);
    v
}

fn show(tree: &Tree) -> String {
    let mut s = String::new();
    for (p, t) in tree {
        let _ = writeln!(s, "--- {p}");
        for (i, l) in t.lines().enumerate() {
            let _ = writeln!(s, "{:>3} {l:?}", i + 1);
        }
    }
    s
}

#[test]
fn client_alive_interval_agrees_with_sshd_t() {
    if !is_root() {
        skip("the sshd -T comparison", "chroot needs root");
        return;
    }
    let Some(tar) = debian12_rootfs_or_skip() else {
        return;
    };
    let seed = std::env::var("VHDLINT_SSHD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let count = std::env::var("VHDLINT_SSHD_TREES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_TREES);
    let t0 = std::time::Instant::now();
    let tmp = tempfile::Builder::new()
        .prefix("sshd-differential.")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    // VHDLINT_SSHD_KEEP=1 keeps the root and the trees (ROOT/gen/tNNNN) to look at
    let tmp_path = if std::env::var_os("VHDLINT_SSHD_KEEP").is_some() {
        tmp.keep()
    } else {
        tmp.path().to_path_buf()
    };
    let root = tmp_path.as_path();
    if prepare_root(&tar, root).is_none() {
        return;
    }
    let t_extract = t0.elapsed();
    let stock = std::fs::read_to_string(root.join("etc/ssh/sshd_config")).unwrap();
    let base = base_files(root);
    let mut seeds = Rng(seed);
    let trees: Vec<(Tree, Option<Poison>)> = (0..count)
        .map(|_| Gen::tree(seeds.next(), &stock))
        .collect();
    for (i, (t, _)) in trees.iter().enumerate() {
        write_tree(root, i, t);
    }
    std::fs::write(root.join("gen/run.sh"), RUNNER).unwrap();
    let t1 = std::time::Instant::now();
    let Some(out) = run(
        Command::new("chroot")
            .arg(root)
            .args(["/bin/sh", "/gen/run.sh"]),
        "sshd -T in the chroot",
    ) else {
        return;
    };
    let t_sshd = t1.elapsed();
    let truth = sshd_verdicts(&out);
    assert_eq!(
        truth.len(),
        count,
        "sshd -T answered for every tree:\n{out}"
    );

    let mut bad = Vec::new();
    let mut stats: BTreeMap<&str, usize> = BTreeMap::new();
    let mut values = std::collections::BTreeSet::new();
    for (i, (tree, poison)) in trees.iter().enumerate() {
        let (ours, cfg) = vhdlint_verdict(&base, tree);
        let real = &truth[&i];
        if !real.agrees(&ours) {
            bad.push(format!(
                "tree {i} (poison {poison:?}): sshd -T says {real:?}, vhdlint says {ours:?}\n{}",
                show(tree)
            ));
        }
        // what the trees exercised, so that a generator change cannot quietly make them trivial
        match real {
            Verdict::Value(v) => {
                values.insert(*v);
                *stats.entry("value").or_default() += 1;
                if *v == 0 {
                    *stats.entry("zero").or_default() += 1;
                }
            }
            Verdict::Refused(_) => *stats.entry("refused").or_default() += 1,
        }
        if let Some(cfg) = cfg {
            if let Some(Ok((_, s))) = cfg.client_alive_interval() {
                if s.path != MAIN {
                    *stats.entry("from include").or_default() += 1;
                }
                if !s.text.trim_start().starts_with(['C', 'c']) {
                    *stats.entry("odd line").or_default() += 1;
                }
            }
            if !cfg.ignored("ClientAliveInterval").is_empty() {
                *stats.entry("ignored in Match").or_default() += 1;
            }
            if cfg
                .includes
                .iter()
                .any(|i| !i.active && !i.files.is_empty())
            {
                *stats.entry("include inside Match").or_default() += 1;
            }
            if cfg.includes.iter().any(|i| i.path != MAIN) {
                *stats.entry("nested include").or_default() += 1;
            }
        }
    }
    eprintln!(
        "sshd differential: {count} trees (seed {seed:#x}), {} distinct values, {stats:?}; \
         extraction {:.1} s, sshd -T {:.1} s, total {:.1} s",
        values.len(),
        t_extract.as_secs_f64(),
        t_sshd.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    assert!(
        bad.is_empty(),
        "{} of {count} trees disagree with sshd -T:\n{}",
        bad.len(),
        bad.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
    );
    if count >= DEFAULT_TREES {
        for (k, min) in [
            ("value", count / 2),
            ("refused", count / 20),
            ("from include", count / 10),
            ("ignored in Match", count / 5),
            ("include inside Match", count / 50),
            ("nested include", count / 10),
            ("zero", count / 20),
        ] {
            let n = stats.get(k).copied().unwrap_or(0);
            assert!(n >= min, "only {n} trees with {k} (want {min}): {stats:?}");
        }
        assert!(values.len() >= 40, "{} distinct values", values.len());
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
