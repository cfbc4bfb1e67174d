//! The SKU manifest of `vhdlint sku`: what a publisher enters for one plan of an offer.
//!
//! ```toml
//! offer = "contoso-linux"           # offer ID
//! sku = "ubuntu-22-04-gen2"         # plan (SKU) ID
//! version = "1.0.1"                 # the image version being submitted
//! previous-version = "1.0.0"        # optional: the version already published in this SKU
//! os = "linux"                      # linux | windows
//! generation = 2                    # optional: 1 | 2, the VM generation (disk/boot-mode)
//! other-skus = ["ubuntu-20-04"]     # optional: the offer's other plan IDs
//!
//! [os-disk]
//! image = "os.vhd"                  # a path (relative to this file) or an https URL
//!
//! [[data-disk]]
//! lun = 0
//! image = "data0.vhd"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use vhdlint_guest::OsFamily;

use crate::config::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Disk {
    /// A path (relative to the manifest) or an http(s) URL.
    pub image: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataDisk {
    pub lun: i64,
    /// Missing or empty: the data disk has no VHD (which fails publish/data-disks).
    #[serde(default)]
    pub image: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    pub offer: String,
    pub sku: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub os: OsFamily,
    /// The VM generation the SKU is published for (`generation = 1` or `2`): what
    /// disk/boot-mode requires of the OS disk.
    #[serde(default, deserialize_with = "generation")]
    pub generation: Option<crate::profile::Generation>,
    #[serde(default)]
    pub other_skus: Vec<String>,
    pub os_disk: Disk,
    #[serde(default)]
    pub data_disk: Vec<DataDisk>,
}

/// A manifest's `generation = 1|2`.
fn generation<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<crate::profile::Generation>, D::Error> {
    let n = <i64 as serde::Deserialize>::deserialize(d)?;
    crate::profile::Generation::from_number(n)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Whether `image` names a remote blob rather than a file.
pub fn is_url(image: &str) -> bool {
    let l = image.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses the text of a manifest read from `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: crate::publish::sas::redact(e.to_string().trim_end()),
        })
    }

    /// Where a disk's image is: the URL as given, or the path resolved against the directory
    /// of the manifest at `manifest`.
    pub fn locate(image: &str, manifest: &Path) -> Location {
        if is_url(image) {
            Location::Url(image.trim().to_string())
        } else {
            let p = Path::new(image);
            Location::File(if p.is_absolute() {
                p.to_owned()
            } else {
                manifest.parent().unwrap_or(Path::new(".")).join(p)
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Url(String),
}

#[cfg(test)]
mod generation_tests {
    use super::Manifest;
    use crate::profile::Generation;
    use std::path::Path;

    fn parse(extra: &str) -> Result<Manifest, String> {
        Manifest::parse(
            &format!("offer = \"o\"\nsku = \"s\"\nversion = \"1.0.0\"\nos = \"linux\"\n{extra}[os-disk]\nimage = \"os.vhd\"\n"),
            Path::new("sku.toml"),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_manifest_says_its_generation() {
        assert_eq!(parse("").unwrap().generation, None);
        assert_eq!(
            parse("generation = 1\n").unwrap().generation,
            Some(Generation::Gen1)
        );
        assert_eq!(
            parse("generation = 2\n").unwrap().generation,
            Some(Generation::Gen2)
        );
        let e = parse("generation = 3\n").unwrap_err();
        assert!(e.contains("unknown generation 3"), "{e}");
        assert!(parse("generation = \"2\"\n").is_err());
    }
}
