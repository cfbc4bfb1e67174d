//! Fuzz harnesses: one function per parser, each calling the entry point production code
//! calls, over arbitrary bytes. The cargo-fuzz targets in `fuzz/` are one line each around
//! these, and `tests/replay.rs` runs every seed and every input that ever crashed through them
//! under plain `cargo test`.
//!
//! A harness must not panic, hang or allocate without bound on any input.

use std::path::Path;
use std::sync::Arc;

use vhdlint_disk::{Container, Layout, MemSource, PartitionTable, SharedSource};
use vhdlint_fs::{FileKind, Filesystem, FsError};
use vhdlint_guest::config;
use vhdlint_guest::view::{GuestView, Mount};

/// A harness: takes the fuzzer's bytes.
pub type Harness = fn(&[u8]);

/// Every harness by target name (the names of `fuzz/fuzz_targets/*.rs`).
pub const TARGETS: &[(&str, Harness)] = &[
    ("vhd_footer", vhd_footer),
    ("vhd_dynamic", vhd_dynamic),
    ("mbr", mbr),
    ("gpt", gpt),
    ("lvm_metadata", lvm_metadata),
    ("lvm_pv", lvm_pv),
    ("layout", layout),
    ("fs_ext4", fs_ext4),
    ("fs_xfs", fs_xfs),
    ("fs_fat", fs_fat),
    ("fs_ntfs", fs_ntfs),
    ("fs_btrfs", fs_btrfs),
    ("config_sshd", config_sshd),
    ("config_keyvalue", config_keyvalue),
    ("config_grub", config_grub),
    ("config_fstab", config_fstab),
    ("config_passwd", config_passwd),
    ("config_dpkg", config_dpkg),
    ("config_network", config_network),
    ("config_sudoers", config_sudoers),
    ("config_modprobe", config_modprobe),
    ("config_kconfig", config_kconfig),
    ("rpmdb", rpmdb),
    ("rpmdb_bdb", rpmdb_bdb),
    ("rpmdb_ndb", rpmdb_ndb),
    ("initramfs", initramfs),
    ("registry", registry),
    ("state_ini", state_ini),
    ("exe_headers", exe_headers),
    ("exe_authenticode", exe_authenticode),
    ("exe_version", exe_version),
    ("toml_config", toml_config),
    ("sas_uri", sas_uri),
    ("sku_manifest", sku_manifest),
    ("lint", lint),
    ("report_json", report_json),
];

/// Looks a harness up by name.
pub fn harness(name: &str) -> Option<Harness> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

fn source(data: &[u8]) -> SharedSource {
    Arc::new(MemSource::new(data.to_vec()))
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Splits input into parts at `\n%%\n` lines: several files from one input.
fn parts(data: &[u8]) -> Vec<String> {
    text(data).split("\n%%\n").map(str::to_string).collect()
}

/// Keeps a result alive so that the work producing it is not optimised away. (The parsers
/// compute everything eagerly; formatting the results as well would only slow the fuzzer.)
fn sink<T>(v: &T) {
    std::hint::black_box(v);
}

/// The VHD footer alone, then the container sniff (footer at the end, at 511, copy at 0).
pub fn vhd_footer(data: &[u8]) {
    let mut b = [0u8; 512];
    let n = data.len().min(512);
    b[..n].copy_from_slice(&data[..n]);
    let f = vhdlint_disk::vhd::Footer::parse(&b, 0);
    sink(&(
        f.cookie_ok(),
        f.checksum_ok(),
        f.size_source(),
        f.qemu_size(),
        f.creator_version_text(),
    ));
    let c = Container::open(source(data));
    sink(&(&c.format, &c.footer, &c.footer_place, &c.start_copy));
    sink(&c.footer_offset());
}

/// The container with its dynamic header and BAT, then reads through the virtual disk.
pub fn vhd_dynamic(data: &[u8]) {
    let c = Container::open(source(data));
    sink(&c.dynamic);
    if let Ok(disk) = c.virtual_disk() {
        let size = disk.size();
        let mut buf = vec![0u8; 64 << 10];
        for at in [0, size / 3, size / 2, size.saturating_sub(buf.len() as u64)] {
            let len = (size - at.min(size)).min(buf.len() as u64) as usize;
            let _ = disk.read_at(at, &mut buf[..len]);
        }
        sink(&disk.name());
    }
}

/// The partition table: MBR, the EBR chain, GPT (primary and backup).
pub fn mbr(data: &[u8]) {
    let disk = source(data);
    sink(&PartitionTable::read(disk.as_ref()));
}

/// GPT alone: header, entry array, backup.
pub fn gpt(data: &[u8]) {
    let disk = source(data);
    sink(&vhdlint_disk::gpt::has_signature(disk.as_ref()));
    sink(&vhdlint_disk::gpt::read(disk.as_ref()));
}

/// LVM2 text metadata: the syntax, then the volume group it describes.
pub fn lvm_metadata(data: &[u8]) {
    let t = text(data);
    sink(&vhdlint_disk::lvm::text::parse(&t).map(|v| v.sections().count()));
    sink(&vhdlint_disk::lvm::volume_group(&t, 0));
}

/// An LVM2 physical volume: label, PV header, metadata area, circular buffer.
pub fn lvm_pv(data: &[u8]) {
    let vol = source(data);
    if let Some(at) = vhdlint_disk::lvm::find_label(vol.as_ref()) {
        sink(&vhdlint_disk::lvm::read_pv(vol.as_ref(), at));
    }
}

/// The whole disk layout: partitions, LVM, and the filesystem probe of every volume.
pub fn layout(data: &[u8]) {
    let l = Layout::read(source(data));
    sink(&l);
    sink(&vhdlint_guest::os_hint(&l));
}

/// A directory's listing, as a hash of its names and kinds.
fn listing_hash(entries: &[vhdlint_fs::DirEntry]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in entries {
        e.name.hash(&mut h);
        std::mem::discriminant(&e.kind).hash(&mut h);
    }
    h.finish()
}

/// Opens a filesystem over the volume, walks it and reads what it finds. A directory that
/// lists as one of its ancestors does (a damaged image's loop, such as a FAT subdirectory
/// whose cluster is the root's) is listed but not walked again: each level deeper would
/// only repeat the same reads through a longer path, and a path's lookup costs a directory
/// scan per component, so eight levels of a loop made single inputs take seconds.
///
/// Returns the first paths looked up, with what the lookup gave.
fn walk_fs(fs: Arc<dyn Filesystem>) -> Vec<(String, Result<vhdlint_fs::Metadata, FsError>)> {
    let mut seen = Vec::new();
    let mut budget = 512usize;
    let mut stack = vec![("/".to_string(), 0usize, Vec::<u64>::new())];
    while let Some((dir, depth, mut ancestors)) = stack.pop() {
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        let listing = listing_hash(&entries);
        if ancestors.contains(&listing) {
            continue;
        }
        ancestors.push(listing);
        for e in entries {
            if budget == 0 {
                break;
            }
            budget -= 1;
            if e.name == "." || e.name == ".." {
                continue;
            }
            let path = if dir == "/" {
                format!("/{}", e.name)
            } else {
                format!("{dir}/{}", e.name)
            };
            let md = fs.symlink_metadata(&path);
            if seen.len() < 64 {
                seen.push((path.clone(), md.clone()));
            }
            match md.map(|m| m.kind) {
                Ok(FileKind::Dir) if depth < 8 => stack.push((path, depth + 1, ancestors.clone())),
                Ok(FileKind::File) => read_file(fs.as_ref(), &path),
                Ok(FileKind::Symlink) => sink(&fs.read_link(&path)),
                other => sink(&other),
            }
        }
    }
    // The guest view over it: confined resolution of symlinks and globs.
    let view = GuestView::new(Mount {
        point: "/".into(),
        volume: "fuzz".into(),
        reason: "fuzz".into(),
        fs,
    });
    for p in [
        "/etc/os-release",
        "/etc/ssh/sshd_config",
        "/sbin/init",
        "/boot/grub/grub.cfg",
    ] {
        sink(&view.read_config(p).map(|t| t.len()));
    }
    sink(&view.read_dir("/etc").map(|v| v.len()));
    seen
}

/// Looks up in `cold`, a second instance of a filesystem opened on the same bytes that has
/// read nothing yet, the paths `seen` in the first after it had listed their directories:
/// a lookup that scans a directory for one name (or walks an index) and one answered by the
/// listing kept must agree. Looked up twice: the second answer comes from `cold`'s caches.
/// The one difference allowed: a damaged ext4 hashed index may send a lookup to a block
/// without the name (not found), as it would the kernel.
fn lookups_agree(cold: &dyn Filesystem, seen: &[(String, Result<vhdlint_fs::Metadata, FsError>)]) {
    for _ in 0..2 {
        for (p, md) in seen.iter().rev() {
            let got = cold.symlink_metadata(p);
            if cold.kind().starts_with("ext") && matches!(got, Err(FsError::NotFound(_))) {
                continue;
            }
            assert_eq!(&got, md, "{p}");
        }
    }
}

/// Reads a file whole (up to 64 KiB) and in ranges (`read_range`): the ranges that both
/// read must hold the bytes of the whole read.
fn read_file(fs: &dyn Filesystem, path: &str) {
    let whole = fs.read(path, 64 << 10);
    sink(&whole.as_ref().map(Vec::len));
    let Ok(whole) = whole else {
        return;
    };
    let len = whole.len() as u64;
    for (off, n) in [
        (0, 64usize << 10),
        (1, 100),
        (len / 2, 5000),
        (len.saturating_sub(3), 10),
        (len, 1),
    ] {
        let mut buf = vec![0u8; n];
        if let Ok(got) = fs.read_range(path, off, &mut buf) {
            assert!(got <= n, "{path}: read_range gave more than asked");
            // The part the whole read covers (it stops at 64 KiB).
            let end = off.saturating_add(got as u64).min(len);
            if off < end {
                let (a, b) = (off as usize, end as usize);
                assert!(
                    buf[..b - a] == whole[a..b],
                    "{path}: read_range({off}, {n}) differs from read"
                );
            }
            if len < 64 << 10 {
                // The whole file was read: the range ends where the file does.
                assert_eq!(got as u64, len.saturating_sub(off).min(n as u64), "{path}");
            }
        }
    }
}

pub fn fs_ext4(data: &[u8]) {
    if let Ok(fs) = vhdlint_fs::ext4::Ext4Fs::open(source(data), "ext4") {
        let seen = walk_fs(Arc::new(fs));
        if let Ok(cold) = vhdlint_fs::ext4::Ext4Fs::open(source(data), "ext4") {
            lookups_agree(&cold, &seen);
        }
    }
}

pub fn fs_xfs(data: &[u8]) {
    if let Ok(fs) = vhdlint_fs::xfs::XfsFs::open(source(data)) {
        let seen = walk_fs(Arc::new(fs));
        if let Ok(cold) = vhdlint_fs::xfs::XfsFs::open(source(data)) {
            lookups_agree(&cold, &seen);
        }
    }
}

/// A FAT12/16/32 volume (an EFI system partition) read through the `fatfs` crate.
pub fn fs_fat(data: &[u8]) {
    if let Ok(fs) = vhdlint_fs::fat::FatFs::open(source(data)) {
        walk_fs(Arc::new(fs));
    }
}

/// Bytes of the volume a `fs_btrfs` input describes: past the mirror at 64 MiB (so that
/// both the primary superblock and its first mirror can be given) and past the smallest
/// volume `mkfs.btrfs` makes (109 MiB).
pub const BTRFS_VOLUME_BYTES: u64 = 128 << 20;

/// A btrfs volume, given in pieces: btrfs puts its chunks megabytes apart (the first at
/// 1 MiB), so a whole volume is far too large an input. The input is a sequence of pieces,
/// each a 4-byte little-endian byte offset, a 2-byte little-endian length and that many
/// bytes, placed into a volume of [`BTRFS_VOLUME_BYTES`] that is zero elsewhere
/// (later pieces win). `fuzz/seed.sh` cuts the seeds out of real images this way.
pub fn btrfs_volume(data: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut pieces = Vec::new();
    let mut at = 0;
    while let Some(h) = data.get(at..at + 6) {
        let off = u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]]));
        let len = usize::from(u16::from_le_bytes([h[4], h[5]]));
        let end = (at + 6 + len).min(data.len());
        pieces.push((off, data[at + 6..end].to_vec()));
        at = end;
    }
    pieces
}

/// The byte source of a volume given in pieces ([`btrfs_volume`]), held as the 4 KiB pages
/// the pieces touch.
struct Pieces {
    pages: std::collections::HashMap<u64, Vec<u8>>,
}

impl Pieces {
    fn new(pieces: Vec<(u64, Vec<u8>)>) -> Pieces {
        let mut pages: std::collections::HashMap<u64, Vec<u8>> = Default::default();
        for (at, bytes) in pieces {
            for (i, chunk) in bytes.chunks(4096).enumerate() {
                let mut off = at + (i * 4096) as u64;
                let mut rest = chunk;
                while !rest.is_empty() && off < BTRFS_VOLUME_BYTES {
                    let (page, within) = (off / 4096, (off % 4096) as usize);
                    let n = rest.len().min(4096 - within);
                    pages.entry(page).or_insert_with(|| vec![0; 4096])[within..within + n]
                        .copy_from_slice(&rest[..n]);
                    rest = &rest[n..];
                    off += n as u64;
                }
            }
        }
        Pieces { pages }
    }
}

impl vhdlint_disk::ReadAt for Pieces {
    fn size(&self) -> u64 {
        BTRFS_VOLUME_BYTES
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> vhdlint_disk::Result<()> {
        vhdlint_disk::source::check_bounds(
            &|| "btrfs volume".into(),
            offset,
            buf.len(),
            BTRFS_VOLUME_BYTES,
        )?;
        let mut done = 0;
        while done < buf.len() {
            let off = offset + done as u64;
            let (page, within) = (off / 4096, (off % 4096) as usize);
            let n = (buf.len() - done).min(4096 - within);
            match self.pages.get(&page) {
                Some(p) => buf[done..done + n].copy_from_slice(&p[within..within + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
        }
        Ok(())
    }
    fn name(&self) -> String {
        "btrfs volume".into()
    }
}

/// btrfs: the default subvolume and a `subvol=` view, walked and read.
pub fn fs_btrfs(data: &[u8]) {
    use vhdlint_fs::btrfs::{BtrfsFs, Subvolume};
    let src: SharedSource = Arc::new(Pieces::new(btrfs_volume(data)));
    if let Ok(fs) = BtrfsFs::open(src.clone()) {
        sink(&fs.notice());
        walk_fs(Arc::new(fs));
    }
    if let Ok(fs) = BtrfsFs::open_subvolume(src, Subvolume::Path("/@/home")) {
        walk_fs(Arc::new(fs));
    }
}

pub fn fs_ntfs(data: &[u8]) {
    if let Ok(fs) = vhdlint_fs::ntfs::NtfsFs::open(source(data)) {
        walk_fs(Arc::new(fs));
    }
}

/// sshd_config with Include: the first part is the main file, later parts are what an
/// Include pattern matches.
pub fn config_sshd(data: &[u8]) {
    let p = parts(data);
    let (main, rest) = p.split_first().expect("split yields one part");
    let cfg = config::sshd::evaluate(main, "/etc/ssh/sshd_config", &mut |pattern| {
        rest.iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    format!("{}/{i}.conf", pattern.trim_end_matches("/*")),
                    t.clone(),
                )
            })
            .collect()
    });
    sink(&cfg);
    sink(&config::sshd::parse_time(main));
}

/// waagent.conf, os-release, /etc/default/grub (shell with expansion) and grubenv.
pub fn config_keyvalue(data: &[u8]) {
    use config::keyvalue::{parse, parse_shell_after, parse_with, Dialect};
    let t = text(data);
    let env = parse(&t);
    sink(&env);
    sink(&parse_with(&t, Dialect::Waagent));
    sink(&parse_with(&t, Dialect::Grubenv));
    sink(&parse_shell_after(&t, &env));
}

/// grub.cfg and BLS entries: menus, variables, the default entry, kernel options.
pub fn config_grub(data: &[u8]) {
    use config::grub;
    let p = parts(data);
    let cfg = grub::parse(&p[0]);
    let mut bls: Vec<_> = p[1..]
        .iter()
        .enumerate()
        .map(|(i, t)| grub::parse_bls(t).with_id(format!("entry-{i}")))
        .collect();
    grub::sort_bls(&mut bls);
    sink(&cfg.entries().len());
    sink(&cfg.uses_blscfg());
    sink(&cfg.kernelopts_fallback());
    sink(&bls.iter().map(|b| b.options_line()).collect::<Vec<_>>());
    sink(&grub::bls_default(&bls, p.get(1).map(String::as_str)).map(|b| b.options_line()));
    if let Some(d) = cfg.default_entry(p.get(1).map(String::as_str), &bls) {
        sink(&d);
    }
    let opts = grub::expand_kernelopts(&p[0], p.get(1).map(String::as_str));
    sink(&grub::script_cmdline(&opts).texts());
    sink(&grub::expand_vars(&p[0], |n: &str| {
        (n.len() < 4).then(|| n.repeat(2))
    }));
    if p.len() >= 2 {
        sink(&vhdlint_guest::version::rpm_cmp(&p[0], &p[1]));
    }
}

pub fn config_fstab(data: &[u8]) {
    let t = text(data);
    let f = config::fstab::parse(&t);
    sink(&config::fstab::unescape(&t));
    // Each source resolved as linux/root-device resolves it (on a disk with no volumes: the
    // names are what is fuzzed), and the text itself as a name.
    let layout = Layout::read(Arc::new(MemSource::new(vec![0; 512])));
    for e in f.entries.iter().take(64) {
        sink(&vhdlint_guest::devices::resolve(&layout, &e.spec));
    }
    sink(&vhdlint_guest::devices::resolve(&layout, &t));
    sink(&vhdlint_guest::devices::kernel_name(&t));
    sink(&vhdlint_guest::devices::split_dm_name(&t));
    sink(&f);
}

/// /etc/passwd and /etc/shadow (the second part), and every hash's state.
pub fn config_passwd(data: &[u8]) {
    let p = parts(data);
    sink(&config::passwd::parse_passwd(&p[0]));
    let shadow = config::passwd::parse_shadow(p.last().expect("one part"));
    sink(&shadow);
    for l in p[0].lines().take(64) {
        sink(&config::passwd::hash_state(l));
    }
}

/// dpkg's status file, and version comparison of what it holds.
pub fn config_dpkg(data: &[u8]) {
    let p = parts(data);
    sink(&vhdlint_guest::packages::dpkg::parse(&p[0]));
    if p.len() >= 2 {
        sink(&vhdlint_guest::version::dpkg_cmp(&p[0], &p[1]));
        sink(&vhdlint_guest::version::split_version(&p[1]));
    }
}

/// ifupdown interfaces, netplan YAML, ifcfg, systemd-networkd/NetworkManager INI, udev rules.
pub fn config_network(data: &[u8]) {
    use config::network;
    let t = text(data);
    sink(&network::parse_interfaces(&t));
    sink(&network::parse_netplan(&t));
    sink(&network::parse_ifcfg(&t));
    sink(&network::parse_ini(&t));
    sink(&network::persistent_net_rules(&t));
    sink(&network::is_persistent_net_rules_file(&t));
    sink(&network::DhcpMode::parse(&t));
    sink(&config::yaml::parse(&t));
}

pub fn config_sudoers(data: &[u8]) {
    let t = text(data);
    sink(&config::sudoers::parse(&t));
    sink(&config::sudoers::includedir_reads(&t));
    sink(&config::glob_match(&t, "sshd_config.d"));
}

/// A modprobe.d file: its directives, what they apply to, and the file order of names in it.
pub fn config_modprobe(data: &[u8]) {
    let t = text(data);
    let d = config::modprobe::parse(&t);
    for x in &d {
        sink(&x.applies_to("udf"));
        if let config::modprobe::Kind::Install(c) = &x.kind {
            sink(&config::modprobe::install_disables(c));
        }
    }
    sink(&d);
    sink(&config::modprobe::normalize(&t));
    let names: Vec<String> = t.lines().map(str::to_string).collect();
    sink(&config::modprobe::read_order(&[
        ("/etc/modprobe.d", names.clone()),
        ("/lib/modprobe.d", names),
    ]));
}

/// A kernel configuration file.
pub fn config_kconfig(data: &[u8]) {
    let t = text(data);
    let c = config::kconfig::parse(&t);
    sink(&c.enabled("CONFIG_CIFS"));
    sink(&c);
}

/// RPM's SQLite package database.
pub fn rpmdb(data: &[u8]) {
    sink(&vhdlint_guest::packages::rpmdb::read_packages(data));
}

/// RPM's Berkeley DB hash package database (`Packages`).
pub fn rpmdb_bdb(data: &[u8]) {
    sink(&vhdlint_guest::packages::rpmdb_bdb::read_packages(data));
}

/// RPM's ndb package database (`Packages.db`).
pub fn rpmdb_ndb(data: &[u8]) {
    sink(&vhdlint_guest::packages::rpmdb_ndb::read_packages(data));
}

/// An initramfs: concatenated cpio archives, each possibly compressed.
pub fn initramfs(data: &[u8]) {
    let limits = vhdlint_guest::initramfs::Limits {
        max_decompressed: 16 << 20,
        ..Default::default()
    }
    .keeping("etc/modprobe.d/hv.conf");
    let full = vhdlint_guest::initramfs::list(data, limits.clone());
    if let Ok(i) = &full {
        sink(&i.members().len());
        sink(&i.read_member("etc/modprobe.d/hv.conf"));
    }
    // Pulled from a reader in small pieces (sizes drawn from the input), the listing is the
    // same, or both fail.
    let first = 1 + usize::from(data.first().copied().unwrap_or(0)) * 7;
    let last = first * (1 + usize::from(data.get(1).copied().unwrap_or(0) % 8));
    let pulled = vhdlint_guest::initramfs::list_reader_with(
        &mut &data[..],
        data.len() as u64,
        first,
        last,
        limits.clone(),
    );
    match (&full, &pulled) {
        (Ok(f), Ok(p)) => {
            assert!(f.members() == p.members(), "pulled listing differs");
            assert_eq!(f.segments(), p.segments());
        }
        // Which defect of a damaged image is met first depends on how far the decompressor
        // got (see `list_reader`).
        (Err(_), Err(_)) => {}
        (f, p) => panic!(
            "pulled listing differs: {:?} vs {:?}",
            f.as_ref().err(),
            p.as_ref().err()
        ),
    }
    // Stopping once the drivers are found lists a prefix of what a full read lists.
    let wanted = ["hv_vmbus", "hv_storvsc", "hv_netvsc"];
    if let Ok(i) = vhdlint_guest::initramfs::list(data, limits.until_modules(wanted)) {
        if let Ok(f) = &full {
            assert!(f.members().starts_with(i.members()));
            for m in wanted {
                assert_eq!(i.has_module(m), f.has_module(m));
            }
        }
    }
}

/// A registry hive: header, every key and value, and the lookups the checks make.
pub fn registry(data: &[u8]) {
    use vhdlint_guest::registry::{current_control_set, Hive};
    let Ok(h) = Hive::parse(data.to_vec()) else {
        return;
    };
    sink(&(h.is_dirty(), h.checksum_ok(), h.version(), h.warnings()));
    let mut budget = 4096usize;
    let _ = h.walk(|path, k| {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            return Ok(());
        }
        sink(&path);
        if let Ok(values) = k.values() {
            for v in values.iter().take(64) {
                sink(&v.as_string());
                sink(&v.as_u32());
                sink(&v.as_u64());
                sink(&v.as_multi_string());
                sink(&vhdlint_guest::windows::multi_sz_entries(v));
                sink(&vhdlint_guest::windows::show_data(v));
            }
        }
        Ok(())
    });
    sink(&current_control_set(&h));
    if let Ok(Some(k)) = h.open("Microsoft\\Windows NT\\CurrentVersion") {
        sink(&k.value("ProductName"));
    }
    sink(&vhdlint_guest::windows::reg_subkeys(
        &h,
        "Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache",
    ));
}

/// Setup's State.ini, UTF-16 or UTF-8.
pub fn state_ini(data: &[u8]) {
    if let Ok(t) = vhdlint_guest::windows::decode_text(data) {
        sink(&vhdlint_guest::windows::image_state(&t));
    }
}

/// The PE header of ntoskrnl.exe and the ELF header of /sbin/init.
pub fn exe_headers(data: &[u8]) {
    sink(&vhdlint_guest::exe::pe_header(data));
    sink(&vhdlint_guest::exe::elf_header(data));
}

/// The Authenticode signatures of a PE (EFI loader, kernel): its certificate table through
/// to the PKCS#7 SignedData and the signer's certificate; the input's bytes also as a bare
/// certificate table.
pub fn exe_authenticode(data: &[u8]) {
    use vhdlint_guest::authenticode;
    sink(&authenticode::read(data));
    sink(&authenticode::parse_table(data, 0));
}

/// The version resource of a PE (srv.sys, ntoskrnl.exe): headers, section table, resource
/// directory to RT_VERSION and the VS_VERSIONINFO; the input's bytes also as a bare
/// VS_VERSIONINFO.
pub fn exe_version(data: &[u8]) {
    use vhdlint_guest::pe_version;
    sink(&pe_version::resource_section(data));
    sink(&pe_version::version_info(data));
    sink(&pe_version::parse_version_info(data, 0));
}

/// vhdlint.toml, a waivers file, questionnaire answers and a policy file.
pub fn toml_config(data: &[u8]) {
    use vhdlint_rules::config;
    let t = text(data);
    let origin = Path::new("fuzz.toml");
    sink(&config::Config::parse(&t, origin));
    sink(&config::parse_waivers(&t, origin));
    sink(&config::parse_questionnaire(&t, origin));
    sink(&vhdlint_rules::policy::Policy::from_toml(&t, "fuzz.toml").map(|_| ()));
}

/// The whole pipeline on an image in memory: every check, under the profile the first byte
/// picks (auto, or each fixed profile) and under both policies.
pub fn lint(data: &[u8]) {
    use vhdlint_rules::{run, Image, Policy, Profile, ProfileChoice, RunOptions, Selection};
    let (profile, policy) = match data.first().map_or(0, |b| b % 8) {
        0 => (ProfileChoice::Auto, Policy::current()),
        1 => (ProfileChoice::Fixed(Profile::LinuxOs), Policy::guide()),
        2 => (ProfileChoice::Fixed(Profile::WindowsOs), Policy::guide()),
        3 => (ProfileChoice::Fixed(Profile::DataDisk), Policy::current()),
        _ => (ProfileChoice::Auto, Policy::guide()),
    };
    let image = Image::from_source("fuzz.vhd", source(data));
    let report = run(
        &image,
        &RunOptions {
            policy,
            profile,
            selection: Selection::default(),
            progress: None,
            generation: Default::default(),
        },
    );
    sink(&report.summary);
}

/// A SAS URI: parsing, redaction and the publish/sas-uri verdict under both policies, with an
/// oracle: a signature value that stands out (16+ token characters, once in the input) never
/// appears in what `redact` or the verdict return.
pub fn sas_uri(data: &[u8]) {
    use vhdlint_rules::checks::publish_sas_uri::evaluate;
    use vhdlint_rules::publish::sas::{percent_decode, redact, SasUri};
    let t = text(data);
    let decoded = percent_decode(&percent_decode(&t));
    let secrets: Vec<String> = SasUri::parse(&t)
        .map(|u| {
            sink(&(u.container(), u.blob(), u.redacted()));
            u.params
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("sig"))
                .map(|(_, v)| v.clone())
                .filter(|v| {
                    v.len() >= 16
                        && v.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
                        && t.matches(v.as_str()).count() == 1
                        && decoded.matches(v.as_str()).count() == 1
                })
                .collect()
        })
        .unwrap_or_default();
    let shown = redact(&t);
    // A fixed "now" (2026-11-23T00:00:00Z) keeps runs reproducible.
    let now = 1_795_392_000;
    for policy in [
        vhdlint_rules::Policy::guide(),
        vhdlint_rules::Policy::current(),
    ] {
        let o = evaluate(&t, &policy, now);
        for secret in &secrets {
            let leaked = shown.contains(secret.as_str())
                || o.actual.contains(secret.as_str())
                || o.message.contains(secret.as_str())
                || o.evidence.iter().any(|e| e.text.contains(secret.as_str()));
            assert!(!leaked, "the signature {secret} was shown: {o:?}");
        }
    }
}

/// A SKU manifest and the publish/version, publish/sku-id and publish/data-disks verdicts.
pub fn sku_manifest(data: &[u8]) {
    use vhdlint_rules::checks::{publish_data_disks, publish_sku_id, publish_version};
    use vhdlint_rules::publish::manifest::Manifest;
    let t = text(data);
    if let Ok(m) = Manifest::parse(&t, Path::new("sku.toml")) {
        sink(&publish_version::evaluate(
            &m.version,
            m.previous_version.as_deref(),
        ));
        sink(&publish_sku_id::evaluate(&m.offer, &m.sku, &m.other_skus));
        sink(&publish_data_disks::evaluate(&m.data_disk));
        sink(&Manifest::locate(
            &m.os_disk.image,
            Path::new("dir/sku.toml"),
        ));
    }
    sink(&publish_version::parse(&t));
}

/// A JSON report read back (`vhdlint merge`), then rendered in every format and merged, with
/// an oracle:
/// a report that reads back writes the JSON it was read from, once normalised (read and
/// written again, it does not change).
pub fn report_json(data: &[u8]) {
    use vhdlint_report::{annotations, html, junit, markdown, sarif, table, Report};
    let Ok(report) = serde_json::from_slice::<Report>(data) else {
        return;
    };
    let json = report.to_json();
    let again: Report = serde_json::from_str(&json).expect("a report written reads back");
    assert_eq!(
        again.to_json(),
        json,
        "read and written again, the report changed"
    );
    sink(&html::render_with_date(&report, None, Some("2026-01-01")));
    sink(&markdown::render(&report, None));
    sink(&junit::render(&report));
    sink(&sarif::render(&report));
    sink(&table::render(&report, false, Some(100)));
    sink(&annotations::github(&report));
    sink(&annotations::azure(&report));
    // Merged alone, with itself, partially: an error or a report, never a panic or a loop.
    let named = |r: &Report| ("fuzz.json".to_string(), r.clone());
    for partial in [false, true] {
        sink(&vhdlint_report::merge::merge(vec![named(&report)], partial).map(|m| m.images.len()));
        sink(
            &vhdlint_report::merge::merge(vec![named(&report), named(&report)], partial)
                .map(|m| m.images.len()),
        );
    }
}
