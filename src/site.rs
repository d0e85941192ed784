//! The model: every report with its address and HTML, every index, every page to write.
//!
//! Built from a loaded [`SiteSource`]; knows nothing of templates or the file system.

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::PathBuf;

use chrono::Datelike;
use rayon::prelude::*;

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::lang::{collation_key, slugify};
use crate::load::SiteSource;
use crate::markdown::{LinkResolver, MarkdownInput};
use crate::report::Report;
use crate::theme::{Bytes, Theme};
use crate::units::UnitTree;

#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    pub drafts: bool,
    pub base_url: Option<String>,
    /// `check`: a link that reaches nothing is an error, not a warning.
    pub strict_links: bool,
    /// Print the time each stage takes.
    pub timings: bool,
    /// Shows how far a long build is (off by default).
    pub progress: crate::progress::Progress,
}

/// A report placed in the site.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Shared: `serve` copies a site (to patch it while its search index is being
    /// made from the last one), and a report's fields are most of an entry.
    pub report: std::sync::Arc<Report>,
    /// The folder of its page, "2023/09/slug/".
    pub dir: String,
    /// Shared with serve's cache of rendered Markdown (an unchanged report is not
    /// rendered again).
    pub html: std::sync::Arc<str>,
    /// A hash of `html` when the build keeps a cache (0 otherwise): page fingerprints
    /// use it instead of hashing the HTML again.
    pub html_stamp: u64,
    /// From front matter, else the first paragraph.
    pub summary: String,
    /// The cover image: a path from the site root, or an absolute URL.
    pub cover_src: Option<String>,
    pub kind: Option<usize>,
    pub documents: Vec<usize>,
    pub tags: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Year {
    pub year: i32,
    pub reports: Vec<usize>,
    pub months: Vec<Month>,
}

#[derive(Clone, Debug)]
pub struct Month {
    pub month: u32,
    pub reports: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxonomyKind {
    Tag,
    Document,
    Kind,
}

impl TaxonomyKind {
    pub const ALL: [TaxonomyKind; 3] = [
        TaxonomyKind::Tag,
        TaxonomyKind::Document,
        TaxonomyKind::Kind,
    ];

    /// The folder of its pages (the contract's table).
    pub fn dir(self) -> &'static str {
        match self {
            TaxonomyKind::Tag => "chu-de",
            TaxonomyKind::Document => "van-ban",
            TaxonomyKind::Kind => "loai",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            TaxonomyKind::Tag => "tag",
            TaxonomyKind::Document => "document",
            TaxonomyKind::Kind => "kind",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Term {
    pub name: String,
    pub slug: String,
    pub reports: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Taxonomy {
    pub kind: TaxonomyKind,
    /// In Vietnamese alphabetical order.
    pub terms: Vec<Term>,
}

/// What a page shows; `page` counts from 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PageKind {
    Home {
        page: usize,
    },
    Report(usize),
    Archive,
    Year(usize),
    Month(usize, usize),
    Units,
    Unit {
        unit: usize,
        page: usize,
    },
    Terms(usize),
    Term {
        taxonomy: usize,
        term: usize,
        page: usize,
    },
    Search,
    NotFound,
}

#[derive(Clone, Debug)]
pub struct Page {
    /// The output file, relative to the output root.
    pub file: String,
    pub kind: PageKind,
}

/// A file copied as is.
#[derive(Clone, Debug)]
pub struct CopiedFile {
    pub out: String,
    pub from: Bytes,
}

/// Clone: `serve` patches a copy when its search index is still being made from the
/// last one.
#[derive(Clone)]
pub struct Site {
    pub config: Config,
    pub units: UnitTree,
    pub theme: Theme,
    /// Newest first (date, then title, then source path).
    pub entries: Vec<Entry>,
    pub years: Vec<Year>,
    /// Per unit: its reports and those of every unit below it, newest first.
    pub unit_reports: Vec<Vec<usize>>,
    pub unit_own_counts: Vec<usize>,
    pub taxonomies: Vec<Taxonomy>,
    pub pages: Vec<Page>,
    /// (output file, report) of every alias redirect.
    pub aliases: Vec<(String, usize)>,
    pub files: Vec<CopiedFile>,
    pub diagnostics: Diagnostics,
    /// The build's progress, ticked once per rendered page.
    pub progress: crate::progress::Progress,
}

/// Links name files unless pretty_links is on.
pub fn link(dir: &str, pretty: bool) -> String {
    if pretty {
        dir.to_string()
    } else {
        format!("{dir}index.html")
    }
}

/// The folder of list page `page` under `base` ("" for the home page).
pub fn paged_dir(base: &str, page: usize) -> String {
    if page <= 1 {
        base.to_string()
    } else {
        format!("{base}page/{page}/")
    }
}

pub fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page.max(1)).max(1)
}

struct Resolver<'a> {
    targets: &'a FxHashMap<String, String>,
}

/// A resolver that notes every target asked for and what it gave, for the cache.
struct Recording<'a> {
    inner: &'a Resolver<'a>,
    lookups: std::sync::Mutex<Vec<(String, Option<String>)>>,
}

impl LinkResolver for Recording<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        let found = self.inner.resolve(target);
        if let Ok(mut lookups) = self.lookups.lock() {
            lookups.push((target.to_string(), found.clone()));
        }
        found
    }
}

impl LinkResolver for Resolver<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        let target = target.trim_end_matches('/');
        if let Some(found) = self.targets.get(target) {
            return Some(found.clone());
        }
        // A link to a bundle's folder means its report.
        let index = if target.is_empty() {
            "index.md".to_string()
        } else {
            format!("{target}/index.md")
        };
        self.targets.get(&index).cloned()
    }
}

/// Markdown rendered by an earlier build, by report source: `serve` keeps it between
/// builds, so that only the reports whose text changed are rendered again. An entry is
/// used only for the same text, options and link targets.
#[derive(Default)]
pub struct MarkdownCache {
    entries: FxHashMap<String, CachedMarkdown>,
    /// What the last build made its entries with, for patching its model in place
    /// (see `incremental`); taken by whoever keeps the model.
    pub inputs: Option<ModelInputs>,
}

/// What a model's entries were made with, beyond the site itself: enough to make one
/// entry again exactly as the whole build would, and to gather the diagnostics again.
pub struct ModelInputs {
    /// Where every file under content/ ends up (report sources to their page links).
    pub targets: FxHashMap<String, String>,
    /// The warnings of each entry (dead links, missing cover), by entry index.
    pub entry_diagnostics: Vec<Vec<Diagnostic>>,
    /// The warnings about addresses (slug collisions).
    pub dir_diagnostics: Vec<Diagnostic>,
}

impl ModelInputs {
    /// The site's diagnostics as a whole build gathers them.
    pub fn diagnostics(&self) -> Diagnostics {
        let mut diags = Diagnostics(self.dir_diagnostics.clone());
        diags.extend(self.entry_diagnostics.iter().flatten().cloned());
        diags.sort();
        diags
    }
}

struct CachedMarkdown {
    /// What the HTML was made from.
    body: std::sync::Arc<str>,
    body_line: usize,
    allow_html: bool,
    /// Every link target the Markdown asked for, and what it got: the HTML is good
    /// while each still gets the same (an edit elsewhere rarely touches them).
    lookups: Vec<(String, Option<String>)>,
    html: std::sync::Arc<str>,
    html_stamp: u64,
    summary: String,
    dead_links: Vec<crate::markdown::DeadLink>,
}

impl MarkdownCache {
    /// The entry of `report` at `dir`, as a whole build makes it: its Markdown taken
    /// from here when still good, else rendered and kept here; and its warnings.
    pub fn entry(
        &mut self,
        report: Report,
        dir: String,
        allow_html: bool,
        strict: bool,
        targets: &FxHashMap<String, String>,
    ) -> (Entry, Vec<Diagnostic>) {
        let resolver = Resolver { targets };
        let hit = self.get(&report, allow_html, &resolver);
        let (entry, diags, made) =
            render_entry(report, dir, allow_html, strict, &resolver, hit, true);
        if let Some(made) = made {
            self.entries.insert(entry.report.source.clone(), made);
        }
        (entry, diags)
    }

    /// Whether the Markdown of any report but `except` has a link that reached `link`.
    pub fn links_to(&self, link: &str, except: &str) -> bool {
        self.entries.iter().any(|(source, c)| {
            source != except
                && c.lookups
                    .iter()
                    .any(|(_, found)| found.as_deref() == Some(link))
        })
    }

    fn get(
        &self,
        report: &Report,
        allow_html: bool,
        resolver: &Resolver,
    ) -> Option<&CachedMarkdown> {
        self.entries.get(&report.source).filter(|c| {
            c.allow_html == allow_html
                && c.body_line == report.body_line
                && c.lookups
                    .iter()
                    .all(|(t, found)| resolver.resolve(t) == *found)
                && (std::sync::Arc::ptr_eq(&c.body, &report.body) || *c.body == *report.body)
        })
    }
}

impl Site {
    pub fn build(source: SiteSource, options: &BuildOptions) -> Result<Site, Diagnostics> {
        Site::build_cached(source, options, None)
    }

    /// [`Site::build`], taking Markdown from `cache` where it is still good, and
    /// leaving in it what this build rendered.
    pub fn build_cached(
        source: SiteSource,
        options: &BuildOptions,
        mut cache: Option<&mut MarkdownCache>,
    ) -> Result<Site, Diagnostics> {
        let SiteSource {
            mut config,
            units,
            reports,
            assets,
            theme,
            ..
        } = source;
        if let Some(url) = &options.base_url {
            config.base_url = Some(url.clone());
        }
        let pretty = config.pretty_links;
        let mut diags = Diagnostics::default();

        let reports: Vec<Report> = reports
            .into_iter()
            .filter(|r| options.drafts || !r.draft)
            .collect();
        // Sorted by index, on both cores, then moved once: a report is too big a
        // value to move about in a sort.
        let mut by_order: Vec<usize> = (0..reports.len()).collect();
        by_order.par_sort_by(|&a, &b| order(&reports[a], &reports[b]));
        let mut slots: Vec<Option<Report>> = reports.into_iter().map(Some).collect();
        let reports: Vec<Report> = by_order.iter().filter_map(|&i| slots[i].take()).collect();
        drop(slots);
        let dirs = assign_dirs(&reports, &mut diags);
        let dir_diagnostics = diags.0.clone();

        // Where every file under content/ ends up, for links written in reports.
        let mut targets: FxHashMap<String, String> = FxHashMap::default();
        targets.reserve(reports.len() + assets.len());
        for (report, dir) in reports.iter().zip(&dirs) {
            targets.insert(report.source.clone(), link(dir, pretty));
        }
        let report_dir: FxHashMap<&str, &str> = reports
            .iter()
            .zip(&dirs)
            .map(|(r, d)| (r.source.as_str(), d.as_str()))
            .collect();
        let mut files = Vec::with_capacity(assets.len() + theme.statics.len());
        for asset in &assets {
            let out = match &asset.owner {
                Some(owner) => {
                    let Some(dir) = report_dir.get(owner.as_str()) else {
                        continue; // the bundle is a draft left out: so are its files
                    };
                    let folder = owner.strip_suffix("index.md").unwrap_or(owner);
                    format!(
                        "{dir}{}",
                        asset.source.strip_prefix(folder).unwrap_or(&asset.source)
                    )
                }
                None => asset.source.clone(),
            };
            targets.insert(asset.source.clone(), out.clone());
            files.push(CopiedFile {
                out,
                from: Bytes::Disk(asset.abs.clone()),
            });
        }
        for (out, from) in &theme.statics {
            files.push(CopiedFile {
                out: out.clone(),
                from: from.clone(),
            });
        }

        let resolver = Resolver { targets: &targets };
        let allow_html = config.markdown.allow_html;
        let strict = options.strict_links;
        let caching = cache.is_some();
        let cached = cache.as_deref();
        let rendered: Vec<(Entry, Vec<Diagnostic>, Option<CachedMarkdown>)> = reports
            .into_par_iter()
            .zip(dirs)
            .map(|(report, dir)| {
                let hit = cached.and_then(|c| c.get(&report, allow_html, &resolver));
                render_entry(report, dir, allow_html, strict, &resolver, hit, caching)
            })
            .collect();
        let mut entries = Vec::with_capacity(rendered.len());
        let mut entry_diagnostics = Vec::with_capacity(if caching { rendered.len() } else { 0 });
        let mut fresh = FxHashMap::default();
        for (entry, ds, made) in rendered {
            if let Some(made) = made {
                fresh.insert(entry.report.source.clone(), made);
            }
            entries.push(entry);
            if caching {
                entry_diagnostics.push(ds.clone());
            }
            diags.extend(ds);
        }
        if let Some(cache) = cache.as_mut() {
            // Kept: what this build used or made. Gone: reports no longer there.
            let mut kept = FxHashMap::default();
            kept.reserve(entries.len());
            for e in &entries {
                let source = &e.report.source;
                if let Some(made) = fresh.remove(source) {
                    kept.insert(source.clone(), made);
                } else if let Some(old) = cache.entries.remove(source) {
                    kept.insert(source.clone(), old);
                }
            }
            cache.entries = kept;
            cache.inputs = Some(ModelInputs {
                targets,
                entry_diagnostics,
                dir_diagnostics,
            });
        }

        let taxonomies = build_taxonomies(&mut entries);
        let years = build_years(&entries);
        let mut unit_reports = vec![Vec::new(); units.units.len()];
        let mut unit_own_counts = vec![0; units.units.len()];
        for (i, e) in entries.iter().enumerate() {
            let u = e.report.unit;
            unit_own_counts[u] += 1;
            unit_reports[u].push(i);
            for &a in &units.units[u].ancestors {
                unit_reports[a].push(i);
            }
        }

        let mut site = Site {
            config,
            units,
            theme,
            entries,
            years,
            unit_reports,
            unit_own_counts,
            taxonomies,
            pages: Vec::new(),
            aliases: Vec::new(),
            files,
            diagnostics: Diagnostics::default(),
            progress: options.progress.clone(),
        };
        site.pages = site.plan_pages();
        site.aliases = site.plan_aliases(&mut diags);
        site.check_collisions(&mut diags);
        diags.sort();
        if diags.has_errors() {
            return Err(diags);
        }
        site.diagnostics = diags;
        Ok(site)
    }

    fn plan_pages(&self) -> Vec<Page> {
        let per = self.config.paginate;
        let mut pages = Vec::new();
        let mut add = |dir: String, kind: PageKind| {
            pages.push(Page {
                file: format!("{dir}index.html"),
                kind,
            })
        };
        for page in 1..=page_count(self.entries.len(), per) {
            add(paged_dir("", page), PageKind::Home { page });
        }
        for (i, e) in self.entries.iter().enumerate() {
            add(e.dir.clone(), PageKind::Report(i));
        }
        add("luu-tru/".into(), PageKind::Archive);
        for (y, year) in self.years.iter().enumerate() {
            add(format!("{}/", year.year), PageKind::Year(y));
            for (m, month) in year.months.iter().enumerate() {
                add(
                    format!("{}/{:02}/", year.year, month.month),
                    PageKind::Month(y, m),
                );
            }
        }
        add("don-vi/".into(), PageKind::Units);
        for (u, unit) in self.units.units.iter().enumerate() {
            for page in 1..=page_count(self.unit_reports[u].len(), per) {
                add(
                    paged_dir(&format!("don-vi/{}/", unit.id), page),
                    PageKind::Unit { unit: u, page },
                );
            }
        }
        for (t, tax) in self.taxonomies.iter().enumerate() {
            add(format!("{}/", tax.kind.dir()), PageKind::Terms(t));
            for (i, term) in tax.terms.iter().enumerate() {
                for page in 1..=page_count(term.reports.len(), per) {
                    let base = format!("{}/{}/", tax.kind.dir(), term.slug);
                    add(
                        paged_dir(&base, page),
                        PageKind::Term {
                            taxonomy: t,
                            term: i,
                            page,
                        },
                    );
                }
            }
        }
        if self.config.search {
            add("tim-kiem/".into(), PageKind::Search);
        }
        pages.push(Page {
            file: "404.html".into(),
            kind: PageKind::NotFound,
        });
        pages
    }

    fn plan_aliases(&self, diags: &mut Diagnostics) -> Vec<(String, usize)> {
        let pages: FxHashSet<&str> = self.pages.iter().map(|p| p.file.as_str()).collect();
        let mut seen: FxHashMap<String, usize> = FxHashMap::default();
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            for (path, line) in &e.report.aliases {
                if pages.contains(path.as_str()) {
                    diags.push(
                        Diagnostic::error(
                            &e.report.file,
                            format!("alias `{path}` is the address of a page of the site"),
                        )
                        .at_line(*line)
                        .hint("an alias is an old address that no longer has a page; remove it"),
                    );
                } else if let Some(&other) = seen.get(path) {
                    diags.push(
                        Diagnostic::error(
                            &e.report.file,
                            format!(
                                "alias `{path}` is also an alias of {}",
                                self.entries[other].report.file.display()
                            ),
                        )
                        .at_line(*line)
                        .hint("an old address can redirect to one report only; remove one of them"),
                    );
                } else {
                    seen.insert(path.clone(), i);
                    out.push((path.clone(), i));
                }
            }
        }
        out.sort();
        out
    }

    /// Copied files may not take the place of a page.
    fn check_collisions(&self, diags: &mut Diagnostics) {
        let mut written: FxHashSet<&str> = self.pages.iter().map(|p| p.file.as_str()).collect();
        written.extend(self.aliases.iter().map(|(p, _)| p.as_str()));
        for reserved in ["feed.xml", "sitemap.xml", "tim-kiem/search-index.js"] {
            written.insert(reserved);
        }
        for f in &self.files {
            if written.contains(f.out.as_str()) {
                let file = match &f.from {
                    Bytes::Disk(p) => p.clone(),
                    Bytes::Embedded(_) => PathBuf::from("(built-in theme)"),
                };
                diags.push(
                    Diagnostic::error(
                        file,
                        format!("this file would be written over the page {}", f.out),
                    )
                    .hint("rename or move the file"),
                );
            }
        }
    }
}

impl Site {
    /// No output file may stand where another output needs a folder (an alias
    /// `/feed.xml/` and the feed): the write would fail halfway with a bare "Is a
    /// directory". Names the report whose alias, or the file whose copy, is in the way.
    pub fn check_output_paths<'a>(
        &'a self,
        written: impl IntoIterator<Item = &'a str>,
    ) -> Diagnostics {
        let mut files: FxHashSet<&str> = written.into_iter().collect();
        files.extend(self.files.iter().map(|f| f.out.as_str()));
        let alias_of: FxHashMap<&str, usize> =
            self.aliases.iter().map(|(p, i)| (p.as_str(), *i)).collect();
        let mut sorted: Vec<&str> = files.iter().copied().collect();
        sorted.sort_unstable();
        let mut diags = Diagnostics::default();
        for path in sorted {
            for (i, _) in path.match_indices('/') {
                let folder = &path[..i];
                if !files.contains(folder) {
                    continue;
                }
                // Of the two, blame the one an editor wrote: an alias, else a copied file.
                let (blamed, other) =
                    if alias_of.contains_key(path) || !alias_of.contains_key(folder) {
                        (path, folder)
                    } else {
                        (folder, path)
                    };
                let message = format!(
                    "the output {blamed} and {other} cannot both be written: {folder} would be a file and a folder"
                );
                let d = match alias_of.get(blamed) {
                    Some(&r) => {
                        let report = &self.entries[r].report;
                        let line = report.aliases.iter().find(|(p, _)| p == blamed);
                        Diagnostic::error(&report.file, message).at_line(line.map_or(1, |a| a.1))
                    }
                    None => match self.files.iter().find(|f| f.out == blamed) {
                        Some(CopiedFile {
                            from: Bytes::Disk(source),
                            ..
                        }) => Diagnostic::error(source, message),
                        _ => Diagnostic::error(blamed, message),
                    },
                };
                diags.push(d.hint("change the alias or rename the file so that it does not take the name of another output file"));
            }
        }
        diags.sort();
        diags
    }
}

/// The order of reports in every list: newest first, equal dates by title, then by
/// source path.
pub fn order(a: &Report, b: &Report) -> std::cmp::Ordering {
    b.date
        .cmp(&a.date)
        .then_with(|| crate::lang::compare(&a.title, &b.title))
        .then_with(|| a.source.cmp(&b.source))
}

/// The address a report asks for, "YYYY/MM/slug" (without the final '/'): its own
/// unless another report asked for it first (see [`assign_dirs`]).
pub fn wanted_dir(report: &Report) -> String {
    format!(
        "{}/{:02}/{}",
        report.date.year(),
        report.date.month(),
        report.slug
    )
}

/// "YYYY/MM/slug/" for each report (sorted newest first); equal ones get -2, -3, ...
/// in date-then-path order, with a warning.
fn assign_dirs(reports: &[Report], diags: &mut Diagnostics) -> Vec<String> {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    order.sort_by(|&a, &b| {
        reports[a]
            .date
            .cmp(&reports[b].date)
            .then_with(|| reports[a].source.cmp(&reports[b].source))
    });
    let wanted: Vec<String> = reports.iter().map(wanted_dir).collect();
    let mut taken: FxHashSet<String> = FxHashSet::default();
    taken.reserve(reports.len());
    let mut first_owner: FxHashMap<&str, usize> = FxHashMap::default();
    // Reports whose own slug is free keep it, even if an earlier one got `x-2` by collision.
    let mut dirs = vec![String::new(); reports.len()];
    let mut clashes = Vec::new();
    for &i in &order {
        if taken.insert(wanted[i].clone()) {
            first_owner.insert(&wanted[i], i);
            dirs[i] = format!("{}/", wanted[i]);
        } else {
            clashes.push(i);
        }
    }
    // Numbers already tried for each wanted address: taken ones stay taken, so 20,000
    // reports of one title in one month take linear time.
    let mut next: FxHashMap<usize, usize> = FxHashMap::default();
    for i in clashes {
        let owner = first_owner[wanted[i].as_str()];
        let mut n = next.get(&owner).copied().unwrap_or(2);
        let dir = loop {
            let candidate = format!("{}-{n}", wanted[i]);
            if !taken.contains(&candidate) {
                break candidate;
            }
            n += 1;
        };
        next.insert(owner, n + 1);
        taken.insert(dir.clone());
        let other = &reports[first_owner[wanted[i].as_str()]];
        diags.push(
            Diagnostic::warning(
                &reports[i].file,
                format!(
                    "the address {}/ is already taken by {}; this report gets {dir}/",
                    wanted[i],
                    other.file.display()
                ),
            )
            .at_line(1)
            .hint("give one of the reports its own `slug = \"...\"`"),
        );
        dirs[i] = format!("{dir}/");
    }
    dirs
}

/// A report made an entry: its Markdown rendered (or taken from `cached`), its cover
/// and links checked. Returns what a [`MarkdownCache`] would keep when `caching` and
/// the Markdown was rendered here.
fn render_entry(
    mut report: Report,
    dir: String,
    allow_html: bool,
    strict: bool,
    resolver: &Resolver,
    cached: Option<&CachedMarkdown>,
    caching: bool,
) -> (Entry, Vec<Diagnostic>, Option<CachedMarkdown>) {
    let mut diags = Vec::new();
    let (html, html_stamp, summary, dead_links, made) = match cached {
        Some(c) => (
            c.html.clone(),
            c.html_stamp,
            c.summary.clone(),
            c.dead_links.clone(),
            None,
        ),
        None => {
            let recording = Recording {
                inner: resolver,
                lookups: std::sync::Mutex::new(Vec::new()),
            };
            let rendered = crate::markdown::render(
                &MarkdownInput {
                    text: &report.body,
                    source: &report.source,
                    first_line: report.body_line,
                    root: "../../../",
                },
                allow_html,
                &recording,
            );
            let html: std::sync::Arc<str> = rendered.html.into();
            let html_stamp = match caching {
                false => 0,
                true => xxhash_rust::xxh3::xxh3_64(html.as_bytes()),
            };
            let made = caching.then(|| CachedMarkdown {
                body: report.body.clone(),
                body_line: report.body_line,
                allow_html,
                lookups: recording
                    .lookups
                    .into_inner()
                    .unwrap_or_else(|e| e.into_inner()),
                html: html.clone(),
                html_stamp,
                summary: rendered.summary.clone(),
                dead_links: rendered.dead_links.clone(),
            });
            (
                html,
                html_stamp,
                rendered.summary,
                rendered.dead_links,
                made,
            )
        }
    };
    // The Markdown is not needed again once it is HTML: on a big site the sources are a
    // fifth of the memory.
    report.body = "".into();
    let dead = |file: &std::path::Path, what: String| {
        if strict {
            Diagnostic::error(file, what)
        } else {
            Diagnostic::warning(file, what)
        }
    };
    for d in &dead_links {
        diags.push(
            dead(&report.file, format!("the link `{}` reaches nothing", d.link))
                .at(d.line, d.column)
                .hint("check the file name and the path from this report's folder (links are relative to the report's own file)"),
        );
    }
    let cover_src = report.cover.as_ref().and_then(|c| {
        if crate::markdown::is_script_url(&c.src, true) {
            diags.push(
                Diagnostic::error(
                    &report.file,
                    format!("the cover image `{}` is not an image address", c.src),
                )
                .at_line(c.line)
                .hint("name an image file beside the report, or an http(s) address"),
            );
            return None;
        }
        if is_external(&c.src) {
            return Some(c.src.clone());
        }
        let found = resolve_relative(&report.source, &c.src).and_then(|t| resolver.resolve(&t));
        if found.is_none() {
            diags.push(
                dead(&report.file, format!("the cover image `{}` is not there", c.src))
                    .at_line(c.line)
                    .hint("put the image beside the report (a report in its own folder, index.md) or fix the path"),
            );
        }
        found.map(|path| crate::markdown::encode_path(&path))
    });
    let summary = match &report.summary {
        Some(s) => s.clone(),
        None => summary,
    };
    let entry = Entry {
        report: report.into(),
        dir,
        html,
        html_stamp,
        summary,
        cover_src,
        kind: None,
        documents: Vec::new(),
        tags: Vec::new(),
    };
    (entry, diags, made)
}

pub fn is_external(url: &str) -> bool {
    url.starts_with("//")
        || url.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
}

/// `target` as written in `source` (both relative to content/) to a normalized path
/// relative to content/; None if it climbs out of content/.
pub fn resolve_relative(source: &str, target: &str) -> Option<String> {
    let target = target.split(['#', '?']).next().unwrap_or("");
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        source.split('/').collect::<Vec<_>>()[..source.matches('/').count()].to_vec()
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The names a report gives terms of `kind`, as written.
fn names_of(e: &Entry, kind: TaxonomyKind) -> Vec<&str> {
    match kind {
        TaxonomyKind::Tag => e.report.tags.iter().map(String::as_str).collect(),
        TaxonomyKind::Document => e.report.documents.iter().map(String::as_str).collect(),
        TaxonomyKind::Kind => e.report.kind.iter().map(String::as_str).collect(),
    }
}

fn build_taxonomies(entries: &mut [Entry]) -> Vec<Taxonomy> {
    // Reports share their terms: each spelling is made a slug once, not once a use, and
    // looked up by reference (a site has tens of thousands of term uses).
    let mut slugs: FxHashMap<&str, String> = FxHashMap::default();
    for e in entries.iter() {
        for name in e
            .report
            .tags
            .iter()
            .chain(&e.report.documents)
            .chain(&e.report.kind)
        {
            slugs.entry(name.as_str()).or_insert_with(|| slugify(name));
        }
    }
    let slugs = &slugs;
    let taxonomies: Vec<Taxonomy> = TaxonomyKind::ALL
        .iter()
        .map(|&kind| {
            // Per slug, in order of first use: its spellings with their uses, its reports.
            let mut index: FxHashMap<&str, usize> = FxHashMap::default();
            let mut found: Vec<(&str, FxHashMap<&str, usize>, Vec<usize>)> = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                for name in names_of(e, kind) {
                    let slug = slugs.get(name).map_or("", String::as_str);
                    if slug.is_empty() {
                        continue;
                    }
                    let t = *index.entry(slug).or_insert_with(|| {
                        found.push((slug, FxHashMap::default(), Vec::new()));
                        found.len() - 1
                    });
                    let (_, spellings, reports) = &mut found[t];
                    *spellings.entry(name).or_default() += 1;
                    if reports.last() != Some(&i) {
                        reports.push(i);
                    }
                }
            }
            let mut terms: Vec<Term> = found
                .into_iter()
                .map(|(slug, spellings, reports)| {
                    // The most used spelling; of equal ones, the first in sort order.
                    let mut spellings: Vec<(&str, usize)> = spellings.into_iter().collect();
                    spellings.sort_unstable();
                    let name = spellings
                        .iter()
                        .max_by(|a, b| {
                            a.1.cmp(&b.1)
                                .then_with(|| collation_key(b.0).cmp(&collation_key(a.0)))
                        })
                        .map(|(n, _)| n.to_string())
                        .unwrap_or_default();
                    Term {
                        name,
                        slug: slug.to_string(),
                        reports,
                    }
                })
                .collect();
            terms.sort_by_cached_key(|t| (collation_key(&t.name), t.slug.clone()));
            Taxonomy { kind, terms }
        })
        .collect();
    // Each report lists its terms in the order its editor wrote them.
    let lists: Vec<Vec<Vec<usize>>> = taxonomies
        .iter()
        .map(|tax| {
            let index: FxHashMap<&str, usize> = tax
                .terms
                .iter()
                .enumerate()
                .map(|(t, term)| (term.slug.as_str(), t))
                .collect();
            entries
                .iter()
                .map(|e| {
                    let mut found: Vec<usize> = Vec::new();
                    for name in names_of(e, tax.kind) {
                        let slug = slugs.get(name).map_or("", String::as_str);
                        if let Some(&t) = index.get(slug) {
                            if !found.contains(&t) {
                                found.push(t);
                            }
                        }
                    }
                    found
                })
                .collect()
        })
        .collect();
    for (tax, lists) in taxonomies.iter().zip(lists) {
        for (e, found) in entries.iter_mut().zip(lists) {
            match tax.kind {
                TaxonomyKind::Tag => e.tags = found,
                TaxonomyKind::Document => e.documents = found,
                TaxonomyKind::Kind => e.kind = found.first().copied(),
            }
        }
    }
    taxonomies
}

fn build_years(entries: &[Entry]) -> Vec<Year> {
    let mut years: Vec<Year> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let (y, m) = (e.report.date.year(), e.report.date.month());
        if years.last().is_none_or(|last| last.year != y) {
            years.push(Year {
                year: y,
                reports: Vec::new(),
                months: Vec::new(),
            });
        }
        let year = years.last_mut().expect("just pushed");
        year.reports.push(i);
        if year.months.last().is_none_or(|last| last.month != m) {
            year.months.push(Month {
                month: m,
                reports: Vec::new(),
            });
        }
        year.months.last_mut().expect("just pushed").reports.push(i);
    }
    years
}
