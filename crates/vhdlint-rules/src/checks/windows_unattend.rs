use crate::check::{CheckMeta, Evidence, Outcome};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/unattend",
    title: "No custom unattend file",
    what: "Looks for \\Windows\\Panther\\unattend.xml and \\Windows\\System32\\Sysprep\\unattend.xml.",
    why: "Azure provisions Windows VMs with its own unattend answers; a custom unattend file left in the image overrides them, so the user name, password or computer name given at deployment may not apply.",
    remedy: "Delete the unattend files before capturing: del %WINDIR%\\Panther\\unattend.xml %WINDIR%\\System32\\Sysprep\\unattend.xml",
    sources: &["Azure Marketplace VM image guide: do not use a custom unattend file"],
    profiles: &[Profile::WindowsOs],
};

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let found: Vec<&str> = [
        "/Windows/Panther/unattend.xml",
        "/Windows/System32/Sysprep/unattend.xml",
    ]
    .into_iter()
    .filter(|p| g.view.exists(p))
    .collect();
    let required = "no unattend.xml";
    if found.is_empty() {
        return Outcome::pass("none", required);
    }
    let shown: Vec<String> = found.iter().map(|p| p.replace('/', "\\")).collect();
    Outcome::warning(shown.join(", "), required)
        .message(format!("custom unattend file(s): {}", shown.join(", ")))
        .evidences(
            shown
                .iter()
                .map(|p| Evidence::path(p.clone(), None, "unattend file")),
        )
}
