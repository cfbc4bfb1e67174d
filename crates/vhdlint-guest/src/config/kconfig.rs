//! A kernel's build configuration (`/boot/config-VERSION`, the `.config` that Kconfig writes).
//!
//! As Kconfig's `conf_read_simple` reads it: `CONFIG_NAME=VALUE` sets a symbol (`y`, `m`, `n`,
//! a number, or a double-quoted string with `\"` and `\\` escapes); `# CONFIG_NAME is not set`
//! says it is off; any other line is ignored (comments, blank lines). A symbol set twice takes
//! the later value (Kconfig warns and reassigns). The prefix is `CONFIG_` as Kconfig writes it
//! by default. Lines are numbered for evidence.

use std::collections::BTreeMap;

use super::numbered_lines;

/// A symbol's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `=y`: built in.
    Yes,
    /// `=m`: a module.
    Module,
    /// `=n` or `# CONFIG_X is not set`.
    No,
    /// Any other value, a string unquoted.
    Other(String),
}

/// Where and how a symbol is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: Value,
    /// 1-based line number of the setting in effect.
    pub line: usize,
    /// That line's text.
    pub text: String,
}

/// The symbols of one file, by name without the `CONFIG_` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KernelConfig {
    pub symbols: BTreeMap<String, Setting>,
}

impl KernelConfig {
    /// Symbol `name` (with or without its `CONFIG_` prefix), if the file sets it.
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.symbols
            .get(name.strip_prefix("CONFIG_").unwrap_or(name))
    }

    /// Whether symbol `name` is `y` or `m`.
    pub fn enabled(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(|s| &s.value),
            Some(Value::Yes | Value::Module)
        )
    }
}

fn is_symbol(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn unquote(v: &str) -> String {
    let inner = &v[1..];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Reads a kernel configuration file.
pub fn parse(text: &str) -> KernelConfig {
    let mut cfg = KernelConfig::default();
    for (line, l) in numbered_lines(text) {
        let (name, value) = if let Some(rest) = l.strip_prefix("# CONFIG_") {
            // Kconfig compares the first 10 characters after the name's space.
            match rest.split_once(' ') {
                Some((name, after)) if after.starts_with("is not set") => (name, Value::No),
                _ => continue,
            }
        } else if let Some(rest) = l.strip_prefix("CONFIG_") {
            let Some((name, v)) = rest.split_once('=') else {
                continue;
            };
            let v = v.trim_end_matches([' ', '\t']);
            let value = match v {
                "y" => Value::Yes,
                "m" => Value::Module,
                "n" => Value::No,
                v if v.starts_with('"') => Value::Other(unquote(v)),
                v => Value::Other(v.to_string()),
            };
            (name, value)
        } else {
            continue;
        };
        if !is_symbol(name) {
            continue;
        }
        cfg.symbols.insert(
            name.to_string(),
            Setting {
                value,
                line,
                text: l.to_string(),
            },
        );
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_unset_symbols() {
        let c = parse("#\n# Automatically generated file; DO NOT EDIT.\nCONFIG_WATCHDOG=y\nCONFIG_CIFS=m\n# CONFIG_UDF_FS is not set\nCONFIG_LOCALVERSION=\"-cloud \\\"x\\\"\"\nCONFIG_NR_CPUS=8192\nCONFIG_EXT4_FS=n\n");
        assert_eq!(c.get("WATCHDOG").unwrap().value, Value::Yes);
        assert_eq!(c.get("CONFIG_WATCHDOG").unwrap().line, 3);
        assert_eq!(c.get("CIFS").unwrap().value, Value::Module);
        assert!(c.enabled("CONFIG_CIFS"));
        assert_eq!(c.get("UDF_FS").unwrap().value, Value::No);
        assert_eq!(c.get("UDF_FS").unwrap().text, "# CONFIG_UDF_FS is not set");
        assert!(!c.enabled("UDF_FS"));
        assert_eq!(
            c.get("LOCALVERSION").unwrap().value,
            Value::Other("-cloud \"x\"".into())
        );
        assert_eq!(c.get("NR_CPUS").unwrap().value, Value::Other("8192".into()));
        assert!(!c.enabled("EXT4_FS"));
        assert!(c.get("MISSING").is_none());
    }

    #[test]
    fn the_later_setting_wins() {
        let c = parse("CONFIG_CIFS=m\r\n# CONFIG_CIFS is not set\n");
        assert_eq!(c.get("CIFS").unwrap().value, Value::No);
        assert_eq!(c.get("CIFS").unwrap().line, 2);
        let c = parse("# CONFIG_CIFS is not set\nCONFIG_CIFS=y\n");
        assert!(c.enabled("CIFS"));
    }

    #[test]
    fn other_lines_are_ignored() {
        let c = parse("CONFIG_=y\n CONFIG_A=y\nCONFIG_B\n# CONFIG_C is set\nCONFIG_D E=y\n#CONFIG_F is not set\n");
        assert!(c.symbols.is_empty(), "{c:?}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "(CONFIG_|# |=|\"|\\\\|[a-zA-Z_ \n]){0,60}") {
            let _ = parse(&s);
        }
    }
}
