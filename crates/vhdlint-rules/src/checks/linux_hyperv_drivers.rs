use vhdlint_guest::facts::{Facts, InitramfsRead, Kernel};
use vhdlint_guest::limits::{MAX_INITRAMFS_FILE_BYTES, MAX_MODULES_DEP_BYTES};
use vhdlint_guest::view::GuestView;

use super::version_cmp;
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::policy::Level;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/hyperv-drivers",
    title: "Hyper-V drivers",
    what: "For the default kernel (from the boot entry, else the newest in /lib/modules): hv_vmbus, hv_storvsc and hv_netvsc (the current policy adds hyperv_keyboard, as LISA's verify_initrd_modules) must be built in (modules.builtin, or =y in /boot/config-VERSION) or present as modules (modules.dep); modules must also be inside the kernel's initramfs (cpio, gzip/xz/zstd/lz4/bzip2, with an early-microcode archive in front), or the root disk cannot be found at boot: a module missing from it warns under the guide and fails under the current policy.",
    why: "Azure's virtual hardware is Hyper-V: without the VMBus, storage and network drivers the kernel finds neither its disk nor its network. The storage driver must be in the initramfs because the root filesystem is on that disk; certification (LISA verify_initrd_modules) also wants the network and keyboard drivers there.",
    remedy: "Use a kernel with the Hyper-V drivers (the distribution's cloud/azure kernel), and add them to the initramfs: echo hv_vmbus hv_storvsc hv_netvsc hyperv_keyboard >> /etc/initramfs-tools/modules && update-initramfs -u (dracut: add_drivers+=\" hv_vmbus hv_storvsc hv_netvsc hyperv_keyboard \" in /etc/dracut.conf.d/hyperv.conf and dracut -f).",
    sources: &["Azure Marketplace VM image guide: Linux Integration Services (Hyper-V drivers)", "Azure docs, create-upload-generic: hv_vmbus and hv_storvsc in the initrd", "LISA HvModule.verify_initrd_modules"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual("the kernel and its drivers come from the distribution: install its Azure/cloud kernel in the build; the remedy names the initramfs steps");

/// The thresholds of this check: the `["linux/hyperv-drivers"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// The drivers required (names from [`KNOWN`]).
    pub drivers: Vec<String>,
    /// What a required driver that is a module but not in the initramfs gets.
    pub not_in_initramfs: Level,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            drivers: ["hv_vmbus", "hv_storvsc", "hv_netvsc"]
                .map(String::from)
                .to_vec(),
            not_in_initramfs: Level::Warning,
        }
    }

    pub fn current() -> Thresholds {
        // LISA's verify_initrd_modules: storvsc, netvsc, vmbus, hid_hyperv and
        // hyperv_keyboard unless built in; hid_hyperv missing is tolerated on Azure.
        Thresholds {
            drivers: ["hv_vmbus", "hv_storvsc", "hv_netvsc", "hyperv_keyboard"]
                .map(String::from)
                .to_vec(),
            not_in_initramfs: Level::Fail,
        }
    }

    /// A driver this check does not know where to look for is an error in the policy.
    pub fn validate(&self) -> Result<(), String> {
        for d in &self.drivers {
            if !KNOWN.iter().any(|k| k.name == *d) {
                return Err(format!(
                    "[\"linux/hyperv-drivers\"] drivers: \"{d}\" is not one of {}",
                    KNOWN.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A driver: its module name, the kernel option building it in, its directory under
/// kernel/ and its file name (without .ko).
pub struct Driver {
    pub name: &'static str,
    config: &'static str,
    dir: &'static str,
    file: &'static str,
}

/// The Hyper-V drivers a policy can ask for.
pub const KNOWN: &[Driver] = &[
    Driver {
        name: "hv_vmbus",
        config: "CONFIG_HYPERV",
        dir: "drivers/hv",
        file: "hv_vmbus",
    },
    Driver {
        name: "hv_storvsc",
        config: "CONFIG_HYPERV_STORAGE",
        dir: "drivers/scsi",
        file: "hv_storvsc",
    },
    Driver {
        name: "hv_netvsc",
        config: "CONFIG_HYPERV_NET",
        dir: "drivers/net/hyperv",
        file: "hv_netvsc",
    },
    Driver {
        name: "hyperv_keyboard",
        config: "CONFIG_HYPERV_KEYBOARD",
        dir: "drivers/input/serio",
        file: "hyperv-keyboard",
    },
    Driver {
        name: "hid_hyperv",
        config: "CONFIG_HID_HYPERV_MOUSE",
        dir: "drivers/hid",
        file: "hid-hyperv",
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    BuiltIn,
    Module,
    Missing,
}

/// The default kernel's `(version, modules directory)` as [`modules_dir`] finds it, or the
/// `error` outcome saying why there is none: it could not be looked up, or no kernel has one.
pub(crate) fn default_modules_dir(
    v: &GuestView,
    k: &Kernel,
    lookup: &mut Vec<Note>,
) -> Result<(String, String), Outcome> {
    let version = k.version.as_deref();
    match modules_dir(v, version, lookup) {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Outcome::error(format!(
            "no kernel modules directory (/lib/modules/VERSION) for {}",
            version.unwrap_or("any kernel")
        ))),
        Err(unread) => Err(Outcome::error(format!(
            "the modules directory of the default kernel {} could not be looked up",
            version.unwrap_or("")
        ))
        .noted(unread)),
    }
}

/// Where the initramfs of kernel `version` may be: the boot entry's, then Debian's and the
/// Red Hat family's names.
pub(crate) fn initramfs_candidates(k: &Kernel, version: &str) -> Vec<String> {
    k.initrd
        .iter()
        .cloned()
        .chain([
            format!("/boot/initrd.img-{version}"),
            format!("/boot/initramfs-{version}.img"),
        ])
        .collect()
}

/// The version and modules directory of kernel `version` (the default one), else of the
/// newest kernel with a modules directory. `Err` with what could not be looked up when the
/// default kernel's directory could not be: another kernel's would be judged in its place. A
/// directory of kernels that could not be listed is noted in `notes` (the newest may be there).
pub(crate) fn modules_dir(
    view: &GuestView,
    version: Option<&str>,
    notes: &mut Vec<Note>,
) -> Result<Option<(String, String)>, Vec<Note>> {
    let bases = ["/lib/modules", "/usr/lib/modules"];
    if let Some(v) = version {
        let mut unread = Vec::new();
        for b in bases {
            let d = format!("{b}/{v}");
            if view.exists_noted(&d, &mut unread) {
                return Ok(Some((v.to_string(), d)));
            }
        }
        if !unread.is_empty() {
            return Err(unread);
        }
    }
    let mut all: Vec<(String, String)> = Vec::new();
    for b in bases {
        for e in view.read_dir_noted(b, notes).unwrap_or_default() {
            all.push((e.name.clone(), format!("{b}/{}", e.name)));
        }
    }
    all.sort_by(|a, b| version_cmp(None, &a.0, &b.0));
    Ok(all.pop())
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    // Files a bound kept from being read, or that could not be read or looked up, where a
    // driver is looked for. They can only hide a driver: a pass stands and says so; a warning
    // or failure says it may be wrong.
    let mut bounds = Vec::new();
    // What could not be looked up when choosing the kernel and its initramfs: another kernel
    // or initramfs than the one that boots may have been judged, so the runner's rules apply.
    let mut lookup = Vec::new();
    let p = &ctx.policy.linux_hyperv_drivers;
    let drivers: Vec<&Driver> = KNOWN
        .iter()
        .filter(|k| p.drivers.iter().any(|d| d == k.name))
        .collect();
    let out = judge(
        &g.view,
        &g.facts,
        &drivers,
        p.not_in_initramfs,
        &mut bounds,
        &mut lookup,
    )
    .noted(lookup);
    if out.status == Status::Pass {
        out.aside(bounds)
    } else {
        out.noted(bounds)
    }
}

fn judge(
    v: &GuestView,
    facts: &Facts,
    drivers: &[&Driver],
    not_in_initramfs: Level,
    bounds: &mut Vec<Note>,
    lookup: &mut Vec<Note>,
) -> Outcome {
    let k = facts.kernel(v);
    let (version, dir) = match default_modules_dir(v, k, lookup) {
        Ok(found) => found,
        Err(o) => return o,
    };
    let builtin = v
        .read_noted(&format!("{dir}/modules.builtin"), bounds)
        .unwrap_or_default();
    let dep_path = format!("{dir}/modules.dep");
    let dep = match v.read_upto(&dep_path, MAX_MODULES_DEP_BYTES + 1) {
        Ok(b) if b.len() as u64 > MAX_MODULES_DEP_BYTES => {
            // Not read: the modules are looked for as files below instead.
            bounds.push(
                Note::bound(
                    "MAX_MODULES_DEP_BYTES",
                    format!("larger than {MAX_MODULES_DEP_BYTES} bytes, the limit: not read; modules looked for as files under {dir}/kernel"),
                )
                .at(dep_path),
            );
            String::new()
        }
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            bounds.extend(Note::from_fs_error(&dep_path, &e));
            String::new()
        }
    };
    let config = v
        .read_noted(&format!("/boot/config-{version}"), bounds)
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut ev = Vec::new();
    for d in drivers {
        let (name, file) = (d.name, d.file);
        // The names looked for, made once (not once per line: the files have thousands).
        let builtin_ko = format!("/{file}.ko");
        let config_y = format!("{}=y", d.config);
        let dep_keys = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"].map(|ext| format!("/{file}{ext}"));
        let in_builtin = builtin.lines().any(|l| l.trim_end().ends_with(&builtin_ko));
        let in_config = config.lines().any(|l| l.trim() == config_y);
        let module_line = dep.lines().enumerate().find(|(_, l)| {
            let key = l.split(':').next().unwrap_or("");
            dep_keys.iter().any(|k| key.ends_with(k.as_str()))
        });
        let mut hidden = Vec::new();
        let mut module_file = || {
            [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
                .iter()
                .map(|ext| format!("{dir}/kernel/{}/{file}{ext}", d.dir))
                .find(|p| v.exists_noted(p, &mut hidden))
        };
        let f = if in_builtin || in_config {
            ev.push(Evidence::path(
                if in_builtin {
                    format!("{dir}/modules.builtin")
                } else {
                    format!("/boot/config-{version}")
                },
                None,
                format!("{name} built in"),
            ));
            Found::BuiltIn
        } else if let Some((i, l)) = module_line {
            ev.push(Evidence::path(
                format!("{dir}/modules.dep"),
                Some(i + 1),
                l.split(':').next().unwrap_or("").to_string(),
            ));
            Found::Module
        } else if let Some(p) = module_file() {
            ev.push(Evidence::path(p, None, format!("{name} module")));
            Found::Module
        } else {
            Found::Missing
        };
        if f == Found::Missing {
            // Where the module could have been but could not be looked up.
            bounds.append(&mut hidden);
        }
        found.push((name, f));
    }
    let names: Vec<&str> = drivers.iter().map(|d| d.name).collect();
    let required = format!("{} built in, or modules in the initramfs", names.join(", "));
    let required = required.as_str();
    let missing: Vec<&str> = found
        .iter()
        .filter(|f| f.1 == Found::Missing)
        .map(|f| f.0)
        .collect();
    if !missing.is_empty() {
        return Outcome::fail(
            format!("kernel {version} lacks {}", missing.join(", ")),
            required,
        )
        .message(format!(
            "kernel {version} has neither built in nor as a module: {}",
            missing.join(", ")
        ))
        .evidence(Evidence::path(
            dir.clone(),
            None,
            "modules directory (modules.builtin, modules.dep)",
        ))
        .evidences(ev);
    }
    let modules: Vec<&str> = found
        .iter()
        .filter(|f| f.1 == Found::Module)
        .map(|f| f.0)
        .collect();
    let describe = |f: &[(&str, Found)]| {
        f.iter()
            .map(|(n, s)| {
                format!(
                    "{n} {}",
                    if *s == Found::BuiltIn {
                        "built in"
                    } else {
                        "module"
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if modules.is_empty() {
        return Outcome::pass(format!("kernel {version}: {}", describe(&found)), required)
            .evidences(ev);
    }
    let candidates = initramfs_candidates(k, &version);
    // An initramfs that could not be looked up is not taken for absent: the one it would have
    // been chosen over may not be the one that boots.
    let Some(initrd) = candidates.iter().find(|p| v.exists_noted(p, lookup)) else {
        return Outcome::warning(
            format!("kernel {version}: modules, no initramfs found"),
            required,
        )
        .message(format!(
            "the drivers are modules but no initramfs was found ({}) to confirm they load at boot",
            candidates.join(", ")
        ))
        .evidences(ev);
    };
    let read = facts.initramfs(v, initrd, &modules);
    let list = match &*read {
        InitramfsRead::Listed(l) => l,
        InitramfsRead::TooLarge => {
            return Outcome::warning(format!("kernel {version}: initramfs over {} MiB", MAX_INITRAMFS_FILE_BYTES >> 20), required)
                .message(format!("{initrd} is larger than {} MiB, the limit, and was not read, so whether the drivers are in it is unknown", MAX_INITRAMFS_FILE_BYTES >> 20))
                .evidence(Evidence::path(initrd.clone(), None, format!("larger than {MAX_INITRAMFS_FILE_BYTES} bytes, the limit: not read")))
                .evidences(ev)
        }
        InitramfsRead::Unreadable(e) => return Outcome::error(format!("{initrd}: {e}")),
        InitramfsRead::NotInitramfs(e) => {
            return Outcome::with_status(Status::Warning, format!("kernel {version}: initramfs unreadable"), required)
                .message(format!("{initrd} cannot be read as an initramfs ({e}), so whether the drivers are in it is unknown"))
                .evidence(Evidence::path(initrd.clone(), None, e.to_string()))
                .evidences(ev)
        }
    };
    let absent: Vec<&str> = modules
        .iter()
        .copied()
        .filter(|m| !list.has_module(m))
        .collect();
    ev.push(Evidence::path(
        initrd.clone(),
        None,
        if list.complete() {
            format!("{} members", list.members().len())
        } else {
            // Listing stopped at the member that completed the modules asked for.
            format!(
                "{} members read, up to the last of {}",
                list.members().len(),
                modules.join(", ")
            )
        },
    ));
    // Contents over the kept bounds: this check reads only the member list, so they do not
    // change its result, but they are shown.
    ev.extend(list.not_kept().iter().map(|n| {
        Evidence::path(
            initrd.clone(),
            None,
            format!("{n} (not needed here: only the member names are read)"),
        )
    }));
    if absent.is_empty() {
        return Outcome::pass(
            format!(
                "kernel {version}: {}; modules in {initrd}",
                describe(&found)
            ),
            required,
        )
        .evidences(ev);
    }
    Outcome::with_status(
        not_in_initramfs.status(),
        format!(
            "kernel {version}: {} not in the initramfs",
            absent.join(", ")
        ),
        required,
    )
    .message(format!(
        "{} are modules of kernel {version} but are missing from {initrd}",
        absent.join(", ")
    ))
    .evidences(ev)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::fs::FsError;

    use super::run;
    use crate::check::Status;
    use crate::policy::Policy;
    use crate::testing::{newc, run_linux, run_linux_with, run_no_linux, said, MemFs};
    use vhdlint_guest::limits::{
        MAX_CONFIG_BYTES, MAX_INITRAMFS_FILE_BYTES, MAX_INITRAMFS_KEPT_MEMBER,
        MAX_MODULES_DEP_BYTES,
    };

    const V: &str = "6.1.0-13-amd64";
    const DIR: &str = "/lib/modules/6.1.0-13-amd64";
    const INITRD: &str = "/boot/initrd.img-6.1.0-13-amd64";
    const BUILTIN: &str = "kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/scsi/hv_storvsc.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko\n";
    const DEP: &str = "kernel/drivers/hv/hv_vmbus.ko:\nkernel/drivers/scsi/hv_storvsc.ko.xz: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko.zst: kernel/drivers/hv/hv_vmbus.ko\n";

    /// An initramfs holding these modules of kernel `V`.
    fn initramfs(modules: &[&str]) -> Vec<u8> {
        let paths: Vec<String> = modules
            .iter()
            .map(|m| format!("usr/lib/modules/{V}/kernel/{m}"))
            .collect();
        let files: Vec<(&str, &[u8])> = paths
            .iter()
            .map(|p| (p.as_str(), &b"\x7fELF"[..]))
            .collect();
        newc(&files)
    }

    /// The three drivers as modules in an initramfs.
    fn all_modules() -> Vec<u8> {
        initramfs(&[
            "drivers/hv/hv_vmbus.ko",
            "drivers/scsi/hv_storvsc.ko.xz",
            "drivers/net/hyperv/hv_netvsc.ko.zst",
        ])
    }

    /// A guest whose default GRUB entry boots kernel `version` (with `initrd`, if any).
    fn booting(version: &str, initrd: Option<&str>) -> MemFs {
        let mut fs = MemFs::new();
        let initrd = initrd.map_or(String::new(), |i| format!("  initrd {i}\n"));
        fs.file(
            "/boot/grub/grub.cfg",
            format!("set default=0\nmenuentry 'Linux' {{\n  linux /boot/vmlinuz-{version} root=/dev/sda1\n{initrd}}}\n"),
        );
        fs
    }

    /// Kernel `V` booted by GRUB with its modules directory holding `modules.dep` = `dep`.
    fn with_dep(dep: &str) -> MemFs {
        let mut fs = booting(V, None);
        fs.file(&format!("{DIR}/modules.dep"), dep);
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn error_without_any_modules_directory() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert_eq!(
            o.message,
            "no kernel modules directory (/lib/modules/VERSION) for any kernel"
        );
    }

    #[test]
    fn error_without_a_modules_directory_for_the_default_kernel() {
        let o = run_linux(booting(V, None), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("no kernel modules directory (/lib/modules/VERSION) for {V}")
        );
    }

    #[test]
    fn passes_with_the_drivers_in_modules_builtin() {
        let mut fs = booting(V, None);
        fs.file(&format!("{DIR}/modules.builtin"), BUILTIN);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: hv_vmbus built in, hv_storvsc built in, hv_netvsc built in")
        );
        assert!(
            s.contains(&format!("{DIR}/modules.builtin hv_storvsc built in")),
            "{s}"
        );
        assert_eq!(o.evidence.len(), 3, "{s}");
    }

    #[test]
    fn passes_with_the_drivers_built_in_per_the_kernel_config() {
        let mut fs = booting(V, None);
        fs.dir(DIR).file(
            &format!("/boot/config-{V}"),
            "CONFIG_HYPERV=y\n CONFIG_HYPERV_STORAGE=y \nCONFIG_HYPERV_NET=y\n",
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(
            s.contains(&format!("/boot/config-{V} hv_netvsc built in")),
            "{s}"
        );
    }

    #[test]
    fn fails_when_a_driver_is_missing() {
        let mut fs = booting(V, None);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/scsi/hv_storvsc.ko\n",
        )
        .file(&format!("/boot/config-{V}"), "CONFIG_HYPERV_NET=m\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("kernel {V} lacks hv_netvsc"));
        assert_eq!(
            o.message,
            format!("kernel {V} has neither built in nor as a module: hv_netvsc")
        );
        assert!(s.contains(&format!("{DIR} modules directory")), "{s}");
    }

    #[test]
    fn fails_listing_every_missing_driver() {
        let mut fs = booting(V, None);
        fs.dir(DIR);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(
            o.actual,
            format!("kernel {V} lacks hv_vmbus, hv_storvsc, hv_netvsc")
        );
    }

    #[test]
    fn judges_the_default_kernel_not_the_newest() {
        let old = "5.10.0-9-amd64";
        let mut fs = booting(old, None);
        fs.file(&format!("/lib/modules/{old}/modules.builtin"), BUILTIN)
            .dir(DIR);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.starts_with(&format!("kernel {old}: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn finds_the_default_kernel_under_usr_lib_modules() {
        let mut fs = booting(V, None);
        fs.file(&format!("/usr/lib/modules/{V}/modules.builtin"), BUILTIN)
            .dir("/lib/modules/9.9.9");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(
            s.contains(&format!("/usr/lib/modules/{V}/modules.builtin")),
            "{s}"
        );
    }

    #[test]
    fn without_a_boot_entry_judges_the_newest_kernel() {
        let mut fs = MemFs::new();
        fs.dir("/lib/modules/6.1.0-9-amd64")
            .dir("/usr/lib/modules/5.10.0-30-amd64")
            .file(&format!("{DIR}/modules.builtin"), BUILTIN);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.starts_with(&format!("kernel {V}: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn judges_the_newest_kernel_when_the_default_has_no_modules() {
        let mut fs = booting("7.0.0", None);
        fs.dir("/lib/modules/6.1.0-9-amd64")
            .file(&format!("{DIR}/modules.builtin"), BUILTIN);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.starts_with(&format!("kernel {V}: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_with_modules_in_modules_dep_and_the_initramfs() {
        let mut fs = with_dep(&format!("kernel/other.ko:\n{DEP}"));
        fs.file(INITRD, all_modules());
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: hv_vmbus module, hv_storvsc module, hv_netvsc module; modules in {INITRD}")
        );
        assert!(
            s.contains(&format!(
                "{DIR}/modules.dep:3 kernel/drivers/scsi/hv_storvsc.ko.xz"
            )),
            "{s}"
        );
        assert!(s.contains(&format!("{INITRD} 3 members")), "{s}");
    }

    #[test]
    fn finds_gzip_modules_in_modules_dep() {
        let mut fs = with_dep(&DEP.replace("hv_vmbus.ko:", "hv_vmbus.ko.gz:"));
        fs.file(INITRD, all_modules());
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(
            s.contains(&format!(
                "{DIR}/modules.dep:1 kernel/drivers/hv/hv_vmbus.ko.gz"
            )),
            "{s}"
        );
    }

    #[test]
    fn a_module_named_only_after_the_colon_is_not_found() {
        // hv_vmbus appears in modules.dep only as a dependency of the others.
        let dep = "kernel/drivers/scsi/hv_storvsc.ko: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko: kernel/drivers/hv/hv_vmbus.ko\n";
        let o = run_linux(with_dep(dep), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, format!("kernel {V} lacks hv_vmbus"));
    }

    #[test]
    fn finds_modules_as_files_without_modules_dep() {
        let mut fs = booting(V, None);
        fs.file(&format!("{DIR}/kernel/drivers/hv/hv_vmbus.ko"), "")
            .file(&format!("{DIR}/kernel/drivers/scsi/hv_storvsc.ko.zst"), "")
            .file(
                &format!("{DIR}/kernel/drivers/net/hyperv/hv_netvsc.ko.gz"),
                "",
            )
            .file(INITRD, all_modules());
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(
            s.contains(&format!(
                "{DIR}/kernel/drivers/scsi/hv_storvsc.ko.zst hv_storvsc module"
            )),
            "{s}"
        );
        assert!(
            s.contains(&format!("{DIR}/kernel/drivers/net/hyperv/hv_netvsc.ko.gz")),
            "{s}"
        );
    }

    #[test]
    fn describes_built_in_drivers_beside_modules() {
        let mut fs = with_dep(DEP);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/drivers/hv/hv_vmbus.ko\n",
        )
        .file(INITRD, all_modules());
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            format!("kernel {V}: hv_vmbus built in, hv_storvsc module, hv_netvsc module; modules in {INITRD}")
        );
    }

    #[test]
    fn warns_without_an_initramfs() {
        let o = run_linux(with_dep(DEP), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, format!("kernel {V}: modules, no initramfs found"));
        assert!(
            o.message
                .contains(&format!("{INITRD}, /boot/initramfs-{V}.img")),
            "{s}"
        );
    }

    #[test]
    fn reads_the_initramfs_of_the_boot_entry() {
        let mut fs = booting(V, Some("/boot/custom-initrd"));
        fs.file(&format!("{DIR}/modules.dep"), DEP)
            .file("/boot/custom-initrd", all_modules())
            .file(INITRD, b"garbage");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.ends_with("; modules in /boot/custom-initrd"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn reads_the_rhel_initramfs_name() {
        let initrd = format!("/boot/initramfs-{V}.img");
        let mut fs = with_dep(DEP);
        fs.file(&initrd, all_modules());
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            o.actual.ends_with(&format!("; modules in {initrd}")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn warns_when_a_module_is_not_in_the_initramfs() {
        let mut fs = with_dep(DEP);
        fs.file(
            INITRD,
            initramfs(&["drivers/hv/hv_vmbus.ko", "drivers/net/hyperv/hv_netvsc.ko"]),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: hv_storvsc not in the initramfs")
        );
        assert!(o.message.starts_with("hv_storvsc "), "{s}");
        assert!(
            o.message.ends_with(&format!("missing from {INITRD}")),
            "{s}"
        );
        assert!(s.contains(&format!("{INITRD} 2 members")), "{s}");
    }

    /// DEP with hyperv_keyboard as a module too.
    const DEP_KEYBOARD: &str = "kernel/drivers/hv/hv_vmbus.ko:\nkernel/drivers/scsi/hv_storvsc.ko.xz: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko.zst: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/input/serio/hyperv-keyboard.ko.xz: kernel/drivers/hv/hv_vmbus.ko\n";

    #[test]
    fn current_fails_when_a_module_is_not_in_the_initramfs() {
        // LISA's verify_initrd_modules fails; the guide only warns.
        let mut fs = with_dep(DEP);
        fs.file(
            INITRD,
            initramfs(&["drivers/hv/hv_vmbus.ko", "drivers/net/hyperv/hv_netvsc.ko"]),
        );
        let mut p = Policy::current();
        p.linux_hyperv_drivers
            .drivers
            .retain(|d| d != "hyperv_keyboard");
        let o = run_linux_with(fs, &p, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: hv_storvsc not in the initramfs")
        );
    }

    #[test]
    fn current_asks_for_hyperv_keyboard_in_the_initramfs() {
        let three = [
            "drivers/hv/hv_vmbus.ko",
            "drivers/scsi/hv_storvsc.ko.xz",
            "drivers/net/hyperv/hv_netvsc.ko.zst",
        ];
        let mut fs = with_dep(DEP_KEYBOARD);
        fs.file(INITRD, initramfs(&three));
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: hyperv_keyboard not in the initramfs")
        );
        assert_eq!(
            o.required,
            "hv_vmbus, hv_storvsc, hv_netvsc, hyperv_keyboard built in, or modules in the initramfs"
        );
        // The guide does not ask for it.
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        // With the keyboard module (its file name has a dash) in the initramfs: a pass.
        let mut fs = with_dep(DEP_KEYBOARD);
        let mut all = three.to_vec();
        all.push("drivers/input/serio/hyperv-keyboard.ko.xz");
        fs.file(INITRD, initramfs(&all));
        let o = run_linux_with(fs, &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(o.actual.contains("hyperv_keyboard module"), "{s}");
    }

    #[test]
    fn current_fails_without_hyperv_keyboard_and_passes_with_it_built_in() {
        let mut fs = booting(V, None);
        fs.file(&format!("{DIR}/modules.builtin"), BUILTIN);
        let o = run_linux_with(fs.clone(), &Policy::current(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(
            o.message,
            format!("kernel {V} has neither built in nor as a module: hyperv_keyboard")
        );
        fs.file(&format!("/boot/config-{V}"), "CONFIG_HYPERV_KEYBOARD=y\n");
        let o = run_linux_with(fs, &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn a_policy_naming_an_unknown_driver_is_refused() {
        let e = Policy::from_toml(
            "extends = \"current\"\n[\"linux/hyperv-drivers\"]\ndrivers = [\"hv_vmbus\", \"hv_floppy\"]\n",
            "mine.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"hv_floppy\" is not one of"), "{e}");
        let p = Policy::from_toml(
            "extends = \"guide\"\n[\"linux/hyperv-drivers\"]\ndrivers = [\"hid_hyperv\"]\nnot-in-initramfs = \"fail\"\n",
            "mine.toml",
        )
        .unwrap();
        assert_eq!(p.linux_hyperv_drivers.drivers, ["hid_hyperv"]);
    }

    #[test]
    fn built_in_drivers_need_not_be_in_the_initramfs() {
        let mut fs = with_dep(DEP);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/drivers/scsi/hv_storvsc.ko\n",
        )
        .file(
            INITRD,
            initramfs(&["drivers/hv/hv_vmbus.ko", "drivers/net/hyperv/hv_netvsc.ko"]),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_when_the_initramfs_is_unreadable() {
        let mut fs = with_dep(DEP);
        fs.file(INITRD, b"garbage, not an archive");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, format!("kernel {V}: initramfs unreadable"));
        assert!(
            o.message
                .starts_with(&format!("{INITRD} cannot be read as an initramfs")),
            "{s}"
        );
    }

    #[test]
    fn warns_when_the_initramfs_is_over_its_bound() {
        let mut fs = with_dep(DEP);
        fs.repeat(INITRD, 0, MAX_INITRAMFS_FILE_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, format!("kernel {V}: initramfs over 256 MiB"));
        assert!(
            o.evidence.iter().any(|e| e.path.as_deref() == Some(INITRD)),
            "{s}"
        );
    }

    #[test]
    fn error_when_the_initramfs_cannot_be_read() {
        let mut fs = with_dep(DEP);
        fs.dir(INITRD);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            o.message.starts_with(&format!("{INITRD}: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn names_initramfs_members_too_large_to_keep() {
        let big = vec![b'\n'; MAX_INITRAMFS_KEPT_MEMBER as usize + 1];
        // modules.dep comes first: listing stops at the last driver.
        let mut members: Vec<(String, Vec<u8>)> =
            vec![(format!("usr/lib/modules/{V}/modules.dep"), big)];
        members.extend(
            [
                "drivers/hv/hv_vmbus.ko",
                "drivers/scsi/hv_storvsc.ko",
                "drivers/net/hyperv/hv_netvsc.ko",
            ]
            .iter()
            .map(|m| {
                (
                    format!("usr/lib/modules/{V}/kernel/{m}"),
                    b"\x7fELF".to_vec(),
                )
            }),
        );
        let files: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let mut fs = with_dep(DEP);
        fs.file(INITRD, newc(&files));
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        let about_initrd = o
            .evidence
            .iter()
            .filter(|e| e.path.as_deref() == Some(INITRD))
            .count();
        assert_eq!(about_initrd, 2, "{s}");
        assert!(
            s.contains(&format!(
                "{INITRD} 4 members read, up to the last of hv_vmbus, hv_storvsc, hv_netvsc"
            )),
            "{s}"
        );
    }

    #[test]
    fn a_pass_stands_with_a_modules_dep_over_its_bound() {
        let dep = format!("{DIR}/modules.dep");
        let mut fs = booting(V, None);
        fs.repeat(&dep, b'\n', MAX_MODULES_DEP_BYTES + 1)
            .file(&format!("{DIR}/kernel/drivers/hv/hv_vmbus.ko"), "")
            .file(&format!("{DIR}/kernel/drivers/scsi/hv_storvsc.ko"), "")
            .file(&format!("{DIR}/kernel/drivers/net/hyperv/hv_netvsc.ko"), "")
            .file(INITRD, all_modules());
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some(dep.as_str())),
            "{s}"
        );
    }

    #[test]
    fn a_modules_dep_at_its_bound_is_read() {
        let mut text = DEP.as_bytes().to_vec();
        text.resize(MAX_MODULES_DEP_BYTES as usize, b'\n');
        let mut fs = booting(V, None);
        fs.file(&format!("{DIR}/modules.dep"), text)
            .file(INITRD, all_modules());
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert!(s.contains(&format!("{DIR}/modules.dep:1 ")), "{s}");
        assert!(
            !o.evidence.iter().any(|e| e.path.as_deref()
                == Some(&format!("{DIR}/modules.dep")[..])
                && e.line.is_none()),
            "{s}"
        );
    }

    #[test]
    fn a_failure_names_a_modules_builtin_over_its_bound() {
        let builtin = format!("{DIR}/modules.builtin");
        let mut fs = booting(V, None);
        fs.repeat(&builtin, b'\n', MAX_CONFIG_BYTES + 1);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(
            o.evidence
                .iter()
                .any(|e| e.path.as_deref() == Some(builtin.as_str())),
            "{s}"
        );
    }

    #[test]
    fn error_when_the_default_kernels_modules_cannot_be_looked_up() {
        // The default kernel's directory is behind one that cannot be read: a newer kernel
        // beside it is not judged in its place.
        let mut fs = booting(V, None);
        fs.link(DIR, "/srv/broken/modules")
            .broken_dir(
                "/srv/broken",
                FsError::Corrupt("/srv/broken: bad directory block".into()),
            )
            .file("/lib/modules/9.9.9/modules.builtin", BUILTIN);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/srv/broken: bad directory block"), "{s}");
        assert!(s.contains(&format!("default kernel {V}")), "{s}");
    }

    #[test]
    fn error_when_a_directory_of_kernels_cannot_be_listed() {
        // Without a boot entry the newest kernel is judged: it may be in /lib/modules.
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/lib/modules",
            FsError::Io("/lib/modules: read error".into()),
        )
        .file("/usr/lib/modules/5.10.0-30-amd64/modules.builtin", BUILTIN);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/lib/modules: read error"), "{s}");
    }

    #[test]
    fn a_missing_driver_names_where_it_could_not_be_looked_for() {
        // hv_storvsc is neither built in nor listed: modules.dep and its module's directory
        // cannot be read.
        let mut fs = booting(V, None);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko\n",
        )
        .broken_file(
            &format!("{DIR}/modules.dep"),
            FsError::Corrupt("modules.dep: bad extent".into()),
        )
        .broken_dir(
            &format!("{DIR}/kernel/drivers/scsi"),
            FsError::Corrupt("drivers/scsi: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("modules.dep: bad extent"), "{s}");
        assert!(s.contains("drivers/scsi: bad directory block"), "{s}");
    }

    #[test]
    fn error_when_the_initramfs_cannot_be_looked_up() {
        let mut fs = with_dep(DEP);
        fs.link(INITRD, "/srv/broken/initrd")
            .broken_dir("/srv/broken", FsError::Io("/srv/broken: read error".into()));
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/srv/broken: read error"), "{s}");
    }
}
