//! The vhdlint check catalogue: one file per check with its metadata beside its logic,
//! the policies that hold the thresholds, profiles, the shared facts and the parallel runner.

pub mod check;
pub mod checks;
pub mod config;
pub mod context;
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
pub use profile::{Profile, ProfileChoice};
pub use runner::{run, Facts, ImageReport, RunOptions, Selection, Summary};

/// Looks a check's metadata up by its ID (an image or a publishing check).
pub fn find(id: &str) -> Option<&'static CheckMeta> {
    CATALOGUE.iter().copied().find(|m| m.id == id)
}
