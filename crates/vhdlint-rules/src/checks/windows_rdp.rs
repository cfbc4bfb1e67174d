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
    policies: crate::policy::ALL,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{break_value, hive, run_windows, run_windows_inspection, said, MemFs};
    use vhdlint_guest::windows::{WindowsInspection, SYSTEM_HIVE};

    const SELECT_1: &str = "[Select]\n\"Current\"=dword:00000001\n\n";

    fn with_system(hive: Vec<u8>) -> Outcome {
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, hive);
        run_windows(fs, run)
    }

    fn deny(value: &str) -> Outcome {
        with_system(hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"={value}\n"
        )))
    }

    #[test]
    fn passes_when_connections_are_allowed() {
        let o = deny("dword:00000000");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "0 (connections allowed)");
        let s = said(&o);
        assert!(s.contains("SYSTEM\\Select Current → ControlSet001"), "{s}");
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Control\\Terminal Server fDenyTSConnections = 0"),
            "{s}"
        );
    }

    #[test]
    fn fails_when_connections_are_denied() {
        let o = deny("dword:00000001");
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "1 (connections denied)");
        assert!(said(&o).contains("fDenyTSConnections = 1"), "{}", said(&o));
    }

    #[test]
    fn fails_on_any_value_other_than_zero() {
        let o = deny("dword:00000002");
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "2 (connections denied)");
    }

    #[test]
    fn warns_when_the_value_is_not_set() {
        let o = with_system(hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fSingleSessionPerUser\"=dword:00000001\n"
        )));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "not set (Windows denies by default)");
        assert!(said(&o).contains("Current → ControlSet001"), "{}", said(&o));
    }

    #[test]
    fn follows_the_current_control_set() {
        let o = with_system(hive(
            "[Select]\n\"Current\"=dword:00000002\n\n\
             [ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000001\n\n\
             [ControlSet002\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n",
        ));
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\ControlSet002\\Control\\Terminal Server"));
    }

    #[test]
    fn error_when_the_value_is_not_a_dword() {
        let o = deny("\"0\"");
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("fDenyTSConnections is not a DWORD"),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_when_the_value_cannot_be_read() {
        let mut h = hive(&format!(
            "{SELECT_1}[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n"
        ));
        break_value(&mut h, "fDenyTSConnections");
        let o = with_system(h);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SYSTEM\\ControlSet001\\Control\\Terminal Server: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_current_control_set() {
        let o = with_system(hive(
            "[ControlSet001\\Control\\Terminal Server]\n\"fDenyTSConnections\"=dword:00000000\n",
        ));
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM\\Select\\Current"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_system_hive() {
        let o = run_windows(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SYSTEM hive"), "{}", said(&o));
    }

    #[test]
    fn error_without_a_windows_system_volume() {
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
