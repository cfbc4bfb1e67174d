//! What is submitted with the disks: SAS URIs and the SKU manifest. These inputs are strings
//! and a TOML file, not disk bytes; their checks (`publish/*`) run from `vhdlint sas` and
//! `vhdlint sku`, and are not part of an image's own report.

pub mod manifest;
pub mod sas;
pub mod time;

use crate::check::CheckResult;
use crate::profile::Profile;
use crate::runner::{Facts, ImageReport, Summary};

/// A report entry for publishing inputs (a SAS URI, a SKU's metadata), in the same shape as an
/// image's so that every report format renders it: profile `publish`, no disk facts.
pub fn entry(path: String, reason: String, checks: Vec<CheckResult>) -> ImageReport {
    ImageReport {
        path,
        void: None,
        profile: Profile::Publish,
        profile_reason: reason,
        facts: Facts::default(),
        summary: Summary::of(&checks),
        checks,
    }
}
