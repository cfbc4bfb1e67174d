//! Facts about a Linux guest that several checks share, each read and parsed once.

use std::sync::OnceLock;

use vhdlint_disk::timing::fact;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::cmdline::Cmdline;
use crate::config::fstab::{self, Fstab};
use crate::config::grub::{self, BlsEntry, Chosen};
use crate::config::keyvalue::{self, Dialect, KeyValues};
use crate::config::passwd::{self, Passwd, Shadow};
use crate::config::sshd::{self, SshdConfig};
use crate::fs::FsError;
use crate::limits::{
    MAX_DPKG_STATUS_BYTES, MAX_IFUPDOWN_FILES, MAX_INITRAMFS_FILE_BYTES, MAX_KERNEL_CMDLINE_BYTES,
    MAX_RPMDB_BYTES,
};
use crate::note::{Note, Unreadable};
use crate::view::{GuestFile, GuestView};

pub const WAAGENT_CONF: &str = "/etc/waagent.conf";
pub const PASSWD: &str = "/etc/passwd";
pub const SHADOW: &str = "/etc/shadow";
pub const FSTAB: &str = "/etc/fstab";
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// Lazily computed facts of one guest.
#[derive(Default)]
pub struct Facts {
    passwd: OnceLock<Result<Passwd, FsError>>,
    shadow: OnceLock<Result<Shadow, FsError>>,
    fstab: OnceLock<Result<Fstab, FsError>>,
    waagent: OnceLock<Result<KeyValues, FsError>>,
    sshd: OnceLock<Result<SshdConfig, FsError>>,
    packages: OnceLock<Packages>,
    kernel: OnceLock<Kernel>,
    network: OnceLock<Network>,
    /// Initramfs images listed so far, by path: read and decompressed once for every check.
    /// With each, the modules its listing was asked to find (see [`Facts::initramfs`]).
    #[allow(clippy::type_complexity)]
    initramfs: std::sync::Mutex<BTreeMap<String, (Vec<String>, std::sync::Arc<InitramfsRead>)>>,
    /// Kernel configurations (/boot/config-VERSION) parsed so far, by path.
    kernel_configs:
        std::sync::Mutex<BTreeMap<String, std::sync::Arc<crate::config::kconfig::KernelConfig>>>,
}

/// An initramfs image, as far as it could be read (see [`Facts::initramfs`]).
#[derive(Debug)]
pub enum InitramfsRead {
    /// Its members (read with the default [`crate::initramfs::Limits`]).
    Listed(crate::initramfs::Initramfs),
    /// Larger than [`MAX_INITRAMFS_FILE_BYTES`]: not read.
    TooLarge,
    /// The file could not be read.
    Unreadable(FsError),
    /// Read, but not an initramfs the reader understands.
    NotInitramfs(crate::initramfs::InitramfsError),
}

/// An installed package and where that was read.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// Where the record is: the database file and line, or the file the version came from.
    pub path: String,
    pub line: Option<usize>,
}

/// The package inventory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Packages {
    /// `dpkg` or `rpm`: the database that was read.
    pub database: Option<&'static str>,
    pub installed: BTreeMap<String, Package>,
    /// What could not be read (e.g. an rpm database).
    pub notes: Vec<Note>,
}

impl Packages {
    /// The first of `names` that is installed.
    pub fn any(&self, names: &[&str]) -> Option<&Package> {
        names.iter().find_map(|n| self.installed.get(*n))
    }
}

/// One source of the kernel command line.
#[derive(Debug, Clone, Serialize)]
pub struct CmdlineSource {
    pub path: String,
    pub line: Option<usize>,
    /// The parameters as the kernel receives them (`name` or `name=value`, after expanding
    /// `$kernelopts` for BLS entries and GRUB's quoting).
    pub args: Vec<String>,
    pub text: String,
    /// The command line read as the kernel reads it.
    #[serde(skip)]
    pub cmdline: Cmdline,
}

impl CmdlineSource {
    fn new(path: &str, line: Option<usize>, cmdline: Cmdline, text: String) -> Self {
        CmdlineSource {
            path: path.to_string(),
            line,
            args: cmdline.texts(),
            text,
            cmdline,
        }
    }

    /// A note when the line is longer than the kernel reads.
    fn cut_note(&self) -> Option<Note> {
        (self.cmdline.cut_bytes > 0).then(|| {
            let n = Note::bound(
                "MAX_KERNEL_CMDLINE_BYTES",
                format!(
                    "the kernel command line is longer than {MAX_KERNEL_CMDLINE_BYTES} bytes, what the kernel reads: its last {} bytes are not read",
                    self.cmdline.cut_bytes
                ),
            )
            .at(self.path.clone());
            match self.line {
                Some(l) => n.line(l),
                None => n,
            }
        })
    }
}

/// The default kernel and its command line, as the boot loader would use them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Kernel {
    /// Where the default entry was found (`/boot/grub/grub.cfg`, a BLS file).
    pub boot_entry: Option<CmdlineSource>,
    /// Kernel version of the default entry (from `vmlinuz-VERSION`).
    pub version: Option<String>,
    /// The initramfs of the default entry, as a path in the guest.
    pub initrd: Option<String>,
    /// `GRUB_CMDLINE_LINUX` + `GRUB_CMDLINE_LINUX_DEFAULT` from /etc/default/grub.
    pub default_grub: Option<CmdlineSource>,
    /// What was looked at and not usable.
    pub notes: Vec<Note>,
}

impl Facts {
    /// /etc/passwd, parsed.
    pub fn passwd(&self, view: &GuestView) -> Result<&Passwd, &FsError> {
        self.passwd
            .get_or_init(|| {
                fact("linux passwd", || {
                    view.read_config(PASSWD).map(|t| passwd::parse_passwd(&t))
                })
            })
            .as_ref()
    }

    /// /etc/shadow, parsed.
    pub fn shadow(&self, view: &GuestView) -> Result<&Shadow, &FsError> {
        self.shadow
            .get_or_init(|| {
                fact("linux shadow", || {
                    view.read_config(SHADOW).map(|t| passwd::parse_shadow(&t))
                })
            })
            .as_ref()
    }

    /// /etc/fstab, parsed.
    pub fn fstab(&self, view: &GuestView) -> Result<&Fstab, &FsError> {
        self.fstab
            .get_or_init(|| {
                fact("linux fstab", || {
                    view.read_config(FSTAB).map(|t| fstab::parse(&t))
                })
            })
            .as_ref()
    }

    /// /etc/waagent.conf, parsed.
    pub fn waagent(&self, view: &GuestView) -> Result<&KeyValues, &FsError> {
        self.waagent
            .get_or_init(|| {
                fact("linux waagent.conf", || {
                    view.read_config(WAAGENT_CONF)
                        .map(|t| keyvalue::parse_with(&t, Dialect::Waagent))
                })
            })
            .as_ref()
    }

    /// sshd's configuration as `sshd -T` would evaluate it: /etc/ssh/sshd_config with its
    /// `Include`s expanded in place, in lexical order, inside the image.
    pub fn sshd(&self, view: &GuestView) -> Result<&SshdConfig, &FsError> {
        self.sshd
            .get_or_init(|| {
                fact("linux sshd config", || {
                    let main = view.read_config(SSHD_CONFIG)?;
                    // What could not be read while including: (pattern, note), placed below at the
                    // Include line that asked for it.
                    let mut unread: Vec<(String, Note)> = Vec::new();
                    let mut include = |pattern: &str| -> Vec<(String, String)> {
                        let mut notes = Vec::new();
                        let found = view
                            .glob_noted(pattern, &mut notes)
                            .into_iter()
                            .filter_map(|p| view.read_noted(&p, &mut notes).map(|t| (p, t)))
                            .collect();
                        unread.extend(notes.into_iter().map(|n| (pattern.to_string(), n)));
                        found
                    };
                    let mut cfg = sshd::evaluate(&main, SSHD_CONFIG, &mut include);
                    for (pattern, mut note) in unread {
                        // The note's place is the Include line; its text keeps the file it is about.
                        let (path, line) = cfg
                            .includes
                            .iter()
                            .find(|i| i.resolved == pattern)
                            .map_or((SSHD_CONFIG.to_string(), 0), |i| (i.path.clone(), i.line));
                        if let Some(p) = note.path.take() {
                            if !note.text.contains(p.as_str()) {
                                note.text = format!("{p}: {}", note.text);
                            }
                        }
                        cfg.issues.push(note.at(path).line(line));
                    }
                    Ok(cfg)
                })
            })
            .as_ref()
    }
}

impl Facts {
    /// Installed packages from the dpkg database or the rpm database (SQLite, ndb or Berkeley
    /// DB: see [`RPM_DATABASES`]).
    pub fn packages(&self, view: &GuestView) -> &Packages {
        self.packages.get_or_init(|| fact("linux packages", || {
            let mut p = Packages::default();
            let status = "/var/lib/dpkg/status";
            match view.read_upto(status, MAX_DPKG_STATUS_BYTES + 1) {
                Ok(bytes) if bytes.len() as u64 > MAX_DPKG_STATUS_BYTES => p.notes.push(
                    Note::bound(
                        "MAX_DPKG_STATUS_BYTES",
                        format!("{status} is larger than {MAX_DPKG_STATUS_BYTES} bytes, the limit: not read"),
                    )
                    .at(status),
                ),
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let db = crate::packages::dpkg::parse(&text);
                    p.database = Some("dpkg");
                    for pkg in db.packages.iter().filter(|x| x.is_installed()) {
                        p.installed.insert(
                            pkg.package.clone(),
                            Package {
                                name: pkg.package.clone(),
                                version: pkg.version.clone().unwrap_or_default(),
                                path: status.to_string(),
                                line: Some(pkg.version_line.unwrap_or(pkg.line)),
                            },
                        );
                    }
                }
                Err(FsError::NotFound(_)) => {}
                Err(e) => p.notes.extend(Note::from_fs_error(status, &e)),
            }
            read_rpm_database(view, &mut p);
            p
        }))
    }

    /// The network configuration.
    pub fn network(&self, view: &GuestView) -> &Network {
        self.network
            .get_or_init(|| fact("linux network", || read_network(view)))
    }

    /// The default boot entry and its command line.
    pub fn kernel(&self, view: &GuestView) -> &Kernel {
        self.kernel
            .get_or_init(|| fact("linux kernel and boot entry", || read_kernel(view)))
    }

    /// The initramfs image at `path` (at most [`MAX_INITRAMFS_FILE_BYTES`]), read as far as its
    /// listing goes (see [`crate::initramfs::list_reader`]) and listed once for every check
    /// that looks into it, far enough to tell whether each of the kernel
    /// `modules` is in it: listing stops once all of them are found (see
    /// [`crate::initramfs::Limits::until_modules`]; with none, the whole image is listed).
    /// A later call naming a module an earlier, stopped listing does not answer (see
    /// [`crate::initramfs::Initramfs::answers`]) lists the image again, for the modules of
    /// both calls.
    pub fn initramfs(
        &self,
        view: &GuestView,
        path: &str,
        modules: &[&str],
    ) -> std::sync::Arc<InitramfsRead> {
        let mut seen = self
            .initramfs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wanted: Vec<String> = modules.iter().map(|m| m.to_string()).collect();
        if let Some((asked, read)) = seen.get(path) {
            let answered = match &**read {
                InitramfsRead::Listed(l) => modules.iter().all(|m| l.answers(m)),
                _ => true,
            };
            if answered {
                return read.clone();
            }
            wanted.extend(asked.iter().cloned());
        }
        let read = std::sync::Arc::new(fact(&format!("initramfs {path}"), || {
            match view.open(path) {
                Ok(f) if f.len() > MAX_INITRAMFS_FILE_BYTES => InitramfsRead::TooLarge,
                Ok(mut f) => {
                    let limits = crate::initramfs::Limits::default().until_modules(wanted.clone());
                    let len = f.len();
                    match crate::initramfs::list_reader(&mut f, len, limits) {
                        Ok(l) => InitramfsRead::Listed(l),
                        Err(crate::initramfs::InitramfsError::Read { source, .. }) => {
                            InitramfsRead::Unreadable(match GuestFile::fs_error(&source) {
                                Some(e) => e.clone(),
                                None => FsError::Io(source.to_string()),
                            })
                        }
                        Err(e) => InitramfsRead::NotInitramfs(e),
                    }
                }
                Err(e) => InitramfsRead::Unreadable(e),
            }
        }));
        seen.insert(path.to_string(), (wanted, read.clone()));
        read
    }

    /// The kernel configuration at `path` (`/boot/config-VERSION`), whose text the caller
    /// read: parsed once per run for every check that asks.
    pub fn kernel_config(
        &self,
        path: &str,
        text: &str,
    ) -> std::sync::Arc<crate::config::kconfig::KernelConfig> {
        let mut seen = self
            .kernel_configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.entry(path.to_string())
            .or_insert_with(|| {
                std::sync::Arc::new(fact(&format!("kernel configuration {path}"), || {
                    crate::config::kconfig::parse(text)
                }))
            })
            .clone()
    }
}

/// rpm's database files, in the order they are looked for: rpm's database directory
/// (`/var/lib/rpm`, or `/usr/lib/sysimage/rpm` where that is rpm's `%_dbpath`), and in each the
/// backends in the order rpm's own autodetection tries them when its configured backend has no
/// file there: SQLite (rpm ≥ 4.16: RHEL 9, Fedora 33+, SLES 15 SP3+), ndb (SUSE's before
/// SQLite), Berkeley DB (RHEL/CentOS 7 and 8, SLES 12). rpm reads its configured backend first
/// when it exists; a directory with files of several backends is left over from a conversion
/// (`rpmdb --rebuilddb`), whose newest result is the first of this order.
pub const RPM_DATABASES: [(&str, RpmFormat); 6] = [
    ("/var/lib/rpm/rpmdb.sqlite", RpmFormat::Sqlite),
    ("/var/lib/rpm/Packages.db", RpmFormat::Ndb),
    ("/var/lib/rpm/Packages", RpmFormat::BerkeleyDb),
    ("/usr/lib/sysimage/rpm/rpmdb.sqlite", RpmFormat::Sqlite),
    ("/usr/lib/sysimage/rpm/Packages.db", RpmFormat::Ndb),
    ("/usr/lib/sysimage/rpm/Packages", RpmFormat::BerkeleyDb),
];

/// The three forms of rpm's package database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpmFormat {
    Sqlite,
    Ndb,
    BerkeleyDb,
}

impl RpmFormat {
    /// Reads the packages of a database of this form.
    pub fn read(self, bytes: &[u8]) -> Result<Vec<crate::packages::rpmdb::RpmPackage>, String> {
        use crate::packages::{rpmdb, rpmdb_bdb, rpmdb_ndb};
        match self {
            RpmFormat::Sqlite => rpmdb::read_packages(bytes).map_err(|e| e.to_string()),
            RpmFormat::Ndb => rpmdb_ndb::read_packages(bytes).map_err(|e| e.to_string()),
            RpmFormat::BerkeleyDb => rpmdb_bdb::read_packages(bytes).map_err(|e| e.to_string()),
        }
    }
}

/// Reads the first of [`RPM_DATABASES`] that the image has into `p`; the others found beside
/// it in the same directory are noted as not read.
fn read_rpm_database(view: &GuestView, p: &mut Packages) {
    let mut chosen: Option<&str> = None;
    for (rpm, format) in RPM_DATABASES {
        if let Some(first) = chosen {
            let dir = |x: &str| x.rsplit_once('/').map(|(d, _)| d.to_string());
            if dir(first) == dir(rpm) && view.exists_noted(rpm, &mut p.notes) {
                p.notes.push(
                    Note::ignored(format!(
                        "{rpm}: not read; rpm's database here is {first}, the first of \
                         rpmdb.sqlite, Packages.db, Packages that exists"
                    ))
                    .at(rpm),
                );
            }
            continue;
        }
        let bytes = match view.read_upto(rpm, MAX_RPMDB_BYTES + 1) {
            Ok(b) => b,
            Err(e) => {
                p.notes.extend(Note::from_fs_error(rpm, &e));
                continue;
            }
        };
        chosen = Some(rpm);
        if bytes.len() as u64 > MAX_RPMDB_BYTES {
            p.notes.push(
                Note::bound(
                    "MAX_RPMDB_BYTES",
                    format!("{rpm} is larger than {MAX_RPMDB_BYTES} bytes, the limit: not read"),
                )
                .at(rpm),
            );
            continue;
        }
        match format.read(&bytes) {
            Ok(list) => {
                p.database = Some("rpm");
                for r in list {
                    let version = match r.epoch {
                        Some(e) if e > 0 => format!("{e}:{}-{}", r.version, r.release),
                        _ => format!("{}-{}", r.version, r.release),
                    };
                    p.installed.insert(
                        r.name.clone(),
                        Package {
                            name: r.name,
                            version,
                            path: rpm.to_string(),
                            line: None,
                        },
                    );
                }
            }
            Err(e) => p
                .notes
                .push(Note::unreadable(Unreadable::Corrupt, format!("{rpm}: {e}")).at(rpm)),
        }
    }
}

fn version_of(kernel_path: &str) -> Option<String> {
    let name = kernel_path.rsplit('/').next()?;
    name.strip_prefix("vmlinuz-")
        .or_else(|| name.strip_prefix("vmlinux-"))
        .or_else(|| name.strip_prefix("Image-"))
        .map(str::to_string)
}

fn read_kernel(view: &GuestView) -> Kernel {
    let mut k = Kernel::default();
    // A grubenv that could not be read may hold the saved entry and kernelopts: noted.
    let env = ["/boot/grub2/grubenv", "/boot/grub/grubenv"]
        .iter()
        .find_map(|p| {
            view.read_noted(p, &mut k.notes)
                .map(|t| keyvalue::parse_with(&t, Dialect::Grubenv))
        });
    let saved = env
        .as_ref()
        .and_then(|e| e.value("saved_entry"))
        .map(str::to_string);
    let kernelopts = env
        .as_ref()
        .and_then(|e| e.value("kernelopts"))
        .map(str::to_string);
    let mut bls: Vec<BlsEntry> = Vec::new();
    let mut bls_paths = BTreeMap::new();
    let mut notes = Vec::new();
    for p in view.glob_noted("/boot/loader/entries/*.conf", &mut notes) {
        if let Some(t) = view.read_noted(&p, &mut notes) {
            let stem = p
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".conf")
                .to_string();
            bls_paths.insert(stem.clone(), p.clone());
            bls.push(grub::parse_bls(&t).with_id(stem));
        }
    }
    let from_bls = |e: &BlsEntry, k: &mut Kernel| {
        let path = bls_paths.get(&e.id).cloned().unwrap_or_default();
        let opts = grub::expand_kernelopts(&e.options_line(), kernelopts.as_deref());
        k.boot_entry = Some(CmdlineSource::new(
            &path,
            e.options.first().map(|o| o.line),
            grub::script_cmdline(&opts),
            format!("options {}", e.options_line()),
        ));
        if let Some(l) = &e.linux {
            k.version = version_of(&l.value);
        }
        k.version = k
            .version
            .clone()
            .or_else(|| e.version.as_ref().map(|v| v.value.clone()));
        k.initrd = e.initrd.first().map(|i| i.value.clone());
    };
    k.notes.append(&mut notes);
    let cfg_path = ["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"]
        .into_iter()
        .find(|p| view.exists_noted(p, &mut k.notes));
    match cfg_path.map(|p| (p, view.read_config(p))) {
        Some((p, Ok(text))) => {
            let cfg = grub::parse(&text);
            match cfg.default_entry(saved.as_deref(), &bls) {
                Some(d) => match d.entry {
                    Chosen::Menu(m) => match &m.linux {
                        Some(l) => {
                            // An unquoted `$kernelopts` word is split into words by GRUB.
                            let words: Vec<String> = l
                                .args
                                .iter()
                                .flat_map(|a| {
                                    if a == "$kernelopts" || a == "${kernelopts}" {
                                        kernelopts
                                            .as_deref()
                                            .unwrap_or_default()
                                            .split_whitespace()
                                            .map(str::to_string)
                                            .collect()
                                    } else {
                                        vec![a.clone()]
                                    }
                                })
                                .collect();
                            let cmdline =
                                crate::config::cmdline::parse(&grub::loader_cmdline(&words));
                            k.boot_entry = Some(CmdlineSource::new(
                                p,
                                Some(l.line),
                                cmdline,
                                l.text.trim().to_string(),
                            ));
                            k.version = version_of(&l.kernel);
                            k.initrd = m.initrd.first().map(|i| i.0.clone());
                        }
                        None => k.notes.push(
                            Note::ignored(format!(
                                "{p}: the default entry \"{}\" (line {}) has no linux line",
                                m.title, m.line
                            ))
                            .at(p),
                        ),
                    },
                    Chosen::Bls(e) => from_bls(e, &mut k),
                },
                None => k
                    .notes
                    .push(Note::ignored(format!("{p}: no menu entry")).at(p)),
            }
        }
        Some((p, Err(e))) => k.notes.push(
            Note::from_fs_error(p, &e).unwrap_or_else(|| Note::ignored(format!("{p}: {e}")).at(p)),
        ),
        None => {
            if let Some(e) = grub::bls_default(&bls, saved.as_deref()) {
                from_bls(e, &mut k);
            } else {
                k.notes.push(Note::ignored(
                    "no /boot/grub/grub.cfg, /boot/grub2/grub.cfg or /boot/loader/entries/*.conf",
                ));
            }
        }
    }
    // A kernel path relative to a separate /boot partition lacks the /boot prefix.
    if let Some(i) = &k.initrd {
        // Only a path that is not there is taken for one relative to /boot: one that could
        // not be looked up is kept, so that whoever reads it notes why it could not be read.
        let absent = match view.metadata(i) {
            Ok(_) => false,
            Err(e) => Note::from_fs_error(i, &e).is_none(),
        };
        if !i.starts_with("/boot/") && absent {
            k.initrd = Some(format!(
                "/boot{}",
                if i.starts_with('/') {
                    i.clone()
                } else {
                    format!("/{i}")
                }
            ));
        }
    }
    let dg = "/etc/default/grub";
    if let Some(t) = view.read_noted(dg, &mut k.notes) {
        let mut kv = keyvalue::parse(&t);
        k.notes.extend(kv.notes_at(dg));
        for extra in view.glob_noted("/etc/default/grub.d/*.cfg", &mut k.notes) {
            if let Some(t2) = view.read_noted(&extra, &mut k.notes) {
                let more = keyvalue::parse_shell_after(&t2, &kv);
                k.notes.extend(more.notes_at(&extra));
                kv.entries.extend(more.entries);
            }
        }
        let a = kv.get("GRUB_CMDLINE_LINUX");
        let b = kv.get("GRUB_CMDLINE_LINUX_DEFAULT");
        if a.is_some() || b.is_some() {
            let joined = [a, b]
                .iter()
                .flatten()
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            k.default_grub = Some(CmdlineSource::new(
                dg,
                a.or(b).map(|e| e.line),
                grub::script_cmdline(&joined),
                [a, b]
                    .iter()
                    .flatten()
                    .map(|e| e.raw.trim())
                    .collect::<Vec<_>>()
                    .join(" / "),
            ));
        }
    }
    let cut: Vec<Note> = [&k.boot_entry, &k.default_grub]
        .into_iter()
        .flatten()
        .filter_map(CmdlineSource::cut_note)
        .collect();
    k.notes.extend(cut);
    k
}

/// `[Match] MACAddress=` / `PermanentMACAddress=` of a systemd `.network` or `.link` file:
/// the configuration applies only to the NIC of that address.
fn mac_matches(ini: &crate::config::network::IniFile, path: &str) -> Vec<Pinned> {
    ["MACAddress", "PermanentMACAddress"]
        .iter()
        .flat_map(|k| ini.values("Match", k))
        .filter(|e| !e.value.trim().is_empty())
        .map(|e| Pinned {
            path: path.to_string(),
            line: e.line,
            text: format!("[Match] {}={}", e.key, e.value),
        })
        .collect()
}

/// Directories whose `*.wants/` subdirectories enable systemd units at boot.
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Where `unit` is enabled: the `*.wants/` (or `*.requires/`) link that pulls it in, if any.
/// When none is found, the directories that could not be listed and the links that could not
/// be looked up are noted in `notes` (the link may be there); once one is found, they do not
/// matter and are not noted.
pub fn enabled_unit(view: &GuestView, unit: &str, notes: &mut Vec<Note>) -> Option<String> {
    let mut unread = Vec::new();
    for dir in UNIT_DIRS {
        let Some(entries) = view.read_dir_noted(dir, &mut unread) else {
            continue;
        };
        for e in entries
            .iter()
            .filter(|e| e.name.ends_with(".wants") || e.name.ends_with(".requires"))
        {
            let p = format!("{dir}/{}/{unit}", e.name);
            match view.symlink_metadata(&p) {
                Ok(_) => return Some(p),
                Err(e) => unread.extend(Note::from_fs_error(&p, &e)),
            }
        }
    }
    notes.append(&mut unread);
    None
}

/// Whether `unit` is masked (a link to /dev/null in /etc/systemd/system). A link that could
/// not be looked up or read gives `false` and a note in `notes`.
pub fn masked_unit(view: &GuestView, unit: &str, notes: &mut Vec<Note>) -> bool {
    let p = format!("/etc/systemd/system/{unit}");
    match view.read_link(&p) {
        Ok(t) => t == "/dev/null",
        Err(e) => {
            notes.extend(Note::from_fs_error(&p, &e));
            false
        }
    }
}

/// A SysV start link (`/etc/rc?.d/S??name`) for `name`, if any. When none is found, the
/// runlevel directories that could not be listed are noted in `notes`, as
/// [`enabled_unit`] does.
pub fn sysv_start_link(view: &GuestView, name: &str, notes: &mut Vec<Note>) -> Option<String> {
    let mut unread = Vec::new();
    for level in ["2", "3", "5"] {
        let dir = format!("/etc/rc{level}.d");
        let Some(entries) = view.read_dir_noted(&dir, &mut unread) else {
            continue;
        };
        if let Some(e) = entries
            .iter()
            .find(|e| e.name.starts_with('S') && e.name.len() > 3 && &e.name[3..] == name)
        {
            return Some(format!("{dir}/{}", e.name));
        }
    }
    notes.append(&mut unread);
    None
}

/// One network configuration found in the image.
#[derive(Debug, Clone, Serialize)]
pub struct NetConfig {
    /// `ifupdown`, `netplan`, `networkd`, `ifcfg`, `NetworkManager`.
    pub kind: &'static str,
    /// The interface (or pattern) it applies to.
    pub iface: String,
    /// The interfaces it runs over: a bridge's or bond's members, a VLAN's parent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub over: Vec<String>,
    pub dhcp4: bool,
    /// A static IPv4 address.
    pub static_v4: bool,
    /// IPv6 enabled with a static address (`IPV6INIT=yes` + `IPV6ADDR`, `inet6 static`, an IPv6
    /// address in netplan or networkd).
    pub static_v6: bool,
    /// `IPV6INIT=yes` (ifcfg).
    pub ipv6_init: bool,
    /// Brought up at boot (`auto`/`allow-hotplug`, `ONBOOT`, `STARTMODE`).
    pub at_boot: bool,
    pub path: String,
    pub line: usize,
    pub text: String,
}

/// A line that pins the configuration to one machine's hardware.
#[derive(Debug, Clone, Serialize)]
pub struct Pinned {
    pub path: String,
    pub line: usize,
    pub text: String,
}

/// The image's network configuration, from every system it may use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Network {
    pub configs: Vec<NetConfig>,
    /// `HWADDR=`/`MACADDR=` in ifcfg files, udev persistent-net rules.
    pub pinned: Vec<Pinned>,
    /// cloud-init is installed and its network configuration is not disabled.
    pub cloud_init: Option<String>,
    /// netplan files that are not valid YAML: netplan refuses them and writes no configuration
    /// at all, so no netplan definition is in `configs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub netplan_invalid: Vec<Pinned>,
    /// Bounds reached while reading the configuration (a file's YAML nested too deep, too
    /// many ifupdown `source` files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// Reads the network configuration (ifupdown, netplan, systemd-networkd, ifcfg for RHEL and
/// SUSE, NetworkManager keyfiles, cloud-init).
pub fn read_network(view: &GuestView) -> Network {
    use crate::config::network as n;
    let mut net = Network::default();
    // ifupdown, following `source` and `source-directory`.
    let mut queue = vec!["/etc/network/interfaces".to_string()];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        seen += 1;
        if seen > MAX_IFUPDOWN_FILES {
            net.notes.push(Note::bound(
                "MAX_IFUPDOWN_FILES",
                format!(
                    "ifupdown: more than {MAX_IFUPDOWN_FILES} files through source/source-directory, the limit: {path} and {} more are not read",
                    queue.len()
                ),
            ));
            break;
        }
        let Some(t) = view.read_noted(&path, &mut net.notes) else {
            continue;
        };
        let parsed = n::parse_interfaces(&t);
        for s in &parsed.sources {
            let pat = if s.pattern.starts_with('/') {
                s.pattern.clone()
            } else {
                format!("/etc/network/{}", s.pattern)
            };
            let pat = if s.directory {
                format!("{}/*", pat.trim_end_matches('/'))
            } else {
                pat
            };
            let mut found_notes = Vec::new();
            queue.extend(view.glob_noted(&pat, &mut found_notes));
            // Placed at the `source` line that asked for the glob.
            net.notes.extend(
                found_notes
                    .into_iter()
                    .map(|n| n.at(path.clone()).line(s.line)),
            );
        }
        for i in &parsed.ifaces {
            if i.name == "lo" {
                continue;
            }
            net.configs.push(NetConfig {
                kind: "ifupdown",
                over: Vec::new(),
                iface: i.name.clone(),
                dhcp4: i.family == "inet" && i.method == "dhcp",
                static_v4: i.family == "inet" && i.method == "static",
                static_v6: i.family == "inet6" && i.method == "static",
                ipv6_init: i.family == "inet6",
                at_boot: parsed.starts(&i.name),
                path: path.clone(),
                line: i.line,
                text: i.text.trim().to_string(),
            });
        }
    }
    // netplan: every file of /lib, /etc and /run/netplan, merged as netplan merges them.
    let mut netplan_files = view.glob_noted("/lib/netplan/*.yaml", &mut net.notes);
    netplan_files.extend(view.glob_noted("/etc/netplan/*.yaml", &mut net.notes));
    netplan_files.extend(view.glob_noted("/run/netplan/*.yaml", &mut net.notes));
    let mut plans = Vec::new();
    for path in n::netplan_file_order(&netplan_files) {
        let Some(t) = view.read_noted(&path, &mut net.notes) else {
            continue;
        };
        let plan = n::parse_netplan(&t);
        net.notes
            .extend(plan.notes.iter().map(|n| n.clone().at(path.clone())));
        if let Some(e) = &plan.invalid {
            net.netplan_invalid.push(Pinned {
                path: path.clone(),
                line: e.line,
                text: format!("not valid YAML: {}", e.message),
            });
        }
        plans.push((path, plan));
    }
    // One file netplan cannot parse and it generates nothing, from any file.
    if !net.netplan_invalid.is_empty() {
        plans.clear();
    }
    let defs = n::merge_netplan(plans.iter().map(|(p, plan)| (p.as_str(), plan)));
    // A member or parent id names another definition: its kernel interface name.
    let name_of = |id: &str| -> String {
        defs.iter()
            .find(|d| d.name == id)
            .map_or(id, |d| d.interface_name())
            .to_string()
    };
    for d in &defs {
        let v6 = d.addresses.iter().any(|a| a.value.contains(':'));
        let v4 = d.addresses.iter().any(|a| !a.value.contains(':'));
        let mut over: Vec<String> = d.members.iter().map(|m| name_of(&m.value)).collect();
        over.extend(d.link.iter().map(|l| name_of(&l.value)));
        let (path, line) = match (&d.dhcp4, d.addresses.first()) {
            (Some(x), _) => (x.path.clone(), x.line),
            (None, Some(a)) if v4 => (a.path.clone(), a.line),
            _ => (d.path.clone(), d.line),
        };
        net.configs.push(NetConfig {
            kind: "netplan",
            iface: d.interface_name().to_string(),
            over,
            dhcp4: d.dhcp4_enabled(),
            static_v4: v4,
            static_v6: v6,
            ipv6_init: v6,
            at_boot: true,
            path,
            line,
            text: format!("{}: dhcp4 {}", d.name, d.dhcp4_enabled()),
        });
        if let Some(m) = &d.match_macaddress {
            net.pinned.push(Pinned {
                path: m.path.clone(),
                line: m.line,
                text: match &d.set_name {
                    Some(s) => format!(
                        "{}: match: macaddress: {}, set-name: {}",
                        d.name, m.value, s.value
                    ),
                    None => format!("{}: match: macaddress: {}", d.name, m.value),
                },
            });
        }
    }
    // systemd-networkd.
    for dir in [
        "/etc/systemd/network",
        "/usr/lib/systemd/network",
        "/lib/systemd/network",
    ] {
        for path in view.glob_noted(&format!("{dir}/*.network"), &mut net.notes) {
            let Some(t) = view.read_noted(&path, &mut net.notes) else {
                continue;
            };
            let ini = n::parse_ini(&t);
            net.pinned.extend(mac_matches(&ini, &path));
            let (names, _) = ini.match_names();
            let dhcp = ini.dhcp();
            let addrs = ini.addresses();
            let (line, text) = dhcp
                .as_ref()
                .map(|d| (d.1.line, format!("DHCP={}", d.1.value)))
                .unwrap_or((1, String::new()));
            net.configs.push(NetConfig {
                kind: "networkd",
                over: Vec::new(),
                iface: if names.is_empty() {
                    "*".into()
                } else {
                    names.join(" ")
                },
                dhcp4: dhcp.as_ref().is_some_and(|d| d.0.ipv4()),
                static_v4: addrs.iter().any(|a| !a.value.contains(':')),
                static_v6: addrs.iter().any(|a| a.value.contains(':')),
                ipv6_init: addrs.iter().any(|a| a.value.contains(':')),
                at_boot: true,
                path,
                line,
                text,
            });
        }
    }
    // systemd .link files naming an interface after its MAC address.
    for dir in [
        "/etc/systemd/network",
        "/usr/lib/systemd/network",
        "/lib/systemd/network",
    ] {
        for path in view.glob_noted(&format!("{dir}/*.link"), &mut net.notes) {
            if let Some(t) = view.read_noted(&path, &mut net.notes) {
                net.pinned.extend(mac_matches(&n::parse_ini(&t), &path));
            }
        }
    }
    // ifcfg: RHEL (network-scripts) and SUSE (sysconfig/network).
    for dir in ["/etc/sysconfig/network-scripts", "/etc/sysconfig/network"] {
        for path in view.glob_noted(&format!("{dir}/ifcfg-*"), &mut net.notes) {
            let name = path.rsplit("ifcfg-").next().unwrap_or("").to_string();
            if name == "lo" || name.ends_with('~') || name.contains(".bak") {
                continue;
            }
            let Some(t) = view.read_noted(&path, &mut net.notes) else {
                continue;
            };
            let kv = crate::config::keyvalue::parse(&t);
            net.notes.extend(kv.notes_at(&path));
            let c = n::Ifcfg::from_keyvalues(&kv);
            let startmode = kv.value("STARTMODE").map(|s| s.trim().to_ascii_lowercase());
            let at_boot = match startmode.as_deref() {
                Some("auto") | Some("hotplug") | Some("onboot") | Some("nfsroot") => true,
                Some(_) => false,
                None => c.onboot(),
            };
            let (line, text) = c
                .bootproto
                .as_ref()
                .map(|e| (e.line, e.raw.trim().to_string()))
                .unwrap_or((1, String::new()));
            for e in [&c.hwaddr, &c.macaddr].into_iter().flatten() {
                net.pinned.push(Pinned {
                    path: path.clone(),
                    line: e.line,
                    text: e.raw.trim().to_string(),
                });
            }
            net.configs.push(NetConfig {
                kind: "ifcfg",
                over: Vec::new(),
                iface: name,
                dhcp4: c.is_dhcp(),
                static_v4: !c.is_dhcp() && c.ipaddr.is_some(),
                static_v6: c.ipv6_static(),
                ipv6_init: c.ipv6init(),
                at_boot,
                path,
                line,
                text,
            });
        }
    }
    // NetworkManager keyfiles.
    for path in view.glob_noted(
        "/etc/NetworkManager/system-connections/*.nmconnection",
        &mut net.notes,
    ) {
        let Some(t) = view.read_noted(&path, &mut net.notes) else {
            continue;
        };
        let ini = n::parse_ini(&t);
        for section in ["ethernet", "802-3-ethernet"] {
            if let Some(e) = ini
                .get(section, "mac-address")
                .filter(|e| !e.value.trim().is_empty())
            {
                net.pinned.push(Pinned {
                    path: path.clone(),
                    line: e.line,
                    text: format!("[{section}] mac-address={}", e.value),
                });
            }
        }
        let iface = ini
            .get("connection", "interface-name")
            .map(|e| e.value.clone())
            .unwrap_or_else(|| "*".into());
        let m4 = ini.get("ipv4", "method");
        let m6 = ini.get("ipv6", "method");
        net.configs.push(NetConfig {
            kind: "NetworkManager",
            over: Vec::new(),
            iface,
            dhcp4: m4.is_none_or(|m| m.value == "auto"),
            static_v4: m4.is_some_and(|m| m.value == "manual"),
            static_v6: m6.is_some_and(|m| m.value == "manual"),
            ipv6_init: m6.is_some_and(|m| m.value != "disabled" && m.value != "ignore"),
            at_boot: true,
            line: m4.map_or(1, |m| m.line),
            text: m4
                .map(|m| format!("method={}", m.value))
                .unwrap_or_default(),
            path,
        });
    }
    // udev rules pinning interface names to MAC addresses.
    for dir in ["/etc/udev/rules.d", "/lib/udev/rules.d"] {
        let Some(entries) = view.read_dir_noted(dir, &mut net.notes) else {
            continue;
        };
        for e in entries
            .iter()
            .filter(|e| n::is_persistent_net_rules_file(&e.name))
        {
            let path = format!("{dir}/{}", e.name);
            let Some(t) = view.read_noted(&path, &mut net.notes) else {
                continue;
            };
            for r in n::persistent_net_rules(&t) {
                net.pinned.push(Pinned {
                    path: path.clone(),
                    line: r.line,
                    text: r.text.trim().to_string(),
                });
            }
        }
    }
    // The generator that writes 70-persistent-net.rules at the next boot, unless masked (an
    // empty file or a link to /dev/null of that name in /etc/udev/rules.d shadows the one in
    // /lib/udev/rules.d).
    let generator = "75-persistent-net-generator.rules";
    let etc_gen = format!("/etc/udev/rules.d/{generator}");
    let masked = view.read_link(&etc_gen).is_ok_and(|t| t == "/dev/null")
        || view
            .read_config(&etc_gen)
            .is_ok_and(|t| t.trim().is_empty());
    if !masked {
        for dir in [
            "/etc/udev/rules.d",
            "/lib/udev/rules.d",
            "/usr/lib/udev/rules.d",
        ] {
            let path = format!("{dir}/{generator}");
            let Some(t) = view.read_noted(&path, &mut net.notes) else {
                continue;
            };
            if let Some((line, text)) = crate::config::numbered_lines(&t)
                .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            {
                net.pinned.push(Pinned {
                    path,
                    line,
                    text: format!("persistent-net generator enabled: {}", text.trim()),
                });
            }
            break;
        }
    }
    // cloud-init configures DHCP on the primary NIC on Azure unless told not to.
    if view.exists("/etc/cloud/cloud.cfg")
        && (view.exists("/usr/bin/cloud-init")
            || view.exists("/usr/lib/python3/dist-packages/cloudinit"))
    {
        let mut files = vec!["/etc/cloud/cloud.cfg".to_string()];
        files.extend(view.glob_noted("/etc/cloud/cloud.cfg.d/*.cfg", &mut net.notes));
        let mut disabled = false;
        for f in &files {
            let Some(t) = view.read_noted(f, &mut net.notes) else {
                continue;
            };
            let doc = crate::config::yaml::read(&t);
            net.notes
                .extend(doc.bounds.into_iter().map(|n| n.at(f.clone())));
            // cloud-init reads a file that is not valid YAML as empty (and logs it).
            let y = match doc.error {
                Some(e) => {
                    net.notes.push(
                        Note::syntax(format!(
                            "line {}: not valid YAML ({}); cloud-init ignores this file",
                            e.line, e.message
                        ))
                        .at(f.clone())
                        .line(e.line),
                    );
                    crate::config::yaml::Yaml::Null
                }
                None => doc.root,
            };
            if y.path(&["network", "config"])
                .and_then(|(v, _)| v.as_str())
                .is_some_and(|v| v == "disabled")
            {
                disabled = true;
                break;
            }
        }
        if !disabled {
            net.cloud_init = Some("/etc/cloud/cloud.cfg".into());
        }
    }
    net
}

#[cfg(test)]
mod rpm_database_tests {
    use super::*;
    use crate::packages::rpmdb_bdb::tests::blob;
    use crate::packages::rpmdb_ndb;
    use vhdlint_fs::mem::MemFs;

    fn packages(fs: MemFs) -> Packages {
        Facts::default().packages(&GuestView::of(fs)).clone()
    }

    #[test]
    fn the_ndb_database_is_read_before_a_berkeley_db_beside_it() {
        let mut fs = MemFs::default();
        fs.file(
            "/var/lib/rpm/Packages.db",
            rpmdb_ndb::write(&[(1, blob("WALinuxAgent", 0))]),
        );
        fs.file("/var/lib/rpm/Packages", "left over from a conversion");
        // Another directory is not looked at once one has a database.
        fs.file("/usr/lib/sysimage/rpm/Packages", "not looked at");
        let p = packages(fs);
        assert_eq!(p.database, Some("rpm"));
        let agent = &p.installed["WALinuxAgent"];
        assert_eq!(agent.version, "1.0-1");
        assert_eq!(agent.path, "/var/lib/rpm/Packages.db");
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert_eq!(p.notes[0].kind, crate::note::NoteKind::Ignored);
        assert!(p.notes[0].text.contains(
            "/var/lib/rpm/Packages: not read; rpm's database here is /var/lib/rpm/Packages.db"
        ));
    }

    #[test]
    fn a_damaged_berkeley_db_is_unreadable_and_names_itself() {
        let mut fs = MemFs::default();
        fs.file("/usr/lib/sysimage/rpm/Packages", vec![0u8; 4096]);
        let p = packages(fs);
        assert_eq!(p.database, None);
        assert!(p.installed.is_empty());
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert!(p.notes[0].is_unreadable());
        assert!(
            p.notes[0]
                .text
                .starts_with("/usr/lib/sysimage/rpm/Packages: Berkeley DB meta page, offset 12"),
            "{}",
            p.notes[0].text
        );
    }

    #[test]
    fn sqlite_comes_first() {
        let mut fs = MemFs::default();
        fs.file("/var/lib/rpm/rpmdb.sqlite", "not SQLite");
        fs.file(
            "/var/lib/rpm/Packages.db",
            rpmdb_ndb::write(&[(1, blob("x", 0))]),
        );
        let p = packages(fs);
        assert!(p.installed.is_empty());
        assert!(p.notes[0]
            .text
            .contains("/var/lib/rpm/rpmdb.sqlite: not an SQLite 3"));
        assert!(p.notes[1]
            .text
            .contains("/var/lib/rpm/Packages.db: not read"));
    }
}
