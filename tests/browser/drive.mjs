// Drives Debian's Chromium with playwright-core for tests/browser.rs, which builds the
// site, serves it and checks what this prints: one JSON object on stdout.
//
//   node drive.mjs '{"scenario": "...", "base": "file:///.../" or "http://127.0.0.1:N/bantin/", ...}'
//
// Scenarios: search (type, filter, follow a result), axe (accessibility of some pages),
// screenshots (390 px and 1280 px), nojs (the search page without JavaScript), bench
// (timings of a few queries). Every page opened records its console errors, uncaught
// exceptions and failed requests in `errors`.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const cmd = JSON.parse(process.argv[2]);
const errors = [];
const TIMEOUT = 20000;

/* The browser's own request for /favicon.ico at the root of a host that serves the site
 * under a sub-path: outside the site, so not the site's error. */
function hostFavicon(url) {
  if (!url || !cmd.base.startsWith('http')) { return false; }
  const u = new URL(url);
  const base = new URL(cmd.base);
  return u.origin === base.origin && u.pathname === '/favicon.ico' && base.pathname !== '/';
}

function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !hostFavicon(m.location().url)) {
      errors.push({ url: page.url(), kind: 'console', text: m.text(), source: m.location().url });
    }
  });
  page.on('pageerror', (e) => errors.push({ url: page.url(), kind: 'exception', text: String(e) }));
  page.on('requestfailed', (r) => errors.push({ url: page.url(), kind: 'request', text: `${r.url()} ${r.failure()?.errorText}` }));
  page.on('response', (r) => {
    if (r.status() >= 400) { errors.push({ url: page.url(), kind: 'http', text: `${r.status()} ${r.url()}` }); }
  });
  page.setDefaultTimeout(TIMEOUT);
  return page;
}

/* Waits until the search page has answered `q` (with `unit` and `year`). */
async function searched(page, q, unit = '', year = '') {
  await page.waitForFunction(([q, unit, year]) => {
    const box = document.getElementById('tim-kiem');
    return box && box.dataset.state === 'done' && box.dataset.query === q
      && box.dataset.unit === unit && box.dataset.year === year;
  }, [q, unit, year]);
}

async function results(page) {
  return page.$$eval('#search-results > li', (lis) => lis.map((li) => {
    const a = li.querySelector('.card-title a');
    return {
      title: a.textContent,
      href: a.getAttribute('href'),
      marks: Array.from(li.querySelectorAll('mark')).map((m) => m.textContent),
      meta: li.querySelector('.card-meta').textContent,
    };
  }));
}

async function state(page) {
  return page.$eval('#tim-kiem', (box) => ({
    status: document.getElementById('search-status').textContent,
    count: Number(box.dataset.count),
    url: location.href,
    load_ms: Number(box.dataset.loadMs),
    rank_ms: Number(box.dataset.rankMs),
    show_ms: Number(box.dataset.showMs),
    total_ms: Number(box.dataset.totalMs),
  }));
}

async function scenarioSearch(context) {
  const out = {};
  const page = watch(await context.newPage());
  // The header's search box of the home page leads to the search page.
  await page.goto(cmd.base + 'index.html');
  await page.locator('#header-q').pressSequentially(cmd.header_query);
  await Promise.all([page.waitForURL(/tim-kiem\/index\.html\?q=/), page.locator('#header-q').press('Enter')]);
  await searched(page, cmd.header_query);
  out.header = { ...(await state(page)), results: await results(page) };

  // Typing on the search page searches as one types.
  await page.locator('#q').fill('');
  await page.locator('#q').pressSequentially(cmd.query, { delay: 20 });
  await searched(page, cmd.query);
  out.typed = { ...(await state(page)), results: await results(page) };

  // A filter narrows the results; the address holds the search.
  await page.selectOption('#search-unit', cmd.unit);
  await searched(page, cmd.query, cmd.unit);
  out.filtered = { ...(await state(page)), results: await results(page) };
  await page.selectOption('#search-year', cmd.year);
  await searched(page, cmd.query, cmd.unit, cmd.year);
  out.by_year = { ...(await state(page)), results: await results(page) };

  // A search can be linked: its address, opened anew, gives the same results.
  const linked = watch(await context.newPage());
  const params = new URLSearchParams({ q: cmd.query, unit: cmd.unit }).toString();
  await linked.goto(cmd.base + 'tim-kiem/index.html?' + params);
  await searched(linked, cmd.query, cmd.unit);
  out.linked = { ...(await state(linked)), results: await results(linked) };
  await linked.close();

  // "Show more" adds results.
  await page.selectOption('#search-year', '');
  await page.selectOption('#search-unit', '');
  await searched(page, cmd.query);
  const before = (await results(page)).length;
  if (await page.locator('#search-more').isVisible()) {
    await page.locator('#search-more').click();
    await page.waitForFunction((n) => document.querySelectorAll('#search-results > li').length > n, before);
  }
  out.more = { before, after: (await results(page)).length };

  // Following a result opens its report.
  const first = page.locator('#search-results > li .card-title a').first();
  out.followed_title = await first.textContent();
  await Promise.all([page.waitForLoadState('load'), first.click()]);
  await page.waitForURL((u) => !u.toString().includes('tim-kiem'));
  out.report = { url: page.url(), h1: await page.locator('main h1').textContent() };

  // Other queries, each from its own address.
  out.queries = {};
  for (const q of cmd.queries || []) {
    const p = watch(await context.newPage());
    await p.goto(cmd.base + 'tim-kiem/index.html?q=' + encodeURIComponent(q));
    await searched(p, q);
    out.queries[q] = { ...(await state(p)), results: await results(p) };
    await p.close();
  }
  return out;
}

async function settle(page) {
  if (await page.locator('#tim-kiem').count()) {
    await page.waitForFunction(() => document.getElementById('tim-kiem').dataset.state === 'done');
  }
}

async function scenarioAxe(context) {
  const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const out = {};
  for (const p of cmd.pages) {
    const page = watch(await context.newPage());
    await page.goto(cmd.base + p);
    await settle(page);
    await page.addScriptTag({ content: axe });
    const violations = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
      }));
    });
    out[p] = violations;
    await page.close();
  }
  return out;
}

async function scenarioScreenshots(context) {
  const files = [];
  fs.mkdirSync(cmd.artifacts, { recursive: true });
  for (const width of [390, 1280]) {
    const page = watch(await context.newPage());
    await page.setViewportSize({ width, height: 900 });
    for (const [name, p] of Object.entries(cmd.pages)) {
      await page.goto(cmd.base + p);
      await settle(page);
      const file = path.join(cmd.artifacts, `${cmd.label}-${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      files.push({ file, width, page: p, overflow });
    }
    await page.close();
  }
  return { files };
}

async function scenarioNoJs(browser) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = watch(await context.newPage());
  await page.goto(cmd.base + 'tim-kiem/index.html?q=' + encodeURIComponent('hội nghị'));
  const out = {
    text: await page.locator('main').innerText(),
    links: await page.$$eval('main a', (as) => as.map((a) => a.getAttribute('href'))),
  };
  await context.close();
  return out;
}

async function scenarioBench(context) {
  const out = [];
  const page = watch(await context.newPage());
  const [first, ...rest] = cmd.queries;
  const t0 = Date.now();
  await page.goto(cmd.base + 'tim-kiem/index.html?q=' + encodeURIComponent(first));
  await searched(page, first);
  out.push({ q: first, cold: true, page_ms: Date.now() - t0, ...(await state(page)) });
  for (const q of rest) {
    await page.locator('#q').fill(q);
    await page.locator('#q').press('Enter');
    await searched(page, q);
    out.push({ q, cold: false, ...(await state(page)) });
  }
  // The same queries again: everything they need is loaded, so this is the answer alone.
  for (const q of cmd.queries) {
    await page.locator('#q').fill(q);
    await page.locator('#q').press('Enter');
    await searched(page, q);
    out.push({ q, cold: false, again: true, ...(await state(page)) });
  }
  return out;
}

const browser = await chromium.launch({
  executablePath: cmd.chromium,
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
let result;
try {
  if (cmd.scenario === 'nojs') {
    result = await scenarioNoJs(browser);
  } else {
    const context = await browser.newContext();
    const run = { search: scenarioSearch, axe: scenarioAxe, screenshots: scenarioScreenshots, bench: scenarioBench }[cmd.scenario];
    if (!run) { throw new Error(`unknown scenario ${cmd.scenario}`); }
    result = await run(context);
  }
  process.stdout.write(JSON.stringify({ ok: true, result, errors }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e), errors }) + '\n');
} finally {
  await browser.close();
}
