//! Vietnamese language helpers: Unicode normalization, slugs, search folding,
//! Vietnamese alphabetical order and date formatting.
//!
//! Everything here is allocation-light: `nfc`, `slugify` and `fold` allocate
//! only their output (plus an NFC pass when the input is not already NFC),
//! `collation_key` allocates only the key, and `compare` allocates nothing once
//! its per-thread scratch buffers have grown.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate, Weekday};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// The interface language of a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Vi,
    En,
}

// ---------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------

/// NFC without allocating when the input is already NFC.
fn nfc_cow(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || matches!(is_nfc_quick(s.chars()), IsNormalized::Yes) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// Unicode NFC. Cheap when the input is already NFC (one copy, no
/// normalization work).
pub fn nfc(s: &str) -> String {
    nfc_cow(s).into_owned()
}

// Combining marks used by Vietnamese.
const GRAVE: char = '\u{300}'; // huyền
const ACUTE: char = '\u{301}'; // sắc
const CIRCUMFLEX: char = '\u{302}'; // â ê ô
const TILDE: char = '\u{303}'; // ngã
const BREVE: char = '\u{306}'; // ă
const HOOK_ABOVE: char = '\u{309}'; // hỏi
const HORN: char = '\u{31B}'; // ơ ư
const DOT_BELOW: char = '\u{323}'; // nặng

/// Tone rank of a combining mark: 0 none (not a tone mark), then huyền, hỏi,
/// ngã, sắc, nặng.
#[inline]
fn tone_of(mark: char) -> u8 {
    match mark {
        GRAVE | '\u{340}' => 1,
        HOOK_ABOVE => 2,
        TILDE => 3,
        ACUTE | '\u{341}' => 4,
        DOT_BELOW => 5,
        _ => 0,
    }
}

/// Combining diacritical marks block (what `fold` and `slugify` drop).
#[inline]
fn is_basic_mark(c: char) -> bool {
    ('\u{300}'..='\u{36F}').contains(&c)
}

/// Invisible format characters that editors paste inside words (soft hyphen,
/// zero-width space/joiners, direction marks, word joiner, BOM). Slugs and
/// collation skip them instead of treating them as word separators.
#[inline]
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

// ---------------------------------------------------------------------------
// Slugs and search folding
// ---------------------------------------------------------------------------

/// Contract slug: lower-case ASCII `[a-z0-9-]`, words joined by single `-`,
/// no leading/trailing `-`. Vietnamese marks removed, `đ`/`Đ` -> `d`; other
/// letters and digits are transliterated with deunicode; anything else is a
/// separator. May return `""` (e.g. for `"!!!"`). At most [`MAX_SLUG_LEN`] bytes: a
/// longer one is cut at a word boundary.
pub fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_sep = false;

    #[inline]
    fn push(out: &mut String, pending_sep: &mut bool, b: u8) {
        if *pending_sep && !out.is_empty() {
            out.push('-');
        }
        *pending_sep = false;
        out.push(b.to_ascii_lowercase() as char);
    }

    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                push(&mut out, &mut pending_sep, c as u8);
            } else {
                pending_sep = true;
            }
            continue;
        }
        if is_basic_mark(c) || is_ignorable(c) {
            continue;
        }
        if c == 'đ' || c == 'Đ' {
            push(&mut out, &mut pending_sep, b'd');
            continue;
        }
        if let Some(b) = latin_base(c) {
            push(&mut out, &mut pending_sep, b);
            continue;
        }
        if c.is_alphanumeric() || is_combining_mark(c) {
            // Transliterated in its canonical decomposition, so that text read as NFC
            // or NFD gets one slug: some characters decompose to another one alone
            // (U+F900 豈 is U+8C48 豈), and the two transliterate apart.
            unicode_normalization::char::decompose_canonical(c, |d| {
                if is_basic_mark(d) {
                    return;
                }
                match deunicode::deunicode_char(d) {
                    Some(t) => {
                        for b in t.bytes() {
                            if b.is_ascii_alphanumeric() {
                                push(&mut out, &mut pending_sep, b);
                            } else {
                                pending_sep = true;
                            }
                        }
                    }
                    None => pending_sep = true,
                }
            });
        } else {
            pending_sep = true;
        }
    }
    cut_slug(&mut out);
    out
}

/// The longest slug, in bytes. Slugs name folders of the output (`2023/09/SLUG/`,
/// `chu-de/SLUG/`), and file systems refuse names longer than 255 bytes; a 100,000
/// character title still gets a page.
pub const MAX_SLUG_LEN: usize = 200;

/// Cuts a slug to [`MAX_SLUG_LEN`] bytes, at the last `-` of its second half if there
/// is one; never leaves a `-` at the end.
fn cut_slug(slug: &mut String) {
    if slug.len() <= MAX_SLUG_LEN {
        return;
    }
    let mut end = MAX_SLUG_LEN;
    if slug.as_bytes()[end] != b'-' {
        if let Some(i) = slug[..end].rfind('-').filter(|&i| i >= MAX_SLUG_LEN / 2) {
            end = i;
        }
    }
    slug.truncate(end);
    while slug.ends_with('-') {
        slug.pop();
    }
}

/// The ASCII letter under a precomposed Latin letter whose canonical
/// decomposition is that letter plus marks from U+0300..U+036F (all
/// Vietnamese letters but đ). A fast path before deunicode.
#[inline]
fn latin_base(c: char) -> Option<u8> {
    if !matches!(c, '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}') {
        return None;
    }
    let mut base = None;
    let mut first = true;
    let mut marks_ok = true;
    decompose_canonical(c, |d| {
        if first {
            first = false;
            if d.is_ascii_alphabetic() {
                base = Some(d as u8);
            }
        } else if !is_basic_mark(d) {
            marks_ok = false;
        }
    });
    base.filter(|_| marks_ok)
}

/// Fold for search: lower case, marks removed, `đ` -> `d`; spaces and
/// punctuation are kept. `"Đảng ủy"` -> `"dang uy"`.
///
/// Exactly: canonical decomposition, drop U+0300..U+036F, `đ`/`Đ` -> `d`,
/// lower case, then NFC. The JavaScript equivalent is
/// `s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
/// .toLowerCase().normalize("NFC")`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut ascii = true;
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if c == 'đ' || c == 'Đ' {
            out.push('d');
            continue;
        }
        decompose_canonical(c, |d| {
            if is_basic_mark(d) {
                return;
            }
            if d.is_ascii() {
                out.push(d.to_ascii_lowercase());
            } else {
                ascii = false;
                out.extend(d.to_lowercase());
            }
        });
    }
    if ascii {
        out
    } else {
        match nfc_cow(&out) {
            Cow::Borrowed(_) => out,
            Cow::Owned(n) => n,
        }
    }
}

// ---------------------------------------------------------------------------
// Collation
// ---------------------------------------------------------------------------

/// A sort key for Vietnamese alphabetical order; `Ord` on the key gives the
/// order.
///
/// Layout (bytes, compared lexicographically): primary weights, `0`,
/// secondary (one tone per word), `0`, tertiary (case per letter), `0`, then
/// the raw UTF-8 bytes of the input as the final tie-break. Each level's
/// element code is prefix-free and starts with a non-zero byte, so comparing
/// the bytes compares level by level.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CollationKey(Box<[u8]>);

// Primary weights.
const P_SEP: u8 = 1; // a run of spaces/punctuation between words
const P_NUM: u8 = 2; // then a length byte (or 255 + u32 BE), then ASCII digits
const P_LETTER: u8 = 3; // 3 ..= 35: the letters below
const P_OTHER: u8 = 0xFF; // then the code point, 3 bytes big-endian

/// Letter indices in the Vietnamese alphabet order extended with f j w z:
/// a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z.
const IDX_A_BREVE: u8 = 1;
const IDX_A_CIRC: u8 = 2;
const IDX_D_STROKE: u8 = 6;
const IDX_E_CIRC: u8 = 8;
const IDX_O_CIRC: u8 = 19;
const IDX_O_HORN: u8 = 20;
const IDX_U_HORN: u8 = 27;
const ASCII_INDEX: [u8; 26] = [
    0,  // a
    3,  // b
    4,  // c
    5,  // d
    7,  // e
    9,  // f
    10, // g
    11, // h
    12, // i
    13, // j
    14, // k
    15, // l
    16, // m
    17, // n
    18, // o
    21, // p
    22, // q
    23, // r
    24, // s
    25, // t
    26, // u
    28, // v
    29, // w
    30, // x
    31, // y
    32, // z
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Letter {
    /// Index in the extended Vietnamese alphabet (0..=32).
    index: u8,
    /// 0 none, 1 huyền, 2 hỏi, 3 ngã, 4 sắc, 5 nặng.
    tone: u8,
    upper: bool,
}

#[inline]
fn ascii_letter(b: u8) -> Option<Letter> {
    if b.is_ascii_alphabetic() {
        Some(Letter {
            index: ASCII_INDEX[(b.to_ascii_lowercase() - b'a') as usize],
            tone: 0,
            upper: b.is_ascii_uppercase(),
        })
    } else {
        None
    }
}

/// A Latin letter with its Vietnamese letter identity and tone, for ASCII
/// letters, `đ`/`Đ` and precomposed Latin letters whose canonical
/// decomposition starts with an ASCII letter (all Vietnamese letters, and
/// é ü ñ ç ... whose non-Vietnamese marks are ignored).
fn latin_letter(c: char) -> Option<Letter> {
    if c.is_ascii() {
        return ascii_letter(c as u8);
    }
    match c {
        'đ' => {
            return Some(Letter {
                index: IDX_D_STROKE,
                tone: 0,
                upper: false,
            })
        }
        'Đ' => {
            return Some(Letter {
                index: IDX_D_STROKE,
                tone: 0,
                upper: true,
            })
        }
        '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => {}
        _ => return None,
    }
    let mut base = 0u8;
    let mut first = true;
    let (mut breve, mut circ, mut horn, mut tone) = (false, false, false, 0u8);
    decompose_canonical(c, |d| {
        if first {
            first = false;
            if d.is_ascii_alphabetic() {
                base = d as u8;
            }
            return;
        }
        match d {
            BREVE => breve = true,
            CIRCUMFLEX => circ = true,
            HORN => horn = true,
            _ => {
                if tone == 0 {
                    tone = tone_of(d);
                }
            }
        }
    });
    if base == 0 {
        return None;
    }
    let lower = base.to_ascii_lowercase();
    let index = match lower {
        b'a' if breve => IDX_A_BREVE,
        b'a' if circ => IDX_A_CIRC,
        b'e' if circ => IDX_E_CIRC,
        b'o' if circ => IDX_O_CIRC,
        b'o' if horn => IDX_O_HORN,
        b'u' if horn => IDX_U_HORN,
        _ => ASCII_INDEX[(lower - b'a') as usize],
    };
    Some(Letter {
        index,
        tone,
        upper: base.is_ascii_uppercase(),
    })
}

/// Reusable buffers for the three collation levels.
#[derive(Default)]
struct Bufs {
    primary: Vec<u8>,
    secondary: Vec<u8>,
    tertiary: Vec<u8>,
}

/// Builds the three collation levels of one string, one step (a character
/// or a run of digits) at a time, so that `compare` can stop at the first
/// primary difference. The primary level is only ever appended to.
struct Levels<'a> {
    text: Cow<'a, str>,
    pos: usize,
    primary: &'a mut Vec<u8>,
    secondary: &'a mut Vec<u8>,
    tertiary: &'a mut Vec<u8>,
    pending_sep: bool,
    in_word: bool,
    word_tone: u8,
}

impl<'a> Levels<'a> {
    /// Starts on `s` (any normalization form), clearing the buffers.
    fn new(s: &'a str, bufs: &'a mut Bufs) -> Self {
        bufs.primary.clear();
        bufs.secondary.clear();
        bufs.tertiary.clear();
        Levels {
            text: nfc_cow(s),
            pos: 0,
            primary: &mut bufs.primary,
            secondary: &mut bufs.secondary,
            tertiary: &mut bufs.tertiary,
            pending_sep: false,
            in_word: false,
            word_tone: 0,
        }
    }

    #[inline]
    fn separator(&mut self) {
        self.end_word();
        if !self.primary.is_empty() {
            self.pending_sep = true;
        }
    }

    #[inline]
    fn flush_sep(&mut self) {
        if self.pending_sep {
            self.primary.push(P_SEP);
            self.pending_sep = false;
        }
    }

    #[inline]
    fn end_word(&mut self) {
        if self.in_word {
            self.secondary.push(self.word_tone + 1);
            self.in_word = false;
            self.word_tone = 0;
        }
    }

    #[inline]
    fn tone(&mut self, tone: u8) {
        if self.in_word && self.word_tone == 0 {
            self.word_tone = tone;
        }
    }

    #[inline]
    fn letter(&mut self, l: Letter) {
        self.flush_sep();
        self.in_word = true;
        self.tone(l.tone);
        self.primary.push(P_LETTER + l.index);
        self.tertiary.push(1 + u8::from(l.upper));
    }

    #[inline]
    fn other(&mut self, c: char) {
        self.flush_sep();
        self.in_word = true;
        // Case-insensitive at the primary level: a letter with a one-char
        // lower case sorts as that.
        let mut lower = c.to_lowercase();
        let base = match (lower.next(), lower.next()) {
            (Some(l), None) => l,
            _ => c,
        };
        let [_, hi, mid, lo] = (base as u32).to_be_bytes();
        self.primary.extend_from_slice(&[P_OTHER, hi, mid, lo]);
        self.tertiary.push(1 + u8::from(c.is_uppercase()));
    }

    /// The run of ASCII digits `text[start..end]`, compared by numeric value.
    fn number(&mut self, start: usize, end: usize) {
        self.end_word();
        self.flush_sep();
        let digits = &self.text.as_bytes()[start..end];
        let zeros = digits.iter().take_while(|&&d| d == b'0').count();
        let digits = &digits[zeros.min(digits.len() - 1)..];
        self.primary.push(P_NUM);
        match u8::try_from(digits.len()) {
            Ok(len) if len < 255 => self.primary.push(len),
            _ => {
                self.primary.push(255);
                let len = u32::try_from(digits.len()).unwrap_or(u32::MAX);
                self.primary.extend_from_slice(&len.to_be_bytes());
            }
        }
        self.primary.extend_from_slice(digits);
    }

    /// Processes one character or run of digits; false at the end.
    fn step(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let Some(&b) = bytes.get(self.pos) else {
            return false;
        };
        if b.is_ascii_digit() {
            let start = self.pos;
            let run = bytes[start..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            self.pos += run;
            self.number(start, start + run);
            return true;
        }
        if b.is_ascii() {
            self.pos += 1;
            match ascii_letter(b) {
                Some(l) => self.letter(l),
                None => self.separator(),
            }
            return true;
        }
        let c = self.text[self.pos..].chars().next().unwrap_or('\u{FFFD}');
        self.pos += c.len_utf8();
        self.non_ascii(c);
        true
    }

    fn non_ascii(&mut self, c: char) {
        if is_ignorable(c) {
            return;
        }
        if let Some(l) = latin_letter(c) {
            self.letter(l);
            return;
        }
        let tone = tone_of(c);
        if tone != 0 {
            // A tone mark that did not compose with its letter.
            self.tone(tone);
            return;
        }
        if c.is_alphanumeric() {
            // Latin letters without a decomposition (ø ß æ ł ...) sort as
            // their transliteration; other scripts by code point after z.
            let translit = match c {
                '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => deunicode::deunicode_char(c)
                    .filter(|t| !t.is_empty() && t.len() <= 3)
                    .filter(|t| t.bytes().all(|b| b.is_ascii_alphabetic())),
                _ => None,
            };
            match translit {
                Some(t) => {
                    let upper = c.is_uppercase();
                    for b in t.bytes() {
                        if let Some(l) = ascii_letter(b) {
                            self.letter(Letter { upper, ..l });
                        }
                    }
                }
                None => self.other(c),
            }
        } else if !is_combining_mark(c) {
            self.separator();
        }
        // Other combining marks are ignored (the raw tie-break sees them).
    }

    /// Processes the rest of the text.
    fn run(&mut self) {
        while self.step() {}
        self.end_word();
    }

    /// Processes the rest of the text and leaves the whole key but the raw
    /// tie-break in the primary buffer: primary, 0, secondary, 0, tertiary, 0.
    fn finish(mut self) {
        self.run();
        self.primary.push(0);
        self.primary.extend_from_slice(self.secondary);
        self.primary.push(0);
        self.primary.extend_from_slice(self.tertiary);
        self.primary.push(0);
    }
}

#[derive(Default)]
struct Scratch {
    a: Bufs,
    b: Bufs,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The sort key of `s` in Vietnamese alphabetical order: letters in the
/// order a ă â b c d đ e ê (f) g h i (j) k l m n o ô ơ p q r s t u ư v (w) x
/// y (z); runs of digits by numeric value; spaces and punctuation as word
/// separators sorting before any letter or digit; then tones per word (none,
/// huyền, hỏi, ngã, sắc, nặng); then case (lower first); then the raw string.
///
/// For sorting many items use `sort_by_cached_key(|x| collation_key(..))`.
pub fn collation_key(s: &str) -> CollationKey {
    SCRATCH.with(|scratch| {
        let bufs = &mut scratch.borrow_mut().a;
        Levels::new(s, bufs).finish();
        let mut key = Vec::with_capacity(bufs.primary.len() + s.len());
        key.extend_from_slice(&bufs.primary);
        key.extend_from_slice(s.as_bytes());
        CollationKey(key.into_boxed_slice())
    })
}

/// Compares two strings in Vietnamese alphabetical order; the same as
/// comparing their collation keys, without allocating, and stopping at the
/// first primary difference.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    SCRATCH.with(|scratch| {
        let scratch = &mut *scratch.borrow_mut();
        // Skip the longest common prefix that ends with a separator: it gives
        // both strings the same leading weights at every level, and the state
        // after a separator is known (no word or number is open, a separator
        // is pending if anything came before it). '<', '=' and '>' are not
        // cut points: they compose with U+0338.
        let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let cut = a.as_bytes()[..common]
            .iter()
            .rposition(|&c| {
                c.is_ascii() && !c.is_ascii_alphanumeric() && !matches!(c, b'<' | b'=' | b'>')
            })
            .map_or(0, |p| p + 1);
        let before = a[..cut].chars().any(char::is_alphanumeric);
        let mut la = Levels::new(&a[cut..], &mut scratch.a);
        let mut lb = Levels::new(&b[cut..], &mut scratch.b);
        la.pending_sep = before;
        lb.pending_sep = before;
        // The primary levels only grow, so a difference in their common
        // prefix is final.
        let mut checked = 0;
        loop {
            let more = la.step() & lb.step();
            let n = la.primary.len().min(lb.primary.len());
            while checked < n {
                let (x, y) = (la.primary[checked], lb.primary[checked]);
                if x != y {
                    return x.cmp(&y);
                }
                checked += 1;
            }
            if !more {
                break;
            }
        }
        la.finish();
        lb.finish();
        scratch
            .a
            .primary
            .cmp(&scratch.b.primary)
            .then_with(|| a.as_bytes().cmp(b.as_bytes()))
    })
}

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn weekday_name(w: Weekday, lang: Language) -> &'static str {
    match lang {
        Language::Vi => match w {
            Weekday::Mon => "Thứ Hai",
            Weekday::Tue => "Thứ Ba",
            Weekday::Wed => "Thứ Tư",
            Weekday::Thu => "Thứ Năm",
            Weekday::Fri => "Thứ Sáu",
            Weekday::Sat => "Thứ Bảy",
            Weekday::Sun => "Chủ Nhật",
        },
        Language::En => match w {
            Weekday::Mon => "Monday",
            Weekday::Tue => "Tuesday",
            Weekday::Wed => "Wednesday",
            Weekday::Thu => "Thursday",
            Weekday::Fri => "Friday",
            Weekday::Sat => "Saturday",
            Weekday::Sun => "Sunday",
        },
    }
}

fn month_en(month: u32) -> Option<&'static str> {
    MONTHS_EN.get(month.checked_sub(1)? as usize).copied()
}

/// `"Thứ Ba, 28/12/2021"` (vi) / `"Tuesday, 28 December 2021"` (en).
/// Vietnamese day and month are zero-padded to two digits.
pub fn date_long(d: NaiveDate, lang: Language) -> String {
    let weekday = weekday_name(d.weekday(), lang);
    match lang {
        Language::Vi => format!("{weekday}, {}", date_short(d, lang)),
        Language::En => format!(
            "{weekday}, {} {} {}",
            d.day(),
            month_en(d.month()).unwrap_or_default(),
            d.year()
        ),
    }
}

/// `"28/12/2021"` (vi, zero-padded) / `"28 Dec 2021"` (en).
pub fn date_short(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::Vi => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
        Language::En => {
            let month = month_en(d.month()).unwrap_or_default();
            format!("{} {} {}", d.day(), &month[..month.len().min(3)], d.year())
        }
    }
}

/// `"Tháng 9/2023"` (vi) / `"September 2023"` (en).
pub fn month_label(year: i32, month: u32, lang: Language) -> String {
    match lang {
        Language::Vi => format!("Tháng {month}/{year}"),
        Language::En => format!("{} {year}", month_name(month, lang)),
    }
}

/// `"Tháng 9"` (vi) / `"September"` (en). An out-of-range month gives
/// `"Tháng 13"` / `"13"` rather than panicking.
pub fn month_name(month: u32, lang: Language) -> String {
    match lang {
        Language::Vi => format!("Tháng {month}"),
        Language::En => match month_en(month) {
            Some(name) => name.to_owned(),
            None => month.to_string(),
        },
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(s: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut bufs = Bufs::default();
        Levels::new(s, &mut bufs).run();
        (bufs.primary, bufs.secondary, bufs.tertiary)
    }

    /// Asserts that the list is strictly increasing, both via keys and via
    /// `compare`, and that sorting a reversed copy gives it back.
    fn assert_order(list: &[&str]) {
        for w in list.windows(2) {
            assert_eq!(
                compare(w[0], w[1]),
                Ordering::Less,
                "{:?} < {:?}",
                w[0],
                w[1]
            );
            assert_eq!(compare(w[1], w[0]), Ordering::Greater);
            assert!(
                collation_key(w[0]) < collation_key(w[1]),
                "{:?} < {:?}",
                w[0],
                w[1]
            );
        }
        let mut v: Vec<&str> = list.iter().rev().copied().collect();
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v, list);
        let mut v: Vec<&str> = list.iter().rev().copied().collect();
        v.sort_by_cached_key(|s| collation_key(s));
        assert_eq!(v, list);
    }

    const NFD_HOA_BINH: &str = "Ho\u{300}a Bi\u{300}nh";

    // ----- Language -----

    #[test]
    fn language_default_and_serde() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::Deserialize;
        assert_eq!(Language::default(), Language::Vi);
        let vi = Language::deserialize(StrDeserializer::<Error>::new("vi")).unwrap();
        let en = Language::deserialize(StrDeserializer::<Error>::new("en")).unwrap();
        assert_eq!((vi, en), (Language::Vi, Language::En));
        assert!(Language::deserialize(StrDeserializer::<Error>::new("Vi")).is_err());
        assert!(Language::deserialize(StrDeserializer::<Error>::new("fr")).is_err());
    }

    // ----- nfc -----

    #[test]
    fn nfc_composes_and_keeps() {
        assert_eq!(nfc(""), "");
        assert_eq!(nfc("abc 123"), "abc 123");
        assert_eq!(nfc("Hội nghị"), "Hội nghị");
        assert_eq!(nfc(NFD_HOA_BINH), "Hòa Bình");
        // ệ decomposed with the marks in either order.
        assert_eq!(nfc("e\u{302}\u{323}"), "ệ");
        assert_eq!(nfc("e\u{323}\u{302}"), "ệ");
        // Old tone placement is a spelling, not a normalization difference.
        assert_eq!(nfc("hoà"), "hoà");
        assert_ne!(nfc("hoà"), nfc("hòa"));
        assert!(matches!(nfc_cow("Đảng ủy"), Cow::Borrowed(_)));
        assert!(matches!(nfc_cow(NFD_HOA_BINH), Cow::Owned(_)));
    }

    // ----- slugify -----

    #[test]
    fn slug_examples() {
        assert_eq!(
            slugify("Hội nghị sơ kết Đảng ủy"),
            "hoi-nghi-so-ket-dang-uy"
        );
        assert_eq!(slugify("35-NQ/TW"), "35-nq-tw");
        assert_eq!(slugify("Hoà Bình"), "hoa-binh");
        assert_eq!(slugify("Hòa Bình"), "hoa-binh");
        assert_eq!(slugify(NFD_HOA_BINH), "hoa-binh");
        assert_eq!(slugify("ĐẠI HỘI ĐẢNG BỘ"), "dai-hoi-dang-bo");
        assert_eq!(slugify("Quyết định 144-QĐ/TW"), "quyet-dinh-144-qd-tw");
        assert_eq!(
            slugify("Nghị quyết số 35-NQ/TW, ngày 22/10/2018"),
            "nghi-quyet-so-35-nq-tw-ngay-22-10-2018"
        );
        assert_eq!(slugify("Thư ngỏ"), "thu-ngo");
        assert_eq!(slugify("Trường Sa – Hoàng Sa"), "truong-sa-hoang-sa");
        assert_eq!(slugify("“Dân vận khéo”"), "dan-van-kheo");
    }

    #[test]
    fn slug_separators_and_empty() {
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify("  --  "), "");
        assert_eq!(slugify("🎉🎉"), "");
        assert_eq!(slugify("  a  b  "), "a-b");
        assert_eq!(slugify("a---b"), "a-b");
        assert_eq!(slugify("--a--"), "a");
        assert_eq!(slugify("a.b/c\\d"), "a-b-c-d");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("a\u{a0}b\tc\nd"), "a-b-c-d");
        assert_eq!(slugify("Hà\u{AD}Nội\u{200B}"), "hanoi");
        assert_eq!(slugify("ABC_def"), "abc-def");
    }

    #[test]
    fn slug_of_a_character_that_decomposes_to_another() {
        // U+F900 is U+8C48 in NFC and NFD alike; deunicode reads them apart.
        assert_eq!(slugify("\u{F900}"), slugify("\u{8C48}"));
        assert_eq!(slugify("Ω \u{2126}"), slugify("Ω Ω"));
    }

    #[test]
    fn slug_other_scripts() {
        assert_eq!(slugify("北京"), "bei-jing");
        assert_eq!(slugify("Москва"), "moskva");
        assert_eq!(slugify("Straße"), "strasse");
        assert_eq!(slugify("Øresund Łódź"), "oresund-lodz");
        assert_eq!(slugify("café crème"), "cafe-creme");
        assert_eq!(slugify("½"), "1-2");
    }

    #[test]
    fn slug_cut_to_a_file_name() {
        let long = "Hội nghị sơ kết ".repeat(100);
        let slug = slugify(&long);
        assert!(
            slug.len() <= MAX_SLUG_LEN && slug.len() > MAX_SLUG_LEN / 2,
            "{slug}"
        );
        // Cut between two words of the whole slug.
        let full = vec!["hoi-nghi-so-ket"; 100].join("-");
        assert!(
            format!("{full}-").starts_with(&format!("{slug}-")),
            "{slug}"
        );
        // One word longer than the limit: cut inside it.
        assert_eq!(slugify(&"a".repeat(100_000)), "a".repeat(MAX_SLUG_LEN));
        // Exactly the limit, and a separator just past it: kept whole.
        let exact = "b".repeat(MAX_SLUG_LEN);
        assert_eq!(slugify(&exact), exact);
        assert_eq!(slugify(&format!("{exact} c")), exact);
    }

    #[test]
    fn slug_all_vietnamese_letters() {
        // Every base vowel with every tone, in both cases and both forms.
        let vowels = [
            ("a", 'a'),
            ("ă", 'a'),
            ("â", 'a'),
            ("e", 'e'),
            ("ê", 'e'),
            ("i", 'i'),
            ("o", 'o'),
            ("ô", 'o'),
            ("ơ", 'o'),
            ("u", 'u'),
            ("ư", 'u'),
            ("y", 'y'),
        ];
        let tones = ["", "\u{300}", "\u{309}", "\u{303}", "\u{301}", "\u{323}"];
        for (v, base) in vowels {
            for t in tones {
                let decomposed = format!("{}{}", v.nfd().collect::<String>(), t);
                let composed = nfc(&decomposed);
                assert_eq!(composed.chars().count(), 1, "{composed:?}");
                let upper = composed.to_uppercase();
                for s in [&decomposed, &composed, &upper] {
                    assert_eq!(slugify(s), base.to_string(), "{s:?}");
                    assert_eq!(fold(s), base.to_string(), "{s:?}");
                }
            }
        }
        assert_eq!(slugify("đĐ"), "dd");
    }

    #[test]
    fn slug_is_safe() {
        let inputs = [
            "..",
            ".",
            "/",
            "a/../b",
            "Hà Nội.",
            "x..y",
            "北京/上海",
            "-",
            "—",
            "~/.ssh",
            "C:\\x",
            "ǅ Ⅻ ﬁ",
            "a\u{301}\u{301}",
            "\u{301}",
        ];
        for s in inputs {
            let slug = slugify(s);
            assert!(
                slug.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s:?} -> {slug:?}"
            );
            assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
            assert!(!slug.contains('/') && !slug.contains('.'));
            // Idempotent.
            assert_eq!(slugify(&slug), slug);
        }
    }

    // ----- fold -----

    #[test]
    fn fold_examples() {
        assert_eq!(fold("Đảng ủy"), "dang uy");
        assert_eq!(fold("Hội nghị, sơ kết!"), "hoi nghi, so ket!");
        assert_eq!(fold("35-NQ/TW"), "35-nq/tw");
        assert_eq!(fold(NFD_HOA_BINH), "hoa binh");
        assert_eq!(fold("Hoà Bình"), fold("Hòa Bình"));
        assert_eq!(fold("  TRƯỜNG  "), "  truong  ");
        assert_eq!(fold(""), "");
        assert_eq!(fold("Москва"), "москва");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("北京"), "北京");
        // Hangul stays composed (fold output is NFC).
        assert_eq!(fold("한국"), "한국");
        assert_eq!(fold("ß Ø"), "ß ø");
    }

    // ----- collation: alphabet -----

    #[test]
    fn alphabet_order() {
        assert_order(&["an", "ăn", "ân", "bạn"]);
        assert_order(&["da", "đa", "e"]);
        assert_order(&["e", "ê", "g"]);
        assert_order(&["o", "ô", "ơ", "p"]);
        assert_order(&["u", "ư", "v"]);
        assert_order(&[
            "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m",
            "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
        ]);
        // A letter difference beats any tone difference.
        assert_order(&["ạn", "ăn"]);
        assert_order(&["ợ", "p"]);
        assert_order(&["ự", "v"]);
        assert_order(&["dạ", "đa"]);
    }

    #[test]
    fn tone_order() {
        assert_order(&["ma", "mà", "mả", "mã", "má", "mạ"]);
        assert_order(&["ma", "má", "mai"]);
        assert_order(&["mạ", "mai", "mài", "mái"]);
        assert_order(&[
            "a", "à", "ả", "ã", "á", "ạ", "ă", "ằ", "ẳ", "ẵ", "ắ", "ặ", "â", "ầ", "ẩ", "ẫ", "ấ",
            "ậ", "b",
        ]);
        // Tones are compared word by word, left to right.
        assert_order(&["ma ma", "ma mà", "mà ma", "mà mà"]);
        // Letters of all words before any tone.
        assert_order(&["mà a", "ma b"]);
    }

    #[test]
    fn chu_is_c_then_h() {
        assert_order(&["Cà", "Cầu", "Châu", "Cô", "Cư", "Da"]);
        assert_order(&["Nga", "Ngà", "Nghệ", "Ngô", "Nhà"]);
    }

    // ----- collation: separators -----

    #[test]
    fn separators_sort_first() {
        assert_order(&["Hà", "Hà Nội", "Hàn"]);
        assert_order(&["Ban A", "Ban Ấ", "Bana"]);
        assert_order(&["Ban 2", "Ban A"]);
        assert_order(&["Ban", "Ban-A", "Ban.B", "BanA"]);
        // Leading/trailing punctuation and repeated separators are ignored
        // at the primary level.
        assert_eq!(levels("\"Hà  Nội\"").0, levels("Hà Nội").0);
        assert_eq!(levels("Hà - Nội").0, levels("Hà Nội").0);
        assert_ne!(compare("Hà  Nội", "Hà Nội"), Ordering::Equal);
    }

    // ----- collation: numbers -----

    #[test]
    fn numbers_by_value() {
        assert_order(&["35-NQ/TW", "144-QĐ/TW"]);
        assert_order(&["2", "10", "100"]);
        assert_order(&[
            "Quyết định 2",
            "Quyết định 10",
            "Quyết định 10a",
            "Quyết định 11",
        ]);
        assert_order(&["Khóa 9", "Khóa 10", "Khóa X"]);
        assert_order(&["1", "a"]);
        assert_order(&["Ban A", "Ban A 2", "Ban AB"]);
        assert_order(&["0", "00", "1"]);
        // Very long numbers (longer than 255 digits) still compare by value.
        let big = format!("1{}", "0".repeat(300));
        let bigger = format!("2{}", "0".repeat(300));
        let longest = format!("1{}", "0".repeat(301));
        assert_order(&["9", &big, &bigger, &longest]);
    }

    #[test]
    fn leading_zeros_are_not_equal() {
        assert_eq!(levels("007").0, levels("7").0);
        assert_ne!(collation_key("007"), collation_key("7"));
        assert_ne!(compare("007", "7"), Ordering::Equal);
        assert_eq!(
            compare("007", "7"),
            collation_key("007").cmp(&collation_key("7"))
        );
        assert_order(&["Số 007 a", "Số 8"]);
    }

    // ----- collation: case, normalization, tone placement -----

    #[test]
    fn case_is_ignored_until_last() {
        let (p1, s1, t1) = levels("Đảng");
        let (p2, s2, t2) = levels("đảng");
        assert_eq!((p1, s1), (p2, s2));
        assert_ne!(t1, t2);
        assert_order(&["đảng", "Đảng", "ĐẢNG"]);
        // Case never beats letters or tones.
        assert_order(&["ĐẢNG", "đẳng"]);
        assert_order(&["ZA", "zb"]);
        assert_order(&["Ủy ban", "ủy bàn"]);
    }

    #[test]
    fn nfd_input_equals_nfc() {
        assert_eq!(levels(NFD_HOA_BINH), levels("Hòa Bình"));
        assert_eq!(levels("Đa\u{309}ng u\u{309}y"), levels("Đảng ủy"));
        // Marks in non-canonical order.
        assert_eq!(levels("Nghe\u{323}\u{302} An"), levels("Nghệ An"));
        // Still a deterministic total order: the raw strings break the tie.
        assert_ne!(compare(NFD_HOA_BINH, "Hòa Bình"), Ordering::Equal);
        assert_eq!(compare(NFD_HOA_BINH, NFD_HOA_BINH), Ordering::Equal);
    }

    #[test]
    fn old_and_new_tone_placement() {
        let pairs = [
            ("hoà", "hòa"),
            ("Hoà Bình", "Hòa Bình"),
            ("thuý", "thúy"),
            ("Khoá", "Khóa"),
            ("quỳ", "qùy"),
            ("hoạ", "họa"),
            ("Thuỷ lợi", "Thủy lợi"),
            ("uỷ ban", "ủy ban"),
        ];
        for (old, new) in pairs {
            assert_eq!(levels(old), levels(new), "{old:?} vs {new:?}");
            assert_ne!(collation_key(old), collation_key(new));
            assert_ne!(compare(old, new), Ordering::Equal);
            assert_eq!(slugify(old), slugify(new));
            assert_eq!(fold(old), fold(new));
        }
        // Both placements sort between the same neighbours.
        assert_order(&["hoa", "hoà", "hoả", "hoan"]);
        assert_order(&["hoa", "hòa", "hoả", "hoan"]);
    }

    #[test]
    fn unit_names_in_vietnamese_order() {
        let expected = [
            "Ban Tuyên giáo Tỉnh ủy",
            "Đảng ủy xã An Trường",
            "Huyện ủy Càng Long",
            "Huyện ủy Cầu Kè",
            "Huyện ủy Châu Thành",
            "Tỉnh ủy Trà Vinh",
            "Ủy ban Kiểm tra",
        ];
        assert_order(&expected);
        let mut shuffled = vec![
            "Tỉnh ủy Trà Vinh",
            "Huyện ủy Châu Thành",
            "Ủy ban Kiểm tra",
            "Huyện ủy Càng Long",
            "Đảng ủy xã An Trường",
            "Huyện ủy Cầu Kè",
            "Ban Tuyên giáo Tỉnh ủy",
        ];
        shuffled.sort_by(|a, b| compare(a, b));
        assert_eq!(shuffled, expected);
    }

    #[test]
    fn other_scripts_and_symbols() {
        assert_order(&["z", "ω", "Ω", "北京"]);
        assert_eq!(levels("Ωmega").0, levels("ωmega").0);
        assert_eq!(levels("Москва").0, levels("москва").0);
        assert_order(&["o", "ø", "oa"]);
        assert_eq!(levels("Ø").0, levels("o").0);
        assert_order(&["Strasse", "Straße", "Strasset"]);
        assert_order(&["cafe", "café", "cafes"]);
        // Symbols are separators; ignorable format characters vanish.
        assert_eq!(levels("Hà\u{200B}Nội").0, levels("HàNội").0);
        assert_eq!(levels("Hà 🎉 Nội").0, levels("Hà Nội").0);
        assert_eq!(levels("!!!").0, Vec::<u8>::new());
        assert_order(&["", "!!!", "a"]);
    }

    #[test]
    fn key_and_compare_agree() {
        let words = [
            "",
            " ",
            "!",
            "a",
            "A",
            "à",
            "á",
            "ă",
            "Ă",
            "ằ",
            "b",
            "Ban",
            "ban a",
            "Ban Ấ",
            "bana",
            "đ",
            "Đ",
            "d",
            "0",
            "00",
            "007",
            "7",
            "10",
            "2",
            "35-NQ/TW",
            "144-QĐ/TW",
            "hoà",
            "hòa",
            NFD_HOA_BINH,
            "Hòa Bình",
            "Hoà Bình",
            "北",
            "Ω",
            "ω",
            "ø",
            "ß",
            "ss",
            "x\u{301}",
            "x",
            "Hà",
            "Hà Nội",
            "Hàn",
            "ma",
            "mà",
            "mả",
            "mã",
            "má",
            "mạ",
            "mai",
            "Thứ Hai",
        ];
        for a in words {
            for b in words {
                let by_key = collation_key(a).cmp(&collation_key(b));
                assert_eq!(compare(a, b), by_key, "{a:?} vs {b:?}");
                assert_eq!(by_key == Ordering::Equal, a == b, "{a:?} vs {b:?}");
                assert_eq!(compare(b, a), by_key.reverse());
            }
        }
        // Transitivity over a sorted list.
        let mut v = words.to_vec();
        v.sort_by(|a, b| compare(a, b));
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                assert_ne!(
                    compare(v[i], v[j]),
                    Ordering::Greater,
                    "{:?} {:?}",
                    v[i],
                    v[j]
                );
            }
        }
    }

    #[test]
    fn compare_with_shared_prefixes() {
        assert_order(&["Hà Nội", "Hà Nội 2", "Hà Nội 10", "Hà Nội mới", "Hà Nộii"]);
        assert_order(&["Ban A -", "Ban A - b", "Ban A - B", "Ban A - c"]);
        assert_order(&["- a", "- à", "- b"]);
        assert_order(&["x 12", "x 13", "x 123", "x 123a"]);
        // '=' + U+0338 composes to '≠': never a cut point.
        assert_eq!(levels("x =\u{338}"), levels("x ≠"));
        for (a, b) in [
            ("x =\u{338}", "x ="),
            ("x =", "x ≠"),
            ("a, b", "a,b"),
            ("a ,b", "a, b"),
        ] {
            assert_eq!(
                compare(a, b),
                collation_key(a).cmp(&collation_key(b)),
                "{a:?} {b:?}"
            );
            assert_eq!(
                compare(b, a),
                collation_key(b).cmp(&collation_key(a)),
                "{b:?} {a:?}"
            );
        }
    }

    #[test]
    fn compare_matches_keys_on_random_strings() {
        const PIECES: [&str; 40] = [
            "a", "à", "ă", "ắ", "A", "Ă", "đ", "Đ", "d", " ", " ", "-", "/", ".", "0", "1", "9",
            "00", "\u{301}", "\u{300}", "\u{302}", "o", "ô", "ơ", "Ơ", "h", "c", "=", "\u{338}",
            "北", "ß", "Ø", "ǅ", "\u{200B}", "ư", "u", "\u{31B}", "y", "Ω", "!",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut random = |prefix: &str| {
            let mut s = prefix.to_owned();
            for _ in 0..next(7) {
                s.push_str(PIECES[next(PIECES.len())]);
            }
            s
        };
        for _ in 0..4000 {
            let prefix = random("");
            let a = random(&prefix);
            let b = random(&prefix);
            let (ka, kb) = (collation_key(&a), collation_key(&b));
            assert_eq!(compare(&a, &b), ka.cmp(&kb), "{a:?} vs {b:?}");
            assert_eq!(compare(&b, &a), kb.cmp(&ka), "{b:?} vs {a:?}");
            assert_eq!(ka == kb, a == b);
            // Any normalization form gives the same levels.
            let nfd: String = a.nfd().collect();
            assert_eq!(levels(&nfd), levels(&a), "{a:?}");
            assert_eq!(levels(&nfc(&a)), levels(&a), "{a:?}");
            let slug = slugify(&a);
            assert!(slug
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'));
            assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
            assert_eq!(slugify(&nfd), slug);
            assert_eq!(fold(&nfd), fold(&a));
        }
    }

    // ----- dates -----

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_vi() {
        assert_eq!(
            date_long(ymd(2021, 12, 28), Language::Vi),
            "Thứ Ba, 28/12/2021"
        );
        assert_eq!(date_short(ymd(2021, 12, 28), Language::Vi), "28/12/2021");
        assert_eq!(date_short(ymd(2023, 9, 5), Language::Vi), "05/09/2023");
        let week = [
            (ymd(2023, 9, 11), "Thứ Hai, 11/09/2023"),
            (ymd(2023, 9, 12), "Thứ Ba, 12/09/2023"),
            (ymd(2023, 9, 13), "Thứ Tư, 13/09/2023"),
            (ymd(2023, 9, 14), "Thứ Năm, 14/09/2023"),
            (ymd(2023, 9, 15), "Thứ Sáu, 15/09/2023"),
            (ymd(2023, 9, 16), "Thứ Bảy, 16/09/2023"),
            (ymd(2023, 9, 17), "Chủ Nhật, 17/09/2023"),
        ];
        for (d, s) in week {
            assert_eq!(date_long(d, Language::Vi), s);
        }
        assert_eq!(month_label(2023, 9, Language::Vi), "Tháng 9/2023");
        assert_eq!(month_label(2023, 12, Language::Vi), "Tháng 12/2023");
        assert_eq!(month_name(9, Language::Vi), "Tháng 9");
        assert_eq!(month_name(1, Language::Vi), "Tháng 1");
        // Output is NFC (templates and tests compare bytes).
        for d in week.iter().map(|w| w.0) {
            let s = date_long(d, Language::Vi);
            assert_eq!(nfc(&s), s);
        }
    }

    #[test]
    fn dates_en() {
        assert_eq!(
            date_long(ymd(2021, 12, 28), Language::En),
            "Tuesday, 28 December 2021"
        );
        assert_eq!(date_short(ymd(2021, 12, 28), Language::En), "28 Dec 2021");
        assert_eq!(date_short(ymd(2023, 9, 5), Language::En), "5 Sep 2023");
        assert_eq!(
            date_long(ymd(2023, 9, 17), Language::En),
            "Sunday, 17 September 2023"
        );
        assert_eq!(
            date_long(ymd(2024, 2, 29), Language::En),
            "Thursday, 29 February 2024"
        );
        assert_eq!(month_label(2023, 9, Language::En), "September 2023");
        assert_eq!(month_name(9, Language::En), "September");
        let names: Vec<String> = (1..=12).map(|m| month_name(m, Language::En)).collect();
        assert_eq!(names, MONTHS_EN);
        let shorts: Vec<String> = (1..=12)
            .map(|m| date_short(ymd(2020, m, 1), Language::En))
            .collect();
        assert_eq!(shorts[4], "1 May 2020");
        assert_eq!(shorts[8], "1 Sep 2020");
    }

    #[test]
    fn month_out_of_range_does_not_panic() {
        assert_eq!(month_name(0, Language::En), "0");
        assert_eq!(month_name(13, Language::En), "13");
        assert_eq!(month_name(13, Language::Vi), "Tháng 13");
        assert_eq!(month_label(2023, 13, Language::En), "13 2023");
    }
}
