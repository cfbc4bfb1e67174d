//! Profiles: what the disk is, which decides the checks that apply.

use serde::Serialize;

/// What the disk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
