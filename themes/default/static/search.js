/* bantin default theme: the search page.
 *
 * Reads ?q=, &unit= and &year= from the address and searches the index that
 * `bantin build` writes under tim-kiem/ (see src/search/mod.rs):
 *   search-index.js   the manifest (window.bantinSearchIndex), loaded by the page;
 *   index/N.js        shards of postings, loaded on demand for the query's keys;
 *   index/don-vi.js   the unit of every report, loaded when the unit filter is used;
 *   bai/N.js          what the results of a few reports show (results_per_file
 *                     in the manifest), loaded for the results shown.
 * Every file is a script that calls window.bantinSearch, loaded with a <script>
 * tag, so that search works from file:// and any folder of any host, offline.
 * No fetch(), no external resources.
 *
 * Words are syllables folded as the index folds them (lower case, no marks,
 * đ -> d). Results holding all words come first, then those whose words have
 * the same marks as the query's, then by closeness of the words and the fields
 * they are in (title, unit, documents, tags before the body), then newest.
 * "A quoted phrase" and a code like 35-NQ/TW must appear as written.
 */
(function () {
  'use strict';

  var box = document.getElementById('tim-kiem');
  var form = document.getElementById('search-form');
  var manifest = window.bantinSearchIndex;
  if (!box || !form) { return; }

  var root = box.getAttribute('data-root') || '';
  var qInput = form.elements.q;
  var unitSel = form.elements.unit;
  var yearSel = form.elements.year;
  var filters = form.querySelector('.search-filters');
  var statusEl = document.getElementById('search-status');
  var listEl = document.getElementById('search-results');
  var moreBtn = document.getElementById('search-more');
  var PAGE = 10;
  var MAX_TOKEN = 40;
  // In a phrase's syllables: a break (or a run too long to index) in between.
  var BREAK = '\u0000';

  // Field bits of a posting (src/search/mod.rs) and what a hit in each is worth.
  var WEIGHTS = [
    [4, 12],   // title
    [16, 10],  // unit
    [128, 10], // document
    [64, 8],   // tag
    [8, 6],    // kind
    [256, 6],  // author
    [32, 4],   // a unit above
    [2, 3],    // summary
    [1, 1]     // body
  ];

  // ---- data registered by the index's scripts ----------------------------

  var shards = {};      // shard number -> { key: postings }
  var docs = {};        // report number -> what a result shows
  var unitsOf = null;   // string: the unit of every report, fixed-width digits
  var DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
  var DIGIT = new Int8Array(128);
  for (var di = 0; di < DIGITS.length; di++) { DIGIT[DIGITS.charCodeAt(di)] = di; }

  window.bantinSearch = {
    add: function (n, data) { shards[n] = data; },
    doc: function (i, data) { docs[i] = data; },
    unitsOf: function (data) { unitsOf = data.units; }
  };

  // ---- loading scripts ---------------------------------------------------

  var loads = {};  // path -> Promise

  function load(path) {
    if (!loads[path]) {
      loads[path] = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = root + path;
        s.async = true;
        s.onload = function () { resolve(); };
        s.onerror = function () { delete loads[path]; reject(new Error(path)); };
        document.head.appendChild(s);
      });
    }
    return loads[path];
  }

  // ---- text --------------------------------------------------------------

  /* As lang::fold: lower case, NFD, marks U+0300-U+036F out, đ -> d, NFC. */
  function fold(s) {
    return String(s == null ? '' : s)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/\u0111/g, 'd')
      .normalize('NFC');
  }

  var TONES = { '\u0300': '1', '\u0309': '2', '\u0303': '3', '\u0301': '4', '\u0323': '5' };

  /* As search::variant: lower case with marks, the tone as a final digit ("hoà", "hòa" -> "hoa1"). */
  function variant(token) {
    var tone = '';
    var base = token.toLowerCase().normalize('NFD').replace(/[\u0300\u0301\u0303\u0309\u0323]/g, function (m) {
      if (!tone) { tone = TONES[m]; }
      return '';
    });
    return base.normalize('NFC') + tone;
  }

  var TOKEN = /[\p{Alphabetic}\p{N}\p{M}]+/gu;
  // White space as Rust's char::is_whitespace has it.
  var SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

  /* Whether the text between two syllables ends their adjacency, as the index has
   * it (search::breaks_pair): a line break, where a block of a report ends. */
  function breaks(between) {
    return between.indexOf('\n') >= 0;
  }

  /* Syllables of a text: [{ start, end, fold, spaced, brk }], null folds for runs too
   * long to index; spaced: white space before it, brk: no pair with the one before. */
  function tokenize(text) {
    var out = [];
    var m;
    var end = -1;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      var t = m[0];
      var between = end < 0 ? '' : text.slice(end, m.index);
      out.push({
        start: m.index,
        end: m.index + t.length,
        raw: t,
        fold: Array.from(t).length <= MAX_TOKEN ? fold(t) : null,
        spaced: SPACE.test(between),
        brk: between !== '' && breaks(between)
      });
      end = m.index + t.length;
    }
    return out;
  }

  /* Code point order, as the index's keys are sorted. */
  function cmp(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.charCodeAt(i);
      var y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) {
          x = x < 0xe000 ? x + 0x2000 : x - 0x800;
          y = y < 0xe000 ? y + 0x2000 : y - 0x800;
        }
        return x - y;
      }
    }
    return a.length - b.length;
  }

  function shardOf(key) {
    var s = manifest.shards;
    var lo = 0;
    var hi = s.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (cmp(s[mid], key) <= 0) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  }

  function lookup(key) {
    var shard = shards[shardOf(key)];
    return shard && Object.prototype.hasOwnProperty.call(shard, key) ? shard[key] : null;
  }

  /* Reads a posting list (src/search/mod.rs, encode_postings) into docs and values (typed
   * arrays as long as the number of reports); returns how many postings it has. Each
   * value is fields << 2 | how often (0: once ... 3: eight times or more). */
  var dict = new Int32Array(64);
  function readList(s, docs, values) {
    var i = 0;
    var len = s.length;
    var d;
    var v;
    var mul;
    // The distinct values, most used first.
    var count = 0;
    mul = 1;
    do { d = DIGIT[s.charCodeAt(i++)]; count += (d & 31) * mul; mul *= 32; } while (d >= 32);
    if (count > dict.length) { dict = new Int32Array(count); }
    for (var c = 0; c < count; c++) {
      v = 0;
      mul = 1;
      do { d = DIGIT[s.charCodeAt(i++)]; v += (d & 31) * mul; mul *= 32; } while (d >= 32);
      dict[c] = v;
    }
    var layout = 0;
    mul = 1;
    do { d = DIGIT[s.charCodeAt(i++)]; layout += (d & 31) * mul; mul *= 32; } while (d >= 32);
    var n = 0;
    var next = 0;
    if (layout === 0) {
      // Per report: gap << 5 | the value's place (31: 31 + the next number).
      while (i < len) {
        d = DIGIT[s.charCodeAt(i++)];
        var idx = d & 31;
        var gap = 0;
        mul = 1;
        while (d >= 32) { d = DIGIT[s.charCodeAt(i++)]; gap += (d & 31) * mul; mul *= 32; }
        if (idx === 31) {
          v = 0;
          mul = 1;
          do { d = DIGIT[s.charCodeAt(i++)]; v += (d & 31) * mul; mul *= 32; } while (d >= 32);
          idx += v;
        }
        next += gap;
        docs[n] = next;
        values[n] = dict[idx];
        n++;
        next++;
      }
      return n;
    }
    // One symbol of b bits per report from `first` on, 6 / b to a digit.
    layout -= 1;
    var b = layout & 3;
    var first = (layout - b) / 4;
    var span = 0;
    mul = 1;
    do { d = DIGIT[s.charCodeAt(i++)]; span += (d & 31) * mul; mul *= 32; } while (d >= 32);
    var mask = (1 << b) - 1;
    var direct = count <= mask ? count : mask - 1;
    var escapes = i + Math.ceil(span * b / 6);
    var perDigit = 6 / b;
    var doc = first;
    var end = first + span;
    for (; doc < end; i++) {
      var bits = DIGIT[s.charCodeAt(i)];
      for (var k = 0; k < perDigit && doc < end; k++, doc++, bits >>= b) {
        var sym = bits & mask;
        if (sym === 0) { continue; }
        var at;
        if (sym > direct) {
          v = 0;
          mul = 1;
          do { d = DIGIT[s.charCodeAt(escapes++)]; v += (d & 31) * mul; mul *= 32; } while (d >= 32);
          at = direct + v;
        } else {
          at = sym - 1;
        }
        docs[n] = doc;
        values[n] = dict[at];
        n++;
      }
    }
    return n;
  }

  // The weight of every combination of field bits: that of its best field.
  var WEIGHT_OF = new Uint8Array(512);
  for (var fi = 1; fi < 512; fi++) {
    for (var wi = 0; wi < WEIGHTS.length; wi++) {
      if (fi & WEIGHTS[wi][0]) { WEIGHT_OF[fi] = WEIGHTS[wi][1]; break; }
    }
  }

  // ---- the query ---------------------------------------------------------

  /* { terms: [{ fold, variant|null }], pairs: [{ key, required }], phrases: [[fold...]] } */
  function parse(q) {
    var seq = [];          // folds in order
    var marked = {};       // fold -> spelling typed with marks
    var pairs = [];
    var phrases = [];
    var parts = String(q).split(/["\u201c\u201d]/);
    var prev = null;
    function add(tokens, phrase) {
      var group = [];
      tokens.forEach(function (t) {
        if (!t.fold) { prev = null; return; }
        if (t.brk) {
          prev = null;
          if (group.length > 0) { group.push(BREAK); }
        }
        if (t.fold !== variant(t.raw)) { marked[t.fold] = variant(t.raw); }
        if (prev !== null) {
          pairs.push({ key: prev + ' ' + t.fold, required: phrase && group.length > 0 });
        }
        seq.push(t.fold);
        group.push(t.fold);
        prev = t.fold;
      });
      if (phrase && group.length > 1) { phrases.push(group); }
    }
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        add(tokenize(part), true);
      } else {
        // Words (runs without white space); 35-NQ/TW, 01-CT/ĐUK: several syllables
        // in one word are a phrase.
        var word = [];
        tokenize(part).forEach(function (t) {
          if (t.spaced && word.length > 0) {
            add(word, word.length > 1);
            word = [];
          }
          word.push(t);
        });
        if (word.length > 0) { add(word, word.length > 1); }
      }
    });
    var seen = {};
    var terms = [];
    seq.forEach(function (f) {
      if (!seen[f]) {
        seen[f] = true;
        terms.push({ fold: f, variant: marked[f] || null });
      }
    });
    var pseen = {};
    var uniquePairs = [];
    pairs.forEach(function (p) {
      if (pseen[p.key] === undefined) {
        pseen[p.key] = uniquePairs.length;
        uniquePairs.push(p);
      } else if (p.required) {
        uniquePairs[pseen[p.key]].required = true;
      }
    });
    return { terms: terms, pairs: uniquePairs, phrases: phrases };
  }

  function keysOf(query) {
    return query.terms.map(function (t) { return t.fold; })
      .concat(query.pairs.map(function (p) { return p.key; }));
  }

  // ---- ranking -----------------------------------------------------------

  function unitRange(id) {
    var units = manifest.units;
    for (var i = 0; i < units.length; i++) {
      if (units[i].id === id) {
        var end = i + 1;
        while (end < units.length && units[end].depth > units[i].depth) { end++; }
        return [i, end];
      }
    }
    return null;
  }

  function yearRange(year) {
    var ys = manifest.years;
    for (var i = 0; i < ys.length; i++) {
      if (String(ys[i][0]) === year) { return [ys[i][1], ys[i][1] + ys[i][2]]; }
    }
    return [0, 0];
  }

  function unitOf(doc) {
    var w = manifest.unit_digits;
    var u = 0;
    for (var k = w - 1; k >= 0; k--) { u = u * 32 + DIGIT[unitsOf.charCodeAt(doc * w + k)]; }
    return u;
  }

  /* The ranking's loops, each a small function of its own, so that the engine compiles
   * them after a few calls (a loop inside one large function runs interpreted for
   * longer). R holds the per-report arrays of one ranking. */
  function newRanking(n) {
    return {
      matched: new Uint8Array(n),
      same: new Uint8Array(n),
      score: new Int32Array(n),     // four times the score
      required: new Uint8Array(n),
      term: new Int32Array(n),      // the last term (plus one) that found the report
      weight: new Uint8Array(n),    // for that term: the best field's weight, times four,
      often: new Uint8Array(n),     // how often, and
      exact: new Uint8Array(n),     // whether with the same marks
      touched: new Int32Array(n),
      nTouched: 0,
      docs: new Int32Array(n),
      values: new Uint16Array(n)
    };
  }

  /* One spelling's postings into the ranking, in one pass. A term counts once per
   * report, with its best field, how often at most, and the same marks if any of its
   * spellings has them: a later spelling of the same term only adds what it improves. */
  function addSpelling(R, count, docs, values, mark, isExact) {
    var matched = R.matched;
    var same = R.same;
    var score = R.score;
    var term = R.term;
    var weight = R.weight;
    var often = R.often;
    var exact = R.exact;
    var touched = R.touched;
    var nTouched = R.nTouched;
    for (var j = 0; j < count; j++) {
      var doc = docs[j];
      var v = values[j];
      var w = 4 * WEIGHT_OF[(v >> 2) & 511];
      var o = v & 3;
      if (term[doc] !== mark) {
        term[doc] = mark;
        if (!matched[doc]) { touched[nTouched++] = doc; }
        matched[doc]++;
        same[doc] += isExact;
        score[doc] += w + o;
        weight[doc] = w;
        often[doc] = o;
        exact[doc] = isExact;
      } else {
        if (w > weight[doc]) { score[doc] += w - weight[doc]; weight[doc] = w; }
        if (o > often[doc]) { score[doc] += o - often[doc]; often[doc] = o; }
        if (isExact > exact[doc]) { same[doc]++; exact[doc] = 1; }
      }
    }
    R.nTouched = nTouched;
  }

  function addPair(count, docs, values, score, required, isRequired) {
    for (var j = 0; j < count; j++) {
      var doc = docs[j];
      var v = values[j];
      score[doc] += 8 * WEIGHT_OF[(v >> 2) & 511] + (v & 3);
      required[doc] += isRequired;
    }
  }

  /* The kept reports, best first: one number per report, sorted natively: all words
   * first, then the same marks, then the score, then the newest (reports are numbered
   * newest first). */
  function ordered(R, n, needed, keep) {
    var docBits = 1;
    while ((1 << docBits) < n) { docBits++; }
    var docScale = Math.pow(2, docBits);
    var scoreCap = Math.pow(2, 43 - docBits) - 1;
    var touched = R.touched;
    var matched = R.matched;
    var same = R.same;
    var score = R.score;
    var required = R.required;
    var keys = new Float64Array(R.nTouched);
    var nKeys = 0;
    var i;
    for (i = 0; i < R.nTouched; i++) {
      var doc = touched[i];
      if (required[doc] === needed && (keep === null || keep(doc))) {
        var head = Math.min(matched[doc], 31) * 32 + Math.min(same[doc], 31);
        keys[nKeys++] = ((head * (scoreCap + 1)) + Math.min(score[doc], scoreCap)) * docScale + (n - 1 - doc);
      }
    }
    var sorted = keys.subarray(0, nKeys).sort();
    var out = [];
    for (i = nKeys - 1; i >= 0; i--) {
      out.push((n - 1 - (sorted[i] % docScale)) | 0);
    }
    return out;
  }

  /* Runs the ranking's loops on made-up lists once, while the first query's shards are
   * loading: the engine compiles them then, not during the first answer. */
  var warmed = false;
  function warmUp() {
    if (warmed) { return; }
    warmed = true;
    var n = 4096;
    var R = newRanking(n);
    // Two values each: a dense list of two reports in three (2 bits a report, 4096
    // reports from 0), and a sparse one of every other report (gap 1, value 0).
    var dense = '201' + '3WW4' + new Array(Math.ceil(n / 3) + 1).join('h');
    var sparse = '201' + '0' + new Array(n / 2).join('W1');
    for (var k = 0; k < 3; k++) {
      [dense, sparse].forEach(function (list, i) {
        var count = readList(list, R.docs, R.values);
        addSpelling(R, count, R.docs, R.values, k + 1, i);
        addPair(count, R.docs, R.values, R.score, R.required, i);
      });
      ordered(R, n, 0, k ? null : function () { return true; });
    }
  }

  /* Report numbers, best first. */
  function rank(query, unit, year) {
    var n = manifest.reports;
    var lo = 0;
    var hi = n;
    if (year) {
      var yr = yearRange(year);
      lo = yr[0];
      hi = yr[1];
    }
    var ur = unit ? unitRange(unit) : null;
    if (unit && !ur) { return []; }
    function keep(d) {
      if (d < lo || d >= hi) { return false; }
      if (ur) {
        var u = unitOf(d);
        if (u < ur[0] || u >= ur[1]) { return false; }
      }
      return true;
    }
    if (!query.terms.length) {
      var all = [];
      for (var d = lo; d < hi; d++) { if (keep(d)) { all.push(d); } }
      return all;
    }
    var R = newRanking(n);
    for (var t = 0; t < query.terms.length; t++) {
      var term = query.terms[t];
      var entry = lookup(term.fold);
      if (!entry || typeof entry !== 'object') { continue; }
      var spellings = Object.keys(entry);
      for (var si = 0; si < spellings.length; si++) {
        var spelling = spellings[si];
        var isExact = term.variant !== null && spelling === term.variant ? 1 : 0;
        var count = readList(entry[spelling], R.docs, R.values);
        addSpelling(R, count, R.docs, R.values, t + 1, isExact);
      }
    }
    var needed = 0;
    for (var pi = 0; pi < query.pairs.length; pi++) {
      var p = query.pairs[pi];
      if (p.required) { needed++; }
      var list = lookup(p.key);
      if (typeof list !== 'string') { continue; }
      var pc = readList(list, R.docs, R.values);
      addPair(pc, R.docs, R.values, R.score, R.required, p.required ? 1 : 0);
    }
    return ordered(R, n, needed, lo === 0 && hi === n && !ur ? null : keep);
  }

  // ---- showing results ---------------------------------------------------

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text != null) { node.textContent = text; }
    return node;
  }

  /* Appends text to a node, each syllable of `terms` in a <mark>. */
  function highlight(node, text, terms) {
    var last = 0;
    tokenize(text).forEach(function (t) {
      if (t.fold && terms[t.fold]) {
        if (t.start > last) { node.appendChild(document.createTextNode(text.slice(last, t.start))); }
        node.appendChild(el('mark', null, text.slice(t.start, t.end)));
        last = t.end;
      }
    });
    if (last < text.length) { node.appendChild(document.createTextNode(text.slice(last))); }
    return node;
  }

  var SNIPPET_WORDS = 30;

  /* The part of the summary or body with the most query words: [text, before, after]. */
  function snippet(doc, terms) {
    var best = null;
    [doc.s || '', doc.b || ''].forEach(function (text, which) {
      var toks = tokenize(text);
      var hits = [];
      toks.forEach(function (t, i) { if (t.fold && terms[t.fold]) { hits.push(i); } });
      for (var h = 0; h < hits.length; h++) {
        var start = hits[h];
        var found = {};
        var count = 0;
        for (var k = h; k < hits.length && hits[k] < start + SNIPPET_WORDS; k++) {
          var f = toks[hits[k]].fold;
          if (!found[f]) { found[f] = true; count++; }
        }
        // The summary wins ties: it reads best.
        var value = count * 2 + (which === 0 ? 1 : 0);
        if (!best || value > best.value) { best = { value: value, text: text, toks: toks, at: start }; }
      }
    });
    if (!best) {
      var s = doc.s || doc.b || '';
      var cut = s.length > 240 ? s.slice(0, 240).replace(/\s+\S*$/, '') : s;
      return [cut, false, cut.length < s.length || (s === doc.b && !!doc.x)];
    }
    var toks = best.toks;
    var first = best.toks.length > SNIPPET_WORDS ? Math.max(0, best.at - 6) : 0;
    var lastTok = Math.min(toks.length - 1, first + SNIPPET_WORDS + 6);
    if (best.text.length <= 260) { first = 0; lastTok = toks.length - 1; }
    var from = first === 0 ? 0 : toks[first].start;
    var to = lastTok === toks.length - 1 ? best.text.length : toks[lastTok].end;
    var clipped = best.text === doc.b && !!doc.x;
    return [best.text.slice(from, to), from > 0, to < best.text.length || clipped];
  }

  /* Whether a report holds each quoted phrase (pairs only say that its pairs are there).
   * Its file keeps only the start of a long body (doc.x): a phrase not found in what
   * it keeps is taken on the word of its pairs. */
  function holdsPhrases(doc, phrases) {
    if (doc.x) { return true; }
    if (!phrases.some(function (p) { return p.length > 2; })) { return true; }
    var unit = manifest.units[doc.u] || {};
    var texts = [doc.t, unit.name, doc.k, doc.s, doc.b]
      .concat(doc.a || [], doc.v || [], doc.g || []);
    var seqs = texts.map(function (t) {
      return ' ' + tokenize(String(t || '')).map(function (x) {
        return (x.brk ? BREAK + ' ' : '') + (x.fold || BREAK);
      }).join(' ') + ' ';
    });
    return phrases.every(function (p) {
      var needle = ' ' + p.join(' ') + ' ';
      return seqs.some(function (s) { return s.indexOf(needle) >= 0; });
    });
  }

  function item(i, doc, terms) {
    var li = el('li');
    var art = el('article', 'card');
    var body = el('div', 'card-body');
    var h = el('h3', 'card-title');
    var a = el('a');
    a.href = root + doc.p;
    highlight(a, doc.t, terms);
    h.appendChild(a);
    body.appendChild(h);

    var meta = el('p', 'card-meta');
    if (doc.d) { meta.appendChild(el('span', null, doc.d)); }
    var unit = manifest.units[doc.u];
    if (unit) {
      if (doc.d) {
        var sep = el('span', 'sep', ' · ');
        sep.setAttribute('aria-hidden', 'true');
        meta.appendChild(sep);
      }
      var u = el('a', null, unit.name);
      u.href = root + manifest.unit_path.replace('{id}', unit.id);
      meta.appendChild(u);
    }
    body.appendChild(meta);
    var snip = snippet(doc, terms);
    if (snip[0]) {
      var p = el('p', 'card-summary');
      if (snip[1]) { p.appendChild(document.createTextNode('… ')); }
      highlight(p, snip[0], terms);
      if (snip[2]) { p.appendChild(document.createTextNode(' …')); }
      body.appendChild(p);
    }
    art.appendChild(body);
    li.appendChild(art);
    li.setAttribute('data-report', String(i));
    return li;
  }

  // ---- the page ----------------------------------------------------------

  function str(name) { return box.getAttribute('data-' + name) || ''; }

  function fill(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (all, k) {
      return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : all;
    });
  }

  function params() {
    var out = { q: '', unit: '', year: '' };
    var sp;
    try { sp = new URLSearchParams(window.location.search); } catch (e) { return out; }
    out.q = (sp.get('q') || '').trim();
    out.unit = sp.get('unit') || '';
    out.year = sp.get('year') || '';
    return out;
  }

  function updateUrl(q, unit, year) {
    var parts = [];
    if (q) { parts.push('q=' + encodeURIComponent(q)); }
    if (unit) { parts.push('unit=' + encodeURIComponent(unit)); }
    if (year) { parts.push('year=' + encodeURIComponent(year)); }
    var url = window.location.pathname + (parts.length ? '?' + parts.join('&') : '') + window.location.hash;
    try { window.history.replaceState(null, '', url); } catch (e) { /* some file:// setups refuse */ }
  }

  function option(sel, value, label) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    sel.appendChild(o);
  }

  function selectValue(sel, value) {
    sel.value = '';
    for (var i = 0; i < sel.options.length; i++) {
      if (sel.options[i].value === value) { sel.value = value; return; }
    }
  }

  var current = null;  // { results, terms, phrases, shown }
  var generation = 0;
  var timer = null;

  function setStatus(text) { statusEl.textContent = text; }

  function showMore() {
    var run = current;
    if (!run) { return Promise.resolve(); }
    var gen = generation;
    var batch = run.results.slice(run.shown, run.shown + PAGE);
    if (!batch.length) { moreBtn.hidden = true; return Promise.resolve(); }
    moreBtn.disabled = true;
    var perFile = manifest.results_per_file || 1;
    return Promise.all(batch.map(function (i) {
      return load('tim-kiem/bai/' + Math.floor(i / perFile) + '.js');
    }))
      .then(function () {
        if (gen !== generation) { return null; }
        var start = run.shown;
        var bad = {};
        var dropped = 0;
        var frag = document.createDocumentFragment();
        batch.forEach(function (i) {
          var doc = docs[i];
          if (!doc || !holdsPhrases(doc, run.phrases)) {
            // All the pairs of a phrase were there, but not in a row: not a result.
            bad[i] = true;
            dropped++;
            return;
          }
          frag.appendChild(item(i, doc, run.terms));
        });
        listEl.appendChild(frag);
        run.shown = start + batch.length - dropped;
        if (dropped) {
          run.results = run.results.filter(function (i) { return !bad[i]; });
          announce(run);
          if (run.shown - start < PAGE && run.shown < run.results.length) { return showMore(); }
        }
        moreBtn.hidden = run.shown >= run.results.length;
        moreBtn.disabled = false;
        return null;
      }, function () {
        if (gen === generation) { setStatus(str('unavailable')); }
      });
  }

  function announce(run) {
    var n = run.results.length;
    box.setAttribute('data-count', String(n));
    if (n === 0) {
      setStatus(str('no-results'));
    } else if (run.q) {
      setStatus(fill(str(n === 1 ? 'results-for-one' : 'results-for'), { n: n, q: run.q }));
    } else {
      setStatus(fill(str(n === 1 ? 'results-count-one' : 'results-count'), { n: n }));
    }
  }

  function run(pushUrl) {
    var q = qInput.value.trim();
    var unit = unitSel.value;
    var year = yearSel.value;
    if (pushUrl) { updateUrl(q, unit, year); }
    var gen = ++generation;
    var query = parse(q);
    var t0 = performance.now();
    // What is being searched, and when it is done: for tests and measurements.
    box.setAttribute('data-state', 'busy');
    box.setAttribute('data-query', q);
    box.setAttribute('data-unit', unit);
    box.setAttribute('data-year', year);
    if (!query.terms.length && !unit && !year) {
      current = null;
      listEl.textContent = '';
      moreBtn.hidden = true;
      setStatus(str('hint'));
      box.setAttribute('data-state', 'done');
      return Promise.resolve();
    }
    var needed = {};
    keysOf(query).forEach(function (k) { needed['tim-kiem/index/' + shardOf(k) + '.js'] = true; });
    if (unit) { needed['tim-kiem/index/don-vi.js'] = true; }
    var paths = Object.keys(needed);
    var waiting = paths.some(function (p) { return !loads[p]; });
    if (waiting) { setStatus(str('loading')); }
    var loading = Promise.all(paths.map(load));
    warmUp();
    return loading.then(function () {
      if (gen !== generation) { return null; }
      var t1 = performance.now();
      var results = rank(query, unit, year);
      var t2 = performance.now();
      var terms = {};
      query.terms.forEach(function (t) { terms[t.fold] = true; });
      current = { q: q, results: results, terms: terms, phrases: query.phrases, shown: 0 };
      listEl.textContent = '';
      announce(current);
      return showMore().then(function () {
        if (gen !== generation) { return; }
        var t3 = performance.now();
        box.setAttribute('data-load-ms', (t1 - t0).toFixed(1));
        box.setAttribute('data-rank-ms', (t2 - t1).toFixed(1));
        box.setAttribute('data-show-ms', (t3 - t2).toFixed(1));
        box.setAttribute('data-total-ms', (t3 - t0).toFixed(1));
        box.setAttribute('data-state', 'done');
      });
    }, function () {
      if (gen === generation) {
        setStatus(str('unavailable'));
        box.setAttribute('data-state', 'error');
      }
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; run(true); }, 150);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (timer) { clearTimeout(timer); timer = null; }
    run(true);
  });
  qInput.addEventListener('input', schedule);
  unitSel.addEventListener('change', function () { run(true); });
  yearSel.addEventListener('change', function () { run(true); });
  moreBtn.addEventListener('click', function () { showMore(); });

  var p = params();
  qInput.value = p.q;
  if (!manifest || !manifest.shards) {
    setStatus(str('unavailable'));
    return;
  }
  manifest.units.forEach(function (u) {
    option(unitSel, u.id, new Array(u.depth + 1).join('\u00a0\u00a0\u00a0') + u.name);
  });
  manifest.years.forEach(function (y) { option(yearSel, String(y[0]), String(y[0])); });
  if (filters) { filters.hidden = false; }
  selectValue(unitSel, p.unit);
  selectValue(yearSel, p.year);
  run(false);
}());
