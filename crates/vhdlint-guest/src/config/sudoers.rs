//! `/etc/sudoers` (and files it includes): `Defaults` lines and include directives.
//!
//! As sudo reads it: `\` at the end of a line continues it; `#` starts a comment (outside
//! double quotes), except `#include`/`#includedir` which are directives (like `@include`/
//! `@includedir`), and `#` followed by a digit, which is a user id (such lines are not
//! `Defaults` lines, so they are simply skipped here). A `Defaults` line is `Defaults`, an
//! optional binding (`:user_list`, `@host_list`, `!command_list`, `>runas_list`) and a comma
//! separated list of parameters; a boolean flag is negated by an odd number of `!`. For a flag
//! the last setting wins.
//!
//! Not handled: aliases (`User_Alias`), user specifications, `%h` in include paths (reported
//! as written).

use super::numbered_lines;

/// One parameter of a `Defaults` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsParam {
    /// The parameter name (`targetpw`, `env_reset`, `secure_path`).
    pub name: String,
    /// An odd number of `!` before it.
    pub negated: bool,
    /// `=`, `+=` or `-=` with its value (unquoted), if any.
    pub op: Option<String>,
    pub value: Option<String>,
}

/// One `Defaults` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsLine {
    /// `:user`, `@host`, `!cmnd` or `>runas` (with its sigil), None for a global line.
    pub binding: Option<String>,
    pub params: Vec<DefaultsParam>,
    /// 1-based line number (of the first line, for a continued line).
    pub line: usize,
    /// The text (continued lines joined).
    pub text: String,
}

impl DefaultsLine {
    /// The setting of flag `name` on this line: Some(true) set, Some(false) negated, None not
    /// mentioned (the last mention on the line wins).
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.params
            .iter()
            .rev()
            .find(|p| p.name == name)
            .map(|p| !p.negated)
    }
}

/// An include directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// `includedir` (a directory) or `include` (a file).
    pub directory: bool,
    /// The path as written (unquoted).
    pub path: String,
    /// Written with `@` (sudo 1.9.1+) rather than `#`.
    pub at_form: bool,
    pub line: usize,
    pub text: String,
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sudoers {
    pub defaults: Vec<DefaultsLine>,
    /// Include directives in order; the caller reads those files (an `includedir` reads the
    /// directory's files in lexical order, skipping names with a `.` or ending in `~`: see
    /// [`includedir_reads`]).
    pub includes: Vec<Include>,
}

impl Sudoers {
    /// The `Defaults` lines (any binding) that turn `targetpw` on.
    pub fn targetpw_lines(&self) -> Vec<&DefaultsLine> {
        self.defaults
            .iter()
            .filter(|d| d.flag("targetpw") == Some(true))
            .collect()
    }

    /// The global (`Defaults` without binding) line that leaves `targetpw` on at the end of
    /// this file: the last global mention, if it sets it.
    pub fn targetpw_effective(&self) -> Option<&DefaultsLine> {
        self.defaults
            .iter()
            .rev()
            .filter(|d| d.binding.is_none())
            .find(|d| d.flag("targetpw").is_some())
            .filter(|d| d.flag("targetpw") == Some(true))
    }
}

/// Whether sudo reads a file of an `includedir` directory: no `.` in the name, not ending in
/// `~`.
pub fn includedir_reads(file_name: &str) -> bool {
    !file_name.is_empty() && !file_name.contains('.') && !file_name.ends_with('~')
}

/// Parses a sudoers file.
pub fn parse(text: &str) -> Sudoers {
    let mut s = Sudoers::default();
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in numbered_lines(text) {
        let (start, mut joined) = match pending.take() {
            Some((l, mut t)) => {
                t.push_str(line);
                (l, t)
            }
            None => (n, line.to_string()),
        };
        if joined.ends_with('\\') && !joined.trim_start().starts_with('#') {
            joined.pop();
            pending = Some((start, joined));
            continue;
        }
        logical_line(&mut s, start, &joined);
    }
    if let Some((l, t)) = pending {
        logical_line(&mut s, l, &t);
    }
    s
}

fn logical_line(s: &mut Sudoers, n: usize, text: &str) {
    let t = text.trim();
    for (prefix, directory, at_form) in [
        ("#includedir", true, false),
        ("@includedir", true, true),
        ("#include", false, false),
        ("@include", false, true),
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            if rest.starts_with([' ', '\t']) {
                let p = rest.trim();
                let p = p
                    .strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(p);
                s.includes.push(Include {
                    directory,
                    path: p.to_string(),
                    at_form,
                    line: n,
                    text: text.to_string(),
                });
                return;
            }
        }
    }
    let Some(rest) = t.strip_prefix("Defaults") else {
        return;
    };
    let mut binding = None;
    let rest = if rest.starts_with([':', '@', '!', '>']) {
        // The binding list: up to whitespace not following a comma.
        let mut end = rest.len();
        let mut last = ' ';
        for (i, ch) in rest.char_indices() {
            if ch.is_whitespace() && last != ',' {
                end = i;
                break;
            }
            if !ch.is_whitespace() {
                last = ch;
            }
        }
        binding = Some(rest[..end].split_whitespace().collect::<String>());
        &rest[end..]
    } else if rest.starts_with(char::is_whitespace) {
        rest
    } else {
        // `Defaultsfoo`: not a Defaults line.
        return;
    };
    let params = split_params(strip_comment(rest))
        .into_iter()
        .filter_map(|p| param(&p))
        .collect();
    s.defaults.push(DefaultsLine {
        binding,
        params,
        line: n,
        text: text.to_string(),
    });
}

/// Cuts at a `#` outside double quotes.
fn strip_comment(s: &str) -> &str {
    let mut quoted = false;
    let mut prev = ' ';
    for (i, ch) in s.char_indices() {
        match ch {
            '"' if prev != '\\' => quoted = !quoted,
            '#' if !quoted => return &s[..i],
            _ => {}
        }
        prev = ch;
    }
    s
}

fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut prev = ' ';
    for ch in s.chars() {
        match ch {
            '"' if prev != '\\' => {
                quoted = !quoted;
                cur.push(ch);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
        prev = ch;
    }
    out.push(cur);
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn param(p: &str) -> Option<DefaultsParam> {
    let bangs = p
        .chars()
        .take_while(|&c| c == '!' || c.is_whitespace())
        .filter(|&c| c == '!')
        .count();
    let p = p.trim_start_matches(|c: char| c == '!' || c.is_whitespace());
    let end = p
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(p.len());
    let name = &p[..end];
    if name.is_empty() {
        return None;
    }
    let rest = p[end..].trim_start();
    let (op, value) = ["+=", "-=", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))
        .map(|(op, v)| {
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            (Some(op.to_string()), Some(v.to_string()))
        })
        .unwrap_or((None, None));
    Some(DefaultsParam {
        name: name.to_string(),
        negated: bangs % 2 == 1,
        op,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUSE15: &str = "## sudoers file.\n##\n## This file MUST be edited with the 'visudo' command as root.\n##\n## Defaults specification\n##\n## Prevent environment variables from influencing programs in an\n## unexpected or harmful way (CVE-2005-2959, CVE-2005-4158, CVE-2006-0151)\nDefaults always_set_home\n## Path that will be used for every command run from sudo\nDefaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin:/usr/local/sbin\"\nDefaults env_reset\n## Change env_reset to !env_reset in previous line to keep all environment variables\n## Following list will no longer be necessary after this change\nDefaults env_keep = \"LANG LC_ADDRESS LC_CTYPE LC_COLLATE LC_IDENTIFICATION LC_MEASUREMENT LC_MESSAGES \\\n                    LC_MONETARY LC_NAME LC_NUMERIC LC_PAPER LC_TELEPHONE \\\n                    LC_TIME LC_ALL LANGUAGE LINGUAS XDG_SESSION_COOKIE\"\n## In the default (unconfigured) configuration, sudo asks for the root password.\n## This allows use of an ordinary user account for administration of a freshly\n## installed system. When configuring sudo, delete the two\n## following lines:\nDefaults targetpw   # ask for the password of the target user i.e. root\nALL   ALL=(ALL) ALL   # WARNING! Only use this together with 'Defaults targetpw'!\n\n## Read drop-in files from /etc/sudoers.d\n## (the '#' here does not indicate a comment)\n#includedir /etc/sudoers.d\n";

    #[test]
    fn suse_default_has_targetpw() {
        let s = parse(SUSE15);
        let t = s.targetpw_lines();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].line, 22);
        assert_eq!(s.targetpw_effective().unwrap().line, 22);
        assert_eq!(s.includes.len(), 1);
        assert!(s.includes[0].directory);
        assert_eq!(s.includes[0].path, "/etc/sudoers.d");
        assert_eq!(s.includes[0].line, 27);
        let keep = s
            .defaults
            .iter()
            .find(|d| d.flag("env_keep").is_some())
            .unwrap();
        assert_eq!(keep.line, 15);
        assert!(keep.params[0]
            .value
            .as_ref()
            .unwrap()
            .contains("XDG_SESSION_COOKIE"));
        assert_eq!(keep.params[0].op.as_deref(), Some("="));
        assert!(s.defaults[1].params[0]
            .value
            .as_ref()
            .unwrap()
            .starts_with("/usr/sbin"));
    }

    #[test]
    fn commented_negated_bound_and_lists() {
        let s = parse("#Defaults targetpw\n# Defaults targetpw\nDefaults env_reset,targetpw\nDefaults:azureuser targetpw\nDefaults !targetpw\r\nDefaults:%wheel, bob !!targetpw\nDefaultstargetpw\n@include /etc/sudoers.local\n@includedir \"/etc/sudoers.d\"\n#include\t/etc/x\n\tDefaults\t!!!targetpw, lecture=always\n");
        let lines: Vec<usize> = s.targetpw_lines().iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![3, 4, 6]);
        assert_eq!(s.defaults[3].binding.as_deref(), Some(":%wheel,bob"));
        assert_eq!(s.defaults[1].binding.as_deref(), Some(":azureuser"));
        // The last global mention negates it.
        assert!(s.targetpw_effective().is_none());
        assert_eq!(s.defaults.last().unwrap().flag("targetpw"), Some(false));
        assert_eq!(s.includes.len(), 3);
        assert!(s.includes[0].at_form && !s.includes[0].directory);
        assert_eq!(s.includes[1].path, "/etc/sudoers.d");
        assert!(!s.includes[2].at_form);
        let s = parse("Defaults env_reset\nDefaults targetpw\n");
        assert_eq!(s.targetpw_effective().unwrap().line, 2);
    }

    #[test]
    fn includedir_names() {
        assert!(includedir_reads("90-cloud-init-users"));
        assert!(!includedir_reads("README.txt"));
        assert!(!includedir_reads("waagent~"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            let s = parse(&text);
            let _ = s.targetpw_lines();
            let _ = s.targetpw_effective();
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("[ \\t]?(Defaults|#include|@includedir|#)?[:@!>]?[a-z!,=+\" \\t#\\\\]{0,25}", 0..20)) {
            let _ = parse(&lines.join("\n"));
        }
    }
}
