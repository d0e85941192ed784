//! `bantin serve`: the site built in memory and served on this computer, rebuilt on
//! every change of its sources, with open pages reloading themselves.
//!
//! Nothing is written to disk: the rendered pages are kept in memory and copied files
//! are read from where the build found them. A build that fails keeps the last good site
//! served and shows its errors on every open page (an overlay) and in the terminal.
//!
//! Only paths of the built site are served: a request path is percent-decoded once and
//! refused if it has `..` or `.` segments, backslashes, NUL, or names an absolute or
//! drive path; what remains is looked up in the built site, never on disk.
//!
//! The server's own addresses live under `/__bantin/`: `events` (Server-Sent Events:
//! `hello` on connect, then `reload` or `error` after each build), `live.js` (the script
//! injected into every HTML page served), `status` and `files` (JSON, for tools and tests).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use notify::{EventKind, RecursiveMode, Watcher};
use serde_json::json;
use tiny_http::{Header, Method, Request, Response};

use crate::diag::Diagnostics;
use crate::render::escape_html;
use crate::site::{BuildOptions, CopiedFile};
use crate::theme::Bytes;

/// The port tried first when none is given (Zola's).
pub const DEFAULT_PORT: u16 = 1111;
/// A burst of changes (a `git checkout`) is one rebuild: the build waits until the
/// sources have been quiet this long...
const DEBOUNCE: Duration = Duration::from_millis(30);
/// ...or this long, when one file was changed and closed (an editor's save): the
/// write is whole, and a burst would have named more files by now.
const DEBOUNCE_SAVED: Duration = Duration::from_millis(3);
/// ...but no longer than this after the first change.
const DEBOUNCE_MAX: Duration = Duration::from_millis(1000);
/// How often an idle event stream sends a comment, to notice closed pages.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Threads answering ordinary requests (event streams get their own).
const WORKERS: usize = 4;
/// Open event streams at most (each holds a thread).
const MAX_STREAMS: usize = 256;
/// What the site's sources are, under the root: a change anywhere else is not watched.
const SOURCE_FILES: [&str; 2] = ["bantin.toml", "units.toml"];
const SOURCE_DIRS: [&str; 4] = ["content", "templates", "static", "themes"];

/// `bantin serve`'s options.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub root: PathBuf,
    /// None: [`DEFAULT_PORT`], or any free port if it is taken. `Some(0)`: any free port.
    pub port: Option<u16>,
    pub bind: IpAddr,
    pub drafts: bool,
    /// Open the site in the browser once it is served.
    pub open: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            root: PathBuf::from("."),
            port: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            drafts: false,
            open: false,
        }
    }
}

/// `--bind`: an IP address, or `localhost`.
pub fn parse_bind(s: &str) -> Result<IpAddr, String> {
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    s.trim_matches(['[', ']'])
        .parse()
        .map_err(|_| format!("`{s}` is not an IP address (like 127.0.0.1, 0.0.0.0 or ::1)"))
}

/// One file of the served site.
#[derive(Clone)]
enum Served {
    /// A rendered page, feed or redirect (shared with the build cache).
    Page(Arc<Vec<u8>>),
    Embedded(&'static [u8]),
    /// A copied file, read when asked for.
    Disk(PathBuf),
}

/// The last good build.
struct Snapshot {
    /// Counts good builds that changed the site, from 1.
    generation: u64,
    files: HashMap<String, Served>,
}

impl Snapshot {
    /// The same site as `other`, given that no copied file's source changed.
    fn same_as(&self, other: &Snapshot) -> bool {
        self.files.len() == other.files.len()
            && self
                .files
                .iter()
                .all(|(path, a)| match (a, other.files.get(path)) {
                    (Served::Page(a), Some(Served::Page(b))) => Arc::ptr_eq(a, b) || a == b,
                    (Served::Embedded(a), Some(Served::Embedded(b))) => a == b,
                    (Served::Disk(a), Some(Served::Disk(b))) => a == b,
                    _ => false,
                })
    }

    /// Whether any of `sources` (relative to `root`) is read by a copied file.
    fn reads_any<'a>(&self, root: &Path, mut sources: impl Iterator<Item = &'a String>) -> bool {
        let read: std::collections::HashSet<&Path> = self
            .files
            .values()
            .filter_map(|f| match f {
                Served::Disk(p) => Some(p.as_path()),
                _ => None,
            })
            .collect();
        sources.any(|s| read.contains(root.join(s).as_path()))
    }
}

/// The state of builds, as event streams and `/__bantin/status` tell it.
struct Live {
    /// Counts build outcomes, good or not: event streams wake on a change of it.
    seq: u64,
    /// The errors of the last build, if it failed (shown as they are in the terminal).
    errors: Option<String>,
    building: bool,
    /// Changes seen and not yet built.
    pending: bool,
    /// When the last good build began reading the sources (ns since the Unix epoch).
    /// With search on, a build is whole once its index is in: set then.
    started: u128,
    /// The search index of the site served is being made (see [`index_worker`]).
    indexing: bool,
    /// The next site to make the search index of; a newer build replaces it.
    index_job: Option<IndexJob>,
}

/// A built site whose search index is owed.
struct IndexJob {
    generation: u64,
    site: Arc<crate::site::Site>,
    started: u128,
}

struct Shared {
    /// Canonical: copied files are served only from under it.
    root: PathBuf,
    options: BuildOptions,
    site: RwLock<Option<Arc<Snapshot>>>,
    /// What the last build leaves for the next one: only the rebuild thread locks it.
    cache: Mutex<crate::BuildCache>,
    live: Mutex<Live>,
    changed: Condvar,
    /// Wakes the search index's thread when a job is put in `live`.
    index_wake: Condvar,
    streams: AtomicUsize,
}

/// Builds the site, serves it and rebuilds it on every change; returns only on a
/// problem that stops the server (no site at `root`, the address cannot be bound).
pub fn run(options: &ServeOptions) -> Result<(), String> {
    let root = fs::canonicalize(&options.root).map_err(|e| {
        format!(
            "cannot open the site folder {}: {e}",
            options.root.display()
        )
    })?;
    if !root.join("bantin.toml").is_file() {
        return Err(format!(
            "there is no bantin.toml in {}: run bantin in the site's folder, name it with --root DIR, or make a new site with `bantin init DIR`",
            root.display()
        ));
    }
    let shared = Arc::new(Shared {
        root: root.clone(),
        options: BuildOptions {
            drafts: options.drafts,
            base_url: None,
            strict_links: false,
            timings: false,
            ..BuildOptions::default()
        },
        site: RwLock::new(None),
        cache: Mutex::new(crate::BuildCache::default()),
        live: Mutex::new(Live {
            seq: 0,
            errors: None,
            building: false,
            pending: false,
            started: 0,
            indexing: false,
            index_job: None,
        }),
        changed: Condvar::new(),
        index_wake: Condvar::new(),
        streams: AtomicUsize::new(0),
    });
    {
        let shared = Arc::clone(&shared);
        thread::spawn(move || index_worker(&shared));
    }

    // Watch before the first build, so that a change made during it is not missed.
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx)
        .map_err(|e| format!("cannot watch the site's files: {e}"))?;
    watch_sources(&mut watcher, &root, true)?;

    // The address first: a port that cannot be had stops everything before the build.
    let listener = bind(options.bind, options.port)?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the server's address: {e}"))?;
    rebuild(&shared, &Seen::default());
    // The first site is served whole, its search index in.
    drop(
        shared
            .changed
            .wait_while(shared.live.lock().unwrap_or_else(|e| e.into_inner()), |l| {
                l.indexing
            })
            .unwrap_or_else(|e| e.into_inner()),
    );
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let server = Arc::new(server);
    let url = url_of(addr);
    println!("Serving at {url}");
    if !addr.ip().is_loopback() {
        println!(
            "Note: listening on {}: other computers that reach it can read the site, drafts included.",
            addr.ip()
        );
    }
    println!("Watching for changes; Ctrl-C to stop.");
    if options.open {
        open_browser(&url);
    }

    for _ in 0..WORKERS {
        let server = Arc::clone(&server);
        let shared = Arc::clone(&shared);
        thread::spawn(move || loop {
            match server.recv() {
                Ok(request) => {
                    // A bug met by one request must not take a worker with it.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        handle(&shared, request)
                    }));
                }
                Err(e) => {
                    eprintln!("error: the server stopped: {e}");
                    return;
                }
            }
        });
    }

    watch_loop(&shared, &root, watcher, rx);
    Ok(())
}

fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(ip) => format!("http://{ip}:{}/", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/", addr.port()),
    }
}

/// Binds `port`, or the default port falling back to any free one.
fn bind(ip: IpAddr, port: Option<u16>) -> Result<TcpListener, String> {
    let fail =
        |port: u16, e: io::Error| format!("cannot listen on {}: {e}", SocketAddr::new(ip, port));
    match port {
        Some(port) => TcpListener::bind((ip, port)).map_err(|e| {
            let mut message = fail(port, e);
            if port != 0 {
                message.push_str(
                    " (choose another port with --port N, or --port 0 for any free port)",
                );
            }
            message
        }),
        None => match TcpListener::bind((ip, DEFAULT_PORT)) {
            Ok(listener) => Ok(listener),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                let listener = TcpListener::bind((ip, 0)).map_err(|e| fail(0, e))?;
                if let Ok(addr) = listener.local_addr() {
                    println!(
                        "Port {DEFAULT_PORT} is in use; using port {} instead.",
                        addr.port()
                    );
                }
                Ok(listener)
            }
            Err(e) => Err(fail(DEFAULT_PORT, e)),
        },
    }
}

fn open_browser(url: &str) {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let opened = command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Ok(mut child) = opened {
        thread::spawn(move || child.wait());
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

// ---------------------------------------------------------------------------------
// Building

/// Builds the whole site in memory; on success it becomes the served site, on failure
/// the last good one stays and the errors go to the terminal and every open page.
fn rebuild(shared: &Shared, seen: &Seen) {
    let first = {
        let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
        live.building = true;
        live.pending = false;
        live.seq == 0
    };
    // Named: a file that is there now (not an editor's temporary file, gone already).
    if let Some(named) = seen
        .changed
        .iter()
        .find(|p| shared.root.join(p).is_file())
        .or(seen.changed.first())
    {
        let more = match seen.changed.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        println!("Changed: {named}{more}");
    }
    let started = now_ns();
    let clock = Instant::now();
    // Only this thread locks it, for the whole build: the site stays in it.
    let mut cache = shared.cache.lock().unwrap_or_else(|e| e.into_inner());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        build_cached(shared, seen, &mut cache)
    }));
    let ms = clock.elapsed().as_millis();
    let was_ok = shared
        .live
        .lock()
        .map(|l| l.errors.is_none())
        .unwrap_or(false);
    let mut good = false;
    let errors = match (result, &mut cache.model) {
        (Ok(Ok(rendered)), Some(model)) => {
            good = true;
            let site = &model.site;
            for w in site.diagnostics.warnings() {
                eprintln!("{w}\n");
            }
            let (count, files, reports) =
                (rendered.files.len(), site.files.len(), site.entries.len());
            let (again, whole) = (rendered.rendered, rendered.whole);
            let old = current(shared);
            let (fresh, changed) = next_snapshot(old.as_deref(), rendered, site);
            // Nothing to reload for: a save without a change, a file the build ignores.
            let unchanged = old.is_some()
                && was_ok
                && !seen.rescan
                && !changed
                && !fresh.reads_any(&shared.root, seen.changed.iter());
            if unchanged {
                println!("Rebuilt in {ms} ms: nothing changed.");
                model.prepare();
                let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
                live.started = started;
                live.building = false;
                return;
            }
            let generation = fresh.generation;
            // Only this thread replaces the site: the generation read above stays true.
            let replaced = shared
                .site
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .replace(Arc::new(fresh));
            drop(replaced);
            if first {
                println!("Built {reports} reports: {count} pages and {files} files in {ms} ms.");
            } else if whole {
                println!("Rebuilt in {ms} ms ({again} of {count} pages rendered again, build {generation}).");
            } else {
                println!("Rebuilt in {ms} ms ({again} pages rendered again, the model patched in place, build {generation}).");
            }
            if site.config.search {
                // Open pages reload now; the search index is made on its own thread,
                // and a save meanwhile is built at once.
                let job = IndexJob {
                    generation,
                    site: Arc::clone(&model.site),
                    started,
                };
                {
                    let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
                    live.seq += 1;
                    live.errors = None;
                    live.indexing = true;
                    live.index_job = Some(job);
                    live.building = false;
                }
                shared.changed.notify_all();
                shared.index_wake.notify_all();
                model.prepare();
                return;
            }
            model.prepare();
            None
        }
        (Ok(Ok(_)), None) => Some(internal_error("the build left no site")),
        (Ok(Err(diags)), _) => Some(error_text(&diags)),
        (Err(panic), _) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown");
            Some(internal_error(what))
        }
    };
    if !good {
        // Whatever a failed build left half-made is not trusted.
        *cache = crate::BuildCache::default();
    }
    drop(cache);
    if let Some(text) = &errors {
        eprintln!("{text}");
        let kept = if current(shared).is_some() {
            "still serving the last good build"
        } else {
            "nothing to serve until it is fixed"
        };
        eprintln!("Build failed in {ms} ms; {kept}.");
    }
    let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
    live.seq += 1;
    live.errors = errors;
    live.building = false;
    if good {
        live.started = started;
    }
    shared.changed.notify_all();
}

fn internal_error(what: &str) -> String {
    format!(
        "error: bantin stopped on an internal error: {what}\n  = hint: this is a bug in bantin; the message above says where"
    )
}

/// The build through `cache`: the last model patched when only reports it knew were
/// saved in place, else the whole site (each changed file read again, whatever its
/// size and time say).
fn build_cached(
    shared: &Shared,
    seen: &Seen,
    cache: &mut crate::BuildCache,
) -> Result<crate::render::CachedRender, Diagnostics> {
    if seen.rescan {
        *cache = crate::BuildCache::default();
    }
    let in_place = !seen.rescan
        && !seen.changed.is_empty()
        && seen.changed.len() <= 64
        && seen.changed.iter().all(|p| {
            p.strip_prefix("content/").is_some_and(|s| {
                s.ends_with(".md") && cache.reports.knows(s) && shared.root.join(p).is_file()
            })
        });
    let sources = seen
        .changed
        .iter()
        .filter_map(|p| p.strip_prefix("content/"));
    cache.reports.forget(sources.clone());
    let saved: Vec<String> = match in_place {
        true => sources.map(str::to_string).collect(),
        false => Vec::new(),
    };
    crate::render_all_cached(&shared.root, &shared.options, cache, &saved)
}

/// The site to serve after a build, and whether it differs from `old`. A whole build
/// gives every file (the search index of `old` is served with them until the new one
/// is made); a patch gives the files it made again and those gone.
fn next_snapshot(
    old: Option<&Snapshot>,
    rendered: crate::render::CachedRender,
    site: &crate::site::Site,
) -> (Snapshot, bool) {
    let generation = old.map_or(1, |s| s.generation + 1);
    match old {
        Some(old) if !rendered.whole => {
            let mut files = old.files.clone();
            let mut changed = false;
            for gone in &rendered.removed {
                changed |= files.remove(gone).is_some();
            }
            for (path, bytes) in rendered.files {
                changed |= !matches!(files.get(&path), Some(Served::Page(was)) if Arc::ptr_eq(was, &bytes) || *was == bytes);
                files.insert(path, Served::Page(bytes));
            }
            (Snapshot { generation, files }, changed)
        }
        _ => {
            let mut fresh = snapshot(generation, rendered.files, site.files.clone());
            if site.config.search {
                for (path, served) in old.iter().flat_map(|old| &old.files) {
                    if let (true, Served::Page(bytes)) = (is_search_file(path), served) {
                        fresh
                            .files
                            .entry(path.clone())
                            .or_insert_with(|| Served::Page(bytes.clone()));
                    }
                }
            }
            let changed = !old.is_some_and(|old| fresh.same_as(old));
            (fresh, changed)
        }
    }
}

/// The search index's own thread: makes the index of the newest site built (it takes
/// longer than the pages: at 10,000 reports about 0.6 s of CPU) and serves it with
/// the pages, if that site is still the one served. Builds do not wait for it.
fn index_worker(shared: &Shared) {
    loop {
        let IndexJob {
            generation,
            site,
            started,
        } = {
            let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(job) = live.index_job.take() {
                    break job;
                }
                live = shared
                    .index_wake
                    .wait(live)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            on_index_threads(|| crate::search::index_files(&site))
        }));
        // Let go of the site: the next patch need not copy it.
        drop(site);
        let served = match made {
            Ok(index) => serve_search_index(shared, generation, index),
            Err(_) => {
                eprintln!("error: bantin stopped making the search index on an internal error; search shows the last index until the next change");
                false
            }
        };
        let mut live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.index_job.is_none() {
            live.indexing = false;
            if served {
                live.started = started;
            }
        }
        drop(live);
        shared.changed.notify_all();
    }
}

/// Runs `f` on the threads that make `serve`'s search index: a pool of their own, one
/// thread fewer than the cores (at least one), so that a save made meanwhile is built
/// on the rendering threads at once instead of queueing behind the index's work.
fn on_index_threads<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: crate::ThreadPool = crate::ThreadPool::new();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    POOL.install("bantin-index", Some(cores.saturating_sub(1).max(1)), f)
}

/// Serves `index` with the pages of build `generation`, if that is still the site
/// served; whether it was.
fn serve_search_index(
    shared: &Shared,
    generation: u64,
    index: Vec<crate::render::Rendered>,
) -> bool {
    let Some(served) = current(shared).filter(|s| s.generation == generation) else {
        return false;
    };
    let mut files: HashMap<String, Served> = served
        .files
        .iter()
        .filter(|(path, _)| !is_search_file(path))
        .map(|(path, f)| (path.clone(), f.clone()))
        .collect();
    for r in index {
        files.insert(r.path, Served::Page(Arc::new(r.bytes)));
    }
    let mut site = shared.site.write().unwrap_or_else(|e| e.into_inner());
    // A build served meanwhile keeps its place: its own index follows.
    if site.as_ref().map(|s| s.generation) != Some(generation) {
        return false;
    }
    let old = site.replace(Arc::new(Snapshot { generation, files }));
    drop(site);
    drop(old);
    true
}

/// Every diagnostic of a failed build, as the terminal shows them.
fn error_text(diags: &Diagnostics) -> String {
    let errors = diags.errors().count();
    let mut text: String = diags.0.iter().map(|d| format!("{d}\n\n")).collect();
    text.push_str(&format!(
        "{errors} error{} found.",
        if errors == 1 { "" } else { "s" }
    ));
    text
}

/// The files of the search index, made after the pages (see `rebuild`).
fn is_search_file(path: &str) -> bool {
    path.starts_with("tim-kiem/") && path.ends_with(".js")
}

fn snapshot(
    generation: u64,
    pages: Vec<(String, Arc<Vec<u8>>)>,
    copied: Vec<CopiedFile>,
) -> Snapshot {
    let mut files = HashMap::with_capacity(pages.len() + copied.len());
    // Copied files first, so that a page wins over a file of the same name (as on disk).
    for f in copied {
        let served = match f.from {
            Bytes::Embedded(b) => Served::Embedded(b),
            Bytes::Disk(p) => Served::Disk(p),
        };
        files.insert(f.out, served);
    }
    for (path, bytes) in pages {
        files.insert(path, Served::Page(bytes));
    }
    Snapshot { generation, files }
}

// ---------------------------------------------------------------------------------
// Watching

fn watch_sources(
    watcher: &mut notify::RecommendedWatcher,
    root: &Path,
    first: bool,
) -> Result<(), String> {
    if first {
        watcher
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", root.display()))?;
    }
    for dir in SOURCE_DIRS {
        let path = root.join(dir);
        if !first {
            let _ = watcher.unwatch(&path);
        }
        if path.is_dir() {
            if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
                eprintln!("warning: cannot watch {}: {e}", path.display());
            }
        }
    }
    Ok(())
}

/// What a file-system event means for the build.
#[derive(Default)]
struct Seen {
    /// Changed sources, relative to the root.
    changed: BTreeSet<String>,
    /// Sources written to and not closed since (still being written, maybe).
    open: BTreeSet<String>,
    /// A change other than a file written in place or made (a removal, a rename).
    moved: bool,
    /// A source folder itself came or went: watch the folders anew.
    rewatch: bool,
    /// The watcher lost events: rebuild all the same.
    rescan: bool,
}

impl Seen {
    fn any(&self) -> bool {
        !self.changed.is_empty() || self.rescan
    }

    /// Whether all there is to build is one file written whole (an editor's save).
    fn one_saved(&self) -> bool {
        self.changed.len() == 1 && self.open.is_empty() && !self.moved && !self.rescan
    }

    /// How long the sources must be quiet before the build starts.
    fn debounce(&self) -> Duration {
        if self.one_saved() {
            DEBOUNCE_SAVED
        } else {
            DEBOUNCE
        }
    }

    fn add(&mut self, root: &Path, event: notify::Result<notify::Event>) {
        use notify::event::{AccessKind, AccessMode, ModifyKind};
        let event = match event {
            Ok(e) => e,
            Err(_) => {
                self.rescan = true;
                return;
            }
        };
        let written = match event.kind {
            // A file written and closed: whole, unless it is opened again.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                for path in &event.paths {
                    if let Some(rel) = source_path(root, path) {
                        self.open.remove(&rel);
                    }
                }
                return;
            }
            // Reading a file (the build itself does) and its times or rights change nothing.
            EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => return,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_)) => true,
            _ => false,
        };
        if event.need_rescan() {
            self.rescan = true;
        }
        for path in &event.paths {
            if let Some(rel) = source_path(root, path) {
                if SOURCE_DIRS.contains(&rel.as_str()) {
                    self.rewatch = true;
                }
                if written {
                    self.open.insert(rel.clone());
                } else {
                    self.moved = true;
                }
                self.changed.insert(rel);
            }
        }
    }
}

/// The path of a source file relative to the root, '/'-separated; None for a file that
/// is not a source (public/, target/, editors' hidden files).
fn source_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for c in rel.components() {
        let s = c.as_os_str().to_string_lossy();
        if s.starts_with('.') {
            return None;
        }
        parts.push(s.into_owned());
    }
    let first = parts.first()?;
    let source = if parts.len() == 1 {
        SOURCE_FILES.contains(&first.as_str()) || SOURCE_DIRS.contains(&first.as_str())
    } else {
        SOURCE_DIRS.contains(&first.as_str())
    };
    source.then(|| parts.join("/"))
}

/// Waits for changes, lets a burst of them settle, rebuilds; forever.
fn watch_loop(
    shared: &Shared,
    root: &Path,
    mut watcher: notify::RecommendedWatcher,
    rx: mpsc::Receiver<notify::Result<notify::Event>>,
) {
    loop {
        let mut seen = Seen::default();
        // The first change...
        while !seen.any() {
            match rx.recv() {
                Ok(event) => seen.add(root, event),
                Err(_) => return,
            }
        }
        shared
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending = true;
        // ...and every change that follows it closely.
        let first = Instant::now();
        while first.elapsed() < DEBOUNCE_MAX {
            match rx.recv_timeout(seen.debounce()) {
                Ok(event) => seen.add(root, event),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        if seen.rewatch {
            let _ = watch_sources(&mut watcher, root, false);
        }
        rebuild(shared, &seen);
    }
}

// ---------------------------------------------------------------------------------
// Serving

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn respond<R: io::Read>(request: Request, response: Response<R>) {
    let response = response
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"));
    // A reader who closed the page is no error of the server's.
    let _ = request.respond(response);
}

fn text(request: Request, status: u16, body: &str) {
    respond(
        request,
        Response::from_string(body)
            .with_status_code(status)
            .with_header(header("Content-Type", "text/plain; charset=utf-8")),
    );
}

fn handle(shared: &Arc<Shared>, request: Request) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return respond(
            request,
            Response::from_string("only GET and HEAD\n")
                .with_status_code(405)
                .with_header(header("Allow", "GET, HEAD")),
        );
    }
    let url = request.url().to_string();
    let (path, query) = match url.find(['?', '#']) {
        Some(i) => (&url[..i], &url[i..]),
        None => (url.as_str(), ""),
    };
    match path {
        "/__bantin/events" => return events(shared, request),
        "/__bantin/live.js" => {
            return respond(
                request,
                Response::from_string(LIVE_JS)
                    .with_header(header("Content-Type", "text/javascript; charset=utf-8")),
            )
        }
        "/__bantin/status" => return json_response(request, status_json(shared)),
        "/__bantin/files" => {
            let files: Vec<String> = current(shared)
                .map(|s| {
                    let mut v: Vec<String> = s.files.keys().cloned().collect();
                    v.sort();
                    v
                })
                .unwrap_or_default();
            return json_response(request, json!(files));
        }
        _ => {}
    }
    let rel = match confine(path) {
        Ok(rel) => rel,
        Err(status) => {
            let why = match status {
                400 => "bad request\n",
                404 => "not found\n",
                _ => "forbidden: only the built site is served\n",
            };
            return text(request, status, why);
        }
    };
    let Some(site) = current(shared) else {
        return broken_page(shared, request);
    };
    let key = if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.clone()
    };
    if let Some(file) = site.files.get(&key) {
        return serve_file(shared, request, &site, &key, file, 200);
    }
    // A folder asked for without its slash: there, so that relative links work.
    if !rel.is_empty()
        && !rel.ends_with('/')
        && site.files.contains_key(&format!("{rel}/index.html"))
    {
        let location = visible_ascii(&format!("{path}/{query}"));
        return respond(
            request,
            Response::from_string(format!("moved to {location}\n"))
                .with_status_code(301)
                .with_header(header("Location", &location)),
        );
    }
    match site.files.get("404.html") {
        Some(file) => serve_file(shared, request, &site, "404.html", file, 404),
        None => text(request, 404, "not found\n"),
    }
}

/// `s` with every byte that a header cannot hold as is percent-encoded.
fn visible_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x21..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn current(shared: &Shared) -> Option<Arc<Snapshot>> {
    shared
        .site
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

fn json_response(request: Request, value: serde_json::Value) {
    respond(
        request,
        Response::from_string(value.to_string())
            .with_header(header("Content-Type", "application/json")),
    );
}

fn status_json(shared: &Shared) -> serde_json::Value {
    let site = current(shared);
    let live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
    json!({
        "generation": site.as_ref().map_or(0, |s| s.generation),
        "started": live.started.to_string(),
        "files": site.as_ref().map_or(0, |s| s.files.len()),
        "ok": live.errors.is_none() && site.is_some(),
        "building": live.building || live.indexing,
        "pending": live.pending,
        "builds": live.seq,
        "errors": live.errors,
    })
}

/// A request path (before `?`) to a path of the built site, '/'-separated, without the
/// leading '/' ("" for the root, a trailing '/' kept); or the status that refuses it.
pub fn confine(raw: &str) -> Result<String, u16> {
    let raw = raw.strip_prefix('/').ok_or(400u16)?;
    let bytes = percent_decode(raw).ok_or(400u16)?;
    let path = String::from_utf8(bytes).map_err(|_| 404u16)?;
    if path.contains(['\\', '\0']) || path.starts_with('/') {
        return Err(403);
    }
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(403);
    }
    // A drive: "C:/Windows", "C:foo".
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(403);
    }
    Ok(path)
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The content type of a served path, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "xml" => "application/xml",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

fn serve_file(
    shared: &Shared,
    request: Request,
    site: &Snapshot,
    key: &str,
    file: &Served,
    status: u16,
) {
    let kind = content_type(key);
    let html = kind.starts_with("text/html");
    let bytes: std::borrow::Cow<[u8]> = match file {
        Served::Page(b) => std::borrow::Cow::Borrowed(b.as_slice()),
        Served::Embedded(b) => std::borrow::Cow::Borrowed(*b),
        Served::Disk(path) => {
            // Only a regular file under the site's folder, whatever happened to it since
            // the build (a link put in its place, a folder moved).
            let inside = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
                && fs::canonicalize(path).is_ok_and(|p| p.starts_with(&shared.root));
            if !inside {
                return text(request, 403, "forbidden: only the built site is served\n");
            }
            if !html {
                return match fs::File::open(path) {
                    Ok(f) => respond(
                        request,
                        Response::from_file(f)
                            .with_status_code(status)
                            .with_header(header("Content-Type", kind)),
                    ),
                    Err(_) => text(request, 404, "not found (the file is gone; rebuilding)\n"),
                };
            }
            match fs::read(path) {
                Ok(b) => b.into(),
                Err(_) => return text(request, 404, "not found (the file is gone; rebuilding)\n"),
            }
        }
    };
    let body = if html && status == 404 {
        // Served at any depth: its links, relative to the root, must start from there.
        inject(&base_root(&bytes), site.generation)
    } else if html {
        inject(&bytes, site.generation)
    } else {
        bytes.into_owned()
    };
    respond(
        request,
        Response::from_data(body)
            .with_status_code(status)
            .with_header(header("Content-Type", kind)),
    );
}

/// The tag put into every HTML page served, before `</body>`.
pub fn live_tag(generation: u64) -> String {
    format!("<script src=\"/__bantin/live.js\" data-bantin-generation=\"{generation}\"></script>")
}

/// `html` with the live-reload script before its last `</body>` (or at its end).
pub fn inject(html: &[u8], generation: u64) -> Vec<u8> {
    let tag = live_tag(generation);
    let at = html
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + tag.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// The tag that makes the links of 404.html, served for any missing path, start
/// from the root, where the page was made for.
pub const BASE_TAG: &str = "<base href=\"/\" data-bantin>";

/// `html` with [`BASE_TAG`] first in its `<head>` (unchanged without one).
pub fn base_root(html: &[u8]) -> Vec<u8> {
    // `<head>` or `<head attr...>`, not `<header>`.
    let open = (0..html.len().saturating_sub(5))
        .filter(|&i| html[i..i + 5].eq_ignore_ascii_case(b"<head"))
        .find(|&i| matches!(html[i + 5], b'>' | b' ' | b'\t' | b'\n' | b'\r'))
        .and_then(|i| html[i..].iter().position(|&b| b == b'>').map(|j| i + j + 1));
    match open {
        Some(at) => {
            let mut out = Vec::with_capacity(html.len() + BASE_TAG.len());
            out.extend_from_slice(&html[..at]);
            out.extend_from_slice(BASE_TAG.as_bytes());
            out.extend_from_slice(&html[at..]);
            out
        }
        None => html.to_vec(),
    }
}

/// What every path shows while no build has succeeded yet: the errors, and the script
/// that reloads the page once they are fixed.
fn broken_page(shared: &Shared, request: Request) {
    let errors = shared
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .errors
        .clone()
        .unwrap_or_else(|| "The site is being built.".into());
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bantin: the site does not build</title></head>\n<body><h1>The site does not build</h1>\n<pre>{}</pre>\n</body></html>\n",
        escape_html(&errors)
    );
    respond(
        request,
        Response::from_data(inject(page.as_bytes(), 0))
            .with_status_code(503)
            .with_header(header("Content-Type", "text/html; charset=utf-8")),
    );
}

/// `/__bantin/events`: a Server-Sent Events stream on a thread of its own.
fn events(shared: &Arc<Shared>, request: Request) {
    if shared.streams.fetch_add(1, Ordering::SeqCst) >= MAX_STREAMS {
        shared.streams.fetch_sub(1, Ordering::SeqCst);
        return text(request, 503, "too many open pages\n");
    }
    let shared = Arc::clone(shared);
    thread::spawn(move || {
        let mut writer = request.into_writer();
        let _ = stream_events(&shared, &mut writer);
        shared.streams.fetch_sub(1, Ordering::SeqCst);
    });
}

fn stream_events(shared: &Shared, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nretry: 1000\n\n",
    )?;
    let (mut seen, errors) = {
        let live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
        (live.seq, live.errors.clone())
    };
    let generation = current(shared).map_or(0, |s| s.generation);
    let hello = json!({ "generation": generation, "ok": errors.is_none() && generation > 0 });
    write!(w, "event: hello\ndata: {hello}\n\n")?;
    if let Some(text) = errors {
        write!(w, "event: error\ndata: {}\n\n", json!({ "text": text }))?;
    }
    w.flush()?;
    loop {
        let (seq, errors) = {
            let live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
            let (live, _) = shared
                .changed
                .wait_timeout_while(live, KEEPALIVE, |l| l.seq == seen)
                .unwrap_or_else(|e| e.into_inner());
            (live.seq, live.errors.clone())
        };
        if seq == seen {
            w.write_all(b": keep-alive\n\n")?;
        } else {
            seen = seq;
            match errors {
                None => {
                    let generation = current(shared).map_or(0, |s| s.generation);
                    write!(w, "event: reload\ndata: {generation}\n\n")?;
                }
                Some(text) => write!(w, "event: error\ndata: {}\n\n", json!({ "text": text }))?,
            }
        }
        w.flush()?;
    }
}

/// The live-reload script: reloads on `reload` keeping the scroll position, shows the
/// errors of a broken build over the page on `error`.
const LIVE_JS: &str = r#"(function () {
  "use strict";
  var me = document.currentScript;
  var generation = me ? Number(me.getAttribute("data-bantin-generation")) : 0;
  var key = "bantin-scroll:" + location.pathname;
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) {
      sessionStorage.removeItem(key);
      var restore = function () { window.scrollTo(0, Number(y)); };
      if (document.readyState === "complete") restore();
      else window.addEventListener("load", restore);
    }
  } catch (e) {}
  function reload() {
    try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) {}
    location.reload();
  }
  function hide() {
    var o = document.getElementById("__bantin_overlay");
    if (o) o.parentNode.removeChild(o);
  }
  function show(text) {
    hide();
    var o = document.createElement("div");
    o.id = "__bantin_overlay";
    o.setAttribute("role", "alert");
    o.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
      "background:#18181b;color:#f4f4f5;padding:24px;margin:0;" +
      "font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;text-align:left";
    var close = document.createElement("button");
    close.textContent = "\u00d7";
    close.title = "Close";
    close.style.cssText = "float:right;font-size:24px;background:none;border:0;color:inherit;cursor:pointer";
    close.onclick = hide;
    var h = document.createElement("div");
    h.textContent = "bantin: the site does not build. The last good build is shown; fix the error and save.";
    h.style.cssText = "color:#fca5a5;font-weight:bold;margin-bottom:12px";
    var pre = document.createElement("pre");
    pre.textContent = text;
    pre.style.cssText = "white-space:pre-wrap;margin:0;font:inherit";
    o.appendChild(close);
    o.appendChild(h);
    o.appendChild(pre);
    (document.body || document.documentElement).appendChild(o);
  }
  if (!window.EventSource) return;
  // Browsers open at most 6 connections to a server: only a page in view holds one.
  // A page that comes back into view hears the state on connecting (`hello`), and
  // reloads if the site was rebuilt meanwhile.
  var source = null;
  function connect() {
    if (source || document.visibilityState === "hidden") return;
    source = new EventSource("/__bantin/events");
    source.addEventListener("hello", function (e) {
      var state = JSON.parse(e.data);
      if (state.ok && state.generation !== generation) reload();
      else if (state.ok) hide();
    });
    source.addEventListener("reload", function () { hide(); reload(); });
    source.addEventListener("error", function (e) {
      if (e.data) show(JSON.parse(e.data).text);
    });
  }
  function disconnect() {
    if (source) { source.close(); source = null; }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") disconnect(); else connect();
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", connect);
  connect();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement() {
        assert_eq!(confine("/"), Ok(String::new()));
        assert_eq!(confine("/2023/09/"), Ok("2023/09/".into()));
        assert_eq!(confine("/a%20b.jpg"), Ok("a b.jpg".into()));
        assert_eq!(confine("/%E1%BA%A3nh.jpg"), Ok("ảnh.jpg".into()));
        for bad in [
            "/../bantin.toml",
            "/%2e%2e/bantin.toml",
            "/%2E%2E/bantin.toml",
            "/..%2fbantin.toml",
            "/a/../../x",
            "//etc/passwd",
            "/%2fetc%2fpasswd",
            "/a%5c..%5cb",
            "/a\\b",
            "/a%00b",
            "/C:/Windows",
            "/./index.html",
        ] {
            assert!(
                matches!(confine(bad), Err(403 | 400)),
                "{bad} was let through"
            );
        }
        assert_eq!(confine("/%zz"), Err(400));
        assert_eq!(confine("/%2"), Err(400));
        assert_eq!(confine("x"), Err(400));
        assert_eq!(confine("/%ff"), Err(404));
        // Decoded once: a literal %2e stays a name.
        assert_eq!(confine("/%252e%252e/x"), Ok("%2e%2e/x".into()));
    }

    #[test]
    fn injection() {
        let tag = live_tag(3);
        let out = inject(b"<html><body><p>x</p></BODY></html>", 3);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<html><body><p>x</p>{tag}</BODY></html>")
        );
        let out = inject(b"no body", 3);
        assert_eq!(String::from_utf8(out).unwrap(), format!("no body{tag}"));
    }

    #[test]
    fn base() {
        let out = base_root(b"<html><head><title>x</title></head><body><header></header></body>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<html><head>{BASE_TAG}<title>x</title></head><body><header></header></body>")
        );
        assert_eq!(base_root(b"<header>x</header>"), b"<header>x</header>");
        let out = base_root(b"<header></header><head lang=vi>");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<header></header><head lang=vi>{BASE_TAG}")
        );
    }

    #[test]
    fn header_values() {
        assert_eq!(visible_ascii("/don-vi/?q=Hòa b"), "/don-vi/?q=H%C3%B2a%20b");
    }

    #[test]
    fn types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("a/b.JPG"), "image/jpeg");
        assert_eq!(content_type("feed.xml"), "application/xml");
        assert_eq!(content_type("f.woff2"), "font/woff2");
        assert_eq!(content_type("a.b/noext"), "application/octet-stream");
    }

    #[test]
    fn sources() {
        let root = Path::new("/site");
        let p = |s: &str| source_path(root, Path::new(s));
        assert_eq!(p("/site/content/a.md"), Some("content/a.md".into()));
        assert_eq!(p("/site/bantin.toml"), Some("bantin.toml".into()));
        assert_eq!(p("/site/content"), Some("content".into()));
        assert_eq!(p("/site/public/index.html"), None);
        assert_eq!(p("/site/README.md"), None);
        assert_eq!(p("/site/content/.a.md.swp"), None);
        assert_eq!(p("/elsewhere/content/a.md"), None);
    }
}
