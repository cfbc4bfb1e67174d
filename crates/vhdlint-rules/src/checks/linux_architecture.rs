use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};
use vhdlint_guest::exe::elf_header;

pub static META: CheckMeta = CheckMeta {
    id: "linux/architecture",
    title: "64-bit",
    what: "Reads the ELF header of /sbin/init (following its symlinks inside the image), or of /bin/sh when there is no init: class and machine must be x86-64 or AArch64.",
    why: "Azure runs 64-bit VMs only (x64, and Arm64 sizes); a 32-bit image does not boot.",
    remedy: "Build the image from a 64-bit (amd64/x86_64 or arm64/aarch64) distribution.",
    sources: &["Azure Marketplace VM image guide: 64-bit operating systems only"],
    profiles: &[Profile::LinuxOs],
};

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

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut tried = Vec::new();
    for path in [
        "/sbin/init",
        "/usr/sbin/init",
        "/lib/systemd/systemd",
        "/usr/lib/systemd/systemd",
        "/bin/sh",
    ] {
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
        return if elf.class == 2 && matches!(m, 0x3E | 0xB7) {
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
