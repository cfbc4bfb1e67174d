//! `vhdlint merge`: one report from the JSON reports of several runs, as if one run had linted
//! every image (the shards of a fleet, or any runs of one policy).
//!
//! Nothing is linted again: the verdicts, evidence and waivers are the runs' own. What is
//! checked is that the reports can stand for one run: the same tool version and policy, and,
//! for shards, every shard of the same split exactly once. A missing shard is never merged as
//! if its images had passed.

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

/// One report from `inputs` (each with the path it was read from, for errors): images in
/// list order (shards by their index, other reports in the order given), each image's summary
/// recomputed from its results, unreadable images and expired waivers kept.
pub fn merge(inputs: Vec<(PathBuf, Report)>) -> Result<Report> {
    let Some((first_path, first)) = inputs.first() else {
        bail!("no report to merge");
    };
    for (path, r) in &inputs[1..] {
        if r.tool.version != first.tool.version {
            bail!(
                "{} was written by vhdlint {}, {} by {}: merge reports of one version",
                path.display(),
                r.tool.version,
                first_path.display(),
                first.tool.version
            );
        }
        if r.policy != first.policy {
            bail!(
                "{} was linted under policy \"{}\", {} under \"{}\": merge reports of one policy",
                path.display(),
                r.policy,
                first_path.display(),
                first.policy
            );
        }
    }
    let inputs = in_list_order(inputs)?;
    let mut merged = Report::new(&inputs[0].1.policy, Vec::new());
    merged.tool = inputs[0].1.tool.clone();
    for (_, r) in inputs {
        merged.images.extend(r.images);
        merged.unreadable.extend(r.unreadable);
        merged.expired_waivers.extend(r.expired_waivers);
    }
    for i in &mut merged.images {
        i.summary = vhdlint_rules::Summary::of(&i.checks);
    }
    Ok(merged)
}

/// The reports in the order of the list they were cut from: when they are shards, every shard
/// of one split exactly once, by index; otherwise as given (no report may then be a shard).
fn in_list_order(mut inputs: Vec<(PathBuf, Report)>) -> Result<Vec<(PathBuf, Report)>> {
    let shards = inputs.iter().filter(|(_, r)| r.shard.is_some()).count();
    if shards == 0 {
        return Ok(inputs);
    }
    if shards != inputs.len() {
        let (whole, _) = inputs
            .iter()
            .find(|(_, r)| r.shard.is_none())
            .expect("one is not a shard");
        bail!(
            "{} is not a shard (no `shard` in it) but other reports are: merge the shards of one \
             split, or whole runs",
            whole.display()
        );
    }
    let split = |r: &Report| r.shard.map(|s| (s.count, s.list)).unwrap_or_default();
    let (count, list) = split(&inputs[0].1);
    if let Some((path, r)) = inputs.iter().find(|(_, r)| split(r) != (count, list)) {
        let s = r.shard.expect("all are shards");
        bail!(
            "{} is shard {} of {} over a list of {}, {} one of {count} over {list}: merge the \
             shards of one split",
            path.display(),
            s.index,
            s.count,
            s.list,
            inputs[0].0.display()
        );
    }
    inputs.sort_by_key(|(_, r)| r.shard.map(|s| s.index));
    let mut seen = vec![Vec::new(); count];
    for (path, r) in &inputs {
        let index = r.shard.expect("all are shards").index;
        match seen.get_mut(index) {
            Some(paths) => paths.push(path.display().to_string()),
            None => bail!(
                "{}: shard {index} of {count} is out of range",
                path.display()
            ),
        }
    }
    if let Some((k, paths)) = seen.iter().enumerate().find(|(_, p)| p.len() > 1) {
        bail!("shard {k} of {count} is given twice: {}", paths.join(", "));
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_empty())
        .map(|(k, _)| k.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "shard {} of {count} missing: its images were not linted, so the merge would not \
             be the whole list's verdicts",
            missing.join(", ")
        );
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vhdlint_report::Shard;

    fn shard(index: usize, count: usize) -> (PathBuf, Report) {
        let mut r = Report::new("guide", Vec::new());
        r.shard = Some(Shard {
            index,
            count,
            list: 5,
        });
        (PathBuf::from(format!("s{index}.json")), r)
    }

    #[test]
    fn shards_are_put_in_order_and_must_be_complete() {
        let ok = merge(vec![shard(2, 3), shard(0, 3), shard(1, 3)]);
        assert!(ok.is_ok(), "{ok:?}");
        let e = merge(vec![shard(2, 3), shard(0, 3)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("shard 1 of 3 missing"), "{e}");
        let e = merge(vec![shard(0, 2), shard(0, 2), shard(1, 2)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
        let e = merge(vec![shard(0, 2), shard(1, 3)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("one split"), "{e}");
        let mut whole = shard(0, 1);
        whole.1.shard = None;
        let e = merge(vec![shard(0, 1), whole]).unwrap_err().to_string();
        assert!(e.contains("not a shard"), "{e}");
    }

    #[test]
    fn one_policy_and_one_version() {
        let (p, mut r) = shard(1, 2);
        r.policy = "current".into();
        let e = merge(vec![shard(0, 2), (p, r)]).unwrap_err().to_string();
        assert!(e.contains("policy"), "{e}");
        let (p, mut r) = shard(1, 2);
        r.tool.version = "0.0.1";
        let e = merge(vec![shard(0, 2), (p, r)]).unwrap_err().to_string();
        assert!(e.contains("version"), "{e}");
    }
}
