use vhdlint_guest::windows::{decode_text, image_state};

use crate::check::{CheckMeta, Evidence, Outcome, Status};
use crate::{Context, Profile};

pub static META: CheckMeta = CheckMeta {
    id: "windows/generalized",
    title: "Sysprep generalized",
    what: "Reads \\Windows\\Setup\\State\\State.ini (UTF-16 with a byte-order mark) for `ImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE`, and cross-checks the SOFTWARE hive's Microsoft\\Windows\\CurrentVersion\\Setup\\State ImageState where present.",
    why: "An image that was not generalized with sysprep carries its machine's SID, name and drivers state; Azure cannot provision it and the Certification Tool fails it.",
    remedy: "Generalize before capturing: %WINDIR%\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown",
    sources: &["Azure Marketplace VM image guide: generalize the image with sysprep", "Certification Test Tool: sysprep state"],
    profiles: &[Profile::WindowsOs],
};

const GENERALIZED: &str = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE";

pub fn run(ctx: &Context) -> Outcome {
    let g = match ctx.windows_guest() {
        Ok(g) => g,
        Err(o) => return o,
    };
    let path = "/Windows/Setup/State/State.ini";
    let shown = "\\Windows\\Setup\\State\\State.ini";
    let required = "ImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE";
    let text = match g
        .view
        .read_upto(path, 64 << 10)
        .and_then(|b| decode_text(&b))
    {
        Ok(t) => t,
        Err(vhdlint_guest::fs::FsError::NotFound(_)) => {
            return Outcome::fail("no State.ini", required)
                .message(format!(
                    "{shown} is missing: the image was never generalized with sysprep"
                ))
                .evidence(Evidence::path(shown, None, "missing"))
        }
        Err(e) => return Outcome::error(format!("{shown}: {e}")),
    };
    let state = image_state(&text).map(|s| (s.line, s.value, s.raw));
    let Some((line, value, raw)) = state else {
        return Outcome::fail("no ImageState in State.ini", required)
            .message(format!("{shown} has no ImageState line"))
            .evidence(Evidence::path(shown, None, "no ImageState"));
    };
    let mut ev = vec![Evidence::path(shown, Some(line), raw)];
    let mut status = if value == GENERALIZED {
        Status::Pass
    } else {
        Status::Fail
    };
    let mut msg = if status == Status::Fail {
        format!("State.ini says {value}: the image is not generalized")
    } else {
        String::new()
    };
    if let Ok(hive) = g.software() {
        let key = "Microsoft\\Windows\\CurrentVersion\\Setup\\State";
        if let Ok(Some(v)) = hive
            .open(key)
            .and_then(|k| k.map(|k| k.value("ImageState")).transpose())
            .map(Option::flatten)
        {
            if let Ok(h) = v.as_string() {
                ev.push(Evidence::path(
                    format!("SOFTWARE\\{key}"),
                    None,
                    format!("ImageState = {h}"),
                ));
                if h != value {
                    status = status.max(Status::Warning);
                    msg = format!(
                        "{}State.ini says {value} but the SOFTWARE hive says {h}",
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!("{msg}; ")
                        }
                    );
                }
            }
        }
        if hive.is_dirty() {
            ev.push(Evidence::note("the SOFTWARE hive is dirty (its sequence numbers differ): it was not flushed when captured"));
        }
    }
    match status {
        Status::Pass => Outcome::pass(value, required).evidences(ev),
        s => Outcome::with_status(s, value, required)
            .message(msg)
            .evidences(ev),
    }
}
