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
    sources: &["Certification Test Tool test 48 \"Bash History\" (1 KB)", "LISA AzureImageStandard.verify_bash_history_is_empty (any byte)"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check: the history files found are deleted.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    crate::fix::delete_files(
        &crate::fix::evidence_paths(r),
        "deletes the shell history files found (every account's)",
    )
}

/// The thresholds of this check: the `["linux/shell-history"]` section of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Thresholds {
    /// History files larger than this fail (guide: over 1 KB; current: any non-empty one).
    pub fail_above_bytes: u64,
}

impl Thresholds {
    pub fn guide() -> Thresholds {
        Thresholds {
            fail_above_bytes: 1024,
        }
    }

    pub fn current() -> Thresholds {
        Thresholds {
            fail_above_bytes: 0,
        }
    }
}

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
                match view.symlink_metadata(&p) {
                    Ok(m) => w.files.push((p, m.len)),
                    Err(e) => w.notes.extend(Note::from_fs_error(&p, &e)),
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
    let passwd = match g.facts.passwd(&g.view) {
        Ok(p) => p,
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
    let limit = ctx.policy.linux_shell_history.fail_above_bytes;
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

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::MAX_HISTORY_WALK_ENTRIES;

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::policy::Policy;
    use crate::testing::{
        assert_errors_without_a_linux_guest, run_linux, run_linux_with, said, MemFs, Node,
    };

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nazureuser:x:1000:1000::/home/azureuser/:/bin/bash\n";

    fn guest() -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/passwd", PASSWD);
        fs
    }

    /// A guest with a history file of `len` bytes at `path`.
    fn history(path: &str, len: u64) -> MemFs {
        let mut fs = guest();
        fs.repeat(path, b'l', len);
        fs
    }

    fn assert_found(o: &Outcome, status: Status, path: &str, len: u64) {
        let s = said(o);
        assert_eq!(o.status, status, "{s}");
        assert_eq!(o.actual, "1 non-empty history file(s)", "{s}");
        assert!(s.contains(&format!("{path} {len} bytes")), "{s}");
        assert!(o.message.contains(&format!("{path} ({len} bytes)")), "{s}");
    }

    fn assert_none(o: &Outcome) {
        assert_eq!(o.status, Status::Pass, "{}", said(o));
        assert_eq!(o.actual, "no history files", "{}", said(o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn error_without_etc_passwd() {
        let o = run_linux(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(o.message.starts_with("/etc/passwd: "), "{}", said(&o));
    }

    #[test]
    fn passes_without_history_files() {
        let mut fs = guest();
        fs.file("/root/.bashrc", "x")
            .file("/home/azureuser/.profile", "x");
        let o = run_linux(fs, run);
        assert_none(&o);
        assert_eq!(o.required, "no history over 1024 bytes, none recommended");
    }

    #[test]
    fn passes_with_empty_history_files() {
        let mut fs = history("/root/.bash_history", 0);
        fs.file("/home/azureuser/.zsh_history", "");
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "2 empty history file(s)");
    }

    #[test]
    fn guide_warns_at_1024_bytes() {
        let o = run_linux(history("/root/.bash_history", 1024), run);
        assert_found(&o, Status::Warning, "/root/.bash_history", 1024);
    }

    #[test]
    fn guide_fails_above_1024_bytes() {
        let o = run_linux(history("/root/.bash_history", 1025), run);
        assert_found(&o, Status::Fail, "/root/.bash_history", 1025);
    }

    #[test]
    fn current_fails_on_one_byte() {
        let o = run_linux_with(
            history("/home/azureuser/.bash_history", 1),
            &Policy::current(),
            run,
        );
        assert_found(&o, Status::Fail, "/home/azureuser/.bash_history", 1);
        assert_eq!(o.required, "no non-empty history file");
    }

    #[test]
    fn current_passes_on_an_empty_file() {
        let o = run_linux_with(history("/root/.bash_history", 0), &Policy::current(), run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "1 empty history file(s)");
    }

    #[test]
    fn the_worst_file_decides() {
        let mut fs = history("/home/azureuser/.bash_history", 2000);
        fs.repeat("/root/.history", b'l', 10);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "2 non-empty history file(s)");
        assert_eq!(
            o.message,
            "shell history left in the image: /home/azureuser/.bash_history (2000 bytes), /root/.history (10 bytes)"
        );
    }

    #[test]
    fn finds_every_kind_of_history_name() {
        for name in [".bash_history", ".zsh_history", ".sh_history", ".history"] {
            let o = run_linux(history(&format!("/root/{name}"), 5), run);
            assert_found(&o, Status::Warning, &format!("/root/{name}"), 5);
        }
    }

    #[test]
    fn ignores_other_names_and_kinds() {
        let mut fs = history("/root/bash_history", 5000);
        fs.repeat("/root/.bash_history.bak", b'l', 5000)
            .file("/root/.history/x", "x")
            .link("/root/.bash_history", "/dev/null");
        assert_none(&run_linux(fs, run));
    }

    #[test]
    fn looks_in_every_home_with_a_shell() {
        let mut fs = MemFs::new();
        fs.file(
            "/etc/passwd",
            "a:x:1000:1000::/home/a:/bin/zsh\nb:x:1001:1001::/home/b:\nc:x:1002:1002::/home/c:/usr/sbin/nologin\nd:x:1003:1003:::/bin/bash\n",
        )
        .repeat("/home/a/.zsh_history", b'l', 3)
        .repeat("/home/b/.bash_history", b'l', 4)
        .repeat("/home/c/.bash_history", b'l', 5000);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "2 non-empty history file(s)", "{s}");
        assert!(s.contains("/home/a/.zsh_history 3 bytes"), "{s}");
        assert!(s.contains("/home/b/.bash_history 4 bytes"), "{s}");
        assert!(!s.contains("/home/c"), "{s}");
    }

    #[test]
    fn looks_in_root_even_without_a_passwd_entry() {
        let mut fs = MemFs::new();
        fs.file("/etc/passwd", "")
            .repeat("/root/.bash_history", b'l', 7);
        let o = run_linux(fs, run);
        assert_found(&o, Status::Warning, "/root/.bash_history", 7);
    }

    #[test]
    fn a_home_listed_twice_is_looked_at_once() {
        // root's /root and the /root always added, around another home.
        let o = run_linux(history("/root/.bash_history", 7), run);
        assert_found(&o, Status::Warning, "/root/.bash_history", 7);
    }

    #[test]
    fn finds_history_six_levels_down() {
        let p = "/root/a/b/c/d/e/f/.bash_history";
        let o = run_linux(history(p, 9), run);
        assert_found(&o, Status::Warning, p, 9);
    }

    #[test]
    fn does_not_look_seven_levels_down() {
        let o = run_linux(history("/root/a/b/c/d/e/f/g/.bash_history", 9), run);
        assert_none(&o);
    }

    /// A guest whose /home/a holds `n` entries and /root a history file.
    fn crowded(n: usize) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/passwd", "a:x:1000:1000::/home/a:/bin/bash\n")
            .repeat("/root/.bash_history", b'l', 7);
        for i in 0..n {
            fs.add(&format!("/home/a/f{i:05}"), Node::File(Vec::new()));
        }
        fs
    }

    #[test]
    fn walks_on_up_to_the_entry_bound() {
        // /root's history file is the last entry the bound allows.
        let o = run_linux(crowded(MAX_HISTORY_WALK_ENTRIES - 1), run);
        assert_found(&o, Status::Warning, "/root/.bash_history", 7);
        assert_eq!(o.evidence.len(), 1, "{}", said(&o));
    }

    /// Asserts that the walk stopped in `dir`, before /root's history file.
    fn assert_stopped_in(o: &Outcome, dir: &str) {
        let s = said(o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "no history files", "{s}");
        assert_eq!(o.evidence.len(), 1, "{s}");
        assert_eq!(o.evidence[0].path.as_deref(), Some(dir), "{s}");
        assert!(
            o.evidence[0]
                .text
                .contains(&MAX_HISTORY_WALK_ENTRIES.to_string()),
            "{s}"
        );
    }

    #[test]
    fn stops_at_the_first_entry_past_the_bound() {
        // /home/a holds exactly the bound: /root's history file is one entry too many.
        assert_stopped_in(&run_linux(crowded(MAX_HISTORY_WALK_ENTRIES), run), "/root");
    }

    #[test]
    fn does_not_walk_the_homes_after_the_bound() {
        assert_stopped_in(
            &run_linux(crowded(MAX_HISTORY_WALK_ENTRIES + 1), run),
            "/home/a",
        );
    }

    #[test]
    fn error_when_a_history_file_cannot_be_looked_up() {
        let mut fs = guest();
        fs.lost(
            "/root/.bash_history",
            vhdlint_guest::fs::FileKind::File,
            vhdlint_guest::fs::FsError::Corrupt("inode 77: bad checksum".into()),
        );
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Error, "{s}");
        assert!(s.contains("inode 77: bad checksum"), "{s}");
    }
}
