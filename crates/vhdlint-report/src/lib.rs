//! The report of a run and its renderers: `table` (the Certification Tool's layout), `json`
//! (the public report contract), HTML, Markdown, JUnit XML, SARIF, and CI annotations (GitHub
//! Actions, Azure Pipelines).

use serde::{Deserialize, Serialize};
use vhdlint_rules::{ImageReport, Status, Summary};

pub mod annotations;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod sarif;
pub mod table;

/// The tool that made the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub name: vhdlint_disk::static_str::Interned,
    #[serde(deserialize_with = "vhdlint_disk::static_str::deserialize")]
    pub version: vhdlint_disk::static_str::Interned,
}

/// A whole run: one entry per image. Field names are a public interface.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub tool: Tool,
    pub policy: String,
    pub images: Vec<ImageReport>,
    /// Images of the list that could not be opened or read at all (the run exits 2): they
    /// have no verdicts. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    /// Waivers that matched a result but had expired, and so were ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_waivers: Vec<vhdlint_rules::config::ExpiredWaiver>,
    /// The part of a longer image list this run linted (`check --shard`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The run exits 1 on warnings too (`--deny-warnings`, or the configuration's
    /// `deny_warnings`): `merge` gives the same exit code. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_warnings: bool,
}

/// One of N contiguous slices of an image list (`check --shard K/N`): `index` is 0-based,
/// `list` the number of images in the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
    pub list: usize,
    /// What identifies the whole list ([`list_digest`]): shards of one split share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_digest: Option<String>,
}

impl Shard {
    /// The items of a list of `list` that shard `index` of `count` holds: `index·list/count`
    /// up to `(index+1)·list/count` (contiguous, near-equal, in list order). Empty when
    /// `index` is not below `count`.
    pub fn range(index: usize, count: usize, list: usize) -> std::ops::Range<usize> {
        if count == 0 || index >= count {
            return 0..0;
        }
        let at = |k: usize| {
            usize::try_from(k as u128 * list as u128 / count as u128).unwrap_or(usize::MAX)
        };
        at(index)..at(index + 1)
    }
}

/// A digest of an image list (FNV-1a, 64 bits, of each entry and a line break, in order;
/// entries with their SAS signatures hidden): the same list gives the same digest on every
/// worker, a different list (another order, an image more or less) another one.
pub fn list_digest<'a>(entries: impl IntoIterator<Item = &'a str>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for e in entries {
        for b in vhdlint_disk::sas::redact(e).bytes().chain([b'\n']) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// An image of the list that could not be opened or read at all, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub path: String,
    pub error: String,
}

impl Report {
    pub fn new(policy: &str, images: Vec<ImageReport>) -> Self {
        Report {
            tool: Tool {
                name: "vhdlint",
                version: env!("CARGO_PKG_VERSION"),
            },
            policy: policy.to_string(),
            images,
            unreadable: Vec::new(),
            expired_waivers: Vec::new(),
            shard: None,
            deny_warnings: false,
        }
    }

    /// Counts over every image.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for i in &self.images {
            s.pass += i.summary.pass;
            s.fail += i.summary.fail;
            s.warning += i.summary.warning;
            s.skipped += i.summary.skipped;
            s.error += i.summary.error;
        }
        s
    }

    /// Whether any check not waived has this status.
    pub fn any(&self, status: Status) -> bool {
        self.images
            .iter()
            .flat_map(|i| &i.checks)
            .any(|c| c.status == status && c.waived.is_none())
    }

    /// The JSON report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report model always serializes")
    }
}
