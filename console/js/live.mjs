// Live updates from GET /v1/subscribe/projections (Server-Sent Events, with the session
// cookie). Rows may arrive a hundred a second: each only marks the page stale and records the
// position; the page refetches its aggregates at most once per `refreshIntervalMs`, and paints
// in a requestAnimationFrame.
//
// document.body.dataset.live: "connected" while every stream is open, "reconnecting" while one
// is not; document.body.dataset.position: the id of the last event applied.

const refreshIntervalMs = 400;
const reopenDelayMs = 1000;

export class LiveFeed {
  // projections: names for ?projection=; onStale(): called (throttled) after rows changed.
  constructor(projections, onStale, {after} = {}) {
    this.projections = projections;
    this.onStale = onStale;
    this.after = after;
    this.sources = new Map();
    this.lastRefresh = 0;
    this.timer = 0;
    this.refreshing = false;
    this.pending = false;
    this.closed = false;
    this.rowsSeen = 0;
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
  // refreshIntervalMs, and a change during a refresh triggers one more afterwards.
  markStale() {
    if (this.closed) return;
    if (this.refreshing) { this.pending = true; return; }
    if (this.timer) return;
    const wait = Math.max(0, this.lastRefresh + refreshIntervalMs - performance.now());
    this.timer = setTimeout(() => this.refresh(), wait);
  }

  async refresh() {
    this.timer = 0;
    if (this.closed) return;
    this.refreshing = true;
    this.lastRefresh = performance.now();
    try {
      await this.onStale();
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
