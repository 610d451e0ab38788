#!/usr/bin/env node
// report_browser.js -- open a report in headless Chromium and say what a
// reader would see; tests/report_test.py judges it.
//
// Usage: node tests/report_browser.js --page FILE.html --screenshot OUT.png
//        [--chromium /usr/bin/chromium] [--filter TEXT]
// OUT.png shows the top of the page, OUT-full.png all of it.
//
// Every request but the page itself is recorded and aborted. Prints one
// JSON object: console messages and page errors, requests, the page's
// visible text, each canvas and how many of its pixels are drawn, a sort
// and a filter of the findings table, and the opened evidence of the first
// finding. Exits 2 on bad arguments, 1 when the browser cannot be driven.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const a = { chromium: '/usr/bin/chromium', filter: '' };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--page') a.page = v;
    else if (k === '--screenshot') a.screenshot = v;
    else if (k === '--chromium') a.chromium = v;
    else if (k === '--filter') a.filter = v;
    else {
      process.stderr.write(`report_browser.js: unknown argument ${k}\n`);
      process.exit(2);
    }
    i++;
  }
  if (!a.page || !a.screenshot) {
    process.stderr.write('usage: node report_browser.js --page FILE --screenshot OUT.png\n');
    process.exit(2);
  }
  return a;
}

// The flags known to work headless as root in a container.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Text of the cells of column `label` of table `id`, visible rows only.
async function column(page, id, label) {
  return page.evaluate(([tid, lab]) => {
    const table = document.getElementById(tid);
    const heads = Array.from(table.querySelectorAll('thead th'));
    const col = heads.findIndex((th) => th.textContent.trim() === lab);
    if (col < 0) return null;
    return Array.from(table.querySelectorAll('tbody.group:not([hidden]) > tr.main'))
      .map((tr) => tr.children[col].textContent.trim());
  }, [id, label]);
}

async function sortHeader(page, id, label) {
  await page.locator(`#${id} thead th button.sort`, { hasText: label }).first().click();
  return page.locator(`#${id} thead th`, { hasText: label }).first().getAttribute('aria-sort');
}

async function main() {
  const args = parseArgs(process.argv);
  const pageUrl = pathToFileURL(path.resolve(args.page)).href;
  const out = { console: [], page_errors: [], requests: [], blocked: [], websockets: [] };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'report-browser.'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      args: FLAGS, // the profile folder is the fresh --user-data-dir
      viewport: { width: 1400, height: 900 },
      deviceScaleFactor: 1,
      serviceWorkers: 'block',
      acceptDownloads: false,
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === pageUrl) return route.continue();
      out.blocked.push(url);
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => out.console.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => out.page_errors.push(String(e && e.stack ? e.stack : e)));
    page.on('request', (r) => out.requests.push(r.url()));
    page.on('websocket', (w) => out.websockets.push(w.url()));

    await page.goto(pageUrl, { waitUntil: 'load' });
    await page.waitForSelector('#products');
    out.title = await page.title();
    out.load_error = await page.locator('#load-error').evaluate((e) => (e.hidden ? '' : e.textContent));
    out.text = await page.evaluate(() => document.body.innerText);

    // Canvases: size and drawn pixels (alpha > 0).
    out.canvases = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => {
      let drawn = 0;
      try {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) drawn++;
      } catch (e) {
        drawn = -1;
      }
      return { id: c.id, width: c.width, height: c.height, drawn };
    }));

    // Sorting: the findings by host, then the applications by flows.
    out.sort = {};
    out.sort.initial_hosts = await column(page, 'products', 'Host');
    out.sort.host_first_click = await sortHeader(page, 'products', 'Host');
    out.sort.hosts_after_first_click = await column(page, 'products', 'Host');
    out.sort.host_second_click = await sortHeader(page, 'products', 'Host');
    out.sort.hosts_after_second_click = await column(page, 'products', 'Host');
    out.sort.flows_click = await sortHeader(page, 'apps-data', 'Flows');
    out.sort.app_flows = await column(page, 'apps-data', 'Flows');

    // Filtering: a text, then one nothing matches, then nothing.
    out.filter = { text: args.filter };
    const box = page.locator('#products-filter');
    await box.fill(args.filter);
    out.filter.hosts = await column(page, 'products', 'Host');
    out.filter.count = await page.locator('#products').locator('xpath=../..').locator('.count').textContent();
    await box.fill('no such thing in any row');
    out.filter.none_hosts = await column(page, 'products', 'Host');
    out.filter.none_message = await page.locator('#products td.empty').evaluate(
      (e) => (e.closest('tbody').hidden ? '' : e.textContent));
    await box.fill('');
    out.filter.all_hosts = await column(page, 'products', 'Host');

    // The first finding's evidence, opened.
    out.evidence = {};
    const btn = page.locator('#products button.expand').first();
    if ((await btn.count()) > 0) {
      await btn.click();
      const id = await btn.getAttribute('aria-controls');
      out.evidence.expanded = await btn.getAttribute('aria-expanded');
      out.evidence.text = await page.locator(`[id="${id}"]`).evaluate((e) => (e.hidden ? '' : e.innerText));
    }

    // The pictures a person looks at: the top of the page (the verdict,
    // the first finding's evidence open), and the whole page beside it.
    await page.evaluate(() => window.scrollTo(0, 0));
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.screenshot({ path: args.screenshot, fullPage: true,
      clip: { x: 0, y: 0, width: 1400, height: Math.min(height, 1800) } });
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, '-full.png'), fullPage: true });
    await context.close();
    context = null;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`report_browser.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
