//! Indexing runs of reports: each syllable of each field interned, counted for its
//! spelling and for its pair with the syllable before, and the run's postings grouped
//! in the order of the whole index.

use std::collections::HashMap;

use super::encode::{pack, written, WRITTEN_BITS};
use super::syllables::{breaks_pair, each_token};
use super::variant;
use crate::lang;

/// A key of an [`IdTable`]: never zero (zero marks an empty slot).
pub(super) trait TableKey: Copy + PartialEq + Default {
    fn hash(self) -> u64;
}

impl TableKey for u128 {
    #[inline]
    fn hash(self) -> u64 {
        ((self as u64) ^ ((self >> 64) as u64).rotate_left(31)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

impl TableKey for u64 {
    #[inline]
    fn hash(self) -> u64 {
        self.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// An open-addressing table from non-zero keys to values: the interning tables of the
/// indexer, looked up once per syllable. Never iterated, so no order leaks out.
pub(super) struct IdTable<K, V> {
    /// (key, value); a zero key is an empty slot.
    slots: Vec<(K, V)>,
    len: usize,
    shift: u32,
}

impl<K: TableKey, V: Copy + Default> IdTable<K, V> {
    pub(super) fn new() -> IdTable<K, V> {
        IdTable {
            slots: vec![(K::default(), V::default()); 1 << 12],
            len: 0,
            shift: 64 - 12,
        }
    }

    #[inline(always)]
    pub(super) fn get(&self, key: K) -> Option<V> {
        let mask = self.slots.len() - 1;
        let mut i = (key.hash() >> self.shift) as usize;
        loop {
            let (k, v) = self.slots[i];
            if k == key {
                return Some(v);
            }
            if k == K::default() {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Empties the table, keeping its size.
    pub(super) fn clear(&mut self) {
        self.slots.fill((K::default(), V::default()));
        self.len = 0;
    }

    /// Inserts a key that is not there.
    pub(super) fn insert(&mut self, key: K, value: V) {
        if (self.len + 1) * 2 > self.slots.len() {
            let size = self.slots.len() * 2;
            let old = std::mem::replace(&mut self.slots, vec![(K::default(), V::default()); size]);
            self.shift -= 1;
            self.len = 0;
            for (k, v) in old {
                if k != K::default() {
                    self.insert(k, v);
                }
            }
        }
        let mask = self.slots.len() - 1;
        let mut i = (key.hash() >> self.shift) as usize;
        while self.slots[i].0 != K::default() {
            i = (i + 1) & mask;
        }
        self.slots[i] = (key, value);
        self.len += 1;
    }
}

/// What is indexed of one report: (field bit, text) in order.
pub struct DocText<'a> {
    pub fields: Vec<(u16, &'a str)>,
}

/// The postings of a run of consecutive reports, with ids local to the run.
#[derive(Default)]
pub(super) struct Chunk {
    /// Folded syllables.
    pub(super) folded: Vec<String>,
    /// Per spelling: (folded syllable, spelling).
    pub(super) spellings: Vec<(u32, String)>,
    /// Per pair: (first, second) folded syllable.
    pub(super) pairs: Vec<(u32, u32)>,
    pub(super) words: Grouped,
    pub(super) pair_postings: Grouped,
    /// The place of each local spelling and pair id in the run's key order (that of the
    /// whole index): the postings are grouped in that order, so that writing the index
    /// reads them in one sweep.
    pub(super) word_rank: Vec<u32>,
    pub(super) pair_rank: Vec<u32>,
}

/// Postings of many ids in one array, `doc - first << WRITTEN_BITS | written`: those of
/// the id of rank `i` are `postings[starts[i]..starts[i + 1]]`.
#[derive(Default)]
pub(super) struct Grouped {
    pub(super) first: u32,
    pub(super) starts: Vec<u32>,
    pub(super) postings: Vec<u32>,
}

impl Grouped {
    pub(super) fn get(&self, i: usize) -> (u32, &[u32]) {
        (
            self.first,
            &self.postings[self.starts[i] as usize..self.starts[i + 1] as usize],
        )
    }
}

/// Counts per report, kept in dense arrays indexed by id and reset after each report;
/// what each report had is appended to flat lists, grouped by id at the end.
#[derive(Default)]
pub(super) struct Tally {
    /// Per id: fields << 16 | count (count up to 65535). One slot per id made.
    seen: Vec<u32>,
    /// The ids the current report has, in `touched[..touched_len]`; one longer than
    /// `seen`, so that [`Tally::add`] can write without a branch (whether an id is new to the
    /// report is a coin toss the processor would mispredict).
    touched: Vec<u32>,
    touched_len: usize,
    /// Per report, in order: the ids it had and their [`written`] values; `ends[k]` is
    /// where report k's end.
    ids: Vec<u32>,
    values: Vec<u16>,
    ends: Vec<u32>,
}

impl Tally {
    /// Makes a new id (the next one).
    pub(super) fn new_id(&mut self) {
        if self.touched.is_empty() {
            self.touched.push(0);
        }
        self.seen.push(0);
        self.touched.push(0);
    }

    #[inline(always)]
    pub(super) fn add(&mut self, id: u32, field: u16) {
        let seen = &mut self.seen[id as usize];
        let was = *seen;
        *seen = (was | (u32::from(field) << 16)) + u32::from(was & 0xFFFF < 0xFFFF);
        self.touched[self.touched_len] = id;
        self.touched_len += usize::from(was == 0);
    }

    /// Ends the current report.
    pub(super) fn end(&mut self) {
        for &id in &self.touched[..self.touched_len] {
            let seen = std::mem::take(&mut self.seen[id as usize]);
            self.ids.push(id);
            self.values
                .push(written(pack((seen >> 16) as u16, seen & 0xFFFF)) as u16);
        }
        self.touched_len = 0;
        self.ends.push(self.ids.len() as u32);
    }

    /// Postings by `rank` of their id (a counting sort, so reports stay ascending).
    /// Leaves the tally empty, its buffers kept for the next run: made anew for each
    /// run, they were a good part of the pages the system had to hand the index.
    pub(super) fn group(&mut self, rank: &[u32], first: u32) -> Grouped {
        let ids = rank.len();
        let mut starts = vec![0u32; ids + 1];
        for &id in &self.ids {
            starts[rank[id as usize] as usize + 1] += 1;
        }
        for i in 0..ids {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut postings = vec![0u32; self.ids.len()];
        let mut at = 0;
        for (doc, &end) in self.ends.iter().enumerate() {
            let end = end as usize;
            for (&id, &value) in self.ids[at..end].iter().zip(&self.values[at..end]) {
                let slot = &mut next[rank[id as usize] as usize];
                postings[*slot as usize] = ((doc as u32) << WRITTEN_BITS) | u32::from(value);
                *slot += 1;
            }
            at = end;
        }
        self.seen.clear();
        self.touched.clear();
        self.touched_len = 0;
        self.ids.clear();
        self.values.clear();
        self.ends.clear();
        Grouped {
            first,
            starts,
            postings,
        }
    }
}

/// The places of `keys` in sorted order.
pub(super) fn ranks<K: Ord>(keys: Vec<K>) -> Vec<u32> {
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
    let mut rank = vec![0u32; keys.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

/// Slots per syllable of the indexer's cache of the pairs it starts (a cache line).
pub(super) const SUCCESSORS: usize = 8;

/// Indexes a run of consecutive reports, one at a time (so that a report's text is
/// still in the caches when it is read), into a [`Chunk`].
pub(super) struct Indexer {
    chunk: Chunk,
    first: u32,
    /// Written form -> spelling id << 32 | folded id (short forms in `forms`, longer
    /// ones in `long_forms`); spelling -> id; folded -> id; pair -> id.
    forms: IdTable<u128, u64>,
    long_forms: HashMap<String, u64>,
    by_spelling: HashMap<String, u32>,
    by_folded: HashMap<String, u32>,
    by_pair: IdTable<u64, u32>,
    /// Per folded id, SUCCESSORS slots: (the folded id after it, plus one) << 32 | pair
    /// id, of pairs it started.
    successor: Vec<u64>,
    words: Tally,
    pairs: Tally,
    /// The forms of the syllables of the field being indexed, [`BREAK`] where a run too
    /// long to index breaks adjacency (kept between reports: no allocation per field).
    forms_of_field: Vec<u64>,
}

/// What an [`Indexer`] leaves for the next run on its thread, emptied: tables and
/// buffers that keep their size, so that the system does not hand out (and zero) their
/// pages again for every run.
#[derive(Default)]
pub(super) struct Spare {
    forms: Option<IdTable<u128, u64>>,
    by_pair: Option<IdTable<u64, u32>>,
    successor: Vec<u64>,
    words: Tally,
    pairs: Tally,
}

/// In [`Indexer::forms_of_field`]: no syllable here, and no pair across.
pub(super) const BREAK: u64 = u64::MAX;

impl Indexer {
    /// For the run whose first report is `first`, with what a run before left.
    pub(super) fn new(first: u32, spare: Spare) -> Indexer {
        Indexer {
            chunk: Chunk::default(),
            first,
            forms: spare.forms.unwrap_or_else(IdTable::new),
            long_forms: HashMap::new(),
            by_spelling: HashMap::new(),
            by_folded: HashMap::new(),
            by_pair: spare.by_pair.unwrap_or_else(IdTable::new),
            successor: spare.successor,
            words: spare.words,
            pairs: spare.pairs,
            forms_of_field: Vec::new(),
        }
    }

    /// The ids of a written form not seen before: (spelling << 32 | folded).
    #[cold]
    pub(super) fn new_form(&mut self, token: &str, key: Option<u128>) -> u64 {
        let spelling = variant(token);
        let folded = lang::fold(token);
        let f = match self.by_folded.get(&folded) {
            Some(&f) => f,
            None => {
                let f = self.chunk.folded.len() as u32;
                self.chunk.folded.push(folded.clone());
                self.successor.extend([0; SUCCESSORS]);
                self.by_folded.insert(folded, f);
                f
            }
        };
        let s = match self.by_spelling.get(&spelling) {
            Some(&s) => s,
            None => {
                let s = self.chunk.spellings.len() as u32;
                self.chunk.spellings.push((f, spelling.clone()));
                self.words.new_id();
                self.by_spelling.insert(spelling, s);
                s
            }
        };
        let form = (u64::from(s) << 32) | u64::from(f);
        match key {
            Some(key) => self.forms.insert(key, form),
            None => {
                self.long_forms.insert(token.to_string(), form);
            }
        }
        form
    }

    /// The id of the pair of folded syllables `a` then `b`, made if new.
    pub(super) fn new_pair(&mut self, a: u32, b: u32) -> u32 {
        let key = (u64::from(a + 1) << 32) | u64::from(b);
        match self.by_pair.get(key) {
            Some(pair) => pair,
            None => {
                let pair = self.chunk.pairs.len() as u32;
                self.chunk.pairs.push((a, b));
                self.pairs.new_id();
                self.by_pair.insert(key, pair);
                pair
            }
        }
    }

    /// Adds the next report of the run. Each field in three passes (its syllables' ids,
    /// their tally, their pairs' tally): small loops the processor runs faster than one
    /// that does it all.
    pub(super) fn add(&mut self, doc: &DocText) {
        let mut forms = std::mem::take(&mut self.forms_of_field);
        for &(field, text) in &doc.fields {
            forms.clear();
            // Where the syllable before ended (None after a run too long to index).
            let mut end: Option<usize> = None;
            each_token(text, |token, key| {
                let Some(token) = token else {
                    forms.push(BREAK);
                    end = None;
                    return;
                };
                let start = token.as_ptr() as usize - text.as_ptr() as usize;
                if let Some(end) = end {
                    // One space, most often: no break.
                    if (start - end > 1 || text.as_bytes()[end] != b' ')
                        && breaks_pair(&text[end..start])
                    {
                        forms.push(BREAK);
                    }
                }
                end = Some(start + token.len());
                let known = match key {
                    Some(key) => self.forms.get(key),
                    None => self.long_forms.get(token).copied(),
                };
                forms.push(match known {
                    Some(form) => form,
                    None => self.new_form(token, key),
                });
            });
            for &form in &forms {
                if form != BREAK {
                    self.words.add((form >> 32) as u32, field);
                }
            }
            for two in forms.windows(2) {
                let (a, b) = (two[0] as u32, two[1] as u32);
                if two[0] == BREAK || two[1] == BREAK {
                    continue;
                }
                // The pairs last seen starting with `a`, one slot per value of the low
                // bits of the second: most often this one.
                let slot = a as usize * SUCCESSORS + (b as usize & (SUCCESSORS - 1));
                let cached = self.successor[slot];
                let pair = if (cached >> 32) as u32 == b + 1 {
                    cached as u32
                } else {
                    let pair = self.new_pair(a, b);
                    self.successor[slot] = (u64::from(b + 1) << 32) | u64::from(pair);
                    pair
                };
                self.pairs.add(pair, field);
            }
        }
        self.forms_of_field = forms;
        self.words.end();
        self.pairs.end();
    }

    /// The run's keys in the order of the whole index (folded syllables in code point
    /// order; a syllable's spellings; the pairs it starts, by second syllable), and the
    /// postings grouped in that order.
    pub(super) fn finish(mut self) -> (Chunk, Spare) {
        let mut chunk = self.chunk;
        let folded_rank = ranks(chunk.folded.iter().map(String::as_str).collect());
        chunk.word_rank = ranks(
            chunk
                .spellings
                .iter()
                .map(|(f, s)| (folded_rank[*f as usize], s.as_str()))
                .collect(),
        );
        chunk.pair_rank = ranks(
            chunk
                .pairs
                .iter()
                .map(|&(a, b)| {
                    (u64::from(folded_rank[a as usize]) << 32) | u64::from(folded_rank[b as usize])
                })
                .collect(),
        );
        chunk.words = self.words.group(&chunk.word_rank, self.first);
        chunk.pair_postings = self.pairs.group(&chunk.pair_rank, self.first);
        self.forms.clear();
        self.by_pair.clear();
        self.successor.clear();
        let spare = Spare {
            forms: Some(self.forms),
            by_pair: Some(self.by_pair),
            successor: self.successor,
            words: self.words,
            pairs: self.pairs,
        };
        (chunk, spare)
    }
}
