use vhdlint_guest::initramfs::{self, Limits};
use vhdlint_guest::limits::{MAX_INITRAMFS_FILE_BYTES, MAX_MODULES_DEP_BYTES};
use vhdlint_guest::view::GuestView;

use super::version_cmp;
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/hyperv-drivers",
    title: "Hyper-V drivers",
    what: "For the default kernel (from the boot entry, else the newest in /lib/modules): hv_vmbus, hv_storvsc and hv_netvsc must be built in (modules.builtin, or =y in /boot/config-VERSION) or present as modules (modules.dep); modules must also be inside the kernel's initramfs (cpio, gzip/xz/zstd/lz4/bzip2, with an early-microcode archive in front), or the root disk cannot be found at boot.",
    why: "Azure's virtual hardware is Hyper-V: without the VMBus, storage and network drivers the kernel finds neither its disk nor its network. The storage driver must be in the initramfs because the root filesystem is on that disk.",
    remedy: "Use a kernel with the Hyper-V drivers (the distribution's cloud/azure kernel), and add them to the initramfs: echo hv_vmbus hv_storvsc hv_netvsc >> /etc/initramfs-tools/modules && update-initramfs -u (dracut: add_drivers+=\" hv_vmbus hv_storvsc hv_netvsc \" and dracut -f).",
    sources: &["Azure Marketplace VM image guide: Linux Integration Services (Hyper-V drivers)", "Azure docs, create-upload-generic: hv_vmbus and hv_storvsc in the initrd", "LISA verify_hv_kvp_daemon / initrd checks"],
    profiles: &[Profile::LinuxOs],
};

const DRIVERS: &[(&str, &str, &str)] = &[
    ("hv_vmbus", "CONFIG_HYPERV", "drivers/hv"),
    ("hv_storvsc", "CONFIG_HYPERV_STORAGE", "drivers/scsi"),
    ("hv_netvsc", "CONFIG_HYPERV_NET", "drivers/net/hyperv"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    BuiltIn,
    Module,
    Missing,
}

fn modules_dir(view: &GuestView, version: Option<&str>) -> Option<(String, String)> {
    let bases = ["/lib/modules", "/usr/lib/modules"];
    if let Some(v) = version {
        for b in bases {
            let d = format!("{b}/{v}");
            if view.exists(&d) {
                return Some((v.to_string(), d));
            }
        }
    }
    let mut all: Vec<(String, String)> = bases
        .iter()
        .flat_map(|b| {
            view.read_dir(b)
                .map(|es| {
                    es.into_iter()
                        .map(|e| (e.name.clone(), format!("{b}/{}", e.name)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    all.sort_by(|a, b| version_cmp(&a.0, &b.0));
    all.pop()
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    // Files a bound kept from being read. They can only hide a driver: a pass stands and says
    // so; a warning or failure says it may be wrong.
    let mut bounds = Vec::new();
    let out = judge(&g.view, g.facts.kernel(&g.view), &mut bounds);
    if out.status == Status::Pass {
        out.aside(bounds)
    } else {
        out.noted(bounds)
    }
}

fn judge(v: &GuestView, k: &vhdlint_guest::facts::Kernel, bounds: &mut Vec<Note>) -> Outcome {
    let Some((version, dir)) = modules_dir(v, k.version.as_deref()) else {
        return Outcome::error(format!(
            "no kernel modules directory (/lib/modules/VERSION) for {}",
            k.version.as_deref().unwrap_or("any kernel")
        ));
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
        Err(_) => String::new(),
    };
    let config = v
        .read_noted(&format!("/boot/config-{version}"), bounds)
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut ev = Vec::new();
    for (name, sym, sub) in DRIVERS {
        let in_builtin = builtin
            .lines()
            .any(|l| l.trim_end().ends_with(&format!("/{name}.ko")));
        let in_config = config.lines().any(|l| l.trim() == format!("{sym}=y"));
        let module_line = dep.lines().enumerate().find(|(_, l)| {
            let key = l.split(':').next().unwrap_or("");
            [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
                .iter()
                .any(|ext| key.ends_with(&format!("/{name}{ext}")))
        });
        let module_file = || {
            [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
                .iter()
                .map(|ext| format!("{dir}/kernel/{sub}/{name}{ext}"))
                .find(|p| v.exists(p))
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
        found.push((*name, f));
    }
    let required = "hv_vmbus, hv_storvsc, hv_netvsc built in, or modules in the initramfs";
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
    let candidates: Vec<String> = k
        .initrd
        .iter()
        .cloned()
        .chain([
            format!("/boot/initrd.img-{version}"),
            format!("/boot/initramfs-{version}.img"),
        ])
        .collect();
    let Some(initrd) = candidates.iter().find(|p| v.exists(p)) else {
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
    let bytes = match v.read_upto(initrd, MAX_INITRAMFS_FILE_BYTES + 1) {
        Ok(b) if b.len() as u64 > MAX_INITRAMFS_FILE_BYTES => {
            return Outcome::warning(format!("kernel {version}: initramfs over {} MiB", MAX_INITRAMFS_FILE_BYTES >> 20), required)
                .message(format!("{initrd} is larger than {} MiB, the limit, and was not read, so whether the drivers are in it is unknown", MAX_INITRAMFS_FILE_BYTES >> 20))
                .evidence(Evidence::path(initrd.clone(), None, format!("larger than {MAX_INITRAMFS_FILE_BYTES} bytes, the limit: not read")))
                .evidences(ev)
        }
        Ok(b) => b,
        Err(e) => return Outcome::error(format!("{initrd}: {e}")),
    };
    let list = match initramfs::list(&bytes, Limits::default()) {
        Ok(l) => l,
        Err(e) => {
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
        format!("{} members", list.members().len()),
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
    Outcome::warning(
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
