use vhdlint_guest::config::sudoers::{self, includedir_reads};
use vhdlint_guest::view::GuestView;

use crate::check::{CheckMeta, Evidence, Outcome};
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

fn collect(view: &GuestView, path: &str, depth: usize, ev: &mut Vec<Evidence>) {
    if depth > 8 {
        return;
    }
    let Ok(text) = view.read_config(path) else {
        return;
    };
    let s = sudoers::parse(&text);
    for d in s.targetpw_lines() {
        ev.push(Evidence::path(path, Some(d.line), d.text.trim()));
    }
    for inc in &s.includes {
        let target = if inc.path.starts_with('/') {
            inc.path.clone()
        } else {
            format!("/etc/{}", inc.path)
        };
        if inc.directory {
            if let Ok(entries) = view.read_dir(&target) {
                for e in entries.iter().filter(|e| includedir_reads(&e.name)) {
                    collect(view, &format!("{target}/{}", e.name), depth + 1, ev);
                }
            }
        } else {
            collect(view, &target, depth + 1, ev);
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
    let mut ev = Vec::new();
    collect(&g.view, "/etc/sudoers", 0, &mut ev);
    if ev.is_empty() {
        return Outcome::pass("targetpw not set", required);
    }
    Outcome::fail(format!("{} targetpw line(s)", ev.len()), required)
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
        .evidences(ev)
}
