//! `vhdlint fix --format powershell`: the Windows form of the script, run in an elevated
//! Windows PowerShell (5.1 or later) inside the VM the image is captured from, before sysprep.
//!
//! The blocks come from the checks' own files (`Fix::PowerShell`), as the sh blocks do. Every
//! block looks before it changes and says what it changed, so a second run changes nothing.
//! What a block names comes from the check's own constants (registry keys, role names), never
//! from the image; text from the image appears only in comments, with control characters
//! replaced ([`comment`]). No block reads a password: the credentials block asks only
//! whether the value exists.
//!
//! The last step generalizes the VM with sysprep and shuts it down. It is clearly marked and
//! runs only when the script is started with `-Generalize`, and never while a restart is
//! pending (a block that knows a restart is needed sets `$script:RestartPending`).

use std::fmt::Write as _;

use super::{block_header, comment, triage, Fix, ScriptFor, Triage};
use crate::profile::Profile;
use crate::runner::ImageReport;

/// One check's part of the PowerShell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsBlock {
    /// What the block changes, one sentence (a comment above it).
    pub changes: String,
    /// PowerShell run elevated in the VM; `Say MESSAGE` reports a change, `Get-Value KEY NAME`
    /// reads a registry value (`$null` when the key or value is absent).
    pub ps: String,
}

/// `s` as one PowerShell word: in single quotes, where nothing expands. PowerShell takes the
/// typographic single quotes (U+2018–U+201B) for `'` too, so each quote of any kind is
/// doubled.
pub fn ps_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if is_single_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The characters PowerShell's tokenizer takes for a single quote.
pub fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

/// The functions every block may use.
const PRELUDE: &str = r#"$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
$script:RestartPending = $false
function Say([string]$Message) { Write-Output "vhdlint fix: $Message" }
function Get-Value([string]$Key, [string]$Name) {
    $item = Get-ItemProperty -LiteralPath $Key -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return $item.$Name
}
"#;

/// The last step: sysprep, only with -Generalize and without a pending restart.
const SYSPREP: &str = r#"
# ==== LAST STEP (optional): generalize this VM with sysprep, which then shuts it down ==========
# Runs only when this script is started with -Generalize, after every block above succeeded,
# and not while a restart is pending. Capture the VM's disk once it has shut down.
if ($Generalize) {
    if ($script:RestartPending) {
        throw 'a restart is pending: restart the VM, run this script again, then generalize'
    }
    Say 'generalizing: sysprep /generalize /oobe /shutdown (the VM shuts down when it is done)'
    $sysprep = Join-Path $env:SystemRoot 'System32\Sysprep\sysprep.exe'
    $p = Start-Process -FilePath $sysprep -ArgumentList '/generalize', '/oobe', '/shutdown' -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "sysprep exited with $($p.ExitCode)" }
} else {
    Say 'not generalized: start this script with -Generalize to run sysprep /generalize /oobe /shutdown as its last step'
}
"#;

/// The PowerShell script for `report`: the results without a mechanical fix (and the waived
/// ones) listed at the top with their remedy, one block per fixable failure or warning, and,
/// for a Windows OS disk, sysprep as the last, optional step.
pub fn ps_script(report: &ImageReport, about: &ScriptFor) -> String {
    let Triage { manual, blocks } = triage(report, |fix, r| match fix {
        Fix::PowerShell(f) => f(r).ok_or("nothing mechanical to change for this result"),
        _ => Err("its fix is for Linux: vhdlint fix --format sh"),
    });
    let windows = report.profile == Profile::WindowsOs;
    let mut s = String::new();
    s.push_str("#Requires -RunAsAdministrator\n");
    let _ = writeln!(
        s,
        "# Written by vhdlint {} (`vhdlint fix --format powershell`) for {}: profile {}, policy {}.",
        about.version,
        comment(&report.path),
        report.profile,
        about.policy
    );
    s.push_str(
        "# Run it in an elevated Windows PowerShell (5.1 or later) inside the VM the image is\n\
         # captured from, before sysprep. Each block below changes only what its check found and\n\
         # says what it changed; the script stops at the first error, and a second run changes\n\
         # nothing.\n",
    );
    if windows {
        s.push_str(
            "# Its last step generalizes the VM (sysprep) and shuts it down: it runs only with\n\
             # -Generalize, e.g. powershell -ExecutionPolicy Bypass -File .\\fix.ps1 -Generalize\n",
        );
    }
    s.push_str(&super::not_fixed(&manual));
    s.push_str("\nparam([switch]$Generalize)\n\n");
    s.push_str(PRELUDE);
    if blocks.is_empty() {
        s.push_str("Say 'nothing to fix'\n");
    }
    for (r, b) in &blocks {
        s.push('\n');
        s.push_str(&block_header(r, &b.changes));
        s.push_str(b.ps.trim_end());
        s.push('\n');
    }
    if windows {
        s.push_str(SYSPREP);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CHECKS;

    /// How PowerShell reads a single-quoted string starting at `s[0]`: its value and the rest.
    /// (The lexing rule of the language specification, §2.3.5.2: a quote character doubled is
    /// one quote of that character; any quote character alone ends the string.)
    fn lex_single_quoted(s: &str) -> Option<(String, &str)> {
        let mut it = s.char_indices().peekable();
        let (_, first) = it.next()?;
        if !is_single_quote(first) {
            return None;
        }
        let mut value = String::new();
        while let Some((i, c)) = it.next() {
            if is_single_quote(c) {
                match it.peek() {
                    Some(&(_, n)) if is_single_quote(n) => {
                        value.push(c);
                        it.next();
                    }
                    _ => return Some((value, &s[i + c.len_utf8()..])),
                }
            } else {
                value.push(c);
            }
        }
        None
    }

    #[test]
    fn quoting_keeps_every_string_one_literal_word() {
        for s in [
            "plain",
            "it's",
            "a b",
            "$(Stop-Computer)",
            "`n",
            "'",
            "\u{2019}; Remove-Item C:\\ -Recurse; \u{2018}",
            "\u{201A}\u{201B}",
            "",
            "line\nbreak",
            "\"$env:PATH\"",
        ] {
            let q = ps_quote(s);
            let (value, rest) = lex_single_quoted(&q).expect("one string");
            assert_eq!(value, s, "{q}");
            assert_eq!(rest, "", "{q}: the string ends where the quoting ends");
        }
    }

    #[test]
    fn every_windows_check_has_a_powershell_fix_or_says_why_not() {
        for c in CHECKS.iter().filter(|c| c.meta.id.starts_with("windows/")) {
            match c.fix {
                Fix::PowerShell(_) => {}
                Fix::Manual(why) => {
                    assert!(!why.contains("not written yet"), "{}: {why}", c.meta.id)
                }
                Fix::Script(_) => panic!("{}: a Windows check with an sh fix", c.meta.id),
            }
        }
    }
}
