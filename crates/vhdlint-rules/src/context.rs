//! Facts about one image, computed once, lazily, and shared by every check.

use std::sync::{Arc, OnceLock};

use vhdlint_disk::scan::{self, SparseScan};
use vhdlint_disk::timing::fact;
use vhdlint_disk::vhd::Footer;
use vhdlint_disk::{Format, Layout, ReadAt, SharedSource};
use vhdlint_guest::guest::Guest;
use vhdlint_guest::linux::{LinuxGuest, LinuxInspection};
use vhdlint_guest::unread::{UnreadOs, UnreadVolume};
use vhdlint_guest::windows::{WindowsGuest, WindowsInspection};
use vhdlint_guest::{OsFamily, OsHint};

use crate::check::{Evidence, Outcome};
use crate::image::Image;
use crate::policy::Policy;
use crate::profile::{Generation, Profile};

/// Receives the progress of long work (the surface scan).
pub trait Progress: Send + Sync {
    /// Work of `total` bytes begins.
    fn start(&self, total: u64);
    /// `n` more bytes are done.
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// What every check sees.
pub struct Context<'a> {
    pub image: &'a Image,
    pub policy: &'a Policy,
    pub profile: Profile,
    /// How the profile was chosen.
    pub profile_reason: String,
    /// `auto` took the disk for an OS disk because an OS it could not read shows (see
    /// [`Context::unread_os`]) without telling which: the checks of either OS then report
    /// `error`, not `skipped`.
    pub os_undetermined: bool,
    /// The VM generation the image is published for (`--generation`, a SKU manifest's
    /// `generation`); [`Generation::Auto`] when not said.
    pub generation: Generation,
    progress: Option<Arc<dyn Progress>>,
    disk: OnceLock<Result<SharedSource, String>>,
    layout: OnceLock<Result<Arc<Layout>, String>>,
    sparse: OnceLock<Result<SparseScan, String>>,
    pub(crate) guest: OnceLock<Result<Guest, String>>,
}

impl<'a> Context<'a> {
    pub fn new(image: &'a Image, policy: &'a Policy, progress: Option<Arc<dyn Progress>>) -> Self {
        Self {
            image,
            policy,
            profile: Profile::DataDisk,
            profile_reason: String::new(),
            os_undetermined: false,
            generation: Generation::Auto,
            progress,
            disk: OnceLock::new(),
            layout: OnceLock::new(),
            sparse: OnceLock::new(),
            guest: OnceLock::new(),
        }
    }

    /// The VHD footer, or the outcome a footer-based check gives when there is none.
    pub fn footer(&self) -> Result<&Footer, Outcome> {
        match (&self.image.container.footer, self.image.container.format) {
            (Some(f), _) => Ok(f),
            (None, Format::Unknown) | (None, Format::Raw) => Err(Outcome::skipped(
                "the file has no VHD footer to read this from (see disk/footer)",
            )),
            (None, f) => Err(Outcome::skipped(format!(
                "the file is a {} image, not a VHD (see disk/format)",
                f.name()
            ))),
        }
    }

    /// The guest's disk (through the BAT for dynamic VHDs).
    pub fn disk(&self) -> Result<&SharedSource, &str> {
        self.disk
            .get_or_init(|| {
                fact("virtual disk", || {
                    self.image
                        .container
                        .virtual_disk()
                        .map_err(|e| e.to_string())
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The partition table and volumes, decoded once.
    pub fn layout(&self) -> Result<&Layout, &str> {
        self.shared_layout().map(|l| &**l)
    }

    fn shared_layout(&self) -> Result<&Arc<Layout>, &str> {
        self.layout
            .get_or_init(|| {
                fact("partition table and volumes", || {
                    self.disk()
                        .map(|d| Arc::new(Layout::read(d.clone())))
                        .map_err(str::to_string)
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The guest of the disk: the operating system its volumes hold, looked for once.
    pub fn guest(&self) -> Result<&Guest, &str> {
        self.guest
            .get_or_init(|| {
                self.shared_layout()
                    .map(|l| Guest::new(l.clone()))
                    .map_err(str::to_string)
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The layout, or the outcome a partition check gives without one.
    pub fn layout_or_outcome(&self) -> Result<&Layout, Outcome> {
        self.layout()
            .map_err(|e| match self.image.container.format {
                Format::Vhd => Outcome::error(format!("the guest disk cannot be read: {e}")),
                _ => Outcome::skipped(format!(
                    "the guest disk cannot be read: {e} (see disk/format)"
                )),
            })
    }

    /// The virtual size: the footer's current size, or the size of a raw file.
    pub fn virtual_size(&self) -> Option<u64> {
        match &self.image.container.footer {
            Some(f) => Some(f.current_size),
            None if self.image.container.format == Format::Raw => {
                Some(self.image.container.file_size)
            }
            None => None,
        }
    }

    /// Where the virtual size was read: the footer's current size field, or the file size of
    /// a raw image.
    pub fn size_evidence(&self) -> Evidence {
        match &self.image.container.footer {
            Some(f) => Evidence::offset(
                f.offset + 48,
                format!("footer current size {}", f.current_size),
            ),
            None => Evidence::note(format!(
                "raw image: file size {} bytes",
                self.image.container.file_size
            )),
        }
    }

    /// The surface scan of the image file, run once. `Err(None)` when the image is not a local
    /// file, so there is no surface to scan.
    pub fn sparse_scan(&self) -> Result<&SparseScan, Option<&str>> {
        let Some(file) = &self.image.local else {
            return Err(None);
        };
        self.sparse
            .get_or_init(|| {
                fact("surface scan", || {
                    let p = self.progress.clone();
                    if let Some(p) = &p {
                        p.start(file.size());
                    }
                    let r = scan::scan(file, &|n| {
                        if let Some(p) = &p {
                            p.advance(n)
                        }
                    });
                    if let Some(p) = &p {
                        p.finish();
                    }
                    r.map_err(|e| format!("scanning {}: {e}", self.image.path.display()))
                })
            })
            .as_ref()
            .map_err(|e| Some(e.as_str()))
    }

    /// The search for a Linux root and, when found, the guest's tree; done once.
    pub fn linux(&self) -> Result<&LinuxInspection, &str> {
        self.guest().map(Guest::linux)
    }

    /// The Linux guest, or the outcome a linux/ check gives without one: `error`, naming every
    /// volume looked at and, for those that could not be read, why.
    pub fn linux_guest(&self) -> Result<&LinuxGuest, Outcome> {
        let guest = self
            .guest()
            .map_err(|e| Outcome::error(format!("the guest disk cannot be read: {e}")))?;
        guest.linux_root().map_err(|mut looked| {
            looked.extend(
                self.unread_volumes(OsFamily::Linux)
                    .iter()
                    .filter(|v| !guest.linux().candidates.iter().any(|c| c.volume == v.volume))
                    .map(ToString::to_string),
            );
            Outcome::error(if looked.is_empty() {
                "no Linux filesystem on this disk, so there is no Linux root to inspect (see partition/os-found)".to_string()
            } else {
                format!("no Linux root filesystem could be inspected: {} (see partition/os-found)", looked.join("; "))
            })
        })
    }

    /// The search for a Windows system volume; done once.
    pub fn windows(&self) -> Result<&WindowsInspection, &str> {
        self.guest().map(Guest::windows)
    }

    /// The Windows system volume, or the outcome a windows/ check gives without one: `error`,
    /// naming every volume looked at and, for those that could not be read, why.
    pub fn windows_guest(&self) -> Result<&WindowsGuest, Outcome> {
        let guest = self
            .guest()
            .map_err(|e| Outcome::error(format!("the guest disk cannot be read: {e}")))?;
        guest.windows_system().map_err(|mut looked| {
            looked.extend(
                self.unread_volumes(OsFamily::Windows)
                    .iter()
                    .filter(|v| !guest.windows().candidates.iter().any(|c| c.volume == v.volume))
                    .map(ToString::to_string),
            );
            Outcome::error(if looked.is_empty() {
                "no NTFS volume on this disk, so there is no Windows system volume to inspect (see windows/ntfs)".to_string()
            } else {
                format!("no readable Windows system volume: {} (see windows/ntfs)", looked.join("; "))
            })
        })
    }

    /// The volumes that could not be read and could hold a system of `family` (those of the
    /// other family left out): while one of them is unread, whether the disk holds that system
    /// is unknown.
    pub fn unread_volumes(&self, family: OsFamily) -> Vec<UnreadVolume> {
        self.guest()
            .map(Guest::unread_volumes)
            .unwrap_or_default()
            .into_iter()
            .filter(|v| v.family.is_none_or(|f| f == family))
            .collect()
    }

    /// The disk is an OS disk whose system could not be read (see
    /// [`vhdlint_guest::unread::unread_os`]).
    pub fn unread_os(&self) -> Option<&UnreadOs> {
        self.guest().ok().and_then(Guest::unread_os)
    }

    /// The SYSTEM hive and its current control set (`ControlSet00N` from `Select\\Current`), or
    /// the outcome a check that needs them gives without them.
    pub fn windows_control_set(
        &self,
    ) -> Result<(&WindowsGuest, &vhdlint_guest::registry::Hive, String), Outcome> {
        let g = self.windows_guest()?;
        let hive = g
            .system()
            .map_err(|e| Outcome::error(format!("SYSTEM hive: {e}")))?;
        let cs = vhdlint_guest::registry::current_control_set(hive)
            .map_err(|e| Outcome::error(format!("SYSTEM\\Select\\Current: {e}")))?;
        Ok((g, hive, cs))
    }

    /// The SOFTWARE hive, or the outcome a check that needs it gives without it.
    pub fn windows_software(
        &self,
    ) -> Result<(&WindowsGuest, &vhdlint_guest::registry::Hive), Outcome> {
        let g = self.windows_guest()?;
        let hive = g
            .software()
            .map_err(|e| Outcome::error(format!("SOFTWARE hive: {e}")))?;
        Ok((g, hive))
    }

    /// What the volumes suggest about the OS.
    pub fn os_hint(&self) -> Option<OsHint> {
        self.guest().ok().map(Guest::os_hint)
    }

    /// No system found, and `volumes` could not be read: whether one of them holds it is unknown,
    /// which is an error, never a pass or a plain failure.
    pub fn unread_error(&self, volumes: &[UnreadVolume], what: &str, required: String) -> Outcome {
        let names: Vec<String> = volumes
            .iter()
            .map(|v| format!("{} ({})", v.volume, v.filesystem))
            .collect();
        let mut message = format!(
            "{what} was not found, and {} that could hold it could not be read, so whether the disk holds it is unknown: {}",
            if volumes.len() == 1 { "a volume" } else { "volumes" },
            volumes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        let mut evidence: Vec<Evidence> = volumes
            .iter()
            .map(|v| Evidence::note(format!("{v}")))
            .collect();
        if let Some(u) = self.unread_os() {
            message.push_str(&format!(
                "; the disk shows signs of an operating system: {}",
                u.signs.join("; ")
            ));
            evidence.extend(
                u.signs
                    .iter()
                    .map(|s| Evidence::note(format!("sign of an operating system: {s}"))),
            );
        }
        Outcome::with_status(
            crate::check::Status::Error,
            format!("{} could not be read", names.join(", ")),
            required,
        )
        .message(message)
        .evidences(evidence)
    }
}

/// Value `name` of key `key` in hive `hive` (named `hive_name` in messages); a hive that cannot
/// be read there gives the `error` outcome naming the hive and key.
pub fn reg_value_or_error(
    hive: &vhdlint_guest::registry::Hive,
    hive_name: &str,
    key: &str,
    name: &str,
) -> Result<Option<vhdlint_guest::registry::Value>, Outcome> {
    vhdlint_guest::windows::reg_value(hive, key, name)
        .map_err(|e| Outcome::error(format!("{hive_name}\\{key}: {e}")))
}

/// Whether key `key` exists in hive `hive` (named `hive_name` in messages); a hive that cannot
/// be read there gives the `error` outcome naming the hive and key.
pub fn reg_key_exists(
    hive: &vhdlint_guest::registry::Hive,
    hive_name: &str,
    key: &str,
) -> Result<bool, Outcome> {
    hive.open(key)
        .map(|k| k.is_some())
        .map_err(|e| Outcome::error(format!("{hive_name}\\{key}: {e}")))
}
