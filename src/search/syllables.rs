//! Cutting text into syllables: runs of letters, digits and the marks they take.
//!
//! [`tokens`] says what a syllable is, plainly; [`each_token`] finds the same syllables
//! several times faster, for the indexer, which reads every word of every report: it
//! classes 64 bytes at a time into a bit mask (with SSE2 where the machine has it), then
//! walks the runs of set bits, so that the common case (ASCII and Vietnamese letters)
//! takes no branch per character. The tests check that both always agree.

use unicode_normalization::char::is_combining_mark;

/// Longer runs of letters and digits (long numbers, pasted codes) are not indexed.
pub const MAX_TOKEN_CHARS: usize = 40;

/// Whether `c` belongs to a syllable: a letter, a digit or a combining mark.
pub fn is_token_char(c: char) -> bool {
    match c as u32 {
        0x30..=0x39 | 0x41..=0x5A | 0x61..=0x7A => true,
        0..=0x7F => false,
        // Latin letters, Vietnamese ones among them, and the marks they take: the
        // common case, without the table look-ups.
        0xC0..=0x24F => c != '×' && c != '÷',
        0x300..=0x36F | 0x1E00..=0x1EFF => true,
        _ => c.is_alphanumeric() || is_combining_mark(c),
    }
}

/// Whether the text between two syllables ends their adjacency, so that they make no
/// pair: a line break, which [`super::html_text`] puts where a block ends (a heading
/// and the paragraph after it, two list items, two table cells are not a phrase).
/// Punctuation does not: as in other engines, a quoted "xấu độc" finds "xấu, độc".
/// `search.js` (`breaks`) applies the same rule to queries and to the text of results.
pub fn breaks_pair(between: &str) -> bool {
    between.contains('\n')
}

/// The syllables of a text, as written, in order. A run longer than
/// [`MAX_TOKEN_CHARS`] is returned as `None` (it breaks adjacency but is not indexed).
pub fn tokens(text: &str) -> impl Iterator<Item = Option<&str>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(is_token_char)?;
        let tail = &rest[start..];
        let len = tail.find(|c: char| !is_token_char(c)).unwrap_or(tail.len());
        let token = &tail[..len];
        rest = &tail[len..];
        Some((token.chars().count() <= MAX_TOKEN_CHARS).then_some(token))
    })
}

/// Calls `f` with each syllable of `text` (None for a run too long to index) and, for
/// one of at most 15 bytes, a key made of its bytes and its length (equal keys, equal
/// syllables). The same syllables as [`tokens`].
#[inline(always)]
pub fn each_token(text: &str, mut f: impl FnMut(Option<&str>, Option<u128>)) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut emit = |start: usize, end: usize| {
        let len = end - start;
        let token = &text[start..end];
        if len <= 15 {
            let key = if start + 16 <= n {
                let raw =
                    u128::from_le_bytes(bytes[start..start + 16].try_into().unwrap_or([0; 16]));
                (raw & ((1u128 << (8 * len)) - 1)) | ((len as u128) << 120)
            } else {
                let mut b = [0u8; 16];
                b[..len].copy_from_slice(token.as_bytes());
                b[15] = len as u8;
                u128::from_le_bytes(b)
            };
            f(Some(token), Some(key));
        } else if len <= MAX_TOKEN_CHARS || token.chars().count() <= MAX_TOKEN_CHARS {
            f(Some(token), None);
        } else {
            f(None, None);
        }
    };
    // Where the syllable being read started, when it runs on past a window.
    let mut open: Option<usize> = None;
    // Bytes at the start of the next window that end a character found not to belong.
    let mut carry = 0u32;
    let mut base = 0;
    while base < n {
        let (mut mask, unsure) = if base + 65 <= n {
            masks(&bytes[base..base + 65])
        } else {
            masks(&window(bytes, base))
        };
        mask &= !((1u64 << carry) - 1);
        (mask, carry) = settle_unsure(text, base, mask, unsure);
        let mut pos = 0u32;
        loop {
            if let Some(start) = open {
                let ones = (!(mask >> pos)).trailing_zeros();
                if pos + ones >= 64 {
                    break;
                }
                pos += ones;
                emit(start, base + pos as usize);
                open = None;
            }
            let rest = if pos >= 64 { 0 } else { mask >> pos };
            if rest == 0 {
                break;
            }
            pos += rest.trailing_zeros();
            open = Some(base + pos as usize);
        }
        base += 64;
    }
    if let Some(start) = open {
        emit(start, n);
    }
}

/// The 64 bytes of `bytes` from `base` and the byte after, zeros past its end.
#[inline(always)]
fn window(bytes: &[u8], base: usize) -> [u8; 80] {
    let mut w = [0u8; 80];
    let end = bytes.len().min(base + 65);
    w[..end - base].copy_from_slice(&bytes[base..end]);
    w
}

/// Clears from `mask` (bit j: the byte at `base + j` is an ASCII letter or digit, or
/// not ASCII) the bytes of the characters of the window that do not belong to
/// a syllable (punctuation, symbols, spaces beyond ASCII), checked one by one: only
/// those whose first byte is not that of a Latin letter or mark. Returns the mask and
/// how many bytes of the next window finish such a character.
#[inline(always)]
fn settle_unsure(text: &str, base: usize, mut mask: u64, mut unsure: u64) -> (u64, u32) {
    let mut carry = 0;
    while unsure != 0 {
        let j = unsure.trailing_zeros();
        unsure &= unsure - 1;
        let at = base + j as usize;
        let c = text[at..].chars().next().unwrap_or(' ');
        if !is_token_char(c) {
            let end = j + c.len_utf8() as u32;
            let bits = if end >= 64 {
                u64::MAX
            } else {
                (1u64 << end) - 1
            };
            mask &= !(bits & !((1u64 << j) - 1));
            carry = end.saturating_sub(64);
        }
    }
    (mask, carry)
}

/// The word mask (see [`settle_unsure`]) and the unsure leads (first bytes of
/// characters that may not be letters or marks) of the 64 bytes at the start of `w` (which has at
/// least 65 bytes: the byte after the window decides its last character's class).
#[inline(always)]
fn masks(w: &[u8]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of every x86_64; `w` has the 65 bytes the loads read.
        unsafe { sse2::masks(w) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_masks(w)
    }
}

/// [`masks`], a byte at a time: the definition the SSE2 version follows.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar_masks(w: &[u8]) -> (u64, u64) {
    let (mut word, mut unsure) = (0u64, 0u64);
    for j in 0..64 {
        let (b, next) = (w[j], w[j + 1]);
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            word |= 1 << j;
        }
        let sure = matches!(b, 0xC4..=0xC9 | 0xCC)
            || (b == 0xC3 && next != 0x97 && next != 0xB7)
            || (b == 0xE1 && (0xB8..=0xBB).contains(&next));
        if b >= 0xC0 && !sure {
            unsure |= 1 << j;
        }
    }
    (word, unsure)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// Bytes of `v` in `lo..=hi` (unsigned).
    #[inline(always)]
    unsafe fn in_range(v: __m128i, lo: u8, hi: u8) -> __m128i {
        let t = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((hi - lo) as i8)), t)
    }

    #[inline(always)]
    unsafe fn eq(v: __m128i, b: u8) -> __m128i {
        _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))
    }

    /// [`super::scalar_masks`] of 16 bytes at `p` (17 readable).
    #[inline(always)]
    unsafe fn masks16(p: *const u8) -> (u64, u64) {
        let v = _mm_loadu_si128(p as *const __m128i);
        let next = _mm_loadu_si128(p.add(1) as *const __m128i);
        let alnum = _mm_or_si128(
            in_range(v, b'0', b'9'),
            in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z'),
        );
        let word = _mm_movemask_epi8(alnum) | _mm_movemask_epi8(v);
        let sure = _mm_or_si128(
            _mm_or_si128(in_range(v, 0xC4, 0xC9), eq(v, 0xCC)),
            _mm_or_si128(
                _mm_andnot_si128(_mm_or_si128(eq(next, 0x97), eq(next, 0xB7)), eq(v, 0xC3)),
                _mm_and_si128(eq(v, 0xE1), in_range(next, 0xB8, 0xBB)),
            ),
        );
        let unsure = _mm_andnot_si128(sure, in_range(v, 0xC0, 0xFF));
        (
            u64::from(word as u16),
            u64::from(_mm_movemask_epi8(unsure) as u16),
        )
    }

    /// # Safety
    /// `w` has at least 65 bytes.
    #[inline(always)]
    pub unsafe fn masks(w: &[u8]) -> (u64, u64) {
        assert!(w.len() >= 65);
        let p = w.as_ptr();
        let (mut word, mut unsure) = (0u64, 0u64);
        for k in 0..4 {
            let (a, b) = masks16(p.add(16 * k));
            word |= a << (16 * k);
            unsure |= b << (16 * k);
        }
        (word, unsure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(text: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        each_token(text, |t, _| out.push(t.map(str::to_string)));
        out
    }

    fn plain(text: &str) -> Vec<Option<String>> {
        tokens(text).map(|t| t.map(str::to_string)).collect()
    }

    /// Characters from every class the masks tell apart.
    const CHARS: &[char] = &[
        'a', 'Z', '0', '9', ' ', ',', '-', '/', '\n', 'à', 'Đ', 'đ', 'ư', 'ơ', 'ệ', 'ạ', 'ỹ', '×',
        '÷', '\u{a0}', '«', '–', '“', '…', '\u{300}', '\u{323}', 'Ω', ';', '\u{37e}', 'ж', '中',
        '。', '😀', '\u{1100}', '\u{2000}', 'ʼ', 'ǿ', 'ɐ', '\u{1e00}', '\u{1ef9}',
    ];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![prop::sample::select(CHARS), Just('x'), any::<char>(),],
            0..300,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #[test]
        fn the_fast_cut_finds_the_plain_syllables(t in text()) {
            prop_assert_eq!(fast(&t), plain(&t));
        }

        #[test]
        fn the_sse2_masks_are_the_scalar_ones(bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(&[0xC3u8, 0xE1, 0x97, 0xB7, 0xB8, 0xBB, 0xC4, 0xC9, 0xCC, 0xCD][..])],
            81,
        )) {
            prop_assert_eq!(masks(&bytes), scalar_masks(&bytes));
        }
    }

    #[test]
    fn syllables_across_windows_and_long_runs() {
        for len in [1, 15, 16, 40, 41, 63, 64, 65, 130] {
            for lead in 0..70 {
                let t = format!(
                    "{}{} đảng-ủy ×{}",
                    " ".repeat(lead),
                    "ệ".repeat(len),
                    "a".repeat(len)
                );
                assert_eq!(fast(&t), plain(&t), "{t:?}");
            }
        }
    }

    #[test]
    fn keys_tell_syllables_apart() {
        let mut keys = Vec::new();
        each_token("hội hội Hội hội1 hộ", |_, k| {
            keys.push(k.unwrap())
        });
        assert_eq!(keys[0], keys[1]);
        assert!(keys[0] != keys[2] && keys[0] != keys[3] && keys[0] != keys[4]);
    }
}
