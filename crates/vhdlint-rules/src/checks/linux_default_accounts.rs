use vhdlint_guest::config::passwd::{parse_passwd, parse_shadow, HashState};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/default-accounts",
    title: "No shared credentials",
    what: "Looks for credentials that would be the same on every VM: any /etc/shadow entry with a usable password hash, and any non-empty ~/.ssh/authorized_keys of an account with a login shell (cloud-init's \"Please login as the user\" root key excepted).",
    why: "Accounts with known passwords or keys give whoever built the image access to every customer VM. Azure creates the user's account and key at provisioning.",
    remedy: "Delete build-time users (userdel -r NAME) or lock their passwords (passwd -l NAME), and remove their authorized_keys before capturing (waagent -deprovision+user does it).",
    sources: &["Azure Marketplace VM image guide: remove default accounts and credentials", "Marketplace certification FAQ: no default passwords or keys"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut ev = Vec::new();
    let mut what = Vec::new();
    // authorized_keys files a bound kept from being read: keys there would not be seen.
    let mut notes = Vec::new();
    match g.view.read_config("/etc/shadow") {
        Ok(t) => {
            for e in parse_shadow(&t)
                .entries
                .iter()
                .filter(|e| e.hash_state() == HashState::Hash)
            {
                what.push(format!("{} has a password", e.name));
                ev.push(Evidence::path(
                    "/etc/shadow",
                    Some(e.line),
                    format!("{}: password hash", e.name),
                ));
            }
        }
        Err(e) => return Outcome::error(format!("/etc/shadow: {e}")),
    }
    let passwd = match g.view.read_config("/etc/passwd") {
        Ok(t) => parse_passwd(&t),
        Err(e) => return Outcome::error(format!("/etc/passwd: {e}")),
    };
    for acct in passwd.entries.iter().filter(|a| a.has_login_shell()) {
        let home = if acct.home.is_empty() {
            "/".to_string()
        } else {
            acct.home.trim_end_matches('/').to_string()
        };
        for file in ["authorized_keys", "authorized_keys2"] {
            let p = format!("{home}/.ssh/{file}");
            let Some(t) = g.view.read_noted(&p, &mut notes) else {
                continue;
            };
            let keys: Vec<(usize, &str)> = t
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim()))
                .filter(|(_, l)| {
                    !l.is_empty() && !l.starts_with('#') && !l.contains("Please login as the user")
                })
                .collect();
            if !keys.is_empty() {
                what.push(format!(
                    "{} has {} authorized key(s)",
                    acct.name,
                    keys.len()
                ));
                for (line, l) in keys.iter().take(5) {
                    let short: String = l.chars().take(60).collect();
                    ev.push(Evidence::path(p.clone(), Some(*line), format!("{short}…")));
                }
            }
        }
    }
    let required = "no password hashes, no authorized keys";
    if what.is_empty() {
        return Outcome::pass("none", required).noted(notes);
    }
    let out = Outcome::fail(what.join("; "), required)
        .message(format!(
            "credentials shared by every VM: {}",
            what.join("; ")
        ))
        .evidences(ev);
    out.noted(notes)
}
