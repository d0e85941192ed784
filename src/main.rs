//! The command line: parses arguments, calls the library, prints what happened.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bantin::diag::Diagnostics;

/// mimalloc: rendering makes and frees millions of small strings on every thread; it
/// does that faster than the system allocator and gives memory back between stages.
/// Built without transparent huge pages (`no_thp` in Cargo.toml): with them, every
/// 2 MiB the heap grows by is zeroed at once, which cost a fifth of a 1,000-report
/// build's peak memory and a third of its system time here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use bantin::progress::Progress;
use bantin::BuildOptions;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bantin",
    version,
    about = "Static bulletin sites from Markdown meeting reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder (public/ by default).
    Build {
        /// The site's folder.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The output folder; default: public/ inside the root.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also build reports marked `draft = true`.
        #[arg(long)]
        drafts: bool,
        /// The address the site is published at (for feeds and the sitemap).
        #[arg(long)]
        base_url: Option<String>,
        /// Print how long each stage takes (instead of the progress bar).
        #[arg(long)]
        timings: bool,
    },
    /// Check everything a build would, writing nothing; exit 1 on any error.
    Check {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Also check reports marked `draft = true`.
        #[arg(long)]
        drafts: bool,
    },
    /// Build the site and serve it on this computer; rebuild and reload open pages on every change.
    Serve {
        /// The site's folder.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The port; default 1111, or any free port if it is taken; 0: any free port.
        #[arg(long)]
        port: Option<u16>,
        /// The address to listen on (127.0.0.1: this computer only; 0.0.0.0: every network).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Also build reports marked `draft = true`.
        #[arg(long)]
        drafts: bool,
        /// Open the site in the browser.
        #[arg(long)]
        open: bool,
    },
    /// Start a new site in DIR.
    Init { dir: PathBuf },
    /// Write a new report at content/YYYY/MM/SLUG.md.
    New {
        title: String,
        /// The id of the report's unit in units.toml.
        #[arg(long)]
        unit: String,
        /// Its date: 2023-09-13 or 2023-09-13T14:00:00+07:00 (default: now).
        #[arg(long)]
        date: Option<String>,
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

fn print(diags: &Diagnostics) {
    for d in &diags.0 {
        eprintln!("{d}\n");
    }
}

fn report_failure(diags: &Diagnostics) -> ExitCode {
    print(diags);
    let errors = diags.errors().count();
    eprintln!(
        "{errors} error{} found; nothing was written.",
        if errors == 1 { "" } else { "s" }
    );
    ExitCode::FAILURE
}

/// mimalloc gives freed memory back to the system `purge_delay` ms after it is freed
/// (1 s in the mimalloc built here). 5 ms keeps a 10,000-report build's peak memory
/// about a tenth lower (230 -> 206 MB here) for a few hundredths of a second of
/// system time. 15 is that option's number in the mimalloc this crate builds (3.x,
/// `mi_option_purge_delay`, checked against MIMALLOC_PURGE_DELAY); it is set only
/// while it still reads as a default of it (1000 or 10) and no MIMALLOC_PURGE_DELAY
/// says otherwise.
fn tune_allocator() {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: reading and setting a mimalloc option; both only touch its option table.
    unsafe {
        if matches!(libmimalloc_sys::mi_option_get(PURGE_DELAY), 1000 | 10) {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 5);
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            root,
            out,
            drafts,
            base_url,
            timings,
        } => {
            let started = Instant::now();
            let base_url = match base_url
                .as_deref()
                .map(bantin::config::base_url_from_cli)
                .transpose()
            {
                Ok(url) => url,
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::FAILURE;
                }
            };
            let out = out.unwrap_or_else(|| root.join("public"));
            let options = BuildOptions {
                drafts,
                base_url,
                strict_links: false,
                timings,
                // --timings prints each stage already; a bar would be drawn over it.
                progress: if timings {
                    Progress::off()
                } else {
                    Progress::for_stderr()
                },
            };
            match bantin::build(&root, &out, &options) {
                Ok(summary) => {
                    print(&summary.warnings);
                    println!(
                        "Built {} reports: {} pages and {} files into {} ({} changed) in {} ms.",
                        summary.reports,
                        summary.pages,
                        summary.files,
                        shown(&out),
                        summary.written.written,
                        started.elapsed().as_millis()
                    );
                    ExitCode::SUCCESS
                }
                Err(diags) => report_failure(&diags),
            }
        }
        Command::Check { root, drafts } => {
            let diags = bantin::check(&root, drafts, Progress::for_stderr());
            print(&diags);
            let errors = diags.errors().count();
            let warnings = diags.warnings().count();
            if errors > 0 {
                eprintln!("{errors} error(s), {warnings} warning(s).");
                ExitCode::FAILURE
            } else {
                println!("No errors ({warnings} warning(s)).");
                ExitCode::SUCCESS
            }
        }
        Command::Serve {
            root,
            port,
            bind,
            drafts,
            open,
        } => {
            let served = bantin::serve::parse_bind(&bind).and_then(|bind| {
                bantin::serve::run(&bantin::serve::ServeOptions {
                    root,
                    port,
                    bind,
                    drafts,
                    open,
                })
            });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Init { dir } => match bantin::scaffold::init(&dir) {
            Ok(files) => {
                for f in files {
                    println!("created {}", f.display());
                }
                println!("Build it with: bantin build --root {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(d) => report_failure(&Diagnostics(vec![d])),
        },
        Command::New {
            title,
            unit,
            date,
            root,
        } => match bantin::scaffold::new_report(&root, &title, &unit, date.as_deref()) {
            Ok(path) => {
                println!("created {}", root.join(path).display());
                ExitCode::SUCCESS
            }
            Err(diags) => report_failure(&Diagnostics(diags)),
        },
    }
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}
