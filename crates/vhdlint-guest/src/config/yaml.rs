//! YAML for netplan and cloud-init configuration, read with `saphyr-parser` (a YAML 1.2 parser
//! that passes the YAML test suite) into a small tree whose every mapping key and sequence item
//! keeps its line number, for the evidence.
//!
//! Only the first document is read (netplan and cloud-init read one). Scalars are text: plain
//! `~`, `null`, `Null`, `NULL` and the empty plain scalar are [`Yaml::Null`]; booleans are read
//! by [`Yaml::as_bool`] the YAML 1.1 way, as netplan (libyaml) and cloud-init (PyYAML) do. Tags
//! are dropped. Aliases stand for a copy of their anchor's node. The merge key `<<` is an
//! ordinary key. An alias's lines are its anchor's. A key that is a collection (`? [a, b]`) is dropped with its value.
//!
//! Bounded: nodes nested deeper than [`MAX_YAML_DEPTH`] are read as null (an alias too, when
//! its copy would reach deeper), and anchors and aliases copy at most [`MAX_YAML_ALIAS_NODES`]
//! nodes and [`MAX_YAML_ALIAS_BYTES`] bytes in all (a "billion laughs" file is not expanded);
//! both are said as notes. Text that is not valid YAML is read up to the error, which
//! [`read`] reports: netplan rejects such a file, cloud-init ignores it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::limits::{MAX_YAML_ALIAS_BYTES, MAX_YAML_ALIAS_NODES, MAX_YAML_DEPTH};
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

/// Where the text stops being valid YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based.
    pub line: usize,
    /// The parser's words.
    pub message: String,
}

/// The first document of a YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// What was read (up to the syntax error, if any).
    pub root: Yaml,
    /// Bounds reached (at their line, without a path).
    pub bounds: Vec<Note>,
    /// The first syntax error, if the text is not valid YAML.
    pub error: Option<SyntaxError>,
}

/// Reads the first document of `text`. Text that is not a mapping or sequence at the top gives
/// a scalar or [`Yaml::Null`].
pub fn parse(text: &str) -> Yaml {
    read(text).root
}

/// Like [`parse`], with the bounds reached and the syntax error, if any, as notes at their line
/// (without a path).
pub fn parse_with_warnings(text: &str) -> (Yaml, Vec<Note>) {
    let doc = read(text);
    let mut notes = doc.bounds;
    if let Some(e) = doc.error {
        notes.push(
            Note::syntax(format!(
                "line {}: not valid YAML ({}); read up to there",
                e.line, e.message
            ))
            .line(e.line),
        );
    }
    (doc.root, notes)
}

/// What a node costs to copy, and how deep it reaches.
#[derive(Clone, Copy, Default)]
struct Size {
    nodes: usize,
    /// Text in its scalars and keys.
    bytes: usize,
    /// Levels of collections in it: 0 for a scalar.
    height: usize,
}

impl Size {
    fn scalar(text: &str) -> Size {
        Size {
            nodes: 1,
            bytes: text.len(),
            height: 0,
        }
    }
    /// Adds a child (under `key`, for a mapping's value).
    fn add(&mut self, child: Size, key: usize) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.bytes = self.bytes.saturating_add(child.bytes).saturating_add(key);
        self.height = self.height.max(child.height + 1);
    }
}

/// A collection being read.
enum Frame {
    Map {
        entries: Vec<(String, usize, Yaml)>,
        /// The key read, waiting for its value; `None` in the key's place for a key that is a
        /// collection (dropped with its value).
        key: Option<Option<(String, usize)>>,
        anchor: usize,
        line: usize,
        size: Size,
    },
    Seq {
        items: Vec<(usize, Yaml)>,
        anchor: usize,
        line: usize,
        size: Size,
    },
}

/// An anchored node, kept for its aliases; `None` once the copy budget was spent.
struct Anchor {
    node: Option<Yaml>,
    size: Size,
    line: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Yaml>,
    anchors: HashMap<usize, Anchor>,
    /// Nodes and bytes copied so far, for anchors and their aliases.
    copied: Size,
    deep: Option<usize>,
    copies_cut: Option<usize>,
}

impl Builder {
    /// Whether `size` more may be copied (and counts it if so).
    fn copy_allowed(&mut self, size: Size, line: usize) -> bool {
        let nodes = self.copied.nodes.saturating_add(size.nodes);
        let bytes = self.copied.bytes.saturating_add(size.bytes);
        if nodes > MAX_YAML_ALIAS_NODES || bytes > MAX_YAML_ALIAS_BYTES {
            self.copies_cut.get_or_insert(line);
            return false;
        }
        self.copied.nodes = nodes;
        self.copied.bytes = bytes;
        true
    }

    /// Puts a finished node (of `size`, starting on `line`) where it belongs.
    fn put(&mut self, node: Yaml, size: Size, line: usize, anchor: usize) {
        if anchor > 0 {
            let kept = self.copy_allowed(size, line).then(|| node.clone());
            self.anchors.insert(
                anchor,
                Anchor {
                    node: kept,
                    size,
                    line,
                },
            );
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, size: s, .. }) => {
                items.push((line, node));
                s.add(size, 0);
            }
            Some(Frame::Map {
                entries,
                key,
                size: s,
                ..
            }) => match key.take() {
                None => {
                    *key = Some(match node {
                        Yaml::Scalar(k) => Some((k, line)),
                        Yaml::Null => Some((String::new(), line)),
                        Yaml::Map(_) | Yaml::Seq(_) => None,
                    });
                }
                Some(Some((k, l))) => {
                    s.add(size, k.len());
                    entries.push((k, l, node));
                }
                Some(None) => {}
            },
        }
    }

    /// Closes the innermost collection.
    fn close(&mut self) {
        let closed = |mut size: Size| {
            size.nodes = size.nodes.saturating_add(1);
            size
        };
        match self.stack.pop() {
            Some(Frame::Map {
                entries,
                anchor,
                line,
                size,
                ..
            }) => self.put(Yaml::Map(entries), closed(size), line, anchor),
            Some(Frame::Seq {
                items,
                anchor,
                line,
                size,
            }) => self.put(Yaml::Seq(items), closed(size), line, anchor),
            None => {}
        }
    }

    /// An alias: a copy of its anchor's node, at the anchor's line (where the value is
    /// written, as PyYAML's node graph has it). Null when the copy would reach deeper than
    /// [`MAX_YAML_DEPTH`] or past the copy budget.
    fn alias(&mut self, id: usize, line: usize) {
        let Some(a) = self.anchors.get(&id) else {
            self.put(Yaml::Null, Size::scalar(""), line, 0);
            return;
        };
        let (size, at) = (a.size, a.line);
        if self.stack.len() + size.height > MAX_YAML_DEPTH {
            self.deep.get_or_insert(line);
            self.put(Yaml::Null, Size::scalar(""), line, 0);
            return;
        }
        let kept = self.anchors.get(&id).is_some_and(|a| a.node.is_some());
        let node = if !kept {
            self.copies_cut.get_or_insert(line);
            None
        } else if self.copy_allowed(size, line) {
            self.anchors.get(&id).and_then(|a| a.node.clone())
        } else {
            None
        };
        match node {
            Some(node) => self.put(node, size, at, 0),
            None => self.put(Yaml::Null, Size::scalar(""), line, 0),
        }
    }
}

/// The line of a block scalar's header (`|`, `>-`, `|2+` …) whose content the parser places at
/// `content_line`: the nearest line above it, past blank and comment lines, that ends with one.
fn block_header_line(lines: &[&str], content_line: usize) -> usize {
    for l in (1..content_line.min(lines.len() + 1)).rev() {
        let text = lines[l - 1];
        let text = match text.find(" #") {
            Some(i) => &text[..i],
            None if text.trim_start().starts_with('#') => "",
            None => text,
        };
        let t = text.trim_end();
        if t.trim().is_empty() {
            continue;
        }
        let header = t.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
        if header.ends_with('|') || header.ends_with('>') {
            return l;
        }
        break;
    }
    content_line
}

/// Reads the first document of `text`, with its bounds and syntax error.
pub fn read(text: &str) -> Document {
    let mut b = Builder::default();
    let mut error = None;
    // Collections opened past the depth bound, skipped whole: how many are open.
    let mut skipping = 0usize;
    let mut documents = 0;
    let mut flow_too_deep = None;
    let mut all_lines: Option<Vec<&str>> = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(e) => e,
            // The scanner's own bound: flow collections nested 255 deep (it counts them in a
            // byte). Not a syntax error: the depth bound, reached before the builder's.
            Err(e) if e.info() == "recursion limit exceeded" => {
                flow_too_deep = Some(e.marker().line());
                break;
            }
            Err(e) => {
                error = Some(SyntaxError {
                    line: e.marker().line(),
                    message: e.info().to_string(),
                });
                break;
            }
        };
        let line = span.start.line();
        if skipping > 0 {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => skipping += 1,
                Event::MappingEnd | Event::SequenceEnd => {
                    skipping -= 1;
                    if skipping == 0 {
                        b.put(Yaml::Null, Size::scalar(""), line, 0);
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    break;
                }
            }
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _)
                if b.stack.len() >= MAX_YAML_DEPTH =>
            {
                let _ = anchor;
                b.deep.get_or_insert(line);
                skipping = 1;
            }
            Event::MappingStart(anchor, _) => b.stack.push(Frame::Map {
                entries: Vec::new(),
                key: None,
                anchor,
                line,
                size: Size::default(),
            }),
            Event::SequenceStart(anchor, _) => b.stack.push(Frame::Seq {
                items: Vec::new(),
                anchor,
                line,
                size: Size::default(),
            }),
            Event::MappingEnd | Event::SequenceEnd => b.close(),
            Event::Scalar(value, style, anchor, _) => {
                let null = style == ScalarStyle::Plain
                    && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let size = Size::scalar(&value);
                let node = if null {
                    Yaml::Null
                } else {
                    Yaml::Scalar(value.into_owned())
                };
                let line = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    let lines = all_lines.get_or_insert_with(|| text.lines().collect());
                    block_header_line(lines, line)
                } else {
                    line
                };
                b.put(node, size, line, anchor);
            }
            Event::Alias(id) => b.alias(id, line),
            Event::Nothing | Event::StreamStart => {}
        }
    }
    // Read up to an error: what was opened is closed as it stands.
    while !b.stack.is_empty() {
        b.close();
    }
    let mut bounds = Vec::new();
    if let Some(line) = b.deep {
        bounds.push(
            Note::bound(
                "MAX_YAML_DEPTH",
                format!(
                    "line {line}: nested deeper than {MAX_YAML_DEPTH} levels, the limit: the deeper nodes are read as null"
                ),
            )
            .line(line),
        );
    }
    if let Some(line) = flow_too_deep {
        bounds.push(
            Note::bound(
                "MAX_YAML_DEPTH",
                format!(
                    "line {line}: flow collections nested deeper than {MAX_YAML_DEPTH} levels, the limit (the parser stops at 255): read up to there"
                ),
            )
            .line(line),
        );
    }
    if let Some(line) = b.copies_cut {
        bounds.push(
            Note::bound(
                "MAX_YAML_ALIAS_NODES",
                format!(
                    "line {line}: anchors and aliases copy more than {MAX_YAML_ALIAS_NODES} nodes or {MAX_YAML_ALIAS_BYTES} bytes in all, the limit: the aliases past it are read as null"
                ),
            )
            .line(line),
        );
    }
    Document {
        root: b.root.unwrap_or(Yaml::Null),
        bounds,
        error,
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
            Some("line one\nline two\n"),
            "a literal block keeps its last line break (clip)"
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

    #[test]
    fn items_of_a_flow_collection_keep_their_own_lines() {
        let y = parse("a: [x,\n  y,\n  {k: v}]\n");
        let lines: Vec<usize> = y
            .get("a")
            .unwrap()
            .0
            .items()
            .iter()
            .map(|(l, _)| *l)
            .collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert_eq!(
            y.path(&["a"]).unwrap().0.items()[2].1.get("k").unwrap().1,
            3
        );
    }

    #[test]
    fn aliases_copy_their_anchor_and_are_bounded() {
        let y = parse("base: &b {dhcp4: true, mtu: 1500}\neth0: *b\nname: &n eth9\nalso: *n\n");
        assert_eq!(y.path(&["eth0", "mtu"]).unwrap().0.as_str(), Some("1500"));
        assert_eq!(y.get("also").unwrap().0.as_str(), Some("eth9"));
        // A billion laughs: each level doubles ten times over; the copies stop at the bound.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let doc = read(&text);
        assert!(doc.error.is_none());
        assert_eq!(doc.bounds.len(), 1, "{:?}", doc.bounds);
        assert!(doc.bounds[0].is_bound());
        fn count(y: &Yaml) -> usize {
            1 + y.items().iter().map(|(_, i)| count(i)).sum::<usize>()
                + y.entries().iter().map(|(_, _, v)| count(v)).sum::<usize>()
        }
        assert!(count(&doc.root) < 3 * MAX_YAML_ALIAS_NODES);
    }

    fn height(y: &Yaml) -> usize {
        match y {
            Yaml::Map(m) => 1 + m.iter().map(|(_, _, v)| height(v)).max().unwrap_or(0),
            Yaml::Seq(v) => 1 + v.iter().map(|(_, i)| height(i)).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn text_bytes(y: &Yaml) -> usize {
        match y {
            Yaml::Map(m) => m.iter().map(|(k, _, v)| k.len() + text_bytes(v)).sum(),
            Yaml::Seq(v) => v.iter().map(|(_, i)| text_bytes(i)).sum(),
            Yaml::Scalar(s) => s.len(),
            Yaml::Null => 0,
        }
    }

    /// A long scalar aliased many times: the copies stop at the byte bound.
    #[test]
    fn aliases_of_a_long_scalar_are_bounded_in_bytes() {
        let text = format!(
            "a: &a \"{}\"\nb: [{}]\n",
            "x".repeat(100_000),
            vec!["*a"; 200].join(", ")
        );
        let doc = read(&text);
        assert_eq!(doc.bounds.len(), 1, "{:?}", doc.bounds);
        assert!(text_bytes(&doc.root) <= MAX_YAML_ALIAS_BYTES + text.len());
    }

    /// Anchors nested in anchors: each keeps a copy of its subtree, and those copies count.
    #[test]
    fn nested_anchors_are_bounded() {
        let levels = 150;
        let mut text = String::from("a: ");
        for i in 0..levels {
            text.push_str(&format!("&a{i} ["));
        }
        text.push_str(&vec!["x"; 2000].join(", "));
        text.push_str(&"]".repeat(levels));
        text.push('\n');
        let doc = read(&text);
        assert!(doc.error.is_none(), "{:?}", doc.error);
        assert_eq!(doc.bounds.len(), 1, "{:?}", doc.bounds);
        assert!(doc.bounds[0].is_bound());
    }

    /// An alias whose copy would reach past the depth bound is null, so no tree is deeper.
    #[test]
    fn aliases_do_not_nest_past_the_depth_bound() {
        let mut text = String::new();
        for i in 0..40 {
            let inner = if i == 0 {
                "x".to_string()
            } else {
                format!("*a{}", i - 1)
            };
            text.push_str(&format!(
                "a{i}: &a{i} {}{inner}{}\n",
                "[".repeat(150),
                "]".repeat(150)
            ));
        }
        let doc = read(&text);
        assert!(doc.error.is_none(), "{:?}", doc.error);
        assert!(height(&doc.root) <= MAX_YAML_DEPTH, "{}", height(&doc.root));
        assert!(
            doc.bounds
                .iter()
                .any(|n| n.to_string().contains("nested deeper")),
            "{:?}",
            doc.bounds
        );
    }

    #[test]
    fn invalid_yaml_is_read_up_to_the_error_and_said() {
        let doc = read(
            "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n     bad: [\n",
        );
        let e = doc.error.expect("a syntax error");
        assert!(e.line >= 5, "{e:?}");
        assert_eq!(
            doc.root.path(&["network", "version"]).unwrap().0.as_str(),
            Some("2")
        );
        let (_, notes) = parse_with_warnings("a: 'unterminated\n");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].to_string().contains("not valid YAML"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn nesting_past_the_bound_is_null_and_said() {
        let text = format!(
            "a: {}{}\n",
            "[".repeat(MAX_YAML_DEPTH + 5),
            "]".repeat(MAX_YAML_DEPTH + 5)
        );
        let doc = read(&text);
        assert!(doc.error.is_none(), "{:?}", doc.error);
        assert_eq!(doc.bounds.len(), 1);
        let mut node = doc.root.get("a").unwrap().0;
        let mut depth = 1;
        while let Some((_, inner)) = node.items().first() {
            node = inner;
            depth += 1;
        }
        assert_eq!(node, &Yaml::Null);
        assert_eq!(
            depth, MAX_YAML_DEPTH,
            "the mapping and 199 sequences, then null"
        );
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
