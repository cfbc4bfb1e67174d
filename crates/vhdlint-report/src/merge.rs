//! One report from the reports of several runs (`vhdlint merge`), as if one run had linted
//! every image: the shards of a fleet, or any runs of one version and policy.
//!
//! Nothing is linted again: the verdicts, evidence and waivers are the runs' own. What is
//! checked is that the reports can stand for one run, because a missing part must never read
//! as a pass: one tool version and policy; for shards, one split (count, list length, list
//! digest), each shard once, all of them (unless `partial`), and each holding every image of
//! its slice (linted or listed as unreadable).

use std::collections::BTreeSet;

use crate::{Report, Shard};
use vhdlint_rules::{Profile, Summary};

/// Why reports cannot be merged. Each names the report (as given) it is about.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("no report to merge")]
    NoReport,
    #[error("{path} was written by vhdlint {version}, {first} by {first_version}: merge reports of one version")]
    Version {
        path: String,
        version: String,
        first: String,
        first_version: String,
    },
    #[error("{path} was linted under policy \"{policy}\", {first} under \"{first_policy}\": merge reports of one policy")]
    Policy {
        path: String,
        policy: String,
        first: String,
        first_policy: String,
    },
    #[error("{path} is not a shard (no `shard` in it) but other reports are: merge the shards of one split, or whole runs")]
    NotAShard { path: String },
    #[error("{path} is shard {index} of {count} over a list of {list} (digest {digest}), {first} is of another split: merge the shards of one split")]
    Split {
        path: String,
        index: usize,
        count: usize,
        list: usize,
        digest: String,
        first: String,
    },
    #[error("{path}: shard {index} of {count} is out of range")]
    OutOfRange {
        path: String,
        index: usize,
        count: usize,
    },
    #[error("shard {index} of {count} is given twice: {first} and {path}")]
    Twice {
        index: usize,
        count: usize,
        first: String,
        path: String,
    },
    #[error("shard {missing} of {count} missing: its images were not linted, so the merge would not be the whole list's verdicts (--partial renders the shards given)")]
    Missing { missing: String, count: usize },
    #[error("{path} is shard {index} of {count} over a list of {list}, which holds {expected} image(s), but it reports {actual} (linted or unreadable): not the whole slice")]
    Incomplete {
        path: String,
        index: usize,
        count: usize,
        list: usize,
        expected: usize,
        actual: usize,
    },
    #[error("{path} reports no image")]
    Empty { path: String },
}

/// One report from `inputs` (each with the name it was read from, for errors): images in list
/// order (shards by their index, other reports in the order given), each image's summary
/// recomputed from its results, unreadable images and expired waivers kept, `deny_warnings` if
/// any run had it. `partial`: shards need not be all there (a worker's own report); a lone
/// shard keeps its `shard`.
pub fn merge(inputs: Vec<(String, Report)>, partial: bool) -> Result<Report, MergeError> {
    let Some((first, head)) = inputs.first() else {
        return Err(MergeError::NoReport);
    };
    for (path, r) in &inputs[1..] {
        if r.tool.version != head.tool.version {
            return Err(MergeError::Version {
                path: path.clone(),
                version: r.tool.version.to_string(),
                first: first.clone(),
                first_version: head.tool.version.to_string(),
            });
        }
        if r.policy != head.policy {
            return Err(MergeError::Policy {
                path: path.clone(),
                policy: r.policy.clone(),
                first: first.clone(),
                first_policy: head.policy.clone(),
            });
        }
    }
    let single = inputs.len() == 1;
    let inputs = in_list_order(inputs, partial)?;
    let mut merged = Report::new(&inputs[0].1.policy, Vec::new());
    merged.tool = inputs[0].1.tool.clone();
    if partial && single {
        merged.shard = inputs[0].1.shard.clone();
    }
    for (_, r) in inputs {
        merged.deny_warnings |= r.deny_warnings;
        merged.images.extend(r.images);
        merged.unreadable.extend(r.unreadable);
        merged.expired_waivers.extend(r.expired_waivers);
    }
    for i in &mut merged.images {
        i.summary = Summary::of(&i.checks);
    }
    Ok(merged)
}

/// The reports in the order of the list they were cut from (see [`merge`]).
fn in_list_order(
    mut inputs: Vec<(String, Report)>,
    partial: bool,
) -> Result<Vec<(String, Report)>, MergeError> {
    let shards = inputs.iter().filter(|(_, r)| r.shard.is_some()).count();
    if shards == 0 {
        if let Some((path, _)) = inputs
            .iter()
            .find(|(_, r)| r.images.is_empty() && r.unreadable.is_empty())
        {
            return Err(MergeError::Empty { path: path.clone() });
        }
        return Ok(inputs);
    }
    if let Some((path, _)) = inputs.iter().find(|(_, r)| r.shard.is_none()) {
        return Err(MergeError::NotAShard { path: path.clone() });
    }
    let split = |s: &Shard| (s.count, s.list, s.list_digest.clone());
    let head = inputs[0].1.shard.clone().expect("all are shards");
    for (path, r) in &inputs {
        let s = r.shard.as_ref().expect("all are shards");
        if split(s) != split(&head) {
            return Err(MergeError::Split {
                path: path.clone(),
                index: s.index,
                count: s.count,
                list: s.list,
                digest: s.list_digest.clone().unwrap_or_else(|| "none".into()),
                first: inputs[0].0.clone(),
            });
        }
    }
    let count = head.count;
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for (path, r) in &inputs {
        let s = r.shard.as_ref().expect("all are shards");
        if s.index >= count {
            return Err(MergeError::OutOfRange {
                path: path.clone(),
                index: s.index,
                count,
            });
        }
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == s.index) {
            return Err(MergeError::Twice {
                index: s.index,
                count,
                first: (*other).to_string(),
                path: path.clone(),
            });
        }
        seen.push((s.index, path));
        // Every image of its slice: linted, or listed as unreadable (a SAS URI that could not
        // be read is both: its publish entry is not an image of the list).
        let expected = Shard::range(s.index, count, s.list).len();
        let actual = r
            .images
            .iter()
            .filter(|i| i.profile != Profile::Publish)
            .count()
            + r.unreadable.len();
        if actual != expected {
            return Err(MergeError::Incomplete {
                path: path.clone(),
                index: s.index,
                count,
                list: s.list,
                expected,
                actual,
            });
        }
    }
    if !partial && seen.len() < count {
        let present: BTreeSet<usize> = seen.iter().map(|(k, _)| *k).collect();
        // At most ten named; the loop passes at most `present.len()` indices that are there.
        let missing: Vec<String> = (0..count)
            .filter(|k| !present.contains(k))
            .take(10)
            .map(|k| k.to_string())
            .collect();
        let more = count - present.len() > missing.len();
        return Err(MergeError::Missing {
            missing: missing.join(", ") + if more { ", …" } else { "" },
            count,
        });
    }
    inputs.sort_by_key(|(_, r)| r.shard.as_ref().map(|s| s.index));
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vhdlint_rules::{Generation, ImageReport};

    fn image(path: &str) -> ImageReport {
        ImageReport {
            path: path.into(),
            void: None,
            profile: Profile::DataDisk,
            profile_reason: String::new(),
            generation: Some(Generation::Auto),
            facts: Default::default(),
            summary: Summary::default(),
            checks: Vec::new(),
            timings: None,
        }
    }

    /// Shard `index` of `count` over a list of 5, with the images of its slice.
    fn shard(index: usize, count: usize) -> (String, Report) {
        let range = Shard::range(index, count, 5);
        let images = range.map(|k| image(&format!("{k}.vhd"))).collect();
        let mut r = Report::new("guide", images);
        r.shard = Some(Shard {
            index,
            count,
            list: 5,
            list_digest: Some("d".into()),
        });
        (format!("s{index}.json"), r)
    }

    fn err(inputs: Vec<(String, Report)>) -> String {
        merge(inputs, false).unwrap_err().to_string()
    }

    #[test]
    fn shards_are_put_in_order_and_must_be_whole() {
        let m = merge(vec![shard(2, 3), shard(0, 3), shard(1, 3)], false).unwrap();
        let paths: Vec<&str> = m.images.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["0.vhd", "1.vhd", "2.vhd", "3.vhd", "4.vhd"]);
        assert!(m.shard.is_none());
        assert!(err(vec![shard(2, 3), shard(0, 3)]).contains("shard 1 of 3 missing"));
        assert!(err(vec![shard(0, 2), shard(0, 2), shard(1, 2)]).contains("given twice"));
        assert!(err(vec![shard(0, 2), shard(1, 3)]).contains("one split"));
        let mut other_list = shard(1, 2);
        other_list.1.shard.as_mut().unwrap().list_digest = Some("e".into());
        assert!(err(vec![shard(0, 2), other_list]).contains("one split"));
        let mut whole = shard(0, 1);
        whole.1.shard = None;
        assert!(err(vec![shard(0, 1), whole]).contains("not a shard"));
        // A shard that lost an image of its slice.
        let mut short = shard(1, 2);
        short.1.images.pop();
        assert!(err(vec![shard(0, 2), short]).contains("not the whole slice"));
        // ... unless it is listed as unreadable.
        let mut listed = shard(1, 2);
        let gone = listed.1.images.pop().unwrap();
        listed.1.unreadable.push(crate::Unreadable {
            path: gone.path,
            error: "cannot open".into(),
        });
        assert!(merge(vec![shard(0, 2), listed], false).is_ok());
    }

    #[test]
    fn partial_renders_the_shards_given() {
        let m = merge(vec![shard(1, 3)], true).unwrap();
        assert_eq!(m.shard.as_ref().map(|s| s.index), Some(1));
        assert!(merge(vec![shard(1, 3)], false).is_err());
        assert!(merge(vec![shard(2, 3), shard(0, 3)], true).is_ok());
    }

    #[test]
    fn hostile_counts_neither_allocate_nor_loop() {
        let (p, mut r) = shard(0, 1);
        r.shard = Some(Shard {
            index: 0,
            count: usize::MAX,
            list: usize::MAX,
            list_digest: None,
        });
        let e = merge(vec![(p, r)], false).unwrap_err().to_string();
        assert!(
            e.contains("not the whole slice") || e.contains("missing"),
            "{e}"
        );
        let (p, mut r) = shard(0, 1);
        r.shard = Some(Shard {
            index: usize::MAX,
            count: 3,
            list: 5,
            list_digest: None,
        });
        assert!(merge(vec![(p, r)], false)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }

    #[test]
    fn one_policy_one_version_and_no_empty_run() {
        let (p, mut r) = shard(1, 2);
        r.policy = "current".into();
        assert!(err(vec![shard(0, 2), (p, r)]).contains("policy"));
        let (p, mut r) = shard(1, 2);
        r.tool.version = "0.0.1";
        assert!(err(vec![shard(0, 2), (p, r)]).contains("version"));
        assert!(
            err(vec![("e.json".into(), Report::new("guide", Vec::new()))]).contains("no image")
        );
        assert_eq!(merge(Vec::new(), false).unwrap_err(), MergeError::NoReport);
    }
}
