//! `vhdlint fix`: the remediation script for what `check` found. vhdlint never writes an
//! image; it writes a script for the place where the image is built (the VM before capture,
//! or a chroot of its root), one commented block per result with a mechanical fix.
//!
//! Each check says in its own file how it is fixed (`pub const FIX`): a function that turns
//! its non-pass result into a [`Block`] of POSIX sh, or why it has no mechanical fix. Every
//! block is idempotent (it looks before it changes, and says what it changed), so a second run
//! of the script changes nothing. Text that comes from the image (paths, values) reaches the
//! script only quoted ([`sh_quote`]) or, in comments, with control characters replaced
//! ([`comment`]).

use std::fmt::Write as _;

use crate::check::{CheckResult, Status};
use crate::runner::ImageReport;
use crate::CHECKS;

pub mod powershell;

/// How a check's results are fixed.
#[derive(Debug, Clone, Copy)]
pub enum Fix {
    /// A mechanical fix: the block for a non-pass result (`None` when that result has nothing
    /// this function can change; the result is then listed with its remedy).
    Script(fn(&CheckResult) -> Option<Block>),
    /// A Windows fix: the PowerShell block for a non-pass result, run in the VM before sysprep
    /// ([`powershell`]; `None` as for `Script`).
    PowerShell(fn(&CheckResult) -> Option<powershell::PsBlock>),
    /// No mechanical fix, and why (the remedy says what to do instead).
    Manual(&'static str),
}

/// Why the checks of the disk's container, size and partitioning have no fix in the script.
pub const OUTSIDE_THE_GUEST: &str =
    "outside the guest: the container, its size and the partitioning are changed on the host (qemu-img convert/resize, the partitioning tool), not by a script inside the VM";

/// One check's part of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What the block changes, one sentence (a comment above it).
    pub changes: String,
    /// POSIX sh run as root with the image's root as `/`; `say MESSAGE` reports a change.
    pub sh: String,
}

/// The fix of a check, by ID (`None` for an ID that is not an image check).
pub fn fix_of(id: &str) -> Option<Fix> {
    CHECKS.iter().find(|c| c.meta.id == id).map(|c| c.fix)
}

/// `s` as one sh word: in single quotes, a quote inside written `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` fit for a `#` comment: control characters (a newline among them) shown as `?`, at most
/// 200 characters.
pub fn comment(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(200)
        .collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// What the script is for: shown in its header.
pub struct ScriptFor<'a> {
    pub version: &'a str,
    pub policy: &'a str,
}

/// The results of `report` a script acts on, sorted: `manual` lists (as comment lines) those
/// without a mechanical fix in this script's language, waived ones and errors, with their
/// remedy and why; `blocks` pairs each fixable failure or warning with what `pick` made of its
/// check's fix.
pub struct Triage<'a, B> {
    pub manual: Vec<String>,
    pub blocks: Vec<(&'a CheckResult, B)>,
}

/// Sorts the non-pass results of `report` for a script: `pick` turns a check's [`Fix`] and
/// its result into a block of the script's language, or says why there is none.
pub fn triage<'a, B>(
    report: &'a ImageReport,
    pick: impl Fn(Fix, &CheckResult) -> Result<B, &'static str>,
) -> Triage<'a, B> {
    let mut manual = Vec::new();
    let mut blocks = Vec::new();
    for r in &report.checks {
        if !matches!(r.status, Status::Fail | Status::Warning | Status::Error) {
            continue;
        }
        if let Some(w) = &r.waived {
            manual.push(format!(
                "{} ({}, waived: {})",
                r.id,
                r.status.as_str(),
                comment(w)
            ));
            continue;
        }
        let block = match (r.status, fix_of(r.id)) {
            (Status::Error, _) => Err("could not be evaluated: nothing to fix until it can be"),
            (_, Some(Fix::Manual(why))) => Err(why),
            (_, Some(fix)) => pick(fix, r),
            (_, None) => Err("not a check of the image"),
        };
        match block {
            Ok(b) => blocks.push((r, b)),
            Err(why) => manual.push(format!(
                "{} ({}): {}\n#     why not here: {}\n#     remedy: {}",
                r.id,
                r.status.as_str(),
                comment(&r.actual),
                why,
                comment(r.remedy.as_deref().unwrap_or(""))
            )),
        }
    }
    Triage { manual, blocks }
}

/// The comment lines above a block: the check, what it found (evidence with path and line),
/// what the block changes. `#` starts a comment in sh, PowerShell and virt-customize files.
pub fn block_header(r: &CheckResult, changes: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# ---- {} ({}): {}",
        r.id,
        r.status.as_str(),
        comment(&r.actual)
    );
    for e in r.evidence.iter().take(20) {
        let at = match (&e.path, e.line) {
            (Some(p), Some(l)) => format!("{}:{l}: ", comment(p)),
            (Some(p), None) => format!("{}: ", comment(p)),
            _ => String::new(),
        };
        let _ = writeln!(s, "# found: {at}{}", comment(&e.text));
    }
    let _ = writeln!(s, "# changes: {}", comment(changes));
    s
}

/// The comment lines listing what the script does not fix (nothing when there is none).
pub fn not_fixed(manual: &[String]) -> String {
    let mut s = String::new();
    if !manual.is_empty() {
        s.push_str("#\n# Not fixed by this script:\n");
        for m in manual {
            let _ = writeln!(s, "#   {m}");
        }
    }
    s
}

/// The sh script for `report`: the results without a mechanical fix (and the waived ones)
/// listed at the top with their remedy, then one block per fixable failure or warning.
pub fn sh_script(report: &ImageReport, about: &ScriptFor) -> String {
    let Triage { manual, blocks } = triage(report, |fix, r| match fix {
        Fix::Script(f) => f(r).ok_or("nothing mechanical to change for this result"),
        _ => Err("its fix is for Windows: vhdlint fix --format powershell"),
    });
    let mut s = String::new();
    let _ = writeln!(s, "#!/bin/sh");
    let _ = writeln!(
        s,
        "# Written by vhdlint {} (`vhdlint fix`) for {}: profile {}, policy {}.",
        about.version,
        comment(&report.path),
        report.profile,
        about.policy
    );
    s.push_str(
        "# Run it as root inside the build VM (or in a chroot of its root, with /proc mounted) just\n\
         # before capture. Each block below changes only what its check found and says what it\n\
         # changed; the script stops at the first error, and a second run changes nothing.\n",
    );
    s.push_str(&not_fixed(&manual));
    s.push_str("\nset -eu\nsay() { printf 'vhdlint fix: %s\\n' \"$*\"; }\n");
    if blocks.is_empty() {
        s.push_str("say 'nothing to fix'\n");
    }
    for (r, b) in blocks {
        s.push('\n');
        s.push_str(&block_header(r, &b.changes));
        s.push_str(b.sh.trim_end());
        s.push('\n');
    }
    if report.profile == crate::Profile::LinuxOs {
        s.push_str(DEPROVISION);
    }
    s
}

/// The last, optional block of the sh script: the Azure agent's own deprovisioning.
pub const DEPROVISION: &str = r#"
# ==== LAST STEP (optional): the Azure Linux agent's own deprovisioning ==========================
# `waagent -deprovision+user -force` deletes the last provisioned user and its home, the SSH host
# keys, DHCP leases, the root password and the agent's state, and cannot be undone: it runs only
# when asked for, VHDLINT_DEPROVISION=1 sh THIS_SCRIPT, as the last command before capture.
if [ "${VHDLINT_DEPROVISION:-0}" = 1 ]; then
    if ! command -v waagent >/dev/null 2>&1; then
        echo "vhdlint fix: VHDLINT_DEPROVISION=1 but waagent is not installed" >&2; exit 1
    fi
    waagent -deprovision+user -force
    say 'deprovisioned: waagent -deprovision+user -force (capture the VM now)'
fi
"#;

/// The block deleting `paths` (and nothing else), each when it is still there.
pub fn delete_files(paths: &[String], changes: impl Into<String>) -> Option<Block> {
    (!paths.is_empty()).then(|| Block {
        changes: changes.into(),
        sh: delete_files_sh(paths),
    })
}

/// The sh deleting `paths`, each when it is still there (nothing for none).
pub fn delete_files_sh(paths: &[String]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let words: Vec<String> = paths.iter().map(|p| sh_quote(p)).collect();
    format!(
        "for f in {}; do\n    if [ -e \"$f\" ] || [ -L \"$f\" ]; then rm -f -- \"$f\"; say \"deleted $f\"; fi\ndone\n",
        words.join(" ")
    )
}

/// The sh locking account `name`'s password in /etc/shadow when it is usable or empty (a `!`
/// put in front, as `usermod -L` does: the hash is kept, no password opens the account), with
/// usermod where the root has it.
pub fn lock_password_sh(name: &str) -> String {
    format!(
        "n={}\nif awk -F: -v n=\"$n\" '$1 == n && $2 !~ /^[!*]/ {{ f = 1 }} END {{ exit !f }}' /etc/shadow; then\n    if command -v usermod >/dev/null 2>&1; then usermod -L \"$n\"; else\n        awk -F: -v OFS=: -v n=\"$n\" '$1 == n && $2 !~ /^[!*]/ {{ $2 = \"!\" $2 }} {{ print }}' /etc/shadow >/etc/shadow.vhdlint && cat /etc/shadow.vhdlint >/etc/shadow && rm -f /etc/shadow.vhdlint\n    fi\n    say \"locked the password of $n\"\nfi\n",
        sh_quote(name)
    )
}

/// The absolute paths among a result's evidence, in order, without repeats.
pub fn evidence_paths(r: &CheckResult) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in r.evidence.iter().filter_map(|e| e.path.as_deref()) {
        if p.starts_with('/') && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_every_byte_one_word() {
        for s in [
            "plain",
            "it's",
            "a b",
            "$(reboot)",
            "`id`",
            "'",
            "",
            "\\n\n",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", sh_quote(s)))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }

    #[test]
    fn comments_never_break_the_line() {
        let c = comment("a\nrm -rf /\r\u{1b}[2J");
        assert!(!c.contains('\n') && !c.contains('\r') && !c.contains('\u{1b}'));
        assert_eq!(comment(&"x".repeat(300)).chars().count(), 201);
    }

    #[test]
    fn every_check_says_how_it_is_fixed() {
        for c in CHECKS {
            if let Fix::Manual(why) = c.fix {
                assert!(why.len() > 20, "{}: a reason, not a placeholder", c.meta.id);
            }
        }
    }
}
