use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};
use vhdlint_guest::exe::elf_header;

pub static META: CheckMeta = CheckMeta {
    id: "linux/architecture",
    title: "64-bit",
    what: "Reads the ELF header of /sbin/init (following its symlinks inside the image), or of /bin/sh when there is no init: class and machine must be x86-64 or AArch64.",
    why: "Azure runs 64-bit VMs only (x64, and Arm64 sizes); a 32-bit image does not boot.",
    remedy: "Build the image from a 64-bit (amd64/x86_64 or arm64/aarch64) distribution.",
    sources: &["Azure Marketplace VM image guide: 64-bit operating systems only", "LISA AzureImageStandard.verify_azure_64bit_os"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the architecture is the image's: build the image for x86-64 (or publish it as Arm64)",
);

fn machine(m: u16) -> &'static str {
    match m {
        0x03 => "i386",
        0x08 => "MIPS",
        0x14 => "PowerPC",
        0x15 => "PowerPC 64",
        0x16 => "s390",
        0x28 => "ARM",
        0x3E => "x86-64",
        0xB7 => "AArch64",
        0xF3 => "RISC-V",
        _ => "other",
    }
}

/// The ELF machine of the image's init (or /bin/sh), and the file it was read from: what
/// `uname -m` would say of a running VM. None when no such executable can be read.
pub(crate) fn image_machine(view: &vhdlint_guest::view::GuestView) -> Option<(u16, String)> {
    INIT_PATHS.iter().find_map(|path| {
        let h = view.read_upto(path, 64).ok()?;
        let elf = elf_header(&h).ok()?;
        Some((elf.machine, path.to_string()))
    })
}

/// The ELF machine values of x86-64 and AArch64.
pub(crate) const EM_X86_64: u16 = 0x3E;
pub(crate) const EM_AARCH64: u16 = 0xB7;

/// The executables whose ELF header says the image's architecture, in the order looked at.
const INIT_PATHS: &[&str] = &[
    "/sbin/init",
    "/usr/sbin/init",
    "/lib/systemd/systemd",
    "/usr/lib/systemd/systemd",
    "/bin/sh",
];

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut tried = Vec::new();
    for path in INIT_PATHS.iter().copied() {
        let Ok(h) = g.view.read_upto(path, 64) else {
            tried.push(format!("{path}: absent"));
            continue;
        };
        let target = g
            .view
            .resolve(path, true)
            .unwrap_or_else(|_| path.to_string());
        let Ok(elf) = elf_header(&h) else {
            tried.push(format!("{path}: not an ELF file"));
            continue;
        };
        let (class, m) = (elf.class_name(), elf.machine);
        let actual = format!("{class} {} ({target})", machine(m));
        let ev = Evidence::path(
            target.clone(),
            None,
            format!("ELF class {}, machine {m:#06x}", elf.class),
        );
        let required = "64-bit x86-64 or AArch64";
        return if elf.class == 2 && matches!(m, EM_X86_64 | EM_AARCH64) {
            Outcome::pass(actual, required).evidence(ev)
        } else {
            Outcome::fail(actual, required)
                .message(format!("{target} is a {class} {} executable", machine(m)))
                .evidence(ev)
        };
    }
    Outcome::error(format!(
        "no ELF executable to judge the architecture from: {}",
        tried.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::check::Status;
    use crate::testing::{run_linux, run_no_linux, said, MemFs};

    /// The first 64 bytes of a little-endian ELF file of `class` (1: 32-bit, 2: 64-bit) for
    /// `machine`.
    fn elf(class: u8, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = 1;
        h[6] = 1;
        h[16] = 2;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    /// A guest whose `path` is an ELF file of `class` for `machine`.
    fn with(path: &str, class: u8, machine: u16) -> MemFs {
        let mut fs = MemFs::new();
        fs.file(path, elf(class, machine));
        fs
    }

    #[test]
    fn error_without_a_linux_guest() {
        let o = run_no_linux(run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.contains("no Linux filesystem"), "{}", said(&o));
    }

    #[test]
    fn passes_on_x86_64() {
        let o = run_linux(with("/sbin/init", 2, 0x3E), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "64-bit x86-64 (/sbin/init)");
        assert!(s.contains("/sbin/init ELF class 2, machine 0x003e"), "{s}");
    }

    #[test]
    fn passes_on_aarch64() {
        let o = run_linux(with("/sbin/init", 2, 0xB7), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "64-bit AArch64 (/sbin/init)");
    }

    #[test]
    fn fails_on_32_bit_x86() {
        let o = run_linux(with("/sbin/init", 1, 0x03), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, "32-bit i386 (/sbin/init)");
        assert_eq!(o.message, "/sbin/init is a 32-bit i386 executable");
        assert!(s.contains("ELF class 1, machine 0x0003"), "{s}");
    }

    #[test]
    fn fails_on_a_32_bit_class_for_a_64_bit_machine() {
        for m in [0x3E, 0xB7] {
            let o = run_linux(with("/sbin/init", 1, m), run);
            assert_eq!(o.status, Status::Fail, "{m:#x}: {}", said(&o));
            assert!(o.actual.starts_with("32-bit "), "{}", said(&o));
        }
    }

    #[test]
    fn fails_on_other_64_bit_machines() {
        let o = run_linux(with("/sbin/init", 2, 0xF3), run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "64-bit RISC-V (/sbin/init)");
    }

    #[test]
    fn names_each_machine() {
        for (m, name) in [
            (0x03, "i386"),
            (0x08, "MIPS"),
            (0x14, "PowerPC"),
            (0x15, "PowerPC 64"),
            (0x16, "s390"),
            (0x28, "ARM"),
            (0x3E, "x86-64"),
            (0xB7, "AArch64"),
            (0xF3, "RISC-V"),
            (0x99, "other"),
        ] {
            let o = run_linux(with("/sbin/init", 1, m), run);
            assert_eq!(o.status, Status::Fail, "{}", said(&o));
            assert_eq!(o.actual, format!("32-bit {name} (/sbin/init)"));
        }
    }

    #[test]
    fn names_the_target_of_a_symlinked_init() {
        let mut fs = with("/lib/systemd/systemd", 2, 0x3E);
        fs.link("/sbin/init", "../lib/systemd/systemd");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Pass, "{s}");
        assert_eq!(o.actual, "64-bit x86-64 (/lib/systemd/systemd)");
        assert!(s.contains("/lib/systemd/systemd ELF class 2"), "{s}");
    }

    #[test]
    fn reads_each_path_in_turn() {
        for path in [
            "/usr/sbin/init",
            "/lib/systemd/systemd",
            "/usr/lib/systemd/systemd",
            "/bin/sh",
        ] {
            let o = run_linux(with(path, 1, 0x03), run);
            assert_eq!(o.status, Status::Fail, "{path}: {}", said(&o));
            assert_eq!(o.actual, format!("32-bit i386 ({path})"));
        }
    }

    #[test]
    fn skips_an_init_that_is_not_elf() {
        let mut fs = with("/bin/sh", 2, 0x3E);
        fs.file("/sbin/init", "#!/bin/sh\nexec /bin/busybox init\n");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "64-bit x86-64 (/bin/sh)");
    }

    #[test]
    fn error_without_an_elf_executable() {
        let mut fs = MemFs::new();
        fs.file("/sbin/init", "#!/bin/sh\n");
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("/sbin/init: not an ELF file"), "{s}");
        assert!(s.contains("/usr/sbin/init: absent"), "{s}");
        assert!(s.contains("/bin/sh: absent"), "{s}");
    }
}
