//! The report body: Markdown → HTML.
//!
//! One pass over pulldown-cmark's events (collected once so headings and
//! paragraphs can look ahead to their end) that
//!
//! * gives headings unique ids made with [`crate::lang::slugify`],
//! * turns an image with a title, alone in its paragraph, into a `<figure>`,
//! * resolves relative links and images against the report's own file and
//!   rewrites them to where that file ends up in the output, reporting the
//!   ones that reach nothing as [`DeadLink`]s,
//! * drops `javascript:`/`vbscript:`/`data:` URLs written with Markdown syntax,
//! * collects the first paragraph as plain text for the summary.
//!
//! When raw HTML is not allowed and the document holds raw HTML (or a link
//! with an unusual scheme), the rendered HTML goes through ammonia, configured
//! to keep everything this renderer produces. Documents without either skip
//! ammonia entirely.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Maps a file under content/ to where it ends up in the output.
pub trait LinkResolver: Sync {
    /// `target`: a path relative to content/, '/'-separated, already normalized (no `.`/`..` segments, no leading '/'),
    /// percent-decoded, e.g. "2023/09/lam-viec/quang-canh.jpg" or "2023/09/so-ket.md".
    /// Returns the path of the output file relative to the output root (e.g. "2023/09/so-ket/index.html" for a report,
    /// or "2023/09/so-ket/" with pretty links; "2023/09/lam-viec/quang-canh.jpg" for an asset), or None if nothing is there.
    fn resolve(&self, target: &str) -> Option<String>;
}

/// What [`render`] works on.
pub struct MarkdownInput<'a> {
    /// The body, after the front matter.
    pub text: &'a str,
    /// The report's path relative to content/, e.g. "2023/09/lam-viec/index.md".
    pub source: &'a str,
    /// The line number (1-based, in the whole file) of the first line of `text`.
    pub first_line: usize,
    /// Relative path from the report's page to the output root, e.g. "../../../".
    pub root: &'a str,
}

/// A relative link or image that reaches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLink {
    /// 1-based line in the whole file.
    pub line: usize,
    /// 1-based column, in characters, of the start of the link or image syntax.
    pub column: usize,
    /// The link as written.
    pub link: String,
}

/// The result of [`render`].
#[derive(Debug, Clone)]
pub struct Rendered {
    pub html: String,
    /// The first paragraph as plain text (inline markup dropped, whitespace collapsed), at most 300 characters
    /// (chars, not bytes), cut at a word boundary with "…" appended when cut. "" if none.
    pub summary: String,
    pub dead_links: Vec<DeadLink>,
}

/// Longest summary, in characters, ellipsis included.
const SUMMARY_MAX_CHARS: usize = 300;

/// The id given to a heading whose text makes an empty slug.
const FALLBACK_HEADING_ID: &str = "muc";

/// URL schemes that need no sanitizing.
const SAFE_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tel"];

fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders a report body to HTML.
pub fn render(input: &MarkdownInput, allow_html: bool, resolver: &dyn LinkResolver) -> Rendered {
    let text = input.text;
    let mut events: Vec<(Event, Range<usize>)> = Parser::new_ext(text, markdown_options())
        .into_offset_iter()
        .collect();

    // Explicit `{#id}`s and footnote labels are reserved before any id is made,
    // so a generated id never takes one that comes later in the document.
    let mut used_ids = HashSet::new();
    for (event, _) in &events {
        match event {
            Event::Start(Tag::Heading { id: Some(id), .. }) if !id.is_empty() => {
                used_ids.insert(id.to_string());
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                used_ids.insert(name.to_string());
            }
            _ => {}
        }
    }

    let mut renderer = Renderer {
        input,
        allow_html,
        resolver,
        lines: LineCursor::new(text),
        dead_links: Vec::new(),
        has_raw_html: false,
        has_unusual_scheme: false,
        used_ids,
        next_suffix: HashMap::new(),
        summary: None,
        footnote_depth: 0,
        out: Vec::with_capacity(events.len() + 8),
    };
    renderer.run(&mut events);

    let Renderer {
        out,
        dead_links,
        has_raw_html,
        has_unusual_scheme,
        summary,
        ..
    } = renderer;

    let mut html = String::with_capacity(text.len() + text.len() / 2 + 64);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    if !allow_html && (has_raw_html || has_unusual_scheme) {
        html = sanitizer().clean(&html).to_string();
    }

    Rendered {
        html,
        summary: summary.unwrap_or_default(),
        dead_links,
    }
}

/// What to do with a link or image URL.
enum UrlAction {
    /// Leave it as written.
    Keep,
    /// Use this URL instead.
    Replace(String),
    /// A dangerous URL: drop it.
    Drop,
}

struct Renderer<'a, 'i> {
    input: &'i MarkdownInput<'i>,
    allow_html: bool,
    resolver: &'i dyn LinkResolver,
    lines: LineCursor<'i>,
    dead_links: Vec<DeadLink>,
    has_raw_html: bool,
    has_unusual_scheme: bool,
    used_ids: HashSet<String>,
    /// Per id already used: the number to try next for it.
    next_suffix: HashMap<String, usize>,
    summary: Option<String>,
    footnote_depth: usize,
    out: Vec<Event<'a>>,
}

/// Takes an event out of the list, leaving a cheap placeholder.
fn take<'a>(events: &mut [(Event<'a>, Range<usize>)], i: usize) -> Event<'a> {
    std::mem::replace(&mut events[i].0, Event::SoftBreak)
}

/// Index of the first event at or after `from` matching `pred`, or `events.len()`.
fn find_from(
    events: &[(Event, Range<usize>)],
    from: usize,
    pred: impl Fn(&Event) -> bool,
) -> usize {
    events[from.min(events.len())..]
        .iter()
        .position(|(e, _)| pred(e))
        .map_or(events.len(), |p| p + from)
}

/// Index of the `End(Image)` closing the `Start(Image)` at `start` (images nest
/// in alt text), or `events.len()`.
fn image_end(events: &[(Event, Range<usize>)], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, (event, _)) in events.iter().enumerate().skip(start) {
        match event {
            Event::Start(Tag::Image { .. }) => depth += 1,
            Event::End(TagEnd::Image) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    events.len()
}

impl<'a> Renderer<'a, '_> {
    fn run(&mut self, events: &mut [(Event<'a>, Range<usize>)]) {
        let n = events.len();
        let mut i = 0;
        while i < n {
            match &events[i].0 {
                Event::Start(Tag::Heading { .. }) => {
                    let end = find_from(events, i + 1, |e| {
                        matches!(e, Event::End(TagEnd::Heading(_)))
                    });
                    self.heading(events, i, end);
                    i = end + 1;
                }
                Event::Start(Tag::Paragraph) => {
                    let end = find_from(events, i + 1, |e| {
                        matches!(e, Event::End(TagEnd::Paragraph))
                    });
                    self.paragraph(events, i, end);
                    i = end + 1;
                }
                Event::Start(Tag::FootnoteDefinition(_)) => {
                    self.footnote_depth += 1;
                    self.out.push(take(events, i));
                    i += 1;
                }
                Event::End(TagEnd::FootnoteDefinition) => {
                    self.footnote_depth = self.footnote_depth.saturating_sub(1);
                    self.out.push(take(events, i));
                    i += 1;
                }
                _ => i = self.inline(events, i),
            }
        }
    }

    /// Handles the events in `start..end` one by one.
    fn inlines(&mut self, events: &mut [(Event<'a>, Range<usize>)], start: usize, end: usize) {
        let mut i = start;
        while i < end {
            i = self.inline(events, i);
        }
    }

    /// Handles the event at `i` (with an image, all of it); returns the index of the next one.
    fn inline(&mut self, events: &mut [(Event<'a>, Range<usize>)], i: usize) -> usize {
        match &events[i].0 {
            Event::Html(_) | Event::InlineHtml(_) => {
                self.has_raw_html = true;
                self.out.push(take(events, i));
                i + 1
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                if *link_type != LinkType::Email {
                    let start = events[i].1.start;
                    match self.url_action(dest_url, start, false) {
                        UrlAction::Keep => {}
                        UrlAction::Replace(url) => {
                            if let Event::Start(Tag::Link { dest_url, .. }) = &mut events[i].0 {
                                *dest_url = url.into();
                            }
                        }
                        UrlAction::Drop => {
                            let mut a = String::from("<a");
                            if !title.is_empty() {
                                a.push_str(" title=\"");
                                escape_html(&mut a, title);
                                a.push('"');
                            }
                            a.push('>');
                            // The matching End(Link) still writes `</a>`.
                            self.out.push(Event::InlineHtml(a.into()));
                            return i + 1;
                        }
                    }
                }
                self.out.push(take(events, i));
                i + 1
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                let start = events[i].1.start;
                match self.url_action(dest_url, start, true) {
                    UrlAction::Keep => {}
                    UrlAction::Replace(url) => {
                        if let Event::Start(Tag::Image { dest_url, .. }) = &mut events[i].0 {
                            *dest_url = url.into();
                        }
                    }
                    UrlAction::Drop => {
                        let end = image_end(events, i);
                        let mut img = String::from("<img alt=\"");
                        escape_html(
                            &mut img,
                            &plain_text(&events[i + 1..end.min(events.len())], true),
                        );
                        img.push('"');
                        if let Event::Start(Tag::Image { title, .. }) = &events[i].0 {
                            if !title.is_empty() {
                                img.push_str(" title=\"");
                                escape_html(&mut img, title);
                                img.push('"');
                            }
                        }
                        img.push_str(" />");
                        self.out.push(Event::InlineHtml(img.into()));
                        return end + 1;
                    }
                }
                self.out.push(take(events, i));
                i + 1
            }
            _ => {
                self.out.push(take(events, i));
                i + 1
            }
        }
    }

    /// A heading: `start` is its Start event, `end` its End event.
    fn heading(&mut self, events: &mut [(Event<'a>, Range<usize>)], start: usize, end: usize) {
        let end = end.min(events.len());
        let Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) = take(events, start)
        else {
            return;
        };
        let id = match id {
            Some(id) if !id.is_empty() => id,
            _ => {
                let text = plain_text(&events[start + 1..end], true);
                let slug = crate::lang::slugify(&text);
                let base = if slug.is_empty() {
                    FALLBACK_HEADING_ID.to_string()
                } else {
                    slug
                };
                CowStr::from(self.unique_id(base))
            }
        };
        // Custom attributes (`{onclick=...}`) are raw HTML in disguise.
        let attrs = if self.allow_html { attrs } else { Vec::new() };
        self.out.push(Event::Start(Tag::Heading {
            level,
            id: Some(id),
            classes,
            attrs,
        }));
        self.inlines(events, start + 1, end);
        if end < events.len() {
            self.out.push(take(events, end));
        }
    }

    /// `base`, or `base-2`, `base-3`, ... whichever is not used yet. The search for a
    /// free number goes on from where the last one for `base` stopped (ids are never
    /// freed), so 50,000 headings of the same text take linear time.
    fn unique_id(&mut self, base: String) -> String {
        let id = if self.used_ids.contains(&base) {
            let mut n = self.next_suffix.get(&base).copied().unwrap_or(2);
            let id = loop {
                let candidate = format!("{base}-{n}");
                if !self.used_ids.contains(&candidate) {
                    break candidate;
                }
                n += 1;
            };
            self.next_suffix.insert(base, n + 1);
            id
        } else {
            base
        };
        self.used_ids.insert(id.clone());
        id
    }

    /// A paragraph: `start` is its Start event, `end` its End event.
    fn paragraph(&mut self, events: &mut [(Event<'a>, Range<usize>)], start: usize, end: usize) {
        let end = end.min(events.len());
        let inner = &events[start + 1..end];

        if self.summary.is_none() && self.footnote_depth == 0 {
            let text = plain_text(inner, false);
            if !text.is_empty() {
                self.summary = Some(truncate_summary(&text));
            }
        }

        if let Some((img_start, img_end)) = lone_titled_image(inner) {
            self.figure(events, start + 1 + img_start, start + 1 + img_end);
            return;
        }

        self.out.push(take(events, start));
        self.inlines(events, start + 1, end);
        if end < events.len() {
            self.out.push(take(events, end));
        }
    }

    /// Writes a figure for the image spanning `start..=end`.
    fn figure(&mut self, events: &mut [(Event<'a>, Range<usize>)], start: usize, end: usize) {
        let alt = plain_text(&events[start + 1..end], true);
        let Event::Start(Tag::Image {
            dest_url, title, ..
        }) = &events[start].0
        else {
            return;
        };
        let offset = events[start].1.start;
        let src: Option<Cow<str>> = match self.url_action(dest_url, offset, true) {
            UrlAction::Keep => Some(Cow::Borrowed(dest_url)),
            UrlAction::Replace(url) => Some(Cow::Owned(url)),
            UrlAction::Drop => None,
        };
        let mut html = String::with_capacity(64 + dest_url.len() + alt.len() + title.len());
        html.push_str("<figure><img");
        if let Some(src) = src {
            html.push_str(" src=\"");
            escape_href(&mut html, &src);
            html.push('"');
        }
        html.push_str(" alt=\"");
        escape_html(&mut html, &alt);
        html.push_str("\"><figcaption>");
        escape_html(&mut html, title.trim());
        html.push_str("</figcaption></figure>\n");
        self.out.push(Event::Html(html.into()));
    }

    /// Decides what becomes of a link or image URL; records dead links.
    /// `offset` is where the link syntax starts in the text.
    fn url_action(&mut self, url: &str, offset: usize, is_image: bool) -> UrlAction {
        if url.is_empty() || url.starts_with('#') || url.starts_with("//") {
            return UrlAction::Keep;
        }
        if let Some(scheme) = url_scheme(url) {
            return match scheme.as_str() {
                "javascript" | "vbscript" => UrlAction::Drop,
                "data" if !(is_image && is_data_image(url)) => UrlAction::Drop,
                s => {
                    if !SAFE_SCHEMES.contains(&s) {
                        self.has_unusual_scheme = true;
                    }
                    UrlAction::Keep
                }
            };
        }
        match self.resolve_relative(url) {
            Some(href) => UrlAction::Replace(href),
            None => {
                let (line, column) = self.lines.locate(offset);
                self.dead_links.push(DeadLink {
                    line: self.input.first_line + line,
                    column,
                    link: url.to_string(),
                });
                UrlAction::Keep
            }
        }
    }

    /// Resolves a relative URL; `None` if it reaches nothing.
    fn resolve_relative(&self, url: &str) -> Option<String> {
        let (before_fragment, fragment) = match url.find('#') {
            Some(i) => url.split_at(i),
            None => (url, ""),
        };
        let (path, query) = match before_fragment.find('?') {
            Some(i) => before_fragment.split_at(i),
            None => (before_fragment, ""),
        };
        if path.is_empty() {
            // Only a query: this very page.
            return Some(url.to_string());
        }
        let decoded = percent_decode(path);

        let base = if decoded.starts_with('/') {
            ""
        } else {
            self.input
                .source
                .rsplit_once('/')
                .map_or("", |(dir, _)| dir)
        };
        let mut segments: Vec<&str> = Vec::with_capacity(8);
        for segment in base.split('/').chain(decoded.split('/')) {
            match segment {
                "" | "." => {}
                ".." => {
                    // Above content/: nothing there.
                    segments.pop()?;
                }
                s => segments.push(s),
            }
        }
        let target = segments.join("/");

        let resolved = if target.is_empty() {
            None
        } else {
            self.resolver.resolve(&target)
        };
        // A link to a folder reaches the report that is its index.md.
        let resolved = resolved.or_else(|| {
            if target.is_empty() {
                self.resolver.resolve("index.md")
            } else {
                self.resolver.resolve(&format!("{target}/index.md"))
            }
        })?;

        let root = self.input.root;
        let mut href =
            String::with_capacity(root.len() + resolved.len() + query.len() + fragment.len() + 8);
        href.push_str(root);
        if root.is_empty() {
            // "a:b.jpg" would read as a URL with the scheme "a".
            let first = resolved.split('/').next().unwrap_or("");
            if first.contains(':') {
                href.push_str("./");
            }
        }
        percent_encode_path(&mut href, &resolved);
        href.push_str(query);
        href.push_str(fragment);
        Some(href)
    }
}

/// Finds an image with a non-empty title alone in a paragraph (`inner` is the
/// paragraph's content); returns the indexes of its Start and End events.
fn lone_titled_image(inner: &[(Event, Range<usize>)]) -> Option<(usize, usize)> {
    let ignorable = |e: &Event| match e {
        Event::SoftBreak => true,
        Event::Text(t) => t.trim().is_empty(),
        _ => false,
    };
    let start = inner.iter().position(|(e, _)| !ignorable(e))?;
    match &inner[start].0 {
        Event::Start(Tag::Image { title, .. }) if !title.trim().is_empty() => {}
        _ => return None,
    }
    let end = image_end(inner, start);
    if end >= inner.len() {
        return None;
    }
    if inner[end + 1..].iter().all(|(e, _)| ignorable(e)) {
        Some((start, end))
    } else {
        None
    }
}

/// The text of some inline events, markup dropped, whitespace collapsed.
/// With `images` false, the alt text of images is left out.
fn plain_text(events: &[(Event, Range<usize>)], images: bool) -> String {
    let mut raw = String::new();
    let mut image_depth = 0usize;
    for (event, _) in events {
        match event {
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if images || image_depth == 0 => raw.push_str(t),
            Event::SoftBreak | Event::HardBreak => raw.push(' '),
            _ => {}
        }
    }
    let mut text = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

/// Cuts collapsed text to at most [`SUMMARY_MAX_CHARS`] characters at a word
/// boundary, "…" included.
fn truncate_summary(text: &str) -> String {
    // Byte index of the character just past the limit: if there is none, the text fits.
    if text.char_indices().nth(SUMMARY_MAX_CHARS).is_none() {
        return text.to_string();
    }
    // Room for the ellipsis.
    let cut = text
        .char_indices()
        .nth(SUMMARY_MAX_CHARS - 1)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    let at_boundary = text[cut..].starts_with(char::is_whitespace);
    let head = if at_boundary {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &head[..i],
            _ => head,
        }
    };
    let trimmed = head.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '(')
    });
    let head = if trimmed.is_empty() { head } else { trimmed };
    let mut summary = String::with_capacity(head.len() + 3);
    summary.push_str(head);
    summary.push('…');
    summary
}

/// Turns byte offsets into 1-based (line, column) pairs, column in characters.
/// Offsets usually come in increasing order, so it moves forward from the last one.
struct LineCursor<'t> {
    text: &'t str,
    pos: usize,
    /// Line breaks before `pos`.
    line: usize,
    /// Characters between the start of the line and `pos`.
    column: usize,
}

impl<'t> LineCursor<'t> {
    fn new(text: &'t str) -> Self {
        LineCursor {
            text,
            pos: 0,
            line: 0,
            column: 0,
        }
    }

    /// (lines before `offset`, 1-based column of `offset`).
    fn locate(&mut self, offset: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let offset = offset.min(bytes.len());
        if offset < self.pos {
            self.pos = 0;
            self.line = 0;
            self.column = 0;
        }
        for i in self.pos..offset {
            match bytes[i] {
                b'\n' => {
                    self.line += 1;
                    self.column = 0;
                }
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                    self.line += 1;
                    self.column = 0;
                }
                // Continuation bytes of UTF-8 sequences are not characters.
                b if b & 0xC0 == 0x80 => {}
                _ => self.column += 1,
            }
        }
        self.pos = offset;
        (self.line, self.column + 1)
    }
}

/// The scheme of a URL, lower case, read the way a browser reads it (leading
/// spaces and control characters skipped, tabs and line breaks ignored), or
/// `None` for a relative URL.
fn url_scheme(url: &str) -> Option<String> {
    let bytes = url.as_bytes();
    let start = bytes.iter().position(|&b| b > b' ')?;
    let mut scheme = String::new();
    for &b in &bytes[start..] {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            b':' => {
                return if scheme.is_empty() {
                    None
                } else {
                    Some(scheme)
                }
            }
            b if b.is_ascii_alphabetic() => scheme.push(b.to_ascii_lowercase() as char),
            b if !scheme.is_empty() && (b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')) => {
                scheme.push(b as char)
            }
            _ => return None,
        }
    }
    None
}

/// Whether a URL would run script, or show a page of its own, where a reader follows it:
/// `javascript:`, `vbscript:`, and `data:` URLs except images where `is_image`. Read
/// the way a browser reads it (case, leading spaces and tabs inside ignored).
pub fn is_script_url(url: &str, is_image: bool) -> bool {
    match url_scheme(url).as_deref() {
        Some("javascript" | "vbscript") => true,
        Some("data") => !(is_image && is_data_image(url)),
        _ => false,
    }
}

/// Whether a `data:` URL holds an image.
fn is_data_image(url: &str) -> bool {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(11)
        .collect();
    cleaned.len() == 11 && cleaned.eq_ignore_ascii_case("data:image/")
}

/// Decodes `%XX` sequences; a malformed one stays as written. Invalid UTF-8
/// becomes U+FFFD (such a file is not found).
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A path as it goes in a URL: see [`percent_encode_path`].
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    percent_encode_path(&mut out, path);
    out
}

/// Appends a path to a URL, percent-encoding what a path can't hold as is.
/// Letters beyond ASCII (Vietnamese) stay as UTF-8.
fn percent_encode_path(out: &mut String, path: &str) {
    for c in path.chars() {
        let keep = !c.is_ascii()
            || c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | ':'
                    | '@'
                    | '/'
            );
        if keep && !c.is_control() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                push_percent_byte(out, b);
            }
        }
    }
}

fn push_percent_byte(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 0xF)] as char);
}

/// Escapes text for an HTML attribute value or element content.
fn escape_html(out: &mut String, s: &str) {
    crate::feeds::escape_into(out, s);
}

/// Escapes a URL for an `href`/`src` attribute value.
fn escape_href(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' | '<' | '>' | ' ' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                push_percent_byte(out, c as u8)
            }
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    push_percent_byte(out, b);
                }
            }
            c => out.push(c),
        }
    }
}

/// The sanitizer for reports with raw HTML: keeps all that this renderer makes.
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static SANITIZER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_tags(["input", "figure", "figcaption", "del", "s", "sup"])
            .add_generic_attributes(["id"])
            .add_tag_attributes("h1", ["class"])
            .add_tag_attributes("h2", ["class"])
            .add_tag_attributes("h3", ["class"])
            .add_tag_attributes("h4", ["class"])
            .add_tag_attributes("h5", ["class"])
            .add_tag_attributes("h6", ["class"])
            .add_tag_attributes("code", ["class"])
            .add_tag_attributes("sup", ["class"])
            .add_tag_attributes("div", ["class"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("td", ["style"])
            .add_tag_attributes("img", ["title"])
            .add_tag_attributes("a", ["title"])
            .add_tag_attributes("input", ["checked"])
            .set_tag_attribute_value("input", "type", "checkbox")
            .set_tag_attribute_value("input", "disabled", "")
            .add_url_schemes(["data"])
            .url_relative(ammonia::UrlRelative::PassThrough)
            .link_rel(None)
            .strip_comments(true)
            .attribute_filter(|element, attribute, value| match attribute {
                // Only the table alignment this renderer writes.
                "style" => matches!(
                    value,
                    "text-align: left" | "text-align: center" | "text-align: right"
                )
                .then_some(Cow::Borrowed(value)),
                // `data:` only for images.
                "href" | "src" | "cite" | "xlink:href" | "action" | "formaction" | "poster"
                | "ping" | "data" | "background" | "longdesc" | "srcset" => {
                    if url_scheme(value).as_deref() == Some("data")
                        && !(element == "img" && attribute == "src" && is_data_image(value))
                    {
                        None
                    } else {
                        Some(Cow::Borrowed(value))
                    }
                }
                _ => Some(Cow::Borrowed(value)),
            });
        b
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Resolves the files it was given; reports (`.md`) map to their page.
    struct Files(HashMap<String, String>);

    impl Files {
        fn new(entries: &[(&str, &str)]) -> Self {
            Files(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }
    }

    impl LinkResolver for Files {
        fn resolve(&self, target: &str) -> Option<String> {
            self.0.get(target).cloned()
        }
    }

    /// Records every target it is asked about; finds nothing.
    struct Recorder(std::sync::Mutex<Vec<String>>);

    impl LinkResolver for Recorder {
        fn resolve(&self, target: &str) -> Option<String> {
            self.0.lock().unwrap().push(target.to_string());
            None
        }
    }

    fn site() -> Files {
        Files::new(&[
            ("2023/09/so-ket.md", "2023/09/so-ket-nghi-quyet/index.html"),
            (
                "2023/09/lam-viec/index.md",
                "2023/09/lam-viec-lao-cai/index.html",
            ),
            (
                "2023/09/lam-viec/quang-canh.jpg",
                "2023/09/lam-viec-lao-cai/quang-canh.jpg",
            ),
            (
                "2023/09/lam-viec/anh hop.jpg",
                "2023/09/lam-viec-lao-cai/anh hop.jpg",
            ),
            (
                "2023/09/lam-viec/ảnh đại biểu.jpg",
                "2023/09/lam-viec-lao-cai/ảnh đại biểu.jpg",
            ),
            ("2023/08/hoi-nghi.md", "2023/08/hoi-nghi/index.html"),
            ("tai-lieu/nghi-quyet.pdf", "tai-lieu/nghi-quyet.pdf"),
        ])
    }

    fn input(text: &str) -> MarkdownInput<'_> {
        MarkdownInput {
            text,
            source: "2023/09/lam-viec/index.md",
            first_line: 7,
            root: "../../../",
        }
    }

    fn md(text: &str) -> Rendered {
        render(&input(text), false, &site())
    }

    fn md_html(text: &str) -> Rendered {
        render(&input(text), true, &site())
    }

    // ---- figures ----

    #[test]
    fn titled_image_alone_becomes_figure() {
        let r = md("![Quang cảnh](quang-canh.jpg \"Quang cảnh hội nghị\")\n");
        assert_eq!(
            r.html,
            "<figure><img src=\"../../../2023/09/lam-viec-lao-cai/quang-canh.jpg\" alt=\"Quang cảnh\">\
             <figcaption>Quang cảnh hội nghị</figcaption></figure>\n"
        );
        assert!(r.dead_links.is_empty());
    }

    #[test]
    fn figure_ignores_surrounding_whitespace_and_soft_breaks() {
        let r = md("  ![a](quang-canh.jpg \"Chú thích\")  \n");
        assert!(r.html.starts_with("<figure><img "), "{}", r.html);
        assert!(!r.html.contains("<p>"));
    }

    #[test]
    fn figure_escapes_title_and_alt_and_uses_plain_alt() {
        let r = md("![A *nhấn* & `mã`](quang-canh.jpg \"<b>\\\"Tiêu đề\\\"</b> & 'x'\")");
        assert!(r.html.contains("alt=\"A nhấn &amp; mã\""), "{}", r.html);
        assert!(
            r.html.contains(
                "<figcaption>&lt;b&gt;&quot;Tiêu đề&quot;&lt;/b&gt; &amp; &#39;x&#39;</figcaption>"
            ),
            "{}",
            r.html
        );
        assert!(!r.html.contains("<b>"));
    }

    #[test]
    fn image_without_title_is_not_a_figure() {
        let r = md("![Quang cảnh](quang-canh.jpg)\n");
        assert!(!r.html.contains("<figure>"), "{}", r.html);
        assert!(r.html.starts_with(
            "<p><img src=\"../../../2023/09/lam-viec-lao-cai/quang-canh.jpg\" alt=\"Quang cảnh\""
        ));
    }

    #[test]
    fn image_with_blank_title_is_not_a_figure() {
        let r = md("![a](quang-canh.jpg \"  \")\n");
        assert!(!r.html.contains("<figure>"), "{}", r.html);
    }

    #[test]
    fn titled_image_with_text_is_not_a_figure() {
        let r = md("Xem ![Quang cảnh](quang-canh.jpg \"Quang cảnh hội nghị\") ở trên.\n");
        assert!(!r.html.contains("<figure>"), "{}", r.html);
        assert!(r.html.contains("<p>Xem <img src=\""), "{}", r.html);
        assert!(r.html.contains("title=\"Quang cảnh hội nghị\""));
    }

    #[test]
    fn two_titled_images_are_not_a_figure() {
        let r = md("![a](quang-canh.jpg \"A\")\n![b](quang-canh.jpg \"B\")\n");
        assert!(!r.html.contains("<figure>"), "{}", r.html);
    }

    #[test]
    fn linked_titled_image_is_not_a_figure() {
        let r = md("[![a](quang-canh.jpg \"A\")](https://example.com/)\n");
        assert!(!r.html.contains("<figure>"), "{}", r.html);
        assert!(r.html.contains("<a href=\"https://example.com/\"><img"));
    }

    #[test]
    fn figure_inside_list_and_quote() {
        let r = md("> ![a](quang-canh.jpg \"A\")\n");
        assert!(r.html.contains("<blockquote>\n<figure>"), "{}", r.html);
    }

    #[test]
    fn figure_with_dead_image_keeps_url_and_reports() {
        let r = md("\n![a](khong-co.jpg \"Chú thích\")\n");
        assert!(
            r.html.contains("<figure><img src=\"khong-co.jpg\""),
            "{}",
            r.html
        );
        assert_eq!(
            r.dead_links,
            vec![DeadLink {
                line: 8,
                column: 1,
                link: "khong-co.jpg".into()
            }]
        );
    }

    // ---- heading ids ----

    #[test]
    fn heading_ids_from_vietnamese_text() {
        let r = md("# Hội nghị Đảng\n\n## Kết luận\n");
        assert!(
            r.html
                .contains("<h1 id=\"hoi-nghi-dang\">Hội nghị Đảng</h1>"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<h2 id=\"ket-luan\">Kết luận</h2>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn duplicate_heading_ids_get_numbers() {
        let r = md("## Kết luận\n\n## Kết luận\n\n## Kết luận\n");
        assert!(r.html.contains("<h2 id=\"ket-luan\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"ket-luan-2\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"ket-luan-3\">"), "{}", r.html);
    }

    #[test]
    fn heading_with_empty_slug_gets_muc() {
        let r = md("## ***\n\n## !!!\n\n# \n");
        assert!(r.html.contains("id=\"muc\""), "{}", r.html);
        assert!(r.html.contains("id=\"muc-2\""), "{}", r.html);
        assert!(r.html.contains("id=\"muc-3\""), "{}", r.html);
    }

    #[test]
    fn heading_id_uses_text_of_inline_markup() {
        let r = md("## *Phát biểu* của `đồng chí` [Bí thư](https://example.com)\n");
        assert!(
            r.html.contains("id=\"phat-bieu-cua-dong-chi-bi-thu\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("<em>Phát biểu</em>"));
    }

    #[test]
    fn explicit_heading_id_wins_and_is_reserved() {
        let r = md("## Kết luận\n\n## Phần khác {#ket-luan-2}\n\n## Tóm tắt {#tom-tat}\n");
        // The explicit id keeps its value; the generated ones avoid it.
        assert!(
            r.html.contains("<h2 id=\"ket-luan\">Kết luận</h2>"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<h2 id=\"ket-luan-2\">Phần khác</h2>"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<h2 id=\"tom-tat\">Tóm tắt</h2>"),
            "{}",
            r.html
        );

        let r = md("## Kết luận\n\n## Kết luận\n\n## Cuối {#ket-luan-2}\n");
        assert!(
            r.html.contains("<h2 id=\"ket-luan-3\">Kết luận</h2>"),
            "{}",
            r.html
        );
        assert_eq!(r.html.matches("id=\"ket-luan-2\"").count(), 1, "{}", r.html);
    }

    #[test]
    fn heading_custom_attributes_only_with_html_allowed() {
        let text = "## Tiêu đề {.lon onclick=alert(1)}\n";
        let safe = md(text);
        assert!(
            safe.html.contains("<h2 id=\"tieu-de\" class=\"lon\">"),
            "{}",
            safe.html
        );
        assert!(!safe.html.contains("onclick"));
        let raw = md_html(text);
        assert!(raw.html.contains("onclick=\"alert(1)\""), "{}", raw.html);
    }

    #[test]
    fn heading_ids_survive_sanitizing() {
        let r = md("## Kết luận {.lon}\n\n<span>x</span>\n");
        assert!(
            r.html.contains("<h2 id=\"ket-luan\" class=\"lon\">"),
            "{}",
            r.html
        );
    }

    // ---- links ----

    #[test]
    fn sibling_report_link_goes_to_its_page() {
        let text = "Xem [sơ kết](../so-ket.md) và [hội nghị](/2023/08/hoi-nghi.md).";
        let r = md(text);
        assert!(
            r.html
                .contains("<a href=\"../../../2023/09/so-ket-nghi-quyet/index.html\">sơ kết</a>"),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<a href=\"../../../2023/08/hoi-nghi/index.html\">"),
            "{}",
            r.html
        );
        assert!(r.dead_links.is_empty());
    }

    #[test]
    fn report_beside_other_reports() {
        let inp = MarkdownInput {
            text: "[a](so-ket.md) [b](./lam-viec/index.md) [c](lam-viec/) [d](../08/hoi-nghi.md)",
            source: "2023/09/khac.md",
            first_line: 1,
            root: "../../../",
        };
        let r = render(&inp, false, &site());
        assert!(
            r.html
                .contains("href=\"../../../2023/09/so-ket-nghi-quyet/index.html\""),
            "{}",
            r.html
        );
        assert_eq!(
            r.html
                .matches("href=\"../../../2023/09/lam-viec-lao-cai/index.html\"")
                .count(),
            2,
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("href=\"../../../2023/08/hoi-nghi/index.html\""),
            "{}",
            r.html
        );
        assert!(r.dead_links.is_empty(), "{:?}", r.dead_links);
    }

    #[test]
    fn parent_links_and_going_above_content() {
        let r =
            md("[tl](../../../tai-lieu/nghi-quyet.pdf) [x](../../../../tai-lieu/nghi-quyet.pdf)");
        assert!(
            r.html.contains("href=\"../../../tai-lieu/nghi-quyet.pdf\""),
            "{}",
            r.html
        );
        // Going above content/ reaches nothing.
        assert_eq!(r.dead_links.len(), 1);
        assert_eq!(r.dead_links[0].link, "../../../../tai-lieu/nghi-quyet.pdf");
        assert!(r
            .html
            .contains("href=\"../../../../tai-lieu/nghi-quyet.pdf\""));
    }

    #[test]
    fn dead_link_line_and_column() {
        let text = "Dòng đầu.\n\nĐây là [liên kết hỏng](khong-co.md) và ![ảnh](mat.jpg).\n\n> [trích](../nua.md#x)\n";
        let r = md(text);
        assert_eq!(
            r.dead_links,
            vec![
                DeadLink {
                    line: 9,
                    column: 8,
                    link: "khong-co.md".into()
                },
                DeadLink {
                    line: 9,
                    column: 40,
                    link: "mat.jpg".into()
                },
                DeadLink {
                    line: 11,
                    column: 3,
                    link: "../nua.md#x".into()
                },
            ]
        );
        // Dead links are left as written.
        assert!(r.html.contains("<a href=\"khong-co.md\">"), "{}", r.html);
        assert!(r.html.contains("<a href=\"../nua.md#x\">"), "{}", r.html);
    }

    #[test]
    fn dead_link_first_line_with_crlf() {
        let r = md("[a](x.md)\r\n\r\n  [b](y.md)\r\n");
        assert_eq!(
            r.dead_links[0],
            DeadLink {
                line: 7,
                column: 1,
                link: "x.md".into()
            }
        );
        assert_eq!(
            r.dead_links[1],
            DeadLink {
                line: 9,
                column: 3,
                link: "y.md".into()
            }
        );
    }

    #[test]
    fn dead_reference_link_points_at_its_use() {
        let r = md("Xem [đây][ref].\n\n[ref]: khong-co.md\n");
        assert_eq!(
            r.dead_links,
            vec![DeadLink {
                line: 7,
                column: 5,
                link: "khong-co.md".into()
            }]
        );
    }

    #[test]
    fn fragment_and_query_are_kept() {
        let r = md("[a](../so-ket.md#ket-luan) [b](quang-canh.jpg?v=2#top) [c](#muc-1) [d](?x=1)");
        assert!(
            r.html
                .contains("href=\"../../../2023/09/so-ket-nghi-quyet/index.html#ket-luan\""),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("href=\"../../../2023/09/lam-viec-lao-cai/quang-canh.jpg?v=2#top\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"#muc-1\""));
        assert!(r.html.contains("href=\"?x=1\""));
        assert!(r.dead_links.is_empty(), "{:?}", r.dead_links);
    }

    #[test]
    fn external_links_untouched() {
        let text = "[a](https://dangcongsan.vn/a?b=1#c) [b](mailto:ban@example.vn) [c](//cdn.example/x.js) \
                    [d](tel:+84123) <https://example.com> <ban@example.vn> [e](HTTP://EXAMPLE.COM)";
        let rec = Recorder(Default::default());
        let r = render(&input(text), false, &rec);
        assert!(
            rec.0.lock().unwrap().is_empty(),
            "{:?}",
            rec.0.lock().unwrap()
        );
        assert!(r.dead_links.is_empty());
        assert!(r.html.contains("href=\"https://dangcongsan.vn/a?b=1#c\""));
        assert!(r.html.contains("href=\"mailto:ban@example.vn\""));
        assert!(r.html.contains("href=\"//cdn.example/x.js\""));
        assert!(r.html.contains("href=\"tel:+84123\""));
        assert!(r.html.contains("href=\"https://example.com\""));
        assert!(r.html.contains("href=\"HTTP://EXAMPLE.COM\""));
    }

    #[test]
    fn percent_decoded_target_reaches_resolver() {
        let rec = Recorder(Default::default());
        render(
            &input("![a](anh%20hop.jpg) [b](%E1%BA%A3nh.jpg) [c](bad%zz%.jpg) [d](%FF.jpg)"),
            false,
            &rec,
        );
        let asked = rec.0.lock().unwrap().clone();
        assert_eq!(asked[0], "2023/09/lam-viec/anh hop.jpg");
        assert!(
            asked.contains(&"2023/09/lam-viec/ảnh.jpg".to_string()),
            "{asked:?}"
        );
        assert!(
            asked.contains(&"2023/09/lam-viec/bad%zz%.jpg".to_string()),
            "{asked:?}"
        );
    }

    #[test]
    fn resolved_urls_are_percent_encoded() {
        let r = md("![a](anh%20hop.jpg) ![b](<ảnh đại biểu.jpg>)");
        assert!(
            r.html
                .contains("src=\"../../../2023/09/lam-viec-lao-cai/anh%20hop.jpg\""),
            "{}",
            r.html
        );
        assert!(r.dead_links.is_empty(), "{:?}", r.dead_links);
        // Spaces are encoded; pulldown may encode the Vietnamese letters too.
        assert!(!r.html.contains("ảnh đại"), "{}", r.html);
        assert!(r.html.contains("%20"), "{}", r.html);
        let r = md("![a](<ảnh đại biểu.jpg> \"Đại biểu\")");
        assert!(
            r.html
                .contains("src=\"../../../2023/09/lam-viec-lao-cai/ảnh%20đại%20biểu.jpg\""),
            "{}",
            r.html
        );
    }

    #[test]
    fn link_to_folder_reaches_its_index() {
        let r = md("[x](../lam-viec/) [y](../lam-viec)");
        assert_eq!(
            r.html
                .matches("href=\"../../../2023/09/lam-viec-lao-cai/index.html\"")
                .count(),
            2,
            "{}",
            r.html
        );
    }

    #[test]
    fn pretty_links_resolution_is_used_as_is() {
        let files = Files::new(&[("2023/09/so-ket.md", "2023/09/so-ket/")]);
        let r = render(&input("[a](../so-ket.md#b)"), false, &files);
        assert!(
            r.html.contains("href=\"../../../2023/09/so-ket/#b\""),
            "{}",
            r.html
        );
    }

    // ---- sanitizing ----

    #[test]
    fn scripts_and_handlers_removed_without_allow_html() {
        let text = "Đoạn.\n\n<script>alert(1)</script>\n\n<img src=\"x.jpg\" onerror=\"alert(2)\">\n\n\
                    <a href=\"javascript:alert(3)\">x</a> <iframe src=\"https://evil\"></iframe>\n\n\
                    <div style=\"color:red\" onclick=\"x()\">d</div>\n";
        let r = md(text);
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "<iframe",
            "onclick",
            "color:red",
        ] {
            assert!(!r.html.contains(bad), "{bad} in {}", r.html);
        }
        assert!(r.html.contains("<img src=\"x.jpg\">"), "{}", r.html);
        assert!(r.html.contains("<div>d</div>"), "{}", r.html);
    }

    #[test]
    fn raw_html_kept_with_allow_html() {
        let text = "<script>alert(1)</script>\n\n<img src=\"x.jpg\" onerror=\"alert(2)\">\n\nA <b onclick=\"y()\">b</b>\n";
        let r = md_html(text);
        assert!(r.html.contains("<script>alert(1)</script>"), "{}", r.html);
        assert!(r.html.contains("onerror=\"alert(2)\""), "{}", r.html);
        assert!(r.html.contains("<b onclick=\"y()\">b</b>"), "{}", r.html);
    }

    #[test]
    fn markdown_javascript_links_dropped_in_both_modes() {
        let text = "[a](javascript:alert(1) \"t\") [b](  JaVaScRiPt:alert(2)) [c](vbscript:x) \
                    ![d](javascript:alert(3)) [e](&#106;avascript:alert(4)) <javascript:alert(5)> [f](data:text/html,x)";
        for allow in [false, true] {
            let r = render(&input(text), allow, &site());
            // No URL survives; the autolink's text stays as text.
            assert!(!r.html.contains("href="), "{}", r.html);
            assert!(!r.html.contains("src="), "{}", r.html);
            assert!(r.html.contains("<a>javascript:alert(5)</a>"), "{}", r.html);
            assert!(r.html.contains(">a</a>"), "{}", r.html);
            assert!(r.html.contains("alt=\"d\""), "{}", r.html);
            assert!(r.dead_links.is_empty());
        }
        let r = md_html("[a](javascript:alert(1) \"t\")");
        assert_eq!(r.html, "<p><a title=\"t\">a</a></p>\n");
    }

    #[test]
    fn data_images_allowed_other_data_urls_not() {
        let text = "![a](data:image/png;base64,iVBORw0KGgo=) [b](data:image/png;base64,xx)";
        for allow in [false, true] {
            let r = render(&input(text), allow, &site());
            assert!(
                r.html
                    .contains("src=\"data:image/png;base64,iVBORw0KGgo=\""),
                "{}",
                r.html
            );
            assert!(!r.html.contains("href=\"data:"), "{}", r.html);
        }
        let r = md("<a href=\"data:text/html,x\">x</a> <img src=\"data:text/html,y\">");
        assert!(!r.html.contains("data:"), "{}", r.html);
    }

    #[test]
    fn unusual_schemes_go_through_ammonia() {
        let r = md("[a](ftp://example.com/x) [b](foo:bar)");
        assert!(
            r.html.contains("href=\"ftp://example.com/x\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("foo:bar"), "{}", r.html);
        let r = md_html("[b](foo:bar)");
        assert!(r.html.contains("href=\"foo:bar\""), "{}", r.html);
    }

    #[test]
    fn everything_renders_after_sanitizing() {
        let text = "\
# Kết luận

<span onclick=\"x()\">Có HTML</span> và chú thích[^1] ~~xoá~~.

| Trái | Giữa | Phải |
|:-----|:----:|-----:|
| a    | b    | c    |

- [x] Xong
- [ ] Chưa

```rust
fn main() {}
```

[Báo cáo](../so-ket.md#phan-2 \"Sơ kết\") ![Ảnh](quang-canh.jpg \"Quang cảnh\")

![Ảnh](quang-canh.jpg \"Chú thích\")

1. một
2. hai

> trích

---

[^1]: Nội dung chú thích.
";
        let r = md(text);
        let h = &r.html;
        assert!(!h.contains("onclick"), "{h}");
        assert!(h.contains("<span>Có HTML</span>"), "{h}");
        assert!(h.contains("<h1 id=\"ket-luan\">Kết luận</h1>"), "{h}");
        assert!(h.contains("<table>"), "{h}");
        assert!(
            h.contains("<th style=\"text-align: left\">Trái</th>"),
            "{h}"
        );
        assert!(
            h.contains("<th style=\"text-align: center\">Giữa</th>"),
            "{h}"
        );
        assert!(h.contains("<td style=\"text-align: right\">c</td>"), "{h}");
        assert!(
            h.contains("<sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup>"),
            "{h}"
        );
        assert!(
            h.contains("<div class=\"footnote-definition\" id=\"1\">"),
            "{h}"
        );
        assert!(
            h.contains("<sup class=\"footnote-definition-label\">1</sup>"),
            "{h}"
        );
        assert!(h.contains("<del>xoá</del>"), "{h}");
        assert!(h.contains("checked=\"\""), "{h}");
        assert_eq!(h.matches("type=\"checkbox\"").count(), 2, "{h}");
        assert_eq!(h.matches("disabled=\"\"").count(), 2, "{h}");
        assert!(h.contains("<code class=\"language-rust\">"), "{h}");
        assert!(
            h.contains(
                "<a href=\"../../../2023/09/so-ket-nghi-quyet/index.html#phan-2\" title=\"Sơ kết\">Báo cáo</a>"
            ),
            "{h}"
        );
        assert!(h.contains("title=\"Quang cảnh\""), "{h}");
        assert!(h.contains("<figure><img src=\"../../../2023/09/lam-viec-lao-cai/quang-canh.jpg\" alt=\"Ảnh\"><figcaption>Chú thích</figcaption></figure>"), "{h}");
        assert!(h.contains("<ol>"), "{h}");
        assert!(h.contains("<blockquote>"), "{h}");
        assert!(h.contains("<hr>"), "{h}");
        assert!(!h.contains("rel="), "{h}");
    }

    #[test]
    fn sanitizer_rejects_forged_attributes() {
        let text = "<td style=\"background:url(x)\">a</td> <input type=\"text\" value=\"x\"> \
                    <div class=\"x\" style=\"text-align: left; color: red\">y</div>";
        let r = md(text);
        assert!(!r.html.contains("background"), "{}", r.html);
        assert!(!r.html.contains("type=\"text\""), "{}", r.html);
        assert!(!r.html.contains("value="), "{}", r.html);
        assert!(!r.html.contains("color"), "{}", r.html);
    }

    #[test]
    fn no_raw_html_skips_ammonia() {
        // Output is pulldown's own (self-closing img, `<hr />`), proof that ammonia did not run.
        let r = md("Đoạn ![a](quang-canh.jpg)\n\n---\n");
        assert!(r.html.contains(" />"), "{}", r.html);
        assert!(r.html.contains("<hr />"), "{}", r.html);
    }

    #[test]
    fn html_comment_stripped_without_allow_html() {
        let r = md("A\n\n<!-- bí mật -->\n");
        assert!(!r.html.contains("bí mật"), "{}", r.html);
        let r = md_html("A\n\n<!-- bí mật -->\n");
        assert!(r.html.contains("<!-- bí mật -->"), "{}", r.html);
    }

    // ---- summary ----

    #[test]
    fn summary_is_first_paragraph_plain_text() {
        let r = md("Ngày *13/9*, Huyện ủy   **Càng Long**\ntổ chức [hội nghị](../so-ket.md) `sơ kết`.\n\nĐoạn hai.");
        assert_eq!(
            r.summary,
            "Ngày 13/9, Huyện ủy Càng Long tổ chức hội nghị sơ kết."
        );
    }

    #[test]
    fn summary_skips_heading_and_image_only_paragraph() {
        let r = md("# Tiêu đề\n\n![Quang cảnh](quang-canh.jpg \"Quang cảnh\")\n\n![x](quang-canh.jpg)\n\n<p>html</p>\n\nĐoạn văn đầu tiên.\n\nĐoạn sau.");
        assert_eq!(r.summary, "Đoạn văn đầu tiên.");
    }

    #[test]
    fn summary_leaves_out_alt_text_and_footnotes() {
        let r = md("Có ảnh ![ảnh](quang-canh.jpg) và chú thích[^a].\n\n[^a]: Chú thích.");
        assert_eq!(r.summary, "Có ảnh và chú thích.");
        let r = md("[^a]: Chú thích trước.\n\nĐoạn chính[^a].");
        assert_eq!(r.summary, "Đoạn chính.");
    }

    #[test]
    fn summary_empty_when_no_paragraph() {
        assert_eq!(md("# Chỉ tiêu đề\n\n- mục\n").summary, "");
        assert_eq!(md("").summary, "");
    }

    #[test]
    fn summary_cut_at_word_boundary() {
        let words: Vec<String> = (0..200).map(|i| format!("từ{i}")).collect();
        let text = words.join(" ");
        let r = md(&text);
        let n = r.summary.chars().count();
        assert!(n <= 300, "{n}");
        assert!(n > 280, "{n}");
        assert!(r.summary.ends_with('…'));
        let body = r.summary.trim_end_matches('…');
        // A whole number of words, the text's own beginning.
        assert!(text.starts_with(body));
        assert!(
            text[body.len()..].starts_with(' '),
            "cut inside a word: {}",
            r.summary
        );
    }

    #[test]
    fn summary_exactly_300_is_not_cut() {
        let text = "a ".repeat(150);
        let text = text.trim_end().to_string() + "b"; // 300 chars
        assert_eq!(text.chars().count(), 300);
        let r = md(&text);
        assert_eq!(r.summary, text);
        let longer = format!("{text} c");
        let r = md(&longer);
        assert!(r.summary.ends_with('…'));
        assert!(r.summary.chars().count() <= 300);
    }

    #[test]
    fn summary_cut_of_one_long_word() {
        let text = "đ".repeat(1000);
        let r = md(&text);
        assert_eq!(r.summary.chars().count(), 300);
        assert!(r.summary.ends_with('…'));
    }

    #[test]
    fn truncate_summary_at_boundary_and_punctuation() {
        let mut text = "x".repeat(290);
        text.push_str(", yyyyyyyyyyyyyyyyyyyy");
        let s = truncate_summary(&text);
        assert_eq!(s, format!("{}…", "x".repeat(290)));
        let mut text = "x".repeat(299);
        text.push_str(" yyyy");
        assert_eq!(truncate_summary(&text), format!("{}…", "x".repeat(299)));
    }

    // ---- helpers ----

    #[test]
    fn scheme_detection() {
        assert_eq!(url_scheme("https://a").as_deref(), Some("https"));
        assert_eq!(
            url_scheme(" \u{1}JavaScript:x").as_deref(),
            Some("javascript")
        );
        assert_eq!(url_scheme("java\tscript:x").as_deref(), Some("javascript"));
        assert_eq!(url_scheme("a/b:c"), None);
        assert_eq!(url_scheme("anh.jpg"), None);
        assert_eq!(url_scheme(":x"), None);
        assert_eq!(url_scheme("1a:x"), None);
        assert_eq!(url_scheme("a%3Ab"), None);
        assert!(is_data_image("DATA:Image/png;base64,x"));
        assert!(!is_data_image("data:text/html,x"));
        assert!(!is_data_image("data:"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("anh%20hop.jpg"), "anh hop.jpg");
        assert_eq!(percent_decode("%E1%BA%A3nh"), "ảnh");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%2"), "%2");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn line_cursor_goes_back() {
        let mut c = LineCursor::new("ab\nđc\rx\r\ny");
        assert_eq!(c.locate(5), (1, 2));
        assert_eq!(c.locate(0), (0, 1));
        assert_eq!(c.locate(7), (2, 1));
        assert_eq!(c.locate(10), (3, 1));
        assert_eq!(c.locate(1000), (3, 2));
    }

    // ---- robustness ----

    #[test]
    fn never_panics_on_odd_input() {
        let mut cases: Vec<String> = vec![
            "[".repeat(10_000),
            "]".repeat(10_000),
            "![".repeat(5_000) + &"](x.jpg \"t\")".repeat(5_000),
            ">".repeat(20_000) + " x",
            (0..2_000)
                .map(|i| format!("{}- a\n", "  ".repeat(i)))
                .collect(),
            "*".repeat(20_000),
            "<div>".repeat(2_000) + "x",
            "[a](%)[b](%%%)[c](%E1%BA)[d](../../../../../..)[e](/)[f](./)[g](#)[h]()".to_string(),
            "| a |\n|---|\n".to_string() + &"| [x](y.md) |\n".repeat(1000),
            "[^1]\n\n[^1]: [^1]\n".to_string(),
            "\r\r\r[a](b)\r".to_string(),
            "# {#}\n\n# {#a #b}\n\n#\n".to_string(),
            "![a](\u{0}\u{1}\u{7f})".to_string(),
            "\u{feff}ảnh\u{301}".to_string(),
        ];
        cases.push(">".repeat(2_000) + " x\n\n<b>html</b>");
        for text in &cases {
            for allow in [false, true] {
                let r = render(&input(text), allow, &site());
                assert!(r.summary.chars().count() <= 300);
            }
        }
    }

    #[test]
    fn deep_nesting_in_small_stack() {
        // Rendering happens on worker threads with default (2 MiB) stacks.
        let handle = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let text = "> ".repeat(50_000) + "x\n";
                let r = render(&input(&text), false, &site());
                assert!(r.html.contains('x'));
                // With raw HTML, so ammonia (html5ever) sees the whole depth too.
                let text = "> ".repeat(3_000) + "x\n\n<i>y</i>";
                let r = render(&input(&text), false, &site());
                assert!(r.html.contains("<i>y</i>"));
                let list: String = (0..1_000)
                    .map(|i| format!("{}* a\n", " ".repeat(i * 2)))
                    .collect();
                render(&input(&list), false, &site());
            })
            .unwrap();
        handle.join().unwrap();
    }

    #[test]
    fn huge_input() {
        let para = "Hội nghị [sơ kết](../so-ket.md) ![ảnh](quang-canh.jpg) [x](khong.md).\n\n";
        let text = para.repeat(20_000);
        let r = md(&text);
        assert_eq!(r.dead_links.len(), 20_000);
        assert_eq!(r.dead_links[19_999].line, 7 + 2 * 19_999);
    }
}
