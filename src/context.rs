//! What templates see: serializable views of the model (docs/templates.md).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tera::{Context, Value};

use crate::lang::{self, Language};
use crate::site::{link, page_count, paged_dir, Entry, Page, PageKind, Site, TaxonomyKind};
use crate::units::UnitTree;

#[derive(Serialize, Clone)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
    pub short: Option<String>,
    pub path: String,
    /// Only on a report's own page: the units above, from the root down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ancestors: Option<Vec<UnitRef>>,
}

#[derive(Serialize)]
pub struct UnitNode {
    pub id: String,
    pub name: String,
    pub short: Option<String>,
    pub description: Option<String>,
    pub path: String,
    pub count: usize,
    pub own_count: usize,
    pub depth: usize,
    pub children: Vec<UnitNode>,
}

#[derive(Serialize)]
pub struct UnitPage {
    #[serde(flatten)]
    pub node: UnitNode,
    pub ancestors: Vec<UnitRef>,
}

#[derive(Serialize, Clone)]
pub struct TermRef {
    pub name: String,
    pub slug: String,
    pub path: String,
    pub count: usize,
}

#[derive(Serialize)]
pub struct CoverRef {
    pub src: String,
    pub alt: String,
}

#[derive(Serialize)]
pub struct Card {
    pub title: String,
    pub path: String,
    pub date: String,
    pub date_long: String,
    pub date_short: String,
    pub time: Option<String>,
    pub unit: UnitRef,
    pub kind: Option<TermRef>,
    pub summary: String,
    pub cover: Option<CoverRef>,
}

#[derive(Serialize)]
pub struct Neighbour {
    pub title: String,
    pub path: String,
    pub date_short: String,
}

/// A report on its own page: its card and everything else.
#[derive(Serialize)]
pub struct ReportView<'a> {
    #[serde(flatten)]
    pub card: Card,
    pub content: &'a str,
    pub authors: &'a [String],
    pub credits: &'a [String],
    pub source: Option<&'a str>,
    pub location: Option<&'a str>,
    pub attendees: Option<u64>,
    pub documents: Vec<TermRef>,
    pub tags: Vec<TermRef>,
    pub extra: &'a serde_json::Value,
    pub previous: Option<Neighbour>,
    pub next: Option<Neighbour>,
}

#[derive(Serialize)]
pub struct PageLink {
    pub number: usize,
    pub path: String,
    pub current: bool,
    /// Pages are left out between this one and the one before.
    pub gap_before: bool,
}

#[derive(Serialize)]
pub struct Paginator {
    pub current: usize,
    pub total_pages: usize,
    pub total_items: usize,
    pub per_page: usize,
    pub first: String,
    pub last: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub pages: Vec<PageLink>,
}

#[derive(Serialize)]
pub struct MonthView {
    pub year: i32,
    pub month: u32,
    pub label: String,
    pub count: usize,
    pub path: String,
}

/// A month of a year page with its reports.
#[derive(Serialize)]
pub struct MonthReports<'a> {
    #[serde(flatten)]
    pub month: &'a MonthView,
    pub reports: Vec<Value>,
}

#[derive(Serialize)]
pub struct YearView {
    pub year: i32,
    pub count: usize,
    pub path: String,
    pub months: Vec<MonthView>,
}

#[derive(Serialize)]
pub struct Nav {
    pub home: String,
    pub archive: String,
    pub units: String,
    pub tags: String,
    pub documents: String,
    pub kinds: String,
}

#[derive(Serialize)]
pub struct SiteView {
    pub report_count: usize,
    pub feed: Option<String>,
    pub search: Option<String>,
    pub nav: Nav,
    pub units: Vec<UnitNode>,
    /// The same forest as one flat list in tree order, for templates that draw it
    /// without recursion (Tera limits recursive components to 20 levels; unit trees
    /// may go deeper).
    pub unit_rows: Vec<UnitRow>,
    pub years: Vec<YearView>,
}

/// A unit in [`SiteView::unit_rows`]: where its list item opens and closes (its
/// `children` are left empty: they are the rows that follow).
#[derive(Serialize)]
pub struct UnitRow {
    #[serde(flatten)]
    pub unit: UnitNode,
    /// Units below it follow at once, one level deeper.
    pub has_children: bool,
    /// How many levels end after this unit (its own item excluded when it has children).
    pub closes: usize,
}

#[derive(Serialize)]
pub struct PageView {
    pub kind: &'static str,
    pub title: String,
    pub path: String,
}

#[derive(Serialize)]
pub struct TaxonomyView {
    pub kind: &'static str,
    pub name: String,
    pub path: String,
}

/// What every page shares, made once per build. Tera values are reference-counted:
/// a card put on twenty list pages is one value, not twenty copies.
pub struct Shared {
    /// `config`, `t`, `lang` and `site`: Tera's global context, seen by every template.
    pub globals: Vec<(&'static str, Value)>,
    pub strings: BTreeMap<String, String>,
    /// `site.years`, for the year and month pages.
    pub years: Vec<YearView>,
    /// The list view of every report, by entry index.
    pub cards: Vec<Value>,
    /// For fingerprints (empty when none are made): each card's, and that of all a
    /// page sees besides its own context (globals, templates, strings).
    pub card_stamps: Vec<u64>,
    pub print: u64,
    /// For each page template, a fingerprint of the templates it is made from: a
    /// change to one template renders again only the pages that use it.
    pub template_prints: HashMap<String, u64>,
}

impl Shared {
    pub fn new(site: &Site) -> Shared {
        Shared::new_printed(site, false)
    }

    /// [`Shared::new`], with the stamps that page fingerprints need when `printed`.
    pub fn new_printed(site: &Site, printed: bool) -> Shared {
        let lang_key = match site.config.language {
            Language::Vi => "vi",
            Language::En => "en",
        };
        let mut strings = site.theme.strings.get("vi").cloned().unwrap_or_default();
        if lang_key != "vi" {
            strings.extend(
                site.theme
                    .strings
                    .get(lang_key)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let (cards, card_stamps): (Vec<Value>, Vec<u64>) = {
            use rayon::prelude::*;
            (0..site.entries.len())
                .into_par_iter()
                .map(|i| card_value(site, i, printed))
                .unzip()
        };
        let view = site_view(site);
        let globals = vec![
            ("config", Value::from_serializable(&site.config)),
            ("t", Value::from_serializable(&strings)),
            ("lang", Value::from(lang_key)),
            ("site", Value::from_serializable(&view)),
        ];
        let print = if printed {
            let mut print = xxhash_rust::xxh3::Xxh3::new();
            for (key, value) in &globals {
                print_json(&mut print, key, value);
            }
            print.digest()
        } else {
            0
        };
        let template_prints = if printed {
            template_prints(site)
        } else {
            HashMap::new()
        };
        Shared {
            globals,
            strings,
            years: view.years,
            cards,
            card_stamps,
            print,
            template_prints,
        }
    }

    /// Makes the card of report `i` again (and its stamp, when this is a printed
    /// `Shared`), after its entry changed in place.
    pub fn restamp(&mut self, site: &Site, i: usize) {
        let printed = !self.card_stamps.is_empty();
        (self.cards[i], self.card_stamps[i]) = card_value(site, i, printed);
    }

    fn tr(&self, key: &str, fallback: &str) -> String {
        self.strings
            .get(key)
            .cloned()
            .unwrap_or_else(|| fallback.to_string())
    }
}

/// The card of report `i` as templates see it, and its stamp when `printed` (else 0).
fn card_value(site: &Site, i: usize, printed: bool) -> (Value, u64) {
    let card = card(site, i);
    let stamp = if printed {
        let mut print = xxhash_rust::xxh3::Xxh3::new();
        print_json(&mut print, "card", &card);
        print.digest()
    } else {
        0
    };
    (Value::from_serializable(&card), stamp)
}

fn lang_of(site: &Site) -> Language {
    site.config.language
}

pub fn unit_ref(site: &Site, u: usize) -> UnitRef {
    let unit = &site.units.units[u];
    UnitRef {
        id: unit.id.clone(),
        name: unit.name.clone(),
        short: unit.short.clone(),
        path: link(&format!("don-vi/{}/", unit.id), site.config.pretty_links),
        ancestors: None,
    }
}

fn unit_node(site: &Site, tree: &UnitTree, u: usize, depth: usize, recurse: bool) -> UnitNode {
    let unit = &tree.units[u];
    UnitNode {
        id: unit.id.clone(),
        name: unit.name.clone(),
        short: unit.short.clone(),
        description: unit.description.clone(),
        path: link(&format!("don-vi/{}/", unit.id), site.config.pretty_links),
        count: site.unit_reports[u].len(),
        own_count: site.unit_own_counts[u],
        depth,
        children: if recurse {
            unit.children
                .iter()
                .map(|&c| unit_node(site, tree, c, depth + 1, true))
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn term_ref(site: &Site, kind: TaxonomyKind, t: usize) -> TermRef {
    let tax = site
        .taxonomies
        .iter()
        .find(|x| x.kind == kind)
        .expect("all three taxonomies exist");
    let term = &tax.terms[t];
    TermRef {
        name: term.name.clone(),
        slug: term.slug.clone(),
        path: link(
            &format!("{}/{}/", kind.dir(), term.slug),
            site.config.pretty_links,
        ),
        count: term.reports.len(),
    }
}

fn cover(e: &Entry) -> Option<CoverRef> {
    let src = e.cover_src.clone()?;
    let alt = e
        .report
        .cover
        .as_ref()
        .map(|c| c.alt.clone())
        .unwrap_or_default();
    Some(CoverRef { src, alt })
}

fn card(site: &Site, i: usize) -> Card {
    let e = &site.entries[i];
    let lang = lang_of(site);
    let day = e.report.date.date_naive();
    Card {
        title: e.report.title.clone(),
        path: link(&e.dir, site.config.pretty_links),
        date: e.report.date.to_rfc3339(),
        date_long: lang::date_long(day, lang),
        date_short: lang::date_short(day, lang),
        time: e
            .report
            .has_time
            .then(|| e.report.date.format("%H:%M").to_string()),
        unit: unit_ref(site, e.report.unit),
        kind: e.kind.map(|k| term_ref(site, TaxonomyKind::Kind, k)),
        summary: e.summary.clone(),
        cover: cover(e),
    }
}

fn site_view(site: &Site) -> SiteView {
    let pretty = site.config.pretty_links;
    let lang = lang_of(site);
    SiteView {
        report_count: site.entries.len(),
        feed: site
            .config
            .base_url
            .as_ref()
            .map(|_| "feed.xml".to_string()),
        search: site.config.search.then(|| link("tim-kiem/", pretty)),
        nav: Nav {
            home: link("", pretty),
            archive: link("luu-tru/", pretty),
            units: link("don-vi/", pretty),
            tags: link("chu-de/", pretty),
            documents: link("van-ban/", pretty),
            kinds: link("loai/", pretty),
        },
        units: site
            .units
            .roots
            .iter()
            .map(|&r| unit_node(site, &site.units, r, 0, true))
            .collect(),
        unit_rows: unit_rows(site),
        years: site
            .years
            .iter()
            .map(|y| YearView {
                year: y.year,
                count: y.reports.len(),
                path: link(&format!("{}/", y.year), pretty),
                months: y
                    .months
                    .iter()
                    .map(|m| MonthView {
                        year: y.year,
                        month: m.month,
                        label: lang::month_label(y.year, m.month, lang),
                        count: m.reports.len(),
                        path: link(&format!("{}/{:02}/", y.year, m.month), pretty),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The unit forest in tree order, each unit with its depth, without recursion.
fn unit_rows(site: &Site) -> Vec<UnitRow> {
    let tree = &site.units;
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(tree.units.len());
    let mut stack: Vec<(usize, usize)> = tree.roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((u, depth)) = stack.pop() {
        order.push((u, depth));
        stack.extend(tree.units[u].children.iter().rev().map(|&c| (c, depth + 1)));
    }
    (0..order.len())
        .map(|i| {
            let (u, depth) = order[i];
            let next_depth = order.get(i + 1).map_or(0, |&(_, d)| d);
            let has_children = next_depth > depth;
            UnitRow {
                unit: unit_node(site, tree, u, depth, false),
                has_children,
                closes: if has_children { 0 } else { depth - next_depth },
            }
        })
        .collect()
}

/// Pages linked on each side of the current one.
const PAGE_WINDOW: usize = 2;

fn paginator(site: &Site, base: &str, total: usize, current: usize) -> Paginator {
    let per = site.config.paginate;
    let pages = page_count(total, per);
    let path = |n: usize| link(&paged_dir(base, n), site.config.pretty_links);
    Paginator {
        current,
        total_pages: pages,
        total_items: total,
        per_page: per,
        first: path(1),
        last: path(pages),
        previous: (current > 1).then(|| path(current - 1)),
        next: (current < pages).then(|| path(current + 1)),
        // A window, not every page: a list of 500 pages would cost 500 links on each.
        pages: (1..=pages)
            .filter(|&n| n == 1 || n == pages || n.abs_diff(current) <= PAGE_WINDOW)
            .scan(0, |last, n| {
                let gap_before = n > *last + 1 && *last > 0;
                *last = n;
                Some(PageLink {
                    number: n,
                    path: path(n),
                    current: n == current,
                    gap_before,
                })
            })
            .collect(),
    }
}

fn cards(shared: &Shared, list: &[usize]) -> Vec<Value> {
    list.iter().map(|&i| shared.cards[i].clone()).collect()
}

fn report_view<'a>(site: &'a Site, i: usize) -> ReportView<'a> {
    let e = &site.entries[i];
    let pretty = site.config.pretty_links;
    let lang = lang_of(site);
    let neighbour = |j: usize| {
        let n = &site.entries[j];
        Neighbour {
            title: n.report.title.clone(),
            path: link(&n.dir, pretty),
            date_short: lang::date_short(n.report.date.date_naive(), lang),
        }
    };
    let mut card = card(site, i);
    card.unit.ancestors = Some(
        site.units.units[e.report.unit]
            .ancestors
            .iter()
            .map(|&a| unit_ref(site, a))
            .collect(),
    );
    ReportView {
        card,
        content: &e.html,
        authors: &e.report.authors,
        credits: &e.report.credits,
        source: e.report.source_name.as_deref(),
        location: e.report.location.as_deref(),
        attendees: e.report.attendees,
        documents: e
            .documents
            .iter()
            .map(|&t| term_ref(site, TaxonomyKind::Document, t))
            .collect(),
        tags: e
            .tags
            .iter()
            .map(|&t| term_ref(site, TaxonomyKind::Tag, t))
            .collect(),
        extra: &e.report.extra,
        previous: (i + 1 < site.entries.len()).then(|| neighbour(i + 1)),
        next: (i > 0).then(|| neighbour(i - 1)),
    }
}

fn taxonomy_view(site: &Site, shared: &Shared, t: usize) -> TaxonomyView {
    let kind = site.taxonomies[t].kind;
    let (key, fallback) = match kind {
        TaxonomyKind::Tag => ("tags", "Chủ đề"),
        TaxonomyKind::Document => ("documents", "Văn bản"),
        TaxonomyKind::Kind => ("kinds", "Loại hội nghị"),
    };
    TaxonomyView {
        kind: kind.key(),
        name: shared.tr(key, fallback),
        path: link(&format!("{}/", kind.dir()), site.config.pretty_links),
    }
}

/// The template a page is rendered with.
pub fn template_of(kind: &PageKind) -> &'static str {
    match kind {
        PageKind::Home { .. } => "index.html",
        PageKind::Report(_) => "report.html",
        PageKind::Archive => "archive.html",
        PageKind::Year(_) => "year.html",
        PageKind::Month(..) => "month.html",
        PageKind::Units => "units.html",
        PageKind::Unit { .. } => "unit.html",
        PageKind::Terms(_) => "terms.html",
        PageKind::Term { .. } => "term.html",
        PageKind::Search => "search.html",
        PageKind::NotFound => "404.html",
    }
}

/// The template and context of one page.
pub fn page_context(
    site: &Site,
    shared: &Shared,
    page: &Page,
    root: &str,
) -> (&'static str, Context) {
    let (template, ctx) = page_context_printed(site, shared, page, root, false, true);
    (template, ctx.ctx)
}

/// A page's context and, when asked, a fingerprint of everything in it: two builds
/// that give a page the same fingerprint give it the same bytes (with the same
/// templates and globals, which [`Shared::print`] covers). `serve` renders again only
/// the pages whose fingerprint changed.
pub fn page_context_printed(
    site: &Site,
    shared: &Shared,
    page: &Page,
    root: &str,
    printed: bool,
    context: bool,
) -> (&'static str, PageCtx) {
    let mut ctx = PageCtx {
        ctx: Context::new(),
        print: printed.then(xxhash_rust::xxh3::Xxh3::new),
        make: context,
    };
    ctx.insert("root", root);
    let per = site.config.paginate;
    let pretty = site.config.pretty_links;
    let lang = lang_of(site);
    let own_path = link(
        page.file.strip_suffix("index.html").unwrap_or(&page.file),
        pretty,
    );
    let (template, kind, title): (&'static str, &'static str, String) = match &page.kind {
        PageKind::Home { page: n } => {
            let on_page: Vec<usize> = ((n - 1) * per..(n * per).min(site.entries.len())).collect();
            ctx.cards("reports", shared, &on_page);
            ctx.insert("paginator", &paginator(site, "", site.entries.len(), *n));
            ("index.html", "home", site.config.title.clone())
        }
        PageKind::Report(i) => {
            let mut view = report_view(site, *i);
            if let Some(print) = &mut ctx.print {
                // The body by its stamp: hashing every page's HTML again would cost more.
                let content = std::mem::take(&mut view.content);
                print.update(&site.entries[*i].html_stamp.to_le_bytes());
                print_json(print, "report", &view);
                view.content = content;
            }
            if ctx.make {
                ctx.ctx.insert("report", &view);
            }
            (
                "report.html",
                "report",
                site.entries[*i].report.title.clone(),
            )
        }
        PageKind::Archive => ("archive.html", "archive", shared.tr("archive", "Lưu trữ")),
        PageKind::Year(y) => {
            let year = &site.years[*y];
            let view = &shared.years[*y];
            ctx.insert("year", view);
            ctx.cards("reports", shared, &year.reports);
            // The reports grouped by month, newest first: a template that filtered
            // the year's reports once per month did months × reports tests.
            let months: Vec<Value> = if !ctx.make {
                Vec::new()
            } else {
                year.months
                    .iter()
                    .zip(&view.months)
                    .map(|(month, view)| {
                        Value::from_serializable(&MonthReports {
                            month: view,
                            reports: cards(shared, &month.reports),
                        })
                    })
                    .collect()
            };
            // The months' cards are the year's, already printed: only the grouping.
            let grouping: Vec<usize> = year.months.iter().map(|m| m.reports.len()).collect();
            ctx.print_only("months", &grouping);
            if ctx.make {
                ctx.ctx.insert_value("months", Value::from(months));
            }
            ("year.html", "year", year.year.to_string())
        }
        PageKind::Month(y, m) => {
            let year = &site.years[*y];
            let month = &year.months[*m];
            ctx.insert("month", &shared.years[*y].months[*m]);
            ctx.cards("reports", shared, &month.reports);
            (
                "month.html",
                "month",
                lang::month_label(year.year, month.month, lang),
            )
        }
        PageKind::Units => ("units.html", "units", shared.tr("units", "Đơn vị")),
        PageKind::Unit { unit, page: n } => {
            let u = &site.units.units[*unit];
            let mut node = unit_node(site, &site.units, *unit, u.ancestors.len(), false);
            node.children = u
                .children
                .iter()
                .map(|&c| unit_node(site, &site.units, c, u.ancestors.len() + 1, false))
                .collect();
            ctx.insert(
                "unit",
                &UnitPage {
                    node,
                    ancestors: u.ancestors.iter().map(|&a| unit_ref(site, a)).collect(),
                },
            );
            let list = &site.unit_reports[*unit];
            let has_feed = site.config.base_url.is_some() && !list.is_empty();
            ctx.insert(
                "feed",
                &has_feed.then(|| format!("don-vi/{}/feed.xml", u.id)),
            );
            ctx.cards("reports", shared, page_of(list, *n, per));
            ctx.insert(
                "paginator",
                &paginator(site, &format!("don-vi/{}/", u.id), list.len(), *n),
            );
            ("unit.html", "unit", u.name.clone())
        }
        PageKind::Terms(t) => {
            let tax = &site.taxonomies[*t];
            let view = taxonomy_view(site, shared, *t);
            let title = view.name.clone();
            ctx.insert("taxonomy", &view);
            let terms: Vec<TermRef> = (0..tax.terms.len())
                .map(|i| term_ref(site, tax.kind, i))
                .collect();
            ctx.insert("terms", &terms);
            ("terms.html", "terms", title)
        }
        PageKind::Term {
            taxonomy,
            term,
            page: n,
        } => {
            let tax = &site.taxonomies[*taxonomy];
            let tr = term_ref(site, tax.kind, *term);
            let title = tr.name.clone();
            ctx.insert("taxonomy", &taxonomy_view(site, shared, *taxonomy));
            ctx.insert("term", &tr);
            let list = &tax.terms[*term].reports;
            ctx.cards("reports", shared, page_of(list, *n, per));
            ctx.insert(
                "paginator",
                &paginator(
                    site,
                    &format!("{}/{}/", tax.kind.dir(), tax.terms[*term].slug),
                    list.len(),
                    *n,
                ),
            );
            ("term.html", "term", title)
        }
        PageKind::Search => ("search.html", "search", shared.tr("search", "Tìm kiếm")),
        PageKind::NotFound => (
            "404.html",
            "404",
            shared.tr("not_found_title", "Không tìm thấy trang"),
        ),
    };
    let path = if page.kind == PageKind::NotFound {
        "404.html".to_string()
    } else {
        own_path
    };
    ctx.insert("page", &PageView { kind, title, path });
    if let Some(print) = &mut ctx.print {
        print.update(template.as_bytes());
        print.update(&shared.print.to_le_bytes());
        let used = shared.template_prints.get(template).copied();
        print.update(&used.unwrap_or_default().to_le_bytes());
    }
    (template, ctx)
}

/// For each template, the fingerprint of the templates it uses: itself, what it
/// extends and includes (the names in its `{% extends %}` and `{% include %}` tags,
/// followed), and every template that defines a component (components are global).
fn template_prints(site: &Site) -> HashMap<String, u64> {
    let templates = &site.theme.templates;
    let components: Vec<&str> = templates
        .values()
        .filter(|t| t.text.contains("component"))
        .map(|t| t.name.as_str())
        .collect();
    templates
        .keys()
        .map(|name| {
            let mut used: Vec<&str> = vec![name.as_str()];
            let mut i = 0;
            while i < used.len() {
                if let Some(t) = templates.get(used[i]) {
                    for named in named_templates(&t.text) {
                        if let Some((key, _)) = templates.get_key_value(named) {
                            if !used.contains(&key.as_str()) {
                                used.push(key.as_str());
                            }
                        }
                    }
                }
                i += 1;
            }
            used.extend(components.iter().copied());
            used.sort_unstable();
            used.dedup();
            let mut print = xxhash_rust::xxh3::Xxh3::new();
            for u in used {
                print.update(u.as_bytes());
                print.update(&[0]);
                print.update(templates[u].text.as_bytes());
                print.update(&[0]);
            }
            (name.clone(), print.digest())
        })
        .collect()
}

/// Every quoted name in the `{% extends %}`, `{% include %}` and `{% import %}` tags
/// of a template's text.
fn named_templates(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{%") {
        let after = &rest[open + 2..];
        let end = after.find("%}").unwrap_or(after.len());
        let tag = after[..end].trim_start_matches('-').trim_start();
        if ["extends", "include", "import"]
            .iter()
            .any(|k| tag.starts_with(k))
        {
            // Quoted names are every second part: `"a"` or `["a", "b"]`.
            out.extend(tag.split(['"', '\'']).skip(1).step_by(2));
        }
        rest = &after[end..];
    }
    out
}

/// A page's Tera context being made, and the fingerprint of what went into it.
pub struct PageCtx {
    pub ctx: Context,
    print: Option<xxhash_rust::xxh3::Xxh3>,
    /// Whether `ctx` is filled (a fingerprint alone is much cheaper).
    make: bool,
}

impl PageCtx {
    fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        self.print_only(key, value);
        if self.make {
            self.ctx.insert(key, value);
        }
    }

    fn print_only<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        if let Some(print) = &mut self.print {
            print_json(print, key, value);
        }
    }

    /// The cards of these reports, printed by their stamps.
    fn cards(&mut self, key: &'static str, shared: &Shared, list: &[usize]) {
        if let Some(print) = &mut self.print {
            print.update(key.as_bytes());
            for &i in list {
                print.update(&shared.card_stamps[i].to_le_bytes());
            }
        }
        if self.make {
            self.ctx.insert_value(key, Value::from(cards(shared, list)));
        }
    }

    /// The fingerprint; 0 when none was asked for.
    pub fn print(&self) -> u64 {
        self.print.as_ref().map_or(0, |p| p.digest())
    }
}

/// Feeds `key` and `value` as JSON to the fingerprint.
fn print_json<T: Serialize + ?Sized>(print: &mut xxhash_rust::xxh3::Xxh3, key: &str, value: &T) {
    struct Feed<'a>(&'a mut xxhash_rust::xxh3::Xxh3);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    print.update(key.as_bytes());
    let _ = serde_json::to_writer(Feed(print), value);
    print.update(&[0xff]);
}

/// The reports of page `page` (from 1) of a list.
fn page_of(list: &[usize], page: usize, per: usize) -> &[usize] {
    let start = ((page - 1) * per).min(list.len());
    &list[start..(start + per).min(list.len())]
}
