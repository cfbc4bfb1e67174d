//! Device names as fstab and the kernel's `root=` write them (`UUID=…`, `PARTUUID=…`,
//! `LABEL=…`, `PARTLABEL=…`, `/dev/disk/by-*/…`, `/dev/mapper/VG-LV`, `/dev/VG/LV`,
//! `/dev/sda2`), resolved against what is on one disk: the filesystem UUIDs and labels the
//! probe reads (as blkid prints them), the partitions' PARTUUIDs and GPT names, and the
//! logical volumes of the LVM metadata.
//!
//! Case: udev names `/dev/disk/by-uuid/…` and `/dev/disk/by-partuuid/…` with the identifier
//! as blkid prints it (lower case for ext4, XFS, btrfs and GPT, `XXXX-XXXX` upper case for
//! FAT), and systemd's fstab generator and blkid's tag lookup (initramfs-tools) look the name
//! up as written; dracut lower-cases `root=UUID=`/`root=PARTUUID=` and the kernel's own
//! `root=PARTUUID=` ignores case. A name that matches only when case is ignored is therefore
//! told apart ([`Resolution::CaseOnly`]), and the caller decides what it costs.

use crate::config::fstab::split_tag;
use vhdlint_disk::layout::{Partition, VolumeOrigin};
use vhdlint_disk::{Layout, Volume};

/// What a name is found to be on this disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A volume (partition, whole disk or readable logical volume): its id (`p2`, `vg0/root`),
    /// what it holds, and whether it is an LVM logical volume.
    Volume { id: String, what: String, lvm: bool },
    /// A logical volume the metadata lists but that cannot be read as a volume here.
    LogicalVolume { vg: String, lv: String, why: String },
}

impl Target {
    /// Whether it is an LVM logical volume.
    pub fn is_lvm(&self) -> bool {
        matches!(
            self,
            Target::LogicalVolume { .. } | Target::Volume { lvm: true, .. }
        )
    }

    /// In words: `p2 (partition 2, ext4 UUID …)`.
    pub fn describe(&self) -> String {
        match self {
            Target::Volume { id, what, .. } => format!("{id} ({what})"),
            Target::LogicalVolume { vg, lv, why } => {
                format!("LVM logical volume {vg}/{lv} (not readable here: {why})")
            }
        }
    }
}

/// How a device name resolves on this disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// It names this.
    Found(Target),
    /// It names this only when letters' case is ignored; the identifier on the disk is `on_disk`.
    CaseOnly { target: Target, on_disk: String },
    /// A kernel name (`/dev/sda2`, `/dev/nvme0n1p2`): what it is when this disk is the one the
    /// name gives (`None`: no such partition here, or a name of another disk).
    Kernel {
        target: Option<Target>,
        first_disk: bool,
    },
    /// It names nothing on this disk.
    Missing,
    /// A form whose target depends on the machine, not the disk (`/dev/disk/by-id/…`,
    /// `/dev/disk/by-path/…`, a device-mapper name that is no logical volume): why.
    Unjudged(String),
}

/// Whether `spec` is a device name at all (a tag or a path under /dev), as opposed to a
/// pseudo filesystem's source (`proc`, `tmpfs`, `none`), a file (a swap file, a loop image) or
/// a network share.
pub fn is_device_name(spec: &str) -> bool {
    split_tag(spec).is_some() || spec.starts_with("/dev/")
}

/// Decodes udev's `\xHH` escapes in a `/dev/disk/by-*` link name (a label with a space is
/// `by-label/my\x20disk`).
fn udev_unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && i + 4 <= b.len()
            && b[i + 2..i + 4].iter().all(u8::is_ascii_hexdigit)
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 2]) * 16 + hex(b[i + 3]));
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn describe_volume(layout: &Layout, v: &Volume) -> String {
    let mut parts = Vec::new();
    match &v.origin {
        VolumeOrigin::Partition { number } => parts.push(format!("partition {number}")),
        VolumeOrigin::WholeDisk => parts.push("the whole disk".into()),
        VolumeOrigin::LogicalVolume { vg, lv } => {
            parts.push(format!("LVM logical volume {vg}/{lv}"))
        }
    }
    parts.push(v.probe.kind.name().to_string());
    if let Some(u) = &v.probe.uuid {
        parts.push(format!("UUID {u}"));
    }
    if let Some(l) = &v.probe.label {
        parts.push(format!("LABEL {l}"));
    }
    if let Some(p) = layout.partition(v) {
        if !p.partuuid.is_empty() {
            parts.push(format!("PARTUUID {}", p.partuuid));
        }
    }
    parts.join(", ")
}

fn volume_target(layout: &Layout, v: &Volume) -> Target {
    Target::Volume {
        id: v.id.clone(),
        what: describe_volume(layout, v),
        lvm: matches!(v.origin, VolumeOrigin::LogicalVolume { .. }),
    }
}

/// The first volume whose identifier (`key`) equals `value`: exactly, else ignoring case.
fn by_key(layout: &Layout, value: &str, key: &dyn Fn(&Volume) -> Option<String>) -> Resolution {
    let exact = layout
        .volumes
        .iter()
        .find(|v| key(v).as_deref() == Some(value));
    if let Some(v) = exact {
        return Resolution::Found(volume_target(layout, v));
    }
    let folded = layout.volumes.iter().find_map(|v| {
        let k = key(v)?;
        k.eq_ignore_ascii_case(value).then_some((v, k))
    });
    match folded {
        Some((v, on_disk)) => Resolution::CaseOnly {
            target: volume_target(layout, v),
            on_disk,
        },
        None => Resolution::Missing,
    }
}

fn partition_of<'a>(layout: &'a Layout, v: &Volume) -> Option<&'a Partition> {
    layout.partition(v)
}

/// The logical volume `vg`/`lv` of the disk's LVM metadata.
fn logical_volume(layout: &Layout, vg: &str, lv: &str) -> Resolution {
    let vol = layout.volumes.iter().find(
        |v| matches!(&v.origin, VolumeOrigin::LogicalVolume { vg: g, lv: l } if g == vg && l == lv),
    );
    if let Some(v) = vol {
        return Resolution::Found(volume_target(layout, v));
    }
    let listed = layout
        .volume_groups
        .iter()
        .filter(|g| g.name == vg)
        .flat_map(|g| g.lvs.iter())
        .find(|l| l.name == lv);
    match listed {
        Some(l) => Resolution::Found(Target::LogicalVolume {
            vg: vg.to_string(),
            lv: lv.to_string(),
            why: l
                .unreadable
                .clone()
                .unwrap_or_else(|| "no volume was made of it".into()),
        }),
        None => Resolution::Missing,
    }
}

/// Splits a device-mapper name of an LVM logical volume (`vg0-root`, `my--vg-my--lv`) into
/// the VG and LV names: one dash joins them, dashes inside either are doubled.
pub fn split_dm_name(name: &str) -> Option<(String, String)> {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' {
            if b.get(i + 1) == Some(&b'-') {
                i += 2;
                continue;
            }
            let (vg, lv) = (&name[..i], &name[i + 1..]);
            if vg.is_empty() || lv.is_empty() {
                return None;
            }
            return Some((vg.replace("--", "-"), lv.replace("--", "-")));
        }
        i += 1;
    }
    None
}

/// A kernel block device name: (the disk is the first of its kind, the partition number).
/// `sda`, `sda2`, `hdb1`, `vda3`, `xvda1`, `nvme0n1`, `nvme0n1p2`.
pub fn kernel_name(name: &str) -> Option<(bool, Option<u32>)> {
    let number = |s: &str| -> Option<Option<u32>> {
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    if let Some(rest) = name.strip_prefix("nvme") {
        // nvme<ctrl>n<ns>[p<part>]
        let (ctrl, rest) = rest.split_once('n')?;
        if ctrl.is_empty() || !ctrl.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (ns, part) = match rest.split_once('p') {
            // `nvme0n1p` without a number is no name.
            Some((ns, p)) => (ns, Some(number(p)??)),
            None => (rest, None),
        };
        if ns.is_empty() || !ns.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return Some((ctrl == "0" && ns == "1", part));
    }
    for prefix in ["xvd", "sd", "hd", "vd"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            if letters == 0 {
                return None;
            }
            let (disk, part) = rest.split_at(letters);
            return Some((disk == "a", number(part)?));
        }
    }
    None
}

/// Resolves device name `spec` (an fstab source or a `root=` value) against `layout`.
pub fn resolve(layout: &Layout, spec: &str) -> Resolution {
    if let Some((tag, value)) = split_tag(spec) {
        return resolve_tag(layout, tag, value);
    }
    let Some(rest) = spec.strip_prefix("/dev/") else {
        return Resolution::Unjudged(format!("{spec} is not a device name"));
    };
    if let Some(link) = rest.strip_prefix("disk/") {
        let Some((kind, name)) = link.split_once('/') else {
            return Resolution::Unjudged(format!("{spec} is not a /dev/disk/by-* link"));
        };
        let name = udev_unescape(name);
        return match kind {
            "by-uuid" => resolve_tag(layout, "UUID", &name),
            "by-label" => resolve_tag(layout, "LABEL", &name),
            "by-partuuid" => resolve_tag(layout, "PARTUUID", &name),
            "by-partlabel" => resolve_tag(layout, "PARTLABEL", &name),
            _ => Resolution::Unjudged(format!(
                "/dev/disk/{kind} names depend on the VM's hardware (the disk's serial number or bus path), not on what is on the disk"
            )),
        };
    }
    if let Some(name) = rest.strip_prefix("mapper/") {
        return match split_dm_name(name) {
            Some((vg, lv)) => logical_volume(layout, &vg, &lv),
            None => Resolution::Unjudged(format!(
                "{spec} is a device-mapper name that is not an LVM logical volume's (LUKS, multipath)"
            )),
        };
    }
    if let Some((first_disk, number)) = kernel_name(rest) {
        let target = first_disk
            .then(|| {
                layout.volumes.iter().find(|v| match number {
                    Some(n) => v.origin == VolumeOrigin::Partition { number: n },
                    None => v.origin == VolumeOrigin::WholeDisk,
                })
            })
            .flatten()
            .map(|v| volume_target(layout, v));
        return Resolution::Kernel { target, first_disk };
    }
    if let Some((vg, lv)) = rest.split_once('/') {
        if !vg.is_empty() && !lv.is_empty() && !lv.contains('/') {
            return logical_volume(layout, vg, lv);
        }
    }
    Resolution::Unjudged(format!("{spec} is a device name this check does not know"))
}

fn resolve_tag(layout: &Layout, tag: &str, value: &str) -> Resolution {
    match tag {
        "UUID" => by_key(layout, value, &|v| v.probe.uuid.clone()),
        "LABEL" => by_key(layout, value, &|v| v.probe.label.clone()),
        "PARTUUID" => by_key(layout, value, &|v| {
            partition_of(layout, v)
                .map(|p| p.partuuid.clone())
                .filter(|u| !u.is_empty())
        }),
        "PARTLABEL" => by_key(layout, value, &|v| {
            partition_of(layout, v).and_then(|p| p.name.clone())
        }),
        _ => Resolution::Unjudged(format!(
            "{tag}= names the disk by its hardware identifier, which differs on every VM"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names() {
        assert_eq!(kernel_name("sda"), Some((true, None)));
        assert_eq!(kernel_name("sda2"), Some((true, Some(2))));
        assert_eq!(kernel_name("sdb1"), Some((false, Some(1))));
        assert_eq!(kernel_name("sdaa1"), Some((false, Some(1))));
        assert_eq!(kernel_name("hda1"), Some((true, Some(1))));
        assert_eq!(kernel_name("vda15"), Some((true, Some(15))));
        assert_eq!(kernel_name("xvda1"), Some((true, Some(1))));
        assert_eq!(kernel_name("nvme0n1"), Some((true, None)));
        assert_eq!(kernel_name("nvme0n1p3"), Some((true, Some(3))));
        assert_eq!(kernel_name("nvme1n1p1"), Some((false, Some(1))));
        assert_eq!(kernel_name("nvme0n1p"), None);
        assert_eq!(kernel_name("sd"), None);
        assert_eq!(kernel_name("sda2x"), None);
        assert_eq!(kernel_name("mapper"), None);
        assert_eq!(kernel_name("vg0"), None);
    }

    #[test]
    fn device_mapper_names() {
        assert_eq!(
            split_dm_name("vg0-root"),
            Some(("vg0".into(), "root".into()))
        );
        assert_eq!(
            split_dm_name("my--vg-my--lv"),
            Some(("my-vg".into(), "my-lv".into()))
        );
        assert_eq!(split_dm_name("cryptroot"), None);
        assert_eq!(split_dm_name("-x"), None);
        assert_eq!(split_dm_name("x-"), None);
    }

    #[test]
    fn udev_escapes() {
        assert_eq!(udev_unescape("my\\x20disk"), "my disk");
        assert_eq!(udev_unescape("a\\x2fb"), "a/b");
        assert_eq!(udev_unescape("bad\\xzz"), "bad\\xzz");
        assert_eq!(udev_unescape("end\\x2"), "end\\x2");
    }

    #[test]
    fn what_is_a_device_name() {
        for s in ["UUID=x", "LABEL=\"a b\"", "/dev/sda1", "/dev/mapper/vg-lv"] {
            assert!(is_device_name(s), "{s}");
        }
        for s in [
            "proc",
            "tmpfs",
            "none",
            "/swapfile",
            "server:/x",
            "//srv/share",
        ] {
            assert!(!is_device_name(s), "{s}");
        }
    }
}
