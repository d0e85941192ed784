//! A report: TOML front matter between `+++` lines, then Markdown.
//!
//! This module reads one file into a [`Report`] and knows nothing of the other reports;
//! `site` puts them together.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use toml::de::DeValue;

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::tomldoc::{Table, TomlDoc};
use crate::units::UnitTree;

#[derive(Clone, Debug)]
pub struct Report {
    /// Path of the file relative to content/, '/'-separated: how links name it.
    pub source: String,
    /// Path of the file relative to the site root, for messages.
    pub file: std::path::PathBuf,
    /// True for a folder's `index.md`, which owns the folder's other files.
    pub bundle: bool,
    pub title: String,
    /// In the site's timezone.
    pub date: DateTime<FixedOffset>,
    /// False for a date written without a time of day (shown without "00:00").
    pub has_time: bool,
    pub unit: usize,
    pub kind: Option<String>,
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub credits: Vec<String>,
    pub source_name: Option<String>,
    pub location: Option<String>,
    pub attendees: Option<u64>,
    pub documents: Vec<String>,
    pub tags: Vec<String>,
    pub cover: Option<Cover>,
    pub draft: bool,
    /// The slug: from `slug` if given, else from the title. Never empty, `[a-z0-9-]+`.
    pub slug: String,
    /// Output paths of the redirect pages, relative to the output root, with the line
    /// each alias is written on.
    pub aliases: Vec<(String, usize)>,
    pub extra: serde_json::Value,
    /// The Markdown after the front matter.
    pub body: std::sync::Arc<str>,
    /// Line of the file on which `body` starts.
    pub body_line: usize,
}

#[derive(Clone, Debug)]
pub struct Cover {
    pub src: String,
    pub alt: String,
    pub line: usize,
}

const KEYS: &[&str] = &[
    "title",
    "date",
    "unit",
    "kind",
    "summary",
    "authors",
    "credits",
    "source",
    "location",
    "attendees",
    "documents",
    "tags",
    "cover",
    "draft",
    "slug",
    "aliases",
    "extra",
];

const DATE_HINT: &str = "dates look like 2023-09-13 or 2023-09-13T14:00:00+07:00, without quotes";

/// Splits `text` (LF line endings, no BOM) into front matter and body, with the line
/// the body starts on.
fn split_front_matter<'t>(
    text: &'t str,
    file: &Path,
) -> Result<(&'t str, &'t str, usize), Diagnostic> {
    let first = text.lines().next().unwrap_or("");
    if first.trim_end() != "+++" {
        let hint = if first.trim_end() == "---" {
            "bantin front matter is TOML between two +++ lines, not YAML between ---"
        } else {
            "start the file with a line +++, then the keys (title = \"...\", date = ..., unit = \"...\"), then another line +++"
        };
        return Err(Diagnostic::error(file, "the report has no front matter")
            .at(1, 1)
            .hint(hint));
    }
    let start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = start;
    for (line, l) in (2..).zip(text[start..].split_inclusive('\n')) {
        if l.trim_end() == "+++" {
            let body_start = offset + l.len();
            return Ok((&text[start..offset], &text[body_start..], line + 1));
        }
        offset += l.len();
    }
    Err(Diagnostic::error(file, "the front matter is never closed")
        .at(1, 1)
        .hint("add a line +++ after the last front matter key, before the text of the report"))
}

/// Reads one report. `text` has LF line endings and no BOM; `file` is for messages.
///
/// `units` is None when units.toml itself is broken: unit ids are then not checked, so
/// that its errors are not repeated in every report.
pub fn parse(
    text: &str,
    source: &str,
    file: &Path,
    config: &Config,
    units: Option<&UnitTree>,
) -> Result<Report, Vec<Diagnostic>> {
    let (front, body, body_line) = split_front_matter(text, file).map_err(|d| vec![d])?;
    let mut doc = TomlDoc::new(front, file, 2);
    let Some(table) = doc.parse() else {
        return Err(doc.diagnostics);
    };
    doc.check_keys(&table, KEYS, "front matter");

    let title = doc.string(&table, "title");
    let title = match title {
        Some(t) if t.get_ref().trim().is_empty() => {
            doc.error(
                t.span(),
                "the title is empty",
                "write the report's title between the quotes",
            );
            None
        }
        Some(t) => Some(t.into_inner().trim().to_string()),
        None => {
            if !table.contains_key("title") {
                doc.error_whole(
                    1,
                    "the report has no `title`",
                    "add a line like: title = \"Hội nghị sơ kết ...\"",
                );
            }
            None
        }
    };
    let date = read_date(&mut doc, &table, config.offset);
    let unit = match doc.string(&table, "unit") {
        Some(id) => match units.map(|u| u.get(id.get_ref())) {
            None => Some(0),
            Some(Some(u)) => Some(u),
            Some(None) => {
                let hint = match units.and_then(|u| u.suggest(id.get_ref())) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "use the id of a [[unit]] in units.toml".to_string(),
                };
                doc.error(
                    id.span(),
                    format!("unit `{}` is not in units.toml", id.get_ref()),
                    hint,
                );
                None
            }
        },
        None => {
            if !table.contains_key("unit") {
                doc.error_whole(
                    1,
                    "the report has no `unit`",
                    "add a line like: unit = \"huyen-uy-cang-long\" (an id from units.toml)",
                );
            }
            None
        }
    };
    let opt = |doc: &mut TomlDoc, key| {
        doc.string(&table, key)
            .map(|s| s.into_inner().trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let kind = opt(&mut doc, "kind");
    let summary = opt(&mut doc, "summary");
    let source_name = opt(&mut doc, "source");
    let location = opt(&mut doc, "location");
    let list = |doc: &mut TomlDoc, key| -> Vec<String> {
        doc.strings(&table, key)
            .into_iter()
            .map(|s| s.into_inner().trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let authors = list(&mut doc, "authors");
    let credits = list(&mut doc, "credits");
    let documents = terms(&mut doc, &table, "documents");
    let tags = terms(&mut doc, &table, "tags");
    let attendees = doc.integer(&table, "attendees", 0).map(|n| n as u64);
    let draft = doc.bool(&table, "draft").unwrap_or(false);
    let cover = read_cover(&mut doc, &table);
    let slug = read_slug(&mut doc, &table, title.as_deref());
    let aliases = read_aliases(&mut doc, &table);
    let extra = doc
        .table(&table, "extra")
        .map(crate::tomldoc::table_to_json)
        .unwrap_or_else(|| serde_json::Value::Object(Default::default()));

    match (title, date, unit, slug) {
        (Some(title), Some(date), Some(unit), Some(slug)) if doc.diagnostics.is_empty() => {
            Ok(Report {
                source: source.to_string(),
                file: file.to_path_buf(),
                bundle: source == "index.md" || source.ends_with("/index.md"),
                title,
                has_time: table.get("date").is_some_and(
                    |v| matches!(v.get_ref(), DeValue::Datetime(d) if d.time.is_some()),
                ),
                date,
                unit,
                kind,
                summary,
                authors,
                credits,
                source_name,
                location,
                attendees,
                documents,
                tags,
                cover,
                draft,
                slug,
                aliases,
                extra,
                body: nfc_body(body),
                body_line,
            })
        }
        _ => Err(doc.diagnostics),
    }
}

/// The body in Unicode NFC. Nearly every character of a report is below U+0300 (ASCII,
/// Latin-1, đ, ă, ơ, ư), a Vietnamese letter of Latin Extended Additional (U+1E00 to
/// U+1EFF) or a dash, quote or ellipsis (U+2010 to U+2027): none of these combines
/// with a neighbour or changes under NFC, so a text made only of them is already NFC.
/// That quick scan spares the lookup of every character in Unicode's tables that
/// `lang::nfc` does (a tenth of the load stage), and the copy into a String.
fn nfc_body(body: &str) -> std::sync::Arc<str> {
    if nfc_simple(body.as_bytes()) {
        body.into()
    } else {
        crate::lang::nfc(body).into()
    }
}

/// Whether every character of the UTF-8 text `b` is one of [`nfc_body`]'s simple ones,
/// read off the bytes: a character below U+0300 starts with a byte below 0xCC, and
/// continuation bytes are below 0xC0, so only the characters that start with 0xCC or
/// more need a look (for Vietnamese, the 0xE1 of Latin Extended Additional). Sixteen
/// bytes at a time with SSE2: a byte at a time, this scan was a tenth of the load stage.
fn nfc_simple(b: &[u8]) -> bool {
    // The character starting at `p` (its first byte 0xCC or more) is simple.
    let simple_at = |p: usize| match b[p] {
        0xE1 => matches!(b.get(p + 1), Some(0xB8..=0xBB)),
        0xE2 => b.get(p + 1) == Some(&0x80) && matches!(b.get(p + 2), Some(0x90..=0xA7)),
        _ => false,
    };
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    while i + 17 <= b.len() {
        // SAFETY: SSE2 is part of every x86_64; the 17 bytes from `i` are in `b`.
        let mut flags = unsafe { sse2::unsure16(b.as_ptr().add(i)) };
        while flags != 0 {
            if !simple_at(i + flags.trailing_zeros() as usize) {
                return false;
            }
            flags &= flags - 1;
        }
        i += 16;
    }
    (i..b.len()).all(|p| b[p] < 0xCC || simple_at(p))
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Bit j: the byte at `p + j` is 0xCC or more and does not start a character of
    /// U+1E00 to U+1EFF (0xE1 then 0xB8 to 0xBB). Reads 17 bytes.
    #[inline(always)]
    pub(super) unsafe fn unsure16(p: *const u8) -> u32 {
        let v = _mm_loadu_si128(p as *const __m128i);
        let next = _mm_loadu_si128(p.add(1) as *const __m128i);
        let high = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0xCCu8 as i8)), v);
        // next - 0xB8 <= 3, unsigned.
        let t = _mm_sub_epi8(next, _mm_set1_epi8(0xB8u8 as i8));
        let next_ok = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(3)), t);
        let vietnamese = _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0xE1u8 as i8)), next_ok);
        _mm_movemask_epi8(_mm_andnot_si128(vietnamese, high)) as u32
    }
}

/// Tags and documents: terms whose slugs must not be empty, since they name a page.
fn terms(doc: &mut TomlDoc, table: &Table, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in doc.strings(table, key) {
        let name = s.get_ref().trim();
        if name.is_empty() {
            continue;
        }
        if crate::lang::slugify(name).is_empty() {
            doc.error(
                s.span(),
                format!("`{name}` has no letters or digits to name its page"),
                "write it with at least one letter or digit",
            );
            continue;
        }
        if seen.insert(name.to_string()) {
            out.push(name.to_string());
        }
    }
    out
}

fn read_date(doc: &mut TomlDoc, table: &Table, site: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let Some(value) = table.get("date") else {
        doc.error_whole(
            1,
            "the report has no `date`",
            "add a line like: date = 2023-09-13T14:00:00+07:00",
        );
        return None;
    };
    let dt = match value.get_ref() {
        DeValue::Datetime(dt) => dt,
        DeValue::String(s) => {
            let hint = if s
                .trim()
                .parse::<toml::value::Datetime>()
                .is_ok_and(|d| d.date.is_some())
            {
                format!("remove the quotes: date = {s}")
            } else {
                DATE_HINT.to_string()
            };
            doc.error(
                value.span(),
                format!("`date` must be a date, not the string \"{s}\""),
                hint,
            );
            return None;
        }
        other => {
            doc.type_error(
                "date",
                value,
                other,
                "a date",
                "date = 2023-09-13T14:00:00+07:00",
            );
            return None;
        }
    };
    let Some(d) = dt.date else {
        doc.error(value.span(), "`date` has a time but no day", DATE_HINT);
        return None;
    };
    let Some(day) = NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32) else {
        doc.error(
            value.span(),
            format!("{dt} is not a day of the calendar"),
            DATE_HINT,
        );
        return None;
    };
    let time = dt
        .time
        .and_then(|t| {
            NaiveTime::from_hms_nano_opt(
                t.hour as u32,
                t.minute as u32,
                t.second.unwrap_or(0) as u32,
                t.nanosecond.unwrap_or(0),
            )
        })
        .unwrap_or(NaiveTime::MIN);
    let naive = day.and_time(time);
    let offset = match dt.offset {
        None => site,
        Some(toml::value::Offset::Z) => FixedOffset::east_opt(0)?,
        Some(toml::value::Offset::Custom { minutes }) => {
            match FixedOffset::east_opt(minutes as i32 * 60) {
                Some(o) => o,
                None => {
                    doc.error(
                        value.span(),
                        "the date's UTC offset is out of range",
                        DATE_HINT,
                    );
                    return None;
                }
            }
        }
    };
    let local = offset.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&site))
}

fn read_cover(doc: &mut TomlDoc, table: &Table) -> Option<Cover> {
    let value = table.get("cover")?;
    let example = "cover = { src = \"quang-canh.jpg\", alt = \"Quang cảnh hội nghị\" }";
    let DeValue::Table(t) = value.get_ref() else {
        doc.type_error("cover", value, value.get_ref(), "a table", example);
        return None;
    };
    doc.check_keys(t, &["src", "alt"], "cover");
    let line = doc.line_of(value.span().start);
    let src = doc.string(t, "src");
    let alt = doc
        .string(t, "alt")
        .map(|a| a.into_inner())
        .unwrap_or_default();
    match src {
        Some(s) if !s.get_ref().trim().is_empty() => Some(Cover {
            src: s.into_inner().trim().to_string(),
            alt,
            line,
        }),
        _ => {
            doc.error(
                value.span(),
                "`cover` has no `src`",
                format!("name the image file: {example}"),
            );
            None
        }
    }
}

fn read_slug(doc: &mut TomlDoc, table: &Table, title: Option<&str>) -> Option<String> {
    match doc.string(table, "slug") {
        Some(s) => {
            let raw = s.get_ref();
            if raw.contains(['/', '\\']) || raw.contains("..") {
                doc.error(
                    s.span(),
                    format!("slug `{raw}` has a path in it"),
                    "a slug is one word of the address: lower case letters, digits and -, like: slug = \"so-ket-nghi-quyet-35\"",
                );
                return None;
            }
            let slug = crate::lang::slugify(raw);
            if slug.is_empty() {
                doc.error(
                    s.span(),
                    "the slug has no letters or digits",
                    "write it like: slug = \"so-ket-nghi-quyet-35\"",
                );
                return None;
            }
            Some(slug)
        }
        None => {
            let slug = crate::lang::slugify(title?);
            if slug.is_empty() {
                doc.error_whole(
                    1,
                    "the title has no letters or digits to make the report's address from",
                    "add a line like: slug = \"hoi-nghi-so-ket\"",
                );
                return None;
            }
            Some(slug)
        }
    }
}

fn read_aliases(doc: &mut TomlDoc, table: &Table) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for alias in doc.strings(table, "aliases") {
        let raw = alias.get_ref().trim();
        match alias_path(raw) {
            Some(path) if path.split('/').any(|s| s.len() > crate::lang::MAX_SLUG_LEN) => doc.error(
                alias.span(),
                "this alias has a part longer than file names may be",
                format!(
                    "keep each part of the address between / under {} characters",
                    crate::lang::MAX_SLUG_LEN
                ),
            ),
            Some(path) => {
                let line = doc.line_of(alias.span().start);
                out.push((path, line));
            }
            None => doc.error(
                alias.span(),
                format!("alias `{raw}` is not a path inside the site"),
                "write the old address from the site root, like: aliases = [\"/tin-cu/123.html\"] (no .., no http://)",
            ),
        }
    }
    out
}

/// The output file of an alias: "/tin-cu/123.html" -> "tin-cu/123.html",
/// "/tin-cu/123/" or "/tin-cu/123" -> "tin-cu/123/index.html". None if it would
/// leave the output folder or is not a plain path.
pub fn alias_path(alias: &str) -> Option<String> {
    if alias.contains("://") || alias.contains('\\') || alias.contains(['?', '#', ':', '\0']) {
        return None;
    }
    let trimmed = alias.trim_start_matches('/');
    let segments: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty()
        || segments
            .iter()
            .any(|s| *s == "." || *s == ".." || s.starts_with('.'))
    {
        return None;
    }
    let joined = segments.join("/");
    let last = segments[segments.len() - 1];
    if !alias.ends_with('/') && (last.ends_with(".html") || last.ends_with(".htm")) {
        Some(joined)
    } else {
        Some(format!("{joined}/index.html"))
    }
}

#[cfg(test)]
mod tests {
    use super::nfc_body;

    #[test]
    fn nfc_body_is_lang_nfc() {
        let decomposed = "Ho\u{300}a Bi\u{300}nh, Đa\u{306}\u{301}k La\u{306}\u{301}k";
        for text in [
            "",
            "plain ASCII",
            "Hội nghị sơ kết – “Nghị quyết 35” … Đảng ủy",
            decomposed,
            "mixed: Hội nghị a\u{301}",
            "\u{2000} en quad, \u{212B} angstrom, \u{1100}\u{1161} jamo",
        ] {
            assert_eq!(&*nfc_body(text), crate::lang::nfc(text), "{text:?}");
        }
    }

    /// The characters [`super::nfc_body`] takes as they are.
    fn simple_chars(s: &str) -> bool {
        s.chars()
            .all(|c| matches!(c as u32, 0..0x300 | 0x1E00..0x1F00 | 0x2010..0x2028))
    }

    proptest::proptest! {
        #[test]
        fn nfc_simple_reads_the_bytes_as_the_characters(
            s in "[a-z \u{80}-\u{2ff}\u{300}-\u{36f}\u{1dff}-\u{1f00}\u{2000}-\u{2030}\u{e000}-\u{e010}\u{10000}]{0,80}"
        ) {
            proptest::prop_assert_eq!(super::nfc_simple(s.as_bytes()), simple_chars(&s));
        }
    }

    #[test]
    fn nfc_simple_at_every_offset() {
        // A character that needs the full check, at every place of a window and its edge.
        for bad in [
            "a\u{301}", "\u{1F00}", "\u{2028}", "\u{2009}", "\u{E000}", "😀",
        ] {
            for k in 0..40 {
                let s = format!(
                    "{}{bad}{}",
                    "ế"
                        .repeat(k % 7)
                        .chars()
                        .chain("x".repeat(k).chars())
                        .collect::<String>(),
                    "ạ".repeat(k)
                );
                assert!(!super::nfc_simple(s.as_bytes()), "{s:?}");
                assert_eq!(super::nfc_simple(s.as_bytes()), simple_chars(&s));
            }
        }
        let ok = "Hội nghị sơ kết – “Nghị quyết 35” … Đảng ủy ".repeat(5);
        assert!(super::nfc_simple(ok.as_bytes()));
    }
}
