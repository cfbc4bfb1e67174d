//! Parsers of the guest's configuration files. Each is a pure function over the file's text
//! (the guest view reads the files, with a size cap) that keeps the line number of everything
//! it reports, so checks can cite `path:line` as evidence.
//!
//! Line numbers are 1-based. Line texts are given without their line ending (`\n` or `\r\n`).
//! No parser panics, whatever the input (each has a property test over arbitrary strings).

pub mod cmdline;
pub mod fstab;
pub mod grub;
pub mod kconfig;
pub mod keyvalue;
pub mod modprobe;
pub mod network;
pub mod passwd;
pub mod sshd;
pub mod sudoers;
pub mod yaml;

/// The lines of `text` with their 1-based numbers, without `\n`/`\r\n` endings.
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    // The empty piece after a final newline is not a line.
    let pieces = text.split('\n').count() - usize::from(text.ends_with('\n'));
    text.split('\n')
        .take(pieces)
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// Whether a glob pattern (`*`, `?`, `[...]`/`[!...]`, `\\` escapes) matches `name` as a whole,
/// like `fnmatch(3)` without flags. Linear backtracking (to the last `*` only), so hostile
/// patterns from an image cannot make it slow.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // After a mismatch, resume just after the last `*`, with it swallowing one more char.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class_match(&p[pi..], n[ni]) {
                Some((true, used)) => Some(used),
                Some((false, _)) => None,
                // An unterminated `[` is a literal.
                None => (n[ni] == '[').then_some(1),
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == n[ni]).then_some(2),
            Some(&c) => (c == n[ni]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(k), _) => {
                pi += k;
                ni += 1;
            }
            (None, Some((sp, sn))) => {
                pi = sp;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == '*')
}

/// Matches `c` against the bracket expression at the start of `p`; returns whether it matched
/// and how many pattern characters the expression used, or None if it is unterminated.
fn class_match(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_without_endings() {
        let v: Vec<_> = numbered_lines("a\r\nb\n\nc").collect();
        assert_eq!(v, vec![(1, "a"), (2, "b"), (3, ""), (4, "c")]);
        let v: Vec<_> = numbered_lines("a\n").collect();
        assert_eq!(v, vec![(1, "a")]);
        assert_eq!(numbered_lines("").count(), 1);
    }

    /// Image contents are hostile: no parser may take quadratic time on them.
    #[test]
    fn hostile_inputs_stay_fast() {
        let start = std::time::Instant::now();
        let open_quotes = "A=\"x\n".repeat(20_000);
        let _ = keyvalue::parse(&open_quotes);
        let subst = format!("A=\"{}\"\n", "$(".repeat(50_000));
        let _ = keyvalue::parse(&subst);
        let flow = format!("a: [\n{}", "b,\n".repeat(50_000));
        let _ = yaml::parse(&flow);
        let nested = format!("{}x", "- ".repeat(5_000));
        let _ = yaml::parse(&nested);
        let braces = "${".repeat(50_000);
        let _ = grub::expand_kernelopts(&braces, Some("x"));
        let _ = grub::parse(&"menuentry 'x' {\n".repeat(20_000));
        let _ = network::parse_ini(&format!("[Match]\nName={}\n", "*a".repeat(2_000)))
            .matches_name(&"a".repeat(2_000));
        let _ = sudoers::parse(&"Defaults a\\\n".repeat(20_000));
        let _ = network::parse_interfaces(&"iface a inet static \\\n".repeat(20_000));
        let mut inc = |_: &str| -> Vec<(String, String)> { Vec::new() };
        let _ = sshd::evaluate(
            &"Include a b c\n".repeat(20_000),
            "/etc/ssh/sshd_config",
            &mut inc,
        );
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    proptest::proptest! {
        #[test]
        fn glob_never_panics(p in "[a*?\\[\\]!\\\\-]{0,12}", n in "[a\\[\\]!*-]{0,12}") {
            let _ = glob_match(&p, &n);
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("e*", "eth0"));
        assert!(glob_match("eth?", "eth0"));
        assert!(!glob_match("eth?", "eth10"));
        assert!(glob_match("en[op]*", "enp0s3"));
        assert!(!glob_match("en[!op]*", "enp0s3"));
        assert!(glob_match("*.conf", "50-cloud-init.conf"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a[", "a["));
        assert!(glob_match("a\\*b", "a*b"));
        assert!(!glob_match("a\\*b", "axb"));
        assert!(glob_match("*a*b*c", "xxaxxbxxc"));
        assert!(!glob_match("*a*b*c", "xxaxxbxx"));
        assert!(glob_match("**", "abc"));
        assert!(!glob_match("", "a"));
        assert!(glob_match("", ""));
        let long = "a".repeat(5000);
        assert!(!glob_match(
            &"*a".repeat(200).to_string().replace("a*a", "a*b"),
            &long
        ));
    }
}
