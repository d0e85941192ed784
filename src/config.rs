//! `bantin.toml`: the site's settings.

use std::path::Path;

use chrono::FixedOffset;
use serde::Serialize;

use crate::diag::Diagnostic;
use crate::lang::Language;
use crate::tomldoc::TomlDoc;

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub title: String,
    pub description: Option<String>,
    /// Always ends in '/' when set. Only feeds and the sitemap use it.
    pub base_url: Option<String>,
    pub language: Language,
    /// As written ("+07:00"); `offset` is what the code uses.
    pub timezone: String,
    #[serde(skip)]
    pub offset: FixedOffset,
    pub theme: String,
    pub paginate: usize,
    pub search: bool,
    pub pretty_links: bool,
    pub markdown: MarkdownConfig,
    pub extra: serde_json::Value,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MarkdownConfig {
    pub allow_html: bool,
}

const KEYS: &[&str] = &[
    "title",
    "description",
    "base_url",
    "language",
    "timezone",
    "theme",
    "paginate",
    "search",
    "pretty_links",
    "markdown",
    "extra",
];

impl Config {
    /// The defaults, for reading reports when bantin.toml is broken.
    pub fn fallback() -> Option<Config> {
        Config::parse("title = \"bantin\"", Path::new("bantin.toml")).ok()
    }

    /// Reads bantin.toml; `file` is the name used in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config, Vec<Diagnostic>> {
        let mut doc = TomlDoc::new(text, file, 1);
        let Some(table) = doc.parse() else {
            return Err(doc.diagnostics);
        };
        doc.check_keys(&table, KEYS, "bantin.toml");

        let title = doc.string(&table, "title");
        match &title {
            None if !table.contains_key("title") => doc.error_whole(
                1,
                "bantin.toml has no `title`",
                "add a line like: title = \"Bản tin Ban Chỉ đạo 35\"",
            ),
            Some(t) if t.get_ref().trim().is_empty() => doc.error(
                t.span(),
                "the site title is empty",
                "write the bulletin's name between the quotes",
            ),
            _ => {}
        }
        let description = doc.string(&table, "description").map(|s| s.into_inner());
        let base_url = doc.string(&table, "base_url").and_then(|s| {
            let url = s.get_ref().trim();
            if url.is_empty() {
                return None;
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                doc.error(
                    s.span(),
                    format!("base_url `{url}` is not an http(s) address"),
                    "write the address the site is published at, like: base_url = \"https://intranet.example/bantin/\"",
                );
                return None;
            }
            Some(normalize_base_url(url))
        });
        let language = match doc.string(&table, "language") {
            None => Language::Vi,
            Some(s) => match s.get_ref().as_str() {
                "vi" => Language::Vi,
                "en" => Language::En,
                other => {
                    doc.error(
                        s.span(),
                        format!("unknown language `{other}`"),
                        "bantin speaks \"vi\" (the default) and \"en\"",
                    );
                    Language::Vi
                }
            },
        };
        let (timezone, offset) = match doc.string(&table, "timezone") {
            None => ("+07:00".to_string(), vietnam()),
            Some(s) => match parse_offset(s.get_ref()) {
                Some(offset) => (s.get_ref().clone(), offset),
                None => {
                    doc.error(
                        s.span(),
                        format!("timezone `{}` is not a UTC offset", s.get_ref()),
                        "write it like: timezone = \"+07:00\"",
                    );
                    ("+07:00".to_string(), vietnam())
                }
            },
        };
        let theme = doc
            .string(&table, "theme")
            .map(|s| s.into_inner())
            .unwrap_or_else(|| "default".to_string());
        if theme.is_empty() || theme.contains(['/', '\\']) || theme.starts_with('.') {
            doc.error_whole(
                1,
                format!("theme `{theme}` is not a folder name"),
                "name a folder under themes/, like: theme = \"default\"",
            );
        }
        let paginate = doc
            .integer(&table, "paginate", 1)
            .unwrap_or(20)
            .min(100_000) as usize;
        let search = doc.bool(&table, "search").unwrap_or(true);
        let pretty_links = doc.bool(&table, "pretty_links").unwrap_or(false);
        let mut markdown = MarkdownConfig::default();
        if let Some(md) = doc.table(&table, "markdown") {
            doc.check_keys(md, &["allow_html"], "[markdown]");
            markdown.allow_html = doc.bool(md, "allow_html").unwrap_or(false);
        }
        let extra = doc
            .table(&table, "extra")
            .map(crate::tomldoc::table_to_json)
            .unwrap_or_else(|| serde_json::Value::Object(Default::default()));

        if !doc.diagnostics.is_empty() {
            return Err(doc.diagnostics);
        }
        Ok(Config {
            title: title.map(|t| t.into_inner()).unwrap_or_default(),
            description,
            base_url,
            language,
            timezone,
            offset,
            theme,
            paginate,
            search,
            pretty_links,
            markdown,
            extra,
        })
    }
}

fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// "+07:00", "-05:30", "Z", "UTC".
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn normalize_base_url(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// `--base-url` from the command line, checked like the one in bantin.toml.
pub fn base_url_from_cli(url: &str) -> Result<String, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(normalize_base_url(url))
    } else {
        Err(format!("--base-url `{url}` is not an http(s) address"))
    }
}
