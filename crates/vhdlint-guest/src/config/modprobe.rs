//! modprobe.d configuration (`modprobe.d(5)`), as kmod's `libkmod-config.c` reads it: the
//! `blacklist` and `install` commands, the two that keep a module from being loaded.
//!
//! - Lines: a `\` followed by a newline joins the next line; a `\` followed by any other
//!   character stands for that character (`\\` is one `\`). A line is split into words at
//!   blanks and tabs only (a `\r` belongs to the word it ends: a file with CRLF endings names
//!   `udf\r`, which is not `udf`, as kmod reads it). A line whose first character is `#`, and
//!   an empty one, is skipped; a `#` elsewhere is a word like any other, so a comment after
//!   `blacklist udf` is ignored (only the first word after the command is read) and one after
//!   an install command is part of the command (the shell then reads it as a comment).
//! - `blacklist MODULE`: the module is not loaded through its aliases. The kernel asks for a
//!   filesystem by the alias `fs-NAME` (`mount -t udf` runs `modprobe -q -- fs-udf`), so a
//!   blacklisted filesystem module is not loaded when it is mounted.
//! - `install MODULE COMMAND…`: modprobe runs the command (with `/bin/sh -c`) instead of
//!   inserting the module. The command is the rest of the line after the module's word, as
//!   written. Of several install commands for one module, the first in file order applies
//!   (kmod keeps the first match), and the module word is a glob pattern (`fnmatch`).
//! - Module names: `-` and `_` are the same (kmod writes `_`), except inside `[…]` of a glob.
//!
//! Files ([`DIRECTORIES`]): every `*.conf` (and `*.alias`) not starting with `.` in
//! `/etc/modprobe.d`, `/run/modprobe.d`, `/usr/local/lib/modprobe.d`, `/usr/lib/modprobe.d`
//! and `/lib/modprobe.d`, read in the byte order of their names across all directories; a
//! name in an earlier directory hides the same name in later ones (so
//! `/etc/modprobe.d/x.conf` overrides `/lib/modprobe.d/x.conf`). See [`read_order`].
//!
//! The other commands (`alias`, `options`, `remove`, `softdep`, `include`…) are recognised
//! and skipped.

use crate::limits::MAX_MODPROBE_FILES;

/// kmod's configuration directories, highest priority first.
pub const DIRECTORIES: [&str; 5] = [
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// What a directive does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `blacklist MODULE`.
    Blacklist,
    /// `install MODULE COMMAND`: the command as written (may be empty).
    Install(String),
}

/// One `blacklist` or `install` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub kind: Kind,
    /// The module name or pattern, `-` written as `_` (outside `[…]`).
    pub module: String,
    /// 1-based number of the (first) line.
    pub line: usize,
    /// The line as read (continuations joined, escapes resolved).
    pub text: String,
}

impl Directive {
    /// Whether this directive is about module `name` (normalised as [`normalize`] does):
    /// a blacklist names it exactly, an install pattern matches it.
    pub fn applies_to(&self, name: &str) -> bool {
        let name = normalize(name);
        match self.kind {
            Kind::Blacklist => self.module == name,
            Kind::Install(_) => super::glob_match(&self.module, &name),
        }
    }
}

/// A module name as kmod compares it: `-` becomes `_`, except inside `[…]` (a glob's
/// bracket expression); an unmatched `[` leaves the rest as it is.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_bracket = false;
    for c in name.chars() {
        match c {
            '[' if !in_bracket => in_bracket = true,
            ']' if in_bracket => in_bracket = false,
            '-' if !in_bracket => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The logical lines of `text` as kmod's `getline_wrapped` makes them: (first line number,
/// text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    let mut line = 1;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                out.push((start, std::mem::take(&mut cur)));
                line += 1;
                start = line;
            }
            '\\' => match chars.next() {
                Some('\n') => line += 1,
                Some(other) => cur.push(other),
                // A `\` at the very end: kmod stores the end-of-file marker as a byte; it
                // ends the last word either way.
                None => cur.push('\u{fffd}'),
            },
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out
}

/// The `blacklist` and `install` directives of one file, in order.
pub fn parse(text: &str) -> Vec<Directive> {
    let mut out = Vec::new();
    for (line, l) in logical_lines(text) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let is_blank = |c: char| c == ' ' || c == '\t';
        let l_trim = l.trim_start_matches(is_blank);
        let (cmd, rest) = l_trim.split_once(is_blank).unwrap_or((l_trim, ""));
        let rest = rest.trim_start_matches(is_blank);
        if rest.is_empty() {
            continue;
        }
        let (module, after) = rest.split_once(is_blank).unwrap_or((rest, ""));
        let kind = match cmd {
            "blacklist" => Kind::Blacklist,
            // strtok_r's last call returns the rest after the one separator it replaced.
            // kmod takes an install line without a command for a syntax error.
            "install" if !after.is_empty() => Kind::Install(after.to_string()),
            _ => continue,
        };
        out.push(Directive {
            kind,
            module: normalize(module),
            line,
            text: l.clone(),
        });
    }
    out
}

/// Whether kmod reads a file of this name in a configuration directory.
pub fn is_config_name(name: &str) -> bool {
    !name.starts_with('.')
        && ((name.len() >= 6 && name.ends_with(".conf")) || name.ends_with(".alias"))
}

/// The files kmod reads, in order, from the names found in each directory: `dirs` is a list
/// of (directory, names in it) in [`DIRECTORIES`] order. Names kmod skips are left out; of one
/// name in several directories the first directory's file is kept. At most
/// [`MAX_MODPROBE_FILES`] are returned; the bool says whether more were left out.
pub fn read_order(dirs: &[(&str, Vec<String>)]) -> (Vec<String>, bool) {
    let mut chosen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (dir, names) in dirs {
        for n in names.iter().filter(|n| is_config_name(n)) {
            chosen.entry(n.as_str()).or_insert(dir);
        }
    }
    let cut = chosen.len() > MAX_MODPROBE_FILES;
    let files = chosen
        .into_iter()
        .take(MAX_MODPROBE_FILES)
        .map(|(n, d)| format!("{d}/{n}"))
        .collect();
    (files, cut)
}

/// Whether an install command cannot load the module: it runs neither `modprobe` nor
/// `insmod` (`/bin/true`, `/bin/false`, `true`, `exit 0`, `echo disabled`…). A command that
/// loads the module through modprobe (`/sbin/modprobe --ignore-install udf`) or insmod is
/// taken to load it.
pub fn install_disables(command: &str) -> bool {
    !command
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(|w| w == "modprobe" || w == "insmod")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blacklist_and_install() {
        let d = parse("# CIS\nblacklist udf\ninstall udf /bin/true\ninstall cramfs /bin/false # no\noptions x y=1\n");
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].kind, Kind::Blacklist);
        assert_eq!((d[0].module.as_str(), d[0].line), ("udf", 2));
        assert_eq!(d[1].kind, Kind::Install("/bin/true".into()));
        assert_eq!(d[2].kind, Kind::Install("/bin/false # no".into()));
        assert_eq!(d[2].line, 4);
    }

    #[test]
    fn joins_continued_lines_and_resolves_escapes() {
        let d = parse("install udf \\\n  /bin/true\nblacklist v\\fat\n\nblacklist a\\\\b\n");
        assert_eq!(d[0].kind, Kind::Install("  /bin/true".into()));
        assert_eq!(d[0].line, 1);
        assert_eq!((d[1].module.as_str(), d[1].line), ("vfat", 3));
        assert_eq!((d[2].module.as_str(), d[2].line), ("a\\b", 5));
    }

    #[test]
    fn only_a_hash_in_the_first_column_is_a_comment() {
        let d = parse("  blacklist udf\n\t# blacklist vfat\n#blacklist x\nblacklist y # z\n");
        let m: Vec<&str> = d.iter().map(|d| d.module.as_str()).collect();
        assert_eq!(m, ["udf", "y"]);
    }

    #[test]
    fn a_carriage_return_is_part_of_the_word() {
        let d = parse("blacklist udf\r\ninstall vfat /bin/true\r\n");
        assert_eq!(d[0].module, "udf\r");
        assert!(!d[0].applies_to("udf"));
        assert_eq!(d[1].kind, Kind::Install("/bin/true\r".into()));
        assert!(d[1].applies_to("vfat"));
    }

    #[test]
    fn dashes_and_underscores_are_the_same() {
        let d = parse("blacklist hv-vmbus\ninstall fs-[a-z]df /bin/true\n");
        assert_eq!(d[0].module, "hv_vmbus");
        assert!(d[0].applies_to("hv-vmbus"));
        assert_eq!(d[1].module, "fs_[a-z]df");
        assert!(d[1].applies_to("fs-udf"));
        assert_eq!(normalize("a[-]b-c"), "a[-]b_c");
        assert_eq!(normalize("a[-b"), "a[-b");
    }

    #[test]
    fn install_patterns_are_globs_blacklists_are_not() {
        let d = parse("install u* /bin/true\nblacklist u*\n");
        assert!(d[0].applies_to("udf"));
        assert!(!d[1].applies_to("udf"));
    }

    #[test]
    fn lines_without_a_module_are_skipped() {
        assert!(parse("blacklist\ninstall   \ninstall\tudf\ninstall udf \nblacklist x").len() == 1);
    }

    #[test]
    fn which_commands_disable() {
        for c in [
            "/bin/true",
            "/bin/false",
            "true",
            "/usr/bin/false",
            "exit 0",
            "echo \"udf disabled\"",
        ] {
            assert!(install_disables(c), "{c}");
        }
        for c in [
            "/sbin/modprobe --ignore-install udf $CMDLINE_OPTS",
            "/usr/sbin/insmod /lib/modules/x/udf.ko",
            "logger loading; modprobe --ignore-install udf",
        ] {
            assert!(!install_disables(c), "{c}");
        }
    }

    #[test]
    fn files_are_ordered_by_name_and_etc_overrides() {
        let (files, cut) = read_order(&[
            (
                "/etc/modprobe.d",
                vec!["b.conf".into(), ".x.conf".into(), "README".into()],
            ),
            ("/run/modprobe.d", vec![]),
            (
                "/lib/modprobe.d",
                vec![
                    "b.conf".into(),
                    "a.conf".into(),
                    "c.alias".into(),
                    ".conf".into(),
                ],
            ),
        ]);
        assert!(!cut);
        assert_eq!(
            files,
            [
                "/lib/modprobe.d/a.conf",
                "/etc/modprobe.d/b.conf",
                "/lib/modprobe.d/c.alias"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[a-z #\\\\\t\r\n_\\[\\]-]{0,80}") {
            for d in parse(&s) {
                let _ = d.applies_to("udf");
            }
        }
    }
}
