use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/architecture",
    title: "64-bit",
    what: "Reads the PE header of \\Windows\\System32\\ntoskrnl.exe (MZ, e_lfanew, PE signature, COFF machine): x64 (0x8664) or ARM64 (0xAA64) pass.",
    why: "Azure runs 64-bit Windows only.",
    remedy: "Build the image from a 64-bit Windows Server.",
    sources: &["Azure Marketplace VM image guide: 64-bit operating systems only"],
    profiles: &[Profile::WindowsOs],
};

fn machine(m: u16) -> &'static str {
    match m {
        0x8664 => "x64",
        0xAA64 => "ARM64",
        0x014C => "i386",
        0x0200 => "IA-64",
        0x01C4 => "ARM (Thumb-2)",
        _ => "unknown",
    }
}

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
    if b.len() < 0x40 || &b[..2] != b"MZ" {
        return Outcome::error(format!("{shown} is not a PE file (no MZ header)"));
    }
    let pe = u32::from_le_bytes([b[0x3C], b[0x3D], b[0x3E], b[0x3F]]) as usize;
    if pe.checked_add(6).is_none_or(|end| end > b.len()) || &b[pe..pe + 4] != b"PE\0\0" {
        return Outcome::error(format!("{shown}: no PE signature at e_lfanew {pe:#x}"));
    }
    let m = u16::from_le_bytes([b[pe + 4], b[pe + 5]]);
    let actual = format!("{} ({m:#06x})", machine(m));
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
                machine(m)
            ))
            .evidence(ev)
    }
}
