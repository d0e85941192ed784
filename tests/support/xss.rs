//! Finds what a browser would run in a page: the check behind tests/hostile.rs, shared
//! with the fuzz targets (fuzz/src/lib.rs includes this file by path).
//!
//! The page is read by html5ever's tokenizer, the HTML5 tokenizer browsers implement,
//! switched into raw text for `<script>`, `<style>`, `<title>`, `<textarea>` and the like
//! as a browser's tree builder does. So a payload counts only if it survives *in a
//! parseable form*: escaped text (`&lt;script&gt;`) is inert and passes, a real start tag
//! or attribute does not.
//!
//! Flagged: elements that run or embed script or other documents (`script` with inline
//! code or a foreign `src`, `iframe`, `object`, `embed`, `svg`, `math`, `base`, ...),
//! any `on*` event attribute, `srcdoc`, a URL attribute whose scheme (read the way
//! a browser reads it) is `javascript:`, `vbscript:` or a `data:` URL other than an image,
//! a `style` attribute with `url(`, `expression(` or `javascript:`, and a meta refresh to
//! any of these.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Elements that must never come out of bantin.
const FORBIDDEN: &[&str] = &[
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "base",
    "portal",
    "isindex",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "template",
    "style",
    "link-import",
    "xss",
    "marquee",
    "bgsound",
    "xml",
];

/// Attributes holding a URL that a browser may load or follow.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
    "cite",
    "longdesc",
    "srcset",
    "ping",
    "manifest",
    "codebase",
    "icon",
    "profile",
    "usemap",
    "archive",
    "xml:base",
];

struct Sink {
    problems: RefCell<Vec<String>>,
    /// Inside `<script>`: its inline text, which must stay empty.
    in_script: RefCell<bool>,
}

/// The scheme of a URL as a browser reads it: leading C0 controls and spaces skipped,
/// tabs and line breaks anywhere ignored, lower case. None for a relative URL.
pub fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (head, _) = cleaned.split_once(':')?;
    let mut chars = head.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| head.to_ascii_lowercase())
}

/// Whether a URL is one a browser would run or render as a document.
pub fn is_script_url(url: &str, image: bool) -> bool {
    match scheme(url).as_deref() {
        Some("javascript" | "vbscript" | "livescript" | "mocha") => true,
        Some("data") => {
            let rest = url.trim_start_matches(|c: char| c <= ' ');
            let media = rest[5.min(rest.len())..].to_ascii_lowercase();
            // An image, SVG included, runs no script where it is an <img>.
            !(image && media.starts_with("image/"))
        }
        _ => false,
    }
}

impl Sink {
    fn flag(&self, what: String) {
        self.problems.borrow_mut().push(what);
    }

    fn start_tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name = tag.name.to_string();
        let shown = || {
            let attrs: Vec<String> = tag
                .attrs
                .iter()
                .map(|a| format!("{}={:?}", a.name.local, a.value.to_string()))
                .collect();
            format!("<{name} {}>", attrs.join(" "))
        };
        if FORBIDDEN.contains(&name.as_str()) {
            self.flag(format!("element {}", shown()));
        }
        for attr in &tag.attrs {
            let attr_name = attr.name.local.to_string().to_ascii_lowercase();
            let value = attr.value.to_string();
            if attr_name.starts_with("on") {
                self.flag(format!("event attribute in {}", shown()));
            }
            if attr_name == "srcdoc" {
                self.flag(format!("srcdoc in {}", shown()));
            }
            if attr_name == "style" {
                let v = value.to_ascii_lowercase();
                if v.contains("url(") || v.contains("expression(") || v.contains("javascript:") {
                    self.flag(format!("style that loads or runs in {}", shown()));
                }
            }
            if URL_ATTRS.contains(&attr_name.as_str()) {
                let image = name == "img" && attr_name == "src";
                let urls: Vec<&str> = if attr_name == "srcset" {
                    value.split(',').map(|s| s.trim()).collect()
                } else {
                    vec![value.as_str()]
                };
                if urls.iter().any(|u| is_script_url(u, image)) {
                    self.flag(format!("script URL in {}", shown()));
                }
            }
        }
        if name == "meta"
            && tag.attrs.iter().any(|a| {
                a.name.local.to_string().eq_ignore_ascii_case("http-equiv")
                    && a.value.to_string().eq_ignore_ascii_case("refresh")
            })
        {
            for a in &tag.attrs {
                if a.name.local.to_string() == "content" {
                    let v = a.value.to_string();
                    let url = v
                        .split_once(['=', ';'])
                        .map(|(_, u)| u.trim_start_matches([' ', ';']))
                        .unwrap_or("");
                    let url = url.strip_prefix("url=").unwrap_or(url);
                    if is_script_url(url, false) {
                        self.flag(format!("meta refresh to script: {}", shown()));
                    }
                }
            }
        }
        match name.as_str() {
            "script" => {
                let src = tag
                    .attrs
                    .iter()
                    .find(|a| a.name.local.to_string() == "src")
                    .map(|a| a.value.to_string());
                match src {
                    Some(src) if scheme(&src).is_none() && !src.starts_with("//") => {}
                    _ => self.flag(format!("script not from the site: {}", shown())),
                }
                *self.in_script.borrow_mut() = true;
                TokenSinkResult::RawData(RawKind::ScriptData)
            }
            // <noscript> is raw text where script runs: what looks like an attribute
            // inside it may close it (`<p title="</noscript><img onerror=...>">`).
            "style" | "noembed" | "noframes" | "noscript" | "xmp" | "iframe" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => return self.start_tag(&tag),
                TagKind::EndTag => {
                    if tag.name.to_string() == "script" {
                        *self.in_script.borrow_mut() = false;
                    }
                }
            },
            Token::CharacterTokens(text) if *self.in_script.borrow() && !text.trim().is_empty() => {
                self.flag(format!("inline script: {:?}", text.to_string()));
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// What a browser would run in `html`, one line per problem; empty when nothing.
pub fn script_in_html(html: &str) -> Vec<String> {
    let sink = Sink {
        problems: RefCell::new(Vec::new()),
        in_script: RefCell::new(false),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.problems.take()
}

/// The text of every element named `element` in an XML document (feeds), with its
/// character references decoded: what a feed reader hands to its HTML renderer.
pub fn xml_element_texts(xml: &str, element: &str) -> Vec<String> {
    struct Collect {
        element: String,
        depth: RefCell<usize>,
        texts: RefCell<Vec<String>>,
    }
    impl TokenSink for Collect {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::TagToken(tag) if *tag.name == *self.element => match tag.kind {
                    TagKind::StartTag if !tag.self_closing => {
                        *self.depth.borrow_mut() += 1;
                        self.texts.borrow_mut().push(String::new());
                    }
                    TagKind::EndTag => {
                        let mut d = self.depth.borrow_mut();
                        *d = d.saturating_sub(1);
                    }
                    _ => {}
                },
                Token::CharacterTokens(text) if *self.depth.borrow() > 0 => {
                    if let Some(last) = self.texts.borrow_mut().last_mut() {
                        last.push_str(&text);
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let sink = Collect {
        element: element.to_string(),
        depth: RefCell::new(0),
        texts: RefCell::new(Vec::new()),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(xml));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.texts.take()
}
