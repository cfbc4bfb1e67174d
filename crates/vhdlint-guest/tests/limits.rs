//! The bounds of `vhdlint_guest::limits` reached through the public API: for each, crafted
//! input that exceeds it is answered quickly (under a second in a release build, three in a
//! debug one) with a message naming the bound and its value. The filesystem bounds (XFS, NTFS,
//! directory entries) are tested beside their readers, with synthetic volumes.

use std::io::Write as _;
use std::time::{Duration, Instant};

use vhdlint_fs::mem::{MemFs, Node};
use vhdlint_fs::FsError;
use vhdlint_guest::config::{grub, keyvalue, sshd, yaml};
use vhdlint_guest::facts::{read_network, Facts};
use vhdlint_guest::initramfs::{self, InitramfsError, Limits};
use vhdlint_guest::limits::*;
use vhdlint_guest::note::{Note, NoteKind};
use vhdlint_guest::registry::{Hive, HiveError};
use vhdlint_guest::view::GuestView;
use vhdlint_guest::windows::WindowsGuest;

/// The notes as one string, each with its path and line.
fn joined(notes: &[Note]) -> String {
    notes
        .iter()
        .map(Note::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs `f`, asserting it ends within 30 s: a guard against a hang, not a measure of speed
/// (that depends on the machine's load). Each test asserts the bound itself from what `f`
/// returns: the limit error, or what was kept.
#[track_caller]
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let limit = Duration::from_secs(30);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?}");
    out
}

#[track_caller]
fn says(message: &str, needles: &[&str]) {
    for n in needles {
        assert!(message.contains(n), "{message:?} does not say {n:?}");
    }
}

// ------------------------------------------------------------------ a filesystem in memory

/// A file of `len` zero bytes, made only when read.
fn zeros(len: u64) -> Node {
    Node::Repeat { byte: 0, len }
}

// ------------------------------------------------------------------ the guest view

#[test]
fn a_config_file_over_max_config_bytes_is_refused() {
    let mut fs = MemFs::default();
    fs.add("/etc/hostname", zeros(4 << 30));
    let v = GuestView::of(fs);
    let e = timed("a 4 GiB config file", || v.read_config("/etc/hostname")).unwrap_err();
    assert!(matches!(e, FsError::Limit(_)), "{e:?}");
    says(
        &e.to_string(),
        &[
            "/etc/hostname",
            &format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ],
    );
}

#[test]
fn a_symlink_loop_stops_at_max_symlink_hops() {
    let mut fs = MemFs::default();
    fs.add("/etc/a", Node::Link("b".into()))
        .add("/etc/b", Node::Link("/etc/a".into()));
    let v = GuestView::of(fs);
    let e = timed("a symlink loop", || v.read_config("/etc/a")).unwrap_err();
    assert!(matches!(e, FsError::Limit(_)), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than {MAX_SYMLINK_HOPS} symlinks")],
    );
}

#[test]
fn a_symlink_to_a_long_path_stops_at_max_path_len() {
    let mut fs = MemFs::default();
    fs.add("/etc/long", Node::Link("/a".repeat(3000)));
    let v = GuestView::of(fs);
    let e = timed("a 6000-byte symlink target", || v.read_config("/etc/long")).unwrap_err();
    assert!(matches!(e, FsError::Limit(_)), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than {MAX_PATH_LEN} bytes")],
    );
}

#[test]
fn a_deep_path_stops_at_max_resolve_steps() {
    let mut fs = MemFs::default();
    let deep = "/d".repeat(200);
    fs.add(&format!("{deep}/f"), Node::File(b"x".to_vec()));
    let v = GuestView::of(fs);
    let e = timed("a path 200 levels deep", || {
        v.read_config(&format!("{deep}/f"))
    })
    .unwrap_err();
    assert!(matches!(e, FsError::Limit(_)), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than {MAX_RESOLVE_STEPS} directory levels")],
    );
}

#[test]
fn a_glob_over_max_glob_paths_is_reported() {
    let mut fs = MemFs::default();
    for i in 0..=MAX_GLOB_PATHS {
        fs.add(&format!("/d0/f{i}"), Node::File(Vec::new()));
    }
    fs.add("/d1/f", Node::File(Vec::new()));
    let v = GuestView::of(fs);
    let e = timed("a glob of 10,001 paths", || v.glob_checked("/*/*")).unwrap_err();
    assert!(matches!(e, FsError::Limit(_)), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than {MAX_GLOB_PATHS} paths")],
    );
    // One directory of that many matches is not cut.
    assert_eq!(v.glob_checked("/d0/*").unwrap().len(), MAX_GLOB_PATHS + 1);
}

#[test]
fn ifupdown_sources_stop_at_max_ifupdown_files() {
    let mut fs = MemFs::default();
    fs.add(
        "/etc/network/interfaces",
        Node::File(b"source /etc/network/i1\n".to_vec()),
    );
    for i in 1..100 {
        let text = format!("source /etc/network/i{}\niface eth{i} inet dhcp\n", i + 1);
        fs.add(&format!("/etc/network/i{i}"), Node::File(text.into_bytes()));
    }
    let v = GuestView::of(fs);
    let net = timed("100 chained source files", || read_network(&v));
    let notes = joined(&net.notes);
    says(
        &notes,
        &[&format!(
            "more than {MAX_IFUPDOWN_FILES} files through source"
        )],
    );
}

#[test]
fn a_netplan_file_nested_past_max_yaml_depth_is_noted() {
    let mut fs = MemFs::default();
    let deep = format!(
        "network:\n  ethernets: {}\n",
        "[".repeat(MAX_YAML_DEPTH + 10)
    );
    fs.add("/etc/netplan/50.yaml", Node::File(deep.into_bytes()));
    let v = GuestView::of(fs);
    let net = timed("a deep netplan file", || read_network(&v));
    says(
        &joined(&net.notes),
        &[
            "/etc/netplan/50.yaml",
            &format!("nested deeper than {MAX_YAML_DEPTH} levels"),
        ],
    );
}

#[test]
fn package_databases_over_their_bounds_are_noted() {
    let mut fs = MemFs::default();
    fs.add("/var/lib/dpkg/status", zeros(MAX_DPKG_STATUS_BYTES + 1));
    let p = timed("a 64 MiB dpkg status", || {
        Facts::default().packages(&GuestView::of(fs)).clone()
    });
    says(
        &joined(&p.notes),
        &[
            "/var/lib/dpkg/status",
            &format!("larger than {MAX_DPKG_STATUS_BYTES} bytes"),
        ],
    );
    assert!(p.installed.is_empty());

    let mut fs = MemFs::default();
    fs.add("/var/lib/rpm/rpmdb.sqlite", zeros(MAX_RPMDB_BYTES + 1));
    let p = timed("a 1 GiB rpmdb.sqlite", || {
        Facts::default().packages(&GuestView::of(fs)).clone()
    });
    says(
        &joined(&p.notes),
        &[
            "rpmdb.sqlite",
            &format!("larger than {MAX_RPMDB_BYTES} bytes"),
        ],
    );
}

#[test]
fn a_hive_over_max_hive_bytes_is_refused() {
    let mut fs = MemFs::default();
    fs.add(
        "/Windows/System32/config/SYSTEM",
        zeros(MAX_HIVE_BYTES + 4096),
    );
    let g = WindowsGuest::new("p1", GuestView::of(fs));
    let e = timed("a 512 MiB hive", || g.system().unwrap_err().to_string());
    says(
        &e,
        &[
            "/Windows/System32/config/SYSTEM",
            &format!("larger than {MAX_HIVE_BYTES} bytes"),
        ],
    );
}

// ------------------------------------------------------------------ configuration parsers

#[test]
fn a_quote_open_past_max_keyvalue_continuation_is_a_warning() {
    let text = format!(
        "A=\"x\n{}\"\nB=2\n",
        "y\n".repeat(MAX_KEYVALUE_CONTINUATION + 1)
    );
    let kv = timed("a quote open for 66 lines", || keyvalue::parse(&text));
    assert_eq!(kv.notes.len(), 1, "{:?}", kv.notes);
    assert_eq!(kv.notes[0].line, Some(1));
    assert_eq!(
        kv.notes[0].kind,
        NoteKind::Bound {
            limit: "MAX_KEYVALUE_CONTINUATION"
        }
    );
    says(
        &kv.notes[0].text,
        &[
            "value of A",
            &format!("after {MAX_KEYVALUE_CONTINUATION} lines"),
        ],
    );
    assert!(kv.get("A").is_none());
    assert_eq!(kv.value("B"), Some("2"));
    // Within the bound the value is read, without a warning.
    let text = format!("A=\"x\n{}\"\n", "y\n".repeat(MAX_KEYVALUE_CONTINUATION - 2));
    let kv = keyvalue::parse(&text);
    assert!(kv.notes.is_empty() && kv.get("A").is_some(), "{kv:?}");
}

#[test]
fn expansion_past_max_keyvalue_expansion_bytes_is_a_warning() {
    // Found by fuzzing config_keyvalue: each line doubles R, so 60 lines of text would ask for
    // 2^60 bytes.
    let text = format!("R=x\n{}B=$R\n", "R=\"$R$R\"\n".repeat(60));
    let kv = timed("60 self-doubling lines", || keyvalue::parse(&text));
    let total: usize = kv.entries.iter().map(|e| e.value.len()).sum();
    assert!(
        total <= MAX_KEYVALUE_EXPANSION_BYTES + text.len(),
        "{total} bytes"
    );
    assert_eq!(kv.notes.len(), 1, "{:?}", kv.notes);
    // Line k (k >= 2) expands 2^(k-1) bytes, 2^k - 2 in all by its end: line 21 would pass
    // 2^20. From there on the references stay as written.
    says(
        &kv.notes[0].text,
        &[
            "variable expansion stopped at line 21",
            &format!("{MAX_KEYVALUE_EXPANSION_BYTES} bytes, the limit"),
            "$R",
        ],
    );
    assert_eq!(kv.notes[0].line, Some(21));
    assert_eq!(
        kv.notes[0].kind,
        NoteKind::Bound {
            limit: "MAX_KEYVALUE_EXPANSION_BYTES"
        }
    );
    assert_eq!(kv.value("R"), Some("$R$R"));
    assert_eq!(kv.value("B"), Some("$R"));
    // Many references, each cheap: a file of 100,000 lines that each refer to the one before
    // is read in linear time, within the bound.
    let mut chain = String::from("V0=a\n");
    for i in 1..100_000 {
        chain.push_str(&format!("V{i}=$V{}\n", i - 1));
    }
    let kv = timed("100,000 chained references", || keyvalue::parse(&chain));
    assert!(kv.notes.is_empty(), "{:?}", kv.notes);
    assert_eq!(kv.value("V99999"), Some("a"));
}

#[test]
fn grub_expansion_past_max_grub_expansion_bytes_keeps_the_references() {
    // A BLS options line of 400,000 references to a 1 MiB kernelopts would otherwise ask for
    // 400 GB.
    let kernelopts = "k".repeat(1 << 20);
    let options = "$kernelopts ".repeat(400_000);
    let line = timed("400,000 references to 1 MiB", || {
        grub::expand_kernelopts(&options, Some(&kernelopts))
    });
    assert!(
        line.len() < MAX_GRUB_EXPANSION_BYTES + options.len(),
        "{}",
        line.len()
    );
    assert!(line.starts_with(&kernelopts) && line.ends_with("$kernelopts"));
    // set default="${a}${a}…" with a 600 KiB `a`: the first expands, the rest stay as written.
    let cfg = format!(
        "set a={}\nset default=\"{}\"\nmenuentry 'x' {{\n}}\n",
        "a".repeat(600 << 10),
        "${a}".repeat(100_000)
    );
    let parsed = grub::parse(&cfg);
    timed("set default with 100,000 references", || {
        parsed.default_entry(None, &[])
    });
}

#[test]
fn yaml_nested_past_max_yaml_depth_is_a_warning() {
    let flow = format!("a: {}\n", "[".repeat(5_000));
    let block = format!("{}x\n", "- ".repeat(5_000));
    for text in [flow, block] {
        let (_, warnings) = timed("YAML nested 5000 deep", || yaml::parse_with_warnings(&text));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].is_bound());
        says(
            &warnings[0].text,
            &[
                "line 1",
                &format!("nested deeper than {MAX_YAML_DEPTH} levels"),
            ],
        );
    }
    let (_, warnings) =
        yaml::parse_with_warnings(&format!("a: {}{}\n", "[".repeat(20), "]".repeat(20)));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn sshd_includes_past_max_sshd_include_depth() {
    let mut include = |pattern: &str| -> Vec<(String, String)> {
        let n: usize = pattern
            .trim_start_matches("/etc/ssh/")
            .trim_end_matches(".conf")
            .parse()
            .unwrap();
        vec![(
            pattern.to_string(),
            format!("Include /etc/ssh/{}.conf\n", n + 1),
        )]
    };
    let c = timed("an endless include chain", || {
        sshd::evaluate(
            "Include /etc/ssh/0.conf\n",
            "/etc/ssh/sshd_config",
            &mut include,
        )
    });
    let issues: Vec<&str> = c.issues.iter().map(|i| i.text.as_str()).collect();
    assert!(c.issues[0].is_bound());
    assert_eq!(issues.len(), 1, "{issues:?}");
    says(
        issues[0],
        &[&format!("more than {MAX_SSHD_INCLUDE_DEPTH} levels")],
    );
}

#[test]
fn sshd_includes_past_max_sshd_included_files() {
    let mut include = |pattern: &str| -> Vec<(String, String)> {
        if pattern == "/etc/ssh/many/*" {
            (0..MAX_SSHD_INCLUDED_FILES + 10)
                .map(|i| (format!("/etc/ssh/many/{i}"), "Port 22\n".to_string()))
                .collect()
        } else {
            Vec::new()
        }
    };
    let c = timed("4106 included files", || {
        sshd::evaluate("Include many/*\n", "/etc/ssh/sshd_config", &mut include)
    });
    assert_eq!(c.settings.len(), MAX_SSHD_INCLUDED_FILES);
    assert_eq!(c.issues.len(), 10);
    says(
        &c.issues[0].text,
        &[&format!("more than {MAX_SSHD_INCLUDED_FILES}")],
    );
}

// ------------------------------------------------------------------ initramfs

/// One newc member.
fn newc_member(out: &mut Vec<u8>, name: &str, mode: u32, size: u32) {
    write!(
        out,
        "070701{:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{size:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
        1,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        name.len() + 1,
        0
    )
    .unwrap();
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// A newc archive of `(name, contents)` regular files and its trailer.
fn newc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        newc_member(&mut out, name, 0o100644, data.len() as u32);
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    newc_member(&mut out, "TRAILER!!!", 0, 0);
    out
}

#[test]
fn initramfs_members_past_max_initramfs_members() {
    let mut a = Vec::new();
    for i in 0..=MAX_INITRAMFS_MEMBERS {
        newc_member(&mut a, &format!("f{i}"), 0o100644, 0);
    }
    newc_member(&mut a, "TRAILER!!!", 0, 0);
    let e = timed("200,001 members", || initramfs::list(&a, Limits::default())).unwrap_err();
    assert!(
        matches!(e, InitramfsError::TooManyMembers { limit } if limit == MAX_INITRAMFS_MEMBERS),
        "{e:?}"
    );
    says(
        &e.to_string(),
        &[&format!("more than {MAX_INITRAMFS_MEMBERS} cpio members")],
    );
}

#[test]
fn an_initramfs_name_past_max_initramfs_name_len() {
    let long = "a/".repeat(MAX_INITRAMFS_NAME_LEN / 2) + "b";
    let a = newc(&[(long.as_str(), b"x")]);
    let e = timed("a 4097-byte name", || {
        initramfs::list(&a, Limits::default())
    })
    .unwrap_err();
    assert!(matches!(e, InitramfsError::NameTooLong { .. }), "{e:?}");
    says(
        &e.to_string(),
        &[&format!(
            "name of {} bytes, over the limit of {MAX_INITRAMFS_NAME_LEN}",
            MAX_INITRAMFS_NAME_LEN + 1
        )],
    );
}

#[test]
fn an_initramfs_past_max_initramfs_decompressed() {
    // A legacy lz4 stream of 8 MiB blocks: a member claiming 4 GiB of data, then the same
    // block of zeros over and over, 1032 MiB in all.
    const BLOCK: usize = 8 << 20;
    let mut first = Vec::new();
    newc_member(&mut first, "big", 0o100644, u32::MAX);
    first.resize(BLOCK, 0);
    let zeros = lz4_flex::block::compress(&vec![0u8; BLOCK]);
    let mut image = 0x184C_2102u32.to_le_bytes().to_vec();
    for (i, block) in std::iter::once(lz4_flex::block::compress(&first))
        .chain(std::iter::repeat_n(zeros, 128))
        .enumerate()
    {
        assert!(i < 129);
        image.extend_from_slice(&(block.len() as u32).to_le_bytes());
        image.extend_from_slice(&block);
    }
    let e = timed("1032 MiB of lz4", || {
        initramfs::list(&image, Limits::default())
    })
    .unwrap_err();
    assert!(
        matches!(e, InitramfsError::DecompressedTooLarge { limit, .. } if limit == MAX_INITRAMFS_DECOMPRESSED),
        "{e:?}"
    );
    says(
        &e.to_string(),
        &[&format!(
            "over the limit of {MAX_INITRAMFS_DECOMPRESSED} bytes"
        )],
    );
}

#[test]
fn initramfs_members_past_the_kept_bounds_are_named() {
    let big = vec![7u8; (MAX_INITRAMFS_KEPT_MEMBER + 1) as usize];
    let a = newc(&[("lib/modules/6.1/modules.dep", &big)]);
    let ir = timed("a 16 MiB modules.dep", || {
        initramfs::list(&a, Limits::default())
    })
    .unwrap();
    assert!(ir.read_member("lib/modules/6.1/modules.dep").is_none());
    assert_eq!(ir.not_kept().len(), 1);
    says(
        &ir.not_kept()[0],
        &[
            "modules.dep",
            &format!("over the limit of {MAX_INITRAMFS_KEPT_MEMBER} bytes"),
        ],
    );

    // Five members of 15 MiB: the fifth would pass the 64 MiB kept in all.
    let part = vec![1u8; 15 << 20];
    let names: Vec<String> = (0..5)
        .map(|i| format!("lib/modules/{i}/modules.dep"))
        .collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &part[..])).collect();
    let a = newc(&files);
    let ir = timed("75 MiB of wanted members", || {
        initramfs::list(&a, Limits::default())
    })
    .unwrap();
    assert!(ir.read_member(&names[3]).is_some());
    assert!(ir.read_member(&names[4]).is_none());
    assert_eq!(ir.not_kept().len(), 1);
    says(
        &ir.not_kept()[0],
        &[
            &names[4],
            &format!("pass the limit of {MAX_INITRAMFS_KEPT_TOTAL}"),
        ],
    );
}

// ------------------------------------------------------------------ registry hives

/// Builds a hive: cells appended to the hive bins data, offsets relative to it.
struct HiveBuilder {
    bins: Vec<u8>,
}

impl HiveBuilder {
    fn new() -> Self {
        let mut bins = vec![0u8; 32];
        bins[..4].copy_from_slice(b"hbin");
        HiveBuilder { bins }
    }

    /// Appends an allocated cell holding `payload`; returns its offset.
    fn cell(&mut self, payload: &[u8]) -> u32 {
        let at = self.bins.len();
        let size = (4 + payload.len()).div_ceil(8) * 8;
        self.bins.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bins.extend_from_slice(payload);
        self.bins.resize(at + size, 0);
        at as u32
    }

    /// An nk cell: `(subkey count, subkey list)`, `(value count, value list)`.
    fn nk(&mut self, name: &str, subkeys: (u32, u32), values: (u32, u32)) -> u32 {
        let mut c = vec![0u8; 0x4C];
        c[..2].copy_from_slice(b"nk");
        c[2..4].copy_from_slice(&0x20u16.to_le_bytes());
        c[0x14..0x18].copy_from_slice(&subkeys.0.to_le_bytes());
        c[0x1C..0x20].copy_from_slice(&subkeys.1.to_le_bytes());
        c[0x24..0x28].copy_from_slice(&values.0.to_le_bytes());
        c[0x28..0x2C].copy_from_slice(&values.1.to_le_bytes());
        c[0x48..0x4A].copy_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        self.cell(&c)
    }

    /// A REG_DWORD value with inline data.
    fn vk(&mut self, name: &str) -> u32 {
        let mut c = vec![0u8; 0x14];
        c[..2].copy_from_slice(b"vk");
        c[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
        c[4..8].copy_from_slice(&0x8000_0004u32.to_le_bytes());
        c[0x0C..0x10].copy_from_slice(&4u32.to_le_bytes());
        c[0x10..0x12].copy_from_slice(&1u16.to_le_bytes());
        c.extend_from_slice(name.as_bytes());
        self.cell(&c)
    }

    /// A list cell (`li`, `lf`, `ri`) of the given offsets.
    fn list(&mut self, sig: &[u8; 2], entries: &[u32]) -> u32 {
        let mut c = sig.to_vec();
        c.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for e in entries {
            c.extend_from_slice(&e.to_le_bytes());
            if sig == b"lf" {
                c.extend_from_slice(&[0; 4]);
            }
        }
        self.cell(&c)
    }

    /// A value list of the given vk offsets.
    fn value_list(&mut self, entries: &[u32]) -> u32 {
        let c: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        self.cell(&c)
    }

    /// Overwrites a u32 of the cell payload at `cell` (to link cells made in any order).
    fn patch(&mut self, cell: u32, at: usize, v: u32) {
        let p = cell as usize + 4 + at;
        self.bins[p..p + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The hive file with `root` as its root key, its hive bins at least `min_bins` bytes.
    fn finish(self, root: u32, min_bins: usize) -> Vec<u8> {
        let bins_len = self.bins.len().max(min_bins).div_ceil(4096) * 4096;
        let mut out = vec![0u8; 0x1000 + bins_len];
        out[..4].copy_from_slice(b"regf");
        out[4..8].copy_from_slice(&1u32.to_le_bytes());
        out[8..12].copy_from_slice(&1u32.to_le_bytes());
        out[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        out[0x18..0x1C].copy_from_slice(&5u32.to_le_bytes());
        out[0x24..0x28].copy_from_slice(&root.to_le_bytes());
        out[0x28..0x2C].copy_from_slice(&(bins_len as u32).to_le_bytes());
        out[0x1000..0x1000 + self.bins.len()].copy_from_slice(&self.bins);
        out
    }
}

#[test]
fn registry_subkeys_past_max_hive_subkeys() {
    // The root's ri index names 17 li lists of 65535 entries each (all the root itself), in
    // a hive big enough to hold that many keys.
    let mut h = HiveBuilder::new();
    let root = h.nk("ROOT", (1, 0), (0, u32::MAX));
    let li: Vec<u32> = (0..17).map(|_| h.list(b"li", &[root; 65535])).collect();
    let ri = h.list(b"ri", &li);
    h.patch(root, 0x1C, ri);
    let min_bins = 84 << 20;
    assert!(min_bins / 80 >= 16 * 65535);
    let bytes = h.finish(root, min_bins);
    let e = timed("1,114,095 subkeys", || {
        Hive::parse(bytes)
            .unwrap()
            .root()
            .unwrap()
            .subkeys()
            .map(|v| v.len())
    })
    .unwrap_err();
    assert!(matches!(e, HiveError::Limit { .. }), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than the limit of {MAX_HIVE_SUBKEYS}")],
    );
}

#[test]
fn registry_values_past_max_hive_values() {
    let mut h = HiveBuilder::new();
    let vk = h.vk("v");
    let n = MAX_HIVE_VALUES + 1;
    let list = h.value_list(&vec![vk; n]);
    let root = h.nk("ROOT", (0, u32::MAX), (n as u32, list));
    let bytes = h.finish(root, 0);
    let hive = Hive::parse(bytes).unwrap();
    let root = hive.root().unwrap();
    let e = timed("1,048,577 values", || root.value("other")).unwrap_err();
    assert!(matches!(e, HiveError::Limit { .. }), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("more than the limit of {MAX_HIVE_VALUES}")],
    );
}

/// A chain of `n` keys below the root, each named `a` and the only subkey of the one above.
fn key_chain(n: usize) -> (Hive, String) {
    let mut h = HiveBuilder::new();
    let mut below = None;
    for _ in 0..n {
        let k = match below {
            None => h.nk("a", (0, u32::MAX), (0, u32::MAX)),
            Some(b) => {
                let l = h.list(b"li", &[b]);
                h.nk("a", (1, l), (0, u32::MAX))
            }
        };
        below = Some(k);
    }
    let l = h.list(b"li", &[below.unwrap()]);
    let root = h.nk("ROOT", (1, l), (0, u32::MAX));
    (
        Hive::parse(h.finish(root, 0)).unwrap(),
        vec!["a"; n].join("\\"),
    )
}

#[test]
fn registry_keys_nested_past_max_hive_key_depth() {
    let (hive, _) = key_chain(MAX_HIVE_KEY_DEPTH + 2);
    let mut visits = 0;
    let e = timed("a walk 514 keys deep", || {
        hive.walk(|_, _| {
            visits += 1;
            Ok(())
        })
    })
    .unwrap_err();
    assert!(matches!(e, HiveError::Corrupt { .. }), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("nested deeper than {MAX_HIVE_KEY_DEPTH} levels")],
    );
    assert_eq!(visits, MAX_HIVE_KEY_DEPTH + 1);
}

#[test]
fn registry_paths_past_max_hive_path_components() {
    let (hive, path) = key_chain(MAX_HIVE_PATH_COMPONENTS + 1);
    let e = timed("a path of 513 components", || hive.open(&path)).unwrap_err();
    says(
        &e.to_string(),
        &[&format!("more than {MAX_HIVE_PATH_COMPONENTS} components")],
    );
    let within: Vec<&str> = path.split('\\').take(MAX_HIVE_PATH_COMPONENTS).collect();
    assert!(hive.open(&within.join("\\")).unwrap().is_some());
}

#[test]
fn registry_ri_indexes_nested_past_max_hive_ri_depth() {
    let mut h = HiveBuilder::new();
    let leaf = h.nk("a", (0, u32::MAX), (0, u32::MAX));
    let mut list = h.list(b"li", &[leaf]);
    for _ in 0..=MAX_HIVE_RI_DEPTH + 1 {
        list = h.list(b"ri", &[list]);
    }
    let root = h.nk("ROOT", (1, list), (0, u32::MAX));
    let hive = Hive::parse(h.finish(root, 0)).unwrap();
    let e = timed("ri indexes 6 deep", || hive.root().unwrap().subkeys()).unwrap_err();
    assert!(matches!(e, HiveError::Corrupt { .. }), "{e:?}");
    says(
        &e.to_string(),
        &[&format!("nested deeper than {MAX_HIVE_RI_DEPTH} levels")],
    );
}

#[test]
fn registry_lists_repeating_a_cell_cannot_amplify() {
    // 10,000 subkeys and 200,000 values, each the same cell with a 16 KiB name, in a hive
    // of about 1 MiB: decoding them all would take gigabytes.
    let name = "n".repeat(16 << 10);
    let mut h = HiveBuilder::new();
    let vk = h.vk(&name);
    let values = h.value_list(&vec![vk; 200_000]);
    let key = h.nk(&name, (0, u32::MAX), (0, u32::MAX));
    let list = h.list(b"li", &[key; 10_000]);
    let root = h.nk("ROOT", (10_000, list), (200_000, values));
    let hive = Hive::parse(h.finish(root, 0)).unwrap();
    let root = hive.root().unwrap();
    for e in timed("repeated cells", || {
        [
            root.subkeys().map(|_| ()).unwrap_err(),
            root.values().map(|_| ()).unwrap_err(),
            hive.walk(|_, _| Ok(())).unwrap_err(),
        ]
    }) {
        assert!(matches!(e, HiveError::Corrupt { .. }), "{e:?}");
        says(&e.to_string(), &["more bytes than the hive holds"]);
    }
}
