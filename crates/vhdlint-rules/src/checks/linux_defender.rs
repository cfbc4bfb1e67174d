use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "linux/defender",
    title: "Defender not pre-installed",
    what: "current policy: looks for Microsoft Defender for Endpoint: /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp, and MDE extension folders under /var/lib/waagent.",
    why: "Defender for Endpoint onboards each VM to its owner's tenant; pre-installed in an image, every customer's VM would report to the publisher's tenant. Certification fails such images.",
    remedy: "Uninstall mdatp and remove /etc/opt/microsoft/mdatp, /var/log/microsoft/mdatp and the MDE extension folders before capturing.",
    sources: &["Marketplace certification FAQ (2021+): Microsoft Defender for Endpoint must not be pre-installed"],
    profiles: &[Profile::LinuxOs],
};

pub fn run(ctx: &Context) -> Outcome {
    if !ctx.policy.defender_check {
        return Outcome::skipped(format!(
            "not part of the {} policy (the current certification checks it)",
            ctx.policy.name
        ));
    }
    let g = match ctx.linux_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let mut found: Vec<String> = ["/etc/opt/microsoft/mdatp", "/var/log/microsoft/mdatp"]
        .iter()
        .filter(|p| g.view.exists(p))
        .map(|p| p.to_string())
        .collect();
    // A directory a bound kept from being listed: extension folders there would not be seen.
    let mut notes = Vec::new();
    if let Some(entries) = g.view.read_dir_noted("/var/lib/waagent", &mut notes) {
        for e in entries {
            let n = e.name.to_ascii_lowercase();
            if n.contains("mde.linux")
                || n.contains("azuresecuritylinuxagent")
                || n.contains("defenderforservers")
                || n.contains("mdatp")
            {
                found.push(format!("/var/lib/waagent/{}", e.name));
            }
        }
    }
    let required = "no Defender for Endpoint files";
    if found.is_empty() {
        return Outcome::pass("not installed", required).noted(notes);
    }
    let out = Outcome::fail("Defender for Endpoint present", required)
        .message(format!("found {}", found.join(", ")))
        .evidences(
            found
                .into_iter()
                .map(|p| Evidence::path(p, None, "Defender for Endpoint")),
        );
    out.noted(notes)
}
