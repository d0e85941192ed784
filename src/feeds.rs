//! Machine-read outputs: Atom feeds and the sitemap (the search index is in `search`).
//!
//! Written in code rather than templates: their format is fixed, and this way they are
//! well-formed whatever the theme does. Only these use base_url.

use std::fmt::Write;

use crate::lang;
use crate::site::{link, Site};

/// How many of the newest reports a feed carries.
const FEED_ENTRIES: usize = 20;

/// Escapes text for XML and HTML alike; drops the control characters neither allows.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    escape_into(&mut out, s);
    out
}

/// [`xml_escape`] appending to `out`. Runs on every value of every page: copies
/// unescaped stretches whole.
pub fn escape_into(out: &mut String, s: &str) {
    let from = out.len();
    let bytes = s.as_bytes();
    // Copied up to `start`, looked at up to `at`.
    let (mut start, mut at) = (0, 0);
    while let Some(k) = first_needing_escape(&bytes[at..]) {
        let i = at + k;
        at = i + 1;
        let replacement = match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            // Characters XML 1.0 forbids even escaped.
            0..=0x1f => "",
            _ => continue, // 0xEF: below
        };
        out.push_str(&s[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF): rare, so looked for only when an EF is there.
    if s.as_bytes().contains(&0xEF) && out[from..].contains(['\u{FFFE}', '\u{FFFF}']) {
        let cleaned: String = out[from..]
            .chars()
            .filter(|&c| c != '\u{FFFE}' && c != '\u{FFFF}')
            .collect();
        out.truncate(from);
        out.push_str(&cleaned);
    }
}

/// Whether [`escape_into`] would change this byte (or, for 0xEF, might: it starts
/// U+FFFE and U+FFFF). Lets a caller copy text that needs nothing as it is.
pub fn needs_escape(b: u8) -> bool {
    NEEDS_ESCAPE[b as usize]
}

/// Whether any byte of `s` [`needs_escape`]: every value of every page goes through
/// this.
pub fn any_needs_escape(s: &str) -> bool {
    first_needing_escape(s.as_bytes()).is_some()
}

/// The place of the first byte of `b` that [`needs_escape`]: sixteen bytes at a time
/// with SSE2 (every value of every page, and every report's text, is scanned).
fn first_needing_escape(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    while i + 16 <= b.len() {
        // SAFETY: SSE2 is part of every x86_64; the 16 bytes from `i` are in `b`.
        let mask = unsafe { sse2::needs_escape16(b.as_ptr().add(i)) };
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize);
        }
        i += 16;
    }
    b[i..]
        .iter()
        .position(|&c| NEEDS_ESCAPE[c as usize])
        .map(|k| i + k)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Bit j: the byte at `p + j` is in [`super::NEEDS_ESCAPE`]. Reads 16 bytes.
    #[inline(always)]
    pub(super) unsafe fn needs_escape16(p: *const u8) -> u32 {
        let v = _mm_loadu_si128(p as *const __m128i);
        let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        let control = _mm_andnot_si128(
            _mm_or_si128(_mm_or_si128(eq(b'\t'), eq(b'\n')), eq(b'\r')),
            _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v),
        );
        let marks = _mm_or_si128(
            _mm_or_si128(
                _mm_or_si128(eq(b'&'), eq(b'<')),
                _mm_or_si128(eq(b'>'), eq(b'"')),
            ),
            _mm_or_si128(eq(b'\''), eq(0xEF)),
        );
        _mm_movemask_epi8(_mm_or_si128(control, marks)) as u32
    }
}

static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = !matches!(b as u8, b'\t' | b'\n' | b'\r');
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table[0xEF] = true;
    table
};

/// One feed to write: where, its title, the page it stands for, its reports.
pub struct FeedSpec<'a> {
    pub path: String,
    pub title: String,
    pub page: String,
    pub list: std::borrow::Cow<'a, [usize]>,
}

/// The site feed and one per unit with reports in its subtree.
pub fn feed_list(site: &Site) -> Vec<FeedSpec<'_>> {
    let mut out = vec![FeedSpec {
        path: "feed.xml".into(),
        title: site.config.title.clone(),
        page: String::new(),
        list: (0..site.entries.len()).collect::<Vec<_>>().into(),
    }];
    for (u, unit) in site.units.units.iter().enumerate() {
        let list = &site.unit_reports[u];
        if list.is_empty() {
            continue;
        }
        out.push(FeedSpec {
            path: format!("don-vi/{}/feed.xml", unit.id),
            title: format!("{} – {}", unit.name, site.config.title),
            page: link(&format!("don-vi/{}/", unit.id), site.config.pretty_links),
            list: list.as_slice().into(),
        });
    }
    out
}

/// A fingerprint of all that goes into a feed, given each report's card stamp (title,
/// path, date, unit, summary) and its HTML's: equal prints, equal bytes.
pub fn feed_print(site: &Site, base: &str, spec: &FeedSpec, card_stamps: &[u64]) -> u64 {
    let mut print = xxhash_rust::xxh3::Xxh3::new();
    for part in [base, &spec.path, &spec.title, &spec.page] {
        print.update(part.as_bytes());
        print.update(&[0]);
    }
    let config = (
        site.config.language as u8,
        site.config.pretty_links,
        site.config.description.as_deref(),
    );
    print.update(format!("{config:?}").as_bytes());
    for &i in spec.list.iter().take(FEED_ENTRIES) {
        let e = &site.entries[i];
        print.update(&card_stamps[i].to_le_bytes());
        print.update(&e.html_stamp.to_le_bytes());
        for author in &e.report.authors {
            print.update(author.as_bytes());
            print.update(&[0]);
        }
        print.update(&[1]);
    }
    print.digest()
}

/// The Atom XML of one feed.
pub fn render_feed(site: &Site, base: &str, spec: &FeedSpec) -> String {
    feed(site, base, &spec.title, &spec.path, &spec.page, &spec.list)
}

fn feed(
    site: &Site,
    base: &str,
    title: &str,
    self_path: &str,
    page: &str,
    list: &[usize],
) -> String {
    let lang = match site.config.language {
        lang::Language::Vi => "vi",
        lang::Language::En => "en",
    };
    let mut x = String::with_capacity(4096 + list.len().min(FEED_ENTRIES) * 8192);
    let updated = list
        .first()
        .map(|&i| site.entries[i].report.date.to_rfc3339())
        .unwrap_or_else(|| "1970-01-01T00:00:00+00:00".into());
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n<title>{}</title>\n",
        xml_escape(title)
    );
    if let Some(d) = &site.config.description {
        let _ = writeln!(x, "<subtitle>{}</subtitle>", xml_escape(d));
    }
    let _ = write!(
        x,
        "<link href=\"{b}{s}\" rel=\"self\" type=\"application/atom+xml\"/>\n<link href=\"{b}{p}\" rel=\"alternate\" type=\"text/html\"/>\n<updated>{updated}</updated>\n<id>{b}{s}</id>\n<generator>bantin</generator>\n",
        b = xml_escape(base),
        s = xml_escape(self_path),
        p = xml_escape(page),
    );
    for &i in list.iter().take(FEED_ENTRIES) {
        let e = &site.entries[i];
        let url = format!("{base}{}", link(&e.dir, site.config.pretty_links));
        let date = e.report.date.to_rfc3339();
        let _ = write!(
            x,
            "<entry>\n<title>{}</title>\n<link href=\"{u}\" rel=\"alternate\" type=\"text/html\"/>\n<id>{u}</id>\n<published>{date}</published>\n<updated>{date}</updated>\n",
            xml_escape(&e.report.title),
            u = xml_escape(&url),
        );
        for author in &e.report.authors {
            let _ = writeln!(x, "<author><name>{}</name></author>", xml_escape(author));
        }
        if e.report.authors.is_empty() {
            let _ = writeln!(
                x,
                "<author><name>{}</name></author>",
                xml_escape(&site.units.units[e.report.unit].name)
            );
        }
        let _ = writeln!(
            x,
            "<category term=\"{}\"/>",
            xml_escape(&site.units.units[e.report.unit].name)
        );
        if !e.summary.is_empty() {
            let _ = writeln!(x, "<summary>{}</summary>", xml_escape(&e.summary));
        }
        // Links in the HTML are relative to the report's page: xml:base says where that is.
        let _ = write!(
            x,
            "<content type=\"html\" xml:base=\"{}\">{}</content>\n</entry>\n",
            xml_escape(&format!("{base}{}", e.dir)),
            xml_escape(&e.html)
        );
    }
    x.push_str("</feed>\n");
    x
}

pub fn sitemap(site: &Site, base: &str) -> String {
    let mut x = String::with_capacity(256 + site.pages.len() * 120);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    // Written straight into the sitemap, not through a string per page: `serve`
    // makes it again when a report's address changes.
    let base = xml_escape(base);
    for page in &site.pages {
        if page.file == "404.html" {
            continue;
        }
        let dir = page.file.strip_suffix("index.html").unwrap_or(&page.file);
        x.push_str("<url><loc>");
        x.push_str(&base);
        // The page's link: its folder, or its file (`link` would make it again).
        escape_into(
            &mut x,
            if site.config.pretty_links {
                dir
            } else {
                &page.file
            },
        );
        x.push_str("</loc>");
        if let crate::site::PageKind::Report(i) = page.kind {
            let _ = write!(
                x,
                "<lastmod>{}</lastmod>",
                site.entries[i].report.date.date_naive()
            );
        }
        x.push_str("</url>\n");
    }
    x.push_str("</urlset>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_check_agrees_with_the_escaper() {
        let samples = [
            "",
            "Hội nghị",
            "a&b",
            "x<y",
            "\"q\"",
            "it's",
            "tab\there",
            "bell\u{7}",
            "nonchar\u{FFFE}",
            "ê\u{FFFF}z",
            "long text without anything to escape at all ...",
            "long text with one ampersand at the very end of it, after eight-byte chunks &",
        ];
        for s in samples {
            let mut out = String::new();
            escape_into(&mut out, s);
            assert_eq!(
                any_needs_escape(s) || out != s,
                any_needs_escape(s),
                "{s:?}"
            );
            if !any_needs_escape(s) {
                assert_eq!(out, s);
            }
        }
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}\u{FFFE}"),
            "a&lt;b&gt;&amp;&quot;&#39;"
        );
    }

    /// [`xml_escape`] a character at a time: the definition the fast one follows.
    fn plain_escape(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '\t' | '\n' | '\r' => out.push(c),
                '\u{0}'..='\u{1f}' | '\u{FFFE}' | '\u{FFFF}' => {}
                _ => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escaping_is_the_plain_definition(s in "[a-zế &<>\"'\t\n\r\u{0}-\u{1f}\u{7f}-\u{ff}\u{fff0}-\u{ffff}]{0,70}") {
            proptest::prop_assert_eq!(xml_escape(&s), plain_escape(&s));
            proptest::prop_assert_eq!(any_needs_escape(&s), s.bytes().any(needs_escape));
        }
    }
}
