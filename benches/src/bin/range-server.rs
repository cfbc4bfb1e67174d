//! Serves one file over HTTP on 127.0.0.1 with Range support, keep-alive and an injected delay
//! per request, until killed; `GET /__stats` gives the requests, bytes and connections counted
//! so far, `GET /__reset` zeroes them.
//!
//! `range-server FILE [--port PORT] [--delay-ms MS] [--log]` (default: any free port, 20 ms;
//! `--log`: every request on standard error). Prints
//! the URL of the file (`http://127.0.0.1:PORT/NAME`) on standard output.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use vhdlint_benches::range_server::RangeServer;

fn main() -> ExitCode {
    let mut file = None;
    let mut port = 0u16;
    let mut delay_ms = 20u64;
    let mut log = false;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        let value = |args: &mut dyn Iterator<Item = std::ffi::OsString>| {
            args.next()
                .and_then(|v| v.to_str().and_then(|v| v.parse::<u64>().ok()))
        };
        match a.to_str() {
            Some("--port") => match value(&mut args).and_then(|p| u16::try_from(p).ok()) {
                Some(p) => port = p,
                None => return usage("--port takes a port number"),
            },
            Some("--delay-ms") => match value(&mut args) {
                Some(d) => delay_ms = d,
                None => return usage("--delay-ms takes milliseconds"),
            },
            Some("--log") => log = true,
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return usage("one FILE only"),
        }
    }
    let Some(file) = file else {
        return usage("FILE is missing");
    };
    let srv = match RangeServer::start(&file, port, Duration::from_millis(delay_ms)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("range-server: {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    srv.set_log(log);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!("{}", srv.url(&name));
    loop {
        std::thread::park();
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "range-server: {why}\nusage: range-server FILE [--port PORT] [--delay-ms MS] [--log]"
    );
    ExitCode::from(2)
}
