use vhdlint_guest::config::modprobe::{install_disables, Kind};
use vhdlint_guest::kmod::{read_modprobe, Modprobe};
use vhdlint_guest::view::GuestView;

use super::linux_hyperv_drivers::default_modules_dir;
use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/provisioning-deps",
    title: "Provisioning prerequisites",
    what: "For the default kernel (the boot entry's, else the newest in /lib/modules): the udf and vfat filesystems must be built in (modules.builtin, or CONFIG_UDF_FS/CONFIG_VFAT_FS=y in /boot/config-VERSION) or modules (modules.dep, or kernel/fs/udf/udf.ko*, kernel/fs/fat/vfat.ko*), and a module must not be disabled in modprobe.d as kmod reads it (/etc, /run, /usr/local/lib, /usr/lib and /lib modprobe.d/*.conf, a file of /etc hiding the same name elsewhere): `blacklist udf` fails, and so does an `install udf COMMAND` whose command runs neither modprobe nor insmod (/bin/true, /bin/false, `exit 0`…), and so does `modprobe.blacklist=udf` or `module_blacklist=udf` on the boot entry's command line. Fails when either filesystem is disabled or absent. Warns when a tool the Azure Linux Agent or cloud-init runs is missing from /usr/sbin, /usr/bin, /sbin and /bin: sfdisk or parted, mkfs.ext4 or mkfs.xfs, chpasswd, useradd, sudo, ip, openssl, ssh-keygen.",
    why: "Azure hands the VM its provisioning data (ovf-env.xml, custom data) on a virtual DVD with a UDF filesystem; the agent and cloud-init mount it with `mount -t udf`, for which the kernel loads udf through the alias fs-udf. A `blacklist udf` keeps modprobe from loading a module through its aliases, so the mount fails exactly as with `install udf /bin/true` (both are written by CIS hardening scripts): the VM never provisions and certification reports a provisioning timeout. vfat is the filesystem of the EFI system partition: disabling it breaks booting as well as provisioning. The tools are what the agent runs to partition and format the resource disk, create the user, set its password and sudo rights, configure the network and handle certificates and SSH keys.",
    remedy: "Remove the lines that disable udf or vfat from modprobe.d (CIS hardening: `install udf /bin/true`, `blacklist udf`), e.g. sed -i '/^\\(install\\|blacklist\\)[[:space:]]\\+udf/d' /etc/modprobe.d/*.conf, and use a kernel that has udf and vfat; install the missing tools (Debian/Ubuntu: fdisk, e2fsprogs, passwd, sudo, iproute2, openssl, openssh-client; RHEL: util-linux, e2fsprogs, shadow-utils, sudo, iproute, openssl, openssh).",
    sources: &["Azure docs, create-upload-generic (Linux kernel modules): disabling udf causes a provisioning failure, disabling vfat both provisioning and boot failures", "Azure Linux Agent and cloud-init: the provisioning DVD mounted as udf; the resource disk partitioned (sfdisk or parted) and formatted (mkfs.ext4/mkfs.xfs); the user made with useradd, chpasswd and a sudoers entry; ip, openssl and ssh-keygen for the network, certificates and keys"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the modprobe.d lines that disable udf or vfat (the
/// ones the check cited) are deleted. Missing tools are left to the remedy: installing them
/// needs the distribution's repositories, in the build.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    use crate::fix::sh_quote;
    let mut cited: Vec<(&str, u32)> = r
        .evidence
        .iter()
        .filter_map(|e| Some((e.path.as_deref()?, e.line?)))
        .filter(|(p, _)| p.contains("/modprobe.d/") && p.starts_with('/'))
        .collect();
    // Last lines first, so that deleting one does not move the others of the same file.
    cited.sort_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
    cited.dedup();
    if cited.is_empty() {
        return None;
    }
    let mut sh = String::new();
    for (path, line) in cited {
        sh.push_str(&format!(
            "f={}\nif [ -f \"$f\" ] && sed -n '{line}p' \"$f\" | grep -Eq '^[[:space:]]*(install|blacklist)[[:space:]]+(udf|vfat)([[:space:]]|$)'; then\n    sed -i '{line}d' \"$f\"; say \"deleted line {line} of $f (it disabled udf or vfat)\"\nfi\n",
            sh_quote(path)
        ));
    }
    Some(crate::fix::Block {
        changes: "deletes the modprobe.d lines that keep the udf or vfat module from loading (provisioning mounts the udf DVD and a vfat disk)".into(),
        sh,
    })
}

/// The filesystems: module name, Kconfig symbol, directory under kernel/.
const FILESYSTEMS: [(&str, &str, &str); 2] = [
    ("udf", "CONFIG_UDF_FS", "fs/udf"),
    ("vfat", "CONFIG_VFAT_FS", "fs/fat"),
];

/// The tools, each a list of alternatives.
const TOOLS: &[&[&str]] = &[
    &["sfdisk", "parted"],
    &["mkfs.ext4", "mkfs.xfs"],
    &["chpasswd"],
    &["useradd"],
    &["sudo"],
    &["ip"],
    &["openssl"],
    &["ssh-keygen"],
];

const BIN_DIRS: [&str; 4] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

const EXTS: [&str; 4] = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

enum Has {
    BuiltIn(Evidence),
    Module(Evidence),
    Missing,
}

/// How `name` is in kernel `version`'s modules directory `dir`.
/// Where `fs` is in kernel `version` (modules in `dir`); the kernel configuration is parsed
/// once per run ([`vhdlint_guest::facts::Facts::kernel_config`]).
fn find(
    v: &GuestView,
    version: &str,
    dir: &str,
    fs: (&str, &str, &str),
    facts: &vhdlint_guest::facts::Facts,
    notes: &mut Vec<Note>,
) -> Has {
    let (name, sym, sub) = fs;
    let builtin = format!("{dir}/modules.builtin");
    if let Some(t) = v.read_noted(&builtin, notes) {
        let ko = format!("/{name}.ko");
        if let Some((i, l)) = t
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_end().ends_with(&ko))
        {
            return Has::BuiltIn(Evidence::path(builtin, Some(i + 1), l.to_string()));
        }
    }
    let config = format!("/boot/config-{version}");
    if let Some(t) = v.read_noted(&config, notes) {
        let c = facts.kernel_config(&config, &t);
        if let Some(s) = c
            .get(sym)
            .filter(|s| s.value == vhdlint_guest::config::kconfig::Value::Yes)
        {
            return Has::BuiltIn(Evidence::path(config, Some(s.line), s.text.clone()));
        }
    }
    let dep = format!("{dir}/modules.dep");
    if let Some(t) = v.read_noted(&dep, notes) {
        let files = EXTS.map(|e| format!("/{name}{e}"));
        if let Some((i, key)) = t.lines().enumerate().find_map(|(i, l)| {
            let key = l.split(':').next().unwrap_or("");
            files
                .iter()
                .any(|f| key.ends_with(f.as_str()))
                .then_some((i, key))
        }) {
            return Has::Module(Evidence::path(dep, Some(i + 1), key.to_string()));
        }
    }
    EXTS.iter()
        .map(|e| format!("{dir}/kernel/{sub}/{name}{e}"))
        .find(|p| v.exists_noted(p, notes))
        .map_or(Has::Missing, |p| {
            Has::Module(Evidence::path(p, None, format!("{name} module")))
        })
}

/// What in modprobe.d keeps module `name` from loading, if anything.
fn disabled_by(m: &Modprobe, name: &str) -> Option<Evidence> {
    if let Some(i) = m.install(name) {
        if let Kind::Install(cmd) = &i.directive.kind {
            if install_disables(cmd) {
                return Some(Evidence::path(
                    i.path.clone(),
                    Some(i.directive.line),
                    i.directive.text.clone(),
                ));
            }
        }
    }
    m.blacklist(name).map(|b| {
        Evidence::path(
            b.path.clone(),
            Some(b.directive.line),
            b.directive.text.clone(),
        )
    })
}

/// A `modprobe.blacklist=` (kmod reads it from the kernel command line) or
/// `module_blacklist=` (the kernel refuses the module) naming module `name` on the boot
/// entry's command line.
fn cmdline_disables(k: &vhdlint_guest::facts::Kernel, name: &str) -> Option<Evidence> {
    let e = k.boot_entry.as_ref()?;
    e.args
        .iter()
        .find(|a| {
            a.split_once('=').is_some_and(|(key, list)| {
                let normalize = key == "modprobe.blacklist";
                (normalize || key == "module_blacklist")
                    && list.split(',').any(|m| {
                        if normalize {
                            vhdlint_guest::config::modprobe::normalize(m) == name
                        } else {
                            m == name
                        }
                    })
            })
        })
        .map(|a| Evidence::path(e.path.clone(), e.line, format!("kernel command line: {a}")))
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let v = &g.view;
    let k = g.facts.kernel(v);
    let mut lookup = Vec::new();
    let (version, dir) = match default_modules_dir(v, k, &mut lookup) {
        Ok(found) => found,
        Err(o) => return o.noted(lookup),
    };
    // Places that could not be read: they can only hide a module or a directive.
    let mut hidden = Vec::new();
    let modprobe = read_modprobe(v);
    // modprobe.d files that could not be read may hold a line that disables a module: a
    // pass cannot stand beside them (they are set aside only when both are built in).
    let mut any_module = false;
    let mut ev = Vec::new();
    let mut problems = Vec::new();
    let mut states = Vec::new();
    for fs in FILESYSTEMS {
        let name = fs.0;
        match find(v, &version, &dir, fs, &g.facts, &mut hidden) {
            Has::BuiltIn(e) => {
                ev.push(e);
                states.push(format!("{name} built in"));
            }
            Has::Module(e) => {
                any_module = true;
                ev.push(e);
                match disabled_by(&modprobe, name).or_else(|| cmdline_disables(k, name)) {
                    Some(d) => {
                        problems.push(format!("{name} disabled ({})", d.text));
                        ev.push(d);
                    }
                    None => states.push(format!("{name} module")),
                }
            }
            Has::Missing => problems.push(format!("{name} missing from kernel {version}")),
        }
    }
    let required = "udf and vfat loadable; sfdisk/parted, mkfs.ext4/mkfs.xfs, chpasswd, useradd, sudo, ip, openssl, ssh-keygen present";
    if !problems.is_empty() {
        return Outcome::fail(problems.join("; "), required)
            .message(format!(
                "the provisioning media cannot be mounted: {}",
                problems.join("; ")
            ))
            .evidences(ev)
            .noted(hidden)
            .noted(modprobe.notes.clone())
            .noted(lookup);
    }
    let mut missing = Vec::new();
    for alts in TOOLS {
        let at = alts.iter().find_map(|t| {
            BIN_DIRS
                .iter()
                .map(|d| format!("{d}/{t}"))
                .find(|p| v.exists_noted(p, &mut hidden))
        });
        match at {
            Some(p) => ev.push(Evidence::path(p, None, "present")),
            None => missing.push(alts.join(" or ")),
        }
    }
    if !missing.is_empty() {
        return Outcome::with_status(
            Status::Warning,
            format!(
                "kernel {version}: {}; missing {}",
                states.join(", "),
                missing.join(", ")
            ),
            required,
        )
        .message(format!(
            "not found in {}: {}",
            BIN_DIRS.join(", "),
            missing.join(", ")
        ))
        .evidences(ev)
        .noted(hidden)
        .noted(modprobe.notes.clone())
        .noted(lookup);
    }
    Outcome::pass(
        format!("kernel {version}: {}; tools present", states.join(", ")),
        required,
    )
    .evidences(ev)
    .aside(hidden)
    .noted(if any_module {
        modprobe.notes.clone()
    } else {
        Vec::new()
    })
    .noted(lookup)
}

#[cfg(test)]
mod tests {
    use vhdlint_guest::fs::FsError;

    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, said, MemFs};

    const V: &str = "6.1.0-13-cloud-amd64";
    const DIR: &str = "/lib/modules/6.1.0-13-cloud-amd64";

    fn tools(fs: &mut MemFs) {
        for t in [
            "/usr/sbin/sfdisk",
            "/usr/sbin/mkfs.ext4",
            "/usr/sbin/chpasswd",
            "/usr/sbin/useradd",
            "/usr/bin/sudo",
            "/usr/bin/ip",
            "/usr/bin/openssl",
            "/usr/bin/ssh-keygen",
        ] {
            fs.file(t, "\x7fELF");
        }
    }

    /// A guest with udf and vfat as modules and every tool.
    fn guest() -> MemFs {
        let mut fs = MemFs::new();
        fs.file(&format!("{DIR}/kernel/fs/udf/udf.ko"), "\x7fELF")
            .file(&format!("{DIR}/kernel/fs/fat/vfat.ko.xz"), "x");
        tools(&mut fs);
        fs
    }

    #[test]
    fn passes_with_modules_and_tools() {
        let o = run_linux(guest(), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: udf module, vfat module; tools present")
        );
        assert!(
            s.contains(&format!("{DIR}/kernel/fs/udf/udf.ko udf module")),
            "{s}"
        );
    }

    #[test]
    fn install_true_fails() {
        for cmd in ["/bin/true", "/bin/false", "/usr/bin/true", "true", "exit 1"] {
            let mut fs = guest();
            fs.file(
                "/etc/modprobe.d/CIS.conf",
                format!("# CIS 1.1.1.7\ninstall udf {cmd}\n"),
            );
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{cmd}: {s}");
            assert_eq!(o.actual, format!("udf disabled (install udf {cmd})"));
            assert!(
                s.contains(&format!("/etc/modprobe.d/CIS.conf:2 install udf {cmd}")),
                "{s}"
            );
        }
    }

    #[test]
    fn blacklist_fails_too() {
        let mut fs = guest();
        fs.file("/lib/modprobe.d/50-hardening.conf", "blacklist vfat\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "vfat disabled (blacklist vfat)");
    }

    #[test]
    fn a_blacklist_on_the_kernel_command_line_fails() {
        for arg in ["modprobe.blacklist=floppy,udf", "module_blacklist=udf"] {
            let mut fs = guest();
            fs.file(
                "/boot/grub/grub.cfg",
                format!("menuentry 'Debian' {{\n\tlinux /boot/vmlinuz-{V} root=/dev/sda1 ro {arg}\n}}\n"),
            );
            let o = run_linux(fs, run);
            let s = said(&o);
            assert_eq!(o.status, Status::Fail, "{arg}: {s}");
            assert_eq!(
                o.actual,
                format!("udf disabled (kernel command line: {arg})")
            );
            assert!(s.contains("/boot/grub/grub.cfg:2"), "{s}");
        }
    }

    #[test]
    fn an_install_that_loads_the_module_is_fine() {
        let mut fs = guest();
        fs.file(
            "/etc/modprobe.d/log.conf",
            "install udf logger udf; /sbin/modprobe --ignore-install udf\n",
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn a_file_in_etc_hides_the_one_in_lib() {
        let mut fs = guest();
        fs.file("/lib/modprobe.d/cis.conf", "install udf /bin/true\n")
            .file("/etc/modprobe.d/cis.conf", "# re-enabled\n")
            .file(
                "/etc/modprobe.d/cis.conf.disabled",
                "install udf /bin/true\n",
            );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn built_in_filesystems_cannot_be_disabled() {
        let mut fs = MemFs::new();
        fs.file(&format!("{DIR}/modules.builtin"), "kernel/fs/udf/udf.ko\n")
            .file(&format!("/boot/config-{V}"), "CONFIG_VFAT_FS=y\n")
            .file(
                "/etc/modprobe.d/CIS.conf",
                "install udf /bin/true\nblacklist vfat\n",
            );
        tools(&mut fs);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: udf built in, vfat built in; tools present")
        );
        assert!(
            s.contains(&format!("/boot/config-{V}:1 CONFIG_VFAT_FS=y")),
            "{s}"
        );
    }

    #[test]
    fn a_missing_filesystem_fails() {
        let mut fs = MemFs::new();
        fs.file(
            &format!("{DIR}/modules.dep"),
            "kernel/fs/fat/vfat.ko.zst: kernel/fs/fat/fat.ko.zst\n",
        );
        tools(&mut fs);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("udf missing from kernel {V}"));
        assert!(
            s.contains(&format!("{DIR}/modules.dep:1 kernel/fs/fat/vfat.ko.zst")),
            "{s}"
        );
    }

    #[test]
    fn a_missing_tool_warns() {
        let mut fs = MemFs::new();
        fs.file(&format!("{DIR}/kernel/fs/udf/udf.ko"), "")
            .file(&format!("{DIR}/kernel/fs/fat/vfat.ko"), "")
            .file("/usr/sbin/parted", "")
            .file("/usr/sbin/mkfs.xfs", "")
            .file("/usr/bin/ip", "");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(
            o.actual,
            format!("kernel {V}: udf module, vfat module; missing chpasswd, useradd, sudo, openssl, ssh-keygen")
        );
    }

    #[test]
    fn tools_are_found_through_usrmerge_links() {
        let mut fs = MemFs::new();
        fs.file(&format!("{DIR}/kernel/fs/udf/udf.ko"), "")
            .file(&format!("{DIR}/kernel/fs/fat/vfat.ko"), "")
            .link("/sbin", "usr/sbin")
            .link("/bin", "usr/bin");
        for t in [
            "sfdisk",
            "mkfs.ext4",
            "chpasswd",
            "useradd",
            "sudo",
            "ip",
            "openssl",
            "ssh-keygen",
        ] {
            fs.file(&format!("/usr/local/x/{t}"), "");
            fs.link(&format!("/usr/bin/{t}"), &format!("../local/x/{t}"));
        }
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(
            said(&o).contains("/usr/sbin/sfdisk present")
                || said(&o).contains("/usr/bin/sfdisk present"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn an_unreadable_modprobe_d_is_named_in_a_failure() {
        let mut fs = guest();
        fs.file("/etc/modprobe.d/CIS.conf", "install udf /bin/true\n")
            .broken_file(
                "/lib/modprobe.d/x.conf",
                FsError::Corrupt("x.conf: bad extent".into()),
            );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert!(s.contains("x.conf: bad extent"), "{s}");
    }

    #[test]
    fn an_unreadable_modprobe_d_keeps_a_module_from_passing() {
        let mut fs = guest();
        fs.broken_file(
            "/etc/modprobe.d/CIS.conf",
            FsError::Corrupt("CIS.conf: bad extent".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("CIS.conf: bad extent"), "{s}");
    }

    #[test]
    fn no_kernel_is_an_error() {
        let mut fs = MemFs::new();
        tools(&mut fs);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
