//! The BSD, SGI and Sun labels against util-linux on the same bytes: labels written at test
//! time by the real tools — `parted mklabel bsd|sun|dvh`, `fdisk` (an SGI volume header, a Sun
//! label, a BSD disklabel nested in an MBR FreeBSD/OpenBSD/NetBSD slice), `sfdisk` scripts —
//! and a nested label's slice cut out as a disk of its own (how a BSD disk looks when its
//! slice is imaged alone). Each is read by vhdlint's layout, by `blkid -p` (PTTYPE) and by
//! `partx` (libblkid's partition list: number, start, sectors, type). The tools' chatter
//! (parted's missing udevadm) goes into the case's description only.

#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use vhdlint_disk::layout::{Layout, PartType, Scheme};
use vhdlint_disk::{FileSource, SharedSource};

const MIB: u64 = 1 << 20;
const DISK: u64 = 64 * MIB;

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} cannot run: {e}"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `tool` on `img` with `input` on its standard input; its output, for messages.
fn feed(tool: &str, args: &[&str], img: &Path, input: &str) -> String {
    let mut child = Command::new(tool)
        .args(args)
        .arg(img)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool} cannot run: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fresh(img: &Path, size: u64) {
    let _ = std::fs::remove_file(img);
    std::fs::File::create(img).unwrap().set_len(size).unwrap();
}

/// blkid's PTTYPE for the whole image.
fn pttype(img: &Path) -> Option<String> {
    let out = run(Command::new("blkid").args(["-p", "-o", "export", img.to_str().unwrap()]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("PTTYPE=").map(str::to_string))
}

/// A partition as partx lists it: (number, start, sectors, type).
type Entry = (u64, u64, u64, u32);

/// libblkid's partition list.
fn partx(img: &Path) -> Vec<Entry> {
    let out = run(Command::new("partx").args([
        "--raw",
        "--noheadings",
        "--output",
        "NR,START,SECTORS,TYPE",
        img.to_str().unwrap(),
    ]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let t = u32::from_str_radix(f[3].trim_start_matches("0x"), 16).unwrap();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                t,
            )
        })
        .collect()
}

/// vhdlint's reading: its scheme in libblkid's words, and its partition list as partx gives it.
fn ours(img: &Path) -> (Option<String>, Vec<Entry>, Layout) {
    let src: SharedSource = Arc::new(FileSource::open(img).unwrap());
    let layout = Layout::read(src);
    let t = &layout.table;
    let name = match t.scheme {
        Scheme::None => None,
        Scheme::Mbr => Some("dos"),
        Scheme::Gpt => Some("gpt"),
        Scheme::Bsd => Some("bsd"),
        Scheme::Sgi => Some("sgi"),
        Scheme::Sun => Some("sun"),
    };
    let parts = t
        .partitions
        .iter()
        .map(|p| {
            let ty = match p.part_type {
                PartType::Mbr(b) => u32::from(b),
                PartType::Bsd(b) => u32::from(b),
                PartType::Sgi(t) => t,
                PartType::Sun(t) => u32::from(t),
                PartType::Gpt(g) => panic!("{img:?}: GPT type {g} in a label"),
            };
            (u64::from(p.number), p.start_lba, p.sectors, ty)
        })
        .collect();
    (name.map(str::to_string), parts, layout)
}

/// A small deterministic generator (xorshift64), so that a failure names a reproducible case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` disjoint spans of whole MiB from `first` MiB on, in sectors, with random gaps.
fn spans(rng: &mut Rng, n: usize, first: u64, last: u64) -> Vec<(u64, u64)> {
    let mut at = first;
    let mut out = Vec::new();
    for _ in 0..n {
        at += rng.below(3);
        let len = 1 + rng.below(6);
        if at + len > last {
            break;
        }
        out.push((at * 2048, len * 2048));
        at += len;
    }
    out
}

/// A label written by `parted` (its own writer of each format).
fn parted(img: &Path, rng: &mut Rng, label: &str) -> String {
    fresh(img, DISK);
    let fstypes = ["ext2", "linux-swap", "fat32", "xfs", "ext4"];
    let mut args = vec!["-s".to_string(), img.to_str().unwrap().into()];
    args.extend(["mklabel".into(), label.into()]);
    let n = 1 + rng.below(4) as usize;
    for (start, len) in spans(rng, n, 4, 60) {
        args.push("mkpart".into());
        if label == "dvh" {
            args.push("primary".into());
        }
        args.push(fstypes[rng.below(fstypes.len() as u64) as usize].into());
        args.push(format!("{start}s"));
        args.push(format!("{}s", start + len - 1));
    }
    let out = run(Command::new("parted").args(&args));
    format!(
        "parted {}: {}",
        args[2..].join(" "),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An SGI volume header (`G`) or a Sun label (`s`) written by fdisk, with partitions.
fn fdisk_label(img: &Path, rng: &mut Rng, kind: char) -> String {
    fresh(img, DISK);
    let mut script = format!("{kind}\n");
    let n = 1 + rng.below(3) as usize;
    for (i, (_, len)) in spans(rng, n, 8, 60).into_iter().enumerate() {
        // Default number and first sector (the next free cylinder), a size in sectors.
        script += &format!("n\n{}\n\n+{}\n", i + 1, len - 1);
        if rng.below(2) == 0 {
            let t = ["82", "8e", "fd"][rng.below(3) as usize];
            script += &format!("t\n{}\n{t}\n", i + 1);
        }
    }
    script += "w\n";
    let log = feed("fdisk", &[], img, &script);
    format!("fdisk {kind:?}:\n{script}\n{log}")
}

/// An MBR with one FreeBSD/OpenBSD/NetBSD slice holding a BSD disklabel written by fdisk's
/// nested-label mode; other primaries and sometimes an extended partition with logicals.
/// Returns the slice (start, sectors) and a description.
fn fdisk_nested(img: &Path, rng: &mut Rng) -> ((u64, u64), String) {
    fresh(img, DISK);
    let slice_type = ["a5", "a6", "a9"][rng.below(3) as usize];
    // The slice at 16..48 MiB; a Linux partition before it, maybe an extended after it.
    let (s0, slen) = (
        16 * 2048 + rng.below(4) * 2048,
        24 * 2048 + rng.below(8) * 2048,
    );
    let mut sf = format!(
        "label: dos\nstart=2048, size={}, type=83\nstart={s0}, size={slen}, type={slice_type}\n",
        8 * 2048
    );
    if rng.below(2) == 0 {
        sf += "start=118784, size=8192, type=5\n";
        sf += "start=120832, size=2048, type=83\n";
    }
    let log = feed("sfdisk", &["-q"], img, &sf);
    let mut script = String::from("b\ny\n");
    let letters = ["a", "b", "e", "f"];
    let n = 1 + rng.below(4) as usize;
    let types = ["7", "1", "8", "7"];
    let mut at = s0 + 16;
    for letter in letters.iter().take(n) {
        let len = 2048 * (1 + rng.below(4)) + rng.below(100);
        if at + len > s0 + slen {
            break;
        }
        script += &format!("n\n{letter}\n{at}\n+{}\n", len - 1);
        script += &format!("t\n{letter}\n{}\n", types[rng.below(4) as usize]);
        at += len + rng.below(2) * 2048;
    }
    script += "w\nq\n";
    let log2 = feed("fdisk", &[], img, &script);
    (
        (s0, slen),
        format!("sfdisk:\n{sf}{log}\nfdisk nested:\n{script}\n{log2}"),
    )
}

/// A Sun or SGI label from an sfdisk script.
fn sfdisk_label(img: &Path, rng: &mut Rng, label: &str) -> String {
    fresh(img, DISK);
    let mut sf = format!("label: {label}\n");
    let n = 1 + rng.below(3) as usize;
    for (_, len) in spans(rng, n, 8, 60) {
        let t = ["83", "82", "8e"][rng.below(3) as usize];
        sf += &format!(",{len},{t}\n");
    }
    let log = feed("sfdisk", &["-q"], img, &sf);
    format!("sfdisk:\n{sf}{log}")
}

fn compare(img: &Path, what: &str, counts: &mut BTreeMap<String, usize>) {
    let (scheme, parts, _) = ours(img);
    // `blkid -p` asks libblkid for table types only, and a whole-disk BSD label answers only
    // when partition details are asked for (as partx and util-linux's own lowprobe-pt test
    // ask): then partx's list is the truth checked below.
    let want = pttype(img).or_else(|| (scheme.as_deref() == Some("bsd")).then(|| "bsd".into()));
    assert_eq!(scheme, want, "{what}: table type, vhdlint vs blkid");
    let by_blkid = partx(img);
    assert_eq!(parts, by_blkid, "{what}: vhdlint vs partx (libblkid)");
    *counts
        .entry(format!(
            "{} with {} partition(s)",
            want.unwrap_or_default(),
            if parts.is_empty() { "no" } else { "some" }
        ))
        .or_default() += 1;
}

#[test]
fn bsd_sgi_and_sun_labels_agree_with_libblkid() {
    for tool in ["blkid", "partx", "parted", "fdisk", "sfdisk"] {
        if !have(tool) {
            prereq::skip(
                "the disk label differential test",
                &format!("{tool} (util-linux, parted)"),
            );
            return;
        }
    }
    let dir = std::env::temp_dir().join(format!("vhdlint-disklabels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("disk.img");
    let slice = dir.join("slice.img");
    let mut rng = Rng(0xd15c_1abe);
    let mut counts = BTreeMap::new();
    for i in 0..12 {
        for label in ["bsd", "sun", "dvh"] {
            let what = format!("case {i} {}", parted(&img, &mut rng, label));
            compare(&img, &what, &mut counts);
        }
        for kind in ['G', 's'] {
            let what = format!("case {i} {}", fdisk_label(&img, &mut rng, kind));
            compare(&img, &what, &mut counts);
        }
        for label in ["sun", "sgi"] {
            let what = format!("case {i} {}", sfdisk_label(&img, &mut rng, label));
            compare(&img, &what, &mut counts);
        }
        let ((s0, slen), log) = fdisk_nested(&img, &mut rng);
        let what = format!("case {i} {log}");
        compare(&img, &what, &mut counts);
        let (_, _, layout) = ours(&img);
        let nested = layout
            .table
            .partitions
            .iter()
            .filter(|p| p.nested_in.is_some())
            .count();
        if nested > 0 {
            *counts.entry("nested BSD partitions".into()).or_default() += nested;
        }
        // Every nested partition is a volume of its own.
        for p in layout.table.partitions.iter().filter(|p| !p.container) {
            assert!(
                layout
                    .volumes
                    .iter()
                    .any(|v| v.id == format!("p{}", p.number)),
                "{what}: no volume for partition {}",
                p.number
            );
        }
        // The slice alone: a whole-disk BSD label whose offsets count from the old disk's start.
        let bytes = std::fs::read(&img).unwrap();
        let (a, b) = ((s0 * 512) as usize, ((s0 + slen) * 512) as usize);
        std::fs::write(&slice, &bytes[a..b]).unwrap();
        compare(&slice, &format!("{what}\n(the slice alone)"), &mut counts);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!("disk label differential: {counts:?}");
    for kind in ["bsd", "sun", "sgi", "dos"] {
        assert!(
            counts
                .get(&format!("{kind} with some partition(s)"))
                .is_some_and(|&n| n >= 5),
            "too few {kind} labels with partitions: {counts:?}"
        );
    }
    assert!(
        counts
            .get("nested BSD partitions")
            .is_some_and(|&n| n >= 10),
        "{counts:?}"
    );
}
