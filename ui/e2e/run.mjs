// Browser scenarios for Clew's UI, run by ui/browser_test.go with a live
// server. Drives Debian's Chromium through playwright-core (no browser
// download). Configuration comes as JSON in $CLEW_E2E; each scenario prints
// one line "RESULT {name, ok, error, log, metrics}".
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cfg = JSON.parse(process.env.CLEW_E2E ?? '{}');
const base = cfg.baseURL;
const shot = (name) => join(cfg.artifacts, `${name}.png`);

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Each scenario gets a fresh page; page errors, console errors and CSP
// violations fail it.
async function withPage(ctx, fn) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const problems = [];
  const dialogs = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.on('dialog', async (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss();
  });
  try {
    await fn(page, { dialogs });
    assert(dialogs.length === 0, `a dialog opened: ${dialogs.join('; ')}`);
    assert(problems.length === 0, problems.join('\n'));
  } finally {
    await page.close();
  }
}

const rows = (page) => page.locator('[data-testid=timeline] .tl-row');

async function openTrace(page, id, query = '') {
  await page.goto(`${base}/trace/${id}${query}`);
  await page.waitForSelector('[data-testid=timeline] .tl-row');
}

const scenarios = {
  async search(page, log) {
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-testid=results] li');
    const n = await page.locator('[data-testid=results] li').count();
    log(`${n} results for the default search`);
    assert(n >= 4, `want at least 4 results, got ${n}`);
    assert((await page.locator('[data-testid=scatter] .pt').count()) === n, 'one scatter point per result');
    assert((await page.locator('[data-testid=scatter] .pt-error').count()) >= 1, 'failed traces drawn as error points');
    // Search by service and operation (with the datalist suggestions loaded).
    await page.fill('input[name=service]', 'frontend');
    await page.waitForFunction(() => document.querySelectorAll('#operations-list option').length > 0);
    await page.fill('input[name=operation]', 'POST /api/checkout');
    await page.fill('input[name=tags]', 'error=true');
    await page.click('button[type=submit]');
    await page.waitForURL(/service=frontend/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=results] li').length === 1);
    assert(page.url().includes('tags=error%3Dtrue'), `tags not in the URL: ${page.url()}`);
    assert((await page.locator('[data-testid=results] .result-error').count()) === 1, 'the failed trace is marked');
    // A shared URL restores the form and the results.
    await page.goto(`${base}/search?service=frontend&lookback=6h&sort=longest`);
    await page.waitForSelector('[data-testid=results] li');
    assert((await page.inputValue('input[name=service]')) === 'frontend', 'service restored from the URL');
    assert((await page.inputValue('select[name=lookback]')) === '6h', 'lookback restored from the URL');
    const durs = await page.locator('.result-dur').allTextContents();
    log(`sorted by longest: ${durs.join(', ')}`);
    await page.screenshot({ path: shot('search') });
    // A click on a result opens the trace.
    await page.locator('.result-title').first().click();
    await page.waitForURL(/\/trace\//);
    await page.waitForSelector('[data-testid=timeline] .tl-row');
  },

  async trace(page, log) {
    await openTrace(page, cfg.failing);
    await page.waitForSelector('[data-testid=summary]');
    const summary = await page.textContent('[data-testid=summary]');
    log(`summary: ${summary}`);
    assert(/failed/.test(summary), 'the summary says the trace failed');
    assert((await rows(page).count()) === 7, 'seven spans drawn');
    // Critical path and error origin are visible.
    const crit = await page.locator('.tl-bar.is-crit').count();
    assert(crit >= 3, `critical path marks: ${crit}`);
    const origin = page.locator('.tl-row', { has: page.locator('.badge-origin') });
    assert((await origin.count()) === 1, 'one row marked as the error origin');
    assert((await origin.locator('.tl-svc').textContent()) === 'bank', 'the origin is in bank');
    assert((await page.textContent('[data-testid=error-origin]')).includes('bank'), 'the header names the error origin');
    // Collapse the root, expand it again, then select a span.
    await rows(page).first().locator('.tl-toggle').click();
    assert((await rows(page).count()) === 1, 'collapsing the root hides the rest');
    await rows(page).first().locator('.tl-toggle').click();
    assert((await rows(page).count()) === 7, 'expanding shows them again');
    await page.locator('.tl-row', { hasText: 'Charge' }).click();
    await page.waitForSelector('[data-testid=span-panel]');
    await page.waitForSelector('[data-testid=span-attributes]');
    const attrs = await page.textContent('[data-testid=span-attributes]');
    assert(attrs.includes('payment.amount') && attrs.includes('42.00'), `attributes shown: ${attrs}`);
    assert(page.url().includes('span='), 'the selected span is in the URL');
    // Keyboard: down moves to the bank span, which shows the origin and the stack trace.
    await page.focus('[data-testid=timeline]');
    await page.keyboard.press('ArrowDown');
    await page.waitForSelector('[data-testid=origin-callout]');
    assert((await page.textContent('.span-title')) === 'authorize', 'ArrowDown selected the next span');
    assert((await page.textContent('.stack')).includes('Authorizer.java:42'), 'the exception stack trace is shown');
    await page.screenshot({ path: shot('trace-timeline') });
    // Left goes to the parent; Enter hides and shows the panel.
    await page.keyboard.press('ArrowLeft');
    assert((await page.textContent('.span-title')) === 'Charge', 'ArrowLeft selected the parent');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=span-panel]', { state: 'detached' });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=span-panel]');
    // Find in trace.
    await page.fill('.tl-find', 'authorize');
    await page.press('.tl-find', 'Enter');
    assert((await page.textContent('[data-testid=find-count]')).startsWith('1 of 1'), 'find counts one match');
    assert((await page.textContent('.span-title')) === 'authorize', 'Enter in find selects the match');
    // Collapse to a depth.
    await page.selectOption('select[aria-label="Expand to depth"]', '2');
    const shown = await rows(page).count();
    assert(shown === 2, `expand to level 2 shows 2 rows, got ${shown}`);
    // A deep link opens the same span.
    const spanURL = page.url();
    await page.goto(spanURL);
    await page.waitForSelector('[data-testid=span-panel]');
    assert((await page.textContent('.span-title')) === 'authorize', 'the URL restores the selected span');
  },

  async abnormal(page, log) {
    // Trace 3's bank call took 380 ms where 25 earlier ones took 80 ms.
    await openTrace(page, cfg.slow);
    await page.waitForSelector('[data-testid=summary]');
    log(`summary: ${await page.textContent('[data-testid=summary]')}`);
    await page.waitForSelector('.tl-row .badge-slow');
    const slow = page.locator('.tl-row', { has: page.locator('.badge-slow') });
    const names = await slow.locator('.tl-name').allTextContents();
    log(`abnormal spans: ${names.join(', ')}`);
    assert(names.includes('authorize'), 'the slow bank call is marked');
    assert((await page.locator('.tl-baseline').count()) >= 1, 'the baseline is drawn');
    await page.locator('.tl-row', { hasText: 'authorize' }).click();
    await page.waitForSelector('.callout-slow');
    await page.screenshot({ path: shot('trace-abnormal') });
  },

  async views(page, log) {
    await openTrace(page, cfg.failing);
    await page.click('role=tab[name="Flame graph"]');
    await page.waitForSelector('[data-testid=flame] .fl');
    const fl = await page.locator('[data-testid=flame] .fl').count();
    assert(fl === 7, `flame graph draws 7 spans, got ${fl}`);
    assert(page.url().includes('view=flame'), 'the view is in the URL');
    await page.locator('[data-testid=flame] .fl[data-row="6"]').click();
    await page.waitForSelector('[data-testid=span-panel]');
    await page.screenshot({ path: shot('trace-flame') });
    await page.click('role=tab[name="Service graph"]');
    await page.waitForSelector('[data-testid=graph] .node');
    const nodes = await page.locator('[data-testid=graph] .node').count();
    const edges = await page.locator('[data-testid=graph] .edge').count();
    log(`service graph: ${nodes} nodes, ${edges} edges`);
    assert(nodes === 5, `5 services, got ${nodes}`);
    assert(edges === 4, `4 caller→callee pairs, got ${edges}`);
    assert((await page.locator('[data-testid=graph] .edge-error').count()) >= 1, 'failed calls drawn as errors');
    await page.screenshot({ path: shot('trace-graph') });
    await page.click('role=tab[name="Statistics"]');
    await page.waitForSelector('[data-testid=stats] tbody tr');
    const st = await page.locator('[data-testid=stats] tbody tr').count();
    assert(st === 7, `7 service/operation rows, got ${st}`);
    await page.screenshot({ path: shot('trace-stats') });
    await page.click('role=tab[name="JSON"]');
    await page.waitForSelector('[data-testid=rawjson] pre.json');
    assert((await page.textContent('pre.json')).includes('resourceSpans'), 'OTLP JSON shown');
    await page.click('text=Jaeger (API v1)');
    await page.waitForFunction(() => document.querySelector('pre.json')?.textContent.includes('"processes"'));
    const dl = await page.locator('a[download]').first().getAttribute('href');
    const resp = await page.request.get(base + dl);
    assert(resp.ok(), `download link ${dl} answers ${resp.status()}`);
  },

  async upload(page, log) {
    await page.goto(`${base}/search`);
    await page.setInputFiles('[data-testid=upload-input]', cfg.otlpFile);
    await page.waitForURL(new RegExp(`/trace/${cfg.otlpTrace}`));
    await page.waitForSelector('[data-testid=timeline] .tl-row');
    assert((await page.textContent('.badge-upload')).includes('upload-otlp.json'), 'marked as uploaded');
    assert((await rows(page).count()) === 7, 'uploaded OTLP trace has 7 spans');
    assert((await page.locator('.tl-row .badge-origin').count()) === 1, 'error origin found in the browser');
    assert((await page.locator('.tl-bar.is-crit').count()) >= 3, 'critical path computed in the browser');
    const summary = await page.textContent('[data-testid=summary]');
    log(`uploaded summary: ${summary}`);
    await page.locator('.tl-row', { hasText: 'authorize' }).click();
    await page.waitForSelector('[data-testid=origin-callout]');
    await page.screenshot({ path: shot('upload-otlp') });
    // The server has never seen it.
    const r = await page.request.get(`${base}/api/traces/${cfg.otlpTrace}`);
    assert(r.status() === 404, `uploaded trace is not stored (status ${r.status()})`);
    await page.setInputFiles('[data-testid=upload-input]', cfg.jaegerFile);
    await page.waitForURL(new RegExp(`/trace/${cfg.jaegerTrace}`));
    await page.waitForSelector('[data-testid=timeline] .tl-row');
    assert((await rows(page).count()) === 8, 'uploaded Jaeger trace has 8 spans');
    await page.locator('.tl-row', { hasText: 'Charge' }).click();
    await page.waitForSelector('[data-testid=span-attributes]');
    assert((await page.textContent('[data-testid=span-attributes]')).includes('payment.amount'), 'Jaeger tags shown as attributes');
    await page.click('role=tab[name="Flame graph"]');
    await page.waitForSelector('[data-testid=flame] .fl');
  },

  async compare(page, log) {
    await page.goto(`${base}/search?service=frontend`);
    await page.waitForSelector('[data-testid=results] li');
    const pick = async (id) => page.check(`input[aria-label="Select trace ${id} to compare"]`);
    await pick(cfg.ok);
    await pick(cfg.failing);
    await page.click('[data-testid=compare-button]');
    await page.waitForURL(/\/compare\//);
    await page.waitForSelector('[data-testid=compare-tree] .cmp-row');
    const summary = await page.textContent('[data-testid=compare-summary]');
    log(`compare: ${summary}`);
    const missing = await page.locator('[data-testid=compare-tree] [data-status=missing], [data-testid=compare-tree] [data-status=added]').count();
    assert(missing === 1, `the order span is only in one trace, got ${missing} added/missing rows`);
    await page.screenshot({ path: shot('compare-errors') });
    await page.goto(`${base}/compare/${cfg.ok}/${cfg.slow}`);
    await page.waitForSelector('[data-testid=compare-tree] .cmp-row');
    const slower = await page.locator('[data-testid=compare-tree] [data-status=slower]').count();
    assert(slower >= 4, `the slow bank makes its callers slower: ${slower} slower rows`);
    const svcText = await page.textContent('[data-testid=compare-services]');
    assert(/bank[\s\S]*\+300 ms/.test(svcText), `bank's self time grew by 300 ms: ${svcText}`);
    await page.screenshot({ path: shot('compare') });
  },

  async hostile(page, log, { dialogs }) {
    await page.addInitScript(() => {
      window.__alerts = 0;
      window.alert = () => (window.__alerts += 1);
    });
    await page.goto(`${base}/search?service=${encodeURIComponent(cfg.hostileService)}`);
    await page.waitForSelector('[data-testid=results] li');
    assert((await page.textContent('.result-title')).includes(cfg.hostileService), 'the hostile service name shows as text');
    await openTrace(page, cfg.hostile);
    await page.waitForSelector('[data-testid=summary]');
    const name = await page.locator('.tl-name').first().textContent();
    assert(name === cfg.hostileName, `span name shown verbatim: ${name}`);
    await rows(page).first().click();
    await page.waitForSelector('[data-testid=span-attributes]');
    const attrs = await page.textContent('[data-testid=span-attributes]');
    assert(attrs.includes('<b>bold</b><img src=x onerror=alert(4)>'), 'attribute value shown as text');
    await page.screenshot({ path: shot('hostile') });
    for (const tab of ['Flame graph', 'Service graph', 'Statistics', 'JSON']) {
      await page.click(`role=tab[name="${tab}"]`);
      await page.waitForTimeout(200);
    }
    await page.goto(`${base}/services?service=${encodeURIComponent(cfg.hostileService)}`);
    await page.waitForSelector('[data-testid=graph] .node, .empty');
    const state = await page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
      svgs: document.querySelectorAll('svg[onload]').length,
      alerts: window.__alerts,
    }));
    log(`after every view: ${JSON.stringify(state)}; dialogs: ${dialogs.length}`);
    assert(state.imgs === 0, `${state.imgs} <img> elements were created`);
    assert(state.scripts === 0, 'an inline <script> element was created');
    assert(state.svgs === 0, 'an <svg onload> element was created');
    assert(state.alerts === 0, 'alert() ran');
  },

  async services(page, log) {
    await page.goto(`${base}/services`);
    await page.waitForSelector('[data-testid=graph] .node');
    const nodes = await page.locator('[data-testid=graph] .node').count();
    log(`dependency graph: ${nodes} services`);
    assert(nodes >= 5, `dependency graph nodes: ${nodes}`);
    // The embedded engine keeps edge statistics: the graph counts every call.
    assert(await page.getByText('Every call of the window.').count() === 1, 'the graph says it counts every call');
    await page.click('[data-testid=graph] .node[data-node=checkout]');
    await page.waitForURL(/service=checkout/);
    await page.waitForSelector('[data-testid=red-charts] polyline');
    await page.waitForSelector('[data-testid=operations] tbody tr');
    const ops = await page.locator('[data-testid=operations] tbody tr').count();
    assert(ops >= 2, `operations of checkout: ${ops}`);
    await page.screenshot({ path: shot('services'), fullPage: true });
    await page.locator('[data-testid=operations] a', { hasText: 'traces' }).first().click();
    await page.waitForURL(/\/search\?.*service=checkout.*operation=/);
    await page.waitForSelector('[data-testid=results] li');
  },

  async theme(page) {
    await openTrace(page, cfg.failing, `?span=${cfg.failing.slice(-8).padStart(16, '0')}`);
    const before = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.click('button[aria-label^="Switch to the"]');
    const after = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(before !== after, 'the toggle changes the colors');
    await page.locator('.tl-row', { hasText: 'authorize' }).click();
    await page.waitForSelector('[data-testid=span-panel]');
    await page.screenshot({ path: shot('trace-dark') });
    await page.reload();
    await page.waitForSelector('[data-testid=timeline] .tl-row');
    const kept = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(kept === after, 'the choice is remembered');
    await page.goto(`${base}/search`);
    await page.waitForSelector('[data-testid=results] li');
    await page.screenshot({ path: shot('search-dark') });
  },

  async large(page, log, _x, metrics) {
    // Time to first render: from navigation start to the first frame with
    // timeline rows, measured in the page.
    await page.addInitScript(() => {
      const poll = () => {
        if (document.querySelector('[data-testid=timeline] .tl-row')) window.__firstRows = performance.now();
        else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    });
    const t0 = Date.now();
    await page.goto(`${base}/trace/${cfg.large}`);
    await page.waitForFunction(() => window.__firstRows !== undefined, null, { timeout: 120000 });
    metrics.firstRenderMs = await page.evaluate(() => window.__firstRows);
    metrics.wallMs = Date.now() - t0;
    const total = await page.evaluate(() => document.querySelector('.tl-head-label')?.textContent ?? '');
    log(`first rows after ${metrics.firstRenderMs.toFixed(0)} ms (in-page), ${metrics.wallMs} ms wall; ${total}`);
    assert(total.includes(cfg.largeCount.toLocaleString('en-US')), `all ${cfg.largeCount} spans laid out: ${total}`);
    const inDom = await rows(page).count();
    assert(inDom < 200, `only the rows in view are in the DOM (${inDom})`);
    await page.waitForSelector('[data-testid=summary]', { timeout: 120000 });
    await page.screenshot({ path: shot('large-top') });
    // Scroll to the end: the last rows render.
    const t1 = await page.evaluate(() => performance.now());
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=timeline]');
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction((n) => !!document.querySelector(`[data-testid=timeline] .tl-row[data-row="${n - 1}"]`), cfg.largeCount);
    metrics.scrollToEndMs = (await page.evaluate(() => performance.now())) - t1;
    await page.screenshot({ path: shot('large-bottom') });
    // Find and the flame graph work at this size too.
    await page.fill('.tl-find', 'op-7');
    await page.press('.tl-find', 'Enter');
    await page.waitForSelector('[data-testid=span-panel]');
    await page.click('role=tab[name="Flame graph"]');
    await page.waitForSelector('[data-testid=flame] .fl');
    await page.screenshot({ path: shot('large-flame') });
  },
};

const userDir = mkdtempSync(join(cfg.profileDir ?? tmpdir(), 'chromium-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: cfg.chromium ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1280, height: 800 },
});
ctx.setDefaultTimeout(20000);
let failed = 0;
try {
  for (const name of cfg.scenarios ?? Object.keys(scenarios)) {
    const logs = [];
    const metrics = {};
    const started = Date.now();
    let res;
    try {
      await withPage(ctx, (page, extra) => scenarios[name](page, (m) => logs.push(m), extra, metrics));
      res = { name, ok: true, error: '', log: logs, metrics };
    } catch (e) {
      failed++;
      res = { name, ok: false, error: String(e?.stack ?? e), log: logs, metrics };
    }
    res.log.push(`took ${Date.now() - started} ms`);
    process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
  }
} finally {
  await ctx.close();
  rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
