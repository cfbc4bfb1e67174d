use crate::check::{CheckMeta, Evidence, Outcome};
use crate::publish::manifest::DataDisk;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "publish/data-disks",
    title: "SKU data disks",
    what: "Reads the data disks of the SKU manifest: LUNs 0, 1, 2, … without gaps or repeats, at most 16, and a VHD for each (\"even blank data disks require a VHD\"). Every disk of the SKU is then linted with its own profile (the OS disk as linux-os or windows-os, data disks as data-disk).",
    why: "Certification maps each data-disk VHD to its LUN; a gap or a repeat fails with \"DataDisk mapped incorrectly\", and a LUN without a VHD with an invalid URL.",
    remedy: "Number the data disks 0, 1, 2, … in order and give each a VHD (an empty, formatted VHD for a blank disk).",
    sources: &["Partner Center: VM certification FAQ (data disk LUNs, DataDisk-InvalidUrl)", "Azure Marketplace VM image guide: data disk VHDs"],
    profiles: &[Profile::Publish],
};

pub fn run(_ctx: &Context) -> Outcome {
    Outcome::skipped("a publishing check: run by `vhdlint sku`")
}

/// Most data disks a Marketplace VM image takes.
pub const MAX_DATA_DISKS: usize = 16;

pub fn evaluate(disks: &[DataDisk]) -> Outcome {
    let required = "LUNs 0..n-1 without gaps, at most 16, each with a VHD";
    let mut luns: Vec<i64> = disks.iter().map(|d| d.lun).collect();
    luns.sort_unstable();
    let actual = if luns.is_empty() {
        "no data disks".to_string()
    } else {
        format!(
            "LUNs {}",
            luns.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut problems = Vec::new();
    let mut dup: Vec<i64> = luns
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    dup.dedup();
    if !dup.is_empty() {
        problems.push(format!("LUN {dup:?} used more than once"));
    }
    let mut unique = luns.clone();
    unique.dedup();
    if let Some(bad) = unique.iter().find(|l| **l < 0) {
        problems.push(format!("LUN {bad} is negative"));
    }
    // Gaps below the highest LUN (bounded: a LUN beyond the disk limit is reported as such).
    let top = unique
        .last()
        .copied()
        .unwrap_or(-1)
        .min(MAX_DATA_DISKS as i64 * 4);
    let missing: Vec<i64> = (0..=top)
        .filter(|l| unique.binary_search(l).is_err())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "LUN(s) {} missing: data disks must be numbered 0, 1, 2, … without gaps",
            missing
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if unique.last().is_some_and(|l| *l >= MAX_DATA_DISKS as i64) {
        problems.push(format!(
            "LUN {} is beyond the {MAX_DATA_DISKS} data disks allowed (LUNs 0 to {})",
            unique.last().unwrap_or(&0),
            MAX_DATA_DISKS - 1
        ));
    }
    if disks.len() > MAX_DATA_DISKS {
        problems.push(format!(
            "{} data disks; at most {MAX_DATA_DISKS} are allowed",
            disks.len()
        ));
    }
    for d in disks {
        if d.image.as_deref().is_none_or(|i| i.trim().is_empty()) {
            problems.push(format!(
                "LUN {} has no VHD: even blank data disks require one",
                d.lun
            ));
        }
    }
    let ev: Vec<Evidence> = disks
        .iter()
        .map(|d| {
            Evidence::note(format!(
                "lun {} = {}",
                d.lun,
                d.image
                    .as_deref()
                    .map_or("(no image)".to_string(), crate::publish::sas::redact)
            ))
        })
        .collect();
    if problems.is_empty() {
        Outcome::pass(actual, required).evidences(ev)
    } else {
        Outcome::fail(actual, required)
            .message(problems.join("; "))
            .evidences(ev)
    }
}
