//! The Linux kernel command line, read the way the kernel reads it.
//!
//! Splitting follows the kernel's own argument reader: parameters are separated by
//! whitespace (the kernel's `isspace`: space, tab, `\n`, `\v`, `\f`, `\r` and the Latin-1
//! no-break space 0xA0, byte by byte) outside double quotes; a parameter is `name` or
//! `name=value`, split at its first `=`; the value may hold more `=` and commas. A double
//! quote toggles quoting wherever it appears; one that opens the parameter, or opens its
//! value, is dropped together with a quote that ends the parameter (`"a b"`, `name="a b"`),
//! others are kept. A bare `--` ends the kernel's parameters: what follows is for init.
//! Names compare with `-` and `_` as the same character, as the kernel's `parameq` does.
//!
//! Repeated parameters are read as the code that consumes them does: a module parameter or
//! `rootdelay=` keeps its last value; every `console=` registers a console (the first
//! [`MAX_CMDLINE_CONSOLES`] distinct ones; the last one named is `/dev/console`); x86's
//! `earlyprintk=` keeps its first value (later ones are ignored once the early console is
//! set up); `reserve=` accumulates.
//!
//! Only the first [`MAX_KERNEL_CMDLINE_BYTES`] bytes are read: x86's `COMMAND_LINE_SIZE`,
//! what the boot protocol passes to the kernel (it keeps no more).

use crate::limits::{MAX_CMDLINE_CONSOLES, MAX_KERNEL_CMDLINE_BYTES};

/// One parameter as the kernel splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// The text after the first `=`, quotes removed as the kernel removes them; None without `=`.
    pub value: Option<String>,
}

impl Param {
    /// `name` or `name=value`, as the kernel hands it on.
    pub fn text(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A parsed kernel command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cmdline {
    /// The kernel's parameters, in order.
    pub params: Vec<Param>,
    /// Words after a bare `--`: arguments of init, not read by the kernel.
    pub init_args: Vec<String>,
    /// Bytes past [`MAX_KERNEL_CMDLINE_BYTES`] that were not read (0 when it all fit).
    pub cut_bytes: usize,
}

/// Whether two parameter names are the same for the kernel (`-` and `_` are equal).
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c == b'-' { b'_' } else { c };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0xa0)
}

/// Parses a kernel command line.
pub fn parse(text: &str) -> Cmdline {
    let all = text.as_bytes();
    let cut_bytes = all.len().saturating_sub(MAX_KERNEL_CMDLINE_BYTES);
    let bytes = &all[..all.len() - cut_bytes];
    let mut out = Cmdline {
        cut_bytes,
        ..Cmdline::default()
    };
    let mut i = 0;
    let mut kernel = true;
    while i < bytes.len() {
        if is_space(bytes[i]) {
            i += 1;
            continue;
        }
        let (param, next) = next_param(bytes, i);
        i = next;
        if kernel && param.value.is_none() && param.name == "--" {
            kernel = false;
        } else if kernel {
            out.params.push(param);
        } else {
            out.init_args.push(param.text());
        }
    }
    out
}

/// The parameter starting at `start` (not a space) and where the next search begins.
fn next_param(b: &[u8], start: usize) -> (Param, usize) {
    let mut s = start;
    let quoted = b[s] == b'"';
    if quoted {
        s += 1;
    }
    let mut in_quote = quoted;
    let mut equals = None;
    let mut e = s;
    while e < b.len() {
        let c = b[e];
        if is_space(c) && !in_quote {
            break;
        }
        // An `=` as the very first byte does not split (the kernel counts position 0 as "none").
        if equals.is_none() && c == b'=' && e > s {
            equals = Some(e);
        }
        if c == b'"' {
            in_quote = !in_quote;
        }
        e += 1;
    }
    // A closing quote is dropped when the parameter or its value opened with one.
    let ends_quote = e > s && b[e - 1] == b'"';
    let text =
        |from: usize, to: usize| String::from_utf8_lossy(&b[from..to.max(from)]).into_owned();
    let param = match equals {
        None => {
            let end = if quoted && ends_quote { e - 1 } else { e };
            Param {
                name: text(s, end),
                value: None,
            }
        }
        Some(eq) => {
            let mut v = eq + 1;
            let mut end = e;
            if v < e && b[v] == b'"' {
                v += 1;
                if ends_quote && end > v {
                    end -= 1;
                }
            } else if quoted && ends_quote && end > v {
                end -= 1;
            }
            Param {
                name: text(s, eq),
                value: Some(text(v, end)),
            }
        }
    };
    (param, e + 1)
}

/// Reads an unsigned number as the kernel's `simple_strtoul(s, _, 0)`: `0x` hexadecimal, a
/// leading `0` octal, else decimal; the longest valid prefix counts, what follows is ignored.
/// None when no digit is read or the number does not fit in 64 bits.
pub fn kernel_number(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = if (b.starts_with(b"0x") || b.starts_with(b"0X"))
        && b.get(2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, &b[2..])
    } else if b.first() == Some(&b'0') {
        (8, b)
    } else {
        (10, b)
    };
    let mut n: u64 = 0;
    let mut any = false;
    for &c in digits {
        let Some(d) = (c as char).to_digit(radix) else {
            break;
        };
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
        any = true;
    }
    any.then_some(n)
}

/// A console the kernel registers from `console=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Console {
    /// The driver name without its index (`ttyS`, `tty`, `ttyAMA`, `hvc`).
    pub driver: String,
    pub index: u64,
    /// What follows the first comma (`115200n8`).
    pub options: Option<String>,
    /// The parameter as written.
    pub text: String,
}

impl Console {
    /// `ttyS0`, `tty1`: the device the console writes to.
    pub fn device(&self) -> String {
        format!("{}{}", self.driver, self.index)
    }
}

/// Reads a `console=` value as the kernel's `console_setup`: a value starting with a digit
/// is `ttyS<value>`; the name ends at the first digit or comma, the index is the decimal
/// number there (none reads as 0), options follow the first comma.
pub fn console(value: &str, text: &str) -> Console {
    let (name, options) = match value.split_once(',') {
        Some((n, o)) => (n, Some(o.to_string())),
        None => (value, None),
    };
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("ttyS{name}")
    } else {
        name.to_string()
    };
    let split = name
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(name.len());
    let digits: String = name[split..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Console {
        driver: name[..split].to_string(),
        index: if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap_or(u64::MAX)
        },
        options,
        text: text.to_string(),
    }
}

/// Where x86's early console writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyTarget {
    /// A legacy serial port at this I/O base: 0x3f8 is ttyS0 (COM1), 0x2f8 ttyS1.
    Serial { base: u64 },
    /// Something else the kernel knows (`vga`, `efi`, `dbgp`, `xen`, `mmio…`), or nothing it
    /// recognises: the value as written.
    Other(String),
}

/// The I/O base of ttyS0.
pub const TTYS0_BASE: u64 = 0x3f8;

/// Reads an `earlyprintk=` value as x86's `setup_early_printk`: the first `serial` or `ttyS`
/// in it selects the serial port (`serial` alone, `serial,ttyS0`, `ttyS0,115200`: ttyS0;
/// `ttyS1`: ttyS1; a port number above 1 falls back to ttyS0; `serial,0x3f8`: that I/O base).
pub fn early_target(value: &str) -> EarlyTarget {
    for at in 0..value.len() {
        // Every byte offset, as the kernel scans; never inside a multi-byte character.
        if !value.is_char_boundary(at) {
            continue;
        }
        let rest = &value[at..];
        let port = match rest.strip_prefix("serial") {
            Some(r) => Some(r.strip_prefix(',').unwrap_or(r)),
            None => rest.strip_prefix("ttyS"),
        };
        if let Some(p) = port {
            return EarlyTarget::Serial {
                base: serial_base(p),
            };
        }
    }
    EarlyTarget::Other(value.to_string())
}

/// The I/O base `early_serial_init` picks from what follows `serial,` (or `ttyS`).
fn serial_base(p: &str) -> u64 {
    if p.is_empty() {
        return TTYS0_BASE;
    }
    if let Some(hex) = p.strip_prefix("0x") {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        return u64::from_str_radix(&digits, 16).unwrap_or(0);
    }
    let p = p.strip_prefix("ttyS").unwrap_or(p);
    let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<u64>() {
        Ok(1) => 0x2f8,
        _ => TTYS0_BASE,
    }
}

impl Cmdline {
    /// Every parameter named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Param> + 'a {
        self.params.iter().filter(move |p| same_name(&p.name, name))
    }

    fn all_owned<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Param> + 'a {
        let name = name.to_string();
        self.params
            .iter()
            .filter(move |p| same_name(&p.name, &name))
    }

    /// The last `name=value` (a single-valued parameter: the last one wins).
    pub fn last(&self, name: &str) -> Option<&Param> {
        self.all_owned(name).filter(|p| p.value.is_some()).last()
    }

    /// The consoles the kernel registers from `console=`, in order (a console named twice is
    /// registered once), and those it drops past [`MAX_CMDLINE_CONSOLES`].
    pub fn consoles(&self) -> (Vec<Console>, Vec<Console>) {
        let mut kept: Vec<Console> = Vec::new();
        let mut dropped = Vec::new();
        for p in self.all("console") {
            let Some(v) = &p.value else { continue };
            let c = console(v, &p.text());
            if kept.iter().any(|k| k.device() == c.device()) {
                continue;
            }
            if kept.len() < MAX_CMDLINE_CONSOLES {
                kept.push(c);
            } else {
                dropped.push(c);
            }
        }
        (kept, dropped)
    }

    /// The `earlyprintk=` the kernel uses (x86: the first one) and where it writes.
    pub fn earlyprintk(&self) -> Option<(&Param, EarlyTarget)> {
        let p = self.all("earlyprintk").find(|p| p.value.is_some())?;
        let t = early_target(p.value.as_deref().unwrap_or_default());
        Some((p, t))
    }

    /// The last `rootdelay=` and the seconds the kernel reads from it (None: not a number).
    pub fn rootdelay(&self) -> Option<(&Param, Option<u64>)> {
        let p = self.last("rootdelay")?;
        Some((p, kernel_number(p.value.as_deref().unwrap_or_default())))
    }

    /// The last value of an integer parameter (a module parameter such as
    /// `libata.atapi_enabled`), read like the kernel (`0x`, octal, trailing text ignored).
    pub fn last_number(&self, name: &str) -> Option<(&Param, Option<u64>)> {
        let p = self.last(name)?;
        Some((p, kernel_number(p.value.as_deref().unwrap_or_default())))
    }

    /// The `reserve=` parameters whose I/O ranges (start,size pairs) cover `port`.
    pub fn reserving(&self, port: u64) -> Vec<&Param> {
        self.all("reserve")
            .filter(|p| {
                let nums: Vec<Option<u64>> = p
                    .value
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .map(kernel_number)
                    .collect();
                nums.chunks(2).any(|pair| match pair {
                    [Some(start), Some(size)] => {
                        *start <= port && port < start.saturating_add(*size)
                    }
                    _ => false,
                })
            })
            .collect()
    }

    /// The parameters as the kernel hands them on (`name` or `name=value`).
    pub fn texts(&self) -> Vec<String> {
        self.params.iter().map(Param::text).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_values(c: &Cmdline) -> Vec<(String, Option<String>)> {
        c.params
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    }

    fn p(n: &str, v: Option<&str>) -> (String, Option<String>) {
        (n.to_string(), v.map(str::to_string))
    }

    #[test]
    fn splits_on_whitespace_and_the_first_equals() {
        let c = parse(" root=UUID=ab-cd ro\tconsole=ttyS0,115200n8\n reserve=0x1f0,0x8  quiet ");
        assert_eq!(
            names_values(&c),
            vec![
                p("root", Some("UUID=ab-cd")),
                p("ro", None),
                p("console", Some("ttyS0,115200n8")),
                p("reserve", Some("0x1f0,0x8")),
                p("quiet", None),
            ]
        );
        assert_eq!(c.cut_bytes, 0);
        assert!(c.init_args.is_empty());
    }

    #[test]
    fn quotes_keep_spaces_and_are_dropped_where_the_kernel_drops_them() {
        let c = parse(r#"a="x y" "b=c d" "e f" g=h"i j"k l="m"n o="#);
        assert_eq!(
            names_values(&c),
            vec![
                p("a", Some("x y")),
                p("b", Some("c d")),
                p("e f", None),
                // A quote inside the value is kept and still protects the space.
                p("g", Some("h\"i j\"k")),
                // The opening quote of the value goes; the closing one is not last: kept.
                p("l", Some("m\"n")),
                p("o", Some("")),
            ]
        );
        // A quote never closed runs to the end.
        let c = parse("x=\"never closed y=1");
        assert_eq!(names_values(&c), vec![p("x", Some("never closed y=1"))]);
        // A leading `=` does not split.
        assert_eq!(names_values(&parse("=5")), vec![p("=5", None)]);
        // The no-break space of Latin-1 separates, as the kernel's ctype says.
        let c = parse("a=1\u{a0}b");
        assert!(c.params.len() >= 2, "{:?}", c.params);
    }

    #[test]
    fn a_double_dash_hands_the_rest_to_init() {
        let c = parse("console=ttyS0 -- console=tty1 single");
        assert_eq!(c.texts(), vec!["console=ttyS0"]);
        assert_eq!(c.init_args, vec!["console=tty1", "single"]);
        // `--x` and `--=1` are ordinary parameters.
        assert_eq!(parse("--x --=1").params.len(), 2);
    }

    #[test]
    fn only_the_kernels_command_line_size_is_read() {
        let long = format!("{} console=ttyS0", "a".repeat(MAX_KERNEL_CMDLINE_BYTES));
        let c = parse(&long);
        assert_eq!(c.cut_bytes, " console=ttyS0".len());
        assert!(c.consoles().0.is_empty());
        let exact = "b".repeat(MAX_KERNEL_CMDLINE_BYTES);
        assert_eq!(parse(&exact).cut_bytes, 0);
    }

    #[test]
    fn names_compare_with_dash_and_underscore_alike() {
        assert!(same_name("libata.atapi-enabled", "libata.atapi_enabled"));
        assert!(!same_name("libata.atapi_enable", "libata.atapi_enabled"));
        let c = parse("libata.atapi_enabled=1 libata.atapi-enabled=0");
        let (p, n) = c.last_number("libata.atapi_enabled").unwrap();
        assert_eq!((p.text().as_str(), n), ("libata.atapi-enabled=0", Some(0)));
    }

    #[test]
    fn numbers_read_like_simple_strtoul() {
        assert_eq!(kernel_number("300"), Some(300));
        assert_eq!(kernel_number("0x12c"), Some(300));
        assert_eq!(kernel_number("0X12C"), Some(300));
        assert_eq!(kernel_number("0454"), Some(300));
        assert_eq!(kernel_number("300s"), Some(300));
        assert_eq!(kernel_number("0"), Some(0));
        assert_eq!(kernel_number("0x"), Some(0));
        assert_eq!(kernel_number("09"), Some(0));
        assert_eq!(kernel_number(""), None);
        assert_eq!(kernel_number("five"), None);
        assert_eq!(kernel_number("-300"), None);
        assert_eq!(kernel_number("99999999999999999999999"), None);
    }

    #[test]
    fn the_last_rootdelay_wins() {
        let c = parse("rootdelay=300 rootdelay=30");
        let (p, n) = c.rootdelay().unwrap();
        assert_eq!((p.text().as_str(), n), ("rootdelay=30", Some(30)));
        let c = parse("rootdelay=30 rootdelay rootdelay=0x12c");
        assert_eq!(c.rootdelay().unwrap().1, Some(300));
        assert_eq!(parse("rootdelay=x").rootdelay().unwrap().1, None);
        assert!(parse("rootdelay").rootdelay().is_none());
    }

    #[test]
    fn every_console_counts_up_to_the_kernels_limit() {
        let c = parse("console=tty1 console=ttyS0,115200n8 console=tty1 console=0 console=ttyS01");
        let (kept, dropped) = c.consoles();
        let devs: Vec<String> = kept.iter().map(Console::device).collect();
        assert_eq!(devs, vec!["tty1", "ttyS0", "ttyS1"]);
        assert_eq!(kept[1].options.as_deref(), Some("115200n8"));
        assert!(dropped.is_empty());
        let many: Vec<String> = (1..=MAX_CMDLINE_CONSOLES + 1)
            .map(|i| format!("console=tty{i}"))
            .collect();
        let c = parse(&format!("{} console=ttyS0", many.join(" ")));
        let (kept, dropped) = c.consoles();
        assert_eq!(kept.len(), MAX_CMDLINE_CONSOLES);
        assert_eq!(dropped.len(), 2);
        assert_eq!(dropped[1].device(), "ttyS0");
        assert_eq!(console("ttyAMA0", "").device(), "ttyAMA0");
        assert_eq!(console("hvc", "").device(), "hvc0");
    }

    #[test]
    fn earlyprintk_reads_like_x86() {
        for v in [
            "ttyS0",
            "ttyS0,115200",
            "serial",
            "serial,ttyS0",
            "serial,ttyS0,115200",
            "serial,0,115200",
            "serial,0x3f8,115200",
            "ttyS2",
            "keep,ttyS0",
        ] {
            assert_eq!(
                early_target(v),
                EarlyTarget::Serial { base: TTYS0_BASE },
                "{v}"
            );
        }
        assert_eq!(early_target("ttyS1"), EarlyTarget::Serial { base: 0x2f8 });
        assert_eq!(
            early_target("serial,ttyS1,9600"),
            EarlyTarget::Serial { base: 0x2f8 }
        );
        assert_eq!(early_target("vga"), EarlyTarget::Other("vga".into()));
        assert_eq!(early_target("é"), EarlyTarget::Other("é".into()));
        // The first earlyprintk= is the one used.
        let c = parse("earlyprintk=vga earlyprintk=ttyS0");
        assert_eq!(c.earlyprintk().unwrap().1, EarlyTarget::Other("vga".into()));
        let c = parse("earlyprintk earlyprintk=ttyS0,115200 earlyprintk=ttyS1");
        assert_eq!(
            c.earlyprintk().unwrap().1,
            EarlyTarget::Serial { base: TTYS0_BASE }
        );
    }

    #[test]
    fn reserve_ranges_accumulate() {
        let c = parse("reserve=0x100,0x10 reserve=0x1f0,0x8 reserve=496,8,0x170,8 reserve=0x1f8,8");
        let hits: Vec<String> = c.reserving(0x1f0).iter().map(|p| p.text()).collect();
        assert_eq!(hits, vec!["reserve=0x1f0,0x8", "reserve=496,8,0x170,8"]);
        assert!(parse("reserve=0x1f0").reserving(0x1f0).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips_simple_words(text in "\\PC{0,300}") {
            let c = parse(&text);
            let _ = (c.consoles(), c.earlyprintk(), c.rootdelay(), c.reserving(0x1f0));
            for p in &c.params {
                let _ = early_target(p.value.as_deref().unwrap_or_default());
                let _ = kernel_number(&p.name);
            }
        }

        #[test]
        fn unquoted_words_are_the_parameters(words in proptest::collection::vec("[a-z][a-z0-9_.,=-]{0,12}", 0..20)) {
            let c = parse(&words.join(" "));
            let got = c.texts();
            // `--` alone would end the list; the generator never makes it (a word starts with a letter).
            proptest::prop_assert_eq!(got, words.clone());
            for (p, w) in c.params.iter().zip(&words) {
                match w.split_once('=') {
                    Some((n, v)) => {
                        proptest::prop_assert_eq!(&p.name, n);
                        proptest::prop_assert_eq!(p.value.as_deref(), Some(v));
                    }
                    None => proptest::prop_assert!(p.value.is_none()),
                }
            }
        }

        #[test]
        fn quoted_values_keep_their_spaces(name in "[a-z]{1,8}", value in "[a-z0-9 ,=]{0,16}") {
            let c = parse(&format!("x {name}=\"{value}\" y"));
            proptest::prop_assert_eq!(c.params.len(), 3);
            proptest::prop_assert_eq!(c.params[1].value.as_deref(), Some(value.as_str()));
        }
    }
}
