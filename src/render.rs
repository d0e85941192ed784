//! Rendering the model through Tera: every page, feed and redirect as bytes.
//!
//! Template contexts are built from the serializable structs of `context`; data that is
//! the same on every page (`config`, `site`, `t`) is serialized once.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde_json::Value;
use tera::Tera;

use crate::context::{self, Shared};
use crate::diag::{Diagnostic, Diagnostics};
use crate::site::{link, Page, Site};

/// A file of the output and its bytes.
pub struct Rendered {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Loads the templates once; every error in them is reported, each naming its template.
pub fn load_templates(site: &Site) -> Result<Tera, Diagnostics> {
    let mut tera = Tera::default();
    let mut diags = Diagnostics::default();
    let shown: HashMap<&str, &PathBuf> = site
        .theme
        .templates
        .values()
        .map(|t| (t.name.as_str(), &t.shown))
        .collect();
    // Parse each template alone first, so that every broken one is named.
    for t in site.theme.templates.values() {
        if let Err(e) = tera::Template::new(&t.name, None, &t.text) {
            diags.push(template_error(&t.shown, &e));
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
        let name = error_template(&e);
        let file = name
            .and_then(|n| shown.get(n.as_str()).map(|p| p.to_path_buf()))
            .unwrap_or_else(|| "templates".into());
        diags.push(template_error(&file, &e));
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
    tera.register_filter("rel", rel_filter);
    tera.register_filter("count", count_filter);
    tera.register_filter("fill", fill_filter);
    tera.set_escape_fn(escape_html);
    Ok(tera)
}

/// Tera's own escaping also turns `/` into `&#x2F;`, which is safe but makes every
/// link longer and harder to read; `&<>"'` are all HTML needs.
pub fn escape_html(s: &str) -> String {
    crate::feeds::xml_escape(s)
}

/// `{{ src | rel(root=root) }}`: the root prefix for a path inside the site, nothing for a URL.
fn rel_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = value.as_str().unwrap_or_default();
    if crate::site::is_external(s) || s.starts_with('#') {
        return Ok(Value::String(s.to_string()));
    }
    let root = args.get("root").and_then(Value::as_str).unwrap_or("");
    Ok(Value::String(format!("{root}{s}")))
}

/// A number or string as text: `12`, not `12.0`.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `{{ t.page_of | fill(current=3, total=5) }}`: each `{name}` of the value replaced by
/// the argument of that name, in one pass (a replacement is never scanned again).
/// Unknown placeholders stay as written.
fn fill_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = value.as_str().unwrap_or_default();
    Ok(Value::String(fill(text, |name| args.get(name).map(plain))))
}

fn fill(text: &str, arg: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| Some((close, arg(&after[..close])?))) {
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
fn count_filter(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let n = plain(value);
    let key = if value.as_u64() == Some(1) { "one" } else { "many" };
    let text = match args.get(key).or_else(|| args.get("many")) {
        Some(Value::String(s)) => s.as_str(),
        _ => "{n}",
    };
    Ok(Value::String(fill(text, |name| {
        (name == "n").then(|| n.clone())
    })))
}

fn error_template(e: &tera::Error) -> Option<String> {
    let text = e.to_string();
    let start = text.find('\'')? + 1;
    let end = start + text[start..].find('\'')?;
    Some(text[start..end].to_string())
}

/// A Tera error with its chain: the template's line and column are in the causes.
fn template_error(file: &std::path::Path, e: &tera::Error) -> Diagnostic {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push('\n');
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let position = text.split("-->").nth(1).and_then(|rest| {
        let mut numbers = rest.trim_start().split(|c: char| !c.is_ascii_digit());
        let line = numbers.next()?.parse::<usize>().ok()?;
        let column = numbers.next().and_then(|c| c.parse::<usize>().ok());
        Some((line, column))
    });
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let message = format!("the template has an error:\n    {}", lines.join("\n    "));
    let mut d = Diagnostic::error(file, message).hint("fix the template (Tera syntax: {{ value }}, {% if %}...{% endif %}, {% for %}...{% endfor %}); every variable it uses is listed in docs/templates.md");
    match position {
        Some((line, Some(column))) => d = d.at(line, column),
        Some((line, None)) => d = d.at_line(line),
        None => {}
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

/// Renders every page of the site, in parallel, plus feeds, sitemap, search index and
/// alias redirects. Sorted by path.
pub fn render_site(site: &Site, tera: &Tera) -> Result<Vec<Rendered>, Diagnostics> {
    let mut shared = Shared::new(site);
    shared.needs_full_site = templates_reading_site_tree(site, tera);
    // The search index is built beside the pages, on the same threads.
    let (results, search_files): (Vec<Result<Rendered, Diagnostic>>, Vec<Rendered>) = rayon::join(
        || {
            site.pages
                .par_iter()
                .map(|page| render_page(site, tera, &shared, page))
                .inspect(|_| site.progress.tick())
                .collect()
        },
        || {
            if site.config.search {
                crate::search::index_files(site)
            } else {
                Vec::new()
            }
        },
    );
    let mut diags = Diagnostics::default();
    let mut out = Vec::with_capacity(results.len() + site.aliases.len() + 3);
    for r in results {
        match r {
            Ok(p) => out.push(p),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    for (path, report) in &site.aliases {
        out.push(Rendered {
            path: path.clone(),
            bytes: redirect_page(
                path,
                &link(&site.entries[*report].dir, site.config.pretty_links),
            )
            .into_bytes(),
        });
    }
    out.extend(search_files);
    if let Some(base) = &site.config.base_url {
        out.extend(crate::feeds::feeds(site, base));
        out.push(Rendered {
            path: "sitemap.xml".into(),
            bytes: crate::feeds::sitemap(site, base).into_bytes(),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The page templates that, with what they extend, import or include, read `site`'s tree.
fn templates_reading_site_tree(site: &Site, tera: &Tera) -> std::collections::HashSet<String> {
    let reads = |name: &str| {
        site.theme
            .templates
            .get(name)
            .is_none_or(|t| context::reads_site_tree(&t.text))
    };
    let mut out = std::collections::HashSet::new();
    for name in crate::theme::REQUIRED_TEMPLATES {
        let Ok(template) = tera.get_template(name) else {
            continue;
        };
        let mut related: Vec<String> = vec![name.to_string()];
        related.extend(template.parents.iter().cloned());
        let mut i = 0;
        while i < related.len() {
            if let Some(t) = site.theme.templates.get(&related[i]) {
                for (file, _) in tera
                    .get_template(&related[i])
                    .map(|t| t.imported_macro_files.clone())
                    .unwrap_or_default()
                {
                    if !related.contains(&file) {
                        related.push(file);
                    }
                }
                // Tera does not record includes: read their names from the text.
                for file in included_templates(&t.text) {
                    if !related.contains(&file) {
                        related.push(file);
                    }
                }
            }
            i += 1;
        }
        if related.iter().any(|n| reads(n)) {
            out.insert(name.to_string());
        }
    }
    out
}

/// The names a template includes: every quoted name in its `{% include %}` tags.
fn included_templates(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{%") {
        let after = &rest[open + 2..];
        let end = after.find("%}").unwrap_or(after.len());
        let tag = after[..end].trim_start_matches('-').trim_start();
        if let Some(names) = tag.strip_prefix("include") {
            let mut parts = names.split(['"', '\'']);
            parts.next();
            // Quoted names are every second part: `"a"` or `["a", "b"]`.
            for (i, part) in parts.enumerate() {
                if i % 2 == 0 {
                    out.push(part.to_string());
                }
            }
        }
        rest = &after[end..];
    }
    out
}

fn render_page(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    page: &Page,
) -> Result<Rendered, Diagnostic> {
    let root = root_of(&page.file);
    let (template, ctx) = context::page_context(site, shared, page, &root);
    let html = tera.render(template, &ctx).map_err(|e| {
        let file = site
            .theme
            .templates
            .get(template)
            .map(|t| t.shown.clone())
            .unwrap_or_else(|| template.into());
        let mut d = template_error(&file, &e);
        d.message = format!("rendering {}: {}", page.file, d.message);
        d
    })?;
    Ok(Rendered {
        path: page.file.clone(),
        bytes: html.into_bytes(),
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
