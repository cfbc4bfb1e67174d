//! `FatFs` against real FAT12, FAT16 and FAT32 volumes made at test time with `mkfs.vfat` and
//! filled with mtools (`mmd`, `mcopy`): nested directories, long file names (spaces, mixed
//! case, non-ASCII), lower-case 8.3 names (stored as a short name with the NT case flags, no
//! long name), a read-only file, files spanning many clusters and a directory of 300 entries
//! (several clusters).
//!
//! Independent truth: the recursive listing against `mdir -/ -b` (every path of the volume),
//! and every file's bytes against what `mcopy -s` copies out of the volume (and `mtype`).
//!
//! Without mkfs.vfat and mtools every test says SKIP and passes, or fails under
//! `VHDLINT_REQUIRE_PREREQS=1`.

mod common;
#[path = "../../vhdlint/tests/common/prereq.rs"]
mod prereq;
use common::*;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use vhdlint_disk::{FileSource, MemSource, SharedSource};
use vhdlint_fs::fat::FatFs;
use vhdlint_fs::{FileKind, Filesystem, FsError};

struct Tools {
    mkfs: PathBuf,
    mcopy: PathBuf,
    mdir: PathBuf,
    mtype: PathBuf,
    mattrib: PathBuf,
}

fn tools() -> Option<Tools> {
    let t = Tools {
        mkfs: find_tool("mkfs.vfat")?,
        mcopy: find_tool("mcopy")?,
        mdir: find_tool("mdir")?,
        mtype: find_tool("mtype")?,
        mattrib: find_tool("mattrib")?,
    };
    Some(t)
}

fn run(cmd: &mut Command) -> Vec<u8> {
    // mtools refuses a volume whose geometry it cannot map to a drive without this
    cmd.env("MTOOLS_SKIP_CHECK", "1").env("LC_ALL", "C.UTF-8");
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The files a volume is filled with: (path, bytes).
fn files(big_dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("/EFI/BOOT/BOOTX64.EFI".to_string(), noise(300_000, 1)),
        ("/EFI/debian/grubx64.efi".to_string(), noise(70_001, 2)),
        (
            "/EFI/debian/grub.cfg".to_string(),
            b"search --fs-uuid x\n".to_vec(),
        ),
        (
            "/EFI/debian/A Long File Name.efi".to_string(),
            noise(5000, 3),
        ),
        ("/EFI/Microsoft/Boot/BCD".to_string(), noise(4096, 4)),
        (
            "/EFI/Microsoft/Boot/bootmgfw.efi".to_string(),
            noise(9000, 5),
        ),
        (
            "/Déjà vu/naïve résumé.txt".to_string(),
            b"unicode\n".to_vec(),
        ),
        ("/readonly.txt".to_string(), b"read only\n".to_vec()),
        ("/empty".to_string(), Vec::new()),
        ("/MixedCase.Name.With.Dots".to_string(), noise(513, 6)),
    ];
    for i in 0..300 {
        v.push((
            format!("{big_dir}/entry-{i:04}.dat"),
            noise(i % 7, 100 + i as u64),
        ));
    }
    v
}

/// Builds a FAT volume of `bits` (12, 16, 32) in `dir`, filled with [`files`].
fn build(t: &Tools, dir: &Path, bits: u32) -> PathBuf {
    let img = dir.join(format!("fat{bits}.img"));
    let size_mib = match bits {
        12 => 4,
        16 => 40,
        _ => 64,
    };
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(size_mib << 20).unwrap();
    drop(f);
    run(Command::new(&t.mkfs)
        .args(["-F", &bits.to_string(), "-i", "1234ABCD", "-n", "TESTFAT"])
        .arg(&img));
    // the tree staged on the host, then copied in one recursive mcopy
    let stage = dir.join(format!("stage{bits}"));
    for (p, bytes) in files("/many") {
        let dst = stage.join(p.trim_start_matches('/'));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(&dst, &bytes).unwrap();
    }
    let mut cmd = Command::new(&t.mcopy);
    cmd.arg("-s").arg("-i").arg(&img);
    for e in std::fs::read_dir(&stage).unwrap() {
        cmd.arg(e.unwrap().path());
    }
    run(cmd.arg("::/"));
    run(Command::new(&t.mattrib)
        .args(["-i"])
        .arg(&img)
        .args(["+r", "::/readonly.txt"]));
    img
}

/// Every path below `dir`, directories with a trailing `/` (as `mdir -/ -b` prints them).
fn walk(fs: &FatFs, dir: &str, out: &mut BTreeSet<String>) {
    for e in fs.read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let p = if dir == "/" {
            format!("/{}", e.name)
        } else {
            format!("{dir}/{}", e.name)
        };
        if e.kind == FileKind::Dir {
            out.insert(format!("{p}/"));
            walk(fs, &p, out);
        } else {
            out.insert(p);
        }
    }
}

type Volumes = (tempfile::TempDir, Tools, Vec<(u32, PathBuf)>);

/// The three volumes, built on first use; `None` without the tools, after `prereq::skip`.
fn volumes() -> Option<&'static Volumes> {
    static V: OnceLock<Option<Volumes>> = OnceLock::new();
    let v = V.get_or_init(|| {
        let t = tools()?;
        let dir = tempfile::tempdir().unwrap();
        let imgs = [12, 16, 32]
            .into_iter()
            .map(|b| (b, build(&t, dir.path(), b)))
            .collect();
        Some((dir, t, imgs))
    });
    if v.is_none() {
        prereq::skip(
            "the FAT tests",
            "mkfs.vfat (dosfstools) and mtools are needed",
        );
    }
    v.as_ref()
}

fn open(img: &Path) -> FatFs {
    let src: SharedSource = Arc::new(FileSource::open(img).unwrap());
    FatFs::open(src).unwrap()
}

#[test]
fn listings_and_contents_match_mtools() {
    let Some((_, t, imgs)) = volumes() else {
        return;
    };
    for (bits, img) in imgs {
        let fs = open(img);
        assert_eq!(fs.fat_type(), format!("FAT{bits}"));
        assert_eq!(fs.volume_id(), 0x1234_ABCD);
        assert_eq!(fs.label(), "TESTFAT");

        let mut ours = BTreeSet::new();
        walk(&fs, "/", &mut ours);
        let mdir = run(Command::new(&t.mdir)
            .args(["-/", "-b", "-i"])
            .arg(img)
            .arg("::/"));
        let theirs: BTreeSet<String> = String::from_utf8(mdir)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("::").map(str::to_string))
            .collect();
        assert_eq!(ours, theirs, "FAT{bits}: listing differs from mdir -/ -b");
        assert!(ours.contains("/EFI/debian/grub.cfg"), "lower-case 8.3 name");
        assert!(ours.contains("/EFI/debian/A Long File Name.efi"));
        assert!(ours.contains("/Déjà vu/naïve résumé.txt"));
        assert_eq!(ours.len(), 300 + 10 + 7, "FAT{bits}");

        // every file as mtools reads it: the whole volume copied out with one `mcopy -s`
        let out = tempfile::tempdir().unwrap();
        run(Command::new(&t.mcopy)
            .args(["-s", "-n", "-i"])
            .arg(img)
            .arg("::/*")
            .arg(out.path()));
        for p in ours.iter().filter(|p| !p.ends_with('/')) {
            let want = std::fs::read(out.path().join(p.trim_start_matches('/')))
                .unwrap_or_else(|e| panic!("{p}: mcopy wrote no such file: {e}"));
            let got = fs.read(p, u64::MAX).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert!(
                got == want,
                "FAT{bits}: {p}: {} bytes, mcopy {}",
                got.len(),
                want.len()
            );
            let md = fs.symlink_metadata(p).unwrap();
            assert_eq!(
                (md.kind, md.len),
                (FileKind::File, want.len() as u64),
                "{p}"
            );
        }
        // one through mtype as well
        let want = run(Command::new(&t.mtype)
            .arg("-i")
            .arg(img)
            .arg("::/EFI/debian/grub.cfg"));
        assert_eq!(fs.read("/EFI/debian/grub.cfg", 100).unwrap(), want);
        // the bytes mcopy was given, as well
        for (p, bytes) in files("/many") {
            assert!(fs.read(&p, u64::MAX).unwrap() == bytes, "FAT{bits}: {p}");
        }
    }
}

#[test]
fn lookups_ignore_case_and_accept_short_names() {
    let Some((_, _, imgs)) = volumes() else {
        return;
    };
    for (bits, img) in imgs {
        let fs = open(img);
        let want = noise(300_000, 1);
        for p in [
            "/EFI/BOOT/BOOTX64.EFI",
            "/efi/boot/bootx64.efi",
            "/Efi/Boot/BootX64.Efi",
        ] {
            assert!(fs.read(p, u64::MAX).unwrap() == want, "FAT{bits}: {p}");
        }
        // the long name and the generated 8.3 alias name one file
        let long = fs
            .read("/EFI/debian/a long file name.EFI", u64::MAX)
            .unwrap();
        assert_eq!(long, noise(5000, 3));
        assert_eq!(fs.read("/EFI/DEBIAN/ALONGF~1.EFI", u64::MAX).unwrap(), long);
        // a read is cut at max
        assert_eq!(fs.read("/EFI/BOOT/BOOTX64.EFI", 10).unwrap(), want[..10]);
        // metadata
        let d = fs.symlink_metadata("/efi").unwrap();
        assert_eq!((d.kind, d.mode, d.uid), (FileKind::Dir, 0o755, 0));
        let ro = fs.symlink_metadata("/readonly.txt").unwrap();
        assert_eq!(ro.mode, 0o555, "FAT{bits}: the read-only attribute");
        assert_eq!(fs.symlink_metadata("/empty").unwrap().len, 0);
        // errors
        assert!(matches!(fs.read("/nope", 1), Err(FsError::NotFound(_))));
        assert!(matches!(
            fs.read_dir("/readonly.txt"),
            Err(FsError::NotADirectory(_))
        ));
        assert!(matches!(
            fs.read_dir("/readonly.txt/x"),
            Err(FsError::NotADirectory(_))
        ));
        assert!(matches!(fs.read("/EFI", 1), Err(FsError::IsADirectory(_))));
        assert!(matches!(
            fs.read_link("/empty"),
            Err(FsError::NotASymlink(_))
        ));
        assert!(matches!(fs.read_link("/nope"), Err(FsError::NotFound(_))));
        // the 300-entry directory, several clusters
        assert_eq!(fs.read_dir("/many").unwrap().len(), 300);
    }
}

/// A directory whose cluster chain loops (its FAT entry points to itself) ends at a named
/// bound (the entries or the read budget) instead of being listed forever.
#[test]
fn a_looping_directory_chain_ends() {
    let Some((_, _, imgs)) = volumes() else {
        return;
    };
    let (_, img) = imgs.iter().find(|(b, _)| *b == 32).unwrap();
    let mut bytes = std::fs::read(img).unwrap();
    // FAT32: the root directory's first cluster (BPB offset 44); the FAT after the reserved
    // sectors. Its FAT entry is pointed at itself, and the unused entries after the last one
    // are marked deleted (0xE5), so that no end marker stops the walk.
    let le16 = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let le32 = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let (bps, spc) = (le16(&bytes, 11), bytes[13] as usize);
    let (reserved, fats, fat_sectors) = (le16(&bytes, 14), bytes[16] as usize, le32(&bytes, 36));
    let root = le32(&bytes, 44);
    let at = reserved * bps + root * 4;
    bytes[at..at + 4].copy_from_slice(&(root as u32).to_le_bytes());
    let data = (reserved + fats * fat_sectors) * bps + (root - 2) * spc * bps;
    for e in (data..data + spc * bps).step_by(32) {
        if bytes[e] == 0 {
            bytes[e] = 0xe5;
        }
    }
    let fs = FatFs::open(Arc::new(MemSource::new(bytes))).unwrap();
    match fs.read_dir("/") {
        Err(FsError::Limit(b)) => assert!(
            ["MAX_FAT_METADATA_BYTES", "MAX_DIR_ENTRIES"].contains(&b.limit),
            "{b:?}"
        ),
        other => panic!("{other:?}"),
    }
}
