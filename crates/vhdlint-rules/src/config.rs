//! The `vhdlint.toml` configuration file, waivers and questionnaire answers.
//!
//! Unknown keys and bad values are errors that name the file and the line (TOML's own error
//! positions); command-line flags win over the file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::check::{CheckResult, Status};
use crate::policy::Level;

/// `vhdlint.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `guide`, `current`, or a policy file (relative to the config file).
    pub policy: Option<String>,
    /// `auto`, `linux-os`, `windows-os`, `data-disk`.
    pub profile: Option<String>,
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    pub deny_warnings: Option<bool>,
    /// A waivers file (relative to the config file).
    pub waivers: Option<String>,
    /// A questionnaire answers file (relative to the config file).
    pub questionnaire: Option<String>,
    /// Per check ID (or `prefix/*`): the status its failures and warnings are reported with.
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, Level>,
}

/// A configuration, waiver or answers file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, path: &Path) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_string(),
    })
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::parse(&read(path)?, path)
    }

    /// Parses the text of a configuration file read from `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let c: Config = parse(text, path)?;
        for id in c.severity.keys() {
            if !crate::CATALOGUE
                .iter()
                .any(|k| crate::runner::matches(id, k.id))
            {
                return Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    message: format!("[severity] \"{id}\" matches no check (see `vhdlint rules`)"),
                });
            }
        }
        Ok(c)
    }
}

/// Settles one image's report as the configuration asks: only the selected checks, severity
/// overrides, waivers (with their expiry against `today`), and the summary counted again.
/// Returns the waivers that expired.
pub fn settle(
    report: &mut crate::ImageReport,
    selection: &crate::Selection,
    severity: &std::collections::BTreeMap<String, Level>,
    waivers: &[Waiver],
    today: &str,
) -> Vec<ExpiredWaiver> {
    report.checks.retain(|c| selection.includes(c.id));
    apply_severity(&mut report.checks, severity);
    let expired = apply_waivers(&report.path, &mut report.checks, waivers, today);
    report.summary = crate::Summary::of(&report.checks);
    expired
}

/// Applies `[severity]` overrides to failures and warnings (pass, skipped and error stay).
pub fn apply_severity(
    results: &mut [CheckResult],
    severity: &std::collections::BTreeMap<String, Level>,
) {
    for r in results
        .iter_mut()
        .filter(|r| matches!(r.status, Status::Fail | Status::Warning))
    {
        if let Some((_, level)) = severity
            .iter()
            .filter(|(p, _)| crate::runner::matches(p, r.id))
            .max_by_key(|(p, _)| p.len())
        {
            r.status = level.status();
        }
    }
}

/// One waiver.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// A check ID or `prefix/*`.
    pub check: String,
    /// The image file name (or path) it applies to; all images when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Why the result is acceptable: the explanation the Certification Tool asks for.
    pub justification: String,
    /// Last day the waiver applies, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default)]
    waiver: Vec<Waiver>,
}

/// Loads a waivers file (`[[waiver]]` tables).
pub fn load_waivers(path: &Path) -> Result<Vec<Waiver>, ConfigError> {
    parse_waivers(&read(path)?, path)
}

/// Parses and validates the text of a waivers file read from `path` (named in errors).
pub fn parse_waivers(text: &str, path: &Path) -> Result<Vec<Waiver>, ConfigError> {
    let f: WaiverFile = parse(text, path)?;
    for w in &f.waiver {
        let bad = |m: String| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: m,
            })
        };
        if w.justification.trim().is_empty() {
            return bad(format!("the waiver for {} has no justification", w.check));
        }
        if !crate::CATALOGUE
            .iter()
            .any(|k| crate::runner::matches(&w.check, k.id))
        {
            return bad(format!(
                "the waiver for \"{}\" matches no check (see `vhdlint rules`)",
                w.check
            ));
        }
        if let Some(e) = &w.expires {
            if parse_date(e).is_none() {
                return bad(format!(
                    "the waiver for {} expires on \"{e}\", not a YYYY-MM-DD date",
                    w.check
                ));
            }
        }
    }
    Ok(f.waiver)
}

fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let (y, m, d) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    // A real day: the date survives the round trip through a day count (2027-02-30 does not).
    let real = (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && crate::publish::time::civil_from_days(crate::publish::time::days_from_civil(
            i64::from(y),
            m,
            d,
        )) == (i64::from(y), m, d);
    (s.trim().len() == 10 && real).then_some((y, m, d))
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let (y, m, d) =
        crate::publish::time::civil_from_days(crate::publish::time::now().div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A waiver that had expired and was ignored. In JSON: the waiver's `check`, `justification`
/// and `expires`, and the `image` it matched (which a waiver's own `image`, when it has one,
/// names too).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "ExpiredWaiverJson", from = "ExpiredWaiverJson")]
pub struct ExpiredWaiver {
    pub waiver: Waiver,
    pub image: String,
}

#[derive(Serialize, Deserialize)]
struct ExpiredWaiverJson {
    check: String,
    image: String,
    justification: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

impl From<ExpiredWaiver> for ExpiredWaiverJson {
    fn from(e: ExpiredWaiver) -> Self {
        ExpiredWaiverJson {
            check: e.waiver.check,
            image: e.image,
            justification: e.waiver.justification,
            expires: e.waiver.expires,
        }
    }
}

impl From<ExpiredWaiverJson> for ExpiredWaiver {
    fn from(j: ExpiredWaiverJson) -> Self {
        ExpiredWaiver {
            waiver: Waiver {
                check: j.check,
                image: Some(j.image.clone()),
                justification: j.justification,
                expires: j.expires,
            },
            image: j.image,
        }
    }
}

/// Marks the results the waivers accept (failures, warnings and errors: not passes or skips)
/// and returns the waivers that matched but had expired (they are ignored).
pub fn apply_waivers(
    image: &str,
    results: &mut [CheckResult],
    waivers: &[Waiver],
    today: &str,
) -> Vec<ExpiredWaiver> {
    let name = Path::new(image)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut expired = Vec::new();
    for r in results
        .iter_mut()
        .filter(|r| matches!(r.status, Status::Fail | Status::Warning | Status::Error))
    {
        for w in waivers
            .iter()
            .filter(|w| crate::runner::matches(&w.check, r.id))
        {
            if w.image.as_deref().is_some_and(|i| i != image && i != name) {
                continue;
            }
            if w.expires.as_deref().is_some_and(|e| e < today) {
                expired.push(ExpiredWaiver {
                    waiver: w.clone(),
                    image: image.to_string(),
                });
                continue;
            }
            r.waived = Some(w.justification.clone());
            break;
        }
    }
    expired
}

/// Questionnaire answers: `[[answer]] question = "…" answer = "…"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerFile {
    #[serde(default)]
    answer: Vec<Answer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    question: String,
    answer: String,
}

/// Loads the publisher's answers to the questions the Certification Tool asks.
pub fn load_questionnaire(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    parse_questionnaire(&read(path)?, path)
}

/// Parses the text of a questionnaire answers file read from `path` (named in errors).
pub fn parse_questionnaire(text: &str, path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let f: AnswerFile = parse(text, path)?;
    Ok(f.answer
        .into_iter()
        .map(|a| (a.question, a.answer))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert!(parse_date(&t).is_some());
        assert!(parse_date("2027-13-01").is_none());
        assert!(parse_date("2027-1-1").is_none());
        assert!(parse_date("2027-02-30").is_none());
        assert!(parse_date("2028-02-29").is_some());
        assert!(parse_date("2027-02-29").is_none());
    }

    #[test]
    fn unknown_key_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vhdlint.toml");
        std::fs::write(&p, "policy = \"guide\"\nselcet = [\"disk/*\"]\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("selcet") && e.contains("line 2"), "{e}");
    }
}
