//! `vhdlint`: lints VHD disk images before they are submitted to Azure (the Marketplace),
//! offline, from files or from http(s) URLs read in place with range requests. `check` gives
//! every check's verdict in a report (table, JSON, HTML, Markdown, JUnit, SARIF, CI
//! annotations); `inspect` shows what was decoded; `rules` and `explain` document the checks;
//! `cat` and `ls` read the guest's files; `sas` and `sku` lint what is submitted with the disks.

/// `print!` that ignores a closed standard output (`vhdlint rules | head` must not panic).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}
/// `println!` that ignores a closed standard output.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

mod fleet;
mod inspect;
mod merge;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use vhdlint_report::Report;
use vhdlint_rules::publish::sas::redact;
use vhdlint_rules::publish::{has_sas, sas_entry, sas_result};
use vhdlint_rules::{
    Image, Policy, Profile, ProfileChoice, Progress, RunOptions, Selection, Status, CATALOGUE,
};

/// Lint VHD disk images offline before submitting them to the Azure Marketplace.
#[derive(Parser)]
#[command(name = "vhdlint", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit codes of the commands that write a report (`check`, `sas`, `sku`).
const EXIT_CODES: &str = "\
Exit codes:
  0  no check failed or ended in error (warnings allowed)
  1  a check failed, or ended in error (it could not look: unknown is never a pass), or a
     warning with --deny-warnings; waived results do not count
  2  usage error, or an image that could not be opened or read at all";

#[derive(Subcommand)]
enum Command {
    /// Lint images: every check of the catalogue, a verdict per check.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Show what was decoded from an image: format, footer, partitions, volumes. No verdicts.
    Inspect {
        /// A file, or an http(s) URL.
        image: std::ffi::OsString,
        #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
        format: InspectFormat,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List every check: id, title, profiles.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
    },
    /// Explain a check: what it looks at, why, how to fix, sources.
    Explain { id: String },
    /// Print a file from the guest's tree (Linux root with its fstab mounts), read offline.
    Cat {
        image: std::ffi::OsString,
        path: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List a directory of the guest's tree (Linux root with its fstab mounts), read offline.
    Ls {
        image: std::ffi::OsString,
        path: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Print the remediation script for what `check` finds: one commented, idempotent block per
    /// failure or warning with a mechanical fix, for the build VM (or a chroot of its root)
    /// before capture; what has no such fix is listed at the top with its remedy. The image is
    /// only read. Exit 0 when the script was written, 2 when the image could not be read.
    Fix(FixArgs),
    /// Lint a SAS URI given for a VHD (publish/sas-uri). The signature is never printed.
    #[command(after_help = EXIT_CODES)]
    Sas {
        uri: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Lint a whole SKU from its manifest: metadata, the OS disk and every data disk (paths or
    /// https URLs), in one report.
    #[command(after_help = EXIT_CODES)]
    Sku {
        manifest: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// One report from the JSON reports of several runs (`check --format json`), as if one
    /// run had linted every image: shards in index order (every shard of the split exactly
    /// once), others in the order given; summaries recomputed, waivers kept. Nothing is linted
    /// again. Exits as check would on the merged report.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Print shell completions for SHELL on stdout, e.g. `vhdlint completions bash >
    /// /etc/bash_completion.d/vhdlint`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `vhdlint man | man -l -`.
    Man,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Images to lint: files, or http(s) URLs read in place with range requests.
    images: Vec<std::ffi::OsString>,
    /// More images: one path or URL per line of FILE (`-`: stdin); blank lines and `#` comments
    /// are skipped.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// Lint only shard K of N (0-based) of the image list: the K-th of N contiguous,
    /// near-equal slices in list order, so N machines split a fleet. With --shard-from-env,
    /// only N.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Take the shard index K from this environment variable (0-based), e.g.
    /// JOB_COMPLETION_INDEX of a Kubernetes Indexed Job; --shard N gives the count.
    #[arg(long, value_name = "VAR")]
    shard_from_env: Option<String>,
    /// What the disk is: auto (default), linux-os, windows-os or data-disk. auto never takes a
    /// disk with a volume it cannot read and signs of an OS for a data disk: its OS checks then
    /// report error.
    #[arg(long)]
    profile: Option<ProfileChoice>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// JSON reports written by `check --format json` (`-`: standard input).
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 on warnings too (failures and errors always do); so does a report whose run had
    /// it.
    #[arg(long)]
    deny_warnings: bool,
    /// The publisher's answers to the Certification Tool's questions, shown in html and markdown.
    #[arg(long)]
    questionnaire: Option<PathBuf>,
    /// Render the shards given even when they are not all of their split (a worker's own
    /// report); each must still hold its whole slice.
    #[arg(long)]
    partial: bool,
}

#[derive(clap::Args)]
struct FixArgs {
    /// The image: a file, or an http(s) URL.
    image: std::ffi::OsString,
    /// What the disk is: auto (default), linux-os, windows-os or data-disk.
    #[arg(long)]
    profile: Option<ProfileChoice>,
    /// Thresholds: guide (default), current, or a TOML file (as for check).
    #[arg(long)]
    policy: Option<String>,
    /// Configuration file (default: vhdlint.toml in the current directory, if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Waivers file: a waived result is not fixed.
    #[arg(long)]
    waivers: Option<PathBuf>,
    /// The script's language: sh (POSIX sh, run as root in the guest; the default for a Linux
    /// disk), virt-customize (a --commands-from-file file of the same changes, for a copy of a
    /// Linux image) or powershell (run in the Windows VM before sysprep; the default for Windows).
    #[arg(long, value_enum)]
    format: Option<FixFormat>,
    /// Write the script to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Fix only these checks: an ID or PREFIX/* (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Leave out these checks: an ID or PREFIX/* (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// The VM generation the image is published for: 1, 2 or auto (as for check).
    #[arg(long, default_value = "auto")]
    generation: vhdlint_rules::Generation,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum FixFormat {
    /// POSIX sh, run as root inside the build VM or a chroot of its root.
    Sh,
    /// A `virt-customize --commands-from-file` file, for a copy of the image (virt-customize
    /// --no-network --format raw -a COPY.vhd --commands-from-file FILE).
    VirtCustomize,
    /// PowerShell, run elevated in the Windows VM before sysprep (sysprep is its last step,
    /// with -Generalize).
    Powershell,
}

/// Options shared by the commands that write a report.
#[derive(clap::Args)]
struct CommonArgs {
    /// Thresholds: guide (default: the VM image guide), current (today's certification), or a
    /// TOML file.
    #[arg(long)]
    policy: Option<String>,
    /// Configuration file (default: vhdlint.toml in the current directory, if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Waivers file: accepted failures, warnings and errors with their justification.
    #[arg(long)]
    waivers: Option<PathBuf>,
    /// The publisher's answers to the Certification Tool's questions, shown in html and markdown.
    #[arg(long)]
    questionnaire: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    format: CheckFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Run only these checks: an ID or PREFIX/* (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Leave out these checks: an ID or PREFIX/* (repeat or separate with commas).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Exit 1 on warnings too (failures and errors always do).
    #[arg(long)]
    deny_warnings: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// The VM generation the image is published for: 1 (BIOS), 2 (UEFI) or auto (default:
    /// report which the disk can boot). A SKU manifest's `generation = 1|2` is used when this
    /// is auto.
    #[arg(long, default_value = "auto")]
    generation: vhdlint_rules::Generation,
    /// After the report, on standard error: the wall time and bytes read of every check and
    /// shared fact, slowest first (the checks then run one at a time).
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// How images given as URLs are read.
#[derive(clap::Args, Clone, Copy)]
struct RemoteArgs {
    /// The most bytes fetched over the network for an image given as a URL, e.g. 512M, 8MiB,
    /// 1G (K, M, G, T: powers of 1024; plain digits: bytes). Reaching it stops reading that
    /// image: its results are void and the run exits 2. Default 1G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_fetch: Option<u64>,
}

/// The fetch budget of every remote image of this run (`--max-fetch`).
static MAX_FETCH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

impl RemoteArgs {
    fn apply(self) {
        if let Some(n) = self.max_fetch {
            let _ = MAX_FETCH.set(n);
        }
    }
}

/// A size: digits, then optionally K, M, G or T (powers of 1024), optionally followed by `iB`
/// or `B` (`8M`, `8MiB`, `8MB` are all 8 × 2^20 bytes), any case.
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let bad = || {
        format!(
            "`{text}` is not a size: digits then an optional unit K, M, G or T (powers of \
             1024), e.g. 512M, 8MiB, 1G"
        )
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(bad()),
    };
    let n = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if n == 0 {
        return Err(format!("`{text}`: the budget must be at least one byte"));
    }
    Ok(n)
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Table,
    Json,
    Junit,
    Sarif,
    Html,
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// Azure Pipelines logging commands.
    Azure,
}

#[derive(Clone, Copy, ValueEnum)]
enum InspectFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Table,
    Json,
    /// The rules reference (docs/rules.md is this output).
    Markdown,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Check(a) => a.common.remote.apply(),
        Command::Fix(a) => a.remote.apply(),
        Command::Sas { common, .. } | Command::Sku { common, .. } => common.remote.apply(),
        Command::Inspect { remote, .. }
        | Command::Cat { remote, .. }
        | Command::Ls { remote, .. } => remote.apply(),
        Command::Rules { .. }
        | Command::Explain { .. }
        | Command::Merge(_)
        | Command::Completions { .. }
        | Command::Man => {}
    }
    let r = match cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "vhdlint", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => man(),
        Command::Check(a) => check(a),
        Command::Fix(a) => fix(a),
        Command::Merge(a) => merge(a),
        Command::Sas { uri, common } => sas(&uri, common),
        Command::Sku { manifest, common } => sku(&manifest, common),
        Command::Inspect { image, format, .. } => {
            inspect::run(&image, matches!(format, InspectFormat::Json)).map(|()| 0)
        }
        Command::Rules {
            format: RulesFormat::Markdown,
        } => {
            out!("{}", rules_markdown());
            Ok(0)
        }
        Command::Rules { format } => rules(matches!(format, RulesFormat::Json)).map(|()| 0),
        Command::Explain { id } => explain(&id).map(|()| 0),
        Command::Cat { image, path, .. } => inspect::cat(&image, &path),
        Command::Ls { image, path, .. } => inspect::ls(&image, &path),
    };
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("vhdlint: {}", redact(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// A progress bar on standard error for the surface scan.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.reset_eta();
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// What every report-writing command settles first: configuration, policy, waivers.
struct Session {
    cfg: vhdlint_rules::config::Config,
    config_path: Option<PathBuf>,
    policy: Policy,
    deny_warnings: bool,
    waivers: Vec<vhdlint_rules::config::Waiver>,
    questionnaire: Option<Vec<(String, String)>>,
    selection: Selection,
    progress: Option<Arc<dyn Progress>>,
    today: String,
    format: CheckFormat,
    output: Option<PathBuf>,
    generation: vhdlint_rules::Generation,
    timings: bool,
    /// The shard of the image list this run lints (`check --shard`).
    shard: Option<vhdlint_report::Shard>,
}

fn session(a: CommonArgs) -> Result<Session> {
    use vhdlint_rules::config::{self, Config};
    let config_path = a
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("vhdlint.toml")).filter(|p| p.is_file()));
    let cfg = match &config_path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let base = config_path
        .as_ref()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let rel = |s: &str| -> String {
        if matches!(s, "guide" | "current") || std::path::Path::new(s).is_absolute() {
            s.to_string()
        } else {
            base.join(s).display().to_string()
        }
    };
    let policy = Policy::load(&a.policy.clone().unwrap_or_else(|| {
        cfg.policy
            .as_deref()
            .map(&rel)
            .unwrap_or_else(|| "guide".into())
    }))?;
    let deny_warnings = a.deny_warnings || cfg.deny_warnings.unwrap_or(false);
    let waivers = match a
        .waivers
        .clone()
        .or_else(|| cfg.waivers.as_deref().map(|w| PathBuf::from(rel(w))))
    {
        Some(p) => config::load_waivers(&p)?,
        None => Vec::new(),
    };
    let questionnaire = match a
        .questionnaire
        .clone()
        .or_else(|| cfg.questionnaire.as_deref().map(|q| PathBuf::from(rel(q))))
    {
        Some(p) => Some(config::load_questionnaire(&p)?),
        None => None,
    };
    let selection = Selection {
        select: if a.select.is_empty() {
            cfg.select.clone()
        } else {
            a.select
        },
        ignore: if a.ignore.is_empty() {
            cfg.ignore.clone()
        } else {
            a.ignore
        },
    };
    let unknown = selection.unknown_patterns();
    if !unknown.is_empty() {
        bail!(
            "--select/--ignore: no check matches {} (see `vhdlint rules`)",
            unknown.join(", ")
        );
    }
    if let Some(j) = a.jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(j.max(1))
            .build_global()
            .context("--jobs")?;
    }
    let progress: Option<Arc<dyn Progress>> =
        (!a.quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "scanning {bytes}/{total_bytes} {wide_bar} {eta}",
                )
                .expect("static template"),
            );
            Arc::new(Bar(bar)) as Arc<dyn Progress>
        });
    Ok(Session {
        cfg,
        config_path,
        policy,
        deny_warnings,
        waivers,
        questionnaire,
        selection,
        progress,
        today: config::today(),
        format: a.format,
        output: a.output,
        generation: a.generation,
        timings: a.timings,
        shard: None,
    })
}

impl Session {
    /// Lints `img`, recording timings when `--timings` asks for them.
    fn run(&self, img: &Image, opts: &RunOptions) -> vhdlint_rules::ImageReport {
        if self.timings {
            vhdlint_rules::run_timed(img, opts)
        } else {
            vhdlint_rules::run(img, opts)
        }
    }

    fn options(&self, profile: ProfileChoice) -> RunOptions {
        RunOptions {
            policy: self.policy.clone(),
            profile,
            selection: self.selection.clone(),
            progress: self.progress.clone(),
            generation: self.generation,
        }
    }

    /// Applies severity overrides and waivers, renders the report, and gives the exit code.
    fn finish(
        &self,
        mut reports: Vec<vhdlint_rules::ImageReport>,
        unreadable: Vec<vhdlint_report::Unreadable>,
    ) -> Result<u8> {
        use vhdlint_rules::config;
        let mut expired = Vec::new();
        for r in &mut reports {
            r.path = redact(&r.path);
            if let Some(why) = &r.void {
                eprintln!("vhdlint: {}: {}", r.path, redact(why));
            }
            expired.extend(config::settle(
                r,
                &self.selection,
                &self.cfg.severity,
                &self.waivers,
                &self.today,
            ));
        }
        if !reports.is_empty() && reports.iter().all(|r| r.checks.is_empty()) {
            bail!("--select/--ignore leave no check to run here (see `vhdlint rules`)");
        }
        let mut report = Report::new(&self.policy.name, reports);
        report.shard = self.shard.clone();
        report.deny_warnings = self.deny_warnings;
        report.unreadable = unreadable
            .into_iter()
            .map(|u| vhdlint_report::Unreadable {
                path: redact(&u.path),
                error: redact(&u.error),
            })
            .collect();
        for e in &expired {
            eprintln!(
                "vhdlint: the waiver of {} for {} expired on {}; ignored",
                e.waiver.check,
                e.image,
                e.waiver.expires.as_deref().unwrap_or("?")
            );
        }
        report.expired_waivers = expired;
        let text = render(
            &report,
            self.format,
            self.output.is_none(),
            self.questionnaire.as_deref(),
            &self.today,
        );
        write_report(self.output.as_deref(), &text)?;
        if self.timings {
            eprint!("{}", timings_text(&report.images));
        }
        Ok(exit_code(&report, self.deny_warnings))
    }
}

fn merge(a: MergeArgs) -> Result<u8> {
    let answers = match &a.questionnaire {
        Some(p) => Some(vhdlint_rules::config::load_questionnaire(p)?),
        None => None,
    };
    let report = merge::merge(&a.reports, a.partial)?;
    for u in &report.unreadable {
        eprintln!("vhdlint: {}: not linted: {}", u.path, u.error);
    }
    for i in report.images.iter().filter(|i| i.void.is_some()) {
        eprintln!(
            "vhdlint: {}: {}",
            i.path,
            i.void.as_deref().unwrap_or_default()
        );
    }
    let today = vhdlint_rules::config::today();
    let text = render(
        &report,
        a.format,
        a.output.is_none(),
        answers.as_deref(),
        &today,
    );
    write_report(a.output.as_deref(), &text)?;
    Ok(exit_code(&report, a.deny_warnings || report.deny_warnings))
}

/// The report in `format`; `to_stdout`: written to standard output (the table is coloured
/// and fitted to the terminal when that is one).
fn render(
    report: &Report,
    format: CheckFormat,
    to_stdout: bool,
    answers: Option<&[(String, String)]>,
    today: &str,
) -> String {
    match format {
        CheckFormat::Json => report.to_json() + "\n",
        CheckFormat::Junit => vhdlint_report::junit::render(report),
        CheckFormat::Sarif => vhdlint_report::sarif::render(report),
        CheckFormat::Html => vhdlint_report::html::render_with_date(report, answers, Some(today)),
        CheckFormat::Markdown => vhdlint_report::markdown::render(report, answers),
        CheckFormat::Github => vhdlint_report::annotations::github(report),
        CheckFormat::Azure => vhdlint_report::annotations::azure(report),
        CheckFormat::Table => {
            let to_terminal = to_stdout && std::io::stdout().is_terminal();
            let width = terminal_width().filter(|_| to_terminal);
            vhdlint_report::table::render(
                report,
                to_terminal && std::env::var_os("NO_COLOR").is_none(),
                width,
            )
        }
    }
}

/// Writes the report to `output`, or to standard output.
fn write_report(output: Option<&std::path::Path>, text: &str) -> Result<()> {
    match output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            Ok(())
        }
    }
}

/// The exit code of a report (see EXIT_CODES): 2 when an image could not be read or its
/// results are void, 1 on a failure or error not waived (or a warning, with
/// `--deny-warnings`), else 0.
fn exit_code(report: &Report, deny_warnings: bool) -> u8 {
    if !report.unreadable.is_empty() || report.images.iter().any(|i| i.void.is_some()) {
        2
    } else if report.any(Status::Fail)
        || report.any(Status::Error)
        || (deny_warnings && report.any(Status::Warning))
    {
        1
    } else {
        0
    }
}

/// The `--timings` table: per image, one line per check and shared fact (wall time, bytes
/// read), slowest first, then the total. Each line's figures are its own: a shared fact is a
/// line of its own and is left out of the check that first needed it.
fn timings_text(images: &[vhdlint_rules::ImageReport]) -> String {
    let mut s = String::new();
    for r in images {
        let Some(t) = &r.timings else { continue };
        s.push_str(&format!(
            "timings of {} (slowest first; a check's figures leave out the shared facts it \
             was the first to need, which have lines of their own)\n",
            r.path
        ));
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        for e in &t.entries {
            s.push_str(&format!(
                "{:>10.3} ms {:>14} bytes  {:<5} {}\n",
                ms(e.elapsed),
                e.bytes_read,
                e.kind.as_str(),
                e.name
            ));
        }
        s.push_str(&format!(
            "{:>10.3} ms {:>14} bytes  total\n",
            ms(t.elapsed),
            t.bytes_read
        ));
    }
    s
}

/// Opens an image: a local file, or an http(s) URL read in place with range requests. The
/// image's name in reports and errors never carries a SAS signature.
fn open_image(image: &std::ffi::OsStr) -> Result<Image> {
    use vhdlint_rules::publish::manifest::is_url;
    match image.to_str() {
        Some(url) if is_url(url) => {
            let shown = redact(url.trim());
            let mut opts = vhdlint_remote::RemoteOptions::default();
            if let Some(n) = MAX_FETCH.get() {
                opts.max_fetch_bytes = *n;
            }
            let src = vhdlint_remote::HttpSource::open(url.trim(), opts)
                .map_err(|e| anyhow::anyhow!("{}", redact(&e.to_string())))?;
            Ok(Image::from_source(shown, Arc::new(src)))
        }
        // A path may hold anything, a SAS query saved in a file name included: errors and
        // reports show it redacted.
        _ => Image::open(std::path::Path::new(image))
            .map_err(|e| anyhow::anyhow!("{}", redact(&e.to_string()))),
    }
}

fn check(a: CheckArgs) -> Result<u8> {
    let s = session(a.common)?;
    let profile = match (a.profile, &s.cfg.profile) {
        (Some(p), _) => p,
        (None, Some(p)) => p.parse().map_err(|e: String| {
            anyhow::anyhow!(
                "{}: profile: {e}",
                s.config_path
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            )
        })?,
        (None, None) => ProfileChoice::Auto,
    };
    let mut list = fleet::image_list(&a.images, a.from.as_deref())?;
    let shard = fleet::shard(a.shard.as_deref(), a.shard_from_env.as_deref())?;
    let mut s = s;
    if let Some(shard) = shard {
        s.shard = Some(vhdlint_report::Shard {
            index: shard.index,
            count: shard.count,
            list: list.len(),
            list_digest: Some(vhdlint_report::list_digest(
                list.iter().map(|i| i.to_str().unwrap_or("\u{fffd}")),
            )),
        });
        let whole = list.len();
        list = fleet::slice(list, shard);
        if list.is_empty() {
            eprintln!(
                "vhdlint: shard {}/{} has no image ({whole} in the list)",
                shard.index, shard.count
            );
        }
    }
    let opts = s.options(profile);
    let mut reports = Vec::new();
    let mut unreadable = Vec::new();
    for image in &list {
        let text = image.to_string_lossy();
        match open_image(image) {
            Ok(img) => {
                let mut r = s.run(&img, &opts);
                if has_sas(&text) {
                    r.checks.extend(sas_result(&text, &s.policy));
                }
                reports.push(r);
            }
            Err(e) => {
                eprintln!("vhdlint: {e}");
                unreadable.push(vhdlint_report::Unreadable {
                    path: text.to_string(),
                    error: format!("{e:#}"),
                });
                // A blob that cannot be read because of its SAS token: say what is wrong with it.
                if has_sas(&text) {
                    reports.push(sas_entry(&text, &s.policy));
                }
            }
        }
    }
    s.finish(reports, unreadable)
}

/// The sections of the man page that are not a command's help.
const MAN_TAIL: &str = r#".SH "EXIT STATUS"
For check, sas, sku and merge:
.TP
\fB0\fR
no check failed or ended in error (warnings allowed)
.TP
\fB1\fR
a check failed, or ended in error (it could not look: unknown is never a pass), or a warning
with \fB--deny-warnings\fR; waived results do not count
.TP
\fB2\fR
usage error, or an image that could not be opened or read at all
.PP
fix exits 0 when the script was written and 2 when the image could not be read.
.SH FILES
.TP
\fBvhdlint.toml\fR
the configuration read from the current directory when \fB--config\fR is not given: profile,
policy, waivers, selected and ignored checks.
.SH "SEE ALSO"
\fBvhdlint explain\fR \fIID\fR for what a check looks at, why it matters and how to fix it;
\fBvhdlint rules\fR for every check.
"#;

/// The man page: vhdlint(1) with a section per command (clap_mangen renders the same help
/// text `--help` shows), the exit codes and the report contract's pointers.
fn man() -> Result<u8> {
    let cmd = Cli::command().about("lint VHD disk images for the Azure Marketplace, offline");
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let sub = sub
            .clone()
            .display_name(format!("vhdlint-{name}"))
            .bin_name(format!("vhdlint {name}"));
        let m = clap_mangen::Man::new(sub);
        out.extend_from_slice(format!(".SH \"VHDLINT {}\"\n", name.to_uppercase()).as_bytes());
        m.render_synopsis_section(&mut out)?;
        m.render_description_section(&mut out)?;
        m.render_options_section(&mut out)?;
    }
    out.extend_from_slice(MAN_TAIL.as_bytes());
    page.render_version_section(&mut out)?;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&out);
    let _ = stdout.flush();
    Ok(0)
}

fn fix(a: FixArgs) -> Result<u8> {
    let s = session(CommonArgs {
        policy: a.policy,
        config: a.config,
        waivers: a.waivers,
        questionnaire: None,
        format: CheckFormat::Table,
        output: None,
        select: a.select,
        ignore: a.ignore,
        deny_warnings: false,
        jobs: a.jobs,
        quiet: a.quiet,
        generation: a.generation,
        timings: false,
        remote: a.remote,
    })?;
    let profile = match (a.profile, &s.cfg.profile) {
        (Some(p), _) => p,
        (None, Some(p)) => p
            .parse()
            .map_err(|e: String| anyhow::anyhow!("profile: {e}"))?,
        (None, None) => ProfileChoice::Auto,
    };
    let img = match open_image(&a.image) {
        Ok(img) => img,
        Err(e) => {
            eprintln!("vhdlint: {e}");
            return Ok(2);
        }
    };
    let mut r = s.run(&img, &s.options(profile));
    r.path = redact(&r.path);
    if let Some(why) = &r.void {
        eprintln!("vhdlint: {}: {}", r.path, redact(why));
        return Ok(2);
    }
    for e in
        vhdlint_rules::config::settle(&mut r, &s.selection, &s.cfg.severity, &s.waivers, &s.today)
    {
        eprintln!(
            "vhdlint: the waiver of {} for {} expired on {}; ignored",
            e.waiver.check,
            e.image,
            e.waiver.expires.as_deref().unwrap_or("?")
        );
    }
    let about = vhdlint_rules::fix::ScriptFor {
        version: env!("CARGO_PKG_VERSION"),
        policy: &s.policy.name,
    };
    let format = a.format.unwrap_or(match r.profile {
        vhdlint_rules::Profile::WindowsOs => FixFormat::Powershell,
        _ => FixFormat::Sh,
    });
    let script = match format {
        FixFormat::Sh => vhdlint_rules::fix::sh_script(&r, &about),
        FixFormat::VirtCustomize => vhdlint_rules::fix::virt_customize_script(&r, &about),
        FixFormat::Powershell => vhdlint_rules::fix::powershell::ps_script(&r, &about),
    };
    match &a.output {
        Some(p) => std::fs::write(p, script).with_context(|| format!("writing {}", p.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(script.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(0)
}

fn sas(uri: &str, common: CommonArgs) -> Result<u8> {
    let s = session(common)?;
    let entry = sas_entry(uri, &s.policy);
    s.finish(vec![entry], Vec::new())
}

fn sku(manifest_path: &std::path::Path, common: CommonArgs) -> Result<u8> {
    use vhdlint_rules::publish::manifest::{Location, Manifest};
    let s = session(common)?;
    let m = Manifest::load(manifest_path)?;
    let publish =
        vhdlint_rules::publish::manifest_entry(&m, &manifest_path.display().to_string(), &s.policy);
    let disks = vhdlint_rules::publish::sku_disks(&m);
    let mut reports = vec![publish];
    let mut unreadable = Vec::new();
    for (image, profile) in disks {
        let (img, url) = match Manifest::locate(&image, manifest_path) {
            Location::File(p) => (open_image(p.as_os_str()), None),
            Location::Url(u) => (open_image(std::ffi::OsStr::new(&u)), Some(u)),
        };
        match img {
            Ok(img) => {
                let mut opts = s.options(ProfileChoice::Fixed(profile));
                if opts.generation == vhdlint_rules::Generation::Auto {
                    opts.generation = m.generation.unwrap_or_default();
                }
                let mut r = s.run(&img, &opts);
                if let Some(u) = url {
                    r.checks.extend(sas_result(&u, &s.policy));
                }
                reports.push(r);
            }
            Err(e) => {
                eprintln!("vhdlint: {e}");
                unreadable.push(vhdlint_report::Unreadable {
                    path: image.clone(),
                    error: format!("{e:#}"),
                });
                if let Some(u) = url {
                    reports.push(sas_entry(&u, &s.policy));
                }
            }
        }
    }
    s.finish(reports, unreadable)
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(160))
}

fn profiles(p: &[Profile]) -> Vec<&'static str> {
    p.iter().map(Profile::as_str).collect()
}

fn rules(json: bool) -> Result<()> {
    if json {
        let list: Vec<_> = CATALOGUE
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id,
                    "title": m.title,
                    "profiles": profiles(m.profiles),
                    "policies": m.policies,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for m in CATALOGUE {
            outln!(
                "{:<26} {:<28} {}",
                m.id,
                m.title,
                profiles(m.profiles).join(", ")
            );
        }
    }
    Ok(())
}

/// The policies a check is part of, in words.
fn policies_text(m: &vhdlint_rules::CheckMeta) -> String {
    match m.policies {
        [one] => format!("policy {one} only"),
        all => format!("policies {}", all.join(" and ")),
    }
}

/// What a check applies to, in words.
fn applies_to(m: &vhdlint_rules::CheckMeta) -> String {
    if m.profiles == [Profile::Publish] {
        "what is submitted with the disks (`vhdlint sas`, `vhdlint sku`)".into()
    } else {
        format!("{} disks", profiles(m.profiles).join(" and "))
    }
}

/// A check's section of the policies, as a policy file writes it: once when `guide` and
/// `current` agree, else once for each.
fn thresholds_text(id: &str) -> Option<String> {
    let (guide, current) = (Policy::guide().section(id)?, Policy::current().section(id)?);
    let intro = "Set in a policy file (`--policy FILE`) by this section";
    Some(if guide == current {
        format!("{intro}; both policies:\n\n```toml\n{guide}```\n")
    } else {
        format!("{intro}. The guide policy:\n\n```toml\n{guide}```\n\nThe current policy:\n\n```toml\n{current}```\n")
    })
}

/// The rules reference, generated from the checks' metadata.
/// How every check's result counts, said by `explain` and the rules reference.
const RESULTS: &str = "Every check ends in pass, fail, warning, skipped (it does not apply to this image or profile, with the reason) or error (it could not be evaluated: what it needs could not be read, with the reason). Unknown is never a pass: an error makes the run exit 1 like a failure unless a waiver accepts it; a warning does so only with --deny-warnings.";

fn rules_markdown() -> String {
    let mut o = format!("# vhdlint rules\n\nGenerated from the checks' metadata by `vhdlint rules --format markdown`; do not edit by hand.\n\n{RESULTS}\n\n| ID | Check | Applies to |\n|---|---|---|\n");
    for m in CATALOGUE {
        let anchor = m.id.replace('/', "");
        o.push_str(&format!(
            "| [{}](#{anchor}) | {} | {} |\n",
            m.id,
            m.title,
            profiles(m.profiles).join(", ")
        ));
    }
    for &m in CATALOGUE {
        o.push_str(&format!(
            "\n## {}\n\n**{}** — applies to {}; {}.\n\n",
            m.id,
            m.title,
            applies_to(m),
            policies_text(m)
        ));
        o.push_str(&format!(
            "### What it checks\n\n{}\n\n### Why it matters\n\n{}\n\n### How to fix\n\n{}\n\n",
            m.what, m.why, m.remedy
        ));
        if let Some(f) = fix_text(m.id) {
            o.push_str(&format!("### vhdlint fix\n\n{f}\n\n"));
        }
        if let Some(t) = thresholds_text(m.id) {
            o.push_str(&format!("### Thresholds\n\n{t}\n"));
        }
        o.push_str("### Sources\n\n");
        for s in m.sources {
            o.push_str(&format!("- {s}\n"));
        }
    }
    o
}

/// What `vhdlint fix` does for a check (`None` for what is not a check of the image).
fn fix_text(id: &str) -> Option<String> {
    use vhdlint_rules::fix::Fix;
    Some(match vhdlint_rules::fix::fix_of(id)? {
        Fix::Script(_) => "`vhdlint fix` writes a block for its failures and warnings (`--format sh`, and as `--format virt-customize`).".to_string(),
        Fix::PowerShell(_) => "`vhdlint fix` writes a block for its failures and warnings (`--format powershell`, run before sysprep).".to_string(),
        Fix::Manual(why) => format!("Not in `vhdlint fix`'s script: {why}. The remedy above says what to do."),
    })
}

fn explain(id: &str) -> Result<()> {
    let Some(m) = vhdlint_rules::find(id) else {
        bail!("no check has the ID '{id}' (see `vhdlint rules`)");
    };
    outln!("# {} ({})\n", m.title, m.id);
    outln!("Applies to: {}; {}\n", applies_to(m), policies_text(m));
    outln!("## What it checks\n{}\n", m.what);
    outln!("## Why it matters\n{}\n", m.why);
    outln!("## How to fix\n{}\n", m.remedy);
    if let Some(f) = fix_text(m.id) {
        outln!("## vhdlint fix\n{f}\n");
    }
    if let Some(t) = thresholds_text(m.id) {
        outln!("## Thresholds\n{t}");
    }
    outln!("## Results\n{RESULTS}\n");
    outln!("## Sources");
    for s in m.sources {
        outln!("- {s}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("8mb"), Ok(8 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2t"), Ok(2 << 40));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("100B"), Ok(100));
        for bad in ["", "M", "1.5G", "-1", "1X", "0", "1 GiBs", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
