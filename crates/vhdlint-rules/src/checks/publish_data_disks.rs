use crate::check::{CheckMeta, Evidence, Outcome};
use crate::publish::manifest::DataDisk;
use crate::publish::Submission;
use crate::Profile;

pub static META: CheckMeta = CheckMeta {
    id: "publish/data-disks",
    title: "SKU data disks",
    what: "Reads the data disks of the SKU manifest: LUNs 0, 1, 2, … without gaps or repeats, at most 16, and a VHD for each (\"even blank data disks require a VHD\"). Every disk of the SKU is then linted with its own profile (the OS disk as linux-os or windows-os, data disks as data-disk).",
    why: "Certification maps each data-disk VHD to its LUN; a gap or a repeat fails with \"DataDisk mapped incorrectly\", and a LUN without a VHD with an invalid URL.",
    remedy: "Number the data disks 0, 1, 2, … in order and give each a VHD (an empty, formatted VHD for a blank disk).",
    sources: &["Partner Center: VM certification FAQ (data disk LUNs, DataDisk-InvalidUrl)", "Azure Marketplace VM image guide: data disk VHDs"],
    profiles: &[Profile::Publish],
    policies: crate::policy::ALL,
};

/// Judges the SKU manifest's data disks; `None` when the submission has none.
pub fn run(s: &Submission) -> Option<Outcome> {
    s.manifest.map(|m| evaluate(&m.data_disk))
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
        let list = dup.iter().map(i64::to_string).collect::<Vec<_>>();
        problems.push(format!(
            "{} {} used more than once",
            if list.len() == 1 { "LUN" } else { "LUNs" },
            list.join(", ")
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::said;

    fn disk(lun: i64, image: Option<&str>) -> DataDisk {
        DataDisk {
            lun,
            image: image.map(String::from),
        }
    }

    /// Data disks at `luns`, each with a VHD.
    fn disks(luns: impl IntoIterator<Item = i64>) -> Vec<DataDisk> {
        luns.into_iter()
            .map(|l| disk(l, Some(&format!("data{l}.vhd"))))
            .collect()
    }

    #[test]
    fn run_judges_the_manifest_and_nothing_else() {
        let (policy, m) = (crate::Policy::guide(), crate::testing::manifest());
        let uri_only = crate::testing::submission(&policy, Some("https://a/b.vhd?sig=x"), None);
        assert!(run(&uri_only).is_none());
        let o = run(&crate::testing::submission(&policy, None, Some(&m))).unwrap();
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, evaluate(&m.data_disk).actual);
    }

    #[test]
    fn passes_without_data_disks() {
        let o = evaluate(&[]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no data disks");
        assert!(o.evidence.is_empty());
    }

    #[test]
    fn passes_luns_in_any_order_without_gaps() {
        let o = evaluate(&disks([2, 0, 1]));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "LUNs 0, 1, 2");
        assert!(
            said(&o).contains("lun 2 = data2.vhd | lun 0 = data0.vhd"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_sixteen_disks() {
        let o = evaluate(&disks(0..16));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn fails_a_lun_beyond_the_sixteenth() {
        let o = evaluate(&disks(0..17));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message
                .contains("LUN 16 is beyond the 16 data disks allowed (LUNs 0 to 15)"),
            "{}",
            o.message
        );
        assert!(
            o.message.contains("17 data disks; at most 16"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_more_than_sixteen_disks_on_sixteen_luns() {
        let mut d = disks(0..16);
        d.push(disk(15, Some("again.vhd")));
        let o = evaluate(&d);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.contains("17 data disks; at most 16"),
            "{}",
            o.message
        );
        assert!(!o.message.contains("beyond"), "{}", o.message);
    }

    #[test]
    fn fails_a_repeated_lun() {
        let o = evaluate(&disks([0, 1, 1, 1]));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "LUNs 0, 1, 1, 1");
        assert_eq!(o.message, "LUN 1 used more than once");
    }

    #[test]
    fn fails_a_gap() {
        let o = evaluate(&disks([0, 3]));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(
            o.message.starts_with("LUN(s) 1, 2 missing"),
            "{}",
            o.message
        );
    }

    #[test]
    fn fails_without_lun_zero() {
        let o = evaluate(&disks([1]));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.starts_with("LUN(s) 0 missing"), "{}", o.message);
    }

    #[test]
    fn lists_gaps_only_up_to_four_times_the_limit() {
        let o = evaluate(&disks([1000]));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert!(o.message.contains(", 63, 64 missing"), "{}", o.message);
        assert!(!o.message.contains("65"), "{}", o.message);
        assert!(o.message.contains("LUN 1000 is beyond"), "{}", o.message);
    }

    #[test]
    fn fails_a_negative_lun() {
        let o = evaluate(&disks([-1, 0]));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.message, "LUN -1 is negative");
    }

    #[test]
    fn fails_a_disk_without_a_vhd() {
        let o = evaluate(&[disk(0, Some("data0.vhd")), disk(1, None)]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            "LUN 1 has no VHD: even blank data disks require one"
        );
        assert!(said(&o).contains("lun 1 = (no image)"), "{}", said(&o));
    }

    #[test]
    fn fails_a_disk_with_a_blank_image() {
        let o = evaluate(&[disk(0, Some("  "))]);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.message,
            "LUN 0 has no VHD: even blank data disks require one"
        );
    }

    #[test]
    fn hides_the_signature_of_a_sas_uri() {
        let o = evaluate(&[disk(
            0,
            Some("https://acct.blob.core.windows.net/vhds/d.vhd?sp=rl&sig=S3cr3t"),
        )]);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        let s = said(&o);
        assert!(
            s.contains("lun 0 = https://acct.blob.core.windows.net/vhds/d.vhd?sp=rl&sig=REDACTED"),
            "{s}"
        );
        assert!(!s.contains("S3cr3t"), "{s}");
    }
}
