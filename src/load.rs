//! Loading a site from disk: bantin.toml, units.toml, content/, the theme.
//!
//! The only module (with `output`) that touches the file system; everything after it
//! works on the plain data it returns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::report::Report;
use crate::theme::Theme;
use crate::units::UnitTree;

/// A file under content/ that is not a report: copied to the output.
#[derive(Clone, Debug)]
pub struct Asset {
    /// Relative to content/, '/'-separated.
    pub source: String,
    pub abs: PathBuf,
    /// The bundle (`.../index.md`, relative to content/) whose folder holds the file.
    pub owner: Option<String>,
}

pub struct SiteSource {
    pub root: PathBuf,
    pub config: Config,
    pub units: UnitTree,
    /// Every report that parsed, drafts included.
    pub reports: Vec<Report>,
    pub assets: Vec<Asset>,
    pub theme: Theme,
}

/// Reads a text file as the contract wants: UTF-8, BOM dropped, CRLF made LF.
pub fn read_text(abs: &Path, shown: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(abs)
        .map_err(|e| Diagnostic::error(shown, format!("cannot read the file: {e}")))?;
    text_from_bytes(bytes, shown)
}

pub fn text_from_bytes(bytes: Vec<u8>, shown: &Path) -> Result<String, Diagnostic> {
    // Every input byte is checked: the SIMD check first, the standard one (which says
    // where the first bad byte is) only for a file that fails it.
    let checked = match simdutf8::basic::from_utf8(&bytes) {
        // SAFETY: just checked to be UTF-8.
        Ok(_) => Ok(unsafe { String::from_utf8_unchecked(bytes) }),
        Err(_) => String::from_utf8(bytes),
    };
    let mut text = match checked {
        Ok(t) => t,
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let (line, column, _) = crate::diag::locate(valid, at);
            return Err(Diagnostic::error(shown, "the file is not UTF-8 text")
                .at(line, column)
                .hint("save it as UTF-8 (in most editors: Save with Encoding, UTF-8); old Vietnamese encodings like TCVN3 or VNI need converting first"));
        }
    };
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    if text.contains('\r') {
        text = text.replace("\r\n", "\n");
    }
    Ok(text)
}

/// A file name with a backslash in it: on Windows a folder separator (`a\..\..\x.jpg`
/// would climb out), so not a name a site may hold. `shown` names it in the message.
pub fn backslash_in_name(rel: &Path, shown: &Path) -> Option<Diagnostic> {
    let has = std::path::MAIN_SEPARATOR != '\\' && rel.to_str().is_some_and(|r| r.contains('\\'));
    has.then(|| {
        Diagnostic::error(shown, "the file name has a backslash (\\) in it")
            .hint("rename the file without \\ (on Windows it separates folders)")
    })
}

/// Whether `path` itself is a symbolic link (one that may point outside the site).
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Reads and parses bantin.toml or units.toml of the site at `root`.
pub fn read_settings<T>(
    root: &Path,
    name: &str,
    parse: fn(&str, &Path) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    let path = root.join(name);
    if is_symlink(&path) {
        return Err(vec![Diagnostic::error(
            name,
            format!("{name} is a symbolic link; bantin reads only the site's own files"),
        )
        .hint("copy the file into the site instead of linking to it")]);
    }
    if !path.is_file() {
        let d = if name == "bantin.toml" {
            Diagnostic::error(name, format!("there is no bantin.toml in {}", root.display()))
                .hint("run bantin in the site's folder, name it with --root DIR, or make a new site with `bantin init DIR`")
        } else {
            Diagnostic::error(name, format!("there is no {name}"))
                .hint("list the site's units in units.toml: [[unit]] with id = \"...\" and name = \"...\"")
        };
        return Err(vec![d]);
    }
    let text = read_text(&path, Path::new(name)).map_err(|d| vec![d])?;
    parse(&text, Path::new(name))
}

/// Loads everything; all problems found are returned together.
/// Reports parsed by an earlier load, by source path, each with the size and time of
/// the file it was read from: `serve` keeps them between builds, so that only changed
/// files are read and parsed again. Good only for the same bantin.toml and units.toml
/// (a report's dates and unit are read through them).
#[derive(Default)]
pub struct ReportCache {
    settings: u64,
    reports: rustc_hash::FxHashMap<String, (FileStamp, Report)>,
    /// The files content/ held at the last load (reports, other files), with any
    /// errors the walk met.
    walk: Option<Walk>,
    /// The next load may take `walk` as it is and the cached reports without checking
    /// their files: the caller knows that only the forgotten reports changed.
    trust: bool,
}

type Walk = (Vec<(String, PathBuf)>, Vec<Asset>, Vec<Diagnostic>);

impl ReportCache {
    /// Forgets these sources (paths under content/), whatever their stamps say.
    pub fn forget<'a>(&mut self, sources: impl IntoIterator<Item = &'a str>) {
        for s in sources {
            self.reports.remove(s);
        }
    }

    /// Whether `source` (a path under content/) was a report at the last load.
    pub fn knows(&self, source: &str) -> bool {
        self.walk
            .as_ref()
            .is_some_and(|(markdown, _, _)| markdown.iter().any(|(s, _)| s == source))
    }

    /// Says that since the last load only reports it knows were changed in place, and
    /// that those have been [`ReportCache::forget`]-ed: the next load skips walking
    /// content/ and checking every file (watchers know this; a plain call does not).
    pub fn trust_next_load(&mut self) {
        self.trust = self.walk.is_some();
    }
}

/// What says a file is unchanged: its size and modification time.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: std::time::SystemTime,
}

fn file_stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        len: m.len(),
        modified: m.modified().ok()?,
    })
}

fn settings_stamp(root: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for name in ["bantin.toml", "units.toml"] {
        std::fs::read(root.join(name)).ok().hash(&mut h);
    }
    h.finish()
}

pub fn load(root: &Path) -> Result<SiteSource, Diagnostics> {
    load_cached(root, None)
}

/// [`load`], taking parsed reports from `cache` where their files are unchanged, and
/// leaving in it every report this load parsed or kept.
pub fn load_cached(
    root: &Path,
    mut cache: Option<&mut ReportCache>,
) -> Result<SiteSource, Diagnostics> {
    let mut diags = Diagnostics::default();
    if let Some(c) = cache.as_deref_mut() {
        let now = settings_stamp(root);
        if c.settings != now {
            c.reports.clear();
            c.settings = now;
        }
    }
    let config_path = root.join("bantin.toml");
    let config = read_settings(root, "bantin.toml", Config::parse)
        .map_err(|ds| diags.extend(ds))
        .ok();
    let units = read_settings(root, "units.toml", UnitTree::parse)
        .map_err(|ds| diags.extend(ds))
        .ok();
    // With a broken bantin.toml or units.toml the reports are still read, so that one run
    // lists every problem; nothing is built.
    let config = match config {
        Some(config) => Some(config),
        None if config_path.is_file() => Config::fallback(),
        None => None, // not a site at all: its reports would only add noise
    };
    let Some(config) = config else {
        diags.sort();
        return Err(diags);
    };
    let theme = match Theme::load(root, &config.theme) {
        Ok(theme) => Some(theme),
        Err(ds) => {
            diags.extend(ds);
            None
        }
    };

    let trust = cache
        .as_deref_mut()
        .is_some_and(|c| std::mem::take(&mut c.trust) && c.walk.is_some());
    let (markdown, assets) = match cache.as_deref_mut() {
        Some(ReportCache {
            walk: Some((markdown, assets, walked)),
            ..
        }) if trust => {
            diags.extend(walked.iter().cloned());
            (markdown.clone(), assets.clone())
        }
        _ => {
            let mut walked = Diagnostics::default();
            let (markdown, assets) = walk_content(root, &mut walked);
            if let Some(c) = cache.as_deref_mut() {
                c.walk = Some((markdown.clone(), assets.clone(), walked.0.clone()));
            }
            diags.extend(walked.0);
            (markdown, assets)
        }
    };
    let cached = cache.as_deref();
    type Parsed = Result<(Report, Option<FileStamp>), Vec<Diagnostic>>;
    // Each: the report, and for one parsed here (not taken from the cache) its stamp.
    let parsed: Vec<Parsed> = markdown
        .par_iter()
        .map(|(source, abs)| {
            let known = cached.and_then(|c| c.reports.get(source));
            // Trusted, what is cached is good (the changed reports were forgotten);
            // otherwise the file's size and time say.
            let stamp = match known {
                Some(_) if trust => None,
                _ => cached.and_then(|_| file_stamp(abs)),
            };
            if let Some((was, report)) = known {
                if trust || Some(*was) == stamp {
                    return Ok((report.clone(), None));
                }
            }
            let shown = Path::new("content").join(source);
            let text = read_text(abs, &shown).map_err(|d| vec![d])?;
            crate::report::parse(&text, source, &shown, &config, units.as_ref()).map(|r| (r, stamp))
        })
        .collect();
    let mut reports = Vec::with_capacity(parsed.len());
    let mut fresh = Vec::new();
    for r in parsed {
        match r {
            Ok((report, stamp)) => {
                if let Some(stamp) = stamp {
                    fresh.push((report.source.clone(), (stamp, report.clone())));
                }
                reports.push(report)
            }
            Err(ds) => diags.extend(ds),
        }
    }
    if let Some(cache) = cache {
        // Kept as they were: the reports taken from it. Gone: files no longer there.
        let present: std::collections::HashSet<&str> =
            markdown.iter().map(|(s, _)| s.as_str()).collect();
        cache
            .reports
            .retain(|source, _| present.contains(source.as_str()));
        cache.reports.extend(fresh);
    }

    match (theme, units) {
        (Some(theme), Some(units)) if !diags.has_errors() => Ok(SiteSource {
            root: root.to_path_buf(),
            config,
            units,
            reports,
            assets,
            theme,
        }),
        _ => {
            diags.sort();
            Err(diags)
        }
    }
}

/// Finds the reports (*.md) and other files under content/, skipping names that start
/// with `_` or `.`. Sorted by path, so that everything after is deterministic.
fn walk_content(root: &Path, diags: &mut Diagnostics) -> (Vec<(String, PathBuf)>, Vec<Asset>) {
    let content = root.join("content");
    if !content.is_dir() {
        return (Vec::new(), Vec::new());
    }
    // content/ is walked one top-level entry at a time (the years, usually), on all
    // threads, and the pieces put together in name order: the order of one sorted walk,
    // in a fraction of its time (a serial walk was a quarter of the load stage).
    let mut top: Vec<PathBuf> = Vec::new();
    // A content/ that is a link is walked whole, as one part: its walk says what it is.
    let linked = std::fs::symlink_metadata(&content).is_ok_and(|m| m.file_type().is_symlink());
    if let Some(Ok(dir)) = (!linked).then(|| std::fs::read_dir(&content)) {
        for entry in dir {
            match entry {
                Ok(e) => top.push(e.path()),
                Err(e) => diags.push(Diagnostic::error("content", format!("cannot read: {e}"))),
            }
        }
    } // else read again by the walk below, which says why
    top.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let walked: Vec<Walked> = if top.is_empty() {
        vec![walk_part(root, &content, &content, 0)]
    } else {
        top.par_iter()
            .map(|path| walk_part(root, &content, path, 1))
            .collect()
    };
    let mut markdown = Vec::new();
    let mut others = Vec::new();
    for part in walked {
        markdown.extend(part.markdown);
        others.extend(part.others);
        diags.extend(part.diags.0);
    }
    // A bundle owns the files of its folder and of its subfolders, up to the next bundle.
    let bundles: BTreeMap<&str, &str> = markdown
        .iter()
        .filter_map(|(s, _)| {
            if s == "index.md" {
                None // content/index.md would own every file of the site
            } else {
                s.strip_suffix("/index.md").map(|dir| (dir, s.as_str()))
            }
        })
        .collect();
    let assets = others
        .into_iter()
        .map(|(source, abs)| {
            let mut owner = None;
            let mut dir = source.as_str();
            while let Some(i) = dir.rfind('/') {
                dir = &dir[..i];
                if let Some(bundle) = bundles.get(dir) {
                    owner = Some(bundle.to_string());
                    break;
                }
            }
            Asset { source, abs, owner }
        })
        .collect();
    (markdown, assets)
}

/// What the walk of a part of content/ found, in walk order.
#[derive(Default)]
struct Walked {
    markdown: Vec<(String, PathBuf)>,
    others: Vec<(String, PathBuf)>,
    diags: Diagnostics,
}

/// Walks `start`, a folder or file `depth` levels below `content` (0: content itself),
/// in name order, leaving out names that start with `_` or `.`.
fn walk_part(root: &Path, content: &Path, start: &Path, depth: usize) -> Walked {
    let mut out = Walked::default();
    let hidden = |name: &std::ffi::OsStr| name.to_str().is_some_and(|n| n.starts_with(['_', '.']));
    if depth > 0 && start.file_name().is_some_and(hidden) {
        return out;
    }
    let walker = walkdir::WalkDir::new(start)
        .follow_links(false)
        // A top-level entry is a root here but not in a walk of content/: not followed.
        .follow_root_links(depth == 0)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !hidden(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| crate::diag::display_path(root, p))
                    .unwrap_or_else(|| "content".into());
                out.diags
                    .push(Diagnostic::error(path, format!("cannot read: {e}")));
                continue;
            }
        };
        let rel = entry.path().strip_prefix(content).unwrap_or(entry.path());
        if let Some(d) = backslash_in_name(rel, &Path::new("content").join(rel)) {
            out.diags.push(d);
            continue;
        }
        let Some(source) = rel.to_str().map(|s| s.replace('\\', "/")) else {
            out.diags.push(
                Diagnostic::error(
                    Path::new("content").join(rel),
                    "the file name is not valid Unicode",
                )
                .hint("rename the file with UTF-8 letters"),
            );
            continue;
        };
        let file_type = entry.file_type();
        if file_type.is_symlink() {
            // A link could point anywhere on the machine; only the site's own files are read.
            out.diags.push(
                Diagnostic::error(
                    Path::new("content").join(rel),
                    "symbolic links are not followed under content/",
                )
                .hint("copy the file into content/ instead of linking to it"),
            );
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        if source.ends_with(".md") {
            out.markdown.push((source, entry.path().to_path_buf()));
        } else {
            out.others.push((source, entry.path().to_path_buf()));
        }
    }
    out
}
