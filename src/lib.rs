//! bantin: a static site generator for bulletins of meeting reports.
//!
//! One direction of data: [`load`] (bantin.toml, units.toml, content/, theme) →
//! [`site`] (the model: every index and page) → [`render`] (Tera) → [`output`]
//! (written whole or not at all).

// Diagnostics are large values on cold paths: boxing them would buy nothing.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod context;
pub mod diag;
pub mod feeds;
pub mod lang;
pub mod load;
pub mod markdown;
pub mod output;
pub mod progress;
pub mod render;
pub mod report;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod site;
pub mod theme;
pub mod tomldoc;
pub mod units;

use std::path::Path;

use diag::{Diagnostic, Diagnostics};
pub use site::BuildOptions;

/// What a successful build did.
#[derive(Debug)]
pub struct BuildSummary {
    pub reports: usize,
    pub pages: usize,
    pub files: usize,
    /// Output files whose bytes changed; the others kept their bytes and times.
    pub written: output::WriteStats,
    /// Warnings: printed, changing nothing else.
    pub warnings: Diagnostics,
}

/// Stack of the threads that parse, render and template a site. Markdown, HTML and the
/// unit tree (up to [`units::MAX_DEPTH`] levels, walked by recursive template macros)
/// are nested structures; a default 2 MiB thread stack holds fewer than a hundred
/// levels of a Tera macro in a debug build. Only the pages of the stack that are used
/// take memory.
pub const RENDER_STACK: usize = 256 << 20;

/// Runs `f` on the rendering threads: a pool of big-stack threads, made once. Parallel
/// work started inside `f` runs on the same threads.
pub fn on_render_threads<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(RENDER_STACK)
            .thread_name(|i| format!("bantin-render-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Loads, models and renders the site without writing anything.
pub fn render_all(
    root: &Path,
    options: &BuildOptions,
) -> Result<(site::Site, Vec<render::Rendered>), Diagnostics> {
    on_render_threads(|| render_all_here(root, options))
}

fn render_all_here(
    root: &Path,
    options: &BuildOptions,
) -> Result<(site::Site, Vec<render::Rendered>), Diagnostics> {
    let mut timer = Timings::start(options.timings);
    let progress = &options.progress;
    progress.stage("load", "reports", None);
    let source = load::load(root)?;
    progress.add(source.reports.len());
    timer.stage("load and parse");
    progress.stage("model", "reports", None);
    let site = site::Site::build(source, options)?;
    progress.add(site.entries.len());
    timer.stage("model and Markdown");
    progress.stage("render", "pages", Some(site.pages.len()));
    let tera = render::load_templates(&site)?;
    let pages = render::render_site(&site, &tera)?;
    let clashes = site.check_output_paths(&pages);
    if clashes.has_errors() {
        return Err(clashes);
    }
    timer.stage("render");
    Ok((site, pages))
}

/// `--timings`: how long each stage took, printed to stderr as it ends.
pub struct Timings {
    on: bool,
    last: std::time::Instant,
}

impl Timings {
    pub fn start(on: bool) -> Timings {
        Timings {
            on,
            last: std::time::Instant::now(),
        }
    }

    pub fn stage(&mut self, name: &str) {
        if self.on {
            eprintln!("{name:>20}: {:>6} ms", self.last.elapsed().as_millis());
        }
        self.last = std::time::Instant::now();
    }
}

/// `bantin build`: the whole site into `out`, or nothing changed on any error.
pub fn build(root: &Path, out: &Path, options: &BuildOptions) -> Result<BuildSummary, Diagnostics> {
    let built = build_here(root, out, options);
    match &built {
        Ok(_) => options.progress.finish(),
        Err(_) => options.progress.abandon(),
    }
    built
}

fn build_here(
    root: &Path,
    out: &Path,
    options: &BuildOptions,
) -> Result<BuildSummary, Diagnostics> {
    output::check_out_dir(root, out).map_err(|d| Diagnostics(vec![d]))?;
    let (site, pages) = render_all(root, options)?;
    let mut timer = Timings::start(options.timings);
    let progress = &options.progress;
    progress.stage("write", "files", Some(pages.len() + site.files.len()));
    let written = output::write_site(out, &pages, &site.files, progress);
    timer.stage("write");
    let written = written.map_err(|e| {
        Diagnostics(vec![Diagnostic::error(out, format!("cannot write the output: {e}"))
            .hint("check that the folder is writable and the disk has room; the previous output is unchanged")])
    })?;
    Ok(BuildSummary {
        reports: site.entries.len(),
        pages: pages.len(),
        files: site.files.len(),
        written,
        warnings: site.diagnostics,
    })
}

/// `bantin check`: every problem `build` would meet, with dead links as errors.
/// `progress` shows the stages of a long check (load, model, render).
pub fn check(root: &Path, drafts: bool, progress: progress::Progress) -> Diagnostics {
    let options = BuildOptions {
        drafts,
        strict_links: true,
        progress,
        ..BuildOptions::default()
    };
    let checked = render_all(root, &options);
    match checked {
        Ok((site, _)) => {
            options.progress.finish();
            site.diagnostics
        }
        Err(diags) => {
            options.progress.abandon();
            diags
        }
    }
}
