use vhdlint_disk::layout::{
    Layout, PartType, GPT_LINUX_XBOOTLDR, GPT_MS_RESERVED, GPT_WINDOWS_RECOVERY,
};
use vhdlint_disk::probe::FsKind;
use vhdlint_disk::Volume;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "partition/single-root",
    title: "Single root partition",
    what: "Counts the data partitions of the OS disk, leaving out the EFI system partition, the BIOS boot partition, a /boot partition (GPT type XBOOTLDR, or a partition or filesystem named \"boot\"), swap, LVM physical volumes, and Windows' reserved and recovery partitions.",
    why: "The guide asks for a single root partition: Azure grows the OS disk's last partition and the resource disk provides scratch space, so extra partitions on the OS disk only get in the way.",
    remedy: "Move the extra filesystems into the root filesystem (or to data disks) and delete their partitions.",
    sources: &["Azure Marketplace VM image guide: a single root partition for the OS disk"],
    // The rule comes from the guide's Linux preparation: Windows' own layout (System Reserved +
    // Windows, or EFI + MSR + Windows) is what Azure's Windows images use.
    profiles: &[Profile::LinuxOs],
};

fn is_boot(layout: &Layout, v: &Volume) -> bool {
    let named_boot =
        |s: &Option<String>| s.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("boot"));
    named_boot(&v.probe.label)
        || layout.partition(v).is_some_and(|p| {
            p.part_type == PartType::Gpt(GPT_LINUX_XBOOTLDR) || named_boot(&p.name)
        })
}

pub fn run(ctx: &Context) -> Outcome {
    let layout = match ctx.layout_or_outcome() {
        Ok(l) => l,
        Err(o) => return o,
    };
    let mut data = Vec::new();
    let mut boot = Vec::new();
    for v in layout
        .volumes
        .iter()
        .filter(|v| layout.partition(v).is_some())
    {
        let p = layout.partition(v).expect("filtered");
        let t = p.part_type;
        let skip = t.is_efi_system()
            || t.is_bios_boot()
            || t.is_swap()
            || t.is_lvm()
            || t == PartType::Gpt(GPT_MS_RESERVED)
            || t == PartType::Gpt(GPT_WINDOWS_RECOVERY)
            || t == PartType::Mbr(0x27);
        if skip || matches!(v.probe.kind, FsKind::Swap | FsKind::LvmPv | FsKind::Empty) {
            continue;
        }
        if is_boot(layout, v) {
            boot.push(v);
        } else {
            data.push(v);
        }
    }
    let required = "one data partition (besides EFI system, BIOS boot and /boot)";
    let describe = |v: &&Volume| {
        format!(
            "{} ({}{})",
            v.id,
            v.probe.kind.name(),
            v.probe
                .label
                .as_ref()
                .map_or(String::new(), |l| format!(", label {l}"))
        )
    };
    let ev: Vec<Evidence> = data
        .iter()
        .map(|v| {
            Evidence::offset(
                v.offset.unwrap_or(0),
                format!("data partition {}", describe(v)),
            )
        })
        .collect();
    match data.len() {
        0 => Outcome::skipped(
            "the OS disk has no data partition with a filesystem (see partition/table)",
        ),
        1 => Outcome::pass(
            format!("one data partition: {}", describe(&data[0])),
            required,
        )
        .evidences(ev),
        n => {
            let mut msg = format!(
                "{n} data partitions: {}",
                data.iter().map(describe).collect::<Vec<_>>().join(", ")
            );
            if n == 2 && boot.is_empty() {
                msg.push_str("; if one of them is /boot, it carries no type or name that says so (the image's fstab is read once Linux guest inspection is available)");
            }
            Outcome::warning(format!("{n} data partitions"), required)
                .message(msg)
                .evidences(ev)
        }
    }
}
