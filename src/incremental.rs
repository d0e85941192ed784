//! `serve`'s fast path: the last model patched in place when only one report it knows
//! was saved, and only the pages that can show that report made again.
//!
//! A whole rebuild costs time in proportion to the site (every report taken from the
//! cache, every index made, every page fingerprinted): about 200 ms at 10,000
//! reports. An editor's save changes one report, and usually nothing that places it:
//! its date, unit, terms, aliases and draft flag stay, and its place in the lists
//! stays. Then the model needs only that entry made again, and only the pages that
//! show it (its own, its neighbours', the list pages it is on, the feeds) need a new
//! fingerprint. A new title may give a new address: that is patched too when the
//! address is free and nothing else depends on the old one (no other report links to
//! it, no slug collision anywhere, not a bundle owning files).
//!
//! Anything else, and any doubt, declines ([`patch`] gives None): the caller forgets
//! the model and builds the whole site through its caches, which gives the same bytes
//! as a fresh build. The patch must give exactly what that whole build would: the
//! tests in tests/serve.rs compare both with a fresh build byte for byte.

use std::path::Path;
use std::sync::Arc;

use chrono::Datelike;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::render::CachedRender;
use crate::report::Report;
use crate::site::{link, wanted_dir, ModelInputs, PageKind, Site, TaxonomyKind};
use crate::BuildCache;

/// The model of the last good build, kept to be patched.
pub struct Model {
    /// Shared with the search index being made from it (a patch then copies it).
    pub site: Arc<Site>,
    inputs: ModelInputs,
    /// `check`'s rule: a dead link is an error.
    strict: bool,
    /// Made by [`Model::prepare`], once the pages are served: until then a save takes
    /// the whole path.
    index: Option<Index>,
}

/// Where things are in the model.
struct Index {
    /// Report source (under content/) to entry.
    by_source: FxHashMap<String, usize>,
    /// Every page's place in `site.pages`.
    page_of: FxHashMap<PageKind, usize>,
    /// Every report's folder.
    dirs: FxHashSet<String>,
}

impl Model {
    pub fn new(site: Site, inputs: ModelInputs, strict: bool) -> Model {
        Model {
            site: Arc::new(site),
            inputs,
            strict,
            index: None,
        }
    }

    /// Makes what a patch looks things up in (a few milliseconds at 10,000 reports:
    /// done after the pages are served, not on the way to them).
    pub fn prepare(&mut self) {
        if self.index.is_some() {
            return;
        }
        let site = &self.site;
        self.index = Some(Index {
            by_source: (site.entries.iter().enumerate())
                .map(|(i, e)| (e.report.source.clone(), i))
                .collect(),
            page_of: (site.pages.iter().enumerate())
                .map(|(p, page)| (page.kind.clone(), p))
                .collect(),
            dirs: site.entries.iter().map(|e| e.dir.clone()).collect(),
        });
    }
}

/// The site patched for `sources` (reports under content/, saved in place, nothing
/// else changed since the last build), and the files that changed; None when the
/// change is not one a patch can make (see the module's doc): more than one report
/// (a burst of saves is rare, and a whole build is right for it), or one whose edit
/// moves it. On None the model and what the pages were rendered with are forgotten:
/// the caller builds the whole site.
pub fn patch(root: &Path, cache: &mut BuildCache, sources: &[String]) -> Option<CachedRender> {
    let patched = match sources {
        [source] => try_patch(root, cache, source),
        _ => None,
    };
    if patched.is_none() {
        cache.forget_model();
    }
    patched
}

fn try_patch(root: &Path, cache: &mut BuildCache, source: &str) -> Option<CachedRender> {
    let model = cache.model.as_mut()?;
    let index = model.index.as_mut()?;
    let i = *index.by_source.get(source)?;
    let report = read(root, &model.site, source)?;
    let site = Arc::make_mut(&mut model.site);
    let inputs = &mut model.inputs;
    let gone = replace(
        site,
        index,
        inputs,
        model.strict,
        i,
        report,
        &mut cache.markdown,
    )?;
    let removed: Vec<String> = gone.into_iter().collect();
    site.diagnostics = inputs.diagnostics();
    cache.pages.shared_mut()?.restamp(site, i);
    let pages = pages_showing(site, index, i)?;
    let moved = !removed.is_empty();
    crate::render::render_patch(site, &mut cache.pages, &pages, removed, moved)?.ok()
}

/// The report at `source` read and parsed again; None on any error (the whole build
/// reports it).
fn read(root: &Path, site: &Site, source: &str) -> Option<Report> {
    let shown = Path::new("content").join(source);
    let text = crate::load::read_text(&root.join(&shown), &shown).ok()?;
    crate::report::parse(&text, source, &shown, &site.config, Some(&site.units)).ok()
}

/// Puts `report` in the place of entry `i`, if nothing but that entry and the
/// pages showing it changes; gives the page file it leaves (when its address
/// changed). None: it cannot be patched (the model may be half changed).
fn replace(
    site: &mut Site,
    index: &mut Index,
    inputs: &mut ModelInputs,
    strict: bool,
    i: usize,
    report: Report,
    markdown: &mut crate::site::MarkdownCache,
) -> Option<Option<String>> {
    let old = &site.entries[i];
    let was = &old.report;
    let same_place = report.draft == was.draft
        && report.date == was.date
        && report.date.offset() == was.date.offset()
        && report.has_time == was.has_time
        && report.unit == was.unit
        && report.kind == was.kind
        && report.tags == was.tags
        && report.documents == was.documents
        && (report.aliases.iter().map(|a| &a.0)).eq(was.aliases.iter().map(|a| &a.0));
    // Its place in every list: between the same neighbours.
    let in_order = (i == 0 || crate::site::order(&site.entries[i - 1].report, &report).is_lt())
        && site
            .entries
            .get(i + 1)
            .is_none_or(|next| crate::site::order(&report, &next.report).is_lt());
    if !same_place || !in_order {
        return None;
    }
    let pretty = site.config.pretty_links;
    let wanted = wanted_dir(&report);
    let dir = format!("{wanted}/");
    let moved = dir != old.dir;
    if moved {
        let old_link = link(&old.dir, pretty);
        // A cover naming the report's file (odd, but it resolves to its page).
        let old_cover = crate::markdown::encode_path(&old_link);
        let free = !index.dirs.contains(&dir)
            // Without any collision every report has the address it asks for:
            // none other asks for this one, none waits for the old one.
            && inputs.dir_diagnostics.is_empty()
            && !report.bundle
            && !(site.aliases.iter().map(|(p, _)| p))
                .chain(site.files.iter().map(|f| &f.out))
                .any(|p| p.starts_with(&wanted))
            && !markdown.links_to(&old_link, &report.source)
            && !site.entries.iter().any(|e| e.cover_src.as_ref() == Some(&old_cover));
        if !free {
            return None;
        }
        let targets = &mut inputs.targets;
        targets.insert(report.source.clone(), link(&dir, pretty));
    }
    let allow_html = site.config.markdown.allow_html;
    let (mut entry, diags) = markdown.entry(report, dir, allow_html, strict, &inputs.targets);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    let old = &mut site.entries[i];
    entry.kind = old.kind;
    entry.tags = std::mem::take(&mut old.tags);
    entry.documents = std::mem::take(&mut old.documents);
    let old_dir = std::mem::replace(old, entry).dir;
    inputs.entry_diagnostics[i] = diags;
    if !moved {
        return Some(None);
    }
    let page = &mut site.pages[*index.page_of.get(&PageKind::Report(i))?];
    let gone = std::mem::replace(&mut page.file, format!("{}index.html", site.entries[i].dir));
    index.dirs.remove(&old_dir);
    index.dirs.insert(site.entries[i].dir.clone());
    Some(Some(gone))
}

/// Every page that shows entry `i` (its card, its title or its address): its own,
/// its neighbours' (previous and next), and its page of each list it is on.
fn pages_showing(site: &Site, index: &Index, i: usize) -> Option<Vec<usize>> {
    let per = site.config.paginate.max(1);
    let e = &site.entries[i];
    // The page of a list (sorted like the entries) that holds entry `i`.
    let page_in = |list: &[usize]| list.binary_search(&i).ok().map(|at| at / per + 1);
    let mut kinds = vec![PageKind::Report(i), PageKind::Home { page: i / per + 1 }];
    if i > 0 {
        kinds.push(PageKind::Report(i - 1));
    }
    if i + 1 < site.entries.len() {
        kinds.push(PageKind::Report(i + 1));
    }
    let (year, month) = (e.report.date.year(), e.report.date.month());
    let y = site.years.iter().position(|y| y.year == year)?;
    let m = site.years[y].months.iter().position(|m| m.month == month)?;
    kinds.push(PageKind::Year(y));
    kinds.push(PageKind::Month(y, m));
    let unit = &site.units.units[e.report.unit];
    for &u in std::iter::once(&e.report.unit).chain(&unit.ancestors) {
        let page = page_in(&site.unit_reports[u])?;
        kinds.push(PageKind::Unit { unit: u, page });
    }
    for (taxonomy, tax) in site.taxonomies.iter().enumerate() {
        let terms: &[usize] = match tax.kind {
            TaxonomyKind::Tag => &e.tags,
            TaxonomyKind::Document => &e.documents,
            TaxonomyKind::Kind => e.kind.as_slice(),
        };
        for &term in terms {
            let page = page_in(&tax.terms[term].reports)?;
            kinds.push(PageKind::Term {
                taxonomy,
                term,
                page,
            });
        }
    }
    kinds
        .iter()
        .map(|k| index.page_of.get(k).copied())
        .collect()
}
