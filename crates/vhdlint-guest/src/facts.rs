//! Facts about a Linux guest that several checks share, each read and parsed once.

use std::sync::OnceLock;

use crate::config::keyvalue::{self, Dialect, KeyValues};
use crate::config::sshd::{self, SshdConfig};
use crate::fs::FsError;
use crate::view::GuestView;

pub const WAAGENT_CONF: &str = "/etc/waagent.conf";
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// Lazily computed facts of one guest.
#[derive(Default)]
pub struct Facts {
    waagent: OnceLock<Result<KeyValues, FsError>>,
    sshd: OnceLock<Result<SshdConfig, FsError>>,
}

impl Facts {
    /// /etc/waagent.conf, parsed.
    pub fn waagent(&self, view: &GuestView) -> Result<&KeyValues, &FsError> {
        self.waagent
            .get_or_init(|| {
                view.read_config(WAAGENT_CONF)
                    .map(|t| keyvalue::parse_with(&t, Dialect::Waagent))
            })
            .as_ref()
    }

    /// sshd's configuration as `sshd -T` would evaluate it: /etc/ssh/sshd_config with its
    /// `Include`s expanded in place, in lexical order, inside the image.
    pub fn sshd(&self, view: &GuestView) -> Result<&SshdConfig, &FsError> {
        self.sshd
            .get_or_init(|| {
                let main = view.read_config(SSHD_CONFIG)?;
                let mut include = |pattern: &str| -> Vec<(String, String)> {
                    view.glob(pattern)
                        .into_iter()
                        .filter_map(|p| view.read_config(&p).ok().map(|t| (p, t)))
                        .collect()
                };
                Ok(sshd::evaluate(&main, SSHD_CONFIG, &mut include))
            })
            .as_ref()
    }
}

/// Directories whose `*.wants/` subdirectories enable systemd units at boot.
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Where `unit` is enabled: the `*.wants/` (or `*.requires/`) link that pulls it in, if any.
pub fn enabled_unit(view: &GuestView, unit: &str) -> Option<String> {
    for dir in UNIT_DIRS {
        let Ok(entries) = view.read_dir(dir) else {
            continue;
        };
        for e in entries
            .iter()
            .filter(|e| e.name.ends_with(".wants") || e.name.ends_with(".requires"))
        {
            let p = format!("{dir}/{}/{unit}", e.name);
            if view.symlink_metadata(&p).is_ok() {
                return Some(p);
            }
        }
    }
    None
}

/// Whether `unit` is masked (a link to /dev/null in /etc/systemd/system).
pub fn masked_unit(view: &GuestView, unit: &str) -> bool {
    view.read_link(&format!("/etc/systemd/system/{unit}"))
        .is_ok_and(|t| t == "/dev/null")
}

/// A SysV start link (`/etc/rc?.d/S??name`) for `name`, if any.
pub fn sysv_start_link(view: &GuestView, name: &str) -> Option<String> {
    for level in ["2", "3", "5"] {
        let dir = format!("/etc/rc{level}.d");
        let Ok(entries) = view.read_dir(&dir) else {
            continue;
        };
        if let Some(e) = entries
            .iter()
            .find(|e| e.name.starts_with('S') && e.name.len() > 3 && &e.name[3..] == name)
        {
            return Some(format!("{dir}/{}", e.name));
        }
    }
    None
}
