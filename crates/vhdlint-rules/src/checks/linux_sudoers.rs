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
    sources: &["Azure Marketplace VM image guide (SUSE): comment out Defaults targetpw", "Azure docs, SUSE image preparation", "LISA AzureImageStandard.verify_default_targetpw"],
    profiles: &[Profile::LinuxOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Script(fix);

/// The targetpw lines commented out in each file found, and with them the `ALL ALL=(ALL) ALL`
/// that SUSE's sudoers pairs with targetpw (without targetpw it would let every user run
/// anything as root with their own password). visudo checks the result where the root has it;
/// a file it rejects is put back and the script stops.
fn fix(r: &crate::check::CheckResult) -> Option<crate::fix::Block> {
    let mut files: Vec<&str> = Vec::new();
    for p in r.evidence.iter().filter_map(|e| e.path.as_deref()) {
        if p.starts_with('/') && !files.contains(&p) {
            files.push(p);
        }
    }
    let mut sh = String::new();
    for f in files {
        sh.push_str(&format!(
            r#"f={}
if grep -Eq '^[[:space:]]*Defaults[^#]*targetpw' "$f"; then
    cp -p "$f" "$f.vhdlint"
    sed -i -E '/^[[:space:]]*Defaults[^#]*targetpw/s/^/# /; s/^([[:space:]]*ALL[[:space:]]+ALL[[:space:]]*=[[:space:]]*\(ALL(:ALL)?\)[[:space:]]+ALL([[:space:]]|#|$))/# \1/' "$f"
    if command -v visudo >/dev/null 2>&1 && ! visudo -cq -f /etc/sudoers >/dev/null 2>&1; then
        cat "$f.vhdlint" >"$f"; rm -f "$f.vhdlint"
        echo "vhdlint fix: visudo rejects $f without targetpw: left as it was" >&2; exit 1
    fi
    rm -f "$f.vhdlint"
    say "commented out Defaults targetpw (and ALL ALL=(ALL) ALL) in $f"
fi
"#,
            crate::fix::sh_quote(f)
        ));
    }
    (!sh.is_empty()).then(|| crate::fix::Block {
        changes: "comments out Defaults targetpw and the ALL ALL=(ALL) ALL that goes with it"
            .into(),
        sh,
    })
}

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
    let mut lookup = Vec::new();
    if !g.view.exists_noted("/etc/sudoers", &mut lookup) {
        return Outcome::pass("no /etc/sudoers", required).noted(lookup);
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

#[cfg(test)]
mod tests {
    use vhdlint_guest::limits::{MAX_SUDOERS_FILES, MAX_SUDOERS_INCLUDE_DEPTH};

    use super::run;
    use crate::check::{Outcome, Status};
    use crate::testing::{assert_errors_without_a_linux_guest, run_linux, said, MemFs};

    const TARGETPW: &str = "Defaults targetpw\n";

    fn sudoers(text: &str) -> MemFs {
        let mut fs = MemFs::new();
        fs.file("/etc/sudoers", text);
        fs
    }

    fn assert_targetpw(o: &Outcome, at: &[&str]) {
        let s = said(o);
        assert_eq!(o.status, Status::Fail, "{s}");
        assert_eq!(o.actual, format!("{} targetpw line(s)", at.len()), "{s}");
        assert_eq!(
            o.message,
            format!(
                "sudo would ask for the (deleted) root password: {}",
                at.join(", ")
            )
        );
    }

    fn assert_clean(o: &Outcome) {
        assert_eq!(o.status, Status::Pass, "{}", said(o));
        assert_eq!(o.actual, "targetpw not set", "{}", said(o));
    }

    #[test]
    fn error_without_a_linux_guest() {
        assert_errors_without_a_linux_guest(run);
    }

    #[test]
    fn passes_without_etc_sudoers() {
        let mut fs = MemFs::new();
        fs.file("/etc/sudoers.d/10-x", TARGETPW);
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no /etc/sudoers");
    }

    #[test]
    fn error_when_etc_cannot_be_read() {
        let mut fs = MemFs::new();
        fs.broken_dir(
            "/etc",
            vhdlint_guest::fs::FsError::Corrupt("/etc: bad directory block".into()),
        );
        let o = run_linux(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("/etc: bad directory block"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn passes_without_targetpw() {
        let o = run_linux(
            sudoers(
                "Defaults env_reset\n# Defaults targetpw\nDefaults !targetpw\nroot ALL=(ALL) ALL\n",
            ),
            run,
        );
        assert_clean(&o);
    }

    #[test]
    fn fails_on_targetpw_and_says_where() {
        let o = run_linux(
            sudoers("Defaults env_reset\nDefaults targetpw\nDefaults:alice targetpw\n"),
            run,
        );
        assert_targetpw(&o, &["/etc/sudoers:2", "/etc/sudoers:3"]);
        assert!(
            said(&o).contains("/etc/sudoers:3 Defaults:alice targetpw"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn follows_an_absolute_include() {
        let mut fs = sudoers("root ALL=(ALL) ALL\n@include /etc/sudoers.extra\n");
        fs.file("/etc/sudoers.extra", TARGETPW);
        assert_targetpw(&run_linux(fs, run), &["/etc/sudoers.extra:1"]);
    }

    #[test]
    fn follows_a_relative_include_from_etc() {
        let mut fs = sudoers("#include sudoers.local\n");
        fs.file("/etc/sudoers.local", TARGETPW);
        assert_targetpw(&run_linux(fs, run), &["/etc/sudoers.local:1"]);
    }

    #[test]
    fn reads_an_includedir_as_sudo_does() {
        let mut fs = sudoers("#includedir /etc/sudoers.d\n");
        fs.file("/etc/sudoers.d/10-suse", TARGETPW)
            .file("/etc/sudoers.d/README.txt", TARGETPW)
            .file("/etc/sudoers.d/old~", TARGETPW);
        assert_targetpw(&run_linux(fs, run), &["/etc/sudoers.d/10-suse:1"]);
    }

    #[test]
    fn reads_a_relative_includedir_from_etc() {
        let mut fs = sudoers("@includedir sudoers.d\n");
        fs.file("/etc/sudoers.d/90-cloud", TARGETPW);
        assert_targetpw(&run_linux(fs, run), &["/etc/sudoers.d/90-cloud:1"]);
    }

    #[test]
    fn passes_when_an_included_file_is_missing() {
        let o = run_linux(sudoers("@include /etc/nope\n@includedir /etc/nodir\n"), run);
        assert_clean(&o);
        assert!(o.evidence.is_empty(), "{}", said(&o));
    }

    /// /etc/sudoers including /etc/s1, which includes /etc/s2, … down to /etc/s`depth`, whose
    /// text is `last`.
    fn chain(depth: usize, last: &str) -> MemFs {
        let mut fs = sudoers("@include /etc/s1\n");
        for i in 1..depth {
            fs.file(&format!("/etc/s{i}"), format!("@include /etc/s{}\n", i + 1));
        }
        fs.file(&format!("/etc/s{depth}"), last);
        fs
    }

    #[test]
    fn reads_includes_down_to_the_depth_bound() {
        let at = format!("/etc/s{MAX_SUDOERS_INCLUDE_DEPTH}:1");
        let o = run_linux(chain(MAX_SUDOERS_INCLUDE_DEPTH, TARGETPW), run);
        assert_targetpw(&o, &[&at]);
        assert_eq!(o.evidence.len(), 1, "{}", said(&o));
    }

    #[test]
    fn names_the_first_file_past_the_depth_bound_once() {
        let d = MAX_SUDOERS_INCLUDE_DEPTH + 1;
        let mut fs = chain(d - 1, &format!("@include /etc/s{d}\n@include /etc/t{d}\n"));
        fs.file(&format!("/etc/s{d}"), TARGETPW)
            .file(&format!("/etc/t{d}"), TARGETPW);
        let o = run_linux(fs, run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "targetpw not set");
        assert_eq!(o.evidence.len(), 1, "{s}");
        assert_eq!(
            o.evidence[0].path.as_deref(),
            Some(format!("/etc/s{d}").as_str())
        );
    }

    /// /etc/sudoers with an includedir of `n` files, the last (`z`) holding targetpw.
    fn many(n: usize) -> MemFs {
        let mut fs = sudoers("@includedir /etc/sudoers.d\n");
        for i in 0..n - 1 {
            fs.file(&format!("/etc/sudoers.d/f{i:05}"), "");
        }
        fs.file("/etc/sudoers.d/z", TARGETPW);
        fs
    }

    #[test]
    fn reads_files_up_to_the_file_bound() {
        // /etc/sudoers and the directory's files: exactly the bound.
        let o = run_linux(many(MAX_SUDOERS_FILES - 1), run);
        assert_targetpw(&o, &["/etc/sudoers.d/z:1"]);
        assert_eq!(o.evidence.len(), 1, "{}", said(&o));
    }

    #[test]
    fn names_the_first_file_past_the_file_bound_once() {
        let o = run_linux(many(MAX_SUDOERS_FILES + 1), run);
        let s = said(&o);
        assert_eq!(o.status, Status::Warning, "{s}");
        assert_eq!(o.actual, "targetpw not set");
        assert_eq!(o.evidence.len(), 1, "{s}");
        let first = format!("/etc/sudoers.d/f{:05}", MAX_SUDOERS_FILES - 1);
        assert_eq!(o.evidence[0].path.as_deref(), Some(first.as_str()), "{s}");
    }
}
