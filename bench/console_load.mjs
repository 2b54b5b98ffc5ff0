// The console's speed on a served demo month (bench/console_load.sh starts the server):
//  1. first figures: CONSOLE_BENCH_LOADS cold loads of the dashboard (a new browser context each,
//     signed in by cookie), document.body.dataset.firstFiguresMs (navigation to the frame after
//     the figures went in); peer: the API reads that page makes, timed from node in the same run;
//  2. under load: CONSOLE_BENCH_RATE writes a second for CONSOLE_BENCH_SECONDS (manual receipts
//     dated in the demo month, submitted then approved: every approval changes that month's
//     asn_spend and circulation rows) while the open dashboard measures the gaps between
//     animation frames, long tasks, and the delay of a real click (through the browser's input
//     pipeline, every 200 ms) to its handler and to the next frame; at the end, how far the
//     figures on screen lag the server's head and how long they take to catch up;
//  3. the peer of 2: the same page with live updates off (#/dashboard?live=off) under the same
//     load, so that what the machine's load costs is told apart from what the page's updates do.
// Bounded: a fixed number of writes per phase, and each phase stops launching writes at 3x its
// planned time. Prints a summary; CONSOLE_BENCH_JSON=FILE also writes the figures as JSON.
import {createRequire} from 'node:module';
import {writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromiumArgs, rgbPng} from '../tests/browser/lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const {chromium} = createRequire(join(root, 'tests/browser/package.json'))('playwright-core');

const api = process.env.MALPRO_API;
const month = process.env.MALPRO_MONTH;
const loads = Number(process.env.CONSOLE_BENCH_LOADS || 5);
const rate = Number(process.env.CONSOLE_BENCH_RATE || 100);
const seconds = Number(process.env.CONSOLE_BENCH_SECONDS || 10);
const clickEveryMs = 200;
const inflightMax = 64;
if (!api || !/^\d{4}-\d{2}$/.test(month || '')) {
  console.error('run through bench/console_load.sh: MALPRO_API and MALPRO_MONTH must be set');
  process.exit(2);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const median = values => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const quantile = (values, q) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const round = value => Math.round(value * 10) / 10;

async function apiCall(path, {token = 'dev-operator', method = 'GET', body} = {}) {
  const response = await fetch(api + path, {
    method, headers: {Authorization: `Bearer ${token}`}, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return {json: text ? JSON.parse(text) : null, headers: response.headers};
}

// A small PNG whose pixels depend on `seed` (the ledger refuses the same photo twice).
function receiptPng(seed) {
  return rgbPng(16, 8, (x, y) => [seed >> ((x % 4) * 8), x * 16 + y, seed * 7 + y]);
}

// The reads the dashboard makes for its first figures (dashboard.mjs, fetchAll), timed.
async function apiPeerMs() {
  const started = performance.now();
  await apiCall(`/v1/compliance/${month}`);
  await Promise.all([`/v1/compliance/${month}?by=rank_class`, `/v1/compliance/${month}/shortfalls?limit=50&offset=0`,
                     `/v1/circulation/${month}`].map(path => apiCall(path)));
  return performance.now() - started;
}

async function newSignedInContext(browser) {
  const context = await browser.newContext({viewport: {width: 1280, height: 800}, locale: 'id-ID',
                                            timezoneId: 'Asia/Jakarta'});
  const response = await context.request.post(`${api}/v1/session`, {data: {token: 'dev-admin'}});
  if (!response.ok()) throw new Error(`POST /v1/session: ${response.status()}`);
  return context;
}

// One load: first figures (ms from navigation) and when the page had its data (the last of
// the four reads' responseEnd).
async function loadOnce(browser) {
  const context = await newSignedInContext(browser);
  try {
    const tab = await context.newPage();
    await tab.goto(`${api}/#/dashboard?month=${month}`);
    await tab.waitForFunction(() => document.body.dataset.firstFiguresMs, null, {timeout: 15000});
    return await tab.evaluate(() => ({
      figures: Number(document.body.dataset.firstFiguresMs),
      data: Math.max(...performance.getEntriesByType('resource').filter(e => /\/v1\/(compliance|circulation)\//.test(e.name))
                                .map(e => e.responseEnd)),
    }));
  } finally {
    await context.close();
  }
}

// A warm-up load first (the browser's first page and the server's first reads), not counted.
async function firstFigures(browser) {
  const warmUp = await loadOnce(browser);
  const page = [], data = [], peer = [];
  for (let i = 0; i < loads; i++) {
    const load = await loadOnce(browser);
    page.push(load.figures);
    data.push(Math.round(load.data));
    peer.push(await apiPeerMs());
  }
  return {warmUp: warmUp.figures, page, data, peer};
}

// In the page: frame gaps, long tasks, clicks (input delay to the handler and to the next frame),
// paints of the dashboard.
function instrument() {
  const bench = window.bench = {gaps: [], clicks: [], longTasks: [], paints: 0, stop: false, started: performance.now()};
  let last = performance.now();
  const tick = now => {
    bench.gaps.push(now - last);
    last = now;
    if (!bench.stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  addEventListener('click', event => {
    const handler = performance.now() - event.timeStamp;
    requestAnimationFrame(() => bench.clicks.push({handler, frame: performance.now() - event.timeStamp}));
  }, {capture: true});
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) bench.longTasks.push(entry.duration);
  }).observe({type: 'longtask', buffered: false});
  document.addEventListener('malpro:painted', () => { bench.paints += 1; });
}

async function writeLoad(subjects, seedBase) {
  const total = rate * seconds;  // writes: half receipts submitted, half approved
  const receipts = Math.ceil(total / 2);
  const intervalMs = 2000 / rate;
  const latencies = [];
  let inflight = 0, skipped = 0, failed = 0, head = 0, firstError = '';
  const started = performance.now();
  const capMs = 3 * seconds * 1000;
  const cycles = [];
  const timed = async (path, body) => {
    const begin = performance.now();
    const {json} = await apiCall(path, {method: 'POST', body});
    latencies.push(performance.now() - begin);
    head = Math.max(head, Number(json.sequence || 0));
    return json;
  };
  const cycle = async index => {
    inflight += 1;
    try {
      const nip = subjects.nips[index % subjects.nips.length];
      const submitted = await timed('/v1/receipts', {
        nip, shop_name: `Toko Uji Beban ${seedBase + index}`, amount: '25000.00',
        kelurahan: subjects.kelurahan[index % subjects.kelurahan.length], purchase_date: subjects.date,
        photo_base64: receiptPng(seedBase + index).toString('base64'),
      });
      await timed(`/v1/receipts/${encodeURIComponent(submitted.receipt_id)}/approve`);
    } catch (error) {
      failed += 1;
      firstError ||= error.message;
    } finally {
      inflight -= 1;
    }
  };
  for (let index = 0; index < receipts; index++) {
    const due = started + index * intervalMs;
    if (due - started > capMs) { skipped += receipts - index; break; }
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (inflight >= inflightMax) { skipped += 1; continue; }
    cycles.push(cycle(index));
  }
  await Promise.all(cycles);
  const elapsedMs = performance.now() - started;
  return {writes: latencies.length, failed, skipped, firstError, elapsedMs, head,
          perSecond: latencies.length / (elapsedMs / 1000),
          latencyP50: quantile(latencies, 0.5), latencyP99: quantile(latencies, 0.99)};
}

async function underLoad(browser, subjects, {live, seedBase}) {
  const context = await newSignedInContext(browser);
  const tab = await context.newPage();
  const errors = [];
  tab.on('pageerror', error => errors.push(error.message));
  await tab.goto(`${api}/#/dashboard?month=${month}${live ? '' : '&live=off'}`);
  await tab.waitForFunction(() => document.body.dataset.applied, null, {timeout: 15000});  // every card in
  if (live) await tab.waitForFunction(() => document.body.dataset.live === 'connected', null, {timeout: 10000});
  await sleep(500);
  const heading = await tab.locator('main h1').boundingBox();
  await tab.evaluate(instrument);
  let clicking = true;
  const clicks = (async () => {
    while (clicking) {
      const next = performance.now() + clickEveryMs;
      await tab.mouse.click(heading.x + 10, heading.y + heading.height / 2);
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  const apiLatencies = [];
  const probe = (async () => {
    while (clicking) {
      const begin = performance.now();
      await apiCall(`/v1/compliance/${month}`).catch(() => {});
      apiLatencies.push(performance.now() - begin);
      await sleep(clickEveryMs);
    }
  })();
  const load = await writeLoad(subjects, seedBase);
  const atEnd = await tab.evaluate(() => ({applied: Number(document.body.dataset.applied || 0),
                                          position: Number((document.body.dataset.position || '0').split(/\D/)[0])}));
  let catchUpMs = null;
  if (live) {
    const begin = performance.now();
    const caughtUp = await tab.waitForFunction(head => Number(document.body.dataset.applied || 0) >= head,
                                               load.head, {timeout: 10000}).then(() => true, () => false);
    if (caughtUp) catchUpMs = performance.now() - begin;
  }
  clicking = false;
  await Promise.all([clicks, probe]);
  const page = await tab.evaluate(() => {
    window.bench.stop = true;
    window.bench.cards = {};
    for (const entry of performance.getEntriesByType('measure')) {
      if (entry.startTime < window.bench.started) continue;
      const card = window.bench.cards[entry.name] ||= [];  // "card NAME" (its DOM), "chart NAME"
      card.push(entry.duration);
    }
    return window.bench;
  });
  await context.close();
  const gaps = page.gaps.slice(1);
  return {
    live, load, errors, catchUpMs,
    lagEvents: load.head - atEnd.applied, positionLagEvents: load.head - atEnd.position,
    frames: gaps.length, gapMax: Math.max(...gaps), gapP99: quantile(gaps, 0.99), gapP50: quantile(gaps, 0.5),
    framesOver50: gaps.filter(gap => gap > 50).length, framesOver100: gaps.filter(gap => gap > 100).length,
    longTasks: page.longTasks.length, longTaskMax: page.longTasks.length ? Math.max(...page.longTasks) : 0,
    clicks: page.clicks.length,
    clickHandlerP50: quantile(page.clicks.map(c => c.handler), 0.5),
    clickHandlerMax: Math.max(...page.clicks.map(c => c.handler)),
    clickFrameP50: quantile(page.clicks.map(c => c.frame), 0.5),
    clickFrameP99: quantile(page.clicks.map(c => c.frame), 0.99),
    clickFrameMax: Math.max(...page.clicks.map(c => c.frame)),
    paints: page.paints,
    cards: Object.fromEntries(Object.entries(page.cards).map(([name, times]) => [name,
                                                                                 {count: times.length, p50: quantile(times, 0.5), max: Math.max(...times)}])),
    apiP50: quantile(apiLatencies, 0.5), apiP99: quantile(apiLatencies, 0.99),
  };
}

async function loadSubjects() {
  const {json: shortfalls} = await apiCall(`/v1/compliance/${month}/shortfalls?limit=500`);
  const {json: circulation} = await apiCall(`/v1/circulation/${month}`);
  const nips = (shortfalls.asn || []).map(a => a.nip);
  const kelurahan = (circulation.kecamatan || []).flatMap(k => (k.kelurahan || []).map(l => l.kelurahan));
  if (!nips.length || !kelurahan.length) throw new Error(`the month ${month} has no shortfalls or no kelurahan`);
  // The last day of the month that is not in the future (receipts may be dated 31 days back).
  const today = new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
  const [year, number] = month.split('-').map(Number);
  const last = new Date(Date.UTC(year, number, 0)).toISOString().slice(0, 10);
  return {nips, kelurahan, date: last < today ? last : today};
}

function report(first, phases) {
  const lines = [];
  const out = text => { lines.push(text); console.log(text); };
  const ms = value => (value === null || Number.isNaN(value) ? '—' : `${round(value)} ms`);
  out(`console bench: ${api}, month ${month}`);
  out(`first figures, ${loads} cold loads: median ${ms(median(first.page))} (each: ${first.page.join(', ')} ms;` +
      ` warm-up load, not counted: ${first.warmUp} ms); the page had its data at median ${ms(median(first.data))};` +
      ` peer, the same API reads from node: median ${ms(median(first.peer))}`);
  for (const phase of phases) {
    const load = phase.load;
    out(`${phase.live ? 'live updates on ' : 'live updates off'}: ${load.writes} writes in ${ms(load.elapsedMs)}` +
        ` (${round(load.perSecond)}/s; write p50 ${ms(load.latencyP50)}, p99 ${ms(load.latencyP99)};` +
        ` failed ${load.failed}, skipped ${load.skipped})${load.firstError ? `; first error: ${load.firstError}` : ''}`);
    out(`  frames ${phase.frames}: gap p50 ${ms(phase.gapP50)}, p99 ${ms(phase.gapP99)}, max ${ms(phase.gapMax)};` +
        ` gaps > 50 ms ${phase.framesOver50}, > 100 ms ${phase.framesOver100}; long tasks ${phase.longTasks}` +
        ` (longest ${ms(phase.longTaskMax)}); dashboard repaints ${phase.paints}`);
    out(`  clicks ${phase.clicks}: to handler p50 ${ms(phase.clickHandlerP50)}, max ${ms(phase.clickHandlerMax)};` +
        ` to next frame p50 ${ms(phase.clickFrameP50)}, p99 ${ms(phase.clickFrameP99)}, max ${ms(phase.clickFrameMax)}`);
    if (Object.keys(phase.cards).length) {
      out(`  cards rebuilt and charts drawn (count, p50/max ms): ${Object.entries(phase.cards).map(
          ([name, card]) => `${name} ${card.count} ${round(card.p50)}/${round(card.max)}`).join(', ')}`);
    }
    out(`  GET /v1/compliance/${month} meanwhile: p50 ${ms(phase.apiP50)}, p99 ${ms(phase.apiP99)}`);
    if (phase.live) {
      out(`  at the last write's answer (head ${load.head}): figures on screen ${phase.lagEvents} events behind` +
          ` (live position ${phase.positionLagEvents} behind); caught up ${ms(phase.catchUpMs)} later`);
    }
    if (phase.errors.length) out(`  page errors: ${phase.errors.join('; ')}`);
  }
  return lines;
}

const browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs});
try {
  const subjects = await loadSubjects();
  const first = await firstFigures(browser);
  const seedBase = Date.now() % 1000000000;
  const phases = [];
  phases.push(await underLoad(browser, subjects, {live: true, seedBase}));
  phases.push(await underLoad(browser, subjects, {live: false, seedBase: seedBase + rate * seconds}));
  report(first, phases);
  if (process.env.CONSOLE_BENCH_JSON) {
    writeFileSync(process.env.CONSOLE_BENCH_JSON, JSON.stringify({api, month, loads, rate, seconds, first, phases}, null, 2));
  }
  const failed = phases.some(phase => phase.load.failed > 0 || phase.errors.length > 0);
  process.exitCode = failed ? 1 : 0;
} finally {
  await browser.close();
}
