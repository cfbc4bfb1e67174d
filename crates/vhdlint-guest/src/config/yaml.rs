//! A small YAML reader, enough for netplan and cloud-init configuration: block mappings and
//! sequences by indentation, flow collections (`{a: 1, b: [x, y]}`), single- and double-quoted
//! and plain scalars, `#` comments, block scalars (`|`, `>`), `---` document markers (only the
//! first document is read). Every mapping key and sequence item keeps its line number (inside
//! a flow collection: the line the collection starts on).
//!
//! Not handled: anchors and aliases (`&a`, `*a`, `<<`: kept as plain text), tags (`!!str`:
//! dropped), multi-line plain or quoted scalars, complex keys (`? `), multiple documents.
//! Where the text is not valid YAML the reader keeps what it can and never fails.

use super::numbered_lines;
use crate::limits::MAX_YAML_DEPTH;
use crate::note::Note;

/// A YAML node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    /// `(key, line, value)` in order.
    Map(Vec<(String, usize, Yaml)>),
    /// `(line, item)` in order.
    Seq(Vec<(usize, Yaml)>),
    /// A scalar (unquoted). `~`/`null`/empty are [`Yaml::Null`].
    Scalar(String),
    Null,
}

impl Yaml {
    /// The value of `key` in a mapping (the last, if repeated), with its line.
    pub fn get(&self, key: &str) -> Option<(&Yaml, usize)> {
        match self {
            Yaml::Map(m) => m
                .iter()
                .rev()
                .find(|(k, _, _)| k == key)
                .map(|(_, l, v)| (v, *l)),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<(&Yaml, usize)> {
        let mut cur = (self, 0);
        for k in keys {
            cur = cur.0.get(k)?;
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A YAML 1.1 boolean as netplan and cloud-init read them: `true/yes/on/y`,
    /// `false/no/off/n`, any case.
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.as_str()?.to_ascii_lowercase();
        match s.as_str() {
            "true" | "yes" | "on" | "y" => Some(true),
            "false" | "no" | "off" | "n" => Some(false),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, usize, Yaml)] {
        match self {
            Yaml::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[(usize, Yaml)] {
        match self {
            Yaml::Seq(s) => s,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone)]
struct Line {
    indent: usize,
    no: usize,
    text: String,
}

/// Reads the first document of `text`. Text that is not a mapping or sequence at the top gives
/// a scalar or [`Yaml::Null`]. Nodes nested deeper than [`MAX_YAML_DEPTH`] are read as null;
/// [`parse_with_warnings`] says when that happened.
pub fn parse(text: &str) -> Yaml {
    parse_with_warnings(text).0
}

/// Like [`parse`], with the bounds reached while reading (notes at their line, without a path).
pub fn parse_with_warnings(text: &str) -> (Yaml, Vec<Note>) {
    let mut deep = None;
    let doc = parse_document(text, &mut deep);
    let notes = deep
        .map(|line| {
            Note::bound(
                "MAX_YAML_DEPTH",
                format!(
                    "line {line}: nested deeper than {MAX_YAML_DEPTH} levels, the limit: the deeper nodes are read as null"
                ),
            )
            .line(line)
        })
        .into_iter()
        .collect();
    (doc, notes)
}

/// `deep` gets the first line whose nodes lie deeper than [`MAX_YAML_DEPTH`].
fn parse_document(text: &str, deep: &mut Option<usize>) -> Yaml {
    let mut lines = Vec::new();
    let mut started = false;
    let mut raw: Vec<(usize, &str)> = numbered_lines(text).collect();
    // Block scalars need the raw lines: mark them while collecting.
    let mut i = 0;
    while i < raw.len() {
        let (no, l) = raw[i];
        i += 1;
        let body = strip_comment(l);
        let trimmed = body.trim_end();
        if trimmed.trim().is_empty() {
            continue;
        }
        if trimmed.starts_with("---") && trimmed[3..].trim().is_empty() {
            if started {
                break;
            }
            started = true;
            continue;
        }
        if trimmed == "..." {
            break;
        }
        started = true;
        let indent = trimmed.len() - trimmed.trim_start().len();
        let mut text = trimmed.trim_start().to_string();
        // A block scalar: gather the more-indented lines that follow into one line.
        if let Some(style) = block_scalar_style(&text) {
            let mut parts = Vec::new();
            while i < raw.len() {
                let (_, nl) = raw[i];
                let ni = nl.len() - nl.trim_start().len();
                if !nl.trim().is_empty() && ni <= indent {
                    break;
                }
                parts.push(nl.trim().to_string());
                i += 1;
            }
            while parts.last().is_some_and(|p| p.is_empty()) {
                parts.pop();
            }
            let joined = parts.join(if style == '|' { "\n" } else { " " });
            let cut = text.len() - text.rsplit_once(' ').map_or(text.len(), |(_, b)| b.len());
            text.truncate(cut);
            text.push_str(&quote_double(&joined));
        }
        // A flow collection left open continues on the next lines.
        let mut depth = flow_depth(&text);
        while depth > 0 && i < raw.len() {
            let piece = strip_comment(raw[i].1).trim();
            text.push(' ');
            text.push_str(piece);
            depth += bracket_delta(piece);
            i += 1;
        }
        lines.push(Line { indent, no, text });
    }
    raw.clear();
    if lines.is_empty() {
        return Yaml::Null;
    }
    let mut pos = 0;
    let min = lines[0].indent;
    block(&mut lines, &mut pos, min, 0, deep)
}

fn block_scalar_style(text: &str) -> Option<char> {
    let last = text.rsplit(' ').next()?;
    let c = last.chars().next()?;
    let valid = (c == '|' || c == '>')
        && last[1..]
            .chars()
            .all(|ch| ch == '-' || ch == '+' || ch.is_ascii_digit());
    let is_value =
        text.len() == last.len() || text.ends_with(&format!(": {last}")) || text.starts_with('-');
    (valid && is_value).then_some(c)
}

fn quote_double(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Net count of open `[`/`{` outside quotes in a line's flow value (0 when balanced or
/// over-closed).
fn flow_depth(s: &str) -> i64 {
    let t = s.trim_start_matches("- ");
    let v = match find_map_colon(t) {
        Some(p) => t[p + 1..].trim_start(),
        None => t,
    };
    if !(v.starts_with('[') || v.starts_with('{')) {
        return 0;
    }
    let mut depth: i64 = 0;
    let mut q: Option<char> = None;
    for ch in v.chars() {
        match q {
            Some(c) if ch == c => q = None,
            Some(_) => {}
            None => match ch {
                '"' | '\'' => q = Some(ch),
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth.max(0)
}

/// Net `[`/`{` opened minus closed in `piece`, outside quotes (quotes do not span lines here).
fn bracket_delta(piece: &str) -> i64 {
    let mut depth = 0;
    let mut q: Option<char> = None;
    for ch in piece.chars() {
        match q {
            Some(c) if ch == c => q = None,
            Some(_) => {}
            None => match ch {
                '"' | '\'' => q = Some(ch),
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    depth
}

/// Cuts a comment: `#` at the start or after whitespace, outside quotes.
fn strip_comment(l: &str) -> &str {
    let mut q: Option<char> = None;
    let mut prev = ' ';
    for (i, ch) in l.char_indices() {
        match q {
            Some(c) if ch == c => q = None,
            Some(_) => {}
            None => match ch {
                '"' | '\''
                    if prev == ' '
                        || prev == '\t'
                        || prev == ':'
                        || prev == '-'
                        || prev == '['
                        || prev == '{'
                        || prev == ',' =>
                {
                    q = Some(ch)
                }
                '#' if prev == ' ' || prev == '\t' => return &l[..i],
                _ => {}
            },
        }
        prev = ch;
    }
    l
}

/// The byte position of the `:` ending a mapping key (`key:` at the end or `key: `), outside
/// quotes and flow brackets.
fn find_map_colon(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let mut q: Option<u8> = None;
    let mut depth = 0i32;
    for (i, &c) in b.iter().enumerate() {
        match q {
            Some(x) if c == x => q = None,
            Some(_) => {}
            None => match c {
                b'"' | b'\'' if i == 0 => q = Some(c),
                b'[' | b'{' if i == 0 => return None,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth -= 1,
                b':' if depth <= 0
                    && (i + 1 == b.len() || b[i + 1] == b' ' || b[i + 1] == b'\t') =>
                {
                    return Some(i)
                }
                _ => {}
            },
        }
    }
    None
}

fn block(
    lines: &mut [Line],
    pos: &mut usize,
    min_indent: usize,
    depth: usize,
    deep: &mut Option<usize>,
) -> Yaml {
    let Some(first) = lines.get(*pos) else {
        return Yaml::Null;
    };
    if first.indent < min_indent {
        return Yaml::Null;
    }
    if depth > MAX_YAML_DEPTH {
        deep.get_or_insert(first.no);
        return Yaml::Null;
    }
    let indent = first.indent;
    if is_seq_item(&first.text) {
        let mut items = Vec::new();
        while let Some(l) = lines.get(*pos) {
            if l.indent != indent || !is_seq_item(&l.text) {
                break;
            }
            let no = l.no;
            let rest = l.text[1..].trim_start().to_string();
            if rest.is_empty() {
                *pos += 1;
                items.push((no, block(lines, pos, indent + 1, depth + 1, deep)));
            } else {
                // The item's content starts a node at the column after `- `.
                let col = indent + (l.text.len() - rest.len());
                lines[*pos] = Line {
                    indent: col,
                    no,
                    text: rest,
                };
                items.push((no, block(lines, pos, col, depth + 1, deep)));
            }
        }
        return Yaml::Seq(items);
    }
    if find_map_colon(&first.text).is_some() {
        let mut map = Vec::new();
        while let Some(l) = lines.get(*pos) {
            if l.indent != indent {
                break;
            }
            let Some(c) = find_map_colon(&l.text) else {
                break;
            };
            let key = unquote(l.text[..c].trim());
            let value = l.text[c + 1..].trim().to_string();
            let no = l.no;
            *pos += 1;
            let v = if value.is_empty() || value.starts_with('&') && !value.contains(' ') {
                match lines.get(*pos) {
                    Some(n) if n.indent > indent => block(lines, pos, indent + 1, depth + 1, deep),
                    // `key:` followed by a sequence at the same indentation.
                    Some(n) if n.indent == indent && is_seq_item(&n.text) => {
                        block(lines, pos, indent, depth + 1, deep)
                    }
                    _ => Yaml::Null,
                }
            } else {
                inline(&value, depth, no, deep)
            };
            map.push((key, no, v));
        }
        return Yaml::Map(map);
    }
    // A bare scalar (or flow collection) line.
    *pos += 1;
    let text = first.text.clone();
    let no = first.no;
    // Lines indented under a scalar are not valid YAML: skip them.
    while lines.get(*pos).is_some_and(|l| l.indent > indent) {
        *pos += 1;
    }
    inline(&text, depth, no, deep)
}

fn is_seq_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ") || t.starts_with("-\t")
}

fn unquote(s: &str) -> String {
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s[1..s.len() - 1].replace("''", "'")
    } else if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let mut out = String::new();
        let mut it = s[1..s.len() - 1].chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                match it.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s.to_string()
    }
}

/// A value on one line: a flow collection or a scalar.
fn inline(s: &str, depth: usize, line: usize, deep: &mut Option<usize>) -> Yaml {
    let s = s.trim();
    // Drop a tag.
    let s = if s.starts_with('!') {
        s.split_once(' ').map_or("", |(_, r)| r.trim())
    } else {
        s
    };
    if s.starts_with('[') || s.starts_with('{') {
        let c: Vec<char> = s.chars().collect();
        let mut i = 0;
        return flow(&c, &mut i, depth, line, deep);
    }
    scalar(s)
}

fn scalar(s: &str) -> Yaml {
    let s = s.trim();
    if s.is_empty() || s == "~" || s.eq_ignore_ascii_case("null") {
        Yaml::Null
    } else {
        Yaml::Scalar(unquote(s))
    }
}

fn flow(c: &[char], i: &mut usize, depth: usize, line: usize, deep: &mut Option<usize>) -> Yaml {
    let skip_ws = |i: &mut usize| {
        while *i < c.len() && c[*i].is_whitespace() {
            *i += 1;
        }
    };
    skip_ws(i);
    if depth > MAX_YAML_DEPTH {
        deep.get_or_insert(line);
        *i = c.len();
        return Yaml::Null;
    }
    match c.get(*i) {
        Some('[') => {
            *i += 1;
            let mut items = Vec::new();
            loop {
                skip_ws(i);
                match c.get(*i) {
                    None => break,
                    Some(']') => {
                        *i += 1;
                        break;
                    }
                    Some(',') => *i += 1,
                    _ => {
                        let before = *i;
                        let v = flow(c, i, depth + 1, line, deep);
                        items.push((line, v));
                        if *i == before {
                            *i += 1;
                        }
                    }
                }
            }
            Yaml::Seq(items)
        }
        Some('{') => {
            *i += 1;
            let mut map = Vec::new();
            loop {
                skip_ws(i);
                match c.get(*i) {
                    None => break,
                    Some('}') => {
                        *i += 1;
                        break;
                    }
                    Some(',') => *i += 1,
                    _ => {
                        let before = *i;
                        let k = flow_scalar(c, i, true);
                        skip_ws(i);
                        let v = if c.get(*i) == Some(&':') {
                            *i += 1;
                            skip_ws(i);
                            if matches!(c.get(*i), Some(',') | Some('}') | None) {
                                Yaml::Null
                            } else {
                                flow(c, i, depth + 1, line, deep)
                            }
                        } else {
                            Yaml::Null
                        };
                        map.push((k, line, v));
                        if *i == before {
                            *i += 1;
                        }
                    }
                }
            }
            Yaml::Map(map)
        }
        _ => scalar(&flow_scalar(c, i, false)),
    }
}

/// A scalar inside a flow collection (quoted, or plain up to `,`, `]`, `}`, or `: ` for keys).
fn flow_scalar(c: &[char], i: &mut usize, key: bool) -> String {
    match c.get(*i) {
        Some(&q) if q == '"' || q == '\'' => {
            let start = *i;
            *i += 1;
            while *i < c.len() && c[*i] != q {
                if q == '"' && c[*i] == '\\' {
                    *i += 1;
                }
                *i += 1;
            }
            *i = (*i + 1).min(c.len());
            let s: String = c[start..*i].iter().collect();
            unquote(&s)
        }
        _ => {
            let start = *i;
            while *i < c.len() {
                let ch = c[*i];
                if ch == ',' || ch == ']' || ch == '}' {
                    break;
                }
                if key
                    && ch == ':'
                    && c.get(*i + 1)
                        .is_none_or(|n| n.is_whitespace() || *n == ',' || *n == '}')
                {
                    break;
                }
                *i += 1;
            }
            c[start..*i].iter().collect::<String>().trim().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_blocks_and_flow() {
        let y = parse("# c\nnetwork:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true  # yes\n      addresses: [10.0.0.4/24, \"fd00::4/64\"]\n      nameservers: {addresses: [8.8.8.8], search: []}\n      routes:\n      - to: default\n        via: 10.0.0.1\n      -   to: 10.1.0.0/16\n          via: 10.0.0.2\n    'eth1': {dhcp4: no}\nempty:\nquoted: 'it''s'\nurl: http://x:80/a#b\nlist:\n  - a\n  -\n    - b\n");
        let (eth0, line) = y.path(&["network", "ethernets", "eth0"]).unwrap();
        assert_eq!(line, 5);
        let (d, l) = eth0.get("dhcp4").unwrap();
        assert_eq!((d.as_bool(), l), (Some(true), 6));
        let addrs: Vec<_> = eth0
            .get("addresses")
            .unwrap()
            .0
            .items()
            .iter()
            .map(|(_, v)| v.as_str().unwrap())
            .collect();
        assert_eq!(addrs, vec!["10.0.0.4/24", "fd00::4/64"]);
        assert_eq!(
            eth0.path(&["nameservers", "addresses"])
                .unwrap()
                .0
                .items()
                .len(),
            1
        );
        let routes = eth0.get("routes").unwrap().0.items();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[1].0, 12);
        assert_eq!(routes[1].1.get("via").unwrap().0.as_str(), Some("10.0.0.2"));
        assert_eq!(routes[1].1.get("via").unwrap().1, 13);
        assert_eq!(
            y.path(&["network", "ethernets", "eth1", "dhcp4"])
                .unwrap()
                .0
                .as_bool(),
            Some(false)
        );
        assert_eq!(y.get("empty").unwrap().0, &Yaml::Null);
        assert_eq!(y.get("quoted").unwrap().0.as_str(), Some("it's"));
        assert_eq!(y.get("url").unwrap().0.as_str(), Some("http://x:80/a#b"));
        let list = y.get("list").unwrap().0.items();
        assert_eq!(list[1].1.items()[0].1.as_str(), Some("b"));
    }

    #[test]
    fn cloud_config_shapes() {
        let y = parse("#cloud-config\nnetwork: {config: disabled}\ndatasource_list: [ Azure ]\nswap:\n  filename: /swap.img\n  size: \"auto\"\nwrite_files:\n- path: /etc/x\n  content: |\n    line one\n    line two\n\n  owner: root\nmounts:\n- [ ephemeral0, /mnt, auto, \"defaults,nofail\" ]\n- [ swap, none, swap, sw, \"0\", \"0\" ]\n");
        assert_eq!(
            y.path(&["network", "config"]).unwrap().0.as_str(),
            Some("disabled")
        );
        assert_eq!(
            y.get("datasource_list").unwrap().0.items()[0].1.as_str(),
            Some("Azure")
        );
        assert_eq!(y.path(&["swap", "size"]).unwrap().0.as_str(), Some("auto"));
        assert_eq!(y.path(&["swap", "filename"]).unwrap().1, 5);
        let wf = &y.get("write_files").unwrap().0.items()[0].1;
        assert_eq!(
            wf.get("content").unwrap().0.as_str(),
            Some("line one\nline two")
        );
        assert_eq!(wf.get("owner").unwrap().0.as_str(), Some("root"));
        let mounts = y.get("mounts").unwrap().0.items();
        assert_eq!(mounts[1].1.items()[0].1.as_str(), Some("swap"));
        assert_eq!(mounts[0].1.items()[3].1.as_str(), Some("defaults,nofail"));
    }

    #[test]
    fn multiline_flow_and_documents() {
        let y = parse("---\na: [1,\n  2, 3]\nb: c\n---\nd: e\n");
        assert_eq!(y.get("a").unwrap().0.items().len(), 3);
        assert_eq!(y.get("b").unwrap().1, 4);
        assert!(y.get("d").is_none());
        assert_eq!(parse(""), Yaml::Null);
        assert_eq!(parse("just text"), Yaml::Scalar("just text".into()));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            let _ = parse(&text);
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("[ ]{0,6}(- )?[a-z0-9'\"\\[\\]{},:|>#&*!~ -]{0,20}", 0..30)) {
            let _ = parse(&lines.join("\n"));
        }
    }
}
