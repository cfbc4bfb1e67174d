//! `sshd_config`, evaluated the way `sshd -T` (without `-C`) evaluates keywords.
//!
//! What OpenSSH's `servconf.c` does, and this module copies:
//! - each line loses its leading blanks (space, tab, CR) when the file is loaded, and its
//!   trailing blanks and form feeds before it is read; a NUL ends the line's text and swallows
//!   its newline (sshd copies each line up to its first NUL);
//! - the keyword is split off like `strdelim`: it ends at a blank, an `=` or a `"` (a quoted
//!   part is taken without its quotes: `"ClientAliveInterval" 60` works), one `=` may sit among
//!   the blanks after it, a line that starts with `=` or blanks is read from the next word, and
//!   a keyword with an unmatched `"` makes the line ignored. The keyword is case-insensitive;
//! - the arguments are split like `argv_split` (quotes `"`/`'`, `\` escapes, a word starting
//!   with `#` ends the line);
//! - for single-valued keywords the **first** value wins ([`SshdConfig::get`]); a time value is
//!   read like `convtime` (`strtol`, so blanks and a sign before each number: `+90`, `" 5"`,
//!   `1m+30`), and sshd refuses to start on an invalid one **wherever it is**, also inside a
//!   Match block or after the line in effect, and on extra arguments
//!   ([`SshdConfig::time_value`]);
//! - `Include` is processed in place, each pattern relative to `/etc/ssh` unless absolute,
//!   each matched file parsed in turn (the caller's glob gives lexical order), recursively up
//!   to depth 16 (sshd's `SERVCONF_MAX_DEPTH`), a cycle is reported (sshd recurses until that
//!   depth and dies);
//! - a `Match` line starts a block whose lines do not apply (no connection is matched); the block
//!   lasts until the next `Match` or the end of the file it is in. `Match all` ends a block: the
//!   lines after it apply again. A Match line sshd refuses (an unknown attribute, a criterion
//!   without its argument, `all` with anything else, nothing at all) is reported;
//! - sshd reads the configuration a second time for each connection (`sshd -T` does it for a
//!   connection no condition matches), keeping only what the Match blocks that match set, and
//!   that wins over the first reading: a value in a `Match all` block overrides the global one
//!   even when the global one comes first ([`Setting::match_all`], [`SshdConfig::get`]);
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
    /// True when the line applies again in sshd's second reading, the one made for each
    /// connection (and by `sshd -T` for a connection no condition matches): it sits in a
    /// `Match all` block. Such a value wins over the first reading's.
    pub match_all: bool,
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
    /// The value in effect for `keyword` (case-insensitive), as `sshd -T` shows it: the first
    /// line in a `Match all` block (sshd reads the configuration a second time for each
    /// connection, keeping only what Match blocks that match it set, and that overrides the
    /// first reading), else the first active line. For keywords sshd allows inside Match
    /// blocks, which are the ones that second reading copies.
    pub fn get(&self, keyword: &str) -> Option<&Setting> {
        let k = keyword.to_ascii_lowercase();
        self.settings
            .iter()
            .find(|s| s.match_all && s.keyword == k)
            .or_else(|| self.settings.iter().find(|s| s.active && s.keyword == k))
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
    /// `Some(Err)` when a line of it is not a valid sshd time (sshd would not start).
    pub fn client_alive_interval(&self) -> Option<Result<(u64, Setting), InvalidTime>> {
        self.time_value("ClientAliveInterval")
    }

    /// Any time-valued keyword (`LoginGraceTime`, `ClientAliveInterval`, ...): the first active
    /// line's value in seconds, None when no active line sets it. `Some(Err)` names the first
    /// line of the keyword sshd refuses, active or not: sshd reads the value of every line it
    /// parses (inside Match blocks and after the line in effect too) and exits on a value that
    /// is not a time, on a missing one and on extra arguments.
    pub fn time_value(&self, keyword: &str) -> Option<Result<(u64, Setting), InvalidTime>> {
        let k = keyword.to_ascii_lowercase();
        for s in self.settings.iter().filter(|s| s.keyword == k) {
            if !matches!(s.args.as_slice(), [one] if parse_time(one).is_some()) {
                return Some(Err(InvalidTime {
                    raw: s.value.clone(),
                    setting: s.clone(),
                }));
            }
        }
        let s = self.get(keyword)?;
        let secs = s.args.first().and_then(|a| parse_time(a))?;
        Some(Ok((secs, s.clone())))
    }
}

/// Parses an sshd time value like OpenSSH's `convtime`: a sequence of `number[unit]`, unit one
/// of `s m h d w` (either case) or none (seconds). Each number is read by `strtol`, so blanks
/// and a sign may precede it (`+90`, `" 5"`, `1m+30`, `-0`; a negative value is refused).
/// `180`, `3m`, `1h30m`, `10s`, `1w`. None when invalid (empty, unknown unit, no number, a
/// negative number, over `INT_MAX` seconds).
pub fn parse_time(s: &str) -> Option<u64> {
    const INT_MAX: i64 = i32::MAX as i64;
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut i = 0;
    while i < b.len() {
        // strtol: C-locale blanks, an optional sign, then decimal digits
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            i += 1;
        }
        let negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut n: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            // strtol saturates; anything past INT_MAX is refused below anyway
            n = n.saturating_mul(10).saturating_add(i64::from(b[i] - b'0'));
            i += 1;
        }
        if i == start || (negative && n != 0) {
            return None;
        }
        let mult: i64 = match b.get(i) {
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
        if n > INT_MAX / mult {
            return None;
        }
        let v = n * mult;
        if total > INT_MAX - v {
            return None;
        }
        total += v;
    }
    u64::try_from(total).ok()
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
    ev.file(main_path, main, Reading::MAIN, 0);
    ev.cfg
}

/// How a file is read in each of sshd's two readings (servconf's `activep` and include flags).
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// First reading (no connection): the include sits in an inactive Match block
    /// (`SSHCFG_NEVERMATCH`): nothing in the file applies.
    never: bool,
    /// Second reading (for a connection that matches no condition): whether lines apply when
    /// the file starts (the including line's state), ...
    again: bool,
    /// ... whether the file is still before the first Match of the configuration
    /// (`SSHCFG_MATCH_ONLY`: lines there were taken in the first reading), ...
    match_only: bool,
    /// ... and whether the include sits in an inactive Match block.
    never_again: bool,
}

impl Reading {
    /// The main file: the first reading starts applying lines, the second does not until a
    /// `Match all`.
    const MAIN: Reading = Reading {
        never: false,
        again: false,
        match_only: true,
        never_again: false,
    };
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

    fn file(&mut self, path: &str, text: &str, reading: Reading, depth: usize) {
        let never_match = reading.never;
        let mut active = !never_match;
        let mut again = reading.again;
        let mut match_only = reading.match_only;
        let text = loaded(text);
        for (n, line) in numbered_lines(&text) {
            let (keyword, rest) = match split_keyword(line) {
                Keyword::None => continue,
                Keyword::NoArgument(k) => {
                    self.issue(
                        path,
                        n,
                        Note::syntax(format!("no argument after keyword \"{k}\"")),
                    );
                    continue;
                }
                Keyword::With(k, rest) => (k, rest),
            };
            let keyword = keyword.to_ascii_lowercase();
            let Some(args) = argv_split(rest) else {
                self.issue(path, n, Note::syntax("invalid quotes"));
                continue;
            };
            match keyword.as_str() {
                "match" => {
                    let all = match match_all(rest) {
                        Ok(all) => all,
                        Err(why) => {
                            self.issue(
                                path,
                                n,
                                Note::syntax(format!("{why}: Bad Match condition")),
                            );
                            false
                        }
                    };
                    active = !never_match && all;
                    again = !reading.never_again && all;
                    match_only = false;
                    self.cfg.matches.push(MatchLine {
                        criteria: args.join(" "),
                        path: path.to_string(),
                        line: n,
                    });
                }
                "include" => {
                    if args.is_empty() {
                        self.issue(path, n, Note::syntax("Include missing filename argument"));
                    }
                    for pattern in args {
                        if pattern.is_empty() {
                            // sshd stops reading the line there, and exits
                            self.issue(path, n, Note::syntax("keyword Include empty argument"));
                            break;
                        }
                        // what the included files start with, in each reading
                        let child = Reading {
                            never: never_match || !active,
                            again,
                            match_only,
                            never_again: !match_only && !again,
                        };
                        self.include(path, n, &pattern, active, child, depth);
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
                    match_all: again,
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
        child: Reading,
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
            self.file(&p, &t, child, depth + 1);
            self.stack.pop();
        }
    }
}

/// The text of a file as sshd's `load_server_config` keeps it: each line without its leading
/// blanks (space, tab, CR); a NUL ends a line's text and swallows its newline (sshd copies each
/// line up to its first NUL, so the next line continues it).
fn loaded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let piece = piece.trim_start_matches([' ', '\t', '\r']);
        out.push_str(piece.split('\0').next().unwrap_or_default());
    }
    out
}

/// What a line starts with.
#[derive(Debug, PartialEq, Eq)]
enum Keyword<'a> {
    /// A blank line, a comment, or a keyword with an unmatched quote (sshd skips the line).
    None,
    /// A keyword and nothing after it.
    NoArgument(String),
    /// A keyword (unquoted) and the rest of the line.
    With(String, &'a str),
}

/// `strdelim` with `=` splitting, as servconf uses it: the first word of `s` (up to a blank,
/// an `=` or a `"`; a quoted part is taken without its quotes) and the rest after the blanks
/// that follow it (and one `=` among them), or None for the rest once `s` has no delimiter left.
/// None when a quote is not closed.
fn strdelim(s: &str) -> Option<(String, Option<&str>)> {
    const WS: [char; 4] = [' ', '\t', '\r', '\n'];
    let Some(p) = s.find(|c: char| WS.contains(&c) || c == '"' || c == '=') else {
        return Some((s.to_string(), None));
    };
    if s[p..].starts_with('"') {
        let q = p + 1 + s[p + 1..].find('"')?;
        let word = format!("{}{}", &s[..p], &s[p + 1..q]);
        return Some((word, Some(s[q + 1..].trim_start_matches(WS))));
    }
    let mut rest = s[p + 1..].trim_start_matches(WS);
    if !s[p..].starts_with('=') {
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start_matches(WS);
        }
    }
    Some((s[..p].to_string(), Some(rest)))
}

/// Splits off the keyword of a (loaded) line as `process_server_config_line` does: trailing
/// blanks and form feeds go (never the first character), then `strdelim`, a second time when
/// the line started with a delimiter.
fn split_keyword(line: &str) -> Keyword<'_> {
    let mut end = line.len();
    while end > 1
        && matches!(
            line.as_bytes()[end - 1],
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c'
        )
    {
        end -= 1;
    }
    let line = &line[..end];
    let Some((mut word, mut rest)) = strdelim(line) else {
        return Keyword::None;
    };
    if word.is_empty() {
        let Some(next) = rest.and_then(strdelim) else {
            return Keyword::None;
        };
        (word, rest) = next;
    }
    if word.is_empty() || word.starts_with('#') {
        return Keyword::None;
    }
    match rest {
        Some(r) if !r.is_empty() => Keyword::With(word, r),
        _ => Keyword::NoArgument(word),
    }
}

/// Match attributes OpenSSH's `match_cfg_line` knows (besides `all`).
const MATCH_ATTRIBUTES: [&str; 7] = [
    "user",
    "group",
    "host",
    "localaddress",
    "localport",
    "address",
    "rdomain",
];

/// Reads a Match line's criteria as `match_cfg_line` does without a connection: whether it is
/// `Match all` (the only criterion that matches then), or why sshd refuses it.
fn match_all(rest: &str) -> Result<bool, String> {
    /// The next word, unless the words have ended (nothing left, an empty word, a comment).
    fn word(cp: Option<&str>) -> Option<(String, Option<&str>)> {
        match cp.and_then(strdelim) {
            Some((w, next)) if !w.is_empty() && !w.starts_with('#') => Some((w, next)),
            _ => None,
        }
    }
    let mut cp = Some(rest);
    let mut attributes = 0;
    while let Some((attrib, next)) = word(cp) {
        attributes += 1;
        cp = next;
        if attrib.eq_ignore_ascii_case("all") {
            if attributes > 1 || word(cp).is_some() {
                return Err("'all' cannot be combined with other Match attributes".into());
            }
            return Ok(true);
        }
        let Some((_, next)) = word(cp) else {
            return Err(format!("Missing Match criteria for {attrib}"));
        };
        cp = next;
        if !MATCH_ATTRIBUTES.contains(&attrib.to_ascii_lowercase().as_str()) {
            return Err(format!("Unsupported Match attribute {attrib}"));
        }
    }
    if attributes == 0 {
        return Err("One or more attributes required for Match".into());
    }
    Ok(false)
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
    fn keywords_are_split_off_as_strdelim_does() {
        let secs = |main: &str| {
            eval(main, &[])
                .client_alive_interval()
                .map(|r| r.map(|(s, _)| s).map_err(|e| e.raw))
        };
        // a quoted keyword, a line starting with `=` or blanks and `=`, blanks and CR in front
        assert_eq!(secs("\"ClientAliveInterval\" 60\n"), Some(Ok(60)));
        assert_eq!(secs("=ClientAliveInterval 61\n"), Some(Ok(61)));
        assert_eq!(secs(" = ClientAliveInterval 62\n"), Some(Ok(62)));
        assert_eq!(secs("\r\t ClientAliveInterval\t=\t63\x0c\n"), Some(Ok(63)));
        // after a quoted keyword an `=` is the value
        assert_eq!(
            secs("\"ClientAliveInterval\"=64\n"),
            Some(Err("=64".to_string()))
        );
        // an unmatched quote in the keyword: sshd skips the line
        let c = eval("\"ClientAliveInterval 65\n", &[]);
        assert!(c.client_alive_interval().is_none() && c.issues.is_empty());
        // a quote glued to the keyword joins the value to it: no argument left
        let c = eval("ClientAliveInterval\"66\"\n", &[]);
        assert!(c.client_alive_interval().is_none());
        assert_eq!(
            c.issues[0].text,
            "no argument after keyword \"ClientAliveInterval66\""
        );
        // a leading form feed is part of the keyword (sshd: bad configuration option)
        assert!(secs("\x0cClientAliveInterval 67\n").is_none());
        // a NUL ends the line's text and the next line continues it, as sshd loads the file
        assert_eq!(
            secs("ClientAliveInterval 5\0junk\nClientAliveInterval 6\n"),
            Some(Err("5ClientAliveInterval 6".to_string()))
        );
    }

    #[test]
    fn times_are_read_as_convtime_reads_them() {
        assert_eq!(parse_time("+90"), Some(90));
        assert_eq!(parse_time("-0"), Some(0));
        assert_eq!(parse_time(" 5"), Some(5));
        assert_eq!(parse_time("1h 30m"), Some(5400));
        assert_eq!(parse_time("5m+3"), Some(303));
        assert_eq!(parse_time("010"), Some(10));
        assert_eq!(parse_time("2147483647"), Some(2147483647));
        assert_eq!(parse_time("35791394m"), Some(2147483640));
        assert_eq!(parse_time("35791395m"), None);
        assert_eq!(parse_time("2147483647s1"), None);
        assert_eq!(parse_time("- 5"), None);
        assert_eq!(parse_time("-5"), None);
        assert_eq!(parse_time("5 "), None);
        assert_eq!(parse_time("0x10"), None);
        assert_eq!(parse_time("1.5m"), None);
        assert_eq!(parse_time(" "), None);
    }

    #[test]
    fn a_value_sshd_refuses_anywhere_is_invalid() {
        let bad = |main: &str| {
            let e = eval(main, &[])
                .client_alive_interval()
                .unwrap()
                .unwrap_err();
            (e.raw, e.setting.line)
        };
        // after the line in effect, inside a Match block, in a file included from one
        assert_eq!(
            bad("ClientAliveInterval 60\nClientAliveInterval 3x\n"),
            ("3x".into(), 2)
        );
        assert_eq!(
            bad("ClientAliveInterval 60\nMatch User x\nClientAliveInterval 1mm\n"),
            ("1mm".into(), 3)
        );
        let c = eval(
            "ClientAliveInterval 60\nMatch User x\nInclude /etc/ssh/x.conf\n",
            &[("/etc/ssh/x.conf", "Match all\nClientAliveInterval -5\n")],
        );
        let e = c.client_alive_interval().unwrap().unwrap_err();
        assert_eq!(
            (e.setting.path.as_str(), e.setting.line),
            ("/etc/ssh/x.conf", 2)
        );
        // extra arguments, a value that is only a comment, an empty one
        assert_eq!(bad("ClientAliveInterval 60 30\n"), ("60 30".into(), 1));
        assert_eq!(bad("ClientAliveInterval #60\n"), (String::new(), 1));
        assert_eq!(bad("ClientAliveInterval \"\"\n"), (String::new(), 1));
    }

    #[test]
    fn match_and_include_lines_sshd_refuses_are_reported() {
        for (main, why) in [
            ("Match Foo x\n", "Unsupported Match attribute Foo"),
            ("Match User\n", "Missing Match criteria for User"),
            ("Match User #x\n", "Missing Match criteria for User"),
            ("Match all User x\n", "'all' cannot be combined"),
            ("Match User x all\n", "'all' cannot be combined"),
            ("Match all\tall\n", "'all' cannot be combined"),
            ("Match #x\n", "One or more attributes required"),
            ("Include #x\n", "Include missing filename argument"),
            ("Include \"\"\n", "keyword Include empty argument"),
        ] {
            let c = eval(main, &[]);
            assert_eq!(c.issues.len(), 1, "{main:?}: {:?}", c.issues);
            assert!(c.issues[0].text.contains(why), "{main:?}: {:?}", c.issues);
        }
        // accepted: a quoted all, `=` between attribute and value, every known attribute
        let c = eval("Match User x\nMatch \"all\"\nClientAliveInterval 5\n", &[]);
        assert_eq!(c.client_alive_interval().unwrap().unwrap().0, 5);
        for m in [
            "Match User=x",
            "Match RDomain x",
            "Match LocalAddress 10.0.0.1 LocalPort 22",
            "Match Group a,b Host *.example.com Address 10.0.0.0/8",
        ] {
            let c = eval(&format!("{m}\nClientAliveInterval 5\n"), &[]);
            assert!(c.issues.is_empty(), "{m}: {:?}", c.issues);
            assert!(c.client_alive_interval().is_none(), "{m}");
        }
    }

    #[test]
    fn a_match_all_block_wins_over_the_global_value() {
        let secs = |main: &str, files: &[(&str, &str)]| {
            let c = eval(main, files);
            let (secs, s) = c.client_alive_interval().unwrap().unwrap();
            (secs, s.path, s.line)
        };
        let main = "/etc/ssh/sshd_config".to_string();
        // sshd's second reading keeps what the Match all block sets, over the earlier line
        assert_eq!(
            secs(
                "ClientAliveInterval 7\nMatch all\nClientAliveInterval 5\nClientAliveInterval 6\n",
                &[]
            ),
            (5, main.clone(), 3)
        );
        assert_eq!(
            secs("ClientAliveInterval 7\nMatch User x\nClientAliveInterval 5\nMatch all\nClientAliveInterval 6\n", &[]),
            (6, main.clone(), 5)
        );
        // a Match all block that does not set it leaves the first value
        assert_eq!(
            secs("ClientAliveInterval 7\nMatch all\nX11Forwarding no\n", &[]),
            (7, main.clone(), 1)
        );
        // a Match all inside a file included from the global part, an include inside a Match
        // all block; not one inside a Match User block
        let a = ("/etc/ssh/a.conf", "Match all\nClientAliveInterval 9\n");
        assert_eq!(
            secs("Include /etc/ssh/a.conf\nClientAliveInterval 7\n", &[a]),
            (9, a.0.to_string(), 2)
        );
        let b = ("/etc/ssh/b.conf", "ClientAliveInterval 11\n");
        assert_eq!(
            secs(
                "ClientAliveInterval 7\nMatch all\nInclude /etc/ssh/b.conf\n",
                &[b]
            ),
            (11, b.0.to_string(), 1)
        );
        assert_eq!(
            secs(
                "ClientAliveInterval 7\nMatch User x\nInclude /etc/ssh/a.conf\n",
                &[a]
            ),
            (7, main, 1)
        );
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
