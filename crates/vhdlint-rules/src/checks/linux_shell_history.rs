use vhdlint_guest::config::passwd::parse_passwd;
use vhdlint_guest::fs::FileKind;
use vhdlint_guest::limits::MAX_HISTORY_WALK_ENTRIES;
use vhdlint_guest::view::GuestView;

use crate::check::{CheckMeta, Evidence, Note, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/shell-history",
    title: "Shell history cleared",
    what: "For every account in /etc/passwd whose shell is a shell (and for /root), finds `.*sh_history` and `.history` files anywhere under the home directory, as LISA's verify_bash_history_is_empty does. guide: a file over 1 KB fails, a non-empty one warns; current: any non-empty one fails.",
    why: "Shell history records the commands run while the image was built: passwords, tokens, internal host names. It ships to every customer.",
    remedy: "Delete the history files before capturing: rm -f /root/.bash_history /home/*/.bash_history (and run `export HISTSIZE=0` in the shell that captures).",
    sources: &["Certification Test Tool test 48 \"Bash History\" (1 KB)", "LISA AzureImageStandard verify_bash_history_is_empty (any byte)"],
    profiles: &[Profile::LinuxOs],
};

/// Directory levels looked into below a home: the scope of the search (history files live at
/// the top of a home), not a bound on reading, so deeper directories are not reported.
const MAX_DEPTH: usize = 6;

/// What [`walk`] gathers.
#[derive(Default)]
struct Walk {
    /// History files and their sizes.
    files: Vec<(String, u64)>,
    /// Directory entries visited so far.
    visited: usize,
    /// What a bound kept from being read.
    notes: Vec<Note>,
}

fn walk(view: &GuestView, dir: &str, depth: usize, w: &mut Walk) {
    if depth > MAX_DEPTH || w.visited > MAX_HISTORY_WALK_ENTRIES {
        return;
    }
    let Some(entries) = view.read_dir_noted(dir, &mut w.notes) else {
        return;
    };
    for e in entries {
        w.visited += 1;
        if w.visited == MAX_HISTORY_WALK_ENTRIES + 1 {
            w.notes.push(
                Note::bound(
                    "MAX_HISTORY_WALK_ENTRIES",
                    format!("more than {MAX_HISTORY_WALK_ENTRIES} directory entries visited under the home directories, the limit: the search stopped here"),
                )
                .at(dir),
            );
        }
        if w.visited > MAX_HISTORY_WALK_ENTRIES {
            return;
        }
        let p = format!("{}/{}", dir.trim_end_matches('/'), e.name);
        match e.kind {
            FileKind::Dir => walk(view, &p, depth + 1, w),
            FileKind::File
                if e.name == ".history"
                    || (e.name.starts_with('.') && e.name.ends_with("sh_history")) =>
            {
                if let Ok(m) = view.symlink_metadata(&p) {
                    w.files.push((p, m.len));
                }
            }
            _ => {}
        }
    }
}

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let passwd = match g.view.read_config("/etc/passwd") {
        Ok(t) => parse_passwd(&t),
        Err(e) => return Outcome::error(format!("/etc/passwd: {e}")),
    };
    let mut homes: Vec<String> = passwd
        .entries
        .iter()
        .filter(|a| a.effective_shell().ends_with("sh"))
        .map(|a| a.home.trim_end_matches('/').to_string())
        .filter(|h| !h.is_empty())
        .collect();
    homes.push("/root".into());
    homes.sort();
    homes.dedup();
    let mut w = Walk::default();
    for h in &homes {
        // A home of "/" would walk the whole image: only its top level is looked at.
        if h == "/" {
            walk(&g.view, "/", MAX_DEPTH, &mut w);
        } else {
            walk(&g.view, h, 0, &mut w);
        }
    }
    let Walk { files, notes, .. } = w;
    let limit = ctx.policy.history_fail_above_bytes;
    let required = if limit > 0 {
        format!("no history over {limit} bytes, none recommended")
    } else {
        "no non-empty history file".to_string()
    };
    let mut status = Status::Pass;
    let mut ev = Vec::new();
    for (p, n) in files.iter().filter(|f| f.1 > 0) {
        status = status.max(if *n > limit {
            Status::Fail
        } else {
            Status::Warning
        });
        ev.push(Evidence::path(p.clone(), None, format!("{n} bytes")));
    }
    if status == Status::Pass {
        let note = if files.is_empty() {
            "no history files".to_string()
        } else {
            format!("{} empty history file(s)", files.len())
        };
        return Outcome::pass(note, required).noted(notes);
    }
    let listed: Vec<String> = ev
        .iter()
        .map(|e| format!("{} ({})", e.path.as_deref().unwrap_or(""), e.text))
        .collect();
    let out = Outcome::with_status(
        status,
        format!("{} non-empty history file(s)", ev.len()),
        required,
    )
    .message(format!(
        "shell history left in the image: {}",
        listed.join(", ")
    ))
    .evidences(ev);
    out.noted(notes)
}
