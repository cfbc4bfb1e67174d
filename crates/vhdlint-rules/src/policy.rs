//! Policies: the thresholds of the catalogue. `guide` is the Azure Marketplace VM image guide
//! and its Certification Test Tool; `current` is today's certification (LISA
//! `AzureImageStandard` and the Marketplace certification FAQ).
//!
//! Each check that takes thresholds declares them beside its logic, as a `Thresholds` type with
//! a `guide()` and a `current()` value. A policy is one section per such check, named by the
//! check's ID. A TOML file starts from either policy (`extends`) and overrides any key of any
//! section:
//!
//! ```toml
//! extends = "current"
//! ["linux/ssh-client-alive"]
//! recommended = 180
//! ["disk/os-size"]
//! linux = { max-gib = 64 }
//! ```
//!
//! Keys a file leaves out keep the value of the policy it extends (tables merge key by key), and
//! a key or section that does not exist is an error that names it and its line. The flat keys of
//! earlier versions (`first-mib = "fail"`, `linux-os-size = { … }`) are still read: [`FLAT_KEYS`]
//! says where each one goes.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::checks::{
    disk_data_size, disk_footer, disk_min_size, disk_os_size, disk_sparse, linux_agent_config,
    linux_agent_installed, linux_hyperv_drivers, linux_kernel_cmdline, linux_kernel_config,
    linux_network, linux_omi, linux_openssl, linux_python, linux_shell_history,
    linux_ssh_client_alive, partition_first_mib, publish_sas_uri, windows_roles,
};

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

/// A policy: its name, the policy it is or extends, and one section of thresholds per check
/// that takes any, named (in files and in `vhdlint explain`) by the check's ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// `guide`, `current`, or the file's name.
    #[serde(skip)]
    pub name: String,
    /// The policy it is or extends: [`GUIDE`] or [`CURRENT`]. It decides which checks run
    /// ([`crate::CheckMeta::policies`]).
    #[serde(skip)]
    pub base: &'static str,
    #[serde(rename = "disk/footer")]
    pub disk_footer: disk_footer::Thresholds,
    #[serde(rename = "disk/min-size")]
    pub disk_min_size: disk_min_size::Thresholds,
    #[serde(rename = "disk/os-size")]
    pub disk_os_size: disk_os_size::Thresholds,
    #[serde(rename = "disk/data-size")]
    pub disk_data_size: disk_data_size::Thresholds,
    #[serde(rename = "disk/sparse")]
    pub disk_sparse: disk_sparse::Thresholds,
    #[serde(rename = "partition/first-mib")]
    pub partition_first_mib: partition_first_mib::Thresholds,
    #[serde(rename = "linux/agent-config")]
    pub linux_agent_config: linux_agent_config::Thresholds,
    #[serde(rename = "linux/agent-installed")]
    pub linux_agent_installed: linux_agent_installed::Thresholds,
    #[serde(rename = "linux/hyperv-drivers")]
    pub linux_hyperv_drivers: linux_hyperv_drivers::Thresholds,
    #[serde(rename = "linux/kernel-cmdline")]
    pub linux_kernel_cmdline: linux_kernel_cmdline::Thresholds,
    #[serde(rename = "linux/kernel-config")]
    pub linux_kernel_config: linux_kernel_config::Thresholds,
    #[serde(rename = "linux/omi")]
    pub linux_omi: linux_omi::Thresholds,
    #[serde(rename = "linux/network")]
    pub linux_network: linux_network::Thresholds,
    #[serde(rename = "linux/openssl")]
    pub linux_openssl: linux_openssl::Thresholds,
    #[serde(rename = "linux/python")]
    pub linux_python: linux_python::Thresholds,
    #[serde(rename = "linux/shell-history")]
    pub linux_shell_history: linux_shell_history::Thresholds,
    #[serde(rename = "linux/ssh-client-alive")]
    pub linux_ssh_client_alive: linux_ssh_client_alive::Thresholds,
    #[serde(rename = "windows/roles")]
    pub windows_roles: windows_roles::Thresholds,
    #[serde(rename = "publish/sas-uri")]
    pub publish_sas_uri: publish_sas_uri::Thresholds,
}

impl Policy {
    /// The Azure Marketplace VM image guide (the default).
    pub fn guide() -> Policy {
        Policy {
            name: GUIDE.into(),
            base: GUIDE,
            disk_footer: disk_footer::Thresholds::guide(),
            disk_min_size: disk_min_size::Thresholds::guide(),
            disk_os_size: disk_os_size::Thresholds::guide(),
            disk_data_size: disk_data_size::Thresholds::guide(),
            disk_sparse: disk_sparse::Thresholds::guide(),
            partition_first_mib: partition_first_mib::Thresholds::guide(),
            linux_agent_config: linux_agent_config::Thresholds::guide(),
            linux_agent_installed: linux_agent_installed::Thresholds::guide(),
            linux_hyperv_drivers: linux_hyperv_drivers::Thresholds::guide(),
            linux_kernel_cmdline: linux_kernel_cmdline::Thresholds::guide(),
            linux_kernel_config: linux_kernel_config::Thresholds::guide(),
            linux_omi: linux_omi::Thresholds::guide(),
            linux_network: linux_network::Thresholds::guide(),
            linux_openssl: linux_openssl::Thresholds::guide(),
            linux_python: linux_python::Thresholds::guide(),
            linux_shell_history: linux_shell_history::Thresholds::guide(),
            linux_ssh_client_alive: linux_ssh_client_alive::Thresholds::guide(),
            windows_roles: windows_roles::Thresholds::guide(),
            publish_sas_uri: publish_sas_uri::Thresholds::guide(),
        }
    }

    /// Today's certification.
    pub fn current() -> Policy {
        Policy {
            name: CURRENT.into(),
            base: CURRENT,
            disk_footer: disk_footer::Thresholds::current(),
            disk_min_size: disk_min_size::Thresholds::current(),
            disk_os_size: disk_os_size::Thresholds::current(),
            disk_data_size: disk_data_size::Thresholds::current(),
            disk_sparse: disk_sparse::Thresholds::current(),
            partition_first_mib: partition_first_mib::Thresholds::current(),
            linux_agent_config: linux_agent_config::Thresholds::current(),
            linux_agent_installed: linux_agent_installed::Thresholds::current(),
            linux_hyperv_drivers: linux_hyperv_drivers::Thresholds::current(),
            linux_kernel_cmdline: linux_kernel_cmdline::Thresholds::current(),
            linux_kernel_config: linux_kernel_config::Thresholds::current(),
            linux_omi: linux_omi::Thresholds::current(),
            linux_network: linux_network::Thresholds::current(),
            linux_openssl: linux_openssl::Thresholds::current(),
            linux_python: linux_python::Thresholds::current(),
            linux_shell_history: linux_shell_history::Thresholds::current(),
            linux_ssh_client_alive: linux_ssh_client_alive::Thresholds::current(),
            windows_roles: windows_roles::Thresholds::current(),
            publish_sas_uri: publish_sas_uri::Thresholds::current(),
        }
    }

    /// `guide`, `current`, or a path to a TOML policy file.
    pub fn load(spec: &str) -> Result<Policy, PolicyError> {
        match spec {
            GUIDE => Ok(Policy::guide()),
            CURRENT => Ok(Policy::current()),
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

    /// Parses a policy file: `extends = "guide" | "current"`, an optional `name`, and the keys
    /// of any sections to override.
    pub fn from_toml(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let fail = |message: String| PolicyError::Parse {
            path: origin.into(),
            message,
        };
        let mut file = DeTable::parse(text).map_err(|e| fail(e.to_string()))?;
        let root = file.span();
        let file = file.get_mut();
        let extends = take_string(file, "extends", text).map_err(&fail)?;
        let name = take_string(file, "name", text).map_err(&fail)?;
        let base = match extends {
            None => Policy::guide(),
            Some((s, _)) if s == GUIDE => Policy::guide(),
            Some((s, _)) if s == CURRENT => Policy::current(),
            Some((other, line)) => {
                return Err(fail(format!(
                    "line {line}: extends = \"{other}\": expected \"guide\" or \"current\""
                )))
            }
        };
        move_flat_keys(file, text).map_err(&fail)?;
        // The base policy as TOML, the file's keys merged into it (keeping the file's spans, so
        // an error in the file names its line), read back as a policy.
        let base_text = toml::to_string(&base).map_err(|e| fail(e.to_string()))?;
        let mut merged = DeTable::parse(&base_text).map_err(|e| fail(e.to_string()))?;
        merge(merged.get_mut(), std::mem::take(file));
        let merged = Spanned::new(root, merged.into_inner());
        let mut p =
            Policy::deserialize(toml::de::Deserializer::from(merged)).map_err(|mut e| {
                e.set_input(Some(text));
                fail(e.to_string())
            })?;
        p.name = name.map_or_else(|| origin.to_string(), |(n, _)| n);
        p.base = base.base;
        p.validate().map_err(fail)?;
        Ok(p)
    }

    /// Values a section's type accepts but no check can use.
    fn validate(&self) -> Result<(), String> {
        self.disk_os_size.validate()?;
        self.linux_hyperv_drivers.validate()?;
        self.linux_ssh_client_alive.validate()?;
        self.publish_sas_uri.validate()
    }

    /// The thresholds check `id` takes, as the TOML section a policy file would hold; none when
    /// the check takes none.
    pub fn section(&self, id: &str) -> Option<String> {
        let all = toml::Table::try_from(self).ok()?;
        let mut one = toml::Table::new();
        one.insert(id.to_string(), all.get(id)?.clone());
        toml::to_string(&one).ok()
    }

    /// The IDs of the checks that take thresholds, in the order of the policy.
    pub fn section_ids(&self) -> Vec<String> {
        toml::Table::try_from(self)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The top-level keys of earlier versions' policy files, and the section and key each one is
/// now: `first-mib = "fail"` is read as `["partition/first-mib"] level = "fail"`. A key listed
/// more than once sets each of its keys (`boot-extras` was one level for every requirement beyond the console).
pub const FLAT_KEYS: &[(&str, &str, &str)] = &[
    ("linux-os-size", "disk/os-size", "linux"),
    ("windows-os-size", "disk/os-size", "windows"),
    ("data-disk-max-gib", "disk/data-size", "max-gib"),
    ("min-size-bytes", "disk/min-size", "min-bytes"),
    ("first-mib", "partition/first-mib", "level"),
    ("sparse-reclaim-bytes", "disk/sparse", "reclaim-bytes"),
    (
        "future-timestamp-slack-secs",
        "disk/footer",
        "future-slack-secs",
    ),
    (
        "history-fail-above-bytes",
        "linux/shell-history",
        "fail-above-bytes",
    ),
    ("client-alive-min", "linux/ssh-client-alive", "min"),
    ("client-alive-max", "linux/ssh-client-alive", "max"),
    (
        "client-alive-recommended",
        "linux/ssh-client-alive",
        "recommended",
    ),
    ("agent-config", "linux/agent-config", "level"),
    ("boot-extras", "linux/kernel-cmdline", "missing-earlyprintk"),
    ("boot-extras", "linux/kernel-cmdline", "missing-rootdelay"),
    ("boot-extras", "linux/kernel-cmdline", "short-rootdelay"),
    ("agent-min-version", "linux/agent-installed", "min-version"),
    ("python-fail-below", "linux/python", "fail-below"),
    ("python-warn-below", "linux/python", "warn-below"),
    ("python-pyasn1", "linux/python", "pyasn1"),
    ("openssl-fail-below", "linux/openssl", "fail-below"),
    ("openssl-allowed-older", "linux/openssl", "allowed-older"),
    (
        "sas-start-skew-minutes",
        "publish/sas-uri",
        "start-skew-minutes",
    ),
    ("sas-expiry-min-days", "publish/sas-uri", "expiry-min-days"),
    (
        "sas-expiry-business-days",
        "publish/sas-uri",
        "expiry-business-days",
    ),
    ("sas-expiry", "publish/sas-uri", "expiry"),
    ("sas-http", "publish/sas-uri", "http"),
];

/// The 1-based line of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    1 + text
        .as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
}

/// Removes top-level string key `key`; its value and line.
fn take_string(
    file: &mut DeTable<'_>,
    key: &str,
    text: &str,
) -> Result<Option<(String, usize)>, String> {
    let Some(v) = file.remove(key) else {
        return Ok(None);
    };
    let line = line_of(text, v.span().start);
    match v.get_ref().as_str() {
        Some(s) => Ok(Some((s.to_string(), line))),
        None => Err(format!("line {line}: {key} must be a string")),
    }
}

/// Moves the flat keys of earlier versions into their sections.
fn move_flat_keys(file: &mut DeTable<'_>, text: &str) -> Result<(), String> {
    for (i, &(flat, ..)) in FLAT_KEYS.iter().enumerate() {
        // A key listed more than once is taken at its first entry, for all of them.
        if FLAT_KEYS[..i].iter().any(|f| f.0 == flat) {
            continue;
        }
        let Some((k, v)) = file.remove_entry(flat) else {
            continue;
        };
        let line = line_of(text, k.span().start);
        for &(_, section, key) in FLAT_KEYS.iter().filter(|f| f.0 == flat) {
            let table = file
                .entry(Spanned::new(k.span(), section.into()))
                .or_insert_with(|| Spanned::new(k.span(), DeValue::Table(DeTable::new())));
            let DeValue::Table(table) = table.get_mut() else {
                return Err(format!("line {line}: {flat}: \"{section}\" is not a table"));
            };
            if table.contains_key(key) {
                return Err(format!(
                    "line {line}: {flat} and [\"{section}\"] {key} are the same threshold; give it once"
                ));
            }
            table.insert(Spanned::new(k.span(), key.into()), v.clone());
        }
    }
    Ok(())
}

/// Merges `over` into `base`: tables key by key, anything else replaced.
fn merge<'i>(base: &mut DeTable<'i>, over: DeTable<'i>) {
    for (key, value) in over {
        let span = value.span();
        let value = match (
            value.into_inner(),
            base.get_mut(key.get_ref().as_ref()).map(Spanned::get_mut),
        ) {
            (DeValue::Table(o), Some(DeValue::Table(b))) => {
                merge(b, o);
                continue;
            }
            (v, _) => v,
        };
        base.remove(key.get_ref().as_ref());
        base.insert(key, Spanned::new(span, value));
    }
}

/// `Option<u64>` written as a number, 0 for none.
pub(crate) mod zero_is_none {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.unwrap_or(0))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(Some(u64::deserialize(d)?).filter(|&v| v > 0))
    }
}

/// `Option<String>` written as a string, "" for none.
pub(crate) mod empty_is_none {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_deref().unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(String::deserialize(d)?).filter(|v| !v.is_empty()))
    }
}

/// `Option<Level>` written as "fail", "warning", or "accept" for none.
pub(crate) mod accept_is_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Level;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Written {
        Fail,
        Warning,
        Accept,
    }

    pub fn serialize<S: Serializer>(v: &Option<Level>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(Level::Fail) => Written::Fail,
            Some(Level::Warning) => Written::Warning,
            None => Written::Accept,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Level>, D::Error> {
        Ok(match Written::deserialize(d)? {
            Written::Fail => Some(Level::Fail),
            Written::Warning => Some(Level::Warning),
            Written::Accept => None,
        })
    }
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

    fn parse(text: &str) -> Result<Policy, String> {
        Policy::from_toml(text, "mine.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn a_section_overrides_the_policy_it_extends_key_by_key() {
        let p = parse(
            "extends = \"current\"\n[\"disk/os-size\"]\nlinux = { min-gib = 8, max-gib = 64 }\n",
        )
        .unwrap();
        let linux = p.disk_os_size.linux;
        assert_eq!((linux.min_gib, linux.max_gib), (8.0, 64.0));
        // Left out: the base's values.
        assert_eq!(
            linux.above_max,
            Policy::current().disk_os_size.linux.above_max
        );
        assert_eq!(
            p.disk_os_size.windows,
            Policy::current().disk_os_size.windows
        );
        assert_eq!(p.partition_first_mib, Policy::current().partition_first_mib);
        assert_eq!((p.name.as_str(), p.base), ("mine.toml", CURRENT));
    }

    #[test]
    fn an_empty_file_is_the_guide() {
        let p = parse("").unwrap();
        assert_eq!(
            p,
            Policy {
                name: "mine.toml".into(),
                ..Policy::guide()
            }
        );
        let p = parse("extends = \"current\"\nname = \"ours\"\n").unwrap();
        assert_eq!(
            p,
            Policy {
                name: "ours".into(),
                ..Policy::current()
            }
        );
    }

    #[test]
    fn the_flat_keys_of_earlier_versions_are_read_into_their_sections() {
        let p = parse(concat!(
            "extends = \"guide\"\n",
            "linux-os-size = { min-gib = 8, max-gib = 64, above-max = \"fail\" }\n",
            "first-mib = \"fail\"\n",
            "client-alive-recommended = 0\n",
            "agent-min-version = \"2.9\"\n",
            "python-warn-below = \"\"\n",
            "sas-http = \"fail\"\n",
            "boot-extras = \"warning\"\n",
        ))
        .unwrap();
        let cmdline = &p.linux_kernel_cmdline;
        assert_eq!(cmdline.missing_earlyprintk, Some(Level::Warning));
        assert_eq!(cmdline.missing_rootdelay, Some(Level::Warning));
        assert_eq!(cmdline.short_rootdelay, Some(Level::Warning));
        assert_eq!(p.disk_os_size.linux.max_gib, 64.0);
        assert_eq!(p.partition_first_mib.level, Level::Fail);
        assert_eq!(p.linux_ssh_client_alive.recommended, None);
        assert_eq!(p.linux_agent_installed.min_version.as_deref(), Some("2.9"));
        assert_eq!(p.linux_python.warn_below, None);
        assert_eq!(p.publish_sas_uri.http, Some(Level::Fail));
        // Every flat key names a section and a key that exist.
        let guide = toml::Table::try_from(Policy::guide()).unwrap();
        for (flat, section, key) in FLAT_KEYS {
            let s = guide.get(*section).and_then(|s| s.as_table());
            assert!(s.is_some_and(|s| s.contains_key(*key)), "{flat}");
        }
    }

    #[test]
    fn a_flat_key_and_its_section_key_together_are_an_error() {
        let e = parse("first-mib = \"fail\"\n[\"partition/first-mib\"]\nlevel = \"warning\"\n")
            .unwrap_err();
        assert!(e.contains("line 1") && e.contains("give it once"), "{e}");
    }

    #[test]
    fn unknown_keys_and_sections_name_their_line() {
        for (text, key, line) in [
            (
                "extends = \"guide\"\nfirst-mb = \"fail\"\n",
                "first-mb",
                "line 2",
            ),
            (
                "[\"linux/ssh-client-alive\"]\nmin = 1\nmaxx = 9\n",
                "maxx",
                "line 3",
            ),
            (
                "\n[\"linux/ssh-clientalive\"]\nmin = 1\n",
                "linux/ssh-clientalive",
                "line 2",
            ),
            (
                "[\"disk/os-size\"]\nlinux = { min-gb = 8 }\n",
                "min-gb",
                "line 2",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(key) && e.contains(line), "{text:?}: {e}");
        }
    }

    #[test]
    fn wrong_types_and_values_are_errors() {
        for (text, said) in [
            ("[\"linux/ssh-client-alive\"]\nmin = \"x\"\n", "line 2"),
            ("[\"partition/first-mib\"]\nlevel = \"maybe\"\n", "line 2"),
            ("\"linux/python\" = 3\n", "line 1"),
            (
                "extends = \"strict\"\n",
                "expected \"guide\" or \"current\"",
            ),
            ("extends = 1\n", "extends must be a string"),
            (
                "[\"publish/sas-uri\"]\nexpiry-min-days = 400\n",
                "expiry-min-days = 400",
            ),
            (
                "sas-start-skew-minutes = 100000\n",
                "start-skew-minutes = 100000",
            ),
            ("[\"linux/ssh-client-alive\"]\nmin = 300\n", "min = 300"),
            (
                "[\"disk/os-size\"]\nwindows = { min-gib = 300 }\n",
                "min-gib = 300",
            ),
            (
                "first-mib = \"fail\"\n\"partition/first-mib\" = 1\n",
                "not a table",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(said), "{text:?}: {e}");
        }
    }

    #[test]
    fn sentinels_turn_a_threshold_off_and_back_on() {
        let p = parse(concat!(
            "extends = \"current\"\n",
            "[\"publish/sas-uri\"]\nhttp = \"accept\"\n",
            "[\"linux/agent-installed\"]\nmin-version = \"\"\n",
            "[\"linux/ssh-client-alive\"]\nrecommended = 120\n",
        ))
        .unwrap();
        assert_eq!(p.publish_sas_uri.http, None);
        assert_eq!(p.linux_agent_installed.min_version, None);
        assert_eq!(p.linux_ssh_client_alive.recommended, Some(120));
    }

    #[test]
    fn both_policies_read_back_as_themselves() {
        for p in [Policy::guide(), Policy::current()] {
            let text = format!("extends = \"{}\"\n{}", p.base, toml::to_string(&p).unwrap());
            let q = Policy::from_toml(&text, &p.name).unwrap();
            assert_eq!(q, p);
            // And from the guide, every value given: the same policy.
            let text = format!("name = \"{}\"\n{}", p.name, toml::to_string(&p).unwrap());
            let q = Policy::from_toml(&text, "x").unwrap();
            assert_eq!(Policy { base: p.base, ..q }, p);
        }
    }

    #[test]
    fn every_section_is_a_check_that_documents_it() {
        let p = Policy::guide();
        let ids = p.section_ids();
        assert_eq!(ids.len(), 19);
        for id in &ids {
            assert!(crate::find(id).is_some(), "section {id} is no check's ID");
            let s = p.section(id).unwrap();
            assert!(s.starts_with(&format!("[\"{id}\"")), "{s}");
        }
        assert_eq!(p.section("disk/fixed"), None);
    }

    #[test]
    fn the_readme_example_is_a_valid_policy_file() {
        let readme = include_str!("../../../README.md");
        let at = readme.find("Thresholds live in a policy.").unwrap();
        let block = readme[at..].split("```toml\n").nth(1).unwrap();
        let text = block.split("```").next().unwrap();
        let p = Policy::from_toml(text, "readme").unwrap();
        assert_eq!(p.name, "contoso");
        assert_eq!(p.disk_os_size.linux.max_gib, 64.0);
        assert_eq!(p.partition_first_mib.level, Level::Warning);
        assert_eq!(p.linux_ssh_client_alive.recommended, Some(180));
    }
}
