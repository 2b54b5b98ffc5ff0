// Live updates from GET /v1/subscribe/projections (Server-Sent Events, with the session
// cookie). Rows may arrive a hundred a second: each only marks the page stale and records the
// position; the page refetches its aggregates at most once per `refreshIntervalMs`, and paints
// in a requestAnimationFrame.
//
// CardPainter rebuilds a page's cards one per task, between frames, and only those whose data
// changed; a chart keeps its canvas and Chart.js object (redrawn with update('none')).
//
// document.body.dataset.live: "connected" while every stream is open, "reconnecting" while one
// is not; document.body.dataset.position: the id of the last event applied.

import {destroyCharts, drawChart} from './charts.mjs';

const refreshIntervalMs = 400;
const reopenDelayMs = 1000;

// What a row changed: "PROJECTION:PREFIX", the prefix being its key up to the first "/"
// (work_lists: "r" receipts, "p" payments, "o" orders, "s" settlement, "c" and "t" reconciliation).
function changeOf(projection, data) {
  try {
    const key = String(JSON.parse(data).key || '');
    return `${projection}:${key.includes('/') ? key.slice(0, key.indexOf('/')) : ''}`;
  } catch {
    return `${projection}:`;
  }
}

export class LiveFeed {
  // projections: names for ?projection=; onStale(changed): called (throttled) after rows
  // changed, with the set of what changed since the call before (changeOf).
  constructor(projections, onStale, {after, intervalMs = refreshIntervalMs} = {}) {
    this.projections = projections;
    this.intervalMs = intervalMs;
    this.onStale = onStale;
    this.after = after;
    this.sources = new Map();
    this.lastRefresh = 0;
    this.timer = 0;
    this.refreshing = false;
    this.pending = false;
    this.closed = false;
    this.rowsSeen = 0;
    this.changed = new Set();
  }

  start() {
    for (const projection of this.projections) this.open(projection, this.after);
    this.updateStatus();
  }

  open(projection, after) {
    if (this.closed) return;
    const query = new URLSearchParams({projection});
    if (after !== undefined && after !== null && after !== '') query.set('after', String(after));
    const source = new EventSource(`/v1/subscribe/projections?${query}`);
    this.sources.set(projection, source);
    source.onopen = () => this.updateStatus();
    source.onerror = () => {
      this.updateStatus();
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. 429) or the session ended: open again after a pause, after the last
        // position this page applied.
        setTimeout(() => this.open(projection, this.numericPosition()), reopenDelayMs);
      }
    };
    const onRow = event => {
      this.applyId(event);
      this.rowsSeen += 1;
      this.changed.add(changeOf(projection, event.data));
      this.markStale();
    };
    source.addEventListener('row', onRow);
    source.addEventListener('snapshot', event => this.applyId(event));
    source.addEventListener('position', event => this.applyId(event));
  }

  numericPosition() {
    const match = /^(\d+)/.exec(document.body.dataset.position || '');
    return match ? match[1] : undefined;
  }

  applyId(event) {
    if (event.lastEventId) document.body.dataset.position = event.lastEventId;
  }

  updateStatus() {
    if (this.closed) return;
    const open = [...this.sources.values()].every(
        source => source.readyState === EventSource.OPEN);
    document.body.dataset.live = open && this.sources.size > 0 ? 'connected' : 'reconnecting';
    document.dispatchEvent(new CustomEvent('malpro:live'));
  }

  // Throttled: the first change refreshes at once, later ones at most every
  // intervalMs (refreshIntervalMs unless given), and a change during a refresh triggers one more afterwards.
  markStale() {
    if (this.closed) return;
    if (this.refreshing) { this.pending = true; return; }
    if (this.timer) return;
    const wait = Math.max(0, this.lastRefresh + this.intervalMs - performance.now());
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  async refresh() {
    this.timer = 0;
    if (this.closed) return;
    this.refreshing = true;
    this.lastRefresh = performance.now();
    const changed = this.changed;
    this.changed = new Set();
    try {
      await this.onStale(changed);
    } finally {
      this.refreshing = false;
      if (this.pending) { this.pending = false; this.markStale(); }
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    for (const source of this.sources.values()) source.close();
    this.sources.clear();
    document.body.dataset.live = 'offline';
    document.dispatchEvent(new CustomEvent('malpro:live'));
  }
}

// Paints once per animation frame however often it is asked to.
export function frameScheduler(paint) {
  let scheduled = false;
  let latest;
  return value => {
    latest = value;
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; paint(latest); });
  };
}

// The focusable elements of a card, in document order.
function focusables(element) {
  return [...element.querySelectorAll('a[href], button, input, select, textarea, summary')];
}

// Cards in a grid (`grid`), each built by a function answering {card, chart?: {canvas, spec}}.
// paint(specs, done): specs is {name: [input, build]} in the grid's order; a card whose input
// (compared as JSON) is what it shows already is left alone; the others are built in a task
// each, after a frame, latest data first come, and their chart drawn in the next such task.
// done() runs once every card shows these specs.
export class CardPainter {
  constructor(isClosed) {
    this.grid = document.createElement('div');
    this.grid.className = 'grid';
    this.isClosed = isClosed;
    this.cards = new Map();  // name -> {element, signature}
    this.pending = new Map();  // name -> {signature, build}
    this.order = [];
    this.draws = [];  // charts to draw, each in a step of its own after its card went in
    this.scheduled = false;
    this.done = null;
  }

  paint(specs, done) {
    this.order = Object.keys(specs);
    for (const [name, [input, build]] of Object.entries(specs)) {
      const signature = JSON.stringify(input);
      if (this.cards.get(name)?.signature === signature) this.pending.delete(name);
      else this.pending.set(name, {signature, build});
    }
    this.done = done;
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => setTimeout(() => {
      this.scheduled = false;
      this.step();
    }, 0));
  }

  step() {
    if (this.isClosed()) return;
    if (!window.Chart && document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', () => this.schedule(), {once: true});
      return;
    }
    if (this.draws.length) {  // a chart whose card went in at the previous step
      const {name, chart} = this.draws.shift();
      const started = performance.now();
      drawChart(chart.canvas, chart.spec);
      performance.measure(`chart ${name}`, {start: started});
      this.schedule();
      return;
    }
    const next = this.pending.entries().next();
    if (next.done) {
      const done = this.done;
      this.done = null;
      done?.();
      return;
    }
    const [name, job] = next.value;
    this.pending.delete(name);
    this.place(name, job);
    this.schedule();
  }

  place(name, {signature, build}) {
    const started = performance.now();
    const built = build();
    const old = this.cards.get(name)?.element;
    if (old) {
      const oldBox = old.querySelector('canvas')?.parentElement;
      const newBox = built.chart?.canvas.parentElement;
      if (oldBox && newBox) {  // the chart's container stays: Chart.js watches its size
        oldBox.className = newBox.className;
        newBox.replaceWith(oldBox);
        built.chart.canvas = oldBox.querySelector('canvas');
      }
      const open = [...old.querySelectorAll('details')].map(details => details.open);
      built.card.querySelectorAll('details').forEach((details, index) => { details.open = open[index] ?? details.open; });
      const focused = focusables(old).indexOf(document.activeElement);
      old.replaceWith(built.card);
      if (focused >= 0) focusables(built.card)[focused]?.focus({preventScroll: true});
    } else {
      const later = this.order.slice(this.order.indexOf(name) + 1).map(n => this.cards.get(n)?.element).find(Boolean);
      this.grid.insertBefore(built.card, later || null);
    }
    this.cards.set(name, {element: built.card, signature});
    performance.measure(`card ${name}`, {start: started});  // User Timing, for profiles and the bench
    if (built.chart) this.draws.push({name, chart: built.chart});
  }

  close() {
    this.pending.clear();
    this.draws = [];
    destroyCharts(this.grid);
  }
}
