use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};
use vhdlint_guest::exe::{pe_header, pe_machine_name};

pub static META: CheckMeta = CheckMeta {
    id: "windows/architecture",
    title: "64-bit",
    what: "Reads the PE header of \\Windows\\System32\\ntoskrnl.exe (MZ, e_lfanew, PE signature, COFF machine): x64 (0x8664) or ARM64 (0xAA64) pass.",
    why: "Azure runs 64-bit Windows only.",
    remedy: "Build the image from a 64-bit Windows Server.",
    sources: &["Azure Marketplace VM image guide: 64-bit operating systems only"],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "the architecture is the installation's: rebuild the image from 64-bit Windows Server media; no setting changes it",
);

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/Windows/System32/ntoskrnl.exe";
    let shown = "\\Windows\\System32\\ntoskrnl.exe";
    let b = match g.view.read_upto(path, 4096) {
        Ok(b) => b,
        Err(e) => return Outcome::error(format!("{shown}: {e}")),
    };
    let required = "x64 (0x8664) or ARM64 (0xAA64)";
    let (pe, m) = match pe_header(&b) {
        Ok(h) => (h.signature_at, h.machine),
        Err(e) => return Outcome::error(format!("{shown}: {e}")),
    };
    let actual = format!("{} ({m:#06x})", pe_machine_name(m));
    let ev = Evidence::path(
        shown,
        None,
        format!("COFF machine {m:#06x} at offset {:#x}", pe + 4),
    );
    if matches!(m, 0x8664 | 0xAA64) {
        Outcome::pass(actual, required).evidence(ev)
    } else {
        Outcome::fail(actual, required)
            .message(format!(
                "ntoskrnl.exe is built for {}: a 32-bit or unsupported architecture",
                pe_machine_name(m)
            ))
            .evidence(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{run_windows, run_windows_inspection, said, MemFs};
    use vhdlint_guest::windows::WindowsInspection;

    const KERNEL: &str = "/Windows/System32/ntoskrnl.exe";

    /// The first bytes of a PE file: an MZ header whose e_lfanew is `pe`, and there the PE
    /// signature and COFF machine `machine`.
    fn pe(pe: usize, machine: u16) -> Vec<u8> {
        let mut b = vec![0u8; (pe + 24).max(0x40)];
        b[..2].copy_from_slice(b"MZ");
        b[0x3C..0x40].copy_from_slice(&(pe as u32).to_le_bytes());
        b[pe..pe + 4].copy_from_slice(b"PE\0\0");
        b[pe + 4..pe + 6].copy_from_slice(&machine.to_le_bytes());
        b
    }

    fn kernel(bytes: Vec<u8>) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(KERNEL, bytes);
        run_windows(fs, run)
    }

    #[test]
    fn passes_an_x64_kernel() {
        let o = kernel(pe(0x80, 0x8664));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "x64 (0x8664)");
        assert!(
            said(&o)
                .contains("\\Windows\\System32\\ntoskrnl.exe COFF machine 0x8664 at offset 0x84"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_an_arm64_kernel() {
        let o = kernel(pe(0xF8, 0xAA64));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "ARM64 (0xaa64)");
        assert!(said(&o).contains("at offset 0xfc"), "{}", said(&o));
    }

    #[test]
    fn fails_an_i386_kernel() {
        let o = kernel(pe(0x80, 0x014C));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "i386 (0x014c)");
        assert!(o.message.contains("built for i386"), "{}", said(&o));
        assert!(said(&o).contains("COFF machine 0x014c at offset 0x84"));
    }

    #[test]
    fn fails_an_itanium_kernel() {
        let o = kernel(pe(0x80, 0x0200));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "IA-64 (0x0200)");
    }

    #[test]
    fn error_when_the_kernel_is_not_a_pe_file() {
        let o = kernel(b"#!/bin/sh\n".repeat(10));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("\\Windows\\System32\\ntoskrnl.exe: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_the_pe_header_lies_beyond_the_first_4_kib() {
        let o = kernel(pe(4092, 0x8664));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        let o = kernel(pe(4090, 0x8664));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_without_the_kernel() {
        let mut fs = MemFs::new();
        fs.dir("/Windows/System32");
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("\\Windows\\System32\\ntoskrnl.exe: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_windows_system_volume() {
        let o = run_windows_inspection(Err("unreadable".into()), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("unreadable"), "{}", said(&o));
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
