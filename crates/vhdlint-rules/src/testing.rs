//! Contexts over guests held in memory, for the checks' unit tests.

use std::sync::Arc;

use vhdlint_disk::MemSource;
use vhdlint_guest::linux::{LinuxGuest, LinuxInspection, OsRelease};
use vhdlint_guest::view::GuestView;

use crate::check::Outcome;
use crate::context::Context;
use crate::image::Image;
use crate::policy::Policy;
use crate::profile::Profile;

pub(crate) use vhdlint_guest::fs::mem::{MemFs, Node};

/// Runs check `run` with `policy` on a Linux guest whose root is `fs`, and applies the
/// runner's rules to what it noted, as a run does.
pub(crate) fn run_linux_with(fs: MemFs, policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    with_linux(fs, policy, |ctx| settle(ctx, run))
}

/// The outcome check `run` itself gives with `policy` on a Linux guest whose root is `fs`,
/// before the runner applies its rules to the notes.
pub(crate) fn run_linux_raw(fs: MemFs, policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    with_linux(fs, policy, run)
}

/// `f` on a context with `policy` over a Linux guest whose root is `fs`.
fn with_linux(fs: MemFs, policy: &Policy, f: impl FnOnce(&Context) -> Outcome) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    set_guest(&ctx, Some(Ok(found(fs, OsRelease::default()))), None);
    f(&ctx)
}

/// A search for a Linux root that found one on volume `p1`: `fs`, whose os-release says `os`.
fn found(fs: MemFs, os: OsRelease) -> LinuxInspection {
    let view = GuestView::of(fs);
    let guest = LinuxGuest {
        mounts: view.mounts(),
        view,
        facts: Arc::default(),
        root_volume: "p1".into(),
        not_mounted: Vec::new(),
        os,
    };
    LinuxInspection {
        candidates: Vec::new(),
        guest: Some(guest),
    }
}

/// Runs check `run` with the guide policy on a Linux guest whose root is `fs`.
pub(crate) fn run_linux(fs: MemFs, run: fn(&Context) -> Outcome) -> Outcome {
    run_linux_with(fs, &Policy::guide(), run)
}

/// Everything an outcome says: message, actual value and evidence (path:line text).
pub(crate) fn said(o: &Outcome) -> String {
    let mut s = format!("{} | {}", o.message, o.actual);
    for e in &o.evidence {
        s.push_str(" | ");
        if let Some(p) = &e.path {
            s.push_str(p);
            if let Some(l) = e.line {
                s.push_str(&format!(":{l}"));
            }
            s.push(' ');
        }
        s.push_str(&e.text);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// disk/ and partition/ checks: contexts over image bytes held in memory, and the on-disk
// structures (VHD footer, dynamic header and BAT, MBR, GPT) laid out byte by byte per their
// specifications.

/// Calls `f` with a context over an image of `bytes` held in memory, with `profile` and `policy`.
pub(crate) fn with_image<R>(
    bytes: Vec<u8>,
    profile: Profile,
    policy: &Policy,
    f: impl FnOnce(&mut Context) -> R,
) -> R {
    let image = Image::from_source("memory", Arc::new(MemSource::new(bytes)));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = profile;
    f(&mut ctx)
}

/// Runs check `run` with `policy` on an image of `bytes` held in memory, seen as `profile`.
pub(crate) fn run_image_with(
    bytes: Vec<u8>,
    profile: Profile,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    with_image(bytes, profile, policy, |ctx| {
        crate::runner::apply_notes(run(ctx))
    })
}

/// Runs check `run` with the guide policy on an image of `bytes` held in memory.
pub(crate) fn run_image(bytes: Vec<u8>, profile: Profile, run: fn(&Context) -> Outcome) -> Outcome {
    run_image_with(bytes, profile, &Policy::guide(), run)
}

/// The byte offsets an outcome's evidence points at.
pub(crate) fn offsets(o: &Outcome) -> Vec<u64> {
    o.evidence.iter().filter_map(|e| e.offset).collect()
}

/// Copies `v` into `b` at `at`.
pub(crate) fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

/// CRC-32 (IEEE, reflected), as GPT uses it.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The fields of a VHD hard disk footer (big-endian, 512 bytes) a test sets.
#[derive(Clone, Copy)]
pub(crate) struct FooterSpec {
    pub disk_type: u32,
    pub current_size: u64,
    pub data_offset: u64,
    pub features: u32,
    pub version: u32,
    /// Seconds since 2000-01-01 UTC.
    pub timestamp: u32,
    pub creator_app: [u8; 4],
    pub geometry: vhdlint_disk::vhd::Geometry,
    pub saved_state: u8,
}

impl FooterSpec {
    /// A fixed disk of `current_size` bytes made by Hyper-V ("win "), geometry per the
    /// specification.
    pub fn fixed(current_size: u64) -> Self {
        FooterSpec {
            disk_type: 2,
            current_size,
            data_offset: u64::MAX,
            features: 2,
            version: 0x0001_0000,
            timestamp: 0x2d00_0000, // 2023
            creator_app: *b"win ",
            geometry: vhdlint_disk::vhd::Geometry::for_sectors(current_size / 512),
            saved_state: 0,
        }
    }
    /// A dynamic disk whose header is at offset 512.
    pub fn dynamic(current_size: u64) -> Self {
        FooterSpec {
            disk_type: 3,
            data_offset: 512,
            ..FooterSpec::fixed(current_size)
        }
    }
    /// The 512 footer bytes, with a valid checksum.
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        put(&mut b, 0, b"conectix");
        put(&mut b, 8, &self.features.to_be_bytes());
        put(&mut b, 12, &self.version.to_be_bytes());
        put(&mut b, 16, &self.data_offset.to_be_bytes());
        put(&mut b, 24, &self.timestamp.to_be_bytes());
        put(&mut b, 28, &self.creator_app);
        put(&mut b, 32, &0x000a_0000u32.to_be_bytes());
        put(&mut b, 36, b"Wi2k");
        put(&mut b, 40, &self.current_size.to_be_bytes());
        put(&mut b, 48, &self.current_size.to_be_bytes());
        put(&mut b, 56, &self.geometry.cylinders.to_be_bytes());
        b[58] = self.geometry.heads;
        b[59] = self.geometry.sectors;
        put(&mut b, 60, &self.disk_type.to_be_bytes());
        put(&mut b, 68, &[0x5a; 16]); // unique id
        b[84] = self.saved_state;
        let c = vhdlint_disk::vhd::ones_complement_sum(&b, 64);
        put(&mut b, 64, &c.to_be_bytes());
        b
    }
    /// The guest bytes `disk` followed by this footer.
    pub fn after(&self, disk: &[u8]) -> Vec<u8> {
        let mut v = disk.to_vec();
        v.extend(self.bytes());
        v
    }
}

/// A fixed VHD whose footer declares the size of `disk`.
pub(crate) fn fixed_vhd(disk: &[u8]) -> Vec<u8> {
    FooterSpec::fixed(disk.len() as u64).after(disk)
}

/// A dynamic or differencing VHD: footer copy at 0, dynamic header at 512, BAT at 1536,
/// the blocks the BAT points at, then the footer.
pub(crate) struct DynSpec {
    pub footer: FooterSpec,
    pub block_size: u32,
    pub max_entries: u32,
    pub bat: Vec<u32>,
    pub parent_name: String,
}

impl DynSpec {
    /// A dynamic disk of `current_size` bytes with 64 KiB blocks, none allocated.
    pub fn new(current_size: u64) -> Self {
        let n = current_size.div_ceil(64 << 10) as u32;
        DynSpec {
            footer: FooterSpec::dynamic(current_size),
            block_size: 64 << 10,
            max_entries: n,
            bat: vec![u32::MAX; n as usize],
            parent_name: String::new(),
        }
    }
    /// The 1024-byte dynamic header, with a valid checksum.
    pub fn header(&self) -> Vec<u8> {
        let mut h = vec![0u8; 1024];
        put(&mut h, 0, b"cxsparse");
        put(&mut h, 8, &u64::MAX.to_be_bytes());
        put(&mut h, 16, &1536u64.to_be_bytes());
        put(&mut h, 24, &0x0001_0000u32.to_be_bytes());
        put(&mut h, 28, &self.max_entries.to_be_bytes());
        put(&mut h, 32, &self.block_size.to_be_bytes());
        let name: Vec<u8> = self
            .parent_name
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        put(&mut h, 64, &name);
        let c = vhdlint_disk::vhd::ones_complement_sum(&h, 36);
        put(&mut h, 36, &c.to_be_bytes());
        h
    }
    /// The image: each block the BAT allocates is written (bitmap and data) from `body`
    /// chunks at their file offsets, and the file padded to `body_end` before the footer.
    pub fn image(&self, body: &[(usize, &[u8])], body_end: usize) -> Vec<u8> {
        let footer = self.footer.bytes();
        let bat: Vec<u8> = self.bat.iter().flat_map(|e| e.to_be_bytes()).collect();
        let bat_end = 1536 + bat.len().div_ceil(512) * 512;
        let mut v = vec![0u8; body_end.max(bat_end)];
        put(&mut v, 0, &footer);
        put(&mut v, 512, &self.header());
        v[1536..bat_end].fill(0xFF);
        put(&mut v, 1536, &bat);
        for (at, bytes) in body {
            put(&mut v, *at, bytes);
        }
        v.extend(&footer);
        v
    }
}

/// Sets MBR (or EBR) entry `slot` of the sector at `lba` and its 55AA signature.
pub(crate) fn mbr_entry(
    disk: &mut [u8],
    lba: usize,
    slot: usize,
    kind: u8,
    start: u32,
    sectors: u32,
) {
    let s = lba * 512;
    let at = s + 446 + 16 * slot;
    disk[at + 4] = kind;
    put(disk, at + 8, &start.to_le_bytes());
    put(disk, at + 12, &sectors.to_le_bytes());
    put(disk, s + 510, &[0x55, 0xAA]);
}

/// One GPT partition entry to write.
pub(crate) struct GptPart<'a> {
    pub type_guid: vhdlint_disk::guid::Guid,
    pub first: u64,
    pub last: u64,
    pub name: &'a str,
}

/// Lays a valid GPT over `disk` (protective MBR, primary header and 128-entry array at
/// LBA 1-33, backup array and header at the end) with `parts`.
pub(crate) fn put_gpt(disk: &mut [u8], parts: &[GptPart]) {
    let sectors = (disk.len() / 512) as u64;
    let last = sectors - 1;
    let mut array = vec![0u8; 128 * 128];
    for (i, p) in parts.iter().enumerate() {
        let e = &mut array[i * 128..(i + 1) * 128];
        // The first three fields of a GUID are stored little-endian.
        let mut g = p.type_guid.0;
        g[0..4].reverse();
        g[4..6].reverse();
        g[6..8].reverse();
        put(e, 0, &g);
        put(e, 16, &(i as u128 + 1).to_le_bytes());
        put(e, 32, &p.first.to_le_bytes());
        put(e, 40, &p.last.to_le_bytes());
        let name: Vec<u8> = p.name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        put(e, 56, &name);
    }
    let array_crc = crc32(&array);
    let header = |my: u64, alt: u64, entries_lba: u64| {
        let mut h = vec![0u8; 512];
        put(&mut h, 0, b"EFI PART");
        put(&mut h, 8, &0x0001_0000u32.to_le_bytes());
        put(&mut h, 12, &92u32.to_le_bytes());
        put(&mut h, 24, &my.to_le_bytes());
        put(&mut h, 32, &alt.to_le_bytes());
        put(&mut h, 40, &34u64.to_le_bytes());
        put(&mut h, 48, &(last - 33).to_le_bytes());
        put(&mut h, 56, &[0x11; 16]);
        put(&mut h, 72, &entries_lba.to_le_bytes());
        put(&mut h, 80, &128u32.to_le_bytes());
        put(&mut h, 84, &128u32.to_le_bytes());
        put(&mut h, 88, &array_crc.to_le_bytes());
        let crc = crc32(&h[..92]);
        put(&mut h, 16, &crc.to_le_bytes());
        h
    };
    mbr_entry(disk, 0, 0, 0xEE, 1, last.min(u64::from(u32::MAX)) as u32);
    put(disk, 512, &header(1, last, 2));
    put(disk, 1024, &array);
    put(disk, (last as usize - 32) * 512, &array);
    put(disk, last as usize * 512, &header(last, 1, last - 32));
}

/// A dynamic VHD whose footer points its header past the end of the file: the guest disk
/// cannot be read.
pub(crate) fn unreadable_vhd() -> Vec<u8> {
    let mut d = DynSpec::new(1 << 20);
    d.footer.data_offset = 1 << 40;
    d.image(&[], 0)
}

/// A guest disk of `mib` MiB whose MBR lists `parts` as (type, first LBA, sectors).
pub(crate) fn mbr_disk(mib: usize, parts: &[(u8, u32, u32)]) -> Vec<u8> {
    let mut disk = vec![0u8; mib << 20];
    for (slot, &(kind, start, sectors)) in parts.iter().enumerate() {
        mbr_entry(&mut disk, 0, slot, kind, start, sectors);
    }
    disk
}

/// Writes an ext2 superblock signature at byte `at` of `disk` (the start of a volume), with
/// `label`, `s_state` (1 clean, 2 errors) and the incompatible features `incompat`.
pub(crate) fn put_ext(disk: &mut [u8], at: usize, label: &str, state: u16, incompat: u32) {
    let sb = at + 1024;
    put(disk, sb + 0x38, &[0x53, 0xEF]);
    put(disk, sb + 0x3A, &state.to_le_bytes());
    put(disk, sb + 0x60, &incompat.to_le_bytes());
    put(disk, sb + 0x78, label.as_bytes());
}

/// The UUID of the LVM2 physical volume [`put_pv`] writes.
pub(crate) const PV_UUID: &[u8; 32] = b"Hq3B0OGxSbWVnFz1e7ArRmfyq4jIXtHc";
/// [`PV_UUID`] as LVM2 metadata writes it.
pub(crate) const PV_ID: &str = "Hq3B0O-GxSb-WVnF-z1e7-ArRm-fyq4-jIXtHc";

/// LVM2 text metadata of volume group vg0 (extents of 8 sectors) on PV `pv_id` (extents from
/// its sector 2048), with logical volumes `lvs` of 16 extents each, one after the other.
pub(crate) fn lvm_metadata(pv_id: &str, lvs: &[&str]) -> String {
    let lvs: String = lvs
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{name} {{\nsegment1 {{\nstart_extent = 0\nextent_count = 16\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {}]\n}}\n}}\n",
                16 * i
            )
        })
        .collect();
    let lvs = if lvs.is_empty() {
        String::new()
    } else {
        format!("logical_volumes {{\n{lvs}}}\n")
    };
    format!("vg0 {{\nid = \"x\"\nseqno = 1\nextent_size = 8\nphysical_volumes {{\npv0 {{\nid = \"{pv_id}\"\npe_start = 2048\npe_count = 256\n}}\n}}\n{lvs}}}\n")
}

/// An LVM2 PV of 2 MiB at byte `pv` of `disk`: label in its sector 1, one metadata area at
/// 4096 whose text (checksummed with `text_crc`) is at 4096 + 512, data from 1 MiB.
pub(crate) fn put_pv(disk: &mut [u8], pv: usize, text: &[u8], text_crc: u32) {
    let mib = 1u64 << 20;
    let mda_size = mib - 4096;
    let mut label = vec![0u8; 512];
    put(&mut label, 0, vhdlint_disk::lvm::LABEL_ID);
    put(&mut label, 8, &1u64.to_le_bytes());
    put(&mut label, 20, &32u32.to_le_bytes());
    put(&mut label, 24, vhdlint_disk::lvm::LABEL_TYPE);
    put(&mut label, 32, PV_UUID);
    put(&mut label, 64, &(2 * mib).to_le_bytes());
    put(&mut label, 72, &mib.to_le_bytes());
    put(&mut label, 104, &4096u64.to_le_bytes());
    put(&mut label, 112, &mda_size.to_le_bytes());
    let crc = vhdlint_disk::lvm::lvm_crc(&label[20..]);
    put(&mut label, 16, &crc.to_le_bytes());
    put(disk, pv + 512, &label);
    let mut mda = vec![0u8; 512];
    put(&mut mda, 4, vhdlint_disk::lvm::MDA_MAGIC);
    put(&mut mda, 20, &1u32.to_le_bytes());
    put(&mut mda, 24, &4096u64.to_le_bytes());
    put(&mut mda, 32, &mda_size.to_le_bytes());
    put(&mut mda, 40, &512u64.to_le_bytes());
    put(&mut mda, 48, &(text.len() as u64).to_le_bytes());
    put(&mut mda, 56, &text_crc.to_le_bytes());
    let crc = vhdlint_disk::lvm::lvm_crc(&mda[4..]);
    put(&mut mda, 0, &crc.to_le_bytes());
    put(disk, pv + 4096, &mda);
    put(disk, pv + 4096 + 512, text);
}

// Helpers of the linux/ checks' tests (agent-config … kernel-cmdline).

/// Runs check `run` with `policy` on an image whose search for a Linux root gave `inspection`
/// (`Err`: the guest disk could not be read).
pub(crate) fn run_linux_inspection(
    inspection: Result<LinuxInspection, String>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    set_guest(&ctx, Some(inspection), None);
    settle(&ctx, run)
}

/// Runs check `run` with `policy` on a disk with no Linux filesystem: a search for a Linux
/// root that found no candidate, so no guest.
pub(crate) fn run_no_linux_with(policy: &Policy, run: fn(&Context) -> Outcome) -> Outcome {
    let inspection = LinuxInspection {
        candidates: Vec::new(),
        guest: None,
    };
    run_linux_inspection(Ok(inspection), policy, run)
}

/// [`run_no_linux_with`] with the guide policy.
pub(crate) fn run_no_linux(run: fn(&Context) -> Outcome) -> Outcome {
    run_no_linux_with(&Policy::guide(), run)
}

// Group linux/network … linux/sudoers: guests with a chosen os-release, and no guest at all.

/// Runs check `run` with `policy` on a Linux guest whose root is `fs` and whose os-release
/// says `os`.
pub(crate) fn run_linux_os(
    fs: MemFs,
    os: OsRelease,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    run_linux_inspection(Ok(found(fs, os)), policy, run)
}

/// Runs check `run` with `policy` where the search for a Linux root looked at `candidates`
/// and found no guest.
pub(crate) fn run_no_linux_guest(
    candidates: Vec<vhdlint_guest::linux::Candidate>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let inspection = LinuxInspection {
        candidates,
        guest: None,
    };
    run_linux_inspection(Ok(inspection), policy, run)
}

/// Runs check `run` with `policy` where the guest disk could not be read (`error`).
pub(crate) fn run_unreadable_disk(
    error: &str,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    run_linux_inspection(Err(error.to_string()), policy, run)
}

/// A volume the search for a Linux root looked into, missing `missing`.
pub(crate) fn candidate_missing(
    volume: &str,
    missing: &[&'static str],
) -> vhdlint_guest::linux::Candidate {
    vhdlint_guest::linux::Candidate {
        volume: volume.into(),
        filesystem: "ext4",
        found: Vec::new(),
        missing: missing.to_vec(),
        error: None,
    }
}

/// A volume the search for a Linux root could not look into (`error`).
pub(crate) fn candidate_unreadable(volume: &str, error: &str) -> vhdlint_guest::linux::Candidate {
    vhdlint_guest::linux::Candidate {
        volume: volume.into(),
        filesystem: "xfs",
        found: Vec::new(),
        missing: Vec::new(),
        error: Some(error.into()),
    }
}

/// Asserts that check `run` gives an error on each way there is no Linux guest: the guest
/// disk unreadable, no Linux filesystem, and volumes that are not a Linux root.
pub(crate) fn assert_errors_without_a_linux_guest(run: fn(&Context) -> Outcome) {
    let p = Policy::guide();
    let o = run_unreadable_disk("bad partition table", &p, run);
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    assert!(said(&o).contains("bad partition table"), "{}", said(&o));
    let o = run_no_linux_guest(Vec::new(), &p, run);
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    assert!(said(&o).contains("no Linux filesystem"), "{}", said(&o));
    let o = run_no_linux_guest(
        vec![
            candidate_missing("p1", &["/etc", "/usr"]),
            candidate_unreadable("p2", "bad superblock"),
        ],
        &p,
        run,
    );
    assert_eq!(o.status, crate::check::Status::Error, "{}", said(&o));
    let s = said(&o);
    assert!(s.contains("p1 (ext4): missing /etc, /usr"), "{s}");
    assert!(s.contains("p2 (xfs): bad superblock"), "{s}");
}

// Windows guests and registry hives, for the windows/ checks' tests (group: windows/ and
// publish/ checks).

use vhdlint_guest::windows::{Candidate, WindowsGuest, WindowsInspection};

/// Runs check `run` with the guide policy on the Windows OS profile, with `inspection` as the
/// result of the search for a Windows system volume.
pub(crate) fn run_windows_inspection(
    inspection: Result<WindowsInspection, String>,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    run_windows_inspection_with(inspection, &Policy::guide(), run)
}

/// Runs check `run` with `policy` on what a search for a Windows system volume found.
pub(crate) fn run_windows_inspection_with(
    inspection: Result<WindowsInspection, String>,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(vec![0; 512])));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::WindowsOs;
    set_guest(&ctx, None, Some(inspection));
    settle(&ctx, run)
}

/// Runs check `run` with the guide policy on a Windows system volume `p1` whose root is `fs`.
pub(crate) fn run_windows(fs: MemFs, run: fn(&Context) -> Outcome) -> Outcome {
    run_windows_with(fs, &Policy::guide(), run)
}

/// Runs check `run` with `policy` on a Windows system volume `p1` whose root is `fs`.
pub(crate) fn run_windows_with(
    fs: MemFs,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let inspection = WindowsInspection {
        candidates: vec![Candidate {
            volume: "p1".into(),
            bitlocker: false,
            system32: true,
            error: None,
        }],
        guest: Some(WindowsGuest::new("p1", GuestView::of(fs))),
    };
    run_windows_inspection_with(Ok(inspection), policy, run)
}

/// A Windows system volume whose SYSTEM and SOFTWARE hives are written from the .reg bodies
/// `system` and `software` (`None`: that hive is not there).
pub(crate) fn windows_hives(system: Option<&str>, software: Option<&str>) -> MemFs {
    let mut fs = MemFs::new();
    fs.dir("/Windows/System32/config");
    if let Some(body) = system {
        fs.file(vhdlint_guest::windows::SYSTEM_HIVE, hive(body));
    }
    if let Some(body) = software {
        fs.file(vhdlint_guest::windows::SOFTWARE_HIVE, hive(body));
    }
    fs
}

/// A registry hive written by `fixtures/mkhive.py` (python3) with options `opts` (`--dirty`)
/// from `body`: the sections and values of a .reg file, keys relative to the hive's root.
pub(crate) fn hive_with(body: &str, opts: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("hive.reg");
    let out = dir.path().join("hive");
    std::fs::write(
        &spec,
        format!("Windows Registry Editor Version 5.00\n\n{body}\n"),
    )
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mkhive.py");
    let done = std::process::Command::new("python3")
        .arg(script)
        .args(opts)
        .arg(&out)
        .arg(&spec)
        .output()
        .expect("python3 runs fixtures/mkhive.py, which writes the hives of these tests");
    assert!(
        done.status.success(),
        "mkhive.py: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    std::fs::read(out).unwrap()
}

/// A clean registry hive from the body of a .reg file (see [`hive_with`]).
pub(crate) fn hive(body: &str) -> Vec<u8> {
    hive_with(body, &[])
}

/// Makes value `name` (an ASCII name found once in `hive`) unreadable: the signature of its vk
/// cell, 20 bytes before the name, is overwritten.
pub(crate) fn break_value(hive: &mut [u8], name: &str) {
    let at = hive
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("the value's name is in the hive");
    assert_eq!(&hive[at - 20..at - 18], b"vk");
    hive[at - 20..at - 18].copy_from_slice(b"xx");
}

/// What the runner makes of check `run` on `ctx`: skipped when the check is not part of the
/// context's policy, else its outcome with the rules applied to its notes.
pub(crate) fn settle(ctx: &Context, run: fn(&Context) -> Outcome) -> Outcome {
    let meta = crate::CHECKS
        .iter()
        .find(|c| c.run as usize == run as usize)
        .map(|c| c.meta);
    if let Some(skip) = meta.and_then(|m| crate::runner::policy_skip(m, ctx.policy)) {
        return skip;
    }
    crate::runner::apply_notes(run(ctx))
}

/// A SKU manifest of one plan with a previous version, another plan and one data disk.
pub(crate) fn manifest() -> crate::publish::manifest::Manifest {
    crate::publish::manifest::Manifest::parse(
        "offer = \"contoso\"\nsku = \"plan-a\"\nversion = \"1.0.1\"\nprevious-version = \"1.0.0\"\nos = \"linux\"\nother-skus = [\"plan-b\"]\n[os-disk]\nimage = \"os.vhd\"\n[[data-disk]]\nlun = 0\nimage = \"d0.vhd\"\n",
        std::path::Path::new("sku.toml"),
    )
    .expect("a valid manifest")
}

/// A submission of `sas_uri` and `manifest`, judged now.
pub(crate) fn submission<'a>(
    policy: &'a Policy,
    sas_uri: Option<&'a str>,
    manifest: Option<&'a crate::publish::manifest::Manifest>,
) -> crate::publish::Submission<'a> {
    crate::publish::Submission {
        policy,
        now: crate::publish::time::now(),
        sas_uri,
        manifest,
    }
}

/// Puts the answers of the searches for a Linux root and a Windows system volume on `ctx`'s
/// guest (`None`: searched on the disk when asked); an `Err` makes the guest disk unreadable.
pub(crate) fn set_guest(
    ctx: &Context,
    linux: Option<Result<LinuxInspection, String>>,
    windows: Option<Result<vhdlint_guest::windows::WindowsInspection, String>>,
) {
    let guest = match (linux, windows) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
        (l, w) => {
            let layout = match ctx.layout() {
                Ok(l) => l.clone(),
                Err(_) => vhdlint_disk::Layout::read(Arc::new(MemSource::new(vec![0; 512]))),
            };
            Ok(vhdlint_guest::guest::Guest::with_inspections(
                Arc::new(layout),
                l.and_then(Result::ok),
                w.and_then(Result::ok),
            ))
        }
    };
    assert!(ctx.guest.set(guest).is_ok());
}

/// Runs check `run` with `policy` on a Linux guest whose root is `fs`, on a raw disk of `disk`
/// (whose partitions, filesystems and LVM metadata are read as a run reads them).
pub(crate) fn run_linux_on_disk(
    disk: Vec<u8>,
    fs: MemFs,
    policy: &Policy,
    run: fn(&Context) -> Outcome,
) -> Outcome {
    let image = Image::from_source("memory", Arc::new(MemSource::new(disk)));
    let mut ctx = Context::new(&image, policy, None);
    ctx.profile = Profile::LinuxOs;
    set_guest(&ctx, Some(Ok(found(fs, OsRelease::default()))), None);
    settle(&ctx, run)
}

/// A cpio "newc" archive of regular files, with its trailer, padded to 512 bytes as cpio
/// writes it.
pub(crate) fn newc(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let entries =
        files
            .iter()
            .map(|&(n, d)| (n, 0o100644u32, d))
            .chain([("TRAILER!!!", 0, &b""[..])]);
    for (i, (name, mode, data)) in entries.enumerate() {
        let ino = if mode == 0 { 0 } else { i + 1 };
        out.extend_from_slice(
            format!(
                "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                0, 0, 1, 0, data.len(), 0, 0, 0, 0, name.len() + 1, 0
            )
            .as_bytes(),
        );
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    while out.len() % 512 != 0 {
        out.push(0);
    }
    out
}

/// A REG_MULTI_SZ of `items` (empty strings kept) as a .reg `hex(7):` value, for [`hive`].
pub(crate) fn reg_multi_sz(items: &[&str]) -> String {
    let mut units: Vec<u16> = Vec::new();
    for i in items {
        units.extend(i.encode_utf16());
        units.push(0);
    }
    units.push(0);
    let bytes: Vec<String> = units
        .iter()
        .flat_map(|u| u.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("hex(7):{}", bytes.join(","))
}
