//! `sshd_config`, evaluated the way `sshd -T` (without `-C`) evaluates keywords.
//!
//! What OpenSSH's `servconf.c` does, and this module copies:
//! - a keyword is the first word, case-insensitive; `Keyword value`, `Keyword=value` and
//!   `Keyword = value` are the same; the arguments are split like `argv_split` (quotes `"`/`'`,
//!   `\` escapes, a word starting with `#` ends the line);
//! - for single-valued keywords the **first** value wins ([`SshdConfig::get`]);
//! - `Include` is processed in place, each pattern relative to `/etc/ssh` unless absolute,
//!   each matched file parsed in turn (the caller's glob gives lexical order), recursively up
//!   to depth 16 (sshd's `SERVCONF_MAX_DEPTH`), a cycle is reported (sshd recurses until that
//!   depth and dies);
//! - a `Match` line starts a block whose lines do not apply (no connection is matched); the block
//!   lasts until the next `Match` or the end of the file it is in. `Match all` ends a block: the
//!   lines after it apply again;
//! - an included file starts with the lines applying, unless the `Include` itself sits in an
//!   inactive `Match` block: then nothing in the included files applies (not even after a
//!   `Match all`). After the `Include` line, the including file's Match state is restored.
//!
//! Not modelled: compile-time defaults other than "missing" (the caller knows them, e.g.
//! ClientAliveInterval 0), option validation (sshd refuses unknown keywords and bad values;
//! only time values are checked here), `sshd -T -C` connection matching, and tilde expansion.

use super::numbered_lines;
use crate::limits::{MAX_SSHD_INCLUDED_FILES, MAX_SSHD_INCLUDE_DEPTH};
use crate::note::Note;

/// Where sshd looks for relative `Include` patterns.
pub const SSHDIR: &str = "/etc/ssh";

/// One keyword line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The keyword, lower-cased (`clientaliveinterval`).
    pub keyword: String,
    /// The arguments (unquoted) joined by one space.
    pub value: String,
    /// The arguments, unquoted.
    pub args: Vec<String>,
    /// The file this line is in.
    pub path: String,
    /// 1-based line number in `path`.
    pub line: usize,
    /// The line's text.
    pub text: String,
    /// False when the line is inside a `Match` block (or an inactive include) and so does not
    /// apply.
    pub active: bool,
}

/// A `Match` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLine {
    pub criteria: String,
    pub path: String,
    pub line: usize,
}

/// One `Include` pattern and what it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The pattern as written.
    pub pattern: String,
    /// The pattern given to the caller's include function (relative ones under `/etc/ssh`).
    pub resolved: String,
    /// The files it matched, in the order they were processed.
    pub files: Vec<String>,
    pub path: String,
    pub line: usize,
    /// Whether the Include sits where lines apply (not inside a Match block).
    pub active: bool,
}

/// The evaluated configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshdConfig {
    /// Every keyword line in processing order (includes expanded in place), active or not.
    /// `Include` and `Match` lines are not in here.
    pub settings: Vec<Setting>,
    pub matches: Vec<MatchLine>,
    pub includes: Vec<Include>,
    /// What sshd would complain about (syntax, most of it fatal to sshd) and the bounds of
    /// the include walk that were reached, at their file and line.
    pub issues: Vec<Note>,
}

/// A time value that is not valid for sshd (sshd refuses to start on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTime {
    /// The raw value.
    pub raw: String,
    pub setting: Setting,
}

impl SshdConfig {
    /// The value in effect for `keyword` (case-insensitive): the first active line.
    pub fn get(&self, keyword: &str) -> Option<&Setting> {
        let k = keyword.to_ascii_lowercase();
        self.settings.iter().find(|s| s.active && s.keyword == k)
    }

    /// Every active line of `keyword`, in order (for keywords that accumulate, e.g. `Port`,
    /// `HostKey`, `AcceptEnv`).
    pub fn get_all(&self, keyword: &str) -> Vec<&Setting> {
        let k = keyword.to_ascii_lowercase();
        self.settings
            .iter()
            .filter(|s| s.active && s.keyword == k)
            .collect()
    }

    /// Lines of `keyword` that do not apply (inside Match blocks): useful as "found, but ignored"
    /// evidence.
    pub fn ignored(&self, keyword: &str) -> Vec<&Setting> {
        let k = keyword.to_ascii_lowercase();
        self.settings
            .iter()
            .filter(|s| !s.active && s.keyword == k)
            .collect()
    }

    /// `ClientAliveInterval` in seconds. None when no active line sets it (sshd's default is 0);
    /// `Some(Err)` when the value is not a valid sshd time (sshd would not start).
    pub fn client_alive_interval(&self) -> Option<Result<(u64, Setting), InvalidTime>> {
        self.time_value("ClientAliveInterval")
    }

    /// Any time-valued keyword (`LoginGraceTime`, `ClientAliveInterval`, ...), parsed like
    /// [`Self::client_alive_interval`].
    pub fn time_value(&self, keyword: &str) -> Option<Result<(u64, Setting), InvalidTime>> {
        let s = self.get(keyword)?;
        let raw = s.args.first().cloned().unwrap_or_default();
        Some(match parse_time(&raw) {
            Some(secs) => Ok((secs, s.clone())),
            None => Err(InvalidTime {
                raw,
                setting: s.clone(),
            }),
        })
    }
}

/// Parses an sshd time value (`convtime`): a sequence of `number[unit]`, unit one of
/// `s m h d w` (either case) or none (seconds). `180`, `3m`, `1h30m`, `10s`, `1w`.
/// None when invalid (empty, unknown unit, no number, over `INT_MAX` seconds).
pub fn parse_time(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: u64 = s[start..i].parse().ok()?;
        let mult: u64 = match b.get(i) {
            None => 1,
            Some(c) => {
                i += 1;
                match c.to_ascii_lowercase() {
                    b's' => 1,
                    b'm' => 60,
                    b'h' => 3600,
                    b'd' => 86400,
                    b'w' => 604800,
                    _ => return None,
                }
            }
        };
        let v = n.checked_mul(mult)?;
        total = total.checked_add(v)?;
        if v > i32::MAX as u64 || total > i32::MAX as u64 {
            return None;
        }
    }
    Some(total)
}

/// Evaluates `main` (the text of `main_path`, normally `/etc/ssh/sshd_config`).
///
/// `include(pattern)` returns the files an `Include` pattern matches, as `(path, text)`, in the
/// order sshd would process them (glob order: lexical). The pattern it receives is absolute:
/// relative patterns as written are resolved under `/etc/ssh` here, so the caller only globs.
/// A pattern matching nothing returns an empty vector (sshd accepts that silently).
pub fn evaluate(
    main: &str,
    main_path: &str,
    include: &mut dyn FnMut(&str) -> Vec<(String, String)>,
) -> SshdConfig {
    let mut ev = Evaluator {
        cfg: SshdConfig::default(),
        stack: vec![main_path.to_string()],
        processed: 0,
        include,
    };
    ev.file(main_path, main, false, 0);
    ev.cfg
}

struct Evaluator<'a> {
    cfg: SshdConfig,
    stack: Vec<String>,
    processed: usize,
    include: &'a mut dyn FnMut(&str) -> Vec<(String, String)>,
}

impl Evaluator<'_> {
    fn issue(&mut self, path: &str, line: usize, note: Note) {
        self.cfg.issues.push(note.at(path).line(line));
    }

    fn file(&mut self, path: &str, text: &str, never_match: bool, depth: usize) {
        let mut active = !never_match;
        for (n, line) in numbered_lines(text) {
            let Some((keyword, rest)) = split_keyword(line) else {
                continue;
            };
            let keyword = keyword.to_ascii_lowercase();
            let args = match argv_split(rest) {
                Some(a) => a,
                None => {
                    self.issue(path, n, Note::syntax("invalid quotes"));
                    continue;
                }
            };
            if args.is_empty() {
                self.issue(
                    path,
                    n,
                    Note::syntax(format!("no argument after keyword \"{keyword}\"")),
                );
                continue;
            }
            match keyword.as_str() {
                "match" => {
                    let all = args.len() == 1 && args[0].eq_ignore_ascii_case("all");
                    active = !never_match && all;
                    self.cfg.matches.push(MatchLine {
                        criteria: args.join(" "),
                        path: path.to_string(),
                        line: n,
                    });
                }
                "include" => {
                    for pattern in args {
                        self.include(path, n, &pattern, active, never_match, depth);
                    }
                }
                _ => self.cfg.settings.push(Setting {
                    keyword,
                    value: args.join(" "),
                    args,
                    path: path.to_string(),
                    line: n,
                    text: line.to_string(),
                    active,
                }),
            }
        }
    }

    fn include(
        &mut self,
        path: &str,
        line: usize,
        pattern: &str,
        active: bool,
        never_match: bool,
        depth: usize,
    ) {
        let resolved = if pattern.starts_with('/') || pattern.starts_with('~') {
            pattern.to_string()
        } else {
            format!("{SSHDIR}/{pattern}")
        };
        let files = (self.include)(&resolved);
        self.cfg.includes.push(Include {
            pattern: pattern.to_string(),
            resolved,
            files: files.iter().map(|(p, _)| p.clone()).collect(),
            path: path.to_string(),
            line,
            active,
        });
        for (p, t) in files {
            if self.stack.contains(&p) {
                self.issue(
                    path,
                    line,
                    Note::syntax(format!("Include cycle: {p} includes itself")),
                );
                continue;
            }
            if depth + 1 > MAX_SSHD_INCLUDE_DEPTH {
                self.issue(
                    path,
                    line,
                    Note::bound(
                        "MAX_SSHD_INCLUDE_DEPTH",
                        format!(
                            "Too many recursive configuration includes ({p}): more than {MAX_SSHD_INCLUDE_DEPTH} levels"
                        ),
                    ),
                );
                continue;
            }
            if self.processed >= MAX_SSHD_INCLUDED_FILES {
                self.issue(
                    path,
                    line,
                    Note::bound(
                        "MAX_SSHD_INCLUDED_FILES",
                        format!(
                            "too many included files (more than {MAX_SSHD_INCLUDED_FILES}, the limit), {p} skipped"
                        ),
                    ),
                );
                continue;
            }
            self.processed += 1;
            self.stack.push(p.clone());
            self.file(&p, &t, never_match || !active, depth + 1);
            self.stack.pop();
        }
    }
}

/// Splits off the keyword like servconf's `strdelim`: one leading run of whitespace skipped,
/// the keyword ends at whitespace, `"` or `=` (one `=` may sit among the whitespace after it).
/// None for blank and comment lines.
fn split_keyword(line: &str) -> Option<(&str, &str)> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c');
    let line = line.trim_end_matches(is_ws).trim_start_matches(is_ws);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| is_ws(c) || c == '=' || c == '"')
        .unwrap_or(line.len());
    let keyword = &line[..end];
    if keyword.is_empty() {
        return None;
    }
    let mut rest = line[end..].trim_start_matches(is_ws);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches(is_ws);
    }
    Some((keyword, rest))
}

/// OpenSSH's `argv_split` with `terminate_on_comment`. None for an unterminated quote.
fn argv_split(s: &str) -> Option<Vec<String>> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == ' ' || c[i] == '\t' {
            i += 1;
            continue;
        }
        if c[i] == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while i < c.len() {
            let ch = c[i];
            if ch == '\\' {
                match c.get(i + 1) {
                    Some(&n)
                        if n == '\'' || n == '"' || n == '\\' || (quote.is_none() && n == ' ') =>
                    {
                        arg.push(n);
                        i += 2;
                    }
                    _ => {
                        arg.push('\\');
                        i += 1;
                    }
                }
                continue;
            }
            match quote {
                None if ch == ' ' || ch == '\t' => break,
                None if ch == '"' || ch == '\'' => quote = Some(ch),
                Some(q) if ch == q => quote = None,
                _ => arg.push(ch),
            }
            i += 1;
        }
        if quote.is_some() {
            return None;
        }
        out.push(arg);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn eval(main: &str, files: &[(&str, &str)]) -> SshdConfig {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        let mut inc = |pat: &str| -> Vec<(String, String)> {
            files
                .iter()
                .filter(|(p, _)| crate::config::glob_match(pat, p))
                .map(|(p, t)| (p.clone(), t.clone()))
                .collect()
        };
        evaluate(main, "/etc/ssh/sshd_config", &mut inc)
    }

    const DEBIAN12: &str = "\n# This is the sshd server system-wide configuration file.  See\n# sshd_config(5) for more information.\n\n# This sshd was compiled with PATH=/usr/local/bin:/usr/bin:/bin:/usr/games\n\nInclude /etc/ssh/sshd_config.d/*.conf\n\n#Port 22\n#AddressFamily any\n#ListenAddress 0.0.0.0\n\nKbdInteractiveAuthentication no\nUsePAM yes\n\nX11Forwarding yes\nPrintMotd no\n\n#ClientAliveInterval 0\n#ClientAliveCountMax 3\n\nAcceptEnv LANG LC_*\n\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n\nClientAliveInterval 120\n\n# Example of overriding settings on a per-user basis\n#Match User anoncvs\n#\tX11Forwarding no\n";

    #[test]
    fn debian_include_first_wins() {
        let c = eval(
            DEBIAN12,
            &[
                (
                    "/etc/ssh/sshd_config.d/50-cloudimg-settings.conf",
                    "ClientAliveInterval 180\r\nPasswordAuthentication no\n",
                ),
                ("/etc/ssh/sshd_config.d/10-first.conf", "# nothing\n\n"),
            ],
        );
        let (secs, s) = c.client_alive_interval().unwrap().unwrap();
        assert_eq!(secs, 180);
        assert_eq!(s.path, "/etc/ssh/sshd_config.d/50-cloudimg-settings.conf");
        assert_eq!(s.line, 1);
        assert_eq!(c.includes.len(), 1);
        assert_eq!(c.includes[0].files.len(), 2);
        assert_eq!(
            c.includes[0].files[0],
            "/etc/ssh/sshd_config.d/10-first.conf"
        );
        let later = c.get_all("clientaliveinterval");
        assert_eq!(later.len(), 2);
        assert_eq!(later[1].line, 26);
        assert_eq!(
            c.get("subsystem").unwrap().args,
            vec!["sftp", "/usr/lib/openssh/sftp-server"]
        );
    }

    #[test]
    fn main_file_value_without_includes() {
        let c = eval(DEBIAN12, &[]);
        let (secs, s) = c.client_alive_interval().unwrap().unwrap();
        assert_eq!((secs, s.line), (120, 26));
        assert_eq!(c.includes[0].files.len(), 0);
        assert!(c.issues.is_empty());
    }

    #[test]
    fn match_blocks_are_ignored_until_match_all() {
        let main = "Match User foo\n  ClientAliveInterval 10\nMatch Address 10.0.0.0/8\nClientAliveInterval 20\nMatch all\nClientAliveInterval=3m\n";
        let c = eval(main, &[]);
        let (secs, s) = c.client_alive_interval().unwrap().unwrap();
        assert_eq!((secs, s.line), (180, 6));
        assert_eq!(c.ignored("ClientAliveInterval").len(), 2);
        assert_eq!(c.matches.len(), 3);
    }

    #[test]
    fn match_ends_at_end_of_included_file() {
        let main = "Include conf.d/*.conf\nClientAliveInterval 60\n";
        let c = eval(
            main,
            &[(
                "/etc/ssh/conf.d/a.conf",
                "Match User x\nClientAliveInterval 5\n",
            )],
        );
        assert_eq!(c.includes[0].resolved, "/etc/ssh/conf.d/*.conf");
        let (secs, s) = c.client_alive_interval().unwrap().unwrap();
        assert_eq!((secs, s.path.as_str()), (60, "/etc/ssh/sshd_config"));
    }

    #[test]
    fn include_inside_match_never_applies() {
        let main = "Match User x\nInclude /etc/ssh/x.conf\nMatch all\nInclude /etc/ssh/y.conf\n";
        let c = eval(
            main,
            &[
                ("/etc/ssh/x.conf", "Match all\nClientAliveInterval 5\n"),
                ("/etc/ssh/y.conf", "ClientAliveInterval 7\n"),
            ],
        );
        assert!(!c.includes[0].active);
        assert!(c.includes[1].active);
        let (secs, _) = c.client_alive_interval().unwrap().unwrap();
        assert_eq!(secs, 7);
    }

    #[test]
    fn cycles_and_depth_are_reported() {
        let c = eval(
            "Include /etc/ssh/a.conf\n",
            &[("/etc/ssh/a.conf", "Include /etc/ssh/a.conf\nPort 22\n")],
        );
        assert_eq!(c.issues.len(), 1);
        assert!(c.issues[0].text.contains("cycle"));
        assert_eq!(c.get("port").unwrap().path, "/etc/ssh/a.conf");
        // A chain deeper than 16.
        let files: Vec<(String, String)> = (0..20)
            .map(|i| {
                (
                    format!("/etc/ssh/{i}.conf"),
                    format!("Include /etc/ssh/{}.conf\n", i + 1),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let c = eval("Include /etc/ssh/0.conf\n", &refs);
        assert!(c
            .issues
            .iter()
            .any(|i| i.is_bound() && i.text.contains("Too many")));
    }

    #[test]
    fn syntax_variants() {
        let c = eval(
            "  clientaliveinterval   =  1h30m   # ninety minutes\nBanner \"/etc/my banner\"\nPermitRootLogin\nAllowUsers \"a b\nX11Forwarding\tno \x0c\n",
            &[],
        );
        assert_eq!(c.client_alive_interval().unwrap().unwrap().0, 5400);
        assert_eq!(c.get("BANNER").unwrap().value, "/etc/my banner");
        assert_eq!(c.issues.len(), 2);
        assert_eq!(c.get("x11forwarding").unwrap().value, "no");
    }

    #[test]
    fn invalid_time_is_reported_with_raw_value() {
        let c = eval("ClientAliveInterval 3x\n", &[]);
        let e = c.client_alive_interval().unwrap().unwrap_err();
        assert_eq!(e.raw, "3x");
        assert_eq!(e.setting.line, 1);
        assert!(eval("Port 22\n", &[]).client_alive_interval().is_none());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("180"), Some(180));
        assert_eq!(parse_time("3m"), Some(180));
        assert_eq!(parse_time("1h30m"), Some(5400));
        assert_eq!(parse_time("10s"), Some(10));
        assert_eq!(parse_time("10S"), Some(10));
        assert_eq!(parse_time("1w"), Some(604800));
        assert_eq!(parse_time("2d"), Some(172800));
        assert_eq!(parse_time("0"), Some(0));
        assert_eq!(parse_time("60m"), Some(3600));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("1mm"), None);
        assert_eq!(parse_time("99999999999"), None);
        assert_eq!(parse_time("4000w"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(main in "\\PC{0,500}", inc in "\\PC{0,300}") {
            let mut f = |_: &str| vec![("/etc/ssh/x".to_string(), inc.clone())];
            let c = evaluate(&main, "/etc/ssh/sshd_config", &mut f);
            let _ = c.client_alive_interval();
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("(#|Match|Include|ClientAliveInterval|Port)?[ \t=]{0,3}[\"'a-z0-9*/ \\\\#=hmsw]{0,20}\r?", 0..30)) {
            let text = lines.join("\n");
            let t2 = text.clone();
            let mut f = move |_: &str| vec![("/etc/ssh/inc".to_string(), t2.clone())];
            let c = evaluate(&text, "/etc/ssh/sshd_config", &mut f);
            let _ = c.client_alive_interval();
        }
    }
}
