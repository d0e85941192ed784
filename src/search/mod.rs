//! The search index, written as script files so that the search page works from any
//! host, any sub-path and straight from disk (file://, where fetch() is refused):
//!
//! - `tim-kiem/search-index.js`: the manifest, `window.bantinSearchIndex = {...}`: how
//!   many reports, the first key of every shard, the units (tree order) and the years.
//! - `tim-kiem/index/N.js`: shard N of the postings, `window.bantinSearch.add(N, {...})`.
//!   Keys are folded syllables (`"hoi"`) and pairs of adjacent syllables (`"hoi nghi"`),
//!   in code point order and cut into shards of about [`SHARD_BYTES`]; the search page
//!   loads only the shards of the keys a query needs.
//! - `tim-kiem/index/don-vi.js`: the unit of every report (`{"units": "..."}`), for the
//!   unit filter, loaded only when that filter is used.
//! - `tim-kiem/bai/N.js`: what the results of reports `N * RESULTS_PER_FILE` to the
//!   next file's show (title, path, date, unit, summary and the first [`SNIPPET_CHARS`]
//!   characters of the body, for the snippet and the check of quoted phrases), one
//!   `window.bantinSearch.doc(ID, {...})` each, loaded only for the reports shown. A
//!   few reports a file: a third of the files a build writes was one per report, and
//!   the results shown first are often neighbours (ties are ordered newest first).
//!
//! A report is a list of fields (title, unit, documents, tags, kind, authors, summary,
//! body, ...). Each is cut into syllables (runs of letters, digits and marks), folded
//! as [`lang::fold`] does (lower case, no marks, `đ` → `d`). A syllable's postings are
//! kept per *spelling*: lower case with its marks, the tone mark moved to the end as a
//! digit (`variant`), so that "hoà" and "hòa" are one spelling and a query with marks
//! can rank the same spelling first. Pairs of adjacent syllables of one field (and one
//! block of it: see [`breaks_pair`]) get their own postings: they answer phrases
//! ("35-NQ/TW" is the pair "35 nq" then "nq tw") and rank words found next to each
//! other above words found apart.
//!
//! A posting list is a string of numbers in base-64 digits (five bits each, the low bits
//! first, 32 added to every digit but a number's last): the list's distinct values
//! `fields << 2 | how often` (the `FIELD_*` bits; 0 once, 1 two or three times, 2 up to
//! seven, 3 more), most used first, then either per report `gap << 5 | i` (the gap from
//! the report after the previous one, the place of its value in that list) or, for a
//! list of most reports, one symbol of one to three bits per report, whichever is
//! shorter (`encode_postings`), so that a word in every report takes a bit or two per
//! report. `themes/default/static/search.js` reads all of this. The output is
//! deterministic: everything is sorted by key and report, whatever the number of
//! threads.
//!
//! The reports are indexed in runs of up to a thousand, in parallel, each run with its
//! own interning tables (a report's plain text is dropped once it is indexed and cut
//! for its result); the runs' postings are then read in key order to write the shards.

use std::collections::BTreeMap;

mod encode;
mod indexer;
mod syllables;

use rayon::prelude::*;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::lang;
use crate::render::Rendered;
use crate::site::{link, Site};
pub use encode::decode_postings;
use encode::{encode_postings, ends_run, Scratch, DIGITS, WRITTEN, WRITTEN_BITS};
pub use indexer::DocText;
use indexer::{Chunk, Indexer, Spare};
pub use syllables::{breaks_pair, is_token_char, tokens, MAX_TOKEN_CHARS};

/// Field bits of a posting. The most common ones are the low bits, so that a posting
/// for a word found only in the body takes one digit.
pub const FIELD_BODY: u16 = 1;
pub const FIELD_SUMMARY: u16 = 2;
pub const FIELD_TITLE: u16 = 4;
pub const FIELD_KIND: u16 = 8;
pub const FIELD_UNIT: u16 = 16;
/// The names of the units above the report's unit.
pub const FIELD_PARENT_UNIT: u16 = 32;
pub const FIELD_TAG: u16 = 64;
pub const FIELD_DOCUMENT: u16 = 128;
pub const FIELD_AUTHOR: u16 = 256;

/// About how many bytes a shard of postings holds (one key may make a larger one).
pub const SHARD_BYTES: usize = 16 * 1024;

/// The tone digit of a combining mark: 1 huyền, 2 hỏi, 3 ngã, 4 sắc, 5 nặng; 0 otherwise.
fn tone_digit(c: char) -> u8 {
    match c {
        '\u{300}' => 1,
        '\u{309}' => 2,
        '\u{303}' => 3,
        '\u{301}' => 4,
        '\u{323}' => 5,
        _ => 0,
    }
}

/// A syllable's spelling with its marks, whatever the tone placement: lower case, NFD,
/// the first tone mark taken out and put at the end as a digit, NFC. "Hoà" and "hòa"
/// are both "hoa1", "Đảng" is "đang2", "dang" is "dang".
pub fn variant(token: &str) -> String {
    let mut tone = 0;
    let base: String = token
        .to_lowercase()
        .nfd()
        .filter(|&c| match tone_digit(c) {
            0 => true,
            t => {
                if tone == 0 {
                    tone = t;
                }
                false
            }
        })
        .collect();
    let mut out: String = base.nfc().collect();
    if tone > 0 {
        out.push(char::from(b'0' + tone));
    }
    out
}

/// Plain text of rendered HTML, for the index and the snippets: tags out (a line break
/// for every tag but inline formatting, so that the index knows where blocks end; see
/// [`breaks_pair`]), entities decoded, white space collapsed.
pub fn html_text(html: &str) -> String {
    const INLINE: &[&[u8]] = &[
        b"a", b"abbr", b"b", b"code", b"del", b"em", b"i", b"mark", b"s", b"small", b"span",
        b"strong", b"sub", b"u",
    ];
    // Bytes that end a run of text.
    const STOP: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 6 {
            t[b"<&\t\n\r\x0c"[i] as usize] = true;
            i += 1;
        }
        t
    };
    let bytes = html.as_bytes();
    let n = bytes.len();
    let mut out = String::with_capacity(n);
    let mut doubled = false;
    // A space (1) or a line break (2) is owed: written before the next text, never at
    // the start or the end.
    let mut space = 0u8;
    let mut i = 0;
    let push = |out: &mut String, space: &mut u8, piece: &str| {
        if *space > 0 && !out.is_empty() {
            out.push(if *space == 2 { '\n' } else { ' ' });
        }
        *space = 0;
        out.push_str(piece);
    };
    while i < n {
        let b = bytes[i];
        match b {
            b'<' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(n, |e| i + e + 1);
                let tag = &bytes[i + 1..end.saturating_sub(1).max(i + 1)];
                let closing = tag.first() == Some(&b'/');
                let name_start = usize::from(closing);
                let name_len = tag[name_start..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                let name = tag[name_start..name_start + name_len].to_ascii_lowercase();
                i = end;
                if !closing && (name == b"script" || name == b"style") {
                    let close = [b"</".as_slice(), &name].concat();
                    i = bytes[i..]
                        .windows(close.len())
                        .position(|w| w.eq_ignore_ascii_case(&close))
                        .map_or(n, |p| i + p);
                }
                if !INLINE.contains(&name.as_slice()) {
                    space = 2;
                }
            }
            b'&' => {
                let name_len = bytes[i + 1..]
                    .iter()
                    .take(12)
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'#')
                    .count();
                let name = &html[i + 1..i + 1 + name_len];
                let decoded = if bytes.get(i + 1 + name_len) == Some(&b';') {
                    match name {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        "nbsp" => Some(' '),
                        _ => name.strip_prefix('#').and_then(|n| {
                            let code = match n.strip_prefix(['x', 'X']) {
                                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                                None => n.parse().ok(),
                            };
                            code.and_then(char::from_u32)
                        }),
                    }
                } else {
                    None
                };
                match decoded {
                    Some(c) if c.is_whitespace() => {
                        space = space.max(1);
                        i += name_len + 2;
                    }
                    Some(c) => {
                        push(&mut out, &mut space, c.encode_utf8(&mut [0; 4]));
                        i += name_len + 2;
                    }
                    None => {
                        push(&mut out, &mut space, "&");
                        i += 1;
                    }
                }
            }
            b'\t' | b'\n' | b'\r' | b'\x0c' | b' ' => {
                space = space.max(1);
                i += 1;
            }
            _ => {
                // A run of text, single spaces included: copied at once.
                let start = i;
                // Eight bytes at a time while none of them ends the run.
                while i + 8 <= n {
                    let word = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
                    if ends_run(word) {
                        break;
                    }
                    i += 8;
                }
                while i < n && !STOP[bytes[i] as usize] {
                    i += 1;
                }
                while i > start && bytes[i - 1] == b' ' {
                    i -= 1;
                }
                push(&mut out, &mut space, &html[start..i]);
                if i < n && bytes[i] == b' ' {
                    space = space.max(1);
                    i += 1;
                }
                doubled = doubled || html[start..i].contains("  ");
            }
        }
    }
    if doubled {
        let mut collapsed = String::with_capacity(out.len());
        for c in out.chars() {
            if !(c == ' ' && collapsed.ends_with(' ')) {
                collapsed.push(c);
            }
        }
        out = collapsed;
    }
    out
}

/// Every key of the index with its postings, in key order: for each folded syllable,
/// its spellings, then the pairs it starts. The postings stay in the chunks that made
/// them; a key's list is the concatenation of its parts, chunk after chunk.
pub struct Postings {
    chunks: Vec<Chunk>,
    /// Folded syllables, sorted; the global ids are indexes into it.
    folded: Vec<String>,
    items: Vec<Item>,
}

enum Item {
    /// A folded syllable and, per spelling (sorted), its parts (chunk, local spelling id).
    Word(u32, Vec<Vec<(u32, u32)>>),
    /// Two folded syllables and the parts (chunk, local pair id).
    Pair(u32, u32, Vec<(u32, u32)>),
}

impl Postings {
    fn spelling(&self, part: (u32, u32)) -> &str {
        &self.chunks[part.0 as usize].spellings[part.1 as usize].1
    }

    fn parts<'a>(
        &'a self,
        parts: &'a [(u32, u32)],
        pairs: bool,
    ) -> impl Iterator<Item = (u32, &'a [u32])> + Clone + 'a {
        parts.iter().map(move |&(c, i)| {
            let chunk = &self.chunks[c as usize];
            if pairs {
                chunk
                    .pair_postings
                    .get(chunk.pair_rank[i as usize] as usize)
            } else {
                chunk.words.get(chunk.word_rank[i as usize] as usize)
            }
        })
    }

    /// The key of an item; its shard entry (`"key":value`) appended to `out`.
    fn entry(&self, item: &Item, scratch: &mut Scratch, out: &mut Vec<u8>) -> String {
        match item {
            Item::Word(f, spellings) => {
                let key = self.folded[*f as usize].clone();
                out.extend_from_slice(json(&key).as_bytes());
                out.extend_from_slice(b":{");
                for (i, parts) in spellings.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(json(self.spelling(parts[0])).as_bytes());
                    out.extend_from_slice(b":\"");
                    encode_postings(out, self.parts(parts, false), scratch);
                    out.push(b'"');
                }
                out.push(b'}');
                key
            }
            Item::Pair(a, b, parts) => {
                let key = format!("{} {}", self.folded[*a as usize], self.folded[*b as usize]);
                out.extend_from_slice(json(&key).as_bytes());
                out.extend_from_slice(b":\"");
                encode_postings(out, self.parts(parts, true), scratch);
                out.push(b'"');
                key
            }
        }
    }

    /// The postings of each spelling of a folded syllable (for tests and tools).
    /// (report, [`written`] value).
    pub fn word(&self, folded: &str) -> BTreeMap<String, Vec<(u32, u32)>> {
        let mut out = BTreeMap::new();
        for item in &self.items {
            if let Item::Word(f, spellings) = item {
                if self.folded[*f as usize] == folded {
                    for parts in spellings {
                        let list = unpack(self.parts(parts, false));
                        out.insert(self.spelling(parts[0]).to_string(), list);
                    }
                }
            }
        }
        out
    }

    /// The postings of a pair of folded syllables (for tests and tools).
    pub fn pair(&self, a: &str, b: &str) -> Vec<(u32, u32)> {
        for item in &self.items {
            if let Item::Pair(x, y, parts) = item {
                if self.folded[*x as usize] == a && self.folded[*y as usize] == b {
                    return unpack(self.parts(parts, true));
                }
            }
        }
        Vec::new()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        let mut scratch = Scratch::new();
        self.items
            .iter()
            .map(|i| self.entry(i, &mut scratch, &mut Vec::new()))
            .collect()
    }
}

/// (report, written value) of grouped postings.
fn unpack<'a>(parts: impl Iterator<Item = (u32, &'a [u32])>) -> Vec<(u32, u32)> {
    parts
        .flat_map(|(first, part)| {
            part.iter()
                .map(move |&p| (first + (p >> WRITTEN_BITS), p & (WRITTEN as u32 - 1)))
        })
        .collect()
}

/// Indexes the reports, in parallel runs of `chunk_len`; the result does not depend on it.
pub fn postings(docs: &[DocText], chunk_len: usize) -> Postings {
    let chunk_len = chunk_len.max(1);
    merge(
        docs.par_chunks(chunk_len)
            .enumerate()
            .map(|(i, run)| {
                let mut indexer = Indexer::new((i * chunk_len) as u32, Default::default());
                run.iter().for_each(|doc| indexer.add(doc));
                indexer.finish().0
            })
            .collect(),
    )
}

/// The postings of consecutive runs of reports, in order, as one index.
fn merge(chunks: Vec<Chunk>) -> Postings {
    let mut folded: Vec<String> = chunks.iter().flat_map(|c| c.folded.clone()).collect();
    folded.sort_unstable();
    folded.dedup();
    let global: Vec<Vec<u32>> = chunks
        .iter()
        .map(|c| {
            c.folded
                .iter()
                .map(|f| folded.binary_search(f).unwrap_or(0) as u32)
                .collect()
        })
        .collect();
    // (folded, spelling, chunk, local id), sorted: spellings of one syllable together.
    let mut spellings: Vec<(u32, &str, u32, u32)> = Vec::new();
    // (first << 32 | second, chunk, local id), sorted.
    let mut pairs: Vec<(u64, u32, u32)> = Vec::new();
    for (c, chunk) in chunks.iter().enumerate() {
        for (i, (f, spelling)) in chunk.spellings.iter().enumerate() {
            spellings.push((global[c][*f as usize], spelling, c as u32, i as u32));
        }
        for (i, (a, b)) in chunk.pairs.iter().enumerate() {
            let key = (u64::from(global[c][*a as usize]) << 32) | u64::from(global[c][*b as usize]);
            pairs.push((key, c as u32, i as u32));
        }
    }
    spellings.par_sort_unstable();
    pairs.par_sort_unstable();
    let mut items = Vec::with_capacity(folded.len() + pairs.len());
    let (mut s, mut p) = (0, 0);
    for f in 0..folded.len() as u32 {
        let mut word: Vec<Vec<(u32, u32)>> = Vec::new();
        while s < spellings.len() && spellings[s].0 == f {
            let same = word.last().is_some_and(|parts: &Vec<(u32, u32)>| {
                let (c, i) = parts[0];
                chunks[c as usize].spellings[i as usize].1 == spellings[s].1
            });
            if !same {
                word.push(Vec::new());
            }
            word.last_mut()
                .expect("pushed")
                .push((spellings[s].2, spellings[s].3));
            s += 1;
        }
        items.push(Item::Word(f, word));
        while p < pairs.len() && (pairs[p].0 >> 32) as u32 == f {
            let key = pairs[p].0;
            let mut parts = Vec::new();
            while p < pairs.len() && pairs[p].0 == key {
                parts.push((pairs[p].1, pairs[p].2));
                p += 1;
            }
            items.push(Item::Pair(f, key as u32, parts));
        }
    }
    drop(spellings);
    drop(pairs);
    Postings {
        chunks,
        folded,
        items,
    }
}

/// The shards: (first key, script body) of each, in key order.
pub fn shards(postings: &Postings, shard_bytes: usize) -> Vec<(String, String)> {
    // Entries written in runs of items, each run into one buffer: (keys and where
    // each entry ends, buffer).
    type Run = (Vec<(String, usize)>, Vec<u8>);
    let runs: Vec<Run> = postings
        .items
        .par_chunks(256)
        .map_init(Scratch::new, |scratch, items| {
            let mut buf = Vec::new();
            let keys = items
                .iter()
                .map(|item| (postings.entry(item, scratch, &mut buf), buf.len()))
                .collect();
            (keys, buf)
        })
        .collect();
    let mut shards: Vec<(String, Vec<u8>)> = Vec::new();
    let mut last_key = String::new();
    let mut body: Vec<u8> = Vec::new();
    for (keys, buf) in runs {
        let mut start = 0;
        for (key, end) in keys {
            let entry = &buf[start..end];
            start = end;
            if body.is_empty() {
                // The shortest prefix of the first key that still sorts after the last
                // key of the shard before: the manifest stays small.
                let first = if shards.is_empty() {
                    String::new()
                } else {
                    key.char_indices()
                        .map(|(i, c)| &key[..i + c.len_utf8()])
                        .find(|p| *p > last_key.as_str())
                        .unwrap_or(&key)
                        .to_string()
                };
                shards.push((first, Vec::new()));
                body.reserve(shard_bytes + entry.len());
            } else {
                body.push(b',');
            }
            body.extend_from_slice(entry);
            last_key = key;
            if body.len() >= shard_bytes {
                shards.last_mut().expect("pushed above").1 = std::mem::take(&mut body);
            }
        }
    }
    if !body.is_empty() {
        shards.last_mut().expect("pushed above").1 = body;
    }
    shards
        .into_iter()
        .map(|(key, body)| (key, String::from_utf8(body).unwrap_or_default()))
        .collect()
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[derive(Serialize)]
struct ManifestUnit<'a> {
    id: &'a str,
    name: &'a str,
    depth: usize,
}

#[derive(Serialize)]
struct Manifest<'a> {
    version: u32,
    reports: usize,
    /// The first key of each shard: shard N holds the keys from shards[N] on.
    shards: Vec<&'a str>,
    /// In tree order.
    units: Vec<ManifestUnit<'a>>,
    /// The path of a unit's page, `{id}` standing for its id.
    unit_path: String,
    /// [year, first report, number of reports]; reports are numbered newest first.
    years: Vec<[i64; 3]>,
    /// Digits per report in `index/don-vi.js`.
    unit_digits: usize,
    /// Reports per file of `bai/`: report ID is in `bai/{ID / results_per_file}.js`.
    results_per_file: usize,
}

#[derive(Serialize)]
struct ResultDoc<'a> {
    /// Title, path, date, unit (index into the manifest's units), kind, summary.
    t: &'a str,
    p: String,
    d: String,
    u: usize,
    k: Option<&'a str>,
    s: &'a str,
    /// Authors, documents, tags.
    a: &'a [String],
    v: &'a [String],
    g: &'a [String],
    /// The start of the body as plain text, at most [`SNIPPET_CHARS`] characters.
    b: &'a str,
    /// 1 when `b` is cut short.
    #[serde(skip_serializing_if = "std::ops::Not::not", serialize_with = "as_one")]
    x: bool,
}

fn as_one<S: serde::Serializer>(_: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(1)
}

/// How much of a report's body its result file keeps, in characters, for snippets and
/// the check of quoted phrases: about the first paragraph, where a meeting report says
/// who met, where and why. The rest is in the postings only: a result whose words are
/// further down shows a snippet of its summary (or the start of its body), and a phrase
/// further down is taken on the word of its pairs. Four results to a file
/// ([`RESULTS_PER_FILE`]) with this much each transfer about what one with 1,200
/// characters did.
pub const SNIPPET_CHARS: usize = 400;

/// The first [`SNIPPET_CHARS`] characters of `text`, cut at a space, and whether it is cut.
fn snippet_text(text: &str) -> (&str, bool) {
    let Some((cut, _)) = text.char_indices().nth(SNIPPET_CHARS) else {
        return (text, false);
    };
    let head = &text[..cut];
    (
        head.rfind([' ', '\n']).map_or(head, |space| &head[..space]),
        true,
    )
}

/// The fields of report `i` and the plain text of its body.
fn doc_fields<'a>(site: &'a Site, i: usize, body: &'a str) -> DocText<'a> {
    let e = &site.entries[i];
    let r = &e.report;
    let unit = &site.units.units[r.unit];
    let mut fields = vec![
        (FIELD_TITLE, r.title.as_str()),
        (FIELD_UNIT, unit.name.as_str()),
    ];
    if let Some(short) = &unit.short {
        fields.push((FIELD_UNIT, short));
    }
    for &a in &unit.ancestors {
        fields.push((FIELD_PARENT_UNIT, site.units.units[a].name.as_str()));
    }
    if let Some(kind) = &r.kind {
        fields.push((FIELD_KIND, kind));
    }
    fields.extend(r.documents.iter().map(|d| (FIELD_DOCUMENT, d.as_str())));
    fields.extend(r.tags.iter().map(|t| (FIELD_TAG, t.as_str())));
    fields.extend(r.authors.iter().map(|a| (FIELD_AUTHOR, a.as_str())));
    fields.push((FIELD_SUMMARY, e.summary.as_str()));
    if let Some(location) = &r.location {
        fields.push((FIELD_BODY, location));
    }
    fields.push((FIELD_BODY, body));
    DocText { fields }
}

/// Reports per file of `tim-kiem/bai/`.
pub const RESULTS_PER_FILE: usize = 4;

/// What the result of report `i` shows, appended to its file of `tim-kiem/bai/`.
fn put_result(
    out: &mut Vec<u8>,
    site: &Site,
    i: usize,
    body: &str,
    position: &[usize],
    lang: lang::Language,
) {
    let e = &site.entries[i];
    let r = &e.report;
    let (b, x) = snippet_text(body);
    let doc = ResultDoc {
        t: &r.title,
        p: link(&e.dir, site.config.pretty_links),
        d: lang::date_short(r.date.date_naive(), lang),
        u: position[r.unit],
        k: r.kind.as_deref(),
        s: &e.summary,
        a: &r.authors,
        v: &r.documents,
        g: &r.tags,
        b,
        x,
    };
    out.extend_from_slice(format!("window.bantinSearch.doc({i},").as_bytes());
    if serde_json::to_writer(&mut *out, &doc).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b");\n");
}

/// Every file of the search index (see the module's documentation), in path order.
pub fn index_files(site: &Site) -> Vec<Rendered> {
    let out = std::sync::Mutex::new(Vec::new());
    let _ = index_files_into(site, &|r| {
        out.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        Ok(())
    });
    let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// [`index_files`], each file handed to `sink` as soon as it is made (the result files
/// of a run of reports as soon as the run is indexed, on the thread that indexed it),
/// in no fixed order. Stops at the first error of `sink`.
pub fn index_files_into(
    site: &Site,
    sink: crate::render::Sink,
) -> Result<(), crate::diag::Diagnostic> {
    let pretty = site.config.pretty_links;
    let n = site.entries.len();
    let order = site.units.preorder();
    let mut position = vec![0usize; site.units.units.len()];
    for (p, &u) in order.iter().enumerate() {
        position[u] = p;
    }
    let lang = site.config.language;
    let threads = rayon::current_num_threads().max(1);
    // Runs of about a thousand reports: their tables stay in the caches. A report's
    // plain text is made, indexed and cut for its result file in one go, then dropped.
    // Whole files of results to a run.
    let chunk_len = n
        .div_ceil(threads)
        .clamp(64, 1000)
        .next_multiple_of(RESULTS_PER_FILE);
    let runs: Vec<Result<Chunk, crate::diag::Diagnostic>> = (0..n.div_ceil(chunk_len))
        .into_par_iter()
        .map_init(Spare::default, |spare, c| {
            let run = c * chunk_len..n.min((c + 1) * chunk_len);
            let mut indexer = Indexer::new(run.start as u32, std::mem::take(spare));
            let mut results = Vec::new();
            for i in run.clone() {
                let body = html_text(&site.entries[i].html);
                indexer.add(&doc_fields(site, i, &body));
                put_result(&mut results, site, i, &body, &position, lang);
                if (i + 1) % RESULTS_PER_FILE == 0 || i + 1 == run.end {
                    sink(Rendered {
                        path: format!("tim-kiem/bai/{}.js", i / RESULTS_PER_FILE),
                        bytes: std::mem::take(&mut results),
                    })?;
                }
            }
            let (chunk, left) = indexer.finish();
            *spare = left;
            Ok(chunk)
        })
        .collect();
    let chunks = runs.into_iter().collect::<Result<Vec<Chunk>, _>>()?;
    let shards = shards(&merge(chunks), SHARD_BYTES);
    let units: Vec<ManifestUnit> = order
        .iter()
        .map(|&u| {
            let unit = &site.units.units[u];
            ManifestUnit {
                id: &unit.id,
                name: &unit.name,
                depth: unit.ancestors.len(),
            }
        })
        .collect();
    let mut unit_digits = 1;
    while 32usize.pow(unit_digits as u32) < units.len().max(1) {
        unit_digits += 1;
    }
    let years = site
        .years
        .iter()
        .map(|y| {
            [
                i64::from(y.year),
                y.reports.first().copied().unwrap_or(0) as i64,
                y.reports.len() as i64,
            ]
        })
        .collect();
    let manifest = Manifest {
        version: 4,
        reports: n,
        shards: shards.iter().map(|(k, _)| k.as_str()).collect(),
        units,
        unit_path: link("don-vi/{id}/", pretty),
        years,
        unit_digits,
        results_per_file: RESULTS_PER_FILE,
    };
    sink(Rendered {
        path: "tim-kiem/search-index.js".into(),
        bytes: format!(
            "window.bantinSearchIndex = {};\n",
            serde_json::to_string(&manifest).unwrap_or_else(|_| "{}".into())
        )
        .into_bytes(),
    })?;
    shards
        .par_iter()
        .enumerate()
        .try_for_each(|(i, (_, body))| {
            sink(Rendered {
                path: format!("tim-kiem/index/{i}.js"),
                bytes: format!("window.bantinSearch.add({i},{{{body}}});\n").into_bytes(),
            })
        })?;
    // Fixed-width digits (32 values each, the low digit first) per report.
    let mut unit_of = String::with_capacity(n * unit_digits);
    for e in &site.entries {
        let mut p = position[e.report.unit];
        for _ in 0..unit_digits {
            unit_of.push(DIGITS[p & 31] as char);
            p >>= 5;
        }
    }
    sink(Rendered {
        path: "tim-kiem/index/don-vi.js".into(),
        bytes: format!("window.bantinSearch.unitsOf({{\"units\":\"{unit_of}\"}});\n").into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::encode::{pack, written};
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokens(s)
            .map(|t| t.map_or("<long>".to_string(), lang::fold))
            .collect()
    }

    #[test]
    fn syllables_fold_without_marks_and_keep_codes_apart() {
        assert_eq!(
            toks("Hội nghị sơ kết Đảng ủy, 35-NQ/TW; 01-CT/ĐUK 19.040"),
            [
                "hoi", "nghi", "so", "ket", "dang", "uy", "35", "nq", "tw", "01", "ct", "duk",
                "19", "040"
            ]
        );
        // Decomposed input (marks as separate code points) gives the same syllables.
        let decomposed: String = "Càng Long hoà".nfd().collect();
        assert_eq!(toks(&decomposed), ["cang", "long", "hoa"]);
        let long = "x".repeat(MAX_TOKEN_CHARS + 1);
        assert_eq!(toks(&format!("a {long} b")), ["a", "<long>", "b"]);
    }

    #[test]
    fn spellings_ignore_tone_placement_and_case() {
        assert_eq!(variant("hoà"), variant("hòa"));
        assert_eq!(variant("Hoà"), "hoa1");
        assert_eq!(variant("Đảng"), "đang2");
        assert_eq!(variant("dang"), "dang");
        assert_ne!(variant("đảng"), variant("dạng"));
        let decomposed: String = "Thủy".nfd().collect();
        assert_eq!(variant(&decomposed), variant("Thuỷ"));
        assert_eq!(lang::fold("Thuỷ"), lang::fold("thủy"));
    }

    fn enc(list: &[(u32, u16)]) -> String {
        let mut s = Vec::new();
        let part: Vec<u32> = list
            .iter()
            .map(|&(d, p)| (d << WRITTEN_BITS) | written(p))
            .collect();
        encode_postings(&mut s, [(0, &part[..])].into_iter(), &mut Scratch::new());
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn postings_round_trip() {
        // Many distinct values (past the 31 of one digit), large gaps.
        let list: Vec<(u32, u16)> = (0..200u32)
            .map(|i| (i * i * 7, pack((i % 64) as u16 + 1, i % 17)))
            .chain([(1_000_000, pack(FIELD_AUTHOR | FIELD_BODY, 40))])
            .collect();
        let s = enc(&list);
        assert!(s.bytes().all(|b| DIGITS.contains(&b)));
        let expected: Vec<(u32, u32)> = list.iter().map(|&(d, p)| (d, written(p))).collect();
        assert_eq!(decode_postings(&s), expected);
        // A word in the body of every report, once or twice: the two values, then one
        // digit per report.
        let dense: Vec<(u32, u16)> = (0..100).map(|i| (i, pack(FIELD_BODY, 1 + i % 2))).collect();
        // (3 digits of values, 3 of layout and span, 2 bits per report).
        assert_eq!(enc(&dense).len(), 3 + 3 + 34);
        assert_eq!(
            decode_postings(&enc(&dense)),
            dense
                .iter()
                .map(|&(d, p)| (d, written(p)))
                .collect::<Vec<_>>()
        );
        // Dense with one value (a bit per report), and with escapes for rarer values.
        for values in [1u32, 2, 3, 4, 7, 9, 40] {
            let list: Vec<(u32, u16)> = (5..2000u32)
                .filter(|i| i % 7 != 3)
                .map(|i| {
                    let v = if i % 11 == 0 { i % values } else { 0 };
                    (i, pack(FIELD_BODY << (v % 9), 1 + v / 9))
                })
                .collect();
            let s = enc(&list);
            let expected: Vec<(u32, u32)> = list.iter().map(|&(d, p)| (d, written(p))).collect();
            assert_eq!(decode_postings(&s), expected, "{values} values");
            assert!(
                s.len() < list.len() * 2 / 3,
                "{values} values: {} digits",
                s.len()
            );
        }
        assert_eq!(written(pack(FIELD_TITLE, 5)), (FIELD_TITLE as u32) << 2 | 2);
    }

    #[test]
    fn html_to_text() {
        assert_eq!(
            html_text("<h2 id=\"a\">Kết quả</h2>\n<p>Có <strong>4.944</strong> lượt &amp; 5&lt;6 &#39;x&#x27;</p><ul><li>một</li><li>hai</li></ul><script>var x;</script>"),
            "Kết quả\nCó 4.944 lượt & 5<6 'x'\nmột\nhai"
        );
        // A block's end is a line break, white space beside it or not.
        assert_eq!(html_text("<p>a </p> <p> b<br>c</p>"), "a\nb\nc");
        assert_eq!(html_text("a &bogus; b & c"), "a &bogus; b & c");
        // Long runs (read eight bytes at a time) ending at every offset.
        for k in 0..20 {
            let run = "Nghị quyết".repeat(3);
            let cut = run.char_indices().nth(k).map_or(run.len(), |(i, _)| i);
            let (a, b) = run.split_at(cut);
            let words = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(
                html_text(&format!("<p>{a}<br>{b}</p>")),
                [words(a.to_string()), words(b.to_string())]
                    .into_iter()
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            assert_eq!(
                html_text(&format!("{a}\t\n{b}  x")),
                words(format!("{a} {b} x"))
            );
            assert_eq!(
                html_text(&format!("{a}&amp;{b}\u{1}")),
                format!("{a}&{b}\u{1}")
            );
        }
    }

    fn sample_docs() -> Vec<(String, String, String)> {
        (0..300)
            .map(|i| {
                (
                    format!("Hội nghị sơ kết số {i} Nghị quyết 35-NQ/TW"),
                    if i % 3 == 0 {
                        "Huyện ủy Càng Long"
                    } else {
                        "Đảng ủy xã Hoà Bình"
                    }
                    .to_string(),
                    format!(
                        "Ngày {i}, đảng ủy hòa bình tổ chức hội nghị. Dạng {} đang đăng.",
                        i * 7
                    ),
                )
            })
            .collect()
    }

    fn index_of(docs: &[(String, String, String)], chunk: usize) -> Vec<(String, String)> {
        let texts: Vec<DocText> = docs
            .iter()
            .map(|(t, u, b)| DocText {
                fields: vec![(FIELD_TITLE, t), (FIELD_UNIT, u), (FIELD_BODY, b)],
            })
            .collect();
        shards(&postings(&texts, chunk), 512)
    }

    #[test]
    fn the_index_is_the_same_whatever_the_threads() {
        let docs = sample_docs();
        let one = index_of(&docs, 1000);
        assert!(one.len() > 3, "several shards: {}", one.len());
        assert_eq!(one, index_of(&docs, 7));
        assert_eq!(one, index_of(&docs, 64));
        // Shard keys are sorted, the first is empty, and each shard starts at or after its key.
        assert_eq!(one[0].0, "");
        for w in one.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
    }

    #[test]
    fn postings_hold_fields_spellings_and_pairs() {
        let docs = sample_docs();
        let texts: Vec<DocText> = docs
            .iter()
            .map(|(t, u, b)| DocText {
                fields: vec![(FIELD_TITLE, t), (FIELD_UNIT, u), (FIELD_BODY, b)],
            })
            .collect();
        let p = postings(&texts, 50);
        let hoa = p.word("hoa");
        // "Hoà" in the unit and "hòa" in the body are one spelling.
        let list = &hoa["hoa1"];
        assert_eq!(list.len(), 300);
        assert_eq!(list[0], (0, written(pack(FIELD_BODY, 1))));
        assert_eq!(list[1], (1, written(pack(FIELD_BODY | FIELD_UNIT, 2))));
        let dang = p.word("dang");
        assert_eq!(
            dang.keys().collect::<Vec<_>>(),
            ["dang5", "đang", "đang2", "đăng"]
        );
        // Pairs: within a field only, in order.
        assert_eq!(p.pair("cang", "long").len(), 100);
        assert_eq!(p.pair("35", "nq").len(), 300);
        assert_eq!(p.pair("nq", "tw")[0], (0, written(pack(FIELD_TITLE, 1))));
        assert!(p.pair("tw", "huyen").is_empty());
        // Keys in order, each once; reports ascending in every list.
        let keys = p.keys();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        for key in &keys {
            let lists: Vec<Vec<(u32, u32)>> = match key.split_once(' ') {
                Some((a, b)) => vec![p.pair(a, b)],
                None => p.word(key).into_values().collect(),
            };
            for l in lists {
                assert!(
                    !l.is_empty() && l.windows(2).all(|x| x[0].0 < x[1].0),
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn pairs_end_where_blocks_end() {
        let body = html_text(
            "<h2>Kết luận</h2><p>Đồng chí nói: xấu, độc. Sau đó TP.HCM chi 1,5 tỷ \
             (35-NQ/TW).</p><ul><li>một</li><li>hai</li></ul>",
        );
        let texts = [DocText {
            fields: vec![(FIELD_TITLE, "Chào,\nmừng"), (FIELD_BODY, &body)],
        }];
        let p = postings(&texts, 1);
        for (a, b) in [
            ("ket", "luan"),
            ("noi", "xau"),
            ("xau", "doc"),
            ("doc", "sau"),
            ("tp", "hcm"),
            ("1", "5"),
            ("ty", "35"),
            ("nq", "tw"),
        ] {
            assert_eq!(p.pair(a, b).len(), 1, "{a} {b}");
        }
        for (a, b) in [
            ("luan", "dong"),
            ("tw", "mot"),
            ("mot", "hai"),
            ("chao", "mung"),
        ] {
            assert!(p.pair(a, b).is_empty(), "{a} {b}");
        }
        assert!(breaks_pair("\n") && breaks_pair(" \n "));
        assert!(!breaks_pair(" ") && !breaks_pair(", ") && !breaks_pair(". “"));
    }
}

/// Times the index of a built site, not run by default:
/// `BANTIN_INDEX_ROOT=DIR cargo test --release --lib search::timing -- --ignored --nocapture`.
#[cfg(test)]
mod timing {
    #[test]
    #[ignore]
    fn time_index_files() {
        let root = std::path::PathBuf::from(
            std::env::var("BANTIN_INDEX_ROOT").expect("BANTIN_INDEX_ROOT"),
        );
        let options = crate::BuildOptions::default();
        let site = crate::on_render_threads(|| {
            let source = crate::load::load(&root).expect("load");
            crate::site::Site::build(source, &options).expect("site")
        });
        let counts: Vec<usize> = match std::env::var("BANTIN_INDEX_THREADS") {
            Ok(t) => vec![t.parse().expect("a number")],
            Err(_) => vec![1, 2],
        };
        for threads in counts {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut times = Vec::new();
            let mut bytes = 0;
            let mut files = 0;
            // CPU time of the process (user + system, in clock ticks of 10 ms), in ms:
            // less noisy than wall time on a shared machine.
            let cpu = || {
                let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
                let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
                let f: Vec<f64> = after
                    .split_whitespace()
                    .map(|x| x.parse().unwrap_or(0.0))
                    .collect();
                (f[11] + f[12]) * 10.0
            };
            let mut cpus = Vec::new();
            let runs: usize =
                std::env::var("BANTIN_INDEX_RUNS").map_or(5, |r| r.parse().expect("a number"));
            for _ in 0..runs {
                let t = std::time::Instant::now();
                let c = cpu();
                let out = pool.install(|| super::index_files(&site));
                cpus.push(cpu() - c);
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                bytes = out.iter().map(|r| r.bytes.len()).sum::<usize>();
                files = out.len();
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            cpus.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!("{threads} threads: min {:.0} ms, median {:.0} ms, CPU min {:.0} ms median {:.0} ms; {files} files, {bytes} bytes", times[0], times[runs / 2], cpus[0], cpus[runs / 2]);
        }
    }
}
