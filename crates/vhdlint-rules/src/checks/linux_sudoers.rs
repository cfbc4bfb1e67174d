use vhdlint_guest::config::sudoers::{self, includedir_reads};
use vhdlint_guest::limits::{MAX_SUDOERS_FILES, MAX_SUDOERS_INCLUDE_DEPTH};
use vhdlint_guest::view::GuestView;

use crate::check::{CheckMeta, Evidence, Note, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/sudoers",
    title: "No Defaults targetpw",
    what: "Reads /etc/sudoers and the files it includes (#include, #includedir, @include, @includedir) for an active `Defaults targetpw` (including per-user `Defaults:user targetpw`).",
    why: "With targetpw, sudo asks for the root password instead of the user's; Azure deletes the root password at provisioning, so the provisioned user could never use sudo. SUSE ships it on by default.",
    remedy: "Remove `Defaults targetpw` (and `ALL ALL=(ALL) ALL`) from /etc/sudoers and /etc/sudoers.d/*.",
    sources: &["Azure Marketplace VM image guide (SUSE): comment out Defaults targetpw", "Azure docs, SUSE image preparation"],
    profiles: &[Profile::LinuxOs],
};

/// What [`collect`] gathers.
#[derive(Default)]
struct Found {
    /// targetpw lines.
    ev: Vec<Evidence>,
    /// What a bound kept from being read.
    notes: Vec<Note>,
    /// Files visited so far.
    files: usize,
    /// Whether an include past the depth bound was met (noted once).
    too_deep: bool,
}

/// The targetpw lines of `path` and of what it includes.
fn collect(view: &GuestView, path: &str, depth: usize, f: &mut Found) {
    f.files += 1;
    if f.files > MAX_SUDOERS_FILES {
        if f.files == MAX_SUDOERS_FILES + 1 {
            f.notes.push(
                Note::bound(
                    "MAX_SUDOERS_FILES",
                    format!("more than {MAX_SUDOERS_FILES} sudoers files through includes, the limit: this one and the rest are not read"),
                )
                .at(path),
            );
        }
        return;
    }
    if depth > MAX_SUDOERS_INCLUDE_DEPTH {
        if !f.too_deep {
            f.too_deep = true;
            f.notes.push(
                Note::bound(
                    "MAX_SUDOERS_INCLUDE_DEPTH",
                    format!("included more than {MAX_SUDOERS_INCLUDE_DEPTH} levels deep, the limit: not read (nor any other file that deep)"),
                )
                .at(path),
            );
        }
        return;
    }
    let Some(text) = view.read_noted(path, &mut f.notes) else {
        return;
    };
    let s = sudoers::parse(&text);
    for d in s.targetpw_lines() {
        f.ev.push(Evidence::path(path, Some(d.line), d.text.trim()));
    }
    for inc in &s.includes {
        let target = if inc.path.starts_with('/') {
            inc.path.clone()
        } else {
            format!("/etc/{}", inc.path)
        };
        if inc.directory {
            if let Some(entries) = view.read_dir_noted(&target, &mut f.notes) {
                for e in entries.iter().filter(|e| includedir_reads(&e.name)) {
                    collect(view, &format!("{target}/{}", e.name), depth + 1, f);
                }
            }
        } else {
            collect(view, &target, depth + 1, f);
        }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let required = "no active Defaults targetpw";
    if !g.view.exists("/etc/sudoers") {
        return Outcome::pass("no /etc/sudoers", required);
    }
    let mut found = Found::default();
    collect(&g.view, "/etc/sudoers", 0, &mut found);
    let Found { ev, notes, .. } = found;
    if ev.is_empty() {
        return Outcome::pass("targetpw not set", required).noted(notes);
    }
    let out = Outcome::fail(format!("{} targetpw line(s)", ev.len()), required)
        .message(format!(
            "sudo would ask for the (deleted) root password: {}",
            ev.iter()
                .map(|e| format!(
                    "{}:{}",
                    e.path.as_deref().unwrap_or(""),
                    e.line.unwrap_or(0)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .evidences(ev);
    out.noted(notes)
}
