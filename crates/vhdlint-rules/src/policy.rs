//! Policies: the thresholds of the catalogue. `guide` is the Azure Marketplace VM image guide
//! and its Certification Test Tool; `current` is today's certification (LISA
//! `AzureImageStandard` and the Marketplace certification FAQ). A TOML file starts from
//! either and overrides thresholds.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// How a rule that the policies treat differently reports a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Fail,
    Warning,
}

/// An allowed range of sizes in GiB (binary, as Azure's disk documentation uses them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SizeRange {
    pub min_gib: f64,
    pub max_gib: f64,
    /// What a size above the maximum gets.
    pub above_max: Level,
}

/// Every threshold a check takes from the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// `guide`, `current`, or the file's name.
    pub name: String,
    pub linux_os_size: SizeRange,
    pub windows_os_size: SizeRange,
    /// Largest data disk, in GiB.
    pub data_disk_max_gib: f64,
    /// Smallest virtual size, in bytes.
    pub min_size_bytes: u64,
    /// What a partition starting inside the first MiB of an OS disk gets.
    pub first_mib: Level,
    /// Zero-filled allocated bytes above which `disk/sparse` warns.
    pub sparse_reclaim_bytes: u64,
    /// Seconds a footer timestamp may lie in the future.
    pub future_timestamp_slack_secs: u64,
}

impl Policy {
    /// The Azure Marketplace VM image guide (the default).
    pub fn guide() -> Policy {
        Policy {
            name: "guide".into(),
            linux_os_size: SizeRange {
                min_gib: 30.0,
                max_gib: 50.0,
                above_max: Level::Warning,
            },
            windows_os_size: SizeRange {
                min_gib: 127.0,
                max_gib: 128.0,
                above_max: Level::Fail,
            },
            data_disk_max_gib: 1024.0,
            min_size_bytes: 20 << 20,
            first_mib: Level::Warning,
            sparse_reclaim_bytes: 1 << 30,
            future_timestamp_slack_secs: 1800,
        }
    }

    /// Today's certification.
    pub fn current() -> Policy {
        Policy {
            name: "current".into(),
            linux_os_size: SizeRange {
                min_gib: 1.0,
                max_gib: 1023.0,
                above_max: Level::Fail,
            },
            windows_os_size: SizeRange {
                min_gib: 30.0,
                max_gib: 250.0,
                above_max: Level::Fail,
            },
            data_disk_max_gib: 1023.0,
            first_mib: Level::Fail,
            ..Policy::guide()
        }
    }

    /// `guide`, `current`, or a path to a TOML policy file.
    pub fn load(spec: &str) -> Result<Policy, PolicyError> {
        match spec {
            "guide" => Ok(Policy::guide()),
            "current" => Ok(Policy::current()),
            path => {
                let p = Path::new(path);
                let text = std::fs::read_to_string(p).map_err(|e| PolicyError::Read {
                    path: path.into(),
                    source: e,
                })?;
                Policy::from_toml(&text, path)
            }
        }
    }

    /// Parses a policy file: `extends = "guide" | "current"` and any thresholds to override.
    pub fn from_toml(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let f: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: origin.into(),
            message: e.to_string(),
        })?;
        let mut p = match f.extends.as_deref().unwrap_or("guide") {
            "guide" => Policy::guide(),
            "current" => Policy::current(),
            other => {
                return Err(PolicyError::Parse {
                    path: origin.into(),
                    message: format!("extends = \"{other}\": expected \"guide\" or \"current\""),
                })
            }
        };
        p.name = f.name.unwrap_or_else(|| origin.to_string());
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = f.$field { p.$field = v; } )* };
        }
        set!(
            linux_os_size,
            windows_os_size,
            data_disk_max_gib,
            min_size_bytes,
            first_mib,
            sparse_reclaim_bytes,
            future_timestamp_slack_secs
        );
        Ok(p)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PolicyFile {
    extends: Option<String>,
    name: Option<String>,
    linux_os_size: Option<SizeRange>,
    windows_os_size: Option<SizeRange>,
    data_disk_max_gib: Option<f64>,
    min_size_bytes: Option<u64>,
    first_mib: Option<Level>,
    sparse_reclaim_bytes: Option<u64>,
    future_timestamp_slack_secs: Option<u64>,
}

/// A policy that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("policy file {path}: {message}")]
    Parse { path: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_base() {
        let p = Policy::from_toml(
            "extends = \"current\"\nlinux-os-size = { min-gib = 8, max-gib = 64, above-max = \"warning\" }\n",
            "mine.toml",
        )
        .unwrap();
        assert_eq!(p.linux_os_size.min_gib, 8.0);
        assert_eq!(p.first_mib, Level::Fail);
        assert_eq!(p.name, "mine.toml");
    }

    #[test]
    fn unknown_key_names_line() {
        let e =
            Policy::from_toml("extends = \"guide\"\nfirst-mb = \"fail\"\n", "x.toml").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("first-mb") && s.contains("line 2"), "{s}");
    }
}
