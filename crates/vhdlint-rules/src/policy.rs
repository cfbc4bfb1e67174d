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

impl Level {
    pub fn status(self) -> crate::check::Status {
        match self {
            Level::Fail => crate::check::Status::Fail,
            Level::Warning => crate::check::Status::Warning,
        }
    }
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

/// The name of the Azure Marketplace VM image guide's policy.
pub const GUIDE: &str = "guide";
/// The name of today's certification's policy.
pub const CURRENT: &str = "current";
/// Both policies: what most checks are part of.
pub const ALL: &[&str] = &[GUIDE, CURRENT];

/// Every threshold a check takes from the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// `guide`, `current`, or the file's name.
    pub name: String,
    /// The policy it is or extends: [`GUIDE`] or [`CURRENT`]. It decides which checks run
    /// ([`crate::CheckMeta::policies`]).
    pub base: &'static str,
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
    /// Shell history: larger files fail (guide: over 1 KB; current: any non-empty one).
    pub history_fail_above_bytes: u64,
    /// sshd ClientAliveInterval: the accepted range in seconds, and the recommended value.
    pub client_alive_min: u64,
    pub client_alive_max: u64,
    pub client_alive_recommended: Option<u64>,
    /// What waagent.conf without RegenerateSshHostKeyPair=y / DeleteRootPassword=y gets.
    pub agent_config: Level,
    /// What a boot line without earlyprintk=ttyS0 or rootdelay=300 gets.
    pub boot_extras: Level,
    /// Lowest Azure Linux Agent version accepted when auto-update is off (none: report only).
    pub agent_min_version: Option<String>,
    /// Python: fail below, warn below (e.g. 3.9 and 3.10: 3.9 warns), and whether a missing
    /// pyasn1 warns.
    pub python_fail_below: String,
    pub python_warn_below: Option<String>,
    pub python_pyasn1: bool,
    /// OpenSSL: fail below, except these exact versions.
    pub openssl_fail_below: String,
    pub openssl_allowed_older: Vec<String>,
    /// SAS URIs: how many minutes before now the start time must lie (clock skew).
    pub sas_start_skew_minutes: u64,
    /// SAS URIs: the least time from start to expiry, in days (business days when
    /// `sas_expiry_business_days`), and what a shorter one gets.
    pub sas_expiry_min_days: u32,
    pub sas_expiry_business_days: bool,
    pub sas_expiry: Level,
    /// SAS URIs: what an http (not https) URI gets; none: accepted (the guide's own steps
    /// make http URIs).
    pub sas_http: Option<Level>,
}

impl Policy {
    /// The Azure Marketplace VM image guide (the default).
    pub fn guide() -> Policy {
        Policy {
            name: GUIDE.into(),
            base: GUIDE,
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
            history_fail_above_bytes: 1024,
            client_alive_min: 30,
            client_alive_max: 235,
            client_alive_recommended: Some(180),
            agent_config: Level::Fail,
            boot_extras: Level::Fail,
            agent_min_version: None,
            python_fail_below: "2.6".into(),
            python_warn_below: None,
            python_pyasn1: true,
            openssl_fail_below: "1.0".into(),
            openssl_allowed_older: Vec::new(),
            sas_start_skew_minutes: 15,
            sas_expiry_min_days: 7,
            sas_expiry_business_days: true,
            sas_expiry: Level::Fail,
            sas_http: None,
        }
    }

    /// Today's certification.
    pub fn current() -> Policy {
        Policy {
            name: CURRENT.into(),
            base: CURRENT,
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
            history_fail_above_bytes: 0,
            client_alive_min: 1,
            client_alive_recommended: None,
            agent_config: Level::Warning,
            boot_extras: Level::Warning,
            agent_min_version: Some("2.2.53.1".into()),
            python_fail_below: "3.9".into(),
            python_warn_below: Some("3.10".into()),
            python_pyasn1: false,
            openssl_fail_below: "3.0.0".into(),
            openssl_allowed_older: vec!["1.1.1".into(), "1.0.2".into()],
            sas_start_skew_minutes: 0,
            sas_expiry_min_days: 21,
            sas_expiry_business_days: false,
            sas_expiry: Level::Warning,
            sas_http: Some(Level::Warning),
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
            future_timestamp_slack_secs,
            history_fail_above_bytes,
            client_alive_min,
            client_alive_max,
            agent_config,
            boot_extras,
            python_fail_below,
            python_pyasn1,
            openssl_fail_below,
            openssl_allowed_older,
            sas_start_skew_minutes,
            sas_expiry_min_days,
            sas_expiry_business_days,
            sas_expiry
        );
        if let Some(v) = f.client_alive_recommended {
            p.client_alive_recommended = (v > 0).then_some(v);
        }
        if let Some(v) = f.agent_min_version {
            p.agent_min_version = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = f.python_warn_below {
            p.python_warn_below = (!v.is_empty()).then_some(v);
        }
        if f.sas_http.is_some() {
            p.sas_http = f.sas_http;
        }
        let out_of_range = |what: &str, v: u64, max: u64| -> Result<(), PolicyError> {
            if v > max {
                return Err(PolicyError::Parse {
                    path: origin.into(),
                    message: format!("{what} = {v}: at most {max}"),
                });
            }
            Ok(())
        };
        out_of_range("sas-expiry-min-days", u64::from(p.sas_expiry_min_days), 366)?;
        out_of_range(
            "sas-start-skew-minutes",
            p.sas_start_skew_minutes,
            7 * 24 * 60,
        )?;
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
    history_fail_above_bytes: Option<u64>,
    client_alive_min: Option<u64>,
    client_alive_max: Option<u64>,
    /// 0 turns the recommendation off.
    client_alive_recommended: Option<u64>,
    agent_config: Option<Level>,
    boot_extras: Option<Level>,
    /// "" turns the minimum off.
    agent_min_version: Option<String>,
    python_fail_below: Option<String>,
    python_warn_below: Option<String>,
    python_pyasn1: Option<bool>,
    openssl_fail_below: Option<String>,
    openssl_allowed_older: Option<Vec<String>>,
    sas_start_skew_minutes: Option<u64>,
    sas_expiry_min_days: Option<u32>,
    sas_expiry_business_days: Option<bool>,
    sas_expiry: Option<Level>,
    sas_http: Option<Level>,
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
