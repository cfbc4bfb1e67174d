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
};

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
