//! Posting lists as text: numbers in base-64 digits, and the two layouts of a list (see
//! the module above for the format). `themes/default/static/search.js` reads them.

/// The digits of posting lists: 0–31 end a number, 32–63 say that more digits follow.
pub(super) const DIGITS: &[u8; 64] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// Appends `v` in posting digits.
#[inline]
pub(super) fn put_number(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let low = (v & 31) as usize;
        v >>= 5;
        if v == 0 {
            out.push(DIGITS[low]);
            return;
        }
        out.push(DIGITS[low + 32]);
    }
}

/// What a posting says, as written: fields << 2 | how often (0: once, 1: 2–3 times,
/// 2: 4–7, 3: more).
pub(super) fn written(packed: u16) -> u32 {
    let class = match packed & 15 {
        0 | 1 => 0,
        2 | 3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    (u32::from(packed >> 4) << 2) | class
}

/// The largest [`written`] value, plus one.
pub(super) const WRITTEN: usize = 1 << WRITTEN_BITS;
pub(super) const WRITTEN_BITS: u32 = 11;

/// Counts per written value, reused from key to key (reset after each).
pub(super) struct Scratch {
    count: Vec<u32>,
    index: Vec<u32>,
    values: Vec<u32>,
    escapes: Vec<u32>,
}

impl Scratch {
    pub(super) fn new() -> Scratch {
        Scratch {
            count: vec![0; WRITTEN],
            index: vec![0; WRITTEN],
            values: Vec::new(),
            escapes: Vec::new(),
        }
    }
}

/// How many posting digits `v` takes (five bits each, at least one).
#[inline]
pub(super) fn digits_of(v: u32) -> usize {
    (32 - (v | 1).leading_zeros() as usize).div_ceil(5)
}

/// Appends a posting list, given in parts of (report, packed), reports ascending: the
/// list's distinct [`written`] values, most used first (a count, then the values), then
/// one of two layouts, whichever is shorter:
///
/// - `0`, then per report `gap << 5 | i` (gap: from the report after the previous one;
///   i: the value's place in that list, 31 meaning "31 + the number that follows");
/// - `1 + (first << 2 | b)` (b: 1, 2 or 3 bits), the number of reports spanned from
///   `first`, then one b-bit symbol per report spanned, packed 6 / b to a digit (low bits
///   first, every digit a full 6 bits): 0 the report is not there, k the value k - 1,
///   except that when the list has 2^b values or more the last symbol, 2^b - 1, says
///   "the value 2^b - 2 + the next number of the escapes", which follow the symbols in
///   report order.
///
/// A word found in most reports takes a bit or two per report.
pub(super) fn encode_postings<'a>(
    out: &mut Vec<u8>,
    parts: impl Iterator<Item = (u32, &'a [u32])> + Clone,
    scratch: &mut Scratch,
) {
    let Scratch {
        count,
        index,
        values,
        escapes,
    } = scratch;
    const MASK: u32 = WRITTEN as u32 - 1;
    // The list is read twice from its parts (values, counts and sizes; then digits)
    // rather than copied: most lists are short, and the long ones are read in order.
    // The sparse layout's size is known from the first read: a gap's number takes one
    // digit more than the gap (one digit for none), whatever the value's place (< 32).
    values.clear();
    let (mut first, mut last, mut len) = (u32::MAX, 0, 0usize);
    let mut sparse = 1;
    let mut next = 0;
    for (base, part) in parts.clone() {
        for &posting in part {
            let (doc, w) = (base + (posting >> WRITTEN_BITS), posting & MASK);
            let c = &mut count[w as usize];
            if *c == 0 {
                values.push(w);
            }
            *c += 1;
            let gap = doc - next;
            sparse += if gap == 0 { 1 } else { 1 + digits_of(gap) };
            next = doc + 1;
            last = doc;
        }
        if first == u32::MAX && !part.is_empty() {
            first = base + (part[0] >> WRITTEN_BITS);
        }
        len += part.len();
    }
    if values.len() > 1 {
        values.sort_unstable_by(|&a, &b| count[b as usize].cmp(&count[a as usize]).then(a.cmp(&b)));
    }
    put_number(out, values.len() as u32);
    for (i, &v) in values.iter().enumerate() {
        put_number(out, v);
        index[v as usize] = i as u32;
    }
    if len == 0 {
        out.push(DIGITS[0]);
        return;
    }
    // Values from the 32nd on are written as 31 and the rest after.
    for (i, &v) in values.iter().enumerate().skip(31) {
        sparse += count[v as usize] as usize * digits_of(i as u32 - 31);
    }
    let span = last - first + 1;
    let k = values.len();
    // (size, bits) of the shortest dense layout.
    let mut dense = (usize::MAX, 0);
    for b in 1..=3u32 {
        let symbols = 1usize << b;
        let direct = if k < symbols { k } else { symbols - 2 };
        let mut size = digits_of(1 + ((first << 2) | b))
            + digits_of(span)
            + (span as usize * b as usize).div_ceil(6);
        for (i, &v) in values.iter().enumerate().skip(direct) {
            size += count[v as usize] as usize * digits_of((i - direct) as u32);
        }
        dense = dense.min((size, b));
    }
    for &v in values.iter() {
        count[v as usize] = 0;
    }
    if sparse <= dense.0 {
        out.reserve(sparse);
        out.push(DIGITS[0]);
        let mut next = 0;
        for (base, part) in parts {
            for &posting in part {
                let (doc, w) = (base + (posting >> WRITTEN_BITS), posting & MASK);
                let i = index[w as usize];
                put_number(out, ((doc - next) << 5) | i.min(31));
                if i >= 31 {
                    put_number(out, i - 31);
                }
                next = doc + 1;
            }
        }
        return;
    }
    let b = dense.1;
    out.reserve(dense.0);
    put_number(out, 1 + ((first << 2) | b));
    put_number(out, span);
    let escape = (1u32 << b) - 1;
    let direct = if k < (1 << b) { k as u32 } else { escape - 1 };
    let per_digit = 6 / b;
    escapes.clear();
    let (mut digit, mut filled) = (0u32, 0u32);
    let mut at = first;
    for (base, part) in parts {
        for &posting in part {
            let (doc, w) = (base + (posting >> WRITTEN_BITS), posting & MASK);
            while at < doc {
                // Absent reports: whole digits of zeros at once where possible.
                if filled == 0 && doc - at >= per_digit {
                    let zeros = (doc - at) / per_digit;
                    out.extend(std::iter::repeat_n(DIGITS[0], zeros as usize));
                    at += zeros * per_digit;
                    continue;
                }
                filled += 1;
                if filled == per_digit {
                    out.push(DIGITS[digit as usize]);
                    (digit, filled) = (0, 0);
                }
                at += 1;
            }
            let i = index[w as usize];
            let symbol = if i < direct {
                i + 1
            } else {
                escapes.push(i - direct);
                escape
            };
            digit |= symbol << (b * filled);
            filled += 1;
            if filled == per_digit {
                out.push(DIGITS[digit as usize]);
                (digit, filled) = (0, 0);
            }
            at = doc + 1;
        }
    }
    if filled > 0 {
        out.push(DIGITS[digit as usize]);
    }
    for &e in escapes.iter() {
        put_number(out, e);
    }
}

/// The reverse of `encode_postings`: (report, `written` value) (for tests and tools).
pub fn decode_postings(s: &str) -> Vec<(u32, u32)> {
    let digit = |b: u8| DIGITS.iter().position(|&x| x == b).unwrap_or(0) as u32;
    let bytes = s.as_bytes();
    let mut at = 0;
    let number = |at: &mut usize| -> u32 {
        let (mut v, mut shift) = (0u32, 0);
        while let Some(&b) = bytes.get(*at) {
            *at += 1;
            let d = digit(b);
            v |= (d & 31) << shift;
            shift += 5;
            if d < 32 {
                break;
            }
        }
        v
    };
    let mut values = Vec::new();
    for _ in 0..number(&mut at) {
        values.push(number(&mut at));
    }
    let mut out = Vec::new();
    let layout = number(&mut at);
    if layout == 0 {
        let mut next = 0;
        while at < bytes.len() {
            let x = number(&mut at);
            let mut i = x & 31;
            if i == 31 {
                i += number(&mut at);
            }
            let doc = next + (x >> 5);
            out.push((doc, values[i as usize]));
            next = doc + 1;
        }
        return out;
    }
    let (first, b) = ((layout - 1) >> 2, (layout - 1) & 3);
    let span = number(&mut at);
    let per_digit = 6 / b;
    let escape = (1u32 << b) - 1;
    let direct = if values.len() < (1 << b) {
        values.len() as u32
    } else {
        escape - 1
    };
    let symbols = at;
    let mut escapes = at + (span * b).div_ceil(6) as usize;
    for k in 0..span {
        let d = digit(bytes[symbols + (k / per_digit) as usize]);
        let symbol = (d >> (b * (k % per_digit))) & escape;
        if symbol == 0 {
            continue;
        }
        let i = if symbol == escape && values.len() as u32 > direct {
            direct + number(&mut escapes)
        } else {
            symbol - 1
        };
        out.push((first + k, values[i as usize]));
    }
    out
}

pub(super) fn pack(fields: u16, count: u32) -> u16 {
    (fields << 4) | count.min(15) as u16
}

/// Whether any of the eight bytes of `word` may end a run of text in [`html_text`]: `<`,
/// `&` or a byte below 0x20 (exact per word, not per byte).
#[inline(always)]
pub(super) fn ends_run(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    (below_space
        | has_zero(word ^ (ONES * u64::from(b'<')))
        | has_zero(word ^ (ONES * u64::from(b'&'))))
        != 0
}
