/* bantin default theme: the search page.
 *
 * Reads ?q=, &unit= and &year= from the address, loads the index
 * (tim-kiem/search-index.js, which sets window.bantinSearchIndex) with a plain
 * <script> tag so that it also works from file://, and lists the reports whose
 * folded text contains every word of the query, title matches first.
 * No fetch(), no external resources.
 */
(function () {
  'use strict';

  var box = document.getElementById('tim-kiem');
  var form = document.getElementById('search-form');
  if (!box || !form) { return; }

  var root = box.getAttribute('data-root') || '';
  var qInput = form.elements.q;
  var unitSel = form.elements.unit;
  var yearSel = form.elements.year;
  var filters = form.querySelector('.search-filters');
  var statusEl = document.getElementById('search-status');
  var listEl = document.getElementById('search-results');
  var moreBtn = document.getElementById('search-more');
  var lang = box.getAttribute('data-lang') || 'vi';
  var PAGE = 50;

  var reports = null;      // the index, prepared
  var results = [];        // current results
  var shown = 0;           // how many of them are in the list
  var timer = null;

  function str(name) { return box.getAttribute('data-' + name) || ''; }

  function fill(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (all, k) {
      return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : all;
    });
  }

  /* Fold like the index: lower case, no marks, đ -> d. */
  function fold(s) {
    return String(s == null ? '' : s)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/đ/g, 'd');
  }

  function words(q) {
    return fold(q).split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  /* don-vi/ID/index.html or don-vi/ID/ -> ID; otherwise the path itself. */
  function unitKey(r) {
    var p = String(r.unit_path || '');
    var m = /(?:^|\/)don-vi\/([^\/]+)/.exec(p);
    return m ? m[1] : (p || String(r.unit || ''));
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

  function compare(a, b) {
    try { return a.localeCompare(b, lang, { sensitivity: 'base', numeric: true }); }
    catch (e) { return a < b ? -1 : a > b ? 1 : 0; }
  }

  function prepare(index) {
    var list = (index && index.reports) || [];
    var units = {};
    var years = {};
    reports = list.map(function (r, i) {
      var key = unitKey(r);
      if (r.unit) { units[key] = String(r.unit); }
      if (r.year != null && r.year !== '') { years[String(r.year)] = true; }
      return {
        r: r,
        i: i,
        title: fold(r.title),
        titleWords: ' ' + fold(r.title).replace(/[^a-z0-9]+/g, ' ') + ' ',
        text: fold(r.text) + ' ' + fold(r.title),
        unit: key,
        // optional: ids of the unit and its ancestors, so that a unit also finds
        // the reports of the units below it, as its page does
        units: Array.isArray(r.units) ? r.units.map(String) : [key],
        year: String(r.year)
      };
    });

    Object.keys(units)
      .sort(function (a, b) { return compare(units[a], units[b]); })
      .forEach(function (k) { option(unitSel, k, units[k]); });
    Object.keys(years)
      .sort(function (a, b) { return Number(b) - Number(a) || compare(b, a); })
      .forEach(function (y) { option(yearSel, y, y); });

    if (filters) { filters.hidden = false; }
  }

  function selectValue(sel, value) {
    if (!value) { sel.value = ''; return; }
    for (var i = 0; i < sel.options.length; i++) {
      if (sel.options[i].value === value) { sel.value = value; return; }
    }
    sel.value = '';
  }

  function search(q, unit, year) {
    var ws = words(q);
    var phrase = ws.join(' ');
    var out = [];
    if (!ws.length && !unit && !year) { return out; }
    reports.forEach(function (e) {
      if (unit && e.unit !== unit && e.units.indexOf(unit) < 0) { return; }
      if (year && e.year !== year) { return; }
      var score = 0;
      for (var k = 0; k < ws.length; k++) {
        var w = ws[k];
        if (e.title.indexOf(w) >= 0) {
          score += 10;
          // a whole word, then the start of a word, counts more than a part of one
          if (e.titleWords.indexOf(' ' + w + ' ') >= 0) { score += 4; }
          else if (e.titleWords.indexOf(' ' + w) >= 0) { score += 2; }
        } else if (e.text.indexOf(w) >= 0) {
          score += 1;
        } else {
          return;
        }
      }
      if (ws.length > 1 && e.title.indexOf(phrase) >= 0) { score += 20; }
      out.push({ e: e, score: score });
    });
    out.sort(function (a, b) { return b.score - a.score || a.e.i - b.e.i; });
    return out;
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text != null) { n.textContent = text; }
    return n;
  }

  function item(r) {
    var li = el('li');
    var art = el('article', 'card');
    var body = el('div', 'card-body');
    var h = el('h3', 'card-title');
    var a = el('a', null, r.title);
    a.href = root + r.path;
    h.appendChild(a);
    body.appendChild(h);

    var meta = el('p', 'card-meta');
    if (r.date_short) {
      meta.appendChild(el('span', null, r.date_short));
    }
    if (r.unit) {
      if (r.date_short) {
        var sep = el('span', 'sep', ' · ');
        sep.setAttribute('aria-hidden', 'true');
        meta.appendChild(sep);
      }
      if (r.unit_path) {
        var u = el('a', null, r.unit);
        u.href = root + r.unit_path;
        meta.appendChild(u);
      } else {
        meta.appendChild(el('span', null, r.unit));
      }
    }
    body.appendChild(meta);
    if (r.summary) { body.appendChild(el('p', 'card-summary', r.summary)); }
    art.appendChild(body);
    li.appendChild(art);
    return li;
  }

  function showMore() {
    var end = Math.min(results.length, shown + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = shown; i < end; i++) { frag.appendChild(item(results[i].e.r)); }
    listEl.appendChild(frag);
    shown = end;
    moreBtn.hidden = shown >= results.length;
  }

  function run(pushUrl) {
    if (!reports) { return; }
    var q = qInput.value.trim();
    var unit = unitSel.value;
    var year = yearSel.value;
    if (pushUrl) { updateUrl(q, unit, year); }

    results = search(q, unit, year);
    listEl.textContent = '';
    shown = 0;

    if (!words(q).length && !unit && !year) {
      statusEl.textContent = str('hint');
      moreBtn.hidden = true;
      return;
    }
    var n = results.length;
    if (n === 0) {
      statusEl.textContent = str('no-results');
    } else if (q) {
      statusEl.textContent = fill(str(n === 1 ? 'results-for-one' : 'results-for'), { n: n, q: q });
    } else {
      statusEl.textContent = fill(str(n === 1 ? 'results-count-one' : 'results-count'), { n: n });
    }
    showMore();
  }

  function start(index) {
    prepare(index);
    var p = params();
    qInput.value = p.q;
    selectValue(unitSel, p.unit);
    selectValue(yearSel, p.year);
    run(false);
  }

  function unavailable() {
    statusEl.textContent = str('unavailable');
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (timer) { clearTimeout(timer); timer = null; }
    run(true);
  });
  qInput.addEventListener('input', function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; run(true); }, 200);
  });
  unitSel.addEventListener('change', function () { run(true); });
  yearSel.addEventListener('change', function () { run(true); });
  moreBtn.addEventListener('click', showMore);

  // Fill the query box at once, before the index is ready.
  qInput.value = params().q;

  if (window.bantinSearchIndex) {
    start(window.bantinSearchIndex);
  } else {
    statusEl.textContent = str('loading');
    var s = document.createElement('script');
    s.src = root + 'tim-kiem/search-index.js';
    s.onload = function () {
      if (window.bantinSearchIndex) { start(window.bantinSearchIndex); } else { unavailable(); }
    };
    s.onerror = unavailable;
    document.head.appendChild(s);
  }
}());
