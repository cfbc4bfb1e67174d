//! `KEY=VALUE` files, in three dialects:
//!
//! - [`Dialect::Shell`] (the default, [`parse`]): files meant to be sourced by a shell —
//!   `/etc/os-release`, `/etc/default/grub` (+ `grub.d/*.cfg`), `ifcfg-*`,
//!   `/etc/sysconfig/network`. `export KEY=...`, `KEY+=...` (appends), single quotes (literal),
//!   double quotes (`\"`, `\\`, `\$`, `` \` `` escapes), backslash escapes outside quotes,
//!   `$VAR`/`${VAR}` expanded from earlier assignments in the same file (unknown variables
//!   expand to nothing, like a shell), `$(...)` and backticks kept literally, a quote left open
//!   continues on the next lines, `# comment` after the value. Lines that are not assignments
//!   (`if`, `fi`, commands) are listed in [`KeyValues::other`].
//! - [`Dialect::Waagent`]: the Azure Linux Agent's own reader (`conf.py`): a line starting with
//!   `#` is a comment, the key is what precedes the first `=` (trimmed), the value is what
//!   follows up to the first `#`, with spaces and `"` stripped at both ends.
//! - [`Dialect::Grubenv`]: GRUB's environment block: `# GRUB Environment Block`, `key=value`
//!   lines with `\` escapes, `#` padding to 1024 bytes.
//!
//! In every dialect the **last** assignment of a key is the one in effect ([`KeyValues::get`]).

use super::numbered_lines;
use std::collections::HashMap;

use crate::limits::{MAX_KEYVALUE_CONTINUATION, MAX_KEYVALUE_EXPANSION_BYTES};
use crate::note::Note;

/// How to read the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Shell,
    Waagent,
    Grubenv,
}

/// One assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The value in effect after this line: unquoted, unescaped, expanded (for `+=`, the
    /// previous value with this line's appended).
    pub value: String,
    /// 1-based line number (the first line, for a value spanning lines).
    pub line: usize,
    /// The line's text (all its lines, joined by `\n`, for a value spanning lines).
    pub raw: String,
    /// Whether it was a `+=`.
    pub append: bool,
}

/// The assignments of a file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyValues {
    pub entries: Vec<Entry>,
    /// Non-blank, non-comment lines that are not assignments: `(line, text)`.
    pub other: Vec<(usize, String)>,
    /// Bounds reached while reading: `(line, message)` (a quoted value still open after
    /// [`MAX_KEYVALUE_CONTINUATION`] lines, expansions past [`MAX_KEYVALUE_EXPANSION_BYTES`]).
    pub notes: Vec<Note>,
}

impl KeyValues {
    /// The notes of the parse, about file `path`.
    pub fn notes_at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = Note> + 'a {
        self.notes.iter().map(move |n| n.clone().at(path))
    }
    /// The assignment in effect for `key` (case-sensitive): the last one.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Like [`Self::get`], ignoring ASCII case of the key.
    pub fn get_ignore_case(&self, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// The value in effect for `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|e| e.value.as_str())
    }

    /// Every assignment of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.key == key).collect()
    }
}

/// Parses a shell-style file ([`Dialect::Shell`]).
pub fn parse(text: &str) -> KeyValues {
    parse_with(text, Dialect::Shell)
}

/// Parses `text` in the given dialect.
pub fn parse_with(text: &str, dialect: Dialect) -> KeyValues {
    match dialect {
        Dialect::Shell => parse_shell(text, &[]),
        Dialect::Waagent => parse_simple(text, waagent_line),
        Dialect::Grubenv => parse_simple(text, grubenv_line),
    }
}

/// Parses a shell-style file sourced after others: `$VAR` references to keys not assigned
/// in `text` itself are looked up in `env` (e.g. `/etc/default/grub` then
/// `/etc/default/grub.d/*.cfg`: pass the earlier files' entries). The returned entries are
/// only this file's.
pub fn parse_shell_after(text: &str, env: &KeyValues) -> KeyValues {
    parse_shell(text, &env.entries)
}

fn parse_simple(text: &str, f: fn(&str) -> Option<(String, String)>) -> KeyValues {
    let mut kv = KeyValues::default();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match f(line) {
            Some((key, value)) => kv.entries.push(Entry {
                key,
                value,
                line: n,
                raw: line.to_string(),
                append: false,
            }),
            None => kv.other.push((n, line.to_string())),
        }
    }
    kv
}

fn waagent_line(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once('=')?;
    let key = k.trim();
    if key.is_empty() {
        return None;
    }
    let v = v.split('#').next().unwrap_or("");
    let v = v.trim_matches(|c: char| c == '"' || c == ' ').trim();
    Some((key.to_string(), v.to_string()))
}

fn grubenv_line(line: &str) -> Option<(String, String)> {
    let (k, v) = line.split_once('=')?;
    if k.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Some((k.to_string(), out))
}

fn parse_shell(text: &str, env: &[Entry]) -> KeyValues {
    let lines: Vec<(usize, &str)> = numbered_lines(text).collect();
    let mut kv = KeyValues::default();
    let env: HashMap<&str, &str> = env
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    // This file's keys: the index of each one's last entry.
    let mut own: HashMap<String, usize> = HashMap::new();
    let mut budget = Budget {
        left: MAX_KEYVALUE_EXPANSION_BYTES,
        line: 0,
        cut_at: None,
    };
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = lines[i];
        i += 1;
        let t = line.trim_start();
        if t.trim_end().is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((key, append, rest)) = assignment_head(t) else {
            kv.other.push((n, line.to_string()));
            continue;
        };
        // Join following lines while a quote is open.
        let next = i;
        let mut raw = line.to_string();
        let vars = Vars {
            entries: &kv.entries,
            own: &own,
            env: &env,
        };
        budget.line = n;
        let mut spent = budget.clone();
        let parsed = match shell_word(rest, vars, &mut spent) {
            Some((v, _)) => Some(v),
            None => {
                // A quote left open: parse once over the following lines joined.
                let upto = (i + MAX_KEYVALUE_CONTINUATION).min(lines.len());
                let mut joined = rest.to_string();
                for (_, l) in &lines[i..upto] {
                    joined.push('\n');
                    joined.push_str(l);
                }
                spent = budget.clone();
                shell_word(&joined, vars, &mut spent).map(|(v, stop)| {
                    let used = joined.chars().take(stop).filter(|&c| c == '\n').count();
                    for (_, l) in &lines[i..i + used] {
                        raw.push('\n');
                        raw.push_str(l);
                    }
                    i += used;
                    v
                })
            }
        };
        let Some(mut value) = parsed else {
            // Never closed: only this line is bad; read the following ones afresh.
            if i + MAX_KEYVALUE_CONTINUATION < lines.len() {
                kv.notes.push(
                    Note::bound(
                        "MAX_KEYVALUE_CONTINUATION",
                        format!(
                            "the value of {key} is still open (a quote left open) after {MAX_KEYVALUE_CONTINUATION} lines, the limit: the line is not read as an assignment"
                        ),
                    )
                    .line(n),
                );
            }
            kv.other.push((n, line.to_string()));
            i = next;
            continue;
        };
        budget = spent;
        if append {
            let mut prev = String::new();
            budget.expand(&mut prev, vars.get(key), &format!("${{{key}}}"));
            value = prev + &value;
        }
        own.insert(key.to_string(), kv.entries.len());
        kv.entries.push(Entry {
            key: key.to_string(),
            value,
            line: n,
            raw,
            append,
        });
    }
    kv.notes.extend(budget.warning());
    kv
}

/// `[export ]KEY=` or `KEY+=`: the key, whether it appends, and the text after the operator.
fn assignment_head(t: &str) -> Option<(&str, bool, &str)> {
    let t = t
        .strip_prefix("export")
        .filter(|r| r.starts_with([' ', '\t']))
        .map(str::trim_start)
        .unwrap_or(t);
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(t.len());
    let key = &t[..end];
    if key.is_empty() || key.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = &t[end..];
    if let Some(r) = rest.strip_prefix("+=") {
        Some((key, true, r))
    } else {
        rest.strip_prefix('=').map(|r| (key, false, r))
    }
}

/// The variables a value may refer to: this file's assignments so far, then the environment
/// of the files sourced before it.
#[derive(Clone, Copy)]
struct Vars<'a> {
    entries: &'a [Entry],
    own: &'a HashMap<String, usize>,
    env: &'a HashMap<&'a str, &'a str>,
}

impl<'a> Vars<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        match self.own.get(name) {
            Some(&i) => Some(self.entries[i].value.as_str()),
            None => self.env.get(name).copied(),
        }
    }
}

/// What variable expansion may still add to one file's values (a value that refers to itself
/// twice doubles with each line: without a bound, a few hundred bytes of text would ask for
/// more memory than there is).
#[derive(Clone)]
struct Budget {
    left: usize,
    /// The line being read.
    line: usize,
    /// The line where the bound was first reached, and the reference kept as written there.
    cut_at: Option<(usize, String)>,
}

impl Budget {
    /// Appends `value` (the value of the reference `written`) to `out`, or, past the bound,
    /// the reference as written.
    fn expand(&mut self, out: &mut String, value: Option<&str>, written: &str) {
        let value = value.unwrap_or_default();
        if value.len() <= self.left {
            self.left -= value.len();
            out.push_str(value);
        } else {
            out.push_str(written);
            self.cut_at
                .get_or_insert_with(|| (self.line, written.to_string()));
        }
    }

    /// The warning to report once the file is read, if the bound was reached.
    fn warning(&self) -> Option<Note> {
        let (line, written) = self.cut_at.as_ref()?;
        Some(
            Note::bound(
                "MAX_KEYVALUE_EXPANSION_BYTES",
                format!(
                    "variable expansion stopped at line {line}: the values expanded in this file reached {MAX_KEYVALUE_EXPANSION_BYTES} bytes, the limit; from there on references such as {written} are kept as written"
                ),
            )
            .line(*line),
        )
    }
}

/// Reads the shell word at the start of `s` (up to unquoted whitespace or `;`), with quotes
/// removed and variables expanded, and the char index where it stopped. None if a quote is
/// left open.
fn shell_word(s: &str, vars: Vars, budget: &mut Budget) -> Option<(String, usize)> {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            ' ' | '\t' | ';' | '\n' => break,
            '\\' => {
                if let Some(&n) = c.get(i + 1) {
                    if n != '\n' {
                        out.push(n);
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            '\'' => {
                let close = c[i + 1..].iter().position(|&x| x == '\'')?;
                out.extend(&c[i + 1..i + 1 + close]);
                i += close + 2;
            }
            '"' => {
                i += 1;
                loop {
                    let ch = *c.get(i)?;
                    match ch {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\\' => match c.get(i + 1) {
                            Some(&n) if matches!(n, '"' | '\\' | '$' | '`') => {
                                out.push(n);
                                i += 2;
                            }
                            Some('\n') => i += 2,
                            _ => {
                                out.push('\\');
                                i += 1;
                            }
                        },
                        '$' => i = dollar(&c, i, &mut out, vars, budget)?,
                        '`' => i = literal_until(&c, i, '`', &mut out)?,
                        _ => {
                            out.push(ch);
                            i += 1;
                        }
                    }
                }
            }
            '$' => i = dollar(&c, i, &mut out, vars, budget)?,
            '`' => i = literal_until(&c, i, '`', &mut out)?,
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Some((out, i))
}

/// Copies from the opening character at `i` up to and including the matching `close`.
fn literal_until(c: &[char], i: usize, close: char, out: &mut String) -> Option<usize> {
    let end = c[i + 1..].iter().position(|&x| x == close)? + i + 1;
    out.extend(&c[i..=end]);
    Some(end + 1)
}

/// Expands the `$` at `i`; returns the index after it. None for an unterminated `${`/`$(`.
fn dollar(
    c: &[char],
    i: usize,
    out: &mut String,
    vars: Vars,
    budget: &mut Budget,
) -> Option<usize> {
    let is_name = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    match c.get(i + 1) {
        Some('{') => {
            let end = c[i + 2..].iter().position(|&x| x == '}')? + i + 2;
            let inner: String = c[i + 2..end].iter().collect();
            if inner.chars().all(is_name) && !inner.is_empty() {
                let written: String = c[i..=end].iter().collect();
                budget.expand(out, vars.get(&inner), &written);
            } else {
                // `${VAR:-default}` and friends: kept literally.
                out.extend(&c[i..=end]);
            }
            Some(end + 1)
        }
        Some('(') => {
            let mut depth = 0usize;
            let mut j = i + 1;
            while j < c.len() {
                match c[j] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            out.extend(&c[i..=j]);
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        Some(&ch) if ch.is_ascii_alphabetic() || ch == '_' => {
            let mut j = i + 1;
            while j < c.len() && is_name(c[j]) {
                j += 1;
            }
            let name: String = c[i + 1..j].iter().collect();
            budget.expand(out, vars.get(&name), &format!("${name}"));
            Some(j)
        }
        _ => {
            out.push('$');
            Some(i + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAAGENT: &str = "#\n# Microsoft Azure Linux Agent Configuration\n#\n\n# Enable extension handling. Do not disable this unless you do not need password reset,\n# backup, monitoring, or any extension handling whatsoever.\nExtensions.Enabled=y\n\n# Which provisioning agent to use. Supported values are \"auto\" (default), \"waagent\",\n# \"cloud-init\", or \"disabled\".\nProvisioning.Agent=auto\n\n# Password authentication for root account will be unavailable.\nProvisioning.DeleteRootPassword=y\n\n# Generate fresh host key pair.\nProvisioning.RegenerateSshHostKeyPair=y\n\n# Supported values are \"rsa\", \"dsa\", \"ecdsa\", \"ed25519\", and \"auto\".\nProvisioning.SshHostKeyPairType=rsa\n\nResourceDisk.Format=y\nResourceDisk.Filesystem=ext4\nResourceDisk.MountPoint=/mnt/resource\nResourceDisk.EnableSwap=n   # no swap\nResourceDisk.SwapSizeMB=0\n# AutoUpdate.Enabled=y\nOS.RootDeviceScsiTimeout=\"300\"\r\n";

    #[test]
    fn waagent_conf() {
        let kv = parse_with(WAAGENT, Dialect::Waagent);
        let e = kv.get("Provisioning.RegenerateSshHostKeyPair").unwrap();
        assert_eq!((e.value.as_str(), e.line), ("y", 17));
        assert_eq!(e.raw, "Provisioning.RegenerateSshHostKeyPair=y");
        assert_eq!(kv.value("ResourceDisk.EnableSwap"), Some("n"));
        assert_eq!(kv.value("OS.RootDeviceScsiTimeout"), Some("300"));
        assert!(kv.get("AutoUpdate.Enabled").is_none());
        assert!(kv.other.is_empty());
    }

    const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nQUOTED='it''s \"fine\"'\nESC=\"a \\\"b\\\" \\$HOME \\\\ \\x\"\n";

    #[test]
    fn os_release() {
        let kv = parse(OS_RELEASE);
        assert_eq!(kv.value("ID"), Some("debian"));
        assert_eq!(kv.value("VERSION_ID"), Some("12"));
        assert_eq!(
            kv.value("PRETTY_NAME"),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(kv.value("QUOTED"), Some("its \"fine\""));
        assert_eq!(kv.value("ESC"), Some("a \"b\" $HOME \\ \\x"));
        assert_eq!(kv.get("ID").unwrap().line, 6);
    }

    const DEFAULT_GRUB: &str = "# If you change this file, run 'update-grub' afterwards to update\n# /boot/grub/grub.cfg.\n\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_DISTRIBUTOR2=\"$(sed 's, release .*$,,g' /etc/system-release)\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0,115200\"   # serial\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX rootdelay=300\"\nGRUB_CMDLINE_LINUX+=\" net.ifnames=0\"\nexport GRUB_TERMINAL='serial console'\nif [ -f /etc/x ]; then\nfi\nGRUB_MULTI=\"a\nb\"\n";

    #[test]
    fn default_grub() {
        let kv = parse(DEFAULT_GRUB);
        assert_eq!(kv.value("GRUB_DEFAULT"), Some("0"));
        assert_eq!(
            kv.value("GRUB_CMDLINE_LINUX"),
            Some("console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootdelay=300 net.ifnames=0")
        );
        let e = kv.get("GRUB_CMDLINE_LINUX").unwrap();
        assert!(e.append);
        assert_eq!(e.line, 11);
        assert_eq!(kv.all("GRUB_CMDLINE_LINUX").len(), 3);
        assert_eq!(
            kv.value("GRUB_DISTRIBUTOR"),
            Some("`lsb_release -i -s 2> /dev/null || echo Debian`")
        );
        assert_eq!(
            kv.value("GRUB_DISTRIBUTOR2"),
            Some("$(sed 's, release .*$,,g' /etc/system-release)")
        );
        assert_eq!(kv.value("GRUB_TERMINAL"), Some("serial console"));
        assert_eq!(kv.value("GRUB_MULTI"), Some("a\nb"));
        assert_eq!(kv.get("GRUB_MULTI").unwrap().line, 15);
        assert_eq!(kv.other.len(), 2);
        let d = parse_shell_after(
            "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT console=tty1 console=ttyS0\"\n",
            &kv,
        );
        assert_eq!(
            d.value("GRUB_CMDLINE_LINUX_DEFAULT"),
            Some("quiet console=tty1 console=ttyS0")
        );
    }

    #[test]
    fn ifcfg_and_sysconfig_network() {
        let kv = parse("# Generated by dracut initrd\nDEVICE=\"eth0\"\nBOOTPROTO=\"dhcp\"\nONBOOT=\"yes\"\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\nNM_CONTROLLED=no\n");
        assert_eq!(kv.value("BOOTPROTO"), Some("dhcp"));
        assert_eq!(kv.get_ignore_case("onboot").unwrap().value, "yes");
        let kv = parse("NETWORKING=yes\nHOSTNAME=localhost.localdomain\n");
        assert_eq!(kv.value("NETWORKING"), Some("yes"));
    }

    #[test]
    fn grubenv() {
        let mut text = String::from("# GRUB Environment Block\n# WARNING: Do not edit this file by tools other than grub-editenv!!!\nsaved_entry=0b1d5f8e6a2d4c6e9b1f-5.14.0-362.8.1.el9_3.x86_64\nmenu_auto_hide=1\nkernelopts=root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M console=ttyS0,115200n8 a\\\\b\nboot_success=0\n");
        while text.len() < 1024 {
            text.push('#');
        }
        let kv = parse_with(&text, Dialect::Grubenv);
        assert_eq!(
            kv.value("kernelopts"),
            Some(
                "root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M console=ttyS0,115200n8 a\\b"
            )
        );
        assert_eq!(kv.get("kernelopts").unwrap().line, 5);
        assert_eq!(kv.entries.len(), 4);
        assert!(kv.other.is_empty());
    }

    #[test]
    fn odd_lines() {
        let kv = parse("A=\"open\nB=1\n=x\n1A=2\nC='x' # c\nD=a;b\nE=${UNSET:-d}\nF=$NOPE\nG=\\\n");
        // A quote never closed spoils its own line only.
        assert_eq!(kv.other[0], (1, "A=\"open".to_string()));
        assert_eq!(kv.value("B"), Some("1"));
        assert_eq!(kv.value("C"), Some("x"));
        assert_eq!(kv.value("D"), Some("a"));
        assert_eq!(kv.value("E"), Some("${UNSET:-d}"));
        assert_eq!(kv.value("F"), Some(""));
        assert_eq!(kv.value("G"), Some(""));
        assert_eq!(kv.other.len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            for d in [Dialect::Shell, Dialect::Waagent, Dialect::Grubenv] {
                let kv = parse_with(&text, d);
                for e in &kv.entries {
                    assert!(e.line >= 1);
                }
            }
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("(export )?[A-Z_.]{0,6}\\+?=?[\"'$`{}()\\\\a-z #;]{0,20}\r?", 0..30)) {
            let text = lines.join("\n");
            for d in [Dialect::Shell, Dialect::Waagent, Dialect::Grubenv] {
                let _ = parse_with(&text, d);
            }
        }
    }
}
