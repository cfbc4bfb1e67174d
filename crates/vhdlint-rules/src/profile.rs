//! Profiles: what the disk is, which decides the checks that apply.

use serde::{Deserialize, Serialize};

/// What the disk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    #[serde(rename = "linux-os")]
    LinuxOs,
    #[serde(rename = "windows-os")]
    WindowsOs,
    #[serde(rename = "data-disk")]
    DataDisk,
    /// Not a disk: what is submitted with the disks (SAS URIs, the SKU's metadata).
    #[serde(rename = "publish")]
    Publish,
}

impl Profile {
    pub const ALL: &'static [Profile] = &[Profile::LinuxOs, Profile::WindowsOs, Profile::DataDisk];
    pub const OS: &'static [Profile] = &[Profile::LinuxOs, Profile::WindowsOs];

    pub fn as_str(&self) -> &'static str {
        match self {
            Profile::LinuxOs => "linux-os",
            Profile::WindowsOs => "windows-os",
            Profile::DataDisk => "data-disk",
            Profile::Publish => "publish",
        }
    }
    pub fn is_os(&self) -> bool {
        matches!(self, Profile::LinuxOs | Profile::WindowsOs)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The profile asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileChoice {
    /// Decide from what the disk holds.
    Auto,
    Fixed(Profile),
}

impl std::str::FromStr for ProfileChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => ProfileChoice::Auto,
            "linux-os" => ProfileChoice::Fixed(Profile::LinuxOs),
            "windows-os" => ProfileChoice::Fixed(Profile::WindowsOs),
            "data-disk" => ProfileChoice::Fixed(Profile::DataDisk),
            other => {
                return Err(format!(
                    "unknown profile '{other}' (expected auto, linux-os, windows-os or data-disk)"
                ))
            }
        })
    }
}

/// The VM generation an image is published for: `--generation 1|2|auto`, or a SKU manifest's
/// `generation = 1|2`. Generation 1 VMs boot through BIOS, generation 2 through UEFI; `auto`
/// (the default) reports which the disk can boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Generation {
    #[default]
    Auto,
    Gen1,
    Gen2,
}

impl Generation {
    /// `auto`, `1` or `2`, as given on the command line and shown in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Generation::Auto => "auto",
            Generation::Gen1 => "1",
            Generation::Gen2 => "2",
        }
    }

    /// The generation of a manifest's `generation = N`.
    pub fn from_number(n: i64) -> Result<Self, String> {
        match n {
            1 => Ok(Generation::Gen1),
            2 => Ok(Generation::Gen2),
            _ => Err(format!("unknown generation {n} (expected 1 or 2)")),
        }
    }
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Generation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Generation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Generation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => Generation::Auto,
            "1" => Generation::Gen1,
            "2" => Generation::Gen2,
            other => {
                return Err(format!(
                    "unknown generation '{other}' (expected 1, 2 or auto)"
                ))
            }
        })
    }
}

#[cfg(test)]
mod generation_tests {
    use super::Generation;

    #[test]
    fn generation_parses_and_prints() {
        for g in [Generation::Auto, Generation::Gen1, Generation::Gen2] {
            assert_eq!(g.as_str().parse::<Generation>(), Ok(g));
        }
        assert!("3".parse::<Generation>().is_err());
        assert!(Generation::from_number(0).is_err());
        assert_eq!(Generation::from_number(2), Ok(Generation::Gen2));
        assert_eq!(Generation::Gen1.to_string(), "1");
    }
}
