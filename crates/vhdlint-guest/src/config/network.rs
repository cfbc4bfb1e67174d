//! Network configuration in its various formats: ifupdown's `/etc/network/interfaces`,
//! netplan YAML, systemd-networkd `.network` files, RHEL/SUSE `ifcfg-*` files (read with
//! [`super::keyvalue`]) and udev persistent-net rules.
//!
//! Each parser reads one file; following `source` stanzas, merging netplan files
//! (`/lib/netplan`, `/etc/netplan`, `/run/netplan`, later names override) and choosing the
//! `.network` file that applies (lexical order across `/etc`, `/run`, `/lib`) is the caller's.

use super::keyvalue::{Entry, KeyValues};
use super::numbered_lines;
use super::yaml::{self, Yaml};

// ---------------------------------------------------------------------------------------------
// ifupdown

/// An option line inside an `iface` stanza (`address 10.0.0.4/24`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceOption {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// An `iface NAME FAMILY METHOD` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    /// `inet`, `inet6`, ...
    pub family: String,
    /// `dhcp`, `static`, `manual`, `loopback`, `auto`, ...
    pub method: String,
    pub options: Vec<IfaceOption>,
    pub line: usize,
    pub text: String,
}

/// A `source` or `source-directory` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `source-directory` (every file of the directory whose name is only letters, digits,
    /// `_` and `-`) rather than `source` (a glob of files).
    pub directory: bool,
    /// As written; relative paths are relative to the file's directory (`/etc/network`).
    pub pattern: String,
    pub line: usize,
}

/// A parsed `/etc/network/interfaces` (or a file it sources).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interfaces {
    pub ifaces: Vec<Iface>,
    /// Interfaces brought up at boot (`auto`, `allow-auto`): `(name, line)`.
    pub auto: Vec<(String, usize)>,
    /// `allow-hotplug` interfaces (up when the kernel reports them): `(name, line)`.
    pub hotplug: Vec<(String, usize)>,
    pub sources: Vec<Source>,
}

impl Interfaces {
    /// The `iface` stanza for `name` and `family` (`inet`/`inet6`).
    pub fn iface(&self, name: &str, family: &str) -> Option<&Iface> {
        self.ifaces
            .iter()
            .find(|i| i.name == name && i.family == family)
    }

    /// Whether `name` comes up without manual action (`auto`, `allow-auto` or
    /// `allow-hotplug`).
    pub fn starts(&self, name: &str) -> bool {
        self.auto
            .iter()
            .chain(&self.hotplug)
            .any(|(n, _)| n == name)
    }

    /// `iface` stanzas with a static method (`static`) in either family.
    pub fn static_ifaces(&self) -> impl Iterator<Item = &Iface> {
        self.ifaces.iter().filter(|i| i.method == "static")
    }
}

/// Parses an ifupdown `interfaces` file. `#` starts a comment only at the start of a line (as
/// in ifupdown); a `\` at the end of a line continues it.
pub fn parse_interfaces(text: &str) -> Interfaces {
    let mut out = Interfaces::default();
    let mut in_iface = false;
    let mut pending: Option<(usize, String)> = None;
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (n, line) in numbered_lines(text) {
        if pending.is_none() && line.trim_start().starts_with('#') {
            continue;
        }
        let (start, mut joined) = match pending.take() {
            Some((l, mut t)) => {
                t.push(' ');
                t.push_str(line);
                (l, t)
            }
            None => (n, line.to_string()),
        };
        if joined.ends_with('\\') {
            joined.pop();
            pending = Some((start, joined));
            continue;
        }
        logical.push((start, joined));
    }
    logical.extend(pending);
    for (n, line) in logical {
        let w: Vec<&str> = line.split_whitespace().collect();
        let Some(&first) = w.first() else { continue };
        match first {
            "iface" => {
                in_iface = true;
                out.ifaces.push(Iface {
                    name: w.get(1).unwrap_or(&"").to_string(),
                    family: w.get(2).unwrap_or(&"").to_string(),
                    method: w.get(3).unwrap_or(&"").to_string(),
                    options: Vec::new(),
                    line: n,
                    text: line.clone(),
                });
            }
            "auto" | "allow-auto" => {
                in_iface = false;
                out.auto.extend(w[1..].iter().map(|s| (s.to_string(), n)));
            }
            "allow-hotplug" => {
                in_iface = false;
                out.hotplug
                    .extend(w[1..].iter().map(|s| (s.to_string(), n)));
            }
            "source" | "source-directory" => {
                in_iface = false;
                for p in &w[1..] {
                    out.sources.push(Source {
                        directory: first == "source-directory",
                        pattern: p.to_string(),
                        line: n,
                    });
                }
            }
            "mapping" | "rename" | "no-auto-down" | "no-scripts" => in_iface = false,
            _ if first.starts_with("allow-") => in_iface = false,
            key if in_iface => {
                if let Some(i) = out.ifaces.last_mut() {
                    i.options.push(IfaceOption {
                        key: key.to_string(),
                        value: w[1..].join(" "),
                        line: n,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// netplan

/// A value with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// One interface definition in a netplan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetplanIface {
    /// `ethernets`, `bonds`, `bridges`, `vlans`, `wifis`, ...
    pub kind: String,
    /// The netplan id (the key: `eth0`, or any name when `match:` is used).
    pub name: String,
    pub line: usize,
    /// `dhcp4:` read as a YAML boolean (Err with the raw text when it is not one).
    pub dhcp4: Option<Located<Result<bool, String>>>,
    pub dhcp6: Option<Located<Result<bool, String>>>,
    pub addresses: Vec<Located<String>>,
    pub match_name: Option<Located<String>>,
    pub match_macaddress: Option<Located<String>>,
    pub match_driver: Option<Located<String>>,
    pub set_name: Option<Located<String>>,
    pub macaddress: Option<Located<String>>,
    /// A bridge's or bond's member ids (`interfaces:`).
    pub members: Vec<Located<String>>,
    /// A VLAN's parent id (`link:`).
    pub link: Option<Located<String>>,
}

impl NetplanIface {
    /// The kernel interface name this definition applies to, as far as the file tells: the
    /// `set-name`, else the `match: name:` (may be a glob), else the id.
    pub fn interface_name(&self) -> &str {
        self.set_name
            .as_ref()
            .or(self.match_name.as_ref())
            .map_or(self.name.as_str(), |l| l.value.as_str())
    }

    pub fn dhcp4_enabled(&self) -> bool {
        matches!(
            self.dhcp4,
            Some(Located {
                value: Ok(true),
                ..
            })
        )
    }
}

/// A parsed netplan file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Netplan {
    pub version: Option<Located<String>>,
    pub renderer: Option<Located<String>>,
    pub interfaces: Vec<NetplanIface>,
    /// True when the file has no `network:` mapping.
    pub no_network_key: bool,
    /// Bounds the YAML reader reached (see [`yaml::read`]), without a path.
    pub notes: Vec<crate::note::Note>,
    /// Where the file stops being valid YAML: netplan refuses it, and with it the whole
    /// configuration (`netplan generate` writes nothing).
    pub invalid: Option<yaml::SyntaxError>,
}

fn located_str(node: Option<(&Yaml, usize)>) -> Option<Located<String>> {
    let (v, line) = node?;
    let value = match v {
        Yaml::Scalar(s) => s.clone(),
        // `driver: [hv_netvsc, mlx5_core]`: joined.
        Yaml::Seq(items) => items
            .iter()
            .filter_map(|(_, i)| i.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => return None,
    };
    Some(Located { value, line })
}

fn located_bool(node: Option<(&Yaml, usize)>) -> Option<Located<Result<bool, String>>> {
    let (v, line) = node?;
    let value = v
        .as_bool()
        .ok_or_else(|| v.as_str().unwrap_or_default().to_string());
    Some(Located { value, line })
}

/// Parses a netplan YAML file.
pub fn parse_netplan(text: &str) -> Netplan {
    let doc = yaml::read(text);
    let mut out = Netplan {
        notes: doc.bounds,
        invalid: doc.error,
        ..Netplan::default()
    };
    let doc = doc.root;
    let Some((net, _)) = doc.get("network") else {
        out.no_network_key = true;
        return out;
    };
    out.version = located_str(net.get("version"));
    out.renderer = located_str(net.get("renderer"));
    for (kind, _, defs) in net.entries() {
        if !matches!(
            kind.as_str(),
            "ethernets"
                | "bonds"
                | "bridges"
                | "vlans"
                | "wifis"
                | "tunnels"
                | "vrfs"
                | "modems"
                | "dummy-devices"
                | "virtual-ethernets"
        ) {
            continue;
        }
        for (name, line, d) in defs.entries() {
            out.interfaces.push(NetplanIface {
                kind: kind.clone(),
                name: name.clone(),
                line: *line,
                dhcp4: located_bool(d.get("dhcp4")),
                dhcp6: located_bool(d.get("dhcp6")),
                addresses: match d.get("addresses") {
                    Some((Yaml::Seq(items), _)) => items
                        .iter()
                        .filter_map(|(il, v)| {
                            // `- 10.0.0.4/24` or `- 10.0.0.4/24: {lifetime: 0}`.
                            let s = v
                                .as_str()
                                .map(str::to_string)
                                .or_else(|| v.entries().first().map(|(k, _, _)| k.clone()))?;
                            Some(Located {
                                value: s,
                                line: *il,
                            })
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                match_name: located_str(d.path(&["match", "name"])),
                match_macaddress: located_str(d.path(&["match", "macaddress"])),
                match_driver: located_str(d.path(&["match", "driver"])),
                set_name: located_str(d.get("set-name")),
                macaddress: located_str(d.get("macaddress")),
                members: match d.get("interfaces") {
                    Some((Yaml::Seq(items), _)) => items
                        .iter()
                        .filter_map(|(il, v)| {
                            Some(Located {
                                value: v.as_str()?.to_string(),
                                line: *il,
                            })
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                link: located_str(d.get("link")),
            });
        }
    }
    out
}

/// A value of a merged netplan definition, with the file and line it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromFile<T> {
    pub path: String,
    pub line: usize,
    pub value: T,
}

/// One netplan definition as netplan reads it from all its files together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetplanDef {
    /// `ethernets`, `bridges`, `bonds`, `vlans`, ...
    pub kind: String,
    /// The netplan id.
    pub name: String,
    /// Where it is first defined.
    pub path: String,
    pub line: usize,
    pub dhcp4: Option<FromFile<Result<bool, String>>>,
    pub addresses: Vec<FromFile<String>>,
    pub match_name: Option<FromFile<String>>,
    pub match_macaddress: Option<FromFile<String>>,
    pub set_name: Option<FromFile<String>>,
    pub members: Vec<FromFile<String>>,
    pub link: Option<FromFile<String>>,
}

impl NetplanDef {
    /// The kernel interface name: `set-name`, else `match: name:` (may be a glob), else the id.
    pub fn interface_name(&self) -> &str {
        self.set_name
            .as_ref()
            .or(self.match_name.as_ref())
            .map_or(self.name.as_str(), |l| l.value.as_str())
    }

    pub fn dhcp4_enabled(&self) -> bool {
        matches!(
            self.dhcp4,
            Some(FromFile {
                value: Ok(true),
                ..
            })
        )
    }
}

/// Merges netplan files the way netplan does: `files` in the order netplan reads them (by
/// file name, a file in /run/netplan shadowing one of the same name in /etc/netplan, which
/// shadows /lib/netplan). A definition of the same kind and id in a later file is merged into
/// the earlier one: a scalar (`dhcp4`, `set-name`, each key of `match`) is replaced, a
/// sequence (`addresses`, a bridge's or bond's `interfaces`) is appended to, each value once.
pub fn merge_netplan<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a Netplan)>,
) -> Vec<NetplanDef> {
    fn put<T: Clone>(slot: &mut Option<FromFile<T>>, path: &str, v: &Option<Located<T>>) {
        if let Some(l) = v {
            *slot = Some(FromFile {
                path: path.to_string(),
                line: l.line,
                value: l.value.clone(),
            });
        }
    }
    fn extend(list: &mut Vec<FromFile<String>>, path: &str, v: &[Located<String>]) {
        list.extend(v.iter().map(|l| FromFile {
            path: path.to_string(),
            line: l.line,
            value: l.value.clone(),
        }));
    }
    let mut out: Vec<NetplanDef> = Vec::new();
    for (path, plan) in files {
        for i in &plan.interfaces {
            let at = match out
                .iter()
                .position(|d| d.kind == i.kind && d.name == i.name)
            {
                Some(at) => at,
                None => {
                    out.push(NetplanDef {
                        kind: i.kind.clone(),
                        name: i.name.clone(),
                        path: path.to_string(),
                        line: i.line,
                        dhcp4: None,
                        addresses: Vec::new(),
                        match_name: None,
                        match_macaddress: None,
                        set_name: None,
                        members: Vec::new(),
                        link: None,
                    });
                    out.len() - 1
                }
            };
            let d = &mut out[at];
            put(&mut d.dhcp4, path, &i.dhcp4);
            put(&mut d.match_name, path, &i.match_name);
            put(&mut d.match_macaddress, path, &i.match_macaddress);
            put(&mut d.set_name, path, &i.set_name);
            put(&mut d.link, path, &i.link);
            // An address given again (in the same list or a later file) is kept once, as
            // netplan keeps it. Membership is a property of the member (netplan marks it part
            // of the bridge or bond): an id named again is the same member.
            for (list, new) in [
                (&mut d.addresses, &i.addresses),
                (&mut d.members, &i.members),
            ] {
                for m in new {
                    if !list.iter().any(|x| x.value == m.value) {
                        extend(list, path, std::slice::from_ref(m));
                    }
                }
            }
        }
    }
    out
}

/// The order netplan reads its files in: `paths` (under /lib/netplan, /etc/netplan and
/// /run/netplan) by file name, a file of /run shadowing the same name in /etc, which shadows
/// /lib.
pub fn netplan_file_order(paths: &[String]) -> Vec<String> {
    let rank = |p: &str| {
        if p.starts_with("/run/") {
            2
        } else if p.starts_with("/etc/") {
            1
        } else {
            0
        }
    };
    let mut by_name: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for p in paths {
        let name = p.rsplit('/').next().unwrap_or(p);
        match by_name.get(name) {
            Some(old) if rank(old) >= rank(p) => {}
            _ => {
                by_name.insert(name, p);
            }
        }
    }
    by_name.into_values().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// systemd-networkd

/// One `Key=Value` of an INI section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// One `[Section]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSection {
    pub name: String,
    pub line: usize,
    pub entries: Vec<IniEntry>,
}

/// A systemd unit-style INI file (`.network`, `.link`, `.netdev`, also usable for units).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IniFile {
    pub sections: Vec<IniSection>,
}

/// What `DHCP=` enables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhcpMode {
    No,
    Ipv4,
    Ipv6,
    /// `yes`/`true`/`on`/`1`/`both`.
    Both,
    /// A value networkd does not accept.
    Invalid(String),
}

impl DhcpMode {
    pub fn parse(v: &str) -> DhcpMode {
        match v.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" | "y" | "t" | "both" => DhcpMode::Both,
            "no" | "false" | "off" | "0" | "n" | "f" | "none" => DhcpMode::No,
            "ipv4" | "v4" => DhcpMode::Ipv4,
            "ipv6" | "v6" => DhcpMode::Ipv6,
            _ => DhcpMode::Invalid(v.to_string()),
        }
    }

    pub fn ipv4(&self) -> bool {
        matches!(self, DhcpMode::Ipv4 | DhcpMode::Both)
    }
}

impl IniFile {
    /// Every value of `key` in every `[section]` of that name, in order.
    pub fn values(&self, section: &str, key: &str) -> Vec<&IniEntry> {
        self.sections
            .iter()
            .filter(|s| s.name == section)
            .flat_map(|s| s.entries.iter().filter(|e| e.key == key))
            .collect()
    }

    /// The last value of `key` in `[section]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        self.values(section, key).pop()
    }

    /// The `[Match] Name=` patterns in effect (lists accumulate, an empty assignment resets),
    /// and whether the list is negated (a leading `!`).
    pub fn match_names(&self) -> (Vec<String>, bool) {
        let mut names: Vec<String> = Vec::new();
        let mut negated = false;
        for e in self.values("Match", "Name") {
            let v = e.value.trim();
            if v.is_empty() {
                names.clear();
                negated = false;
                continue;
            }
            let v = match v.strip_prefix('!') {
                Some(r) => {
                    negated = true;
                    r
                }
                None => v,
            };
            names.extend(v.split_whitespace().map(str::to_string));
        }
        (names, negated)
    }

    /// Whether the `[Match] Name=` condition accepts interface `ifname` (true when there is no
    /// Name condition; other match keys are not evaluated).
    pub fn matches_name(&self, ifname: &str) -> bool {
        let (names, negated) = self.match_names();
        if names.is_empty() {
            return true;
        }
        let hit = names.iter().any(|p| super::glob_match(p, ifname));
        hit != negated
    }

    /// `[Network] DHCP=` (the last), parsed.
    pub fn dhcp(&self) -> Option<(DhcpMode, &IniEntry)> {
        let e = self.get("Network", "DHCP")?;
        Some((DhcpMode::parse(&e.value), e))
    }

    /// Static addresses: `[Network] Address=` and `[Address] Address=`.
    pub fn addresses(&self) -> Vec<&IniEntry> {
        let mut v = self.values("Network", "Address");
        v.extend(self.values("Address", "Address"));
        v
    }
}

/// Parses a systemd INI file: `[Section]`, `Key=Value` (spaces around `=` trimmed), `#`/`;`
/// comment lines, `\` continuation.
pub fn parse_ini(text: &str) -> IniFile {
    let mut f = IniFile::default();
    let mut pending: Option<(usize, String)> = None;
    let mut logical = Vec::new();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if pending.is_none() && (t.starts_with('#') || t.starts_with(';')) {
            continue;
        }
        let (start, mut joined) = match pending.take() {
            Some((l, mut s)) => {
                if t.starts_with('#') || t.starts_with(';') {
                    // Comment lines inside a continuation are skipped by systemd.
                    pending = Some((l, s));
                    continue;
                }
                s.push(' ');
                s.push_str(t);
                (l, s)
            }
            None => (n, t.to_string()),
        };
        if joined.ends_with('\\') {
            joined.pop();
            pending = Some((start, joined));
            continue;
        }
        logical.push((start, joined));
    }
    logical.extend(pending);
    for (n, t) in logical {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            f.sections.push(IniSection {
                name: t[1..t.len() - 1].trim().to_string(),
                line: n,
                entries: Vec::new(),
            });
            continue;
        }
        let (Some((k, v)), Some(sec)) = (t.split_once('='), f.sections.last_mut()) else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(v);
        sec.entries.push(IniEntry {
            key: k.trim().to_string(),
            value: v.to_string(),
            line: n,
        });
    }
    f
}

// ---------------------------------------------------------------------------------------------
// ifcfg

/// The keys of an `ifcfg-*` file that matter, read from its [`KeyValues`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ifcfg {
    pub device: Option<Entry>,
    pub bootproto: Option<Entry>,
    pub onboot: Option<Entry>,
    pub hwaddr: Option<Entry>,
    pub macaddr: Option<Entry>,
    pub ipaddr: Option<Entry>,
    pub ipv6init: Option<Entry>,
    pub ipv6addr: Option<Entry>,
    pub ipv6_autoconf: Option<Entry>,
    pub nm_controlled: Option<Entry>,
}

fn yes(e: &Option<Entry>) -> Option<bool> {
    let v = e.as_ref()?.value.trim().to_ascii_lowercase();
    Some(matches!(
        v.as_str(),
        "yes" | "y" | "true" | "t" | "1" | "on"
    ))
}

impl Ifcfg {
    pub fn from_keyvalues(kv: &KeyValues) -> Ifcfg {
        let g = |k: &str| kv.get(k).cloned();
        Ifcfg {
            device: g("DEVICE"),
            bootproto: g("BOOTPROTO"),
            onboot: g("ONBOOT"),
            hwaddr: g("HWADDR"),
            macaddr: g("MACADDR"),
            ipaddr: g("IPADDR").or_else(|| g("IPADDR0")),
            ipv6init: g("IPV6INIT"),
            ipv6addr: g("IPV6ADDR"),
            ipv6_autoconf: g("IPV6_AUTOCONF"),
            nm_controlled: g("NM_CONTROLLED"),
        }
    }

    /// `BOOTPROTO=dhcp` (or `bootp`), any case.
    pub fn is_dhcp(&self) -> bool {
        self.bootproto.as_ref().is_some_and(|e| {
            matches!(
                e.value.trim().to_ascii_lowercase().as_str(),
                "dhcp" | "bootp"
            )
        })
    }

    /// Whether the interface is brought up at boot: `ONBOOT` absent counts as yes, as in
    /// initscripts and NetworkManager's ifcfg-rh.
    pub fn onboot(&self) -> bool {
        yes(&self.onboot).unwrap_or(true)
    }

    /// `IPV6INIT=yes`.
    pub fn ipv6init(&self) -> bool {
        yes(&self.ipv6init).unwrap_or(false)
    }

    /// Static IPv6: `IPV6INIT=yes` with an `IPV6ADDR` or `IPV6_AUTOCONF=no`.
    pub fn ipv6_static(&self) -> bool {
        self.ipv6init() && (self.ipv6addr.is_some() || yes(&self.ipv6_autoconf) == Some(false))
    }
}

/// Parses an `ifcfg-*` file (shell syntax).
pub fn parse_ifcfg(text: &str) -> Ifcfg {
    Ifcfg::from_keyvalues(&super::keyvalue::parse(text))
}

// ---------------------------------------------------------------------------------------------
// udev persistent-net rules

/// Whether a udev rules file name is one of the persistent-net ones the Azure guides remove.
pub fn is_persistent_net_rules_file(file_name: &str) -> bool {
    matches!(
        file_name,
        "70-persistent-net.rules" | "75-persistent-net-generator.rules"
    )
}

/// A rule that names a network interface after its MAC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistentNetRule {
    /// `NAME=` value.
    pub name: Option<String>,
    /// `ATTR{address}==` value.
    pub address: Option<String>,
    pub line: usize,
    pub text: String,
}

/// The active rules of a udev rules file that give a `net` device a fixed `NAME` (the
/// content of `70-persistent-net.rules`).
pub fn persistent_net_rules(text: &str) -> Vec<PersistentNetRule> {
    let mut out = Vec::new();
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let name = udev_value(t, "NAME", &["=", ":="]);
        let net = udev_value(t, "SUBSYSTEM", &["=="]).is_some_and(|v| v == "net");
        if !net || name.is_none() {
            continue;
        }
        out.push(PersistentNetRule {
            name,
            address: udev_value(t, "ATTR{address}", &["=="]),
            line: n,
            text: line.to_string(),
        });
    }
    out
}

/// The quoted value of `KEY<op>"value"` in a udev rule line.
fn udev_value(line: &str, key: &str, ops: &[&str]) -> Option<String> {
    for part in line.split(',') {
        let p = part.trim();
        let Some(rest) = p.strip_prefix(key) else {
            continue;
        };
        for op in ops {
            if let Some(v) = rest.trim_start().strip_prefix(op) {
                // `=` must not be the start of `==`.
                if *op == "=" && v.starts_with('=') {
                    continue;
                }
                let v = v.trim();
                return Some(v.trim_matches('"').to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_IFUPDOWN: &str = "# This file describes the network interfaces available on your system\n# and how to activate them. For more information, see interfaces(5).\n\nsource /etc/network/interfaces.d/*\n\n# The loopback network interface\nauto lo\niface lo inet loopback\n\n# The primary network interface\nallow-hotplug eth0\niface eth0 inet dhcp\n\tpre-up sleep 2\niface eth0 inet6 static\n    address fd00::4/64 \\\n       # not a comment here\n    gateway fd00::1\nauto eth1 eth2\nsource-directory interfaces.d\nmapping eth3\n  script /usr/local/sbin/map\n";

    #[test]
    fn ifupdown() {
        let i = parse_interfaces(DEBIAN_IFUPDOWN);
        assert_eq!(i.sources.len(), 2);
        assert_eq!(i.sources[0].pattern, "/etc/network/interfaces.d/*");
        assert!(!i.sources[0].directory);
        assert!(i.sources[1].directory);
        let e = i.iface("eth0", "inet").unwrap();
        assert_eq!((e.method.as_str(), e.line), ("dhcp", 12));
        assert_eq!(e.options[0].key, "pre-up");
        assert!(i.starts("eth0"));
        assert!(i.starts("eth2"));
        assert!(!i.starts("eth3"));
        let v6 = i.iface("eth0", "inet6").unwrap();
        assert_eq!(v6.method, "static");
        assert_eq!(v6.options.len(), 2);
        assert_eq!(v6.options[0].line, 15);
        assert_eq!(v6.options[1].value, "fd00::1");
        assert_eq!(i.static_ifaces().count(), 1);
        // The mapping's `script` is not an iface option.
        assert!(i
            .ifaces
            .iter()
            .all(|f| f.options.iter().all(|o| o.key != "script")));
    }

    const CLOUD_INIT_NETPLAN: &str = "# This file is generated from information provided by the datasource.  Changes\n# to it will not persist across an instance reboot.  To disable cloud-init's\n# network configuration capabilities, write a file\n# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:\n# network: {config: disabled}\nnetwork:\n    ethernets:\n        eth0:\n            dhcp4: true\n            dhcp4-overrides:\n                route-metric: 100\n            dhcp6: false\n            match:\n                driver: hv_netvsc\n                macaddress: 00:0d:3a:12:34:56\n            set-name: eth0\n    version: 2\n";

    #[test]
    fn netplan_cloud_init() {
        let n = parse_netplan(CLOUD_INIT_NETPLAN);
        assert_eq!(n.version.as_ref().unwrap().value, "2");
        assert_eq!(n.interfaces.len(), 1);
        let e = &n.interfaces[0];
        assert_eq!(
            (e.kind.as_str(), e.name.as_str(), e.line),
            ("ethernets", "eth0", 8)
        );
        assert!(e.dhcp4_enabled());
        assert_eq!(e.dhcp4.as_ref().unwrap().line, 9);
        assert_eq!(e.dhcp6.as_ref().unwrap().value, Ok(false));
        assert_eq!(e.match_driver.as_ref().unwrap().value, "hv_netvsc");
        assert_eq!(e.match_macaddress.as_ref().unwrap().line, 15);
        assert_eq!(e.set_name.as_ref().unwrap().value, "eth0");
        assert_eq!(e.interface_name(), "eth0");
    }

    #[test]
    fn netplan_static_and_odd() {
        let n = parse_netplan("network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    id0:\n      match: {name: \"en*\"}\n      dhcp4: maybe\n      addresses:\n        - 10.0.0.4/24\n        - \"fd00::4/64\":\n            lifetime: 0\n      routes: [{to: default, via: 10.0.0.1}]\n  bonds:\n    bond0: {dhcp4: yes, interfaces: [id0]}\n");
        assert_eq!(n.renderer.as_ref().unwrap().value, "networkd");
        let e = &n.interfaces[0];
        assert_eq!(e.interface_name(), "en*");
        assert_eq!(e.dhcp4.as_ref().unwrap().value, Err("maybe".to_string()));
        assert!(!e.dhcp4_enabled());
        let a: Vec<_> = e
            .addresses
            .iter()
            .map(|a| (a.value.as_str(), a.line))
            .collect();
        assert_eq!(a, vec![("10.0.0.4/24", 9), ("fd00::4/64", 10)]);
        assert!(n.interfaces[1].dhcp4_enabled());
        assert_eq!(n.interfaces[1].line, 14);
        assert!(parse_netplan("# empty\n").no_network_key);
    }

    #[test]
    fn netplan_files_are_ordered_and_merged_as_netplan_does() {
        let order = netplan_file_order(&[
            "/lib/netplan/90-z.yaml".into(),
            "/etc/netplan/50-cloud-init.yaml".into(),
            "/lib/netplan/50-cloud-init.yaml".into(),
            "/run/netplan/10-a.yaml".into(),
            "/etc/netplan/10-a.yaml".into(),
        ]);
        assert_eq!(
            order,
            vec![
                "/run/netplan/10-a.yaml",
                "/etc/netplan/50-cloud-init.yaml",
                "/lib/netplan/90-z.yaml"
            ]
        );
        let a = parse_netplan("network:\n  ethernets:\n    eth0:\n      dhcp4: true\n      addresses: [10.0.0.4/24]\n      match: {macaddress: \"00:0d:3a:00:00:01\"}\n  bridges:\n    br0: {interfaces: [eth0]}\n  vlans:\n    v: {id: 1, link: eth0}\n");
        let b = parse_netplan("network:\n  ethernets:\n    eth0:\n      dhcp4: no\n      addresses: [10.0.0.5/24, 10.0.0.4/24]\n      set-name: lan0\n  bridges:\n    br0: {interfaces: [eth0, eth1], dhcp4: yes}\n");
        let d = merge_netplan([("/a.yaml", &a), ("/b.yaml", &b)]);
        assert_eq!(d.len(), 3);
        let eth0 = &d[0];
        assert!(!eth0.dhcp4_enabled());
        assert_eq!(eth0.dhcp4.as_ref().unwrap().path, "/b.yaml");
        let addrs: Vec<_> = eth0
            .addresses
            .iter()
            .map(|a| (a.path.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            addrs,
            vec![("/a.yaml", "10.0.0.4/24"), ("/b.yaml", "10.0.0.5/24")]
        );
        assert_eq!(eth0.match_macaddress.as_ref().unwrap().line, 6);
        assert_eq!(eth0.interface_name(), "lan0");
        let br0 = &d[1];
        assert!(br0.dhcp4_enabled());
        let members: Vec<_> = br0.members.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(members, vec!["eth0", "eth1"]);
        assert_eq!(d[2].link.as_ref().unwrap().value, "eth0");
        assert_eq!((d[2].path.as_str(), d[2].line), ("/a.yaml", 10));
    }

    #[test]
    fn networkd() {
        let f = parse_ini("# /etc/systemd/network/10-eth0.network\n[Match]\nName=eth0 en*\r\n\n[Network]\nDHCP=ipv4\nAddress = 10.0.0.4/24\nDNS=168.63.129.16\n\n[Address]\nAddress=fd00::4/64\n[DHCPv4]\nUseDomains=true\n");
        assert!(f.matches_name("eth0"));
        assert!(f.matches_name("enp1s0"));
        assert!(!f.matches_name("wlan0"));
        let (mode, e) = f.dhcp().unwrap();
        assert_eq!(mode, DhcpMode::Ipv4);
        assert!(mode.ipv4());
        assert_eq!(e.line, 6);
        let a: Vec<_> = f.addresses().iter().map(|e| e.value.as_str()).collect();
        assert_eq!(a, vec!["10.0.0.4/24", "fd00::4/64"]);
        assert_eq!(f.sections[0].line, 2);

        let f = parse_ini("[Match]\nName=!lo docker*\n[Network]\nDHCP=yes\n");
        assert!(f.matches_name("eth0"));
        assert!(!f.matches_name("docker0"));
        assert_eq!(f.dhcp().unwrap().0, DhcpMode::Both);
        let f = parse_ini(
            "[Match]\nName=eth0\nName=\nName=eth1 \\\n  eth2\n[Network]\nDHCP=sometimes\n",
        );
        assert_eq!(f.match_names().0, vec!["eth1", "eth2"]);
        assert_eq!(f.dhcp().unwrap().0, DhcpMode::Invalid("sometimes".into()));
        assert!(parse_ini("[Network]\nDHCP=no\n").matches_name("anything"));
    }

    #[test]
    fn ifcfg() {
        let c = parse_ifcfg("DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=\"dhcp\"\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\nNM_CONTROLLED=no\nHWADDR=00:0D:3A:12:34:56\n");
        assert!(c.is_dhcp());
        assert!(c.onboot());
        assert!(!c.ipv6init());
        assert_eq!(c.hwaddr.as_ref().unwrap().line, 9);
        let c = parse_ifcfg(
            "BOOTPROTO=none\nIPADDR=10.0.0.4\nONBOOT=no\nIPV6INIT=yes\nIPV6ADDR=fd00::4/64\n",
        );
        assert!(!c.is_dhcp());
        assert!(!c.onboot());
        assert!(c.ipv6_static());
        assert!(parse_ifcfg("").onboot());
    }

    #[test]
    fn persistent_net() {
        let r = persistent_net_rules("# This file was automatically generated by the /lib/udev/write_net_rules\n# program, run by the persistent-net-generator.rules rules file.\n\n# PCI device 0x1af4:0x1000 (virtio-pci)\nSUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", ATTR{address}==\"00:0d:3a:12:34:56\", ATTR{dev_id}==\"0x0\", ATTR{type}==\"1\", KERNEL==\"eth*\", NAME=\"eth0\"\n#SUBSYSTEM==\"net\", NAME=\"eth9\"\nSUBSYSTEM==\"block\", NAME=\"x\"\n");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 5);
        assert_eq!(r[0].name.as_deref(), Some("eth0"));
        assert_eq!(r[0].address.as_deref(), Some("00:0d:3a:12:34:56"));
        assert!(is_persistent_net_rules_file("70-persistent-net.rules"));
        assert!(!is_persistent_net_rules_file("80-net-setup-link.rules"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,500}") {
            let i = parse_interfaces(&text);
            let _ = i.starts("eth0");
            let n = parse_netplan(&text);
            for e in &n.interfaces {
                let _ = e.interface_name();
            }
            for d in merge_netplan([("/a", &n), ("/b", &n)]) {
                let _ = (d.interface_name(), d.dhcp4_enabled());
            }
            let f = parse_ini(&text);
            let _ = f.matches_name("eth0");
            let _ = f.dhcp();
            let c = parse_ifcfg(&text);
            let _ = (c.is_dhcp(), c.onboot(), c.ipv6_static());
            let _ = persistent_net_rules(&text);
        }

        #[test]
        fn shaped_never_panics(lines in proptest::collection::vec("[ \\t]{0,8}(iface|auto|source|network:|ethernets:|eth0:|dhcp4:|\\[Match\\]|Name=|DHCP=|- )?[a-z0-9 *!\\[\\]{}:=\"\\\\,]{0,20}", 0..30)) {
            let text = lines.join("\n");
            let _ = parse_interfaces(&text);
            let _ = parse_netplan(&text);
            let f = parse_ini(&text);
            let _ = f.matches_name("eth0");
        }
    }
}
