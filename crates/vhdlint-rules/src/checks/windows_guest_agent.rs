use vhdlint_guest::windows::{quote, show_data};

use super::version_cmp;
use crate::check::{CheckMeta, Evidence, Outcome};
use crate::context::{reg_key_exists, reg_value_or_error};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/guest-agent",
    title: "The Azure VM agent is installed",
    what: "Reads the services of the Azure Windows VM agent in the SYSTEM hive (current control set from Select\\Current): Services\\WindowsAzureGuestAgent and Services\\RdAgent must exist with Start = 2 (automatic) and an ImagePath under \\WindowsAzure\\; and .NET Framework 4, which the agent runs on (SOFTWARE Microsoft\\NET Framework Setup\\NDP\\v4\\Full\\Release). Anything else warns. The agent's version is read from its folder name, \\WindowsAzure\\GuestAgent_<version>_<date>, in WindowsAzureGuestAgent's ImagePath or else the listing of \\WindowsAzure.",
    why: "The VM agent reports the VM ready to Azure, runs VM extensions and resets passwords; Azure's Windows preparation guidance recommends installing it in the image, and certification deploys the image with it. Without it (or without .NET Framework 4.x, which it needs) extensions and password reset do not work.",
    remedy: "Install the Azure Windows VM agent (the MSI from https://github.com/Azure/WindowsVMAgent/releases, or go.microsoft.com/fwlink/?LinkID=394789) and .NET Framework 4.x before generalizing; leave its services WindowsAzureGuestAgent and RdAgent on automatic start (Set-Service WindowsAzureGuestAgent -StartupType Automatic).",
    sources: &[
        "Microsoft, prepare a Windows VHD to upload to Azure: complete the recommended configurations (install the Azure VM agent)",
        "Microsoft, Azure virtual machine agent overview (Windows): .NET Framework 4.x, services WindowsAzureGuestAgent and RdAgent, C:\\WindowsAzure",
    ],
    profiles: &[Profile::WindowsOs],
    policies: crate::policy::ALL,
};

/// How `vhdlint fix` remedies this check.
pub const FIX: crate::fix::Fix = crate::fix::Fix::Manual(
    "installing the Azure VM agent needs its MSI, which the script does not download: install it (and .NET Framework 4.x) as the remedy says",
);

/// The agent's services.
pub const SERVICES: &[&str] = &["WindowsAzureGuestAgent", "RdAgent"];
const NDP4: &str = "Microsoft\\NET Framework Setup\\NDP\\v4\\Full";
/// Where the agent installs itself.
const AGENT_DIR: &str = "/WindowsAzure";

/// The version in a `GuestAgent_<version>_<date>` folder name (or a path holding one).
fn folder_version(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let at = lower.find("guestagent_")? + "guestagent_".len();
    let v: String = path[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.contains('.') && v.split('.').all(|p| !p.is_empty())).then_some(v)
}

pub fn run(ctx: &Context) -> Outcome {
    let (g, system, cs) = match ctx.windows_control_set() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let (_, software) = match ctx.windows_software() {
        Ok(x) => x,
        Err(o) => return o,
    };
    let required = "services WindowsAzureGuestAgent and RdAgent automatic, under \\WindowsAzure\\; .NET Framework 4";
    let mut problems: Vec<String> = Vec::new();
    let mut evidence = vec![Evidence::control_set(&cs)];
    let mut missing = 0;
    let mut version = None;
    for svc in SERVICES {
        let key = format!("{cs}\\Services\\{svc}");
        match reg_key_exists(system, "SYSTEM", &key) {
            Err(o) => return o,
            Ok(false) => {
                missing += 1;
                evidence.push(Evidence::path(format!("SYSTEM\\{key}"), None, "(no key)"));
                problems.push(format!("service {svc} missing"));
                continue;
            }
            Ok(true) => {}
        }
        let (start, image) = match (
            reg_value_or_error(system, "SYSTEM", &key, "Start"),
            reg_value_or_error(system, "SYSTEM", &key, "ImagePath"),
        ) {
            (Ok(s), Ok(i)) => (s, i),
            (Err(o), _) | (_, Err(o)) => return o,
        };
        match start {
            None => {
                evidence.push(Evidence::reg("SYSTEM", &key, "Start", "(no value)"));
                problems.push(format!("{svc} has no Start value"));
            }
            Some(v) => {
                let Ok(n) = v.as_u32() else {
                    return Outcome::error(format!(
                        "SYSTEM\\{key} Start is not a DWORD: {}",
                        show_data(&v)
                    ));
                };
                evidence.push(Evidence::reg("SYSTEM", &key, "Start", n));
                if n != 2 {
                    problems.push(format!("{svc} Start = {n} (not automatic)"));
                }
            }
        }
        match image {
            None => {
                evidence.push(Evidence::reg("SYSTEM", &key, "ImagePath", "(no value)"));
                problems.push(format!("{svc} has no ImagePath"));
            }
            Some(v) => {
                let Ok(path) = v.as_string() else {
                    return Outcome::error(format!(
                        "SYSTEM\\{key} ImagePath is not a string: {}",
                        show_data(&v)
                    ));
                };
                evidence.push(Evidence::reg("SYSTEM", &key, "ImagePath", show_data(&v)));
                if !path.to_ascii_lowercase().contains("\\windowsazure\\") {
                    problems.push(format!(
                        "{svc} ImagePath {} is not under \\WindowsAzure\\",
                        quote(&path)
                    ));
                }
                if version.is_none() {
                    version = folder_version(&path);
                }
            }
        }
    }
    // The agent's folders, when its ImagePath does not name one.
    let mut notes = Vec::new();
    if version.is_none() {
        if let Some(entries) = g.view.read_dir_noted(AGENT_DIR, &mut notes) {
            version = entries
                .iter()
                .filter_map(|e| folder_version(&e.name))
                .max_by(|a, b| version_cmp(None, a, b));
            if let Some(v) = &version {
                evidence.push(Evidence::path(
                    "\\WindowsAzure",
                    None,
                    format!("newest agent folder: GuestAgent_{v}_…"),
                ));
            }
        }
    }
    let net = match reg_value_or_error(software, "SOFTWARE", NDP4, "Release") {
        Err(o) => return o,
        Ok(v) => v,
    };
    match &net {
        Some(v) => evidence.push(Evidence::reg("SOFTWARE", NDP4, "Release", show_data(v))),
        None => {
            evidence.push(Evidence::reg("SOFTWARE", NDP4, "Release", "(no value)"));
            problems.push(".NET Framework 4 missing".into());
        }
    }
    let shown = version
        .as_deref()
        .map_or("version not found".to_string(), |v| format!("version {v}"));
    if problems.is_empty() {
        return Outcome::pass(format!("installed, {shown}"), required)
            .evidences(evidence)
            .noted(notes);
    }
    let actual = if missing == SERVICES.len() {
        let mut a = "not installed".to_string();
        if net.is_none() {
            a.push_str("; .NET Framework 4 missing");
        }
        a
    } else {
        format!("{shown}: {}", problems.join("; "))
    };
    Outcome::warning(actual, required)
        .message(if missing == SERVICES.len() {
            format!(
                "the Azure VM agent is not installed: SYSTEM\\{cs}\\Services has neither WindowsAzureGuestAgent nor RdAgent{}",
                if net.is_none() { "; .NET Framework 4 is missing (SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full has no Release)" } else { "" }
            )
        } else {
            format!("Azure VM agent ({shown}): {}", problems.join("; "))
        })
        .evidences(evidence)
        .noted(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::testing::{
        break_value, hive, run_windows, run_windows_inspection, said, windows_hives, MemFs,
    };
    use vhdlint_guest::windows::{WindowsInspection, SOFTWARE_HIVE, SYSTEM_HIVE};

    const GA: &str = "C:\\\\WindowsAzure\\\\GuestAgent_2.7.41491.1102_2023-11-14_190238\\\\WindowsAzureGuestAgent.exe";
    const RD: &str = "C:\\\\WindowsAzure\\\\Packages\\\\WaAppAgent.exe";
    const NET: &str = "[Microsoft\\NET Framework Setup\\NDP\\v4\\Full]\n\"Release\"=dword:00070bf0\n\"Version\"=\"4.7.03190\"\n";

    fn service(name: &str, start: u32, image: &str) -> String {
        format!("[ControlSet001\\Services\\{name}]\n\"Start\"=dword:{start:08x}\n\"ImagePath\"=\"{image}\"\n\"Type\"=dword:00000010\n\n")
    }

    fn system(services: &str) -> String {
        format!("[Select]\n\"Current\"=dword:00000001\n\n[ControlSet001\\Services\\Tcpip]\n\"Start\"=dword:00000001\n\n{services}")
    }

    fn with(services: &str, software: &str) -> Outcome {
        run_windows(windows_hives(Some(&system(services)), Some(software)), run)
    }

    fn both() -> String {
        format!(
            "{}{}",
            service("WindowsAzureGuestAgent", 2, GA),
            service("RdAgent", 2, RD)
        )
    }

    #[test]
    fn the_version_is_read_from_a_folder_name() {
        assert_eq!(
            folder_version("C:\\WindowsAzure\\GuestAgent_2.7.41491.1102_2023-11-14_190238\\WindowsAzureGuestAgent.exe").as_deref(),
            Some("2.7.41491.1102")
        );
        assert_eq!(
            folder_version("GuestAgent_2.7.41491.971_2020-09-01_1").as_deref(),
            Some("2.7.41491.971")
        );
        assert_eq!(
            folder_version("C:\\WindowsAzure\\Packages\\WaAppAgent.exe"),
            None
        );
        assert_eq!(folder_version("GuestAgent_"), None);
        assert_eq!(folder_version("GuestAgent_1..2_x"), None);
    }

    #[test]
    fn passes_with_both_services_automatic_and_net_4() {
        let o = with(&both(), NET);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "installed, version 2.7.41491.1102");
        let s = said(&o);
        assert!(s.contains("SYSTEM\\Select Current → ControlSet001"), "{s}");
        assert!(
            s.contains("SYSTEM\\ControlSet001\\Services\\RdAgent Start = 2"),
            "{s}"
        );
        assert!(s.contains("SYSTEM\\ControlSet001\\Services\\RdAgent ImagePath = \"C:\\WindowsAzure\\Packages\\WaAppAgent.exe\""), "{s}");
        assert!(
            s.contains("SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full Release = 461808"),
            "{s}"
        );
    }

    #[test]
    fn the_version_comes_from_the_agent_folders_otherwise() {
        let body = format!(
            "{}{}",
            service(
                "WindowsAzureGuestAgent",
                2,
                "C:\\\\WindowsAzure\\\\Packages\\\\WindowsAzureGuestAgent.exe"
            ),
            service("RdAgent", 2, RD)
        );
        let mut fs = windows_hives(Some(&system(&body)), Some(NET));
        fs.dir("/WindowsAzure/Packages")
            .dir("/WindowsAzure/GuestAgent_2.7.41491.971_2020-09-01_120000")
            .dir("/WindowsAzure/GuestAgent_2.7.41491.1102_2023-11-14_190238")
            .dir("/WindowsAzure/GuestAgent_2.7.41491.999_2021-01-01_000000");
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Pass, "{}", said(&o));
        assert_eq!(o.actual, "installed, version 2.7.41491.1102");
        assert!(
            said(&o).contains("\\WindowsAzure newest agent folder: GuestAgent_2.7.41491.1102_…"),
            "{}",
            said(&o)
        );
        // No folder: installed, version unknown (still a pass: the services are what is asked).
        let o = with(&body, NET);
        assert_eq!(o.actual, "installed, version not found");
    }

    #[test]
    fn warns_when_the_agent_is_not_installed() {
        let o = with("", NET);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "not installed");
        assert_eq!(
            o.message,
            "the Azure VM agent is not installed: SYSTEM\\ControlSet001\\Services has neither WindowsAzureGuestAgent nor RdAgent"
        );
        let o = with(
            "",
            "[Microsoft\\Windows NT\\CurrentVersion]\n\"CurrentBuild\"=\"9600\"\n",
        );
        assert_eq!(o.actual, "not installed; .NET Framework 4 missing");
    }

    #[test]
    fn warns_for_a_service_not_started_automatically_or_elsewhere() {
        let body = format!(
            "{}{}",
            service("WindowsAzureGuestAgent", 3, GA),
            service("RdAgent", 2, "C:\\\\Agent\\\\WaAppAgent.exe")
        );
        let o = with(&body, NET);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(
            o.actual,
            "version 2.7.41491.1102: WindowsAzureGuestAgent Start = 3 (not automatic); RdAgent ImagePath \"C:\\Agent\\WaAppAgent.exe\" is not under \\WindowsAzure\\"
        );
        let o = with(&service("WindowsAzureGuestAgent", 2, GA), NET);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "version 2.7.41491.1102: service RdAgent missing");
    }

    #[test]
    fn warns_without_net_framework_4() {
        let o = with(
            &both(),
            "[Microsoft\\NET Framework Setup\\NDP\\v3.5]\n\"Install\"=dword:00000001\n",
        );
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "version 2.7.41491.1102: .NET Framework 4 missing");
        assert!(
            said(&o).contains(
                "SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full Release = (no value)"
            ),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn follows_the_current_control_set() {
        let body = format!(
            "[Select]\n\"Current\"=dword:00000002\n\n{}{}",
            both(),
            "[ControlSet002\\Services\\Tcpip]\n\"Start\"=dword:00000001\n"
        );
        let o = run_windows(windows_hives(Some(&body), Some(NET)), run);
        assert_eq!(o.status, Status::Warning, "{}", said(&o));
        assert_eq!(o.actual, "not installed");
        assert!(
            o.message.contains("SYSTEM\\ControlSet002\\Services"),
            "{}",
            o.message
        );
    }

    #[test]
    fn error_for_values_of_another_type_or_unreadable() {
        let body = format!(
            "[ControlSet001\\Services\\RdAgent]\n\"Start\"=\"2\"\n\"ImagePath\"=\"{RD}\"\n\n{}",
            service("WindowsAzureGuestAgent", 2, GA)
        );
        let o = with(&body, NET);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("RdAgent Start is not a DWORD"),
            "{}",
            said(&o)
        );
        let mut h = hive(&system(&service("RdAgent", 2, RD)));
        break_value(&mut h, "ImagePath");
        let mut fs = MemFs::new();
        fs.file(SYSTEM_HIVE, h).file(SOFTWARE_HIVE, hive(NET));
        let o = run_windows(fs, run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(
            said(&o).contains("SYSTEM\\ControlSet001\\Services\\RdAgent: "),
            "{}",
            said(&o)
        );
    }

    #[test]
    fn error_without_a_hive_or_a_system_volume() {
        let o = run_windows(windows_hives(Some(&system(&both())), None), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
        assert!(said(&o).contains("SOFTWARE hive"), "{}", said(&o));
        let none = WindowsInspection {
            candidates: Vec::new(),
            guest: None,
        };
        let o = run_windows_inspection(Ok(none), run);
        assert_eq!(o.status, Status::Error, "{}", said(&o));
    }
}
