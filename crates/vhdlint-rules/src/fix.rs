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

/// The paths of a block's sh that begins with [`delete_files_sh`], and the sh after it: the
/// deletes the virt-customize form writes as its own `delete` commands. Only a prefix that
/// [`delete_files_sh`] writes again byte for byte from the paths read counts.
pub fn deleted_files(sh: &str) -> Option<(Vec<String>, &str)> {
    let words = sh.strip_prefix("for f in ")?.split_once("; do\n")?.0;
    // sh_quote words separated by one space: '…' pieces, a quote inside written '\'' .
    let mut paths = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut chars = words.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '\'') => quoted = false,
            (true, c) => word.push(c),
            (false, '\'') => quoted = true,
            (false, '\\') => word.push(chars.next()?),
            (false, ' ') => paths.push(std::mem::take(&mut word)),
            (false, _) => return None,
        }
    }
    if quoted {
        return None;
    }
    paths.push(word);
    let prefix = delete_files_sh(&paths);
    sh.strip_prefix(prefix.as_str()).map(|rest| (paths, rest))
}

/// What every run-command of the virt-customize form starts with: the sh form's own prologue
/// (stop at the first error, `say` reports a change).
pub const SH_PROLOGUE: &str = "set -eu\nsay() { printf 'vhdlint fix: %s\\n' \"$*\"; }\n";

/// The results the virt-customize form acts on: those with an sh block ([`Fix::Script`]); a
/// Windows fix is left to the PowerShell form (virt-customize runs no command in a Windows
/// guest).
fn vc_triage(report: &ImageReport) -> Triage<'_, Block> {
    triage(report, |fix, r| match fix {
        Fix::Script(f) => f(r).ok_or("nothing mechanical to change for this result"),
        _ => Err("its fix is for Windows: vhdlint fix --format powershell"),
    })
}

/// The end of the virt-customize form of a Linux OS disk: the sh form's optional last step,
/// which has no place on a copy of the image.
pub const VC_DEPROVISION: &str = "
# ---- Not here: the Azure Linux agent's own deprovisioning (`waagent -deprovision+user -force`),
# the sh form's optional last step: run it in the VM as the last command before capture.
";

/// The first command of the virt-customize form: it stops virt-customize unless it runs with
/// `--no-network` (the appliance's kernel command line says `guestfs_network=1` otherwise).
pub const VC_NEEDS_NO_NETWORK: &str = "if grep -qw guestfs_network=1 /proc/cmdline; then\n    echo 'vhdlint fix: run virt-customize with --no-network (with the network on, libguestfs swaps /etc/resolv.conf while a command runs)' >&2\n    exit 1\nfi\n";

/// `s` as the argument of a command in a `virt-customize --commands-from-file` file: its lines
/// joined by a backslash at the end of each but the last, which virt-customize reads back as
/// the newline (a `\` ending a line of `s` stays: only the one added is taken away). A last
/// line ending in `\` would join the next command to it, so such an `s` is given a newline
/// at its end.
pub fn vc_arg(s: &str) -> String {
    let s = if s.ends_with('\\') {
        format!("{s}\n")
    } else {
        s.to_string()
    };
    s.split('\n').collect::<Vec<_>>().join("\\\n")
}

/// A `#` line of the virt-customize form from text whose parts from the image went through
/// [`comment`] already: any control character shown as `?` all the same, white space at the end
/// dropped, and never a `\` at its end (a comment ending in `\` would swallow the next line, a
/// command among them).
fn vc_comment_line(line: &str) -> String {
    let mut line: String = line
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string();
    if line.ends_with('\\') {
        line.push('?');
    }
    line
}

/// Whether virt-customize's `delete` takes `path` as the one file it names: absolute, one
/// line, no control character, no glob or escape character (`delete` expands `* ? [ ] { }`
/// and `\`), not ending in white space.
pub fn vc_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.ends_with(char::is_whitespace)
        && !path
            .chars()
            .any(|c| c.is_control() || matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\'))
}

/// The `virt-customize --commands-from-file` file for `report`: the same blocks as
/// [`sh_script`], for a copy of the image. The deletes a block begins with
/// ([`deleted_files`]) become `delete` commands (a path `delete` would read otherwise stays
/// in sh, quoted); the rest of its sh becomes one `run-command` (with [`SH_PROLOGUE`]) that
/// virt-customize runs in the guest's root. Everything from the image reaches the file quoted
/// by [`sh_quote`] inside a `run-command`, as a plain path after `delete`, or as a comment.
pub fn virt_customize_script(report: &ImageReport, about: &ScriptFor) -> String {
    let plan = vc_triage(report);
    let mut s = String::new();
    let note = |s: &mut String, text: &str| {
        let _ = writeln!(s, "{}", vc_comment_line(text));
    };
    note(
        &mut s,
        &format!(
            "# virt-customize commands written by vhdlint {} (`vhdlint fix --format virt-customize`) for {}: profile {}, policy {}.",
            about.version,
            comment(&report.path),
            report.profile,
            about.policy
        ),
    );
    s.push_str(
        "# Apply them to a copy of the image (vhdlint never writes one); a fixed VHD is raw data\n\
         # followed by its 512-byte footer, which no command here touches:\n\
         #   virt-customize --no-network --format raw -a COPY.vhd --commands-from-file THIS-FILE\n\
         # Each block below changes only what its check found; virt-customize stops at the first\n\
         # command that fails, and a second run changes nothing.\n",
    );
    for line in not_fixed(&plan.manual).lines() {
        note(&mut s, line);
    }
    s.push_str(
        "\n# The commands' output is not left in the image (/tmp/builder.log).\nno-logfile\n",
    );
    if plan.blocks.is_empty() {
        s.push_str("# nothing to fix\n");
    } else {
        s.push_str(
            "# With the network on, libguestfs puts its own /etc/resolv.conf in the guest while a\n\
             # command runs and puts the guest's back after it: a change to it would be lost.\n",
        );
        let _ = writeln!(s, "run-command {}", vc_arg(VC_NEEDS_NO_NETWORK));
    }
    for (r, b) in &plan.blocks {
        s.push('\n');
        for line in block_header(r, &b.changes).lines() {
            note(&mut s, line);
        }
        let (deleted, rest) = deleted_files(&b.sh).unwrap_or((Vec::new(), b.sh.as_str()));
        let (plain, quoted): (Vec<String>, Vec<String>) =
            deleted.into_iter().partition(|p| vc_plain_path(p));
        for p in &plain {
            let _ = writeln!(s, "delete {p}");
        }
        let sh = format!("{}{}", delete_files_sh(&quoted), rest);
        if !sh.trim().is_empty() {
            let body = format!("{SH_PROLOGUE}{}\n", sh.trim_end());
            let _ = writeln!(s, "run-command {}", vc_arg(&body));
        }
    }
    if report.profile == crate::Profile::LinuxOs {
        s.push_str(VC_DEPROVISION);
    }
    s
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

    /// The commands of a `--commands-from-file` file read the way virt-customize reads them
    /// (its documentation and its reader): a `\` ending a line joins the next one to it with
    /// a newline; each joined line is trimmed at the left; empty lines and lines starting with
    /// `#` are left out; the command is the text before the first space, its argument the rest.
    fn read_commands(file: &str) -> Vec<(String, String)> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        for piece in file.split('\n') {
            match piece.strip_suffix('\\') {
                Some(joined) => {
                    cur.push_str(joined);
                    cur.push('\n');
                }
                None => {
                    cur.push_str(piece);
                    lines.push(std::mem::take(&mut cur));
                }
            }
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        lines
            .into_iter()
            .map(|l| l.trim_start().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(' ') {
                Some((c, a)) => (c.to_string(), a.to_string()),
                None => (l, String::new()),
            })
            .collect()
    }

    fn result(
        id: &'static str,
        status: Status,
        actual: &str,
        evidence: &[(&str, &str)],
    ) -> CheckResult {
        CheckResult {
            id,
            title: "",
            status,
            actual: actual.into(),
            required: String::new(),
            message: String::new(),
            evidence: evidence
                .iter()
                .map(|(p, t)| crate::check::Evidence {
                    path: Some(p.to_string()),
                    line: None,
                    offset: None,
                    text: t.to_string(),
                })
                .collect(),
            remedy: Some("do it \\".into()),
            waived: None,
            elapsed_us: 0,
        }
    }

    /// Paths a hostile image can hold: quotes, command substitution, a newline followed by a
    /// command of the file, glob characters, a backslash at the end, white space at the end.
    const HOSTILE: [&str; 7] = [
        "/var/lib/dhcp/a'$(touch /PWNED)'",
        "/var/lib/dhcp/x\nrun-command touch /PWNED",
        "/var/lib/dhcp/x\n# a comment\\",
        "/var/lib/dhcp/b*",
        "/var/lib/dhcp/{c,d}",
        "/var/lib/dhcp/e\\",
        "/var/lib/dhcp/f ",
    ];

    #[test]
    fn deletes_read_back_only_from_what_delete_files_sh_writes() {
        let mut paths: Vec<String> = HOSTILE.iter().map(|p| p.to_string()).collect();
        paths.push("/var/lib/dhcp/it's".into());
        let sh = format!("{}echo more\n", delete_files_sh(&paths));
        assert_eq!(deleted_files(&sh), Some((paths.clone(), "echo more\n")));
        assert_eq!(deleted_files("f=/etc/hostname\n"), None);
        // A loop of another shape is not taken for deletes.
        let other = delete_files_sh(&paths).replace("rm -f", "shred -u");
        assert_eq!(deleted_files(&other), None);
    }

    #[test]
    fn an_argument_reads_back_as_written() {
        for s in [
            "one line",
            "a\nb\n",
            "ends with \\",
            "a \\\nb",
            "\\\n\\",
            "\n\n",
        ] {
            let file = format!("run-command {}\nno-logfile\n", vc_arg(s));
            let cmds = read_commands(&file);
            let want = if s.ends_with('\\') {
                format!("{s}\n")
            } else {
                s.to_string()
            };
            assert_eq!(cmds[0], ("run-command".to_string(), want), "{s:?}");
            assert_eq!(
                cmds[1].0, "no-logfile",
                "{s:?}: the next command is its own"
            );
        }
    }

    #[test]
    fn the_virt_customize_form_is_the_sh_blocks_and_nothing_more() {
        let mut evidence: Vec<(&str, &str)> =
            vec![("/var/lib/dhcp/dhclient.eth0.leases", "90 bytes")];
        evidence.extend(HOSTILE.iter().map(|p| (*p, "ends \\  ")));
        let checks = vec![
            result(
                "disk/fixed",
                Status::Fail,
                "dynamic\nrun-command touch /PWNED \\",
                &[],
            ),
            result(
                "linux/dhcp-leases",
                Status::Fail,
                "8 lease file(s) \\",
                &evidence,
            ),
            result(
                "linux/hostname",
                Status::Warning,
                "vm",
                &[("/etc/hostname", "vm")],
            ),
            result("windows/rdp", Status::Fail, "fDenyTSConnections 1", &[]),
            result(
                "linux/ssh-host-keys",
                Status::Fail,
                "1 host key(s)",
                &[("/etc/ssh/ssh_host_rsa_key", "host private key")],
            ),
        ];
        let report = ImageReport {
            path: "x.vhd\nrun-command touch /PWNED \\".into(),
            void: None,
            profile: crate::Profile::LinuxOs,
            profile_reason: String::new(),
            generation: None,
            facts: Default::default(),
            summary: Default::default(),
            checks,
            timings: None,
        };
        let about = ScriptFor {
            version: "0",
            policy: "guide",
        };
        let file = virt_customize_script(&report, &about);
        let cmds = read_commands(&file);
        // Each comment (a line that begins a command line and starts with #) ends cleanly.
        let mut continued = false;
        for line in file.lines() {
            if !continued && line.starts_with('#') {
                assert!(
                    !line.ends_with('\\') && !line.ends_with(char::is_whitespace),
                    "{line:?}"
                );
            }
            continued = line.ends_with('\\');
        }
        let plan = vc_triage(&report);
        let blocks: Vec<&Block> = plan.blocks.iter().map(|(_, b)| b).collect();
        assert_eq!(blocks.len(), 3, "{file}");
        let leases: Vec<String> = evidence.iter().map(|(p, _)| p.to_string()).collect();
        // A quote or `$(` means nothing to `delete` (no shell reads its argument); the other
        // hostile paths stay in sh, quoted as the sh form quotes them.
        let quoted: Vec<String> = HOSTILE[1..].iter().map(|p| p.to_string()).collect();
        let body = |sh: &str| format!("{SH_PROLOGUE}{}\n", sh.trim_end());
        let want = vec![
            ("no-logfile".to_string(), String::new()),
            ("run-command".into(), VC_NEEDS_NO_NETWORK.into()),
            ("delete".into(), leases[0].clone()),
            ("delete".into(), leases[1].clone()),
            ("run-command".into(), body(&delete_files_sh(&quoted))),
            ("run-command".into(), body(&blocks[1].sh)),
            ("delete".into(), "/etc/ssh/ssh_host_rsa_key.pub".into()),
            ("delete".into(), "/etc/ssh/ssh_host_rsa_key".into()),
        ];
        assert_eq!(cmds, want, "{file}");
        // A Windows fix is the PowerShell form's: listed, not run.
        assert!(
            file.contains("#   windows/rdp (fail): fDenyTSConnections 1\n#     why not here: its fix is for Windows"),
            "{file}"
        );
        // The leases block of the sh form is those deletes and nothing else.
        assert_eq!(blocks[0].sh, delete_files_sh(&leases));
        for (c, a) in &cmds {
            if c == "run-command" {
                let ok = std::process::Command::new("sh")
                    .args(["-n", "-c", a])
                    .status()
                    .expect("sh runs")
                    .success();
                assert!(ok, "sh -n rejects {a}");
            }
        }
    }
}
