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
pub mod incremental;
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
    static POOL: ThreadPool = ThreadPool::new();
    POOL.install("bantin-render", None, f)
}

/// A pool of big-stack threads (templates recurse deeply), made on first use; where it
/// cannot be made, work runs on the caller's thread.
pub struct ThreadPool(std::sync::OnceLock<Option<rayon::ThreadPool>>);

impl ThreadPool {
    pub const fn new() -> ThreadPool {
        ThreadPool(std::sync::OnceLock::new())
    }

    /// Runs `f` in the pool, made the first time with threads named `name-N`, as many
    /// as `threads` (default: one a core).
    pub fn install<T: Send>(
        &self,
        name: &'static str,
        threads: Option<usize>,
        f: impl FnOnce() -> T + Send,
    ) -> T {
        let pool = self.0.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .stack_size(RENDER_STACK)
                .thread_name(move |i| format!("{name}-{i}"))
                .build()
                .ok()
        });
        match pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

impl Default for ThreadPool {
    fn default() -> ThreadPool {
        ThreadPool::new()
    }
}

/// Loads, models and renders the site without writing anything.
pub fn render_all(
    root: &Path,
    options: &BuildOptions,
) -> Result<(site::Site, Vec<render::Rendered>), Diagnostics> {
    on_render_threads(|| {
        let pages = std::sync::Mutex::new(Vec::new());
        let site = render_with(root, options, &|r| {
            pages.lock().unwrap_or_else(|e| e.into_inner()).push(r);
            Ok(())
        })?;
        let mut pages = pages.into_inner().unwrap_or_else(|e| e.into_inner());
        pages.sort_by(|a, b| a.path.cmp(&b.path));
        let clashes = site.check_output_paths(pages.iter().map(|p| p.path.as_str()));
        if clashes.has_errors() {
            return Err(clashes);
        }
        Ok((site, pages))
    })
}

/// What `serve` keeps from one build to the next, so that a rebuild redoes only what
/// the changed files change: reports whose file is unchanged are not parsed again,
/// Markdown whose text and link targets are unchanged not rendered again, and pages
/// whose fingerprint is unchanged keep their bytes; and the model itself, patched in
/// place when only known reports were saved (see [`incremental`]).
#[derive(Default)]
pub struct BuildCache {
    pub reports: load::ReportCache,
    pub markdown: site::MarkdownCache,
    pub pages: render::PageCache,
    /// The model of the last good build.
    pub model: Option<incremental::Model>,
}

impl BuildCache {
    /// Forgets the model and what its pages were rendered with. They are dropped on a
    /// thread of their own: freeing a 10,000-report model takes about 25 ms, which a
    /// rebuild need not wait for.
    pub fn forget_model(&mut self) {
        let old = (self.model.take(), self.pages.take_kept());
        if old.0.is_some() || old.1.is_some() {
            std::thread::spawn(move || drop(old));
        }
    }
}

/// [`render_all`] for `serve`: through `cache`, and without the search index (see
/// [`search::index_files`], which `serve` runs once the pages are served). `saved`:
/// reports (under content/) the caller knows were saved in place since the last
/// build, when nothing else changed: the last model is patched if it can be. Every
/// file but the index, sorted by path (or, after a patch, the files made again), with
/// how many pages were rendered again. The site is left in `cache.model`.
pub fn render_all_cached(
    root: &Path,
    options: &BuildOptions,
    cache: &mut BuildCache,
    saved: &[String],
) -> Result<render::CachedRender, Diagnostics> {
    on_render_threads(|| {
        if !saved.is_empty() {
            if let Some(patched) = incremental::patch(root, cache, saved) {
                return Ok(patched);
            }
            // Only those reports changed: the load need not walk content/ again.
            cache.reports.trust_next_load();
        }
        cache.forget_model();
        let mut timer = Timings::start(options.timings);
        let site = load_and_model(root, options, Some(cache), &mut timer)?;
        let tera = render::load_templates(&site)?;
        // Its files are the planned ones, already checked in `load_and_model`.
        let rendered = render::render_site_cached(&site, &tera, &mut cache.pages)?;
        let inputs = cache.markdown.inputs.take();
        let inputs = inputs.expect("a model built through the cache leaves its inputs there");
        cache.model = Some(incremental::Model::new(site, inputs, options.strict_links));
        Ok(rendered)
    })
}

/// Loads and models the site, and hands every rendered file to `sink`.
fn render_with(
    root: &Path,
    options: &BuildOptions,
    sink: render::Sink,
) -> Result<site::Site, Diagnostics> {
    let mut timer = Timings::start(options.timings);
    let site = load_and_model(root, options, None, &mut timer)?;
    options
        .progress
        .stage("render", "pages", Some(site.pages.len()));
    let tera = render::load_templates(&site)?;
    render::render_site_into(&site, &tera, sink)?;
    timer.stage("render");
    Ok(site)
}

/// Loads and models the site (through `cache` where given), and checks the output
/// paths known before rendering: an output that would stand where another needs a
/// folder (an alias `feed.xml/`) would fail the write halfway, so it is named before
/// anything is written.
fn load_and_model(
    root: &Path,
    options: &BuildOptions,
    cache: Option<&mut BuildCache>,
    timer: &mut Timings,
) -> Result<site::Site, Diagnostics> {
    let progress = &options.progress;
    let (reports, markdown) = match cache {
        Some(c) => (Some(&mut c.reports), Some(&mut c.markdown)),
        None => (None, None),
    };
    progress.stage("load", "reports", None);
    let source = load::load_cached(root, reports)?;
    progress.add(source.reports.len());
    timer.stage("load and parse");
    progress.stage("model", "reports", None);
    let site = site::Site::build_cached(source, options, markdown)?;
    progress.add(site.entries.len());
    timer.stage("model and Markdown");
    let clashes = site.check_output_paths(planned_paths(&site).iter().map(String::as_str));
    if clashes.has_errors() {
        return Err(clashes);
    }
    Ok(site)
}

/// The output paths known before rendering: pages, redirects, feeds and sitemap (the
/// search index's files are named as it is built).
fn planned_paths(site: &site::Site) -> Vec<String> {
    let mut paths: Vec<String> = site.pages.iter().map(|p| p.file.clone()).collect();
    paths.extend(site.aliases.iter().map(|(p, _)| p.clone()));
    if site.config.base_url.is_some() {
        paths.push("feed.xml".into());
        paths.push("sitemap.xml".into());
        for (u, unit) in site.units.units.iter().enumerate() {
            if !site.unit_reports[u].is_empty() {
                paths.push(format!("don-vi/{}/feed.xml", unit.id));
            }
        }
    }
    paths
}

/// The process's peak resident memory, where the system tells it (Linux).
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// The CPU time (user and system, all threads) the process has used so far, where the
/// system tells it: beside the wall time, it shows how well a stage used the cores.
fn cpu_time() -> Option<std::time::Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; it is zeroed, so valid either way.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Some(std::time::Duration::from_micros(
        micros(usage.ru_utime) + micros(usage.ru_stime),
    ))
}

/// `--timings`: how long each stage took, printed to stderr as it ends.
pub struct Timings {
    on: bool,
    last: std::time::Instant,
    last_cpu: Option<std::time::Duration>,
}

impl Timings {
    pub fn start(on: bool) -> Timings {
        Timings {
            on,
            last: std::time::Instant::now(),
            last_cpu: cpu_time(),
        }
    }

    pub fn stage(&mut self, name: &str) {
        let cpu = cpu_time();
        if self.on {
            let ms = self.last.elapsed().as_millis();
            let cpu_ms = match (cpu, self.last_cpu) {
                (Some(now), Some(then)) => {
                    format!(", CPU {:>6} ms", now.saturating_sub(then).as_millis())
                }
                _ => String::new(),
            };
            match peak_memory_mb() {
                Some(mb) => {
                    eprintln!("{name:>20}: {ms:>6} ms{cpu_ms}   (peak memory so far {mb} MB)")
                }
                None => eprintln!("{name:>20}: {ms:>6} ms{cpu_ms}"),
            }
        }
        self.last = std::time::Instant::now();
        self.last_cpu = cpu;
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
    let cannot_write = |e: std::io::Error| {
        Diagnostic::error(out, format!("cannot write the output: {e}"))
            .hint("check that the folder is writable and the disk has room; the previous output is unchanged")
    };
    // Pages go to the disk as they are rendered, so the site is never all in memory.
    // A failure anywhere drops the writer, which removes what it wrote.
    let writer = output::Writer::begin(out).map_err(|e| Diagnostics(vec![cannot_write(e)]))?;
    let pages = std::sync::atomic::AtomicUsize::new(0);
    let rendered = on_render_threads(|| {
        render_with(root, options, &|r| {
            pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            writer.put(&r.path, &r.bytes).map_err(cannot_write)
        })
    });
    let mut site = rendered?;
    let paths = writer.paths();
    let clashes = site.check_output_paths(paths.iter().map(String::as_str));
    if clashes.has_errors() {
        return Err(clashes);
    }
    let mut timer = Timings::start(options.timings);
    let progress = &options.progress;
    progress.stage("write", "files", Some(site.files.len()));
    let reports = site.entries.len();
    // The reports' memory is given back beside the copying, not after it on one core.
    let entries = std::mem::take(&mut site.entries);
    let written = on_render_threads(|| {
        rayon::join(
            || drop(entries),
            || writer.copy_files(&site.files, progress),
        )
        .1
    })
    .and_then(|()| writer.commit());
    timer.stage("write");
    let written = written.map_err(|e| Diagnostics(vec![cannot_write(e)]))?;
    Ok(BuildSummary {
        reports,
        pages: pages.into_inner(),
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
