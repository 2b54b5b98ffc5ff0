// The city dashboard: compliance by OPD and rank class, the shortfall list (CSV), circulation
// per kecamatan and kelurahan, the daily spend trend, the payment mix, the top UMKM and the
// concentration of spend (top-10% share, Gini). Live: rows of the asn_spend and circulation
// read models mark it stale; it refetches the aggregates, throttled (live.mjs).
// document.body.dataset.applied: the X-Applied-Sequence of the figures on screen.
// #/dashboard?live=off: no live updates (the peer of bench/console_load.sh).
import {getJson, request} from './api.mjs';
import {clear, errorText, field, figure, h, table} from './dom.mjs';
import {count, jakartaMonth, money, percent, previousMonth, ratio, toNumber} from './format.mjs';
import {t} from './i18n.mjs';
import {CardPainter, LiveFeed, frameScheduler} from './live.mjs';

const shortfallPageSize = 50;
const liveIntervalMs = 1000;
const emptyMonthsBackMax = 6;
const channelNames = ['cod', 'qris', 'va', 'receipt'];

function monthValid(month) {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(month || '');
}

// The month to show: the one asked for, else the current Asia/Jakarta month, or the latest
// of the six before it with any purchase when the current one has none yet.
async function resolveMonth(asked) {
  if (monthValid(asked)) return asked;
  let month = jakartaMonth();
  for (let back = 0; back <= emptyMonthsBackMax; back++) {
    try {
      const circulation = await getJson(`/v1/circulation/${month}`);
      if (Number(circulation?.total?.purchases || 0) > 0) return month;
    } catch { return jakartaMonth(); }
    month = previousMonth(month);
  }
  return jakartaMonth();
}

function complianceRate(group) {
  const asn = Number(group.asn || 0);
  return asn === 0 ? 0 : (100 * Number(group.compliant || 0)) / asn;
}

function rateText(group) {
  const asn = Number(group.asn || 0);
  if (asn === 0) return '—';
  // Two decimals from integers, no float rounding surprises in what is shown.
  const hundredths = Math.round((10000 * Number(group.compliant || 0)) / asn);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

// The four reads at once; the figures' sequence is the compliance answer's X-Applied-Sequence.
async function fetchAll(month, shortfallQuery) {
  const [complianceResponse, rankClass, shortfalls, circulation] = await Promise.all([
    request(`/v1/compliance/${month}`),
    getJson(`/v1/compliance/${month}?by=rank_class`),
    getJson(`/v1/compliance/${month}/shortfalls?${shortfallQuery}`),
    getJson(`/v1/circulation/${month}`),
  ]);
  const applied = complianceResponse.headers.get('X-Applied-Sequence');
  return {agency: await complianceResponse.json(), rankClass, shortfalls, circulation, applied};
}

function figuresRow(data) {
  const total = data.agency.total || {};
  const circulation = data.circulation.total || {};
  const merchants = data.circulation.merchants || {};
  const rate = rateText(total);
  return h('section', {class: 'figures', 'aria-label': t('headline_figures')},
           figure('asn', t('fig_asn'), total.asn, count(total.asn)),
           figure('compliant', t('fig_compliant'), total.compliant, count(total.compliant)),
           figure('compliance_percent', t('fig_compliance_percent'), rate === '—' ? null : rate,
                  percent(rate)),
           figure('committed', t('fig_committed'), total.committed, money(total.committed)),
           figure('shortfall', t('fig_shortfall'), total.shortfall, money(total.shortfall)),
           figure('circulation_spend', t('fig_spend'), circulation.spend, money(circulation.spend)),
           figure('purchases', t('fig_purchases'), circulation.purchases, count(circulation.purchases)),
           figure('local_share_percent', t('fig_local_share'), circulation.local_share_percent,
                  percent(circulation.local_share_percent)),
           figure('merchants_count', t('fig_merchants'), merchants.count, count(merchants.count)),
           figure('top_decile_share_percent', t('fig_top_decile'),
                  merchants.top_decile_share_percent, percent(merchants.top_decile_share_percent)),
           figure('gini', t('fig_gini'), merchants.gini, ratio(merchants.gini), {key: true}));
}

function chartCard(title, chartSpec, tableNode, {wide = false, tall = false} = {}) {
  const canvas = h('canvas', {});
  const card = h('section', {class: wide ? 'card wide' : 'card'}, h('h2', {}, title),
                 h('div', {class: tall ? 'chart-box tall' : 'chart-box'}, canvas), tableNode);
  return {card, chart: {canvas, spec: chartSpec}};
}

function complianceColumns(keyName, keyLabel) {
  return [
    {label: keyLabel, value: row => row[keyName]},
    {label: t('col_asn'), value: row => count(row.asn), numeric: true},
    {label: t('col_compliant'), value: row => count(row.compliant), numeric: true},
    {label: t('col_rate'), value: row => percent(rateText(row)), numeric: true},
    {label: t('col_committed'), value: row => money(row.committed), numeric: true},
    {label: t('col_shortfall'), value: row => money(row.shortfall), numeric: true},
  ];
}

function complianceCard(name, title, keyName, keyLabel, answer, month, by) {
  const groups = answer.groups || [];
  const label = `${title}: ` + groups.map(g => `${g[keyName]} ${rateText(g)}%`).join('; ');
  const csv = `/v1/compliance/${month}?${by ? `by=${by}&` : ''}format=csv`;
  const tableNode = h('div', {},
      table(name, title, complianceColumns(keyName, keyLabel), groups, row => row[keyName]),
      h('p', {}, h('a', {href: csv, download: ''}, t('download_csv'))));
  return chartCard(title, {
    kind: 'bar', horizontal: true, label,
    labels: groups.map(g => g[keyName]),
    datasets: [{label: t('col_rate'), data: groups.map(complianceRate)}],
  }, tableNode, {tall: groups.length > 12});
}

function kecamatanCard(circulation) {
  const kecamatan = circulation.kecamatan || [];
  return chartCard(t('circulation_kecamatan'), {
    kind: 'bar', labels: kecamatan.map(k => k.kecamatan),
    label: `${t('circulation_kecamatan')}: ` + kecamatan.map(k => `${k.kecamatan} ${money(k.spend)}`).join('; '),
    datasets: [{label: t('col_spend'), data: kecamatan.map(k => toNumber(k.spend))}],
  }, table('circulation-kecamatan', t('circulation_kecamatan'), [
    {label: t('col_kecamatan'), value: row => row.kecamatan},
    {label: t('col_spend'), value: row => money(row.spend), numeric: true},
    {label: t('col_purchases'), value: row => count(row.purchases), numeric: true},
    {label: t('col_share'), value: row => percent(row.share_percent), numeric: true},
  ], kecamatan, row => row.kecamatan));
}

function kelurahanCard(circulation) {
  const kelurahan = (circulation.kecamatan || []).flatMap(
      k => (k.kelurahan || []).map(l => ({...l, kecamatan: k.kecamatan})));
  kelurahan.sort((a, b) => toNumber(b.spend) - toNumber(a.spend));
  const topKelurahan = kelurahan.slice(0, 15);
  const kelurahanTable = h('div', {class: 'table-wrap tall'}, table('circulation-kelurahan', t('circulation_kelurahan'), [
    {label: t('col_kelurahan'), value: row => row.kelurahan},
    {label: t('col_kecamatan'), value: row => row.kecamatan},
    {label: t('col_spend'), value: row => money(row.spend), numeric: true},
    {label: t('col_purchases'), value: row => count(row.purchases), numeric: true},
  ], kelurahan, row => `${row.kecamatan}/${row.kelurahan}`));
  return chartCard(t('circulation_kelurahan'), {
    kind: 'bar', horizontal: true, labels: topKelurahan.map(k => k.kelurahan),
    label: `${t('circulation_kelurahan_top')}: ` + topKelurahan.map(k => `${k.kelurahan} ${money(k.spend)}`).join('; '),
    datasets: [{label: t('col_spend'), data: topKelurahan.map(k => toNumber(k.spend))}],
  }, kelurahanTable, {tall: true});
}

function absentNote(value) {
  return value === undefined ? h('p', {class: 'muted'}, t('not_served_yet')) : null;
}

function trendCard(circulation) {
  const days = circulation.days || [];
  const card = chartCard(t('daily_trend'), {
    kind: 'line', labels: days.map(d => d.date),
    label: `${t('daily_trend')}: ` + days.map(d => `${d.date} ${money(d.spend)}`).join('; '),
    datasets: [{label: t('col_spend'), data: days.map(d => toNumber(d.spend))}],
  }, h('div', {}, absentNote(circulation.days), h('details', {}, h('summary', {}, t('show_table')),
      table('days', t('daily_trend'), [
        {label: t('col_date'), value: row => row.date},
        {label: t('col_spend'), value: row => money(row.spend), numeric: true},
        {label: t('col_purchases'), value: row => count(row.purchases), numeric: true},
      ], days, row => row.date))), {wide: true});
  return card;
}

function channelsCard(circulation) {
  const channels = circulation.channels || {};
  const rows = channelNames.filter(name => channels[name]).map(name => ({name, ...channels[name]}));
  return chartCard(t('payment_mix'), {
    kind: 'doughnut', labels: rows.map(row => t(`channel_${row.name}`)),
    label: `${t('payment_mix')}: ` + rows.map(row => `${t(`channel_${row.name}`)} ${money(row.spend)}`).join('; '),
    datasets: [{label: t('col_spend'), data: rows.map(row => toNumber(row.spend))}],
  }, h('div', {}, absentNote(circulation.channels), table('channels', t('payment_mix'), [
    {label: t('col_channel'), value: row => t(`channel_${row.name}`)},
    {label: t('col_spend'), value: row => money(row.spend), numeric: true},
    {label: t('col_purchases'), value: row => count(row.purchases), numeric: true},
  ], rows, row => row.name)));
}

function merchantsCard(circulation) {
  const merchants = circulation.merchants || {};
  const top = merchants.top || [];
  return chartCard(t('top_umkm'), {
    kind: 'bar', horizontal: true, labels: top.map(m => m.name || m.umkm_id),
    label: `${t('top_umkm')}: ` + top.map(m => `${m.name || m.umkm_id} ${money(m.spend)}`).join('; '),
    datasets: [{label: t('col_spend'), data: top.map(m => toNumber(m.spend))}],
  }, h('div', {}, absentNote(circulation.merchants),
       h('p', {}, `${t('fig_top_decile')}: `, h('strong', {}, percent(merchants.top_decile_share_percent)),
         ' · ', `${t('fig_gini')}: `, h('strong', {}, ratio(merchants.gini))),
       table('top-merchants', t('top_umkm'), [
         {label: t('col_umkm'), value: row => row.name ? `${row.name} (${row.umkm_id})` : row.umkm_id},
         {label: t('col_spend'), value: row => money(row.spend), numeric: true},
         {label: t('col_purchases'), value: row => count(row.purchases), numeric: true},
       ], top, row => row.umkm_id)), {tall: top.length > 10});
}

function shortfallCard(data, state, month, onPage) {
  const answer = data.shortfalls;
  const agencies = (data.agency.groups || []).map(g => g.agency);
  const select = h('select', {id: 'shortfall-agency'}, h('option', {value: ''}, t('all_agencies')),
                   agencies.map(a => h('option', {value: a, selected: a === state.agency}, a)));
  select.addEventListener('change', () => onPage({agency: select.value, offset: 0}));
  const query = new URLSearchParams({format: 'csv', limit: '10000'});
  if (state.agency) query.set('agency', state.agency);
  const total = Number(answer.total || 0);
  const from = total === 0 ? 0 : state.offset + 1;
  const to = Math.min(state.offset + shortfallPageSize, total);
  const previous = h('button', {type: 'button', class: 'secondary', id: 'shortfall-previous', disabled: state.offset === 0},
                     t('previous_page'));
  previous.addEventListener('click', () => onPage({offset: Math.max(0, state.offset - shortfallPageSize)}));
  const next = h('button', {type: 'button', class: 'secondary', id: 'shortfall-next', disabled: to >= total}, t('next_page'));
  next.addEventListener('click', () => onPage({offset: state.offset + shortfallPageSize}));
  return {card: h('section', {class: 'card wide'}, h('h2', {}, t('shortfalls')),
    h('div', {class: 'toolbar'}, field(t('agency_filter'), select),
      h('a', {class: 'button secondary', href: `/v1/compliance/${month}/shortfalls?${query}`, download: '',
              dataset: {action: 'shortfalls-csv'}}, t('download_csv'))),
    h('p', {class: 'muted'}, t('showing_of', {from, to, total: count(total)})),
    h('div', {class: 'table-wrap tall'}, table('shortfalls', t('shortfalls'), [
      {label: t('col_nip'), value: row => row.nip, className: 'mono'},
      {label: t('col_name'), value: row => row.name},
      {label: t('col_agency'), value: row => row.agency},
      {label: t('col_rank'), value: row => row.rank_class},
      {label: t('col_committed'), value: row => money(row.committed), numeric: true},
      {label: t('col_minimum'), value: row => money(row.minimum), numeric: true},
      {label: t('col_shortfall'), value: row => money(row.shortfall), numeric: true},
    ], answer.asn || [], row => row.nip)),
    h('div', {class: 'pager'}, previous, next))};
}

export function renderDashboard(main, params) {
  let feed = null;
  let closed = false;
  const state = {agency: '', offset: 0};
  let month = '';

  const monthInput = h('input', {type: 'month', name: 'month', required: true});
  monthInput.addEventListener('change', () => {
    if (monthValid(monthInput.value)) location.hash = `#/dashboard?month=${monthInput.value}`;
  });
  const title = h('h1', {}, t('dashboard_title'));
  const status = h('p', {class: 'muted', role: 'status'});
  const content = h('div', {id: 'dashboard-content'}, h('p', {class: 'loading'}, t('loading')));
  clear(main).append(title, h('div', {class: 'toolbar'}, field(t('month'), monthInput), status), content);

  // The headline figures go in at once; each card follows in a task of its own, only when its
  // data changed (live.mjs, CardPainter), so that no update holds the page for long.
  const cards = new CardPainter(() => closed);
  let figures = null;
  const cardsOf = data => ({
    'compliance-agency': [data.agency.groups, () => complianceCard('compliance-agency', t('compliance_agency'),
                                                                   'agency', t('col_agency'), data.agency, month)],
    'compliance-rank_class': [data.rankClass.groups, () => complianceCard('compliance-rank_class', t('compliance_rank'),
                                                                          'rank_class', t('col_rank'), data.rankClass, month, 'rank_class')],
    'circulation-kecamatan': [data.circulation.kecamatan, () => kecamatanCard(data.circulation)],
    'circulation-kelurahan': [data.circulation.kecamatan, () => kelurahanCard(data.circulation)],
    'trend': [data.circulation.days ?? null, () => trendCard(data.circulation)],
    'channels': [data.circulation.channels ?? null, () => channelsCard(data.circulation)],
    'merchants': [data.circulation.merchants ?? null, () => merchantsCard(data.circulation)],
    'shortfalls': [[data.shortfalls, state, (data.agency.groups || []).map(g => g.agency)],
                   () => shortfallCard(data, state, month, changePage)],
  });
  const paint = frameScheduler(data => {
    if (closed) return;
    const row = figuresRow(data);
    if (figures) figures.replaceWith(row);
    else clear(content).append(row, cards.grid);
    figures = row;
    status.textContent = t('updated_at', {time: new Date().toLocaleTimeString()});
    if (!document.body.dataset.firstFiguresMs) {
      // The frame after the figures went in: when they are on screen, counted from navigation.
      requestAnimationFrame(() => {
        document.body.dataset.firstFiguresMs ||= String(Math.round(performance.now()));
      });
    }
    cards.paint(cardsOf(data), () => {
      if (data.applied) document.body.dataset.applied = data.applied;
      document.dispatchEvent(new CustomEvent('malpro:painted', {detail: {month}}));
    });
  });

  async function load() {
    const query = new URLSearchParams({limit: String(shortfallPageSize), offset: String(state.offset)});
    if (state.agency) query.set('agency', state.agency);
    try {
      const data = await fetchAll(month, query);
      if (closed) return data;
      paint(data);
      return data;
    } catch (error) {
      if (!closed) status.textContent = `${t('load_failed')}: ${errorText(error)}`;
      return null;
    }
  }

  function changePage(change) {
    Object.assign(state, change);
    load();
  }

  (async () => {
    month = await resolveMonth(params.get('month'));
    if (closed) return;
    monthInput.value = month;
    document.body.dataset.month = month;
    const data = await load();
    if (closed) return;
    if (data?.applied && !document.body.dataset.position) document.body.dataset.position = data.applied;
    if (params.get('live') === 'off') return;
    // At most a refetch a second: under 100 writes a second the cards rebuilt at 400 ms took
    // half the main thread and slowed the server on a 2-core host (docs/PERFORMANCE.md, Console).
    feed = new LiveFeed(['asn_spend', 'circulation'], load, {after: data?.applied, intervalMs: liveIntervalMs});
    feed.start();
  })();

  return () => {
    closed = true;
    feed?.close();
    cards.close();
  };
}
