use vhdlint_guest::devices;
use vhdlint_guest::facts::{InitramfsRead, FSTAB};
use vhdlint_guest::view::GuestView;

use super::linux_hyperv_drivers::{default_modules_dir, initramfs_candidates};
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/nvme",
    title: "NVMe boot",
    what: "For the default kernel (from the boot entry, else the newest in /lib/modules): the nvme and nvme_core drivers are built in (modules.builtin, or CONFIG_BLK_DEV_NVME=y / CONFIG_NVME_CORE=y in /boot/config-VERSION) or are modules inside the kernel's initramfs (the same listing linux/hyperv-drivers reads). Under the current policy the boot entry's command line should also carry nvme_core.io_timeout=240. fstab entries mounted at boot and root= that use /dev/sdX names warn: on NVMe sizes the OS disk is /dev/nvme0n1. Always a warning, never a failure: an image need not declare NVMe support.",
    why: "Azure's newer VM sizes (Ebsv5, Dasv6/Easv6 and later) present the OS disk on an NVMe controller, not SCSI: a kernel that cannot load the nvme driver before the root filesystem is mounted never finds its disk. Azure's NVMe guidance sets nvme_core.io_timeout=240 so that I/O is not failed during host servicing, and SCSI names such as /dev/sda do not exist there.",
    remedy: "Add the drivers to the initramfs (Debian/Ubuntu: echo nvme >> /etc/initramfs-tools/modules && update-initramfs -u; dracut: add_drivers+=\" nvme nvme-core \" in /etc/dracut.conf.d/nvme.conf and dracut -f), add nvme_core.io_timeout=240 to GRUB_CMDLINE_LINUX and regenerate grub.cfg, and name filesystems by UUID in /etc/fstab.",
    sources: &[
        "Azure docs, Azure VM NVMe overview and FAQ (OS disk on NVMe, nvme_core.io_timeout=240)",
        "Azure docs, Convert VMs from SCSI to NVMe: the nvme driver in the initramfs, UUIDs in fstab",
    ],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the drivers go into the initramfs through the distribution's generator (initramfs-tools or dracut) run for the kernel that boots, and /dev/sdX names in fstab become UUIDs read from the attached disk: run the remedy's commands in the build VM",
);

/// The drivers: module name, the kernel config symbol that builds it in.
const DRIVERS: &[(&str, &str)] = &[
    ("nvme_core", "CONFIG_NVME_CORE"),
    ("nvme", "CONFIG_BLK_DEV_NVME"),
];

/// The timeout Azure's NVMe guidance sets, in seconds.
pub const IO_TIMEOUT: &str = "240";

/// Whether a modules.builtin line (`kernel/drivers/nvme/host/nvme-core.ko`) is module `name`
/// (dashes and underscores alike, as modprobe reads them).
fn builtin_line_is(line: &str, name: &str) -> bool {
    let file = line.trim().rsplit('/').next().unwrap_or("");
    file.strip_suffix(".ko")
        .is_some_and(|stem| stem.replace('-', "_") == name.replace('-', "_"))
}

/// What the drivers are: problems (empty when they load at boot), what was found, evidence.
fn drivers(
    v: &GuestView,
    facts: &vhdlint_guest::facts::Facts,
    lookup: &mut Vec<Note>,
    bounds: &mut Vec<Note>,
) -> Result<(Vec<String>, String, Vec<Evidence>), Outcome> {
    let k = facts.kernel(v);
    let (version, dir) = default_modules_dir(v, k, lookup)?;
    let builtin_path = format!("{dir}/modules.builtin");
    let builtin = v.read_noted(&builtin_path, bounds).unwrap_or_default();
    let config_path = format!("/boot/config-{version}");
    let config = v.read_noted(&config_path, bounds).unwrap_or_default();
    let mut ev = Vec::new();
    let mut modules = Vec::new();
    let mut found = Vec::new();
    for (name, sym) in DRIVERS {
        let sym_y = format!("{sym}=y");
        if let Some((i, l)) = builtin
            .lines()
            .enumerate()
            .find(|(_, l)| builtin_line_is(l, name))
        {
            ev.push(Evidence::path(
                builtin_path.clone(),
                Some(i + 1),
                l.trim().to_string(),
            ));
            found.push(format!("{name} built in"));
        } else if let Some((i, l)) = config.lines().enumerate().find(|(_, l)| l.trim() == sym_y) {
            ev.push(Evidence::path(
                config_path.clone(),
                Some(i + 1),
                l.trim().to_string(),
            ));
            found.push(format!("{name} built in"));
        } else {
            modules.push(*name);
        }
    }
    if modules.is_empty() {
        return Ok((
            Vec::new(),
            format!("kernel {version}: {}", found.join(", ")),
            ev,
        ));
    }
    let candidates = initramfs_candidates(k, &version);
    ev.push(Evidence::path(
        dir.clone(),
        None,
        format!("{} not in modules.builtin", modules.join(", ")),
    ));
    let Some(initrd) = candidates.iter().find(|p| v.exists_noted(p, lookup)) else {
        return Ok((
            vec![format!(
                "{} not built into kernel {version} and no initramfs found ({})",
                modules.join(", "),
                candidates.join(", ")
            )],
            format!(
                "kernel {version}: {} not built in, no initramfs",
                modules.join(", ")
            ),
            ev,
        ));
    };
    let read = facts.initramfs(v, initrd, &modules);
    let list = match &*read {
        InitramfsRead::Listed(l) => l,
        InitramfsRead::Unreadable(e) => {
            return Err(Outcome::error(format!("{initrd}: {e}")).evidences(ev))
        }
        InitramfsRead::TooLarge | InitramfsRead::NotInitramfs(_) => {
            let why = match &*read {
                InitramfsRead::NotInitramfs(e) => format!("cannot be read as an initramfs ({e})"),
                _ => format!(
                    "is larger than {} MiB, the limit, and was not read",
                    vhdlint_guest::limits::MAX_INITRAMFS_FILE_BYTES >> 20
                ),
            };
            ev.push(Evidence::path(initrd.clone(), None, why.clone()));
            return Ok((
                vec![format!(
                    "{initrd} {why}, so whether {} load at boot is unknown",
                    modules.join(", ")
                )],
                format!("kernel {version}: initramfs unread"),
                ev,
            ));
        }
    };
    let mut problems = Vec::new();
    for name in &modules {
        match list.module(name) {
            Some(m) => {
                ev.push(Evidence::path(
                    initrd.clone(),
                    None,
                    format!("member {}", m.path()),
                ));
                found.push(format!("{name} module in the initramfs"));
            }
            None => {
                ev.push(Evidence::path(
                    initrd.clone(),
                    None,
                    format!("{} members, no {name} module", list.members().len()),
                ));
                problems.push(format!(
                    "{name} is neither built into kernel {version} nor in {initrd}"
                ));
                found.push(format!("{name} not in the initramfs"));
            }
        }
    }
    Ok((
        problems,
        format!("kernel {version}: {}", found.join(", ")),
        ev,
    ))
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let (mut lookup, mut bounds) = (Vec::new(), Vec::new());
    let (mut problems, mut actual, mut ev) =
        match drivers(&g.view, &g.facts, &mut lookup, &mut bounds) {
            Ok(r) => r,
            Err(o) => return o.noted(lookup),
        };
    let k = g.facts.kernel(&g.view);
    let current = ctx.policy.base == crate::policy::CURRENT;
    if current {
        match &k.boot_entry {
            Some(b) => match b.cmdline.last("nvme_core.io_timeout") {
                Some(p) if p.value.as_deref() == Some(IO_TIMEOUT) => {
                    ev.push(Evidence::path(b.path.clone(), b.line, p.text()));
                }
                Some(p) => {
                    problems.push(format!(
                        "{}: {} is not nvme_core.io_timeout={IO_TIMEOUT}",
                        b.path,
                        p.text()
                    ));
                    ev.push(Evidence::path(b.path.clone(), b.line, b.text.clone()));
                }
                None => {
                    problems.push(format!(
                        "{}: no nvme_core.io_timeout={IO_TIMEOUT} on the boot line",
                        b.path
                    ));
                    ev.push(Evidence::path(b.path.clone(), b.line, b.text.clone()));
                }
            },
            None => problems
                .push("no default boot entry was found to read nvme_core.io_timeout from".into()),
        }
    }
    // SCSI names: they do not exist on NVMe sizes.
    let sd = |name: &str| {
        name.strip_prefix("/dev/")
            .and_then(devices::kernel_name)
            .is_some()
            && name.starts_with("/dev/sd")
    };
    if let Ok(fstab) = g.facts.fstab(&g.view) {
        for e in fstab
            .entries
            .iter()
            .filter(|e| !e.has_option("nofail") && !e.has_option("noauto") && sd(&e.spec))
        {
            problems.push(format!(
                "{FSTAB} line {} mounts {} by its SCSI name",
                e.line, e.spec
            ));
            ev.push(Evidence::path(FSTAB, Some(e.line), e.text.clone()));
        }
    }
    if let Some(b) = &k.boot_entry {
        if let Some(p) = b
            .cmdline
            .last("root")
            .filter(|p| p.value.as_deref().is_some_and(sd))
        {
            problems.push(format!("{}: {} is a SCSI name", b.path, p.text()));
            ev.push(Evidence::path(b.path.clone(), b.line, p.text()));
        }
    }
    let required = if current {
        "nvme and nvme_core built in or in the initramfs, nvme_core.io_timeout=240, no /dev/sdX names"
    } else {
        "nvme and nvme_core built in or in the initramfs, no /dev/sdX names"
    };
    if problems.is_empty() {
        return Outcome::pass(actual, required)
            .evidences(ev)
            .noted(lookup)
            .aside(bounds);
    }
    if actual.is_empty() {
        actual = "-".into();
    }
    Outcome::with_status(Status::Warning, actual, required)
        .message(problems.join("; "))
        .evidences(ev)
        .noted(lookup)
        .noted(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::testing::{newc, run_linux, run_linux_with, said, MemFs};

    const V: &str = "6.1.0-13-cloud-amd64";
    const DIR: &str = "/lib/modules/6.1.0-13-cloud-amd64";
    const INITRD: &str = "/boot/initrd.img-6.1.0-13-cloud-amd64";
    const NVME: [&str; 2] = [
        "kernel/drivers/nvme/host/nvme-core.ko",
        "kernel/drivers/nvme/host/nvme.ko",
    ];

    /// A guest booting kernel V with `args`, its initramfs holding `modules` (paths under the
    /// kernel's modules directory).
    fn guest(args: &str, modules: &[&str]) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(
            "/boot/grub/grub.cfg",
            format!("menuentry 'Debian' {{\n  linux /boot/vmlinuz-{V} root=UUID=6a1f3c2e-4b5d-4e6f-8a9b-0c1d2e3f5a60 ro {args}\n  initrd {INITRD}\n}}\n"),
        )
        .file(&format!("{DIR}/modules.builtin"), "kernel/fs/ext4/ext4.ko\n")
        .file(&format!("{DIR}/modules.dep"), "kernel/drivers/nvme/host/nvme-core.ko:\nkernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko\n");
        let paths: Vec<String> = modules
            .iter()
            .map(|m| format!("usr/lib/modules/{V}/{m}"))
            .collect();
        let files: Vec<(&str, &[u8])> = paths
            .iter()
            .map(|p| (p.as_str(), &b"\x7fELF"[..]))
            .collect();
        fs.file(INITRD, newc(&files));
        fs
    }

    #[test]
    fn passes_with_the_modules_in_the_initramfs() {
        let o = run_linux(guest("console=ttyS0", &NVME), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            format!("kernel {V}: nvme_core module in the initramfs, nvme module in the initramfs")
        );
        assert!(
            said(&o).contains(&format!(
                "{INITRD} member usr/lib/modules/{V}/kernel/drivers/nvme/host/nvme-core.ko"
            )),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_with_the_drivers_built_in() {
        let mut fs = guest("console=ttyS0", &[]);
        fs.file(
            &format!("{DIR}/modules.builtin"),
            "kernel/drivers/nvme/host/nvme-core.ko\nkernel/drivers/nvme/host/nvme.ko\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(
            o.actual,
            format!("kernel {V}: nvme_core built in, nvme built in")
        );
        // Or as the kernel config says.
        let mut fs = guest("console=ttyS0", &[]);
        fs.file(
            &format!("/boot/config-{V}"),
            "CONFIG_NVME_CORE=y\nCONFIG_BLK_DEV_NVME=y\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        // =m is a module: it must then be in the initramfs.
        let mut fs = guest("console=ttyS0", &[]);
        fs.file(
            &format!("/boot/config-{V}"),
            "CONFIG_NVME_CORE=m\nCONFIG_BLK_DEV_NVME=m\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
    }

    #[test]
    fn warns_when_a_module_is_not_in_the_initramfs() {
        let o = run_linux(guest("console=ttyS0", &NVME[..1]), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            format!("nvme is neither built into kernel {V} nor in {INITRD}")
        );
        // nvme-core is not nvme.
        let o = run_linux(
            guest("console=ttyS0", &["kernel/drivers/nvme/host/nvme-core.ko"]),
            run,
        );
        assert!(o.message.contains("nvme is neither"), "{}", said(&o));
        assert!(!o.message.contains("nvme_core is neither"), "{}", said(&o));
    }

    #[test]
    fn warns_without_an_initramfs_or_an_unreadable_one() {
        let mut fs = guest("console=ttyS0", &[]);
        fs.file(INITRD, b"not an initramfs at all");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(
            o.message
                .starts_with(&format!("{INITRD} cannot be read as an initramfs")),
            "{}",
            said(&o)
        );
        let mut fs = MemFs::new();
        fs.file(
            "/boot/grub/grub.cfg",
            format!("menuentry 'D' {{\n  linux /boot/vmlinuz-{V} root=LABEL=r\n}}\n"),
        )
        .file(&format!("{DIR}/modules.builtin"), "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(o.message.contains("no initramfs found"), "{}", said(&o));
    }

    #[test]
    fn current_wants_the_io_timeout() {
        let o = run_linux_with(guest("console=ttyS0", &NVME), &Policy::current(), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            "/boot/grub/grub.cfg: no nvme_core.io_timeout=240 on the boot line"
        );
        for (args, status) in [
            ("nvme_core.io_timeout=240", Status::Pass),
            ("nvme-core.io_timeout=240", Status::Pass),
            ("nvme_core.io_timeout=30", Status::Warning),
            (
                "nvme_core.io_timeout=30 nvme_core.io_timeout=240",
                Status::Pass,
            ),
        ] {
            let o = run_linux_with(guest(args, &NVME), &Policy::current(), run);
            assert_eq!(o.status, status, "{args}: {}", said(&o));
        }
        // The guide does not ask for it.
        let o = run_linux(guest("console=ttyS0", &NVME), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn warns_for_scsi_names() {
        let mut fs = guest("console=ttyS0", &NVME);
        fs.file("/etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /mnt auto defaults,nofail 0 2\n/dev/nvme0n1p15 /boot/efi vfat defaults 0 0\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            "/etc/fstab line 1 mounts /dev/sda1 by its SCSI name"
        );
        let mut fs = MemFs::new();
        fs.file("/boot/grub/grub.cfg", format!("menuentry 'D' {{\n  linux /boot/vmlinuz-{V} root=/dev/sda1\n  initrd {INITRD}\n}}\n"))
            .file(&format!("{DIR}/modules.builtin"), "kernel/drivers/nvme/host/nvme-core.ko\nkernel/drivers/nvme/host/nvme.ko\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.message,
            "/boot/grub/grub.cfg: root=/dev/sda1 is a SCSI name"
        );
    }

    #[test]
    fn error_without_a_modules_directory() {
        let mut fs = MemFs::new();
        fs.file(
            "/boot/grub/grub.cfg",
            format!("menuentry 'D' {{\n  linux /boot/vmlinuz-{V} root=LABEL=r\n}}\n"),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        crate::testing::assert_errors_without_a_linux_guest(run);
    }
}
