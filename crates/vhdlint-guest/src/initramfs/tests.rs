use super::cpio::TRAILER;
use super::lz4::{LZ4_FRAME_MAGIC, LZ4_LEGACY_BLOCK, LZ4_LEGACY_MAGIC};
use super::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const KVER: &str = "6.1.0-13-cloud-amd64";
const MODULES_DEP: &str = "kernel/drivers/hv/hv_vmbus.ko:\n\
    kernel/drivers/scsi/hv_storvsc.ko.zst: kernel/drivers/hv/hv_vmbus.ko\n\
    kernel/drivers/net/hyperv/hv_netvsc.ko.xz: kernel/drivers/hv/hv_vmbus.ko\n";

// ---- archives built in Rust -------------------------------------------------------------

/// A newc archive (with trailer, padded to 512 like cpio writes it).
fn newc(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |name: &str, mode: u32, data: &[u8], ino: u32| {
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (i, &(name, mode, data)) in entries.iter().enumerate() {
        push(name, mode, data, i as u32 + 1);
    }
    push(TRAILER, 0, b"", 0);
    while out.len() % 512 != 0 {
        out.push(0);
    }
    out
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An lz4 block of literals only (valid, if not small).
fn lz4_literals(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = data.len();
    if n < 15 {
        out.push((n as u8) << 4);
    } else {
        out.push(0xf0);
        let mut rest = n - 15;
        while rest >= 255 {
            out.push(255);
            rest -= 255;
        }
        out.push(rest as u8);
    }
    out.extend_from_slice(data);
    out
}

fn lz4_legacy(data: &[u8]) -> Vec<u8> {
    let mut out = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
    for chunk in data.chunks(LZ4_LEGACY_BLOCK) {
        let block = lz4_literals(chunk);
        out.extend_from_slice(&(block.len() as u32).to_le_bytes());
        out.extend_from_slice(&block);
    }
    out
}

/// An lz4 frame of 64 KiB blocks, alternately stored and literal-compressed.
fn lz4_frame(data: &[u8]) -> Vec<u8> {
    let mut out = LZ4_FRAME_MAGIC.to_le_bytes().to_vec();
    out.extend_from_slice(&[0x64, 0x40, 0x00]); // independent blocks, content checksum
    for (i, chunk) in data.chunks(64 << 10).enumerate() {
        if i % 2 == 0 {
            out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
            out.extend_from_slice(chunk);
        } else {
            let block = lz4_literals(chunk);
            out.extend_from_slice(&(block.len() as u32).to_le_bytes());
            out.extend_from_slice(&block);
        }
    }
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[0xaa; 4]);
    out
}

fn lcg_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn sample_entries() -> Vec<(String, u32, Vec<u8>)> {
    let m = format!("lib/modules/{KVER}");
    vec![
        (".".into(), 0o40755, vec![]),
        ("./bin".into(), 0o40755, vec![]),
        ("./bin/sh".into(), 0o100755, b"#!busybox\n".to_vec()),
        ("./sbin".into(), 0o120777, b"bin".to_vec()),
        (
            format!("./{m}/kernel/drivers/hv/hv_vmbus.ko"),
            0o100644,
            vec![1; 100],
        ),
        (
            format!("./{m}/kernel/drivers/scsi/hv_storvsc.ko.zst"),
            0o100644,
            vec![2; 5],
        ),
        (
            format!("./{m}/kernel/drivers/net/hyperv/hv-netvsc.ko.xz"),
            0o100644,
            vec![3; 7],
        ),
        (
            format!("./{m}/modules.dep"),
            0o100644,
            MODULES_DEP.as_bytes().to_vec(),
        ),
        (format!("./{m}/modules.dep.bin"), 0o100644, vec![9; 33]),
        ("./dev/console".into(), 0o20600, vec![]),
        (
            "./etc/hv.conf".into(),
            0o100644,
            b"options hv_vmbus x=1\n".to_vec(),
        ),
    ]
}

fn sample_newc() -> Vec<u8> {
    let entries = sample_entries();
    let refs: Vec<(&str, u32, &[u8])> = entries
        .iter()
        .map(|(n, m, d)| (n.as_str(), *m, d.as_slice()))
        .collect();
    newc(&refs)
}

fn early_newc() -> Vec<u8> {
    newc(&[
        ("kernel", 0o40755, b""),
        (
            "kernel/x86/microcode/GenuineIntel.bin",
            0o100644,
            &[0xee; 1000],
        ),
    ])
}

fn names(ir: &Initramfs) -> Vec<&str> {
    ir.members().iter().map(|m| m.name.as_str()).collect()
}

// ---- unit tests -------------------------------------------------------------------------

#[test]
fn initramfs_lists_plain_archive() {
    let ir = list(&sample_newc(), Limits::default().keeping("/etc/hv.conf")).unwrap();
    assert_eq!(ir.members().len(), sample_entries().len());
    assert_eq!(ir.segments().len(), 1);
    assert_eq!(ir.segments()[0].compression, Compression::None);
    assert_eq!(ir.segments()[0].archives, 1);
    let sbin = &ir.members()[3];
    assert_eq!(sbin.kind, MemberKind::Symlink);
    assert_eq!(sbin.link_target.as_deref(), Some("bin"));
    assert_eq!(sbin.path(), "sbin");
    assert_eq!(ir.members()[0].path(), "");
    assert_eq!(ir.members()[0].kind, MemberKind::Directory);
    assert_eq!(ir.members()[9].kind, MemberKind::CharDevice);
    let dep = format!("lib/modules/{KVER}/modules.dep");
    assert_eq!(ir.read_member(&dep), Some(MODULES_DEP.as_bytes()));
    assert_eq!(
        ir.read_member(&format!("/{dep}")),
        Some(MODULES_DEP.as_bytes())
    );
    assert_eq!(
        ir.read_member(&format!("./{dep}")),
        Some(MODULES_DEP.as_bytes())
    );
    assert_eq!(
        ir.read_member("etc/hv.conf"),
        Some(&b"options hv_vmbus x=1\n"[..])
    );
    // Not asked for.
    assert_eq!(ir.read_member(&format!("{dep}.bin")), None);
    assert_eq!(ir.read_member("bin/sh"), None);
}

#[test]
fn initramfs_module_names() {
    let ir = list(&sample_newc(), Limits::default()).unwrap();
    for name in [
        "hv_vmbus",
        "hv-vmbus",
        "hv_vmbus.ko",
        "kernel/drivers/hv/hv_vmbus.ko",
        "hv_storvsc",
        "hv_netvsc",
        "hv-netvsc.ko.xz",
    ] {
        assert!(ir.has_module(name), "{name}");
    }
    for name in ["hv_utils", "hv", "vmbus", "", "modules", "hv_vmbus.k"] {
        assert!(!ir.has_module(name), "{name}");
    }
    let m = ir.module("hv_storvsc").unwrap();
    assert!(m.path().starts_with(&format!("lib/modules/{KVER}/")));
}

#[test]
fn initramfs_crc_format_and_concatenation() {
    let mut crc = early_newc();
    crc[5] = b'2';
    let mut image = crc.clone();
    image.extend_from_slice(&sample_newc());
    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(ir.segments().len(), 2);
    assert_eq!(ir.segments()[1].offset, crc.len() as u64);
    assert_eq!(ir.members().len(), 2 + sample_entries().len());
    assert!(ir.members()[..2].iter().all(|m| m.segment == 0));
    assert!(ir.members()[2..].iter().all(|m| m.segment == 1));
}

#[test]
fn initramfs_in_rust_compressed_layouts() {
    let main = sample_newc();
    for (compression, stream) in [
        (Compression::Gzip, gz(&main)),
        (Compression::Lz4Legacy, lz4_legacy(&main)),
        (Compression::Lz4Frame, lz4_frame(&main)),
    ] {
        let mut image = early_newc();
        image.extend_from_slice(&stream);
        let ir = list(&image, Limits::default()).unwrap();
        let segs = ir.segments();
        assert_eq!(segs.len(), 2, "{compression}");
        assert_eq!(segs[1].compression, compression);
        assert_eq!(segs[1].len, stream.len() as u64, "{compression}");
        assert_eq!(segs[1].decompressed_len, main.len() as u64);
        assert!(ir.has_module("hv_vmbus"));
        assert_eq!(ir.members().len(), 2 + sample_entries().len());
    }
}

#[test]
fn initramfs_two_archives_in_one_stream_and_padding() {
    let mut inner = sample_newc();
    inner.extend_from_slice(&[0; 12]);
    inner.extend_from_slice(&newc(&[("usr/lib/x/hv_utils.ko", 0o100644, b"x")]));
    let mut image = early_newc();
    image.extend_from_slice(&gz(&inner));
    image.extend_from_slice(&[0; 7]);
    image.extend_from_slice(&gz(&newc(&[("late", 0o100644, b"y")])));
    image.extend_from_slice(&[0; 5]);
    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(ir.segments().len(), 3);
    assert_eq!(ir.segments()[1].archives, 2);
    assert!(ir.has_module("hv_utils"));
    assert_eq!(ir.members().last().unwrap().name, "late");
}

#[test]
fn initramfs_later_member_replaces_kept_contents() {
    let dep = "lib/modules/x/modules.dep";
    let mut image = newc(&[(dep, 0o100644, b"old")]);
    image.extend_from_slice(&newc(&[(dep, 0o100644, &[7u8; 100])]));
    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(ir.read_member(dep), Some(&[7u8; 100][..]));
    let limits = Limits {
        max_kept_member: 10,
        ..Limits::default()
    };
    let ir = list(&image, limits).unwrap();
    assert_eq!(ir.members().len(), 2);
    assert_eq!(ir.read_member(dep), None);
}

#[test]
fn initramfs_empty_and_zeros() {
    assert!(list(b"", Limits::default()).unwrap().members().is_empty());
    let ir = list(&[0; 4096], Limits::default()).unwrap();
    assert!(ir.members().is_empty() && ir.segments().is_empty());
}

#[test]
fn initramfs_truncated_header() {
    let mut image = early_newc();
    let early_len = image.len();
    let main = sample_newc();
    image.extend_from_slice(&main[..60]);
    match list(&image, Limits::default()) {
        Err(InitramfsError::Truncated { at, what: "header" }) => {
            assert_eq!(at.image_offset(), Some(early_len as u64))
        }
        other => panic!("{other:?}"),
    }
    // Cut inside the name.
    match list(&main[..111], Limits::default()) {
        Err(InitramfsError::Truncated { what: "name", .. }) => {}
        other => panic!("{other:?}"),
    }
    // A compressed stream that stops inside an archive.
    let cut = gz(&main[..main.len() / 2]);
    match list(&cut, Limits::default()) {
        Err(InitramfsError::Truncated { at, .. }) | Err(InitramfsError::SizePastEnd { at, .. }) => {
            assert_eq!(at.compression, Compression::Gzip)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn initramfs_size_past_end() {
    let mut archive = newc(&[("a", 0o100644, b"12345678")]);
    archive.truncate(110 + 2 + 8);
    // Claim 0x100 bytes where 8 follow.
    archive[54..62].copy_from_slice(b"00000100");
    let mut image = vec![0u8; 8];
    image.extend_from_slice(&archive);
    let err = list(&image, Limits::default()).unwrap_err();
    match &err {
        InitramfsError::SizePastEnd {
            at,
            size,
            available,
        } => {
            assert_eq!(at.image_offset(), Some(8));
            assert_eq!((*size, *available), (0x100, 8));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("image offset 8"), "{err}");
    // Same inside a compressed stream: the offset is in the decompressed data.
    let err = list(&gz(&archive), Limits::default()).unwrap_err();
    match &err {
        InitramfsError::SizePastEnd { at, size, .. } => {
            assert_eq!(
                (at.offset, at.compression, *size),
                (0, Compression::Gzip, 0x100)
            )
        }
        other => panic!("{other:?}"),
    }
    // The largest size a header can state.
    archive[54..62].copy_from_slice(b"ffffffff");
    assert!(matches!(
        list(&gz(&archive), Limits::default()),
        Err(InitramfsError::SizePastEnd { .. })
    ));
}

#[test]
fn initramfs_bad_fields_and_magic() {
    let mut a = sample_newc();
    a[20] = b'g';
    assert!(matches!(
        list(&a, Limits::default()),
        Err(InitramfsError::BadField { field: "mode", .. })
    ));
    let mut a = sample_newc();
    a[5] = b'3';
    assert!(matches!(
        list(&a, Limits::default()),
        Err(InitramfsError::BadMagic { .. })
    ));
    let mut a = sample_newc();
    a[94..102].copy_from_slice(b"00000000");
    assert!(matches!(
        list(&a, Limits::default()),
        Err(InitramfsError::BadField {
            field: "namesize",
            ..
        })
    ));
}

#[test]
fn initramfs_gzip_of_zeros_over_the_limit() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    let limits = Limits {
        max_decompressed: 8 << 20,
        ..Limits::default()
    };
    match list(&bomb, limits.clone()) {
        Err(InitramfsError::DecompressedTooLarge {
            limit, compression, ..
        }) => assert_eq!((limit, compression), (8 << 20, Compression::Gzip)),
        other => panic!("{other:?}"),
    }
    // The budget is shared across streams.
    let half = gz(&vec![0u8; 5 << 20]);
    let mut image = half.clone();
    image.extend_from_slice(&half);
    assert!(list(&half, limits.clone()).is_ok());
    assert!(matches!(
        list(&image, limits),
        Err(InitramfsError::DecompressedTooLarge { .. })
    ));
}

#[test]
fn initramfs_member_and_name_limits() {
    let limits = Limits {
        max_members: 5,
        ..Limits::default()
    };
    assert!(matches!(
        list(&sample_newc(), limits),
        Err(InitramfsError::TooManyMembers { limit: 5 })
    ));
    let limits = Limits {
        max_name_len: 8,
        ..Limits::default()
    };
    assert!(matches!(
        list(&sample_newc(), limits),
        Err(InitramfsError::NameTooLong { limit: 8, .. })
    ));
}

#[test]
fn initramfs_junk_unknown_and_unsupported() {
    let mut inner = sample_newc();
    inner.extend_from_slice(b"junk");
    assert!(matches!(
        list(&gz(&inner), Limits::default()),
        Err(InitramfsError::Junk { .. })
    ));
    assert!(matches!(
        list(b"\0\0\0\0hello", Limits::default()),
        Err(InitramfsError::UnknownFormat { offset: 4 })
    ));
    assert!(matches!(
        list(b"\x89LZO\0\r\n\x1a\n", Limits::default()),
        Err(InitramfsError::Unsupported {
            compression: Compression::Lzo,
            ..
        })
    ));
}

#[test]
fn initramfs_random_bytes() {
    for seed in 0..64 {
        let bytes = lcg_bytes(8192, seed);
        assert!(list(&bytes, Limits::default()).is_err());
        // Behind every magic.
        for magic in [
            &b"070701"[..],
            &[0x1f, 0x8b, 8, 0],
            b"BZh9",
            &[0x5d, 0, 0, 0x80, 0],
            &[0xfd, b'7', b'z', b'X', b'Z', 0],
            &[0x02, 0x21, 0x4c, 0x18],
            &[0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0],
            &[0x28, 0xb5, 0x2f, 0xfd],
        ] {
            let mut b = magic.to_vec();
            b.extend_from_slice(&bytes);
            let _ = list(&b, Limits::default());
        }
    }
}

// ---- archives built with the real tools -------------------------------------------------

fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Whether every tool is there; if not, `prereq::skip` says which are missing (or fails
/// the test, under `VHDLINT_REQUIRE_PREREQS=1`).
fn have_all(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if !missing.is_empty() {
        super::prereq::skip(
            "the archives built with the real tools",
            &format!("{} not found", missing.join(", ")),
        );
    }
    missing.is_empty()
}

/// Runs `cmd` (through `sh -c`, in `dir`) with `input` on stdin; returns stdout.
fn sh(cmd: &str, dir: Option<&Path>, input: &[u8]) -> Vec<u8> {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "`{cmd}` failed");
    out.stdout
}

fn cpio_names(archive: &[u8]) -> Vec<String> {
    String::from_utf8(sh("cpio -it --quiet", None, archive))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

struct Fixture {
    early: Vec<u8>,
    main: Vec<u8>,
    /// Regular file sizes by normalized path.
    sizes: HashMap<String, u64>,
}

fn write_tree(root: &Path, big: bool) -> HashMap<String, u64> {
    let m = format!("lib/modules/{KVER}");
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("init".into(), b"#!/bin/sh\nexec /sbin/init\n".to_vec()),
        ("bin/busybox".into(), lcg_bytes(50_000, 7)),
        (
            format!("{m}/kernel/drivers/hv/hv_vmbus.ko"),
            lcg_bytes(3000, 1),
        ),
        (
            format!("{m}/kernel/drivers/scsi/hv_storvsc.ko.zst"),
            lcg_bytes(2000, 2),
        ),
        (
            format!("{m}/kernel/drivers/net/hyperv/hv_netvsc.ko.xz"),
            lcg_bytes(2500, 3),
        ),
        (format!("{m}/kernel/fs/ext4/ext4.ko"), lcg_bytes(5000, 4)),
        (format!("{m}/modules.dep"), MODULES_DEP.as_bytes().to_vec()),
        (
            format!("{m}/modules.order"),
            b"kernel/drivers/hv/hv_vmbus.ko\n".to_vec(),
        ),
        (
            format!("{m}/modules.builtin"),
            b"kernel/drivers/ata/libata.ko\n".to_vec(),
        ),
        (format!("{m}/modules.dep.bin"), lcg_bytes(77, 5)),
        ("etc/empty".into(), Vec::new()),
    ];
    if big {
        // Over one 8 MiB legacy-lz4 block, compressible.
        let text: Vec<u8> = (0..400_000u32)
            .flat_map(|i| format!("firmware line {i:08}\n").into_bytes())
            .collect();
        assert!(text.len() > LZ4_LEGACY_BLOCK);
        files.push(("usr/lib/firmware/big.bin".into(), text));
    }
    let mut sizes = HashMap::new();
    for (path, data) in files {
        let p = root.join(&path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &data).unwrap();
        sizes.insert(path, data.len() as u64);
    }
    std::fs::create_dir_all(root.join("dev")).unwrap();
    std::os::unix::fs::symlink("bin", root.join("sbin")).unwrap();
    std::fs::hard_link(root.join("bin/busybox"), root.join("bin/sh")).unwrap();
    sizes
}

fn cpio_of(dir: &Path, what: &str) -> Vec<u8> {
    sh(
        &format!("find {what} | LC_ALL=C sort | cpio -o -H newc --quiet"),
        Some(dir),
        b"",
    )
}

fn build_fixture(big: bool) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let early_dir = tmp.path().join("early");
    let ucode = early_dir.join("kernel/x86/microcode");
    std::fs::create_dir_all(&ucode).unwrap();
    std::fs::write(ucode.join("GenuineIntel.bin"), lcg_bytes(4321, 9)).unwrap();
    let main_dir = tmp.path().join("main");
    std::fs::create_dir_all(&main_dir).unwrap();
    let sizes = write_tree(&main_dir, big);
    Fixture {
        // mkinitramfs/dracut style: plain names in the early archive, `./` in the main one.
        early: cpio_of(&early_dir, "kernel"),
        main: cpio_of(&main_dir, "."),
        sizes,
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build_fixture(true))
}

fn small_fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build_fixture(false))
}

/// Early microcode archive plus the main archive compressed with `compress`; the listing
/// must equal `cpio -it` of the early archive and of the tool-decompressed main archive.
fn check_tool_layout(tool: &str, compress: &str, decompress: &str, expected: Compression) {
    if !have_all(&["cpio", "find", "sort", tool]) {
        return;
    }
    let fx = fixture();
    let stream = sh(compress, None, &fx.main);
    let mut image = fx.early.clone();
    image.extend_from_slice(&stream);

    let decompressed = sh(decompress, None, &stream);
    let mut truth = cpio_names(&fx.early);
    truth.extend(cpio_names(&decompressed));

    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(names(&ir), truth, "{tool}");
    let segs = ir.segments();
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0].compression, Compression::None);
    // A plain archive's segment ends with its trailer, before cpio's block padding.
    assert!(segs[0].len <= fx.early.len() as u64);
    assert_eq!(segs[1].compression, expected);
    assert_eq!(segs[1].offset, fx.early.len() as u64);
    assert_eq!(segs[1].len, stream.len() as u64, "{tool}: input taken");
    assert_eq!(segs[1].decompressed_len, decompressed.len() as u64);

    // newc stores hard-linked data once, with the last link.
    let mut linked: Vec<u64> = ir
        .members()
        .iter()
        .filter(|m| ["bin/busybox", "bin/sh"].contains(&m.path()))
        .map(|m| m.size)
        .collect();
    linked.sort_unstable();
    assert_eq!(linked, [0, fx.sizes["bin/busybox"]]);
    for m in ir.members() {
        match m.kind {
            MemberKind::File if m.segment == 1 && !linked_path(m.path()) => {
                assert_eq!(Some(&m.size), fx.sizes.get(m.path()), "{}", m.name)
            }
            MemberKind::Symlink => assert_eq!(m.link_target.as_deref(), Some("bin")),
            _ => {}
        }
    }
    assert_eq!(
        ir.members()[3].name,
        "kernel/x86/microcode/GenuineIntel.bin"
    );
    for module in ["hv_vmbus", "hv_storvsc", "hv_netvsc", "hv-netvsc"] {
        assert!(ir.has_module(module), "{tool}: {module}");
    }
    assert!(!ir.has_module("hv_utils"));
    assert!(ir.complete());
    // Stopping once the drivers are found: a prefix of the full listing, ending at the last
    // driver, with the same answers; asking for a module that is not there reads it all.
    let drivers = ["hv_vmbus", "hv-storvsc", "hv_netvsc.ko"];
    let early = list(&image, Limits::default().until_modules(drivers)).unwrap();
    assert!(!early.complete(), "{tool}");
    assert!(ir.members().starts_with(early.members()), "{tool}");
    let last = early.members().last().unwrap();
    assert!(
        drivers.iter().any(|d| early.module(d) == Some(last)),
        "{tool}"
    );
    for d in drivers {
        assert!(early.answers(d) && early.has_module(d), "{tool}: {d}");
    }
    assert!(!early.answers("hv_utils"));
    let with_absent = Limits::default().until_modules(["hv_vmbus", "hv_utils"]);
    let all = list(&image, with_absent).unwrap();
    assert!(all.complete());
    assert_eq!(all.members(), ir.members(), "{tool}");
    assert_eq!(all.segments(), ir.segments(), "{tool}");
    let m = format!("lib/modules/{KVER}");
    assert_eq!(
        ir.read_member(&format!("/{m}/modules.dep")),
        Some(MODULES_DEP.as_bytes())
    );
    assert!(ir.read_member(&format!("{m}/modules.order")).is_some());
    assert!(ir.read_member(&format!("{m}/modules.builtin")).is_some());
    assert_eq!(ir.read_member(&format!("{m}/modules.dep.bin")), None);
}

fn linked_path(path: &str) -> bool {
    path.starts_with("bin/")
}

#[test]
fn initramfs_tool_gzip() {
    check_tool_layout("gzip", "gzip -n -9 -c", "gzip -dc", Compression::Gzip);
}

#[test]
fn initramfs_tool_xz() {
    check_tool_layout("xz", "xz --check=crc32 -c", "xz -dc", Compression::Xz);
}

#[test]
fn initramfs_tool_zstd() {
    check_tool_layout("zstd", "zstd -q -c -19", "zstd -q -dc", Compression::Zstd);
}

#[test]
fn initramfs_tool_lz4_legacy() {
    check_tool_layout("lz4", "lz4 -l -q -c", "lz4 -q -dc", Compression::Lz4Legacy);
}

#[test]
fn initramfs_tool_lz4_frame() {
    check_tool_layout("lz4", "lz4 -q -c", "lz4 -q -dc", Compression::Lz4Frame);
}

#[test]
fn initramfs_tool_lz4_frame_independent_checksummed() {
    check_tool_layout(
        "lz4",
        "lz4 -q -c -BD -BX -B4",
        "lz4 -q -dc",
        Compression::Lz4Frame,
    );
}

#[test]
fn initramfs_tool_bzip2() {
    check_tool_layout("bzip2", "bzip2 -c", "bzip2 -dc", Compression::Bzip2);
}

#[test]
fn initramfs_tool_lzma() {
    check_tool_layout(
        "xz",
        "xz --format=lzma -c",
        "xz --format=lzma -dc",
        Compression::Lzma,
    );
}

#[test]
fn initramfs_tool_uncompressed() {
    if !have_all(&["cpio", "find", "sort"]) {
        return;
    }
    let fx = fixture();
    let mut image = fx.early.clone();
    image.extend_from_slice(&fx.main);
    let mut truth = cpio_names(&fx.early);
    truth.extend(cpio_names(&fx.main));
    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(names(&ir), truth);
    assert!(ir.has_module("hv_vmbus"));
}

/// Several compressed streams back to back, with zero padding, as when extra archives
/// are appended to an image.
#[test]
fn initramfs_tool_mixed_streams() {
    if !have_all(&["cpio", "find", "sort", "gzip", "zstd", "xz", "lz4"]) {
        return;
    }
    let fx = small_fixture();
    let extra = newc(&[("usr/lib/modules/x/hv_utils.ko.zst", 0o100644, b"u")]);
    let mut image = fx.early.clone();
    let mut truth = cpio_names(&fx.early);
    for cmd in ["gzip -c", "xz --check=crc32 -c", "zstd -q -c"] {
        let stream = sh(cmd, None, &fx.main);
        image.extend_from_slice(&stream);
        image.extend_from_slice(&[0; 4]);
        truth.extend(cpio_names(&fx.main));
    }
    // Legacy lz4 runs to the end of the image, so it comes last.
    image.extend_from_slice(&sh("lz4 -l -q -c", None, &extra));
    truth.extend(cpio_names(&extra));
    let ir = list(&image, Limits::default()).unwrap();
    assert_eq!(names(&ir), truth);
    assert_eq!(ir.segments().len(), 5);
    assert!(ir.has_module("hv_utils"));
}

// ---- mutated archives -------------------------------------------------------------------

fn mutation_bases() -> &'static Vec<Vec<u8>> {
    static B: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    B.get_or_init(|| {
        let main = sample_newc();
        let with_early = |stream: Vec<u8>| {
            let mut image = early_newc();
            image.extend_from_slice(&stream);
            image
        };
        let mut bases = vec![
            main.clone(),
            with_early(gz(&main)),
            with_early(lz4_legacy(&main)),
            with_early(lz4_frame(&main)),
        ];
        // Missing tools are reported by the test before its cases.
        if have("cpio") && have("find") && have("sort") {
            let fx = small_fixture();
            for (tool, cmd) in [
                ("gzip", "gzip -c"),
                ("xz", "xz --check=crc32 -c"),
                ("xz", "xz --format=lzma -c"),
                ("zstd", "zstd -q -c"),
                ("lz4", "lz4 -l -q -c"),
                ("lz4", "lz4 -q -c"),
                ("bzip2", "bzip2 -c"),
            ] {
                if have(tool) {
                    let mut image = fx.early.clone();
                    image.extend_from_slice(&sh(cmd, None, &fx.main));
                    bases.push(image);
                }
            }
        }
        bases
    })
}

/// Mutated archives, among them the ones built with cpio and each compressor (without
/// them, the others only: the missing tools say SKIP first).
#[test]
fn initramfs_mutated_archives_are_bounded() {
    have_all(&["cpio", "find", "sort", "gzip", "xz", "zstd", "lz4", "bzip2"]);
    initramfs_mutated_archives_cases();
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// The cases of `initramfs_mutated_archives_are_bounded`.
    fn initramfs_mutated_archives_cases(
        base in 0usize..64,
        flips in proptest::collection::vec((0usize..1 << 20, proptest::num::u8::ANY), 0..8),
        cut in proptest::option::of(0usize..1 << 20),
    ) {
        let bases = mutation_bases();
        let mut image = bases[base % bases.len()].clone();
        for (at, byte) in flips {
            let i = at % image.len();
            image[i] = byte;
        }
        if let Some(cut) = cut {
            image.truncate(cut % (image.len() + 1));
        }
        let limits = Limits {
            max_decompressed: 4 << 20,
            max_members: 1000,
            max_kept_total: 1 << 20,
            ..Limits::default()
        };
        if let Ok(ir) = list(&image, limits.clone()) {
            proptest::prop_assert!(ir.members().len() <= 1000);
            let produced: u64 = ir
                .segments()
                .iter()
                .filter(|s| s.compression != Compression::None)
                .map(|s| s.decompressed_len)
                .sum();
            proptest::prop_assert!(produced <= 4 << 20);
            let spanned: u64 = ir.segments().iter().map(|s| s.len).sum();
            proptest::prop_assert!(spanned <= image.len() as u64);
            // Stopping early lists a prefix, with the same answer for the modules asked.
            let wanted = ["hv_vmbus", "hv_storvsc"];
            let early = list(&image, limits.clone().until_modules(wanted));
            proptest::prop_assert!(early.is_ok());
            let early = early.unwrap();
            proptest::prop_assert!(ir.members().starts_with(early.members()));
            for w in wanted {
                proptest::prop_assert_eq!(early.has_module(w), ir.has_module(w));
            }
        }
    }
}

/// Module names the generated archives draw from, and how a member may spell them.
const POOL: [&str; 6] = [
    "hv_vmbus",
    "hv_storvsc",
    "hv_netvsc",
    "nvme",
    "nvme_core",
    "ext4",
];

/// A generated member: a module of [`POOL`] (as a file, or a directory or symlink that is
/// no module), or another file.
fn generated_member(kind: u8, module: usize, spelling: u8, n: usize) -> (String, u32, Vec<u8>) {
    let name = POOL[module % POOL.len()];
    let name = if spelling & 1 == 1 {
        name.replace('_', "-")
    } else {
        name.to_string()
    };
    let suffix = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"][usize::from(spelling >> 1) % 4];
    let path = format!("usr/lib/modules/{KVER}/kernel/drivers/x{n}/{name}{suffix}");
    match kind % 5 {
        0 | 1 => (path, 0o100_644, lcg_bytes(n % 300, n as u64)),
        2 => (path, 0o040_755, Vec::new()),
        3 => (path, 0o120_777, b"elsewhere".to_vec()),
        _ => (
            format!("usr/bin/tool{n}"),
            0o100_755,
            lcg_bytes(n % 500, n as u64 + 7),
        ),
    }
}

/// `entries` split into up to three archives at `cuts`, each stored as `how` says: plain,
/// gzip, lz4 frame (and lz4 legacy for the last, which runs to the end of the image).
fn generated_image(entries: &[(String, u32, Vec<u8>)], cuts: &[usize], how: &[u8]) -> Vec<u8> {
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (entries.len() + 1)).collect();
    bounds.push(0);
    bounds.push(entries.len());
    bounds.sort_unstable();
    bounds.dedup();
    let mut image = Vec::new();
    let pieces = bounds.len() - 1;
    for (i, w) in bounds.windows(2).enumerate() {
        let part: Vec<(&str, u32, &[u8])> = entries[w[0]..w[1]]
            .iter()
            .map(|(n, m, d)| (n.as_str(), *m, d.as_slice()))
            .collect();
        let archive = newc(&part);
        match how.get(i).copied().unwrap_or(0) % 4 {
            0 => image.extend_from_slice(&archive),
            1 => image.extend_from_slice(&gz(&archive)),
            2 => image.extend_from_slice(&lz4_frame(&archive)),
            _ if i + 1 == pieces => image.extend_from_slice(&lz4_legacy(&archive)),
            _ => image.extend_from_slice(&gz(&archive)),
        }
    }
    image
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Stopping once the wanted modules are found gives the answer a full read gives, for
    /// every wanted module (in the image or not) and every module it answers for.
    #[test]
    fn initramfs_early_exit_answers_as_a_full_read(
        spec in proptest::collection::vec((0u8..5, 0usize..6, 0u8..8), 0..24),
        cuts in proptest::collection::vec(0usize..32, 0..3),
        how in proptest::collection::vec(0u8..4, 3),
        wanted in proptest::collection::vec((0usize..6, proptest::bool::ANY, 0u8..3), 0..4),
    ) {
        let entries: Vec<_> = spec
            .iter()
            .enumerate()
            .map(|(n, &(kind, module, spelling))| generated_member(kind, module, spelling, n))
            .collect();
        let image = generated_image(&entries, &cuts, &how);
        let wanted: Vec<String> = wanted
            .iter()
            .map(|&(m, dash, form)| {
                let n = if dash { POOL[m].replace('_', "-") } else { POOL[m].to_string() };
                match form {
                    0 => n,
                    1 => format!("{n}.ko"),
                    _ => format!("kernel/drivers/{n}.ko.xz"),
                }
            })
            .collect();
        let full = list(&image, Limits::default()).unwrap();
        let early = list(&image, Limits::default().until_modules(wanted.clone())).unwrap();
        proptest::prop_assert!(full.complete());
        proptest::prop_assert!(full.members().starts_with(early.members()));
        for w in &wanted {
            proptest::prop_assert!(early.answers(w));
            proptest::prop_assert_eq!(early.has_module(w), full.has_module(w));
        }
        for p in POOL {
            if early.answers(p) {
                proptest::prop_assert_eq!(early.has_module(p), full.has_module(p));
            }
        }
        let all_present = wanted.iter().all(|w| full.has_module(w));
        // It stops exactly when every wanted module is there, at the member completing them.
        proptest::prop_assert_eq!(early.complete(), wanted.is_empty() || !all_present);
        if early.complete() {
            proptest::prop_assert_eq!(early.members(), full.members());
        } else {
            let shorter = &early.members()[..early.members().len() - 1];
            let found_before = |w: &String| {
                shorter.iter().any(|m| {
                    member_module(m)
                        .is_some_and(|s| wanted_stem(w).is_some_and(|x| same_module_name(s, x)))
                })
            };
            proptest::prop_assert!(!wanted.iter().all(found_before));
        }
    }
}

#[test]
fn initramfs_early_exit_skips_the_rest_and_stays_bounded() {
    // The drivers first, then 8 MiB of data: reading stops at the drivers.
    let m = format!("lib/modules/{KVER}/kernel/drivers");
    let filler = lcg_bytes(8 << 20, 3);
    let archive = newc(&[
        (&format!("{m}/hv/hv_vmbus.ko"), 0o100_644, b"x"),
        (&format!("{m}/scsi/hv_storvsc.ko"), 0o100_644, b"x"),
        ("usr/lib/big", 0o100_644, &filler),
    ]);
    let image = gz(&archive);
    let early = list(
        &image,
        Limits::default().until_modules(["hv_vmbus", "hv_storvsc"]),
    )
    .unwrap();
    assert!(!early.complete());
    assert_eq!(early.members().len(), 2);
    assert!(early.segments()[0].decompressed_len < 1 << 20);
    assert!(early.segments()[0].len < image.len() as u64);

    // A module that never comes: a bomb is still stopped by the decompressed-size bound,
    // and a flood of members by the member bound.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..64 {
        e.write_all(&[0u8; 1 << 20]).unwrap();
    }
    let bomb = e.finish().unwrap();
    let limits = Limits {
        max_decompressed: 8 << 20,
        max_members: 100,
        ..Limits::default()
    }
    .until_modules(["hv_vmbus"]);
    assert!(matches!(
        list(&bomb, limits.clone()),
        Err(InitramfsError::DecompressedTooLarge { limit, .. }) if limit == 8 << 20
    ));
    let names: Vec<String> = (0..200).map(|i| format!("usr/lib/f{i}")).collect();
    let flood: Vec<(&str, u32, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), 0o100_644, &b""[..]))
        .collect();
    assert!(matches!(
        list(&gz(&newc(&flood)), limits),
        Err(InitramfsError::TooManyMembers { limit: 100 })
    ));
}

// ---- the image pulled in pieces ---------------------------------------------------------

/// A reader handing `bytes` out in pieces of the sizes `steps` cycle through (each at least
/// one byte), counting what it handed out; it fails once `fail_at` bytes are out, if given.
struct Trickle<'a> {
    bytes: &'a [u8],
    steps: Vec<usize>,
    i: usize,
    out: usize,
    fail_at: Option<usize>,
}

impl<'a> Trickle<'a> {
    fn new(bytes: &'a [u8], steps: Vec<usize>) -> Self {
        Trickle {
            bytes,
            steps,
            i: 0,
            out: 0,
            fail_at: None,
        }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.out >= f) {
            return Err(std::io::Error::other("the disk went away"));
        }
        let step = self
            .steps
            .get(self.i % self.steps.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        self.i += 1;
        let n = step.min(buf.len()).min(self.bytes.len() - self.out);
        buf[..n].copy_from_slice(&self.bytes[self.out..self.out + n]);
        self.out += n;
        Ok(n)
    }
}

/// Whether two listings are the same: every member, segment and kept content, or the same
/// error.
fn same_listing(
    a: &Result<Initramfs, InitramfsError>,
    b: &Result<Initramfs, InitramfsError>,
) -> Result<(), String> {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            // Where a listing that stopped early stopped reading its last segment depends
            // on how much its decoder had been given.
            let segments = |l: &Initramfs| {
                let mut s = l.segments.clone();
                if let (true, Some(last)) = (l.stopped, s.last_mut()) {
                    last.len = 0;
                    last.decompressed_len = 0;
                }
                s
            };
            let same = a.members == b.members
                && segments(a) == segments(b)
                && a.kept == b.kept
                && a.not_kept == b.not_kept
                && a.stopped == b.stopped;
            if same {
                Ok(())
            } else {
                Err(format!(
                    "listings differ: {:?} / {:?}\nvs {:?} / {:?}",
                    a.segments,
                    a.members.len(),
                    b.segments,
                    b.members.len()
                ))
            }
        }
        // Which defect is met first depends on how far the decompressor got.
        (Err(_), Err(_)) => Ok(()),
        // One stopped early, before the defect of a damaged stream that the other's
        // decompressor, given more input, ran into.
        (
            Ok(l),
            Err(InitramfsError::Corrupt { .. } | InitramfsError::DecompressedTooLarge { .. }),
        )
        | (
            Err(InitramfsError::Corrupt { .. } | InitramfsError::DecompressedTooLarge { .. }),
            Ok(l),
        ) if l.stopped => Ok(()),
        (a, b) => Err(format!("{:?} vs {:?}", a.as_ref().err(), b.as_ref().err())),
    }
}

/// Images of every compression the listing reads: the mutation bases (built with each
/// compressor's tool, besides gzip and lz4 built in Rust) and generated layouts.
#[test]
fn initramfs_pulled_in_pieces_lists_as_the_whole_image() {
    have_all(&["cpio", "find", "sort", "gzip", "xz", "zstd", "lz4", "bzip2"]);
    initramfs_pulled_in_pieces_cases();
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(384))]
    /// The cases of `initramfs_pulled_in_pieces_lists_as_the_whole_image`: the listing of an
    /// image pulled in small pieces, read back in short reads, is the listing of the whole
    /// image in memory, mutated or not, stopping early or not.
    fn initramfs_pulled_in_pieces_cases(
        base in 0usize..64,
        generated in proptest::option::of((
            proptest::collection::vec((0u8..5, 0usize..6, 0u8..8), 0..24),
            proptest::collection::vec(0usize..32, 0..3),
            proptest::collection::vec(0u8..4, 3),
        )),
        flips in proptest::collection::vec((0usize..1 << 20, proptest::num::u8::ANY), 0..3),
        cut in proptest::option::of(0usize..1 << 20),
        first in 1usize..20_000,
        growth in 1usize..8,
        steps in proptest::collection::vec(1usize..9000, 1..6),
        wanted in proptest::collection::vec(0usize..6, 0..3),
    ) {
        let mut image = match generated {
            Some((spec, cuts, how)) => {
                let entries: Vec<_> = spec
                    .iter()
                    .enumerate()
                    .map(|(n, &(kind, module, spelling))| generated_member(kind, module, spelling, n))
                    .collect();
                generated_image(&entries, &cuts, &how)
            }
            None => {
                let bases = mutation_bases();
                bases[base % bases.len()].clone()
            }
        };
        for (at, byte) in flips {
            if !image.is_empty() {
                let i = at % image.len();
                image[i] = byte;
            }
        }
        if let Some(cut) = cut {
            image.truncate(cut % (image.len() + 1));
        }
        let limits = Limits {
            max_decompressed: 8 << 20,
            ..Limits::default()
        }
        .keeping("etc/modprobe.d/hv.conf")
        .until_modules(wanted.iter().map(|&m| POOL[m]));
        let whole = list(&image, limits.clone());
        let mut reader = Trickle::new(&image, steps);
        let pulled = list_reader_with(
            &mut reader,
            image.len() as u64,
            first,
            first * growth,
            limits,
        );
        if let Err(e) = same_listing(&whole, &pulled) {
            return Err(proptest::test_runner::TestCaseError::fail(e));
        }
    }
}

#[test]
fn initramfs_pulled_stops_reading_at_the_wanted_modules() {
    // The drivers first, then 16 MiB of data that does not compress: the file is read only
    // as far as the drivers and the first pieces.
    let m = format!("lib/modules/{KVER}/kernel/drivers");
    let filler = lcg_bytes(16 << 20, 5);
    let archive = newc(&[
        (&format!("{m}/hv/hv_vmbus.ko"), 0o100_644, b"x"),
        (&format!("{m}/scsi/hv_storvsc.ko"), 0o100_644, b"x"),
        ("usr/lib/big", 0o100_644, &filler),
    ]);
    for image in [gz(&archive), archive.clone()] {
        let mut reader = Trickle::new(&image, vec![1 << 20]);
        let l = list_reader(
            &mut reader,
            image.len() as u64,
            Limits::default().until_modules(["hv_vmbus", "hv_storvsc"]),
        )
        .unwrap();
        assert!(!l.complete());
        assert!(l.has_module("hv_storvsc"));
        assert_eq!(reader.out, FIRST_PULL, "{} bytes", image.len());
        // Without the set, all of it.
        let mut reader = Trickle::new(&image, vec![1 << 20]);
        let l = list_reader(&mut reader, image.len() as u64, Limits::default()).unwrap();
        assert!(l.complete());
        assert_eq!(reader.out, image.len());
    }
}

#[test]
fn initramfs_pulled_reports_a_failing_reader() {
    let image = gz(&sample_newc());
    let mut extra = early_newc();
    extra.extend_from_slice(&image);
    for (image, at) in [(&image, 100), (&extra, 10), (&extra, 0)] {
        let mut reader = Trickle::new(image, vec![64]);
        reader.fail_at = Some(at);
        let e = list_reader_with(&mut reader, image.len() as u64, 64, 64, Limits::default())
            .err()
            .unwrap();
        let InitramfsError::Read { source, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(source.to_string(), "the disk went away");
    }
}
