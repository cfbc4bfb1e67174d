//! The LVM2 text metadata format (`vgname { key = value … }`), parsed with nom into a tree.
//! Nesting is bounded by [`MAX_LVM_DEPTH`](crate::limits::MAX_LVM_DEPTH).

use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, digit1, multispace1};
use nom::combinator::{cut, map, map_res, opt, recognize, value};
use nom::multi::{many0, separated_list0};
use nom::sequence::{delimited, pair, preceded, terminated};
use nom::{IResult, Parser};

use crate::limits::MAX_LVM_DEPTH;

/// A value of the metadata tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Section(Vec<(String, Value)>),
}

impl Value {
    /// The entry `key` of a section.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Section(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The sub-sections of a section, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Value)> {
        let items: &[(String, Value)] = match self {
            Value::Section(items) => items,
            _ => &[],
        };
        items
            .iter()
            .filter(|(_, v)| matches!(v, Value::Section(_)))
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// A syntax error with its byte position in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: usize,
    pub reason: String,
}

type Res<'a, T> = IResult<&'a str, T>;

fn ws(i: &str) -> Res<'_, ()> {
    value(
        (),
        many0(alt((
            value((), multispace1),
            value((), pair(char('#'), take_while(|c| c != '\n'))),
        ))),
    )
    .parse(i)
}

fn ident(i: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || "_.-+".contains(c)).parse(i)
}

fn string(i: &str) -> Res<'_, String> {
    let (rest, _) = char('"').parse(i)?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((pos, c)) = chars.next() {
        match c {
            '"' => return Ok((&rest[pos + 1..], out)),
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Char,
    )))
}

fn number(i: &str) -> Res<'_, Value> {
    let (rest, text) =
        recognize((opt(char('-')), digit1, opt(pair(char('.'), digit1)))).parse(i)?;
    let v = if text.contains('.') {
        text.parse().map(Value::Float).ok()
    } else {
        text.parse().map(Value::Int).ok()
    };
    match v {
        Some(v) => Ok((rest, v)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Digit,
        ))),
    }
}

fn scalar(i: &str) -> Res<'_, Value> {
    alt((map(string, Value::Str), number)).parse(i)
}

fn list(i: &str) -> Res<'_, Value> {
    map(
        delimited(
            terminated(char('['), ws),
            separated_list0(delimited(ws, char(','), ws), scalar),
            preceded(ws, char(']')),
        ),
        Value::List,
    )
    .parse(i)
}

fn items(depth: usize) -> impl FnMut(&str) -> Res<'_, Vec<(String, Value)>> {
    move |i| many0(delimited(ws, item(depth), ws)).parse(i)
}

fn item(depth: usize) -> impl FnMut(&str) -> Res<'_, (String, Value)> {
    move |i| {
        let (i, key) = terminated(ident, ws).parse(i)?;
        if let Ok((i, _)) = terminated(char::<&str, nom::error::Error<&str>>('='), ws).parse(i) {
            let (i, v) = cut(alt((list, scalar))).parse(i)?;
            return Ok((i, (key.to_string(), v)));
        }
        if depth >= MAX_LVM_DEPTH {
            return Err(nom::Err::Failure(nom::error::Error::new(
                i,
                nom::error::ErrorKind::TooLarge,
            )));
        }
        let (i, _) = char('{').parse(i)?;
        let (i, body) = cut(terminated(items(depth + 1), char('}'))).parse(i)?;
        Ok((i, (key.to_string(), Value::Section(body))))
    }
}

/// Parses a whole metadata text into its top-level section.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let text = text.trim_end_matches('\0');
    let mut top = map_res(terminated(items(0), ws), |v| Ok::<_, ()>(Value::Section(v)));
    match top.parse(text) {
        Ok(("", v)) => Ok(v),
        Ok((rest, _)) => Err(SyntaxError {
            position: text.len() - rest.len(),
            reason: format!(
                "unexpected text {:?}",
                rest.chars().take(24).collect::<String>()
            ),
        }),
        Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(SyntaxError {
            position: text.len() - e.input.len(),
            reason: if e.code == nom::error::ErrorKind::TooLarge {
                format!("sections nested deeper than {MAX_LVM_DEPTH}")
            } else {
                format!("syntax error ({:?})", e.code)
            },
        }),
        Err(nom::Err::Incomplete(_)) => Err(SyntaxError {
            position: text.len(),
            reason: "truncated".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"vg0 {
id = "abc"
seqno = 3
status = ["RESIZEABLE", "READ", "WRITE"]
extent_size = 8192 # 4 MiB
physical_volumes {
pv0 {
id = "x-y"
device = "/dev/loop0"	# Hint only
pe_start = 2048
pe_count = 15
}
}
logical_volumes {
root {
segment_count = 1
segment1 {
start_extent = 0
extent_count = 10
type = "striped"
stripe_count = 1	# linear
stripes = [
"pv0", 0
]
}
}
}
}
# Generated by LVM2
contents = "Text Format Volume Group"
version = 1
description = "a \"quoted\" word"
creation_time = 1700000000
"#;

    #[test]
    fn parses_sample() {
        let v = parse(SAMPLE).unwrap();
        let vg = v.get("vg0").unwrap();
        assert_eq!(vg.int("extent_size"), Some(8192));
        let pv = vg.get("physical_volumes").unwrap().get("pv0").unwrap();
        assert_eq!(pv.int("pe_start"), Some(2048));
        let seg = vg
            .get("logical_volumes")
            .unwrap()
            .get("root")
            .unwrap()
            .get("segment1")
            .unwrap();
        assert_eq!(
            seg.get("stripes"),
            Some(&Value::List(vec![Value::Str("pv0".into()), Value::Int(0)]))
        );
        assert_eq!(v.str("description"), Some("a \"quoted\" word"));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("vg { a = }").unwrap_err();
        assert!(e.position > 0);
        let deep = "a {".repeat(100) + &"}".repeat(100);
        assert!(parse(&deep).unwrap_err().reason.contains("deeper"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }
        #[test]
        fn never_panics_on_shaped(s in "[a-z{}=\\[\\]\",0-9 \n#-]{0,300}") {
            let _ = parse(&s);
        }
    }
}
