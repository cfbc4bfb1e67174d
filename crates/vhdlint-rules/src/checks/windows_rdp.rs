use vhdlint_guest::windows::reg_value;

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/rdp",
    title: "Remote Desktop enabled",
    what: "Reads fDenyTSConnections under the current control set (Select\\Current in the SYSTEM hive) \\Control\\Terminal Server: 1 fails, 0 passes; absent warns (Windows Server's default denies connections).",
    why: "Remote Desktop is how customers reach a Windows VM on Azure, and how the Certification Tool tests it.",
    remedy: "Enable Remote Desktop before capturing: Set-ItemProperty 'HKLM:\\System\\CurrentControlSet\\Control\\Terminal Server' fDenyTSConnections 0 (and allow it in the firewall).",
    sources: &["Azure Marketplace VM image guide: enable Remote Desktop", "Azure docs, prepare a Windows VHD: fDenyTSConnections 0"],
    profiles: &[Profile::WindowsOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let key = format!("{cs}\\Control\\Terminal Server");
    let required = "fDenyTSConnections = 0";
    let select = Evidence::path("SYSTEM\\Select", None, format!("Current → {cs}"));
    match reg_value(hive, &key, "fDenyTSConnections") {
        Err(e) => Outcome::error(format!("SYSTEM\\{key}: {e}")),
        Ok(None) => Outcome::warning("not set (Windows denies by default)", required)
            .message(format!("SYSTEM\\{key} has no fDenyTSConnections; Windows Server's default denies Remote Desktop"))
            .evidence(select),
        Ok(Some(v)) => {
            let ev = Evidence::path(format!("SYSTEM\\{key}"), None, format!("fDenyTSConnections = {}", v.as_u32().ok().map_or("?".into(), |n| n.to_string())));
            match v.as_u32().ok() {
                Some(0) => Outcome::pass("0 (connections allowed)", required).evidence(select).evidence(ev),
                Some(n) => Outcome::fail(format!("{n} (connections denied)"), required).message(format!("Remote Desktop is disabled: SYSTEM\\{key} fDenyTSConnections = {n}")).evidence(select).evidence(ev),
                None => Outcome::error(format!("SYSTEM\\{key} fDenyTSConnections is not a DWORD")),
            }
        }
    }
}
