//! `/etc/passwd` and `/etc/shadow`: colon-separated fields, one account a line. NIS
//! compatibility lines (`+`, `-`, `+user`) and comment lines are skipped.

use super::numbered_lines;

/// One `/etc/passwd` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    /// None when the field is not a number.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub gecos: String,
    pub home: String,
    /// As written; empty means `/bin/sh` to login(1).
    pub shell: String,
    pub line: usize,
}

impl PasswdEntry {
    /// The shell login uses: the field, or `/bin/sh` when it is empty.
    pub fn effective_shell(&self) -> &str {
        if self.shell.is_empty() {
            "/bin/sh"
        } else {
            &self.shell
        }
    }

    /// Whether the account has a shell one can log in with (not `nologin`, `false`, `true`,
    /// `sync`, `shutdown`, `halt`).
    pub fn has_login_shell(&self) -> bool {
        let base = self
            .effective_shell()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        !matches!(
            base,
            "nologin" | "false" | "true" | "sync" | "shutdown" | "halt" | ""
        )
    }
}

/// A parsed `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passwd {
    pub entries: Vec<PasswdEntry>,
    /// Lines with fewer than 7 fields: `(line, text)` (the fields present are still parsed).
    pub malformed: Vec<(usize, String)>,
}

impl Passwd {
    pub fn get(&self, name: &str) -> Option<&PasswdEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// What the password field of a shadow entry allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashState {
    /// Starts with `!` (`!`, `!!`, `!*`, `!$6$...`): locked by `passwd -l`/`usermod -L` or
    /// never set (`!!` on RHEL).
    Locked,
    /// Empty: login without a password (where PAM allows `nullok`).
    Empty,
    /// Starts with `*`: no password can match.
    NoPassword,
    /// Not a crypt(3) result any password could produce (e.g. `x`): no password can match.
    Invalid,
    /// A usable password hash.
    Hash,
}

/// One `/etc/shadow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: String,
    pub hash: String,
    pub line: usize,
}

impl ShadowEntry {
    pub fn hash_state(&self) -> HashState {
        hash_state(&self.hash)
    }
}

/// Classifies a shadow password field.
pub fn hash_state(h: &str) -> HashState {
    if h.is_empty() {
        HashState::Empty
    } else if h.starts_with('!') {
        HashState::Locked
    } else if h.starts_with('*') {
        HashState::NoPassword
    } else if h.starts_with('$')
        || (h.len() == 13
            && h.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/'))
        || (h.starts_with('_') && h.len() == 20)
    {
        // `$id$...` (MD5, SHA-2, yescrypt, bcrypt), traditional DES, BSDi extended DES.
        HashState::Hash
    } else {
        HashState::Invalid
    }
}

/// A parsed `/etc/shadow`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shadow {
    pub entries: Vec<ShadowEntry>,
}

impl Shadow {
    pub fn get(&self, name: &str) -> Option<&ShadowEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

fn skip(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#') || t.starts_with('+') || t.starts_with('-')
}

/// Parses `/etc/passwd`.
pub fn parse_passwd(text: &str) -> Passwd {
    let mut p = Passwd::default();
    for (n, line) in numbered_lines(text) {
        if skip(line) {
            continue;
        }
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 {
            p.malformed.push((n, line.to_string()));
        }
        let field = |i: usize| f.get(i).copied().unwrap_or("").to_string();
        p.entries.push(PasswdEntry {
            name: field(0),
            uid: f.get(2).and_then(|s| s.trim().parse().ok()),
            gid: f.get(3).and_then(|s| s.trim().parse().ok()),
            gecos: field(4),
            home: field(5),
            shell: field(6).trim().to_string(),
            line: n,
        });
    }
    p
}

/// Parses `/etc/shadow`.
pub fn parse_shadow(text: &str) -> Shadow {
    let mut s = Shadow::default();
    for (n, line) in numbered_lines(text) {
        if skip(line) {
            continue;
        }
        let mut f = line.split(':');
        let name = f.next().unwrap_or("").to_string();
        let hash = f.next().unwrap_or("").to_string();
        s.entries.push(ShadowEntry {
            name,
            hash,
            line: n,
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nsystemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\nsshd:x:103:65534::/run/sshd:/usr/sbin/nologin\nazureuser:x:1000:1000:Azure User,,,:/home/azureuser:/bin/bash\r\nold:x:1001:1001::/home/old:\n+::::::\nbroken:x:2\n";

    #[test]
    fn passwd() {
        let p = parse_passwd(PASSWD);
        assert_eq!(p.entries.len(), 9);
        let u = p.get("azureuser").unwrap();
        assert_eq!((u.uid, u.gid, u.line), (Some(1000), Some(1000), 7));
        assert_eq!(u.home, "/home/azureuser");
        assert_eq!(u.shell, "/bin/bash");
        assert!(u.has_login_shell());
        assert!(!p.get("daemon").unwrap().has_login_shell());
        assert!(!p.get("sync").unwrap().has_login_shell());
        let old = p.get("old").unwrap();
        assert_eq!(old.effective_shell(), "/bin/sh");
        assert!(old.has_login_shell());
        assert_eq!(p.malformed, vec![(10, "broken:x:2".to_string())]);
        assert_eq!(p.get("broken").unwrap().uid, Some(2));
        assert_eq!(p.get("broken").unwrap().shell, "");
    }

    #[test]
    fn shadow() {
        let s = parse_shadow("root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nazureuser:$6$rounds=5000$abc$def:19701:0:99999:7:::\nlocked:!$y$j9T$abc$def:19701::::::\nrhel:!!:19701::::::\nstar:!*:19701::::::\nnopw::19701:0:99999:7:::\nx:x:1::::::\ndes:abJnggxhB/yWI:1::::::\n#comment:$6$x\n");
        let st = |n: &str| s.get(n).unwrap().hash_state();
        assert_eq!(st("root"), HashState::NoPassword);
        assert_eq!(st("azureuser"), HashState::Hash);
        assert_eq!(st("locked"), HashState::Locked);
        assert_eq!(st("rhel"), HashState::Locked);
        assert_eq!(st("star"), HashState::Locked);
        assert_eq!(st("nopw"), HashState::Empty);
        assert_eq!(st("x"), HashState::Invalid);
        assert_eq!(st("des"), HashState::Hash);
        assert_eq!(s.get("azureuser").unwrap().line, 3);
        assert_eq!(s.entries.len(), 9);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            for e in parse_passwd(&text).entries {
                let _ = e.has_login_shell();
            }
            for e in parse_shadow(&text).entries {
                let _ = e.hash_state();
            }
        }
    }
}
