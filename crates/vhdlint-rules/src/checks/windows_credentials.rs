use vhdlint_guest::registry::{REG_DWORD, REG_DWORD_BIG_ENDIAN};
use vhdlint_guest::windows::{quote, show_data};

use crate::check::{CheckMeta, Evidence, Outcome};
use crate::context::reg_value_or_error;
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/credentials",
    title: "No credentials baked into the image",
    what: "Reads automatic logon in the SOFTWARE hive (Microsoft\\Windows NT\\CurrentVersion\\Winlogon): AutoAdminLogon = \"1\" with a DefaultPassword value fails; a DefaultPassword without automatic logon warns; automatic logon without a DefaultPassword warns (its password may be kept as an LSA secret, which is not read). The password is never shown: only that the value is set, with DefaultUserName and DefaultDomainName.",
    why: "A DefaultPassword is kept in clear text in the SOFTWARE hive: every VM made from the image carries the account and its password, and with AutoAdminLogon anyone at the console is logged on. Certification requires only necessary accounts, with no default passwords.",
    remedy: "Turn automatic logon off and remove the stored password before generalizing: Set-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' AutoAdminLogon 0; Remove-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' DefaultPassword (and change that account's password).",
    sources: &[
        "Partner Center, troubleshoot virtual machine certification (azure-vm-certification-faq): default credentials",
        "Security recommendations for Azure Marketplace images: no default passwords",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::PowerShell(fix);

/// Automatic logon turned off and the stored password removed. The block never reads the
/// password: it asks only whether a value of that name exists.
fn fix(_: &crate::check::CheckResult) -> Option<crate::fix::powershell::PsBlock> {
    Some(crate::fix::powershell::PsBlock {
        changes: "sets Winlogon AutoAdminLogon to 0 and removes Winlogon DefaultPassword (never read or shown)".into(),
        ps: r#"$key = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'
if ("$(Get-Value $key 'AutoAdminLogon')".Trim() -eq '1') {
    Set-ItemProperty -LiteralPath $key -Name 'AutoAdminLogon' -Value '0' -Type String
    Say "set $key AutoAdminLogon = 0"
}
if ((Get-Item -LiteralPath $key).GetValueNames() -contains 'DefaultPassword') {
    Remove-ItemProperty -LiteralPath $key -Name 'DefaultPassword'
    Say "removed $key DefaultPassword (not shown); change that account's password too"
}"#.into(),
    })
}

const WINLOGON: &str = "Microsoft\\Windows NT\\CurrentVersion\\Winlogon";

pub fn run(ctx: &Context) -> Outcome {
    let (_, hive) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "no AutoAdminLogon with a DefaultPassword, no DefaultPassword";
    let read = |name: &str| reg_value_or_error(hive, "SOFTWARE", WINLOGON, name);
    let (auto, password, user, domain) = match (
        read("AutoAdminLogon"),
        read("DefaultPassword"),
        read("DefaultUserName"),
        read("DefaultDomainName"),
    ) {
        (Ok(a), Ok(p), Ok(u), Ok(d)) => (a, p, u, d),
        (Err(o), ..) | (_, Err(o), ..) | (_, _, Err(o), _) | (.., Err(o)) => return o,
    };
    // Winlogon reads AutoAdminLogon as a string; a DWORD 1 is taken as "1" too.
    let auto_on = auto.as_ref().is_some_and(|v| match v.kind {
        REG_DWORD | REG_DWORD_BIG_ENDIAN => v.as_u32().is_ok_and(|n| n == 1),
        _ => v.as_string().is_ok_and(|s| s.trim() == "1"),
    });
    let mut evidence = Vec::new();
    evidence.push(Evidence::reg(
        "SOFTWARE",
        WINLOGON,
        "AutoAdminLogon",
        auto.as_ref().map_or("(no value)".into(), show_data),
    ));
    // The password's data is never read into any text: only whether the value exists.
    evidence.push(Evidence::reg(
        "SOFTWARE",
        WINLOGON,
        "DefaultPassword",
        if password.is_some() {
            "(set; not shown)"
        } else {
            "(no value)"
        },
    ));
    for (name, v) in [("DefaultUserName", &user), ("DefaultDomainName", &domain)] {
        if let Some(v) = v {
            evidence.push(Evidence::reg("SOFTWARE", WINLOGON, name, show_data(v)));
        }
    }
    let account = user
        .as_ref()
        .and_then(|u| u.as_string().ok())
        .filter(|u| !u.is_empty())
        .map(|u| format!(" for {}", quote(&u)))
        .unwrap_or_default();
    match (auto_on, password.is_some()) {
        (true, true) => Outcome::fail("automatic logon with a stored password", required)
            .message(format!(
                "automatic logon{account} is on with its password stored in clear text: SOFTWARE\\{WINLOGON} AutoAdminLogon = \"1\" and DefaultPassword is set"
            ))
            .evidences(evidence),
        (false, true) => Outcome::warning("DefaultPassword is set", required)
            .message(format!(
                "a password{account} is stored in clear text: SOFTWARE\\{WINLOGON} DefaultPassword is set (automatic logon is off)"
            ))
            .evidences(evidence),
        (true, false) => Outcome::warning("automatic logon on", required)
            .message(format!(
                "automatic logon{account} is on (SOFTWARE\\{WINLOGON} AutoAdminLogon = \"1\") without a DefaultPassword value: its password may be kept as an LSA secret, which is not read"
            ))
            .evidences(evidence),
        (false, false) => Outcome::pass("no automatic logon, no stored password", required)
            .evidences(evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{break_value, hive, run_windows, said, windows_hives, MemFs};
    use vhdlint_guest::windows::SOFTWARE_HIVE;

    const SECRET: &str = "Pa55w0rd!Contoso";

    fn with(values: &str) -> Outcome {
        run_windows(
            windows_hives(
                None,
                Some(&format!(
                    "[{WINLOGON}]\n\"Shell\"=\"explorer.exe\"\n{values}"
                )),
            ),
            run,
        )
    }

    /// The whole outcome, Debug-formatted, does not hold the password (nor its length).
    fn secret_nowhere(o: &Outcome) {
        let all = format!("{o:?}");
        assert!(!all.contains(SECRET), "{all}");
        assert!(!all.contains(&SECRET.len().to_string()), "{all}");
    }

    #[test]
    fn fails_for_automatic_logon_with_a_password() {
        let o = with(&format!(
            "\"AutoAdminLogon\"=\"1\"\n\"DefaultUserName\"=\"appadmin\"\n\"DefaultPassword\"=\"{SECRET}\"\n"
        ));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
        assert_eq!(o.actual, "automatic logon with a stored password");
        assert_eq!(
            o.message,
            format!("automatic logon for \"appadmin\" is on with its password stored in clear text: SOFTWARE\\{WINLOGON} AutoAdminLogon = \"1\" and DefaultPassword is set")
        );
        let s = said(&o);
        assert!(
            s.contains(&format!("SOFTWARE\\{WINLOGON} AutoAdminLogon = \"1\"")),
            "{s}"
        );
        assert!(
            s.contains(&format!(
                "SOFTWARE\\{WINLOGON} DefaultPassword = (set; not shown)"
            )),
            "{s}"
        );
        assert!(
            s.contains(&format!(
                "SOFTWARE\\{WINLOGON} DefaultUserName = \"appadmin\""
            )),
            "{s}"
        );
        secret_nowhere(&o);
    }

    #[test]
    fn the_password_appears_nowhere_in_any_outcome() {
        for values in [
            format!("\"AutoAdminLogon\"=\"1\"\n\"DefaultPassword\"=\"{SECRET}\"\n"),
            format!("\"AutoAdminLogon\"=\"0\"\n\"DefaultPassword\"=\"{SECRET}\"\n"),
            format!("\"DefaultPassword\"=\"{SECRET}\"\n\"DefaultUserName\"=\"x\"\n"),
        ] {
            let o = with(&values);
            assert_ne!(o.status, Status::Pass, "{}", said(&o));
            secret_nowhere(&o);
        }
    }

    #[test]
    fn warns_for_a_password_without_automatic_logon() {
        let o = with(&format!(
            "\"AutoAdminLogon\"=\"0\"\n\"DefaultPassword\"=\"{SECRET}\"\n"
        ));
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "DefaultPassword is set");
        secret_nowhere(&o);
        // An empty password is a password too, and is not described either.
        let o = with("\"DefaultPassword\"=\"\"\n");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert!(!said(&o).contains("empty"), "{}", said(&o));
    }

    #[test]
    fn warns_for_automatic_logon_without_a_password_value() {
        let o = with("\"AutoAdminLogon\"=\"1\"\n\"DefaultUserName\"=\"appadmin\"\n");
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "automatic logon on");
        assert!(o.message.contains("LSA secret"), "{}", o.message);
        // A DWORD 1 is read as "1".
        let o = with(&format!(
            "\"AutoAdminLogon\"=dword:00000001\n\"DefaultPassword\"=\"{SECRET}\"\n"
        ));
        assert_eq!(o.status, Status::Fail, "{}", said(&o));
    }

    #[test]
    fn passes_without_automatic_logon_or_password() {
        let o = with("\"AutoAdminLogon\"=\"0\"\n\"DefaultUserName\"=\"Administrator\"\n");
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "no automatic logon, no stored password");
        assert!(said(&o).contains("AutoAdminLogon = \"0\""), "{}", said(&o));
        assert!(
            said(&o).contains(&format!(
                "SOFTWARE\\{WINLOGON} DefaultPassword = (no value)"
            )),
            "{}",
            said(&o)
        );
        let o = run_windows(
            windows_hives(
                None,
                Some("[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"9600\"\n"),
            ),
            run,
        );
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
    }

    #[test]
    fn error_when_winlogon_cannot_be_read() {
        let mut h = hive(&format!("[{WINLOGON}]\n\"AutoAdminLogon\"=\"1\"\n"));
        break_value(&mut h, "AutoAdminLogon");
        let mut fs = MemFs::new();
        fs.file(SOFTWARE_HIVE, h);
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains(&format!("SOFTWARE\\{WINLOGON}: ")),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_software_hive() {
        let o = run_windows(MemFs::new(), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
    }
}
