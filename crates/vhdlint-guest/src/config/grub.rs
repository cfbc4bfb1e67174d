//! GRUB 2's `grub.cfg` and Boot Loader Specification (BLS) entries: which entry boots by
//! default and its kernel command line.
//!
//! `grub.cfg` is a script; this reads the shape `grub-mkconfig` generates (Debian/Ubuntu,
//! RHEL/Fedora, SUSE) rather than running it:
//! - `menuentry`/`submenu` blocks (nesting by `{`/`}` lines), their title, `--id` /
//!   `$menuentry_id_option` id and `--class`es; in a menu entry the first
//!   `linux`/`linux16`/`linuxefi` command (kernel path and arguments), and any later ones (in
//!   `if` branches) as alternatives;
//! - `set default=...` outside any block. The generated
//!   `if [ "${next_entry}" ] ; then set default="${next_entry}" ... else set default=... fi`
//!   is read as its `else` branch (a one-shot `next_entry` is not the image's default): the
//!   last top-level `set default` not referring to `next_entry` is the default;
//! - `${saved_entry}` in it comes from grubenv (the caller passes it);
//! - the `blscfg` command, which inserts the BLS entries (`/boot/loader/entries/*.conf`) at its
//!   place in the menu, sorted newest first;
//! - `set kernelopts=...` (RHEL 8/9's fallback for grubenv's `kernelopts`).
//!
//! The default is found like GRUB's `default` variable: `>`-separated components, each an index
//! (`1>2`), a title or an id; a component that matches nothing falls back to entry 0 at that
//! level; a selected submenu continues with its own entry 0.
//!
//! Not handled: `if` conditions (every entry counts, whatever `if` it sits in), `source`d or
//! `configfile` files, commands spanning lines, `menuentry` blocks on a single line, GRUB
//! Legacy `menu.lst`, BLS `sort-key`.

use super::numbered_lines;
use crate::limits::MAX_GRUB_EXPANSION_BYTES;
use crate::version::rpm_cmp;
use std::cmp::Ordering;

/// A `linux`/`linux16`/`linuxefi` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxCmd {
    /// `linux`, `linux16` or `linuxefi`.
    pub command: String,
    /// The kernel path as written (`/vmlinuz-6.1.0-13-amd64`, `($root)/boot/vmlinuz`).
    pub kernel: String,
    /// The arguments, unquoted (GRUB variables are left as written: `$kernelopts`).
    pub args: Vec<String>,
    pub line: usize,
    pub text: String,
}

impl LinuxCmd {
    /// The arguments joined by spaces: the kernel command line.
    pub fn cmdline(&self) -> String {
        self.args.join(" ")
    }
}

/// A `menuentry` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub title: String,
    pub id: Option<String>,
    pub classes: Vec<String>,
    pub line: usize,
    pub text: String,
    /// The first kernel command in the block.
    pub linux: Option<LinuxCmd>,
    /// Later kernel commands in the block (e.g. Ubuntu's `if [ "${initrdfail}" = 1 ]` branches):
    /// GRUB runs one of them depending on conditions not evaluated here.
    pub linux_alternatives: Vec<LinuxCmd>,
    /// `initrd`/`initrdefi`/`initrd16` arguments with their line.
    pub initrd: Vec<(String, usize)>,
}

/// A `submenu` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submenu {
    pub title: String,
    pub id: Option<String>,
    pub line: usize,
    pub items: Vec<MenuItem>,
}

/// One item of a menu level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuItem {
    Entry(MenuEntry),
    Submenu(Submenu),
    /// The `blscfg` command: the BLS entries go here.
    Blscfg {
        line: usize,
    },
}

/// A `set NAME=VALUE` at the top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVar {
    pub name: String,
    /// Unquoted, GRUB variables left as written.
    pub value: String,
    pub line: usize,
    pub text: String,
}

/// A parsed `grub.cfg`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrubCfg {
    /// The top-level menu.
    pub items: Vec<MenuItem>,
    /// Every `set` outside menu entries, submenus and functions, in order.
    pub sets: Vec<SetVar>,
    /// Lines that close a block never opened, or blocks never closed (line of the opener).
    pub unbalanced: Vec<usize>,
}

/// One `key value` line of a BLS entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlsField {
    pub value: String,
    pub line: usize,
}

/// A BLS entry (`/boot/loader/entries/<id>.conf`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlsEntry {
    /// The file name without `.conf`; GRUB's id for the entry, and what grubenv's
    /// `saved_entry` names. [`parse_bls`] leaves it empty: set it with [`BlsEntry::with_id`].
    pub id: String,
    pub title: Option<BlsField>,
    pub version: Option<BlsField>,
    pub linux: Option<BlsField>,
    pub initrd: Vec<BlsField>,
    /// Every `options` line (BLS joins them with spaces); may reference `$kernelopts`.
    pub options: Vec<BlsField>,
    /// Other keys (`machine-id`, `grub_users`, `grub_arg`, `grub_class`, `sort-key`, ...).
    pub other: Vec<(String, BlsField)>,
}

impl BlsEntry {
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// All `options` values joined by a space (variables not expanded).
    pub fn options_line(&self) -> String {
        let v: Vec<&str> = self.options.iter().map(|f| f.value.as_str()).collect();
        v.join(" ")
    }

    fn title_str(&self) -> &str {
        self.title.as_ref().map_or("", |t| t.value.as_str())
    }
}

/// What the default entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen<'a> {
    Menu(&'a MenuEntry),
    Bls(&'a BlsEntry),
}

/// The default entry and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultEntry<'a> {
    pub entry: Chosen<'a>,
    /// The `default` value after expansion (`0`, `1>2`, an id, a title).
    pub selector: String,
    /// The `set default` line it came from (None: not set, GRUB uses 0).
    pub set_line: Option<usize>,
    /// The index at each menu level (BLS entries counted at the `blscfg` place).
    pub path: Vec<usize>,
    /// True when a component of the selector matched nothing and GRUB's fallback (entry 0 of
    /// that level) was used.
    pub fell_back: bool,
}

/// Parses `grub.cfg`.
pub fn parse(text: &str) -> GrubCfg {
    enum Block {
        Entry(MenuEntry),
        Submenu(Submenu),
        Other(usize),
    }
    let mut cfg = GrubCfg::default();
    let mut stack: Vec<Block> = Vec::new();

    fn push_item(stack: &mut [Block], top: &mut Vec<MenuItem>, item: MenuItem) {
        match stack
            .iter_mut()
            .rev()
            .find(|b| !matches!(b, Block::Other(_)))
        {
            Some(Block::Submenu(s)) => s.items.push(item),
            Some(Block::Entry(_)) => {} // a menu entry inside an entry: not a menu item
            _ => top.push(item),
        }
    }

    for (n, line) in numbered_lines(text) {
        let words = words(line);
        let Some(first) = words.first() else { continue };
        let opens = words.len() > 1 && words.last().is_some_and(|w| w == "{");
        match first.as_str() {
            "}" => match stack.pop() {
                Some(Block::Entry(e)) => {
                    push_item(&mut stack, &mut cfg.items, MenuItem::Entry(e));
                }
                Some(Block::Submenu(s)) => {
                    push_item(&mut stack, &mut cfg.items, MenuItem::Submenu(s));
                }
                Some(Block::Other(_)) => {}
                None => cfg.unbalanced.push(n),
            },
            "menuentry" | "submenu" if opens => {
                let h = header(&words[1..words.len() - 1]);
                if first == "menuentry" {
                    stack.push(Block::Entry(MenuEntry {
                        title: h.title,
                        id: h.id,
                        classes: h.classes,
                        line: n,
                        text: line.to_string(),
                        linux: None,
                        linux_alternatives: Vec::new(),
                        initrd: Vec::new(),
                    }));
                } else {
                    stack.push(Block::Submenu(Submenu {
                        title: h.title,
                        id: h.id,
                        line: n,
                        items: Vec::new(),
                    }));
                }
            }
            _ if opens => stack.push(Block::Other(n)),
            cmd => {
                let in_entry = stack.iter().any(|b| matches!(b, Block::Entry(_)));
                let in_block = !stack.is_empty();
                match cmd {
                    "linux" | "linux16" | "linuxefi" if in_entry => {
                        if let Some(Block::Entry(e)) = stack
                            .iter_mut()
                            .rev()
                            .find(|b| matches!(b, Block::Entry(_)))
                        {
                            let cmd = LinuxCmd {
                                command: cmd.to_string(),
                                kernel: words.get(1).cloned().unwrap_or_default(),
                                args: words.iter().skip(2).cloned().collect(),
                                line: n,
                                text: line.to_string(),
                            };
                            if e.linux.is_none() {
                                e.linux = Some(cmd);
                            } else {
                                e.linux_alternatives.push(cmd);
                            }
                        }
                    }
                    "initrd" | "initrd16" | "initrdefi" if in_entry => {
                        if let Some(Block::Entry(e)) = stack
                            .iter_mut()
                            .rev()
                            .find(|b| matches!(b, Block::Entry(_)))
                        {
                            for w in &words[1..] {
                                e.initrd.push((w.clone(), n));
                            }
                        }
                    }
                    "blscfg" if !in_entry => {
                        push_item(&mut stack, &mut cfg.items, MenuItem::Blscfg { line: n });
                    }
                    "set" if !in_block => {
                        if let Some((name, value)) = words.get(1).and_then(|w| w.split_once('=')) {
                            cfg.sets.push(SetVar {
                                name: name.to_string(),
                                value: value.to_string(),
                                line: n,
                                text: line.to_string(),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // Blocks never closed: keep what they hold (GRUB would refuse the file; the evidence is
    // still useful).
    while let Some(b) = stack.pop() {
        match b {
            Block::Entry(e) => {
                cfg.unbalanced.push(e.line);
                push_item(&mut stack, &mut cfg.items, MenuItem::Entry(e));
            }
            Block::Submenu(s) => {
                cfg.unbalanced.push(s.line);
                push_item(&mut stack, &mut cfg.items, MenuItem::Submenu(s));
            }
            Block::Other(l) => cfg.unbalanced.push(l),
        }
    }
    cfg
}

struct Header {
    title: String,
    id: Option<String>,
    classes: Vec<String>,
}

fn header(words: &[String]) -> Header {
    let mut h = Header {
        title: String::new(),
        id: None,
        classes: Vec::new(),
    };
    let mut title = None;
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "--id" | "$menuentry_id_option" | "${menuentry_id_option}" => {
                h.id = words.get(i + 1).cloned();
                i += 2;
            }
            "--class" => {
                if let Some(c) = words.get(i + 1) {
                    h.classes.push(c.clone());
                }
                i += 2;
            }
            "--users" | "--hotkey" => i += 2,
            _ if w.starts_with("--id=") => {
                h.id = Some(w["--id=".len()..].to_string());
                i += 1;
            }
            _ if w.starts_with("--") => i += 1,
            _ => {
                if title.is_none() {
                    title = Some(w.to_string());
                }
                i += 1;
            }
        }
    }
    h.title = title.unwrap_or_default();
    h
}

/// Splits a GRUB script line into words: `'...'` literal, `"..."` with `\` escaping
/// `$ " \`, `\x` outside quotes, `#` at a word start begins a comment, `;` ends the command.
/// Variables are left as written.
fn words(line: &str) -> Vec<String> {
    let c: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_whitespace() {
            i += 1;
            continue;
        }
        if c[i] == '#' || c[i] == ';' {
            break;
        }
        let mut w = String::new();
        while i < c.len() && !c[i].is_whitespace() && c[i] != ';' {
            match c[i] {
                '\'' => {
                    i += 1;
                    while i < c.len() && c[i] != '\'' {
                        w.push(c[i]);
                        i += 1;
                    }
                    i += 1;
                }
                '"' => {
                    i += 1;
                    while i < c.len() && c[i] != '"' {
                        if c[i] == '\\' && matches!(c.get(i + 1), Some('$' | '"' | '\\')) {
                            i += 1;
                        }
                        w.push(c[i]);
                        i += 1;
                    }
                    i += 1;
                }
                '\\' => {
                    if let Some(&n) = c.get(i + 1) {
                        w.push(n);
                    }
                    i += 2;
                }
                ch => {
                    w.push(ch);
                    i += 1;
                }
            }
        }
        out.push(w);
    }
    out
}

/// Expands `$NAME` and `${NAME}` with `lookup`; names it does not know are left as written.
/// Past [`MAX_GRUB_EXPANSION_BYTES`] of expanded values, references are left as written too
/// (a line of many references to a long value would otherwise multiply it without bound), so
/// what was not expanded shows in the result.
pub fn expand_vars<S: AsRef<str>>(text: &str, lookup: impl Fn(&str) -> Option<S>) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let is_name = |ch: char| ch.is_ascii_alphanumeric() || ch == '_';
    let mut i = 0;
    // Once a `${` has no `}` after it, no later one has either: do not search again.
    let mut no_close = false;
    let mut left = MAX_GRUB_EXPANSION_BYTES;
    while i < c.len() {
        if c[i] == '$' {
            let (name, end) = if c.get(i + 1) == Some(&'{') {
                match (!no_close)
                    .then(|| c[i + 2..].iter().position(|&x| x == '}'))
                    .flatten()
                {
                    Some(p) => (c[i + 2..i + 2 + p].iter().collect::<String>(), i + 3 + p),
                    None => {
                        no_close = true;
                        (String::new(), i + 1)
                    }
                }
            } else {
                let mut j = i + 1;
                while j < c.len() && is_name(c[j]) {
                    j += 1;
                }
                (c[i + 1..j].iter().collect(), j)
            };
            if !name.is_empty() {
                if let Some(v) = lookup(&name).filter(|v| v.as_ref().len() <= left) {
                    left -= v.as_ref().len();
                    out.push_str(v.as_ref());
                    i = end;
                    continue;
                }
            }
            // Unknown: copy literally.
            out.extend(&c[i..end.max(i + 1)]);
            i = end.max(i + 1);
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Expands `$kernelopts`/`${kernelopts}` in BLS `options` (or a `linux` line) with grubenv's
/// `kernelopts` (or grub.cfg's fallback `set kernelopts=`); with None it expands to nothing,
/// as in GRUB. Other variables are left as written. Spaces are normalised.
pub fn expand_kernelopts(options: &str, kernelopts: Option<&str>) -> String {
    let v = kernelopts.unwrap_or("");
    let s = expand_vars(options, |n| (n == "kernelopts").then_some(v));
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The command line GRUB's `linux` command hands the kernel for these words (already
/// unquoted by GRUB's script parser): words joined by spaces, a word holding a space wrapped
/// in double quotes, and `\\`, `'` and `"` escaped with a backslash (which the kernel does not
/// unescape).
pub fn loader_cmdline<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        let w = w.as_ref();
        if i > 0 {
            out.push(' ');
        }
        let space = w.contains(' ');
        if space {
            out.push('"');
        }
        for c in w.chars() {
            if matches!(c, '\\' | '\'' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
        if space {
            out.push('"');
        }
    }
    out
}

/// The kernel command line of a piece of GRUB script text (BLS `options`, the value of
/// /etc/default/grub's GRUB_CMDLINE_LINUX that grub-mkconfig writes into a `linux` line):
/// split into words as GRUB does, then joined as GRUB's `linux` command joins them, then read
/// as the kernel reads it.
pub fn script_cmdline(text: &str) -> super::cmdline::Cmdline {
    let mut all = Vec::new();
    // Each line a command of its own: its words follow the previous line's.
    for (_, line) in numbered_lines(text) {
        all.extend(words(line));
    }
    super::cmdline::parse(&loader_cmdline(&all))
}

/// Parses one BLS entry file.
pub fn parse_bls(text: &str) -> BlsEntry {
    let mut e = BlsEntry::default();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (key, value) = match t.find(char::is_whitespace) {
            Some(p) => (&t[..p], t[p..].trim()),
            None => (t, ""),
        };
        let f = BlsField {
            value: value.to_string(),
            line: n,
        };
        match key {
            "title" => e.title = Some(f),
            "version" => e.version = Some(f),
            "linux" => e.linux = Some(f),
            "initrd" => e.initrd.push(f),
            "options" => e.options.push(f),
            _ => e.other.push((key.to_string(), f)),
        }
    }
    e
}

/// Sorts BLS entries the way GRUB's `blscfg` lists them: newest first, by `version` (the id
/// when there is none) compared like rpm versions, then by id.
pub fn sort_bls(entries: &mut [BlsEntry]) {
    entries.sort_by(bls_order);
}

/// Newest first: by `version` (the id when there is none) as rpm compares versions, then id.
fn bls_order(a: &BlsEntry, b: &BlsEntry) -> Ordering {
    let key = |e: &BlsEntry| -> String {
        e.version
            .as_ref()
            .map_or_else(|| e.id.clone(), |v| v.value.clone())
    };
    rpm_cmp(&key(b), &key(a)).then_with(|| rpm_cmp(&b.id, &a.id))
}

/// The default BLS entry when grub.cfg's default is grubenv's `saved_entry` (RHEL 8+):
/// the entry whose id (file stem) is `saved_entry` (or whose title is, or the index it gives);
/// else the newest ([`sort_bls`] order). `entries` need not be sorted.
pub fn bls_default<'a>(entries: &'a [BlsEntry], saved_entry: Option<&str>) -> Option<&'a BlsEntry> {
    let mut sorted: Vec<&BlsEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| bls_order(a, b));
    if let Some(s) = saved_entry.filter(|s| !s.is_empty()) {
        if let Some(e) = sorted.iter().find(|e| e.id == s || e.title_str() == s) {
            return Some(e);
        }
        if let Some(e) = index_of(s).and_then(|i| sorted.get(i)) {
            return Some(e);
        }
    }
    sorted.first().copied()
}

fn index_of(s: &str) -> Option<usize> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl GrubCfg {
    /// The `set default=` line in effect (see the module notes on `next_entry`).
    pub fn default_set(&self) -> Option<&SetVar> {
        self.sets
            .iter()
            .rev()
            .find(|s| s.name == "default" && !s.value.contains("next_entry"))
    }

    /// The `set kernelopts=` fallback in grub.cfg (RHEL 8/9), if any.
    pub fn kernelopts_fallback(&self) -> Option<&SetVar> {
        self.sets.iter().rev().find(|s| s.name == "kernelopts")
    }

    /// Whether grub.cfg runs `blscfg` (anywhere in the menu).
    pub fn uses_blscfg(&self) -> bool {
        fn any(items: &[MenuItem]) -> bool {
            items.iter().any(|i| match i {
                MenuItem::Blscfg { .. } => true,
                MenuItem::Submenu(s) => any(&s.items),
                MenuItem::Entry(_) => false,
            })
        }
        any(&self.items)
    }

    /// Every menu entry, depth first (for "does any entry..." questions).
    pub fn entries(&self) -> Vec<&MenuEntry> {
        fn walk<'a>(items: &'a [MenuItem], out: &mut Vec<&'a MenuEntry>) {
            for i in items {
                match i {
                    MenuItem::Entry(e) => out.push(e),
                    MenuItem::Submenu(s) => walk(&s.items, out),
                    MenuItem::Blscfg { .. } => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }

    /// The entry GRUB boots by default. `saved_entry` is grubenv's (it replaces
    /// `${saved_entry}` in `set default`); `bls` are the BLS entries with their ids (in any
    /// order), used where grub.cfg runs `blscfg`. None when the menu is empty.
    pub fn default_entry<'a>(
        &'a self,
        saved_entry: Option<&str>,
        bls: &'a [BlsEntry],
    ) -> Option<DefaultEntry<'a>> {
        let set = self.default_set();
        let saved = saved_entry.unwrap_or("");
        let selector = match set {
            Some(s) => {
                // The last value of each name set before `set default`.
                let vars: std::collections::HashMap<&str, &str> = self
                    .sets
                    .iter()
                    .filter(|v| v.line < s.line)
                    .map(|v| (v.name.as_str(), v.value.as_str()))
                    .collect();
                expand_vars(&s.value, |n| {
                    if n == "saved_entry" {
                        Some(saved)
                    } else {
                        Some(vars.get(n).copied().unwrap_or_default())
                    }
                })
            }
            None => String::new(),
        };
        let mut sorted: Vec<&BlsEntry> = bls.iter().collect();
        sorted.sort_by(|a, b| bls_order(a, b));

        enum Flat<'a> {
            Entry(&'a MenuEntry),
            Sub(&'a Submenu),
            Bls(&'a BlsEntry),
        }
        let flatten = |items: &'a [MenuItem]| -> Vec<Flat<'a>> {
            let mut v = Vec::new();
            for i in items {
                match i {
                    MenuItem::Entry(e) => v.push(Flat::Entry(e)),
                    MenuItem::Submenu(s) => v.push(Flat::Sub(s)),
                    MenuItem::Blscfg { .. } => v.extend(sorted.iter().map(|b| Flat::Bls(b))),
                }
            }
            v
        };

        let mut parts: Vec<&str> = if selector.is_empty() {
            Vec::new()
        } else {
            selector.split('>').collect()
        };
        parts.reverse();
        let mut level = flatten(&self.items);
        let mut path = Vec::new();
        let mut fell_back = false;
        loop {
            if level.is_empty() {
                return None;
            }
            let idx = match parts.pop() {
                None => 0,
                Some(p) => {
                    let found = match index_of(p) {
                        Some(i) => (i < level.len()).then_some(i),
                        None => level.iter().position(|f| match f {
                            Flat::Entry(e) => e.title == p || e.id.as_deref() == Some(p),
                            Flat::Sub(s) => s.title == p || s.id.as_deref() == Some(p),
                            Flat::Bls(b) => b.id == p || b.title_str() == p,
                        }),
                    };
                    found.unwrap_or_else(|| {
                        fell_back = true;
                        0
                    })
                }
            };
            path.push(idx);
            let entry = match &level[idx] {
                Flat::Entry(e) => Chosen::Menu(e),
                Flat::Bls(b) => Chosen::Bls(b),
                Flat::Sub(s) => {
                    level = flatten(&s.items);
                    continue;
                }
            };
            return Some(DefaultEntry {
                entry,
                selector,
                set_line: set.map(|s| s.line),
                path,
                fell_back,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN12: &str = r#"#
# DO NOT EDIT THIS FILE
#
# It is automatically generated by grub-mkconfig using templates
# from /etc/grub.d and settings from /etc/default/grub
#

### BEGIN /etc/grub.d/00_header ###
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="0"
fi

if [ x"${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi

export menuentry_id_option

if [ "${prev_saved_entry}" ]; then
  set saved_entry="${prev_saved_entry}"
  save_env saved_entry
  set prev_saved_entry=
  save_env prev_saved_entry
  set boot_once=true
fi

function savedefault {
  if [ -z "${boot_once}" ]; then
    saved_entry="${chosen}"
    save_env saved_entry
  fi
}
function load_video {
  if [ x$feature_all_video_module = xy ]; then
    insmod all_video
  else
    insmod efi_gop
  fi
}

if [ x$feature_default_font_path = xy ] ; then
   font=unicode
else
insmod part_gpt
insmod ext2
set root='hd0,gpt1'
fi
terminal_input console serial
terminal_output console serial
set timeout=5
### END /etc/grub.d/00_header ###

### BEGIN /etc/grub.d/10_linux ###
function gfxmode {
	set gfxpayload="${1}"
}
set linux_gfx_mode=
export linux_gfx_mode
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-5f8a7b2c-1d2e-4f3a-9b8c-7d6e5f4a3b2c' {
	load_video
	insmod gzio
	if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi
	insmod part_gpt
	insmod ext2
	set root='hd0,gpt1'
	echo	'Loading Linux 6.1.0-13-cloud-amd64 ...'
	linux	/boot/vmlinuz-6.1.0-13-cloud-amd64 root=PARTUUID=8b3c ro  console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-6.1.0-13-cloud-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-5f8a7b2c-1d2e-4f3a-9b8c-7d6e5f4a3b2c' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-13-cloud-amd64' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-6.1.0-13-cloud-amd64-advanced-5f8a' {
		load_video
		linux	/boot/vmlinuz-6.1.0-13-cloud-amd64 root=PARTUUID=8b3c ro  console=tty0 console=ttyS0,115200
		initrd	/boot/initrd.img-6.1.0-13-cloud-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-13-cloud-amd64 (recovery mode)' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-6.1.0-13-cloud-amd64-recovery-5f8a' {
		load_video
		linux	/boot/vmlinuz-6.1.0-13-cloud-amd64 root=PARTUUID=8b3c ro single console=tty0
		initrd	/boot/initrd.img-6.1.0-13-cloud-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-10-cloud-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-10-cloud-amd64-advanced-5f8a' {
		linux	/boot/vmlinuz-6.1.0-10-cloud-amd64 root=PARTUUID=8b3c ro quiet
	}
}

### END /etc/grub.d/10_linux ###

### BEGIN /etc/grub.d/30_uefi-firmware ###
if [ "$grub_platform" = "efi" ]; then
	fwsetup --is-supported
	if [ "$?" = 0 ]; then
		menuentry 'UEFI Firmware Settings' $menuentry_id_option 'uefi-firmware' {
			fwsetup
		}
	fi
fi
### END /etc/grub.d/30_uefi-firmware ###
"#;

    #[test]
    fn debian_default_is_first_entry() {
        let cfg = parse(DEBIAN12);
        assert!(cfg.unbalanced.is_empty(), "{:?}", cfg.unbalanced);
        assert_eq!(cfg.items.len(), 3);
        let d = cfg.default_entry(None, &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        assert_eq!(e.title, "Debian GNU/Linux");
        assert_eq!(
            e.id.as_deref(),
            Some("gnulinux-simple-5f8a7b2c-1d2e-4f3a-9b8c-7d6e5f4a3b2c")
        );
        assert_eq!(e.classes.len(), 4);
        let l = e.linux.as_ref().unwrap();
        assert_eq!(l.command, "linux");
        assert_eq!(l.kernel, "/boot/vmlinuz-6.1.0-13-cloud-amd64");
        assert_eq!(l.line, 78);
        assert!(l.args.contains(&"console=ttyS0,115200".to_string()));
        assert_eq!(
            l.cmdline(),
            "root=PARTUUID=8b3c ro console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0"
        );
        assert_eq!(
            e.initrd,
            vec![("/boot/initrd.img-6.1.0-13-cloud-amd64".to_string(), 80)]
        );
        assert_eq!(d.set_line, Some(19));
        assert_eq!(d.selector, "0");
        assert_eq!(cfg.entries().len(), 5);
    }

    #[test]
    fn submenu_paths_ids_and_titles() {
        let mut text = DEBIAN12.replace("set default=\"0\"", "set default=\"1>2\"");
        let cfg = parse(&text);
        let d = cfg.default_entry(None, &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        assert_eq!(e.title, "Debian GNU/Linux, with Linux 6.1.0-10-cloud-amd64");
        assert_eq!(d.path, vec![1, 2]);
        assert_eq!(e.linux.as_ref().unwrap().args.last().unwrap(), "quiet");

        text = DEBIAN12.replace("set default=\"0\"", "set default=\"${saved_entry}\"");
        let cfg = parse(&text);
        let saved = "gnulinux-advanced-5f8a7b2c-1d2e-4f3a-9b8c-7d6e5f4a3b2c>gnulinux-6.1.0-13-cloud-amd64-recovery-5f8a";
        let d = cfg.default_entry(Some(saved), &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        assert!(e.title.ends_with("(recovery mode)"));
        assert!(!d.fell_back);
        // By title; a submenu alone selects its first entry.
        let d = cfg
            .default_entry(Some("Advanced options for Debian GNU/Linux"), &[])
            .unwrap();
        assert_eq!(d.path, vec![1, 0]);
        // Nothing saved yet: entry 0. Unknown id: fallback to 0.
        assert_eq!(cfg.default_entry(None, &[]).unwrap().path, vec![0]);
        let d = cfg.default_entry(Some("nope"), &[]).unwrap();
        assert!(d.fell_back);
        assert_eq!(d.path, vec![0]);
        let d = cfg.default_entry(Some("7"), &[]).unwrap();
        assert!(d.fell_back);
    }

    const RHEL9: &str = r#"### BEGIN /etc/grub.d/00_header ###
set pager=1

if [ -f ${config_directory}/grubenv ]; then
  load_env -f ${config_directory}/grubenv
elif [ -s $prefix/grubenv ]; then
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="${saved_entry}"
fi

if [ x"${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi
terminal_output console
if [ x$feature_timeout_style = xy ] ; then
  set timeout_style=menu
  set timeout=1
fi
### END /etc/grub.d/00_header ###

### BEGIN /etc/grub.d/10_linux ###
insmod part_gpt
insmod xfs
set root='hd0,gpt3'
if [ x$feature_platform_search_hint = xy ]; then
  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,gpt3 --hint-efi=hd0,gpt3 --hint-baremetal=ahci0,gpt3  7b8f
else
  search --no-floppy --fs-uuid --set=root 7b8f
fi
insmod part_gpt
insmod xfs
set boot='hd0,gpt3'
if [ -z "${kernelopts}" ]; then
  set kernelopts="root=UUID=aa ro console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0 rootdelay=300 "
fi

insmod blscfg
blscfg
### END /etc/grub.d/10_linux ###

### BEGIN /etc/grub.d/30_uefi-firmware ###
if [ "$grub_platform" = "efi" ]; then
	fwsetup --is-supported
	if [ "$?" = 0 ]; then
		menuentry 'UEFI Firmware Settings' $menuentry_id_option 'uefi-firmware' {
			fwsetup
		}
	fi
fi
"#;

    fn rhel_bls() -> Vec<BlsEntry> {
        let a = parse_bls("title Red Hat Enterprise Linux (5.14.0-362.8.1.el9_3.x86_64) 9.3 (Plow)\nversion 5.14.0-362.8.1.el9_3.x86_64\nlinux /vmlinuz-5.14.0-362.8.1.el9_3.x86_64\ninitrd /initramfs-5.14.0-362.8.1.el9_3.x86_64.img $tuned_initrd\noptions root=UUID=aa ro console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0 rootdelay=300\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class rhel\n")
            .with_id("8d5f-5.14.0-362.8.1.el9_3.x86_64");
        let b = parse_bls("title Red Hat Enterprise Linux (5.14.0-70.13.1.el9_0.x86_64) 9.0 (Plow)\r\nversion 5.14.0-70.13.1.el9_0.x86_64\r\nlinux /vmlinuz-5.14.0-70.13.1.el9_0.x86_64\r\noptions $kernelopts $tuned_params\r\n")
            .with_id("8d5f-5.14.0-70.13.1.el9_0.x86_64");
        let r = parse_bls("title Red Hat Enterprise Linux (0-rescue-8d5f) 9.0 (Plow)\nversion 0-rescue-8d5f\nlinux /vmlinuz-0-rescue-8d5f\noptions $kernelopts\n")
            .with_id("8d5f-0-rescue");
        vec![b, r, a]
    }

    #[test]
    fn rhel_bls_default() {
        let cfg = parse(RHEL9);
        assert!(cfg.uses_blscfg());
        assert_eq!(cfg.default_set().unwrap().line, 15);
        assert_eq!(cfg.kernelopts_fallback().unwrap().line, 43);
        let bls = rhel_bls();
        // Nothing saved: the newest.
        let d = cfg.default_entry(None, &bls).unwrap();
        let Chosen::Bls(b) = d.entry else { panic!() };
        assert_eq!(b.id, "8d5f-5.14.0-362.8.1.el9_3.x86_64");
        assert_eq!(b.options[0].line, 5);
        assert_eq!(bls_default(&bls, None).unwrap().id, b.id);
        // Saved: that one.
        let d = cfg
            .default_entry(Some("8d5f-5.14.0-70.13.1.el9_0.x86_64"), &bls)
            .unwrap();
        let Chosen::Bls(b) = d.entry else { panic!() };
        assert_eq!(
            b.version.as_ref().unwrap().value,
            "5.14.0-70.13.1.el9_0.x86_64"
        );
        assert_eq!(
            bls_default(&bls, Some("8d5f-5.14.0-70.13.1.el9_0.x86_64"))
                .unwrap()
                .id,
            b.id
        );
        let opts = expand_kernelopts(&b.options_line(), Some("root=UUID=aa ro console=ttyS0"));
        assert_eq!(opts, "root=UUID=aa ro console=ttyS0 $tuned_params");
        let fallback = &cfg.kernelopts_fallback().unwrap().value;
        assert!(expand_kernelopts(&b.options_line(), Some(fallback)).contains("rootdelay=300"));
        assert_eq!(expand_kernelopts("${kernelopts} x", None), "x");
        // No BLS entries given: the UEFI entry is the only menu item.
        let d = cfg.default_entry(None, &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        assert_eq!(e.id.as_deref(), Some("uefi-firmware"));
        let mut s = bls.clone();
        sort_bls(&mut s);
        let ids: Vec<&str> = s.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "8d5f-5.14.0-362.8.1.el9_3.x86_64",
                "8d5f-5.14.0-70.13.1.el9_0.x86_64",
                "8d5f-0-rescue"
            ]
        );
    }

    #[test]
    fn rhel7_linux16_and_suse_linuxefi() {
        let cfg = parse("set default=\"${saved_entry}\"\nmenuentry 'CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)' --class centos --class gnu-linux --class gnu --class os --unrestricted $menuentry_id_option 'gnulinux-3.10.0-1160.el7.x86_64-advanced-aa' {\n\tlinux16 /vmlinuz-3.10.0-1160.el7.x86_64 root=UUID=aa ro crashkernel=auto console=tty0 \"console=ttyS0,115200n8\" earlyprintk=ttyS0,115200 rootdelay=300 net.ifnames=0\n\tinitrd16 /initramfs-3.10.0-1160.el7.x86_64.img\n}\nmenuentry 'SLES 15-SP5' --class sles --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-bb' {\n  linuxefi /boot/vmlinuz-5.14.21-150500.55.19-default root=UUID=bb ${extra_cmdline} console=ttyS0 net.ifnames=0 dis_ucode_ldr earlyprintk=ttyS0 multipath=off rootdelay=300 scsi_mod.use_blk_mq=1 USE_BY_UUID_DEVICE_NAMES=1\n}\n");
        let d = cfg.default_entry(Some("SLES 15-SP5"), &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        let l = e.linux.as_ref().unwrap();
        assert_eq!(l.command, "linuxefi");
        assert_eq!(l.args[1], "${extra_cmdline}");
        let d = cfg.default_entry(None, &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        let l = e.linux.as_ref().unwrap();
        assert_eq!(l.command, "linux16");
        assert!(l.args.contains(&"console=ttyS0,115200n8".to_string()));
        assert_eq!(e.initrd[0].1, 4);
    }

    #[test]
    fn ubuntu_initrdless_branches() {
        let cfg = parse("if [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\nelse\n   set default=\"0\"\nfi\nmenuentry 'Ubuntu' --class ubuntu --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-3f1c' {\n\trecordfail\n\tload_video\n\tif [ \"${initrdfail}\" = 1 ]; then\n\t  echo\t'GRUB_FORCE_PARTUUID set, initrdless boot failed. Attempting with initrd.'\n\t  linux\t/boot/vmlinuz-6.5.0-1015-azure root=PARTUUID=9e2a ro  console=tty1 console=ttyS0 earlyprintk=ttyS0 panic=-1\n\t  initrd\t/boot/initrd.img-6.5.0-1015-azure\n\telse\n\t  echo\t'GRUB_FORCE_PARTUUID set, attempting initrdless boot.'\n\t  linux\t/boot/vmlinuz-6.5.0-1015-azure root=PARTUUID=9e2a ro  console=tty1 console=ttyS0 earlyprintk=ttyS0 panic=-1 panic=-1\n\t  initrdfail\n\tfi\n}\n");
        let d = cfg.default_entry(Some("ignored"), &[]).unwrap();
        let Chosen::Menu(e) = d.entry else { panic!() };
        assert_eq!(d.set_line, Some(4));
        assert_eq!(e.linux.as_ref().unwrap().line, 11);
        assert_eq!(e.linux_alternatives.len(), 1);
        assert_eq!(e.linux_alternatives[0].line, 15);
    }

    #[test]
    fn oddities() {
        let cfg = parse("}\nmenuentry 'x' {\n linux /k a\n");
        assert_eq!(cfg.unbalanced, vec![1, 2]);
        assert_eq!(cfg.entries().len(), 1);
        assert!(parse("").default_entry(None, &[]).is_none());
        assert_eq!(
            script_cmdline(" a  b=\"c d\"\tconsole=ttyS0 'e f' g\\\"h ").texts(),
            vec!["a", "b=c d", "console=ttyS0", "e f", "g\\\"h"]
        );
        assert_eq!(loader_cmdline(&["x=a b", "y'z", "w"]), "\"x=a b\" y\\'z w");
        assert_eq!(
            words("set default='a b' # c; d"),
            vec!["set", "default=a b"]
        );
        assert_eq!(words("echo \"x\\\"y\" z\\ w"), vec!["echo", "x\"y", "z w"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}", saved in "\\PC{0,20}") {
            let cfg = parse(&text);
            let bls = vec![parse_bls(&text).with_id(saved.clone())];
            let _ = cfg.default_entry(Some(&saved), &bls);
            let _ = bls_default(&bls, Some(&saved));
            let _ = expand_kernelopts(&text, Some(&saved));
            let _ = script_cmdline(&text);
            let _ = loader_cmdline(&[&text, &saved]);
            let _ = rpm_cmp(&text, &saved);
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("(menuentry|submenu|linux|set default=|blscfg|\\}|  )? ?['\"a-z0-9>${}\\\\ ]{0,15}\\{?", 0..30), saved in "[0-9>a-z]{0,6}") {
            let text = lines.join("\n");
            let cfg = parse(&text);
            let _ = cfg.default_entry(Some(&saved), &[]);
        }
    }
}
