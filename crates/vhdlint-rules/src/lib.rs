//! The vhdlint check catalogue and what runs it: one file per check with its metadata beside
//! its logic ([`checks`]), the policies that hold the thresholds ([`policy`]), profiles, an
//! image's facts computed once and shared by the checks ([`context`]), the parallel runner
//! ([`runner`]), the `vhdlint.toml` configuration with waivers ([`config`]), and the inputs
//! submitted with the disks, SAS URIs and the SKU manifest ([`publish`]).

pub mod check;
pub mod checks;
pub mod config;
pub mod context;
pub mod fix;
pub mod image;
pub mod policy;
pub mod profile;
pub mod publish;
pub mod runner;
#[cfg(test)]
pub(crate) mod testing;

pub use check::{Check, CheckMeta, CheckResult, Evidence, Outcome, Status};
pub use checks::{CATALOGUE, CHECKS, PUBLISH_CHECKS};
pub use context::{Context, Progress};
pub use image::Image;
pub use policy::{Level, Policy, PolicyError};
pub use profile::{Generation, Profile, ProfileChoice};
pub use runner::{run, run_timed, Facts, ImageReport, RunOptions, Selection, Summary, Timings};

/// Looks a check's metadata up by its ID (an image or a publishing check).
pub fn find(id: &str) -> Option<&'static CheckMeta> {
    CATALOGUE.iter().copied().find(|m| m.id == id)
}
