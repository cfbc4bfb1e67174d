//! `vhdlint merge`: reads the JSON reports (bounded, checks this build knows) and merges them
//! with [`vhdlint_report::merge`].

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use vhdlint_report::Report;

/// The largest JSON report read (a report of thousands of images is a few hundred MiB).
pub const MAX_REPORT_BYTES: u64 = 1 << 30;

/// Reads a JSON report written by `check --format json` (`-`: standard input).
pub fn load(path: &Path) -> Result<Report> {
    let mut text = Vec::new();
    let what = path.display();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_REPORT_BYTES + 1)
            .read_to_end(&mut text)
            .context("reading a report from standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {what}"))?
            .take(MAX_REPORT_BYTES + 1)
            .read_to_end(&mut text)
            .with_context(|| format!("reading {what}"))?;
    }
    if text.len() as u64 > MAX_REPORT_BYTES {
        bail!("{what}: larger than {MAX_REPORT_BYTES} bytes; not read");
    }
    let report: Report = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!("{what}: not a vhdlint JSON report (check --format json): {e}")
    })?;
    if report.tool.name != "vhdlint" {
        bail!(
            "{what}: a report of \"{}\", not of vhdlint",
            report.tool.name
        );
    }
    let known = |id: &str| vhdlint_rules::CATALOGUE.iter().any(|m| m.id == id);
    if let Some(c) = report
        .images
        .iter()
        .flat_map(|i| &i.checks)
        .find(|c| !known(c.id))
    {
        bail!(
            "{what}: check \"{}\" is not one this vhdlint ({}) knows: merge with the vhdlint \
             that wrote the report ({})",
            c.id,
            env!("CARGO_PKG_VERSION"),
            report.tool.version
        );
    }
    Ok(report)
}

/// One report from the reports read from `paths` (see [`vhdlint_report::merge::merge`]).
pub fn merge(paths: &[PathBuf], partial: bool) -> Result<Report> {
    let inputs = paths
        .iter()
        .map(|p| Ok((p.display().to_string(), load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(vhdlint_report::merge::merge(inputs, partial)?)
}
