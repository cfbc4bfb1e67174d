//! What is submitted with the disks: SAS URIs and the SKU manifest. These inputs are strings
//! and a TOML file, not disk bytes; their checks (`publish/*`) run from `vhdlint sas` and
//! `vhdlint sku`, and are not part of an image's own report.

pub mod manifest;
pub mod sas;
pub mod time;

use crate::check::{CheckMeta, CheckResult, Outcome};
use crate::checks::PUBLISH_CHECKS;
use crate::policy::Policy;
use crate::profile::Profile;
use crate::runner::{apply_notes, policy_skip, Facts, ImageReport, Summary};

use manifest::Manifest;
use time::Timestamp;

/// What is submitted with the disks, as the publishing checks see it.
pub struct Submission<'a> {
    pub policy: &'a Policy,
    /// The time the SAS URI's window is judged at.
    pub now: Timestamp,
    /// A SAS URI given for a VHD.
    pub sas_uri: Option<&'a str>,
    /// The SKU manifest.
    pub manifest: Option<&'a Manifest>,
}

/// A publishing check: metadata beside its logic, over a [`Submission`].
pub struct PublishCheck {
    pub meta: &'static CheckMeta,
    /// The check's outcome, or `None` when the submission holds nothing it judges.
    pub run: fn(&Submission) -> Option<Outcome>,
}

/// A duration in whole microseconds, saturating.
pub(crate) fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Every publishing check that has something to judge in `s`, in catalogue order.
pub fn judge(s: &Submission) -> Vec<CheckResult> {
    PUBLISH_CHECKS
        .iter()
        .filter_map(|c| {
            let start = std::time::Instant::now();
            let outcome = match policy_skip(c.meta, s.policy) {
                Some(skip) => skip,
                None => apply_notes((c.run)(s)?),
            };
            let mut r = CheckResult::from_outcome(c.meta, outcome);
            r.elapsed_us = micros(start.elapsed());
            Some(r)
        })
        .collect()
}

/// The publish/sas-uri result of `uri`, judged now.
pub fn sas_result(uri: &str, policy: &Policy) -> Vec<CheckResult> {
    judge(&Submission {
        policy,
        now: time::now(),
        sas_uri: Some(uri),
        manifest: None,
    })
}

/// Whether `uri` carries a SAS signature (`sig=`), so that publish/sas-uri judges it.
pub fn has_sas(uri: &str) -> bool {
    uri.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|p| p.to_ascii_lowercase().starts_with("sig="))
    })
}

/// A report entry holding only the publish/sas-uri verdict of `uri`.
pub fn sas_entry(uri: &str, policy: &Policy) -> ImageReport {
    entry(
        sas::redact(uri.trim()),
        "a SAS URI given for a VHD".into(),
        sas_result(uri, policy),
    )
}

/// The report entry of a SKU manifest's own metadata (version, plan IDs, data-disk LUNs).
pub fn manifest_entry(m: &Manifest, origin: &str, policy: &Policy) -> ImageReport {
    entry(
        format!("{}/{} {}", m.offer, m.sku, m.version),
        format!("the SKU manifest {origin}"),
        judge(&Submission {
            policy,
            now: time::now(),
            sas_uri: None,
            manifest: Some(m),
        }),
    )
}

/// The disks a SKU manifest submits, each with the profile it is linted with: the OS disk as
/// its OS, then the data disks by LUN (those without an image are judged by
/// publish/data-disks alone).
pub fn sku_disks(m: &Manifest) -> Vec<(String, Profile)> {
    let os_profile = match m.os {
        vhdlint_guest::OsFamily::Linux => Profile::LinuxOs,
        vhdlint_guest::OsFamily::Windows => Profile::WindowsOs,
    };
    let mut disks = vec![(m.os_disk.image.clone(), os_profile)];
    let mut data: Vec<_> = m.data_disk.iter().collect();
    data.sort_by_key(|d| d.lun);
    for d in data {
        if let Some(i) = d.image.as_deref().filter(|i| !i.trim().is_empty()) {
            disks.push((i.to_string(), Profile::DataDisk));
        }
    }
    disks
}

/// A report entry for publishing inputs (a SAS URI, a SKU's metadata), in the same shape as an
/// image's so that every report format renders it: profile `publish`, no disk facts.
pub fn entry(path: String, reason: String, checks: Vec<CheckResult>) -> ImageReport {
    ImageReport {
        path,
        void: None,
        profile: Profile::Publish,
        profile_reason: reason,
        generation: None,
        facts: Facts::default(),
        summary: Summary::of(&checks),
        checks,
        timings: None,
    }
}
