//! Rendering the model through Tera: every page, feed and redirect as bytes.
//!
//! Template contexts are built from the serializable structs of `context`; data that is
//! the same on every page (`config`, `site`, `t`) is serialized once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use tera::{Kwargs, State, Tera, Value};

use crate::context::{self, Shared};
use crate::diag::{Diagnostic, Diagnostics};
use crate::site::{link, Page, Site};

/// A rendered page, or the page and why it failed.
type PageResult = Result<Rendered, (String, Diagnostic)>;

/// A file of the output and its bytes.
pub struct Rendered {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Loads the templates once; every error in them is reported, each naming its template,
/// line and column.
pub fn load_templates(site: &Site) -> Result<Tera, Diagnostics> {
    let mut diags = Diagnostics::default();
    let shown: HashMap<&str, &PathBuf> = site
        .theme
        .templates
        .values()
        .map(|t| (t.name.as_str(), &t.shown))
        .collect();
    let mut tera = new_tera();
    // Parse each template alone first, so that every broken one is named. References
    // to other templates and components are checked when all are loaded together.
    for t in site.theme.templates.values() {
        let mut alone = Tera::new();
        if let Err(e) = alone.add_raw_template(&t.name, &t.text) {
            if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                diags.push(template_error_in(site, &t.name, &e));
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let all = site
        .theme
        .templates
        .values()
        .map(|t| (t.name.as_str(), t.text.as_str()));
    if let Err(e) = tera.add_raw_templates(all) {
        diags.push(match error_template(&e) {
            Some(name) if shown.contains_key(name.as_str()) => template_error_in(site, &name, &e),
            _ => template_error(Path::new("templates"), &e),
        });
        return Err(diags);
    }
    for name in crate::theme::REQUIRED_TEMPLATES {
        if !site.theme.templates.contains_key(*name) {
            diags.push(
                Diagnostic::error(format!("templates/{name}"), "this template is missing").hint(
                    "every theme needs it; copy it from the built-in theme (bantin init makes one)",
                ),
            );
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(tera)
}

/// A Tera with bantin's filters and escaping, and no templates yet.
fn new_tera() -> Tera {
    let mut tera = Tera::new();
    // Every template is HTML (feeds and the search index are written by bantin itself).
    tera.autoescape_on([""]);
    tera.set_escape_fn(escape_to);
    tera.register_filter("rel", rel_filter);
    tera.register_filter("count", count_filter);
    tera.register_filter("fill", fill_filter);
    tera
}

/// Tera's own escaping also turns `/` into `&#x2F;`, which is safe but makes every
/// link longer and harder to read; `&<>"'` are all HTML needs.
pub fn escape_html(s: &str) -> String {
    crate::feeds::xml_escape(s)
}

fn escape_to(s: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if !crate::feeds::any_needs_escape(s) {
        return out.write_all(s.as_bytes());
    }
    out.write_all(crate::feeds::xml_escape(s).as_bytes())
}

/// `{{ src | rel(root=root) }}`: the root prefix for a path inside the site, nothing for a URL.
fn rel_filter(value: &str, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
    if crate::site::is_external(value) || value.starts_with('#') {
        return Ok(value.to_string());
    }
    let root = kwargs.get::<&str>("root")?.unwrap_or("");
    Ok(format!("{root}{value}"))
}

/// A number or string as text: `12`, not `12.0`.
fn plain(value: &Value) -> String {
    if value.is_none() || value.is_undefined() {
        return String::new();
    }
    match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    }
}

/// `{{ t.page_of | fill(current=3, total=5) }}`: each `{name}` of the value replaced by
/// the argument of that name, in one pass (a replacement is never scanned again).
/// Unknown placeholders stay as written.
fn fill_filter(value: &str, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
    let mut args = HashMap::new();
    for (name, v) in kwargs.iter() {
        args.insert(name.to_string(), plain(v));
    }
    Ok(fill(value, |name| args.get(name).cloned()))
}

fn fill(text: &str, arg: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, arg(&after[..close])?)))
        {
            Some((close, value)) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `{{ n | count(one=t.reports_count_one, many=t.reports_count) }}`: "1 bài", "12 bài".
/// The strings carry the number as `{n}`.
fn count_filter(value: Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
    let n = plain(&value);
    let one = value.as_u64() == Some(1);
    let text = match (one, kwargs.get::<&str>("one")?, kwargs.get::<&str>("many")?) {
        (true, Some(s), _) | (_, _, Some(s)) | (_, Some(s), None) => s,
        _ => "{n}",
    };
    Ok(fill(text, |name| (name == "n").then(|| n.clone())))
}

/// The template an error belongs to, from its report or its message.
fn error_template(e: &tera::Error) -> Option<String> {
    if let Some(report) = report_of(e) {
        return Some(report.filename().to_string());
    }
    let text = e.to_string();
    let start = text.find('\'')? + 1;
    let end = start + text[start..].find('\'')?;
    Some(text[start..end].to_string())
}

fn report_of(e: &tera::Error) -> Option<&tera::ReportError> {
    match e.kind() {
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => Some(r),
        _ => None,
    }
}

/// A Tera error as a diagnostic on the template it names (or `fallback`), with the
/// line and column, and the source line for the caret.
fn template_error_in(site: &Site, fallback: &str, e: &tera::Error) -> Diagnostic {
    let name = error_template(e).unwrap_or_else(|| fallback.to_string());
    match site.theme.templates.get(&name) {
        Some(t) => {
            let d = template_error(&t.shown, e);
            match (d.line, d.column) {
                (Some(line), Some(column)) => match t.text.lines().nth(line.saturating_sub(1)) {
                    Some(text) => d.at_source(line, column, text),
                    None => d,
                },
                _ => d,
            }
        }
        None => template_error(Path::new(&name), e),
    }
}

/// A Tera error as a diagnostic: its message, and the template's line and column.
fn template_error(file: &Path, e: &tera::Error) -> Diagnostic {
    let (message, position) = match report_of(e) {
        Some(r) => (
            r.message().to_string(),
            Some((r.span().start_line, r.span().start_col + 1)),
        ),
        None => (e.to_string(), None),
    };
    let mut text = message;
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str("\n    ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let message = format!("the template has an error: {}", text.trim_end());
    let mut d = Diagnostic::error(file, message).hint("fix the template (Tera 2 syntax: {{ value }}, {% if %}...{% endif %}, {% for %}...{% endfor %}); every variable it uses is listed in docs/templates.md");
    if let Some((line, column)) = position {
        d = d.at(line, column);
    }
    d
}

/// "./" for a file at the root, "../" per folder otherwise.
pub fn root_of(file: &str) -> String {
    let depth = file.matches('/').count();
    if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    }
}

/// Where rendered files go: into memory (`check`, `serve`) or straight to the output
/// folder (`build`). Called from the rendering threads; an error stops the build.
pub type Sink<'a> = &'a (dyn Fn(Rendered) -> Result<(), Diagnostic> + Sync);

/// Renders every page of the site, in parallel, plus feeds, sitemap, search index and
/// alias redirects. Sorted by path.
pub fn render_site(site: &Site, tera: &Tera) -> Result<Vec<Rendered>, Diagnostics> {
    let out = std::sync::Mutex::new(Vec::with_capacity(site.pages.len() + site.aliases.len()));
    render_site_into(site, tera, &|r| {
        out.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        Ok(())
    })?;
    let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// [`render_site`], each file handed to `sink` as soon as it is made, in no fixed order.
pub fn render_site_into(site: &Site, tera: &Tera, sink: Sink) -> Result<(), Diagnostics> {
    let shared = Shared::new(site);
    let tera = with_globals(tera, &shared);
    let tera = &tera;
    // The search index, the feeds, the sitemap and the redirects are made beside the
    // pages, on the same threads: made after them, one at a time, they kept a core idle.
    let extras = || -> Result<(), Diagnostic> {
        addresses(site).try_for_each(sink)?;
        if let Some(base) = &site.config.base_url {
            crate::feeds::feed_list(site).par_iter().try_for_each(|f| {
                sink(Rendered {
                    path: f.path.clone(),
                    bytes: crate::feeds::render_feed(site, base, f).into_bytes(),
                })
            })?;
        }
        Ok(())
    };
    let (failures, (search_files, extra_files)) = rayon::join(
        || {
            // Small pieces of work: rayon cuts a list only before a thread starts on a
            // piece, and with big pieces the last one ran on one core long after the
            // other was done (150 ms of a 10k build).
            site.pages
                .par_iter()
                .with_max_len(16)
                .filter_map(|page| {
                    let done = render_page(site, tera, &shared, page)
                        .and_then(|r| sink(r).map_err(|d| (page.file.clone(), d)));
                    site.progress.tick();
                    done.err()
                })
                .collect::<Vec<(String, Diagnostic)>>()
        },
        || {
            rayon::join(
                || {
                    if site.config.search {
                        crate::search::index_files_into(site, sink)
                    } else {
                        Ok(())
                    }
                },
                extras,
            )
        },
    );
    // The cards are freed beside what comes next (the static files), not before it on
    // one core.
    rayon::spawn(move || drop(shared));
    let failures = failures.into_iter().chain(
        [search_files, extra_files]
            .into_iter()
            .filter_map(|r| r.err().map(|d| (String::new(), d))),
    );
    match failures_reported(failures) {
        Some(diags) => Err(diags),
        None => Ok(()),
    }
}

/// The redirect page of every alias.
fn redirects(site: &Site) -> impl Iterator<Item = Rendered> + '_ {
    site.aliases.iter().map(|(path, report)| Rendered {
        path: path.clone(),
        bytes: redirect_page(
            path,
            &link(&site.entries[*report].dir, site.config.pretty_links),
        )
        .into_bytes(),
    })
}

fn sitemap(site: &Site, base: &str) -> Rendered {
    Rendered {
        path: "sitemap.xml".into(),
        bytes: crate::feeds::sitemap(site, base).into_bytes(),
    }
}

/// One mistake in a template fails every page that uses it: each is reported once,
/// with the first page it failed on and how many others. None when nothing failed.
fn failures_reported(failures: impl Iterator<Item = (String, Diagnostic)>) -> Option<Diagnostics> {
    let mut failed: std::collections::BTreeMap<_, (String, usize, Diagnostic)> = Default::default();
    for (page, d) in failures {
        let key = (d.file.clone(), d.line, d.column, d.message.clone());
        let entry = failed.entry(key).or_insert_with(|| (page.clone(), 0, d));
        if page < entry.0 {
            entry.0 = page;
        }
        entry.1 += 1;
    }
    if failed.is_empty() {
        return None;
    }
    let mut diags = Diagnostics::default();
    for (_, (page, count, mut d)) in failed {
        let others = match count {
            1 => String::new(),
            2 => " (and 1 other page)".to_string(),
            n => format!(" (and {} other pages)", n - 1),
        };
        if !page.is_empty() && d.file != Path::new(&page) {
            d.message = format!("rendering {page}{others}: {}", d.message);
        }
        diags.push(d);
    }
    diags.sort();
    Some(diags)
}

/// The pages of an earlier build, each with the fingerprint of what it was made from
/// (`serve` keeps them between builds).
#[derive(Default)]
pub struct PageCache {
    pages: HashMap<String, (u64, Arc<Vec<u8>>)>,
    /// What the last build rendered with: the templates with the globals in, and what
    /// every page shares (cards and their stamps). A model patched in place renders
    /// with them again, its changed cards stamped anew ([`PageCache::shared_mut`]).
    kept: Option<(Tera, Shared)>,
}

impl PageCache {
    /// What every page of the last build shared, to restamp the cards of a patch.
    pub fn shared_mut(&mut self) -> Option<&mut Shared> {
        self.kept.as_mut().map(|(_, shared)| shared)
    }

    /// Takes what the pages were rendered with (their bytes and prints stay).
    pub fn take_kept(&mut self) -> Option<(Tera, Shared)> {
        self.kept.take()
    }
}

/// What [`render_site_cached`] or [`render_patch`] made.
pub struct CachedRender {
    /// Every file of the site but the search index, sorted by path; after a patch,
    /// only the files made again (some may have the same bytes as before).
    pub files: Vec<(String, Arc<Vec<u8>>)>,
    /// Whether `files` is the whole site (else a patch of the last one).
    pub whole: bool,
    /// After a patch: files of the last build that are gone.
    pub removed: Vec<String>,
    /// How many pages were rendered; the others were taken from the cache.
    pub rendered: usize,
}

/// A page, its fingerprint, its bytes, and whether it was rendered here.
type CachedPage = Result<(String, u64, Arc<Vec<u8>>, bool), (String, Diagnostic)>;

/// One page through the cache: its fingerprint first, and the page rendered only when
/// that changed.
fn page_cached(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    old: &HashMap<String, (u64, Arc<Vec<u8>>)>,
    page: &Page,
) -> CachedPage {
    let root = root_of(&page.file);
    // The fingerprint first, the context only for a page that changed.
    let (_, printed) = context::page_context_printed(site, shared, page, &root, true, false);
    let print = printed.print();
    if let Some((was, bytes)) = old.get(&page.file) {
        if *was == print {
            return Ok((page.file.clone(), print, bytes.clone(), false));
        }
    }
    let made = render_page(site, tera, shared, page)?;
    Ok((made.path, print, Arc::new(made.bytes), true))
}

/// A file made through the cache: its path, fingerprint and bytes.
type Printed = (String, u64, Arc<Vec<u8>>);

type PrintMap = HashMap<String, (u64, Arc<Vec<u8>>)>;

/// `pages` through the cache of the last build (`old`), in parallel; how many of them
/// were rendered.
fn pages_cached<'a>(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    old: &PrintMap,
    pages: impl IndexedParallelIterator<Item = &'a Page>,
) -> Result<(Vec<Printed>, usize), Diagnostics> {
    let done: Vec<CachedPage> = pages
        .map(|page| page_cached(site, tera, shared, old, page))
        .collect();
    let mut made = Vec::with_capacity(done.len());
    let mut failures = Vec::new();
    let mut rendered = 0;
    for d in done {
        match d {
            Ok((path, print, bytes, fresh)) => {
                rendered += usize::from(fresh);
                made.push((path, print, bytes));
            }
            Err(f) => failures.push(f),
        }
    }
    match failures_reported(failures.into_iter()) {
        Some(diags) => Err(diags),
        None => Ok((made, rendered)),
    }
}

/// Every feed through the cache of the last build (feeds hold whole reports: each is
/// made again only when its print changes).
fn feeds_cached(site: &Site, base: &str, shared: &Shared, old: &PrintMap) -> Vec<Printed> {
    crate::feeds::feed_list(site)
        .par_iter()
        .map(|spec| {
            let print = crate::feeds::feed_print(site, base, spec, &shared.card_stamps);
            let bytes = match old.get(&spec.path) {
                Some((was, bytes)) if *was == print => bytes.clone(),
                _ => Arc::new(crate::feeds::render_feed(site, base, spec).into_bytes()),
            };
            (spec.path.clone(), print, bytes)
        })
        .collect()
}

/// The redirects and the sitemap: they change only with addresses.
fn addresses(site: &Site) -> impl Iterator<Item = Rendered> + '_ {
    let map = site
        .config
        .base_url
        .as_ref()
        .map(|base| sitemap(site, base));
    redirects(site).chain(map)
}

/// [`addresses`] as the cached renders keep files.
fn shared_addresses(site: &Site) -> impl Iterator<Item = (String, Arc<Vec<u8>>)> + '_ {
    addresses(site).map(|r| (r.path, Arc::new(r.bytes)))
}

/// [`render_site`] without the search index, rendering only the pages whose
/// fingerprint (their context, the templates, what every page shares) changed since
/// the build that left `cache`; the other pages keep their bytes.
pub fn render_site_cached(
    site: &Site,
    tera: &Tera,
    cache: &mut PageCache,
) -> Result<CachedRender, Diagnostics> {
    cache.kept = None;
    let shared = Shared::new_printed(site, true);
    let tera = with_globals(tera, &shared);
    let old = &cache.pages;
    let (mut made, rendered) = pages_cached(site, &tera, &shared, old, site.pages.par_iter())?;
    if let Some(base) = &site.config.base_url {
        made.extend(feeds_cached(site, base, &shared, old));
    }
    // Kept: this build's pages and feeds (a page gone is forgotten).
    let mut files = Vec::with_capacity(made.len() + site.aliases.len() + 1);
    let mut pages = HashMap::with_capacity(made.len());
    for (path, print, bytes) in made {
        pages.insert(path.clone(), (print, bytes.clone()));
        files.push((path, bytes));
    }
    files.extend(shared_addresses(site));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    cache.pages = pages;
    cache.kept = Some((tera, shared));
    Ok(CachedRender {
        files,
        whole: true,
        removed: Vec::new(),
        rendered,
    })
}

/// The files a model patched in place changes, through `cache` (left by the build
/// before, with the changed cards restamped): `pages` (indexes into `site.pages`)
/// rendered again where their print changed, the feeds, and, when `moved` (a report
/// changed its address), the redirects and the sitemap. `removed`: pages gone (a
/// report's old address). None when `cache` kept nothing to render with.
pub fn render_patch(
    site: &Site,
    cache: &mut PageCache,
    pages: &[usize],
    removed: Vec<String>,
    moved: bool,
) -> Option<Result<CachedRender, Diagnostics>> {
    let (tera, shared) = cache.kept.as_ref()?;
    let old = &cache.pages;
    let pages = pages.par_iter().map(|&p| &site.pages[p]);
    let (mut made, rendered) = match pages_cached(site, tera, shared, old, pages) {
        Ok(made) => made,
        Err(diags) => return Some(Err(diags)),
    };
    if let Some(base) = &site.config.base_url {
        made.extend(feeds_cached(site, base, shared, old));
    }
    for gone in &removed {
        cache.pages.remove(gone);
    }
    let mut files = Vec::with_capacity(made.len());
    for (path, print, bytes) in made {
        cache.pages.insert(path.clone(), (print, bytes.clone()));
        files.push((path, bytes));
    }
    if moved {
        files.extend(shared_addresses(site));
    }
    Some(Ok(CachedRender {
        files,
        whole: false,
        removed,
        rendered,
    }))
}

/// The Tera with what every page shares (`config`, `t`, `lang`, `site`) in its global
/// context: values are reference-counted, so no page copies them.
fn with_globals(tera: &Tera, shared: &Shared) -> Tera {
    let mut tera = tera.clone();
    for (key, value) in &shared.globals {
        tera.global_context().insert_value(*key, value.clone());
    }
    tera
}

fn render_page(site: &Site, tera: &Tera, shared: &Shared, page: &Page) -> PageResult {
    let root = root_of(&page.file);
    let (template, ctx) = context::page_context(site, shared, page, &root);
    let mut bytes = Vec::with_capacity(16 << 10);
    tera.render_to(template, &ctx, &mut bytes)
        .map_err(|e| (page.file.clone(), template_error_in(site, template, &e)))?;
    Ok(Rendered {
        path: page.file.clone(),
        bytes,
    })
}

/// An alias: a page that sends the reader on, with and without JavaScript or meta refresh.
fn redirect_page(alias: &str, target_from_root: &str) -> String {
    let href = format!("{}{}", root_of(alias), target_from_root);
    let href = escape_html(&href);
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>…</title>\
<link rel=\"canonical\" href=\"{href}\"><meta http-equiv=\"refresh\" content=\"0; url={href}\">\
<meta name=\"robots\" content=\"noindex\"></head>\
<body><p><a href=\"{href}\">{href}</a></p></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tera_with(template: &str) -> Tera {
        let mut tera = new_tera();
        tera.add_raw_template("t.html", template).unwrap();
        tera
    }

    fn render(template: &str, ctx: &tera::Context) -> String {
        tera_with(template).render("t.html", ctx).unwrap()
    }

    #[test]
    fn fill_replaces_each_placeholder_once_and_keeps_unknown_ones() {
        let mut ctx = tera::Context::new();
        ctx.insert("s", "Trang {current}/{total} {other} {");
        ctx.insert("name", "{total}");
        assert_eq!(
            render("{{ s | fill(current=2, total=name) }}", &ctx),
            "Trang 2/{total} {other} {"
        );
    }

    #[test]
    fn count_picks_one_or_many_and_escapes() {
        let mut ctx = tera::Context::new();
        ctx.insert("one", "{n} bài");
        ctx.insert("many", "{n} <bài>");
        let t = "{{ n | count(one=one, many=many) }}";
        ctx.insert("n", &1);
        assert_eq!(render(t, &ctx), "1 bài");
        ctx.insert("n", &12);
        assert_eq!(render(t, &ctx), "12 &lt;bài&gt;");
        ctx.insert("n", &0);
        assert_eq!(render(t, &ctx), "0 &lt;bài&gt;");
    }

    #[test]
    fn rel_prefixes_only_paths_inside_the_site() {
        let mut ctx = tera::Context::new();
        ctx.insert("root", "../../");
        let t = "{{ p | rel(root=root) }}";
        for (p, want) in [
            ("2023/anh.jpg", "../../2023/anh.jpg"),
            ("https://x.vn/a.jpg", "https://x.vn/a.jpg"),
            ("#muc", "#muc"),
        ] {
            ctx.insert("p", p);
            assert_eq!(render(t, &ctx), want);
        }
    }
}
