// The operator desk: the receipt approval queue with photos, pending payments, exceptions,
// settlement close with totals and file hashes, bank statement upload and discrepancy
// resolution. Every write goes through api.mjs, which adds X-CSRF-Token. The first three lists
// are live (renderOperator).
import {getJson, request, sendJson} from './api.mjs';
import {clear, errorText, field, h, table, toast} from './dom.mjs';
import {count, jakartaDate, money, timeUs} from './format.mjs';
import {t} from './i18n.mjs';
import {LiveFeed} from './live.mjs';

const pageSize = 20;
const liveIntervalMs = 1000;

// A card whose body `load(body, reload)` fills; a refresh button loads it again. Answers
// {card, reload, ready}: ready settles after the first load.
function section(id, title, load) {
  const body = h('div', {}, h('p', {class: 'loading'}, t('loading')));
  const refresh = h('button', {type: 'button', class: 'secondary', dataset: {refresh: id}}, t('refresh'));
  const card = h('section', {class: 'card wide', id}, h('div', {class: 'toolbar'}, h('h2', {}, title), refresh), body);
  const run = async () => {
    try {
      await keepingFocus(body, () => load(body, run));
    } catch (error) {
      clear(body).append(h('p', {class: 'error', role: 'alert'}, `${t('load_failed')}: ${errorText(error)}`));
    }
  };
  refresh.addEventListener('click', run);
  return {card, reload: run, ready: run()};
}

// Runs `change` (which may move nodes of `container` around); the control that had the focus
// in it has it again afterwards, with its text selection, if it is still there and the focus
// was lost meanwhile (not moved elsewhere by the user).
async function keepingFocus(container, change) {
  const focused = container.contains(document.activeElement) ? document.activeElement : null;
  let selection = null;
  try { selection = focused && [focused.selectionStart, focused.selectionEnd]; } catch { /* no selection */ }
  await change();
  const lost = !document.activeElement || document.activeElement === document.body;
  if (!focused || !focused.isConnected || !lost) return;
  focused.focus({preventScroll: true});
  try { if (selection && selection[0] !== null) focused.setSelectionRange(...selection); } catch { /* none */ }
}

// Reads a list; notes the X-Applied-Sequence it was answered at in `applied`.
async function readList(path, applied) {
  const response = await request(path);
  const sequence = Number(response.headers.get('X-Applied-Sequence'));
  if (sequence) applied.push(sequence);
  return response.json();
}

async function act(button, action, done) {
  button.disabled = true;
  try {
    await action();
    toast(t('saved'));
    await done();
  } catch (error) {
    button.disabled = false;
    toast(`${t('refused')}: ${errorText(error)}`);
    throw error;
  }
}

function receiptItem(receipt, reload) {
  const reason = h('input', {type: 'text', maxlength: 500, name: 'reason', dataset: {input: 'reject-reason'}});
  const approve = h('button', {type: 'button', dataset: {action: 'approve'}}, t('approve'));
  const reject = h('button', {type: 'button', class: 'danger', dataset: {action: 'reject'}}, t('reject'));
  const message = h('p', {class: 'error', role: 'alert'});
  const path = `/v1/receipts/${encodeURIComponent(receipt.receipt_id)}`;
  approve.addEventListener('click', () => act(approve, () => sendJson('POST', `${path}/approve`), reload)
      .catch(error => { message.textContent = errorText(error); }));
  reject.addEventListener('click', () => {
    if (!reason.value.trim()) {
      message.textContent = t('reason_required');
      reason.focus();
      return;
    }
    act(reject, () => sendJson('POST', `${path}/reject`, {reason: reason.value.trim()}), reload)
        .catch(error => { message.textContent = errorText(error); });
  });
  const pending = receipt.status === 'submitted';
  const details = [
    [t('col_receipt'), receipt.receipt_id], [t('col_nip'), receipt.nip], [t('col_shop'), receipt.shop_name],
    [t('col_kelurahan'), `${receipt.kelurahan}, ${receipt.kecamatan}`], [t('col_amount'), money(receipt.amount)],
    [t('col_purchase_date'), receipt.purchase_date], [t('col_submitted'), timeUs(receipt.submitted_at_us)],
    [t('col_status'), t(`status_${receipt.status}`)],
  ];
  if (receipt.rejection_reason) details.push([t('col_reason'), receipt.rejection_reason]);
  return h('article', {class: 'receipt', dataset: {key: receipt.receipt_id, status: receipt.status}},
    h('a', {href: receipt.photo_url || `${path}/photo`, target: '_blank', rel: 'noopener'},
      h('img', {src: receipt.photo_url || `${path}/photo`, loading: 'lazy',
                alt: t('receipt_photo_alt', {shop: receipt.shop_name, amount: money(receipt.amount)})})),
    h('div', {}, h('dl', {}, details.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      pending ? h('div', {class: 'actions'}, approve, field(t('reject_reason'), reason), reject) : null,
      message));
}

// The receipt queue. Items are kept by receipt id while their status holds, so that a live
// update leaves a reason being typed, and the focus, where they were.
function receiptsSection(applied) {
  const status = h('select', {id: 'receipts-status'},
                   ['submitted', 'approved', 'rejected'].map(s => h('option', {value: s}, t(`status_${s}`))));
  const kelurahan = h('input', {type: 'text', id: 'receipts-kelurahan', autocomplete: 'off'});
  let cursors = [''];
  let reloadList = () => {};
  const filter = h('button', {type: 'button', class: 'secondary'}, t('apply_filter'));
  filter.addEventListener('click', () => { cursors = ['']; reloadList(); });
  const toolbar = h('div', {class: 'toolbar'}, field(t('col_status'), status), field(t('col_kelurahan'), kelurahan), filter);
  const list = h('div', {dataset: {table: 'receipts'}});
  const pager = h('div', {class: 'pager'});
  const items = new Map();  // receipt_id -> {node, status}
  return section('receipts', t('receipt_queue'), async (body, reload) => {
    reloadList = reload;
    const query = new URLSearchParams({status: status.value, limit: String(pageSize)});
    if (kelurahan.value.trim()) query.set('kelurahan', kelurahan.value.trim());
    const cursor = cursors[cursors.length - 1];
    if (cursor) query.set('cursor', cursor);
    const answer = await readList(`/v1/receipts?${query}`, applied);
    const next = h('button', {type: 'button', class: 'secondary', disabled: !answer.next}, t('next_page'));
    next.addEventListener('click', () => { cursors.push(answer.next); reload(); });
    const first = h('button', {type: 'button', class: 'secondary', disabled: cursors.length === 1}, t('first_page'));
    first.addEventListener('click', () => { cursors = ['']; reload(); });
    const receipts = answer.receipts || [];
    const nodes = receipts.map(receipt => {
      const kept = items.get(receipt.receipt_id);
      return kept && kept.status === receipt.status ? kept.node : receiptItem(receipt, reload);
    });
    items.clear();
    receipts.forEach((receipt, index) => items.set(receipt.receipt_id, {node: nodes[index], status: receipt.status}));
    clear(list).append(...nodes);
    if (!receipts.length) list.append(h('p', {class: 'muted'}, t('queue_empty')));
    clear(pager).append(first, next);
    if (body.firstChild !== toolbar) clear(body).append(toolbar, list, pager);
  });
}

function paymentsSection(applied) {
  return section('payments', t('pending_payments'), async body => {
    const answer = await readList(`/v1/payments?status=requested&limit=100`, applied);
    clear(body).append(table('payments', t('pending_payments'), [
      {label: t('col_payment'), value: row => row.payment_id, className: 'mono'},
      {label: t('col_nip'), value: row => row.buyer_nip, className: 'mono'},
      {label: t('col_umkm'), value: row => row.umkm_id},
      {label: t('col_channel'), value: row => row.channel},
      {label: t('col_amount'), value: row => money(row.amount), numeric: true},
      {label: t('col_bank_reference'), value: row => row.bank_reference, className: 'mono'},
      {label: t('col_age'), value: row => row.age_s === null ? '—' : `${count(row.age_s)} s`, numeric: true},
      {label: t('col_expires'), value: row => timeUs(row.expires_at_us)},
    ], answer.payments || [], row => row.payment_id));
  });
}

function exceptionRow(row, reload) {
  if (row.status !== 'open') return row.resolution ? `${row.resolution}: ${row.note}` : '—';
  const resolution = h('select', {}, h('option', {value: 'refunded'}, t('resolution_refunded')),
                       h('option', {value: 'explained'}, t('resolution_explained')));
  const note = h('input', {type: 'text', maxlength: 500, required: true});
  const button = h('button', {type: 'button', dataset: {action: 'resolve-exception'}}, t('resolve'));
  button.addEventListener('click', () => {
    if (!note.value.trim()) { toast(t('note_required')); note.focus(); return; }
    act(button, () => sendJson('POST', `/v1/exceptions/${encodeURIComponent(row.payment_id)}/resolve`,
                               {resolution: resolution.value, note: note.value.trim()}), reload).catch(() => {});
  });
  return h('div', {class: 'actions'}, field(t('col_resolution'), resolution), field(t('col_note'), note), button);
}

// Open exceptions; the resolve controls of a row are kept while it stays open (a note being
// typed survives a live update).
function exceptionsSection(applied) {
  const actions = new Map();  // payment_id -> the resolve controls
  return section('exceptions', t('exceptions'), async (body, reload) => {
    const answer = await readList('/v1/exceptions?status=open&limit=100', applied);
    const rows = answer.exceptions || [];
    const open = new Set(rows.filter(row => row.status === 'open').map(row => row.payment_id));
    for (const id of actions.keys()) if (!open.has(id)) actions.delete(id);
    const actionsOf = row => {
      if (row.status !== 'open') return exceptionRow(row, reload);
      if (!actions.has(row.payment_id)) actions.set(row.payment_id, exceptionRow(row, reload));
      return actions.get(row.payment_id);
    };
    clear(body).append(
      h('p', {}, t('exceptions_open', {open: count(answer.open), amount: money(answer.open_amount)})),
      table('exceptions', t('exceptions'), [
        {label: t('col_payment'), value: row => row.payment_id, className: 'mono'},
        {label: t('col_cause'), value: row => row.cause},
        {label: t('col_amount'), value: row => money(row.amount), numeric: true},
        {label: t('col_bank_reference'), value: row => row.bank_reference, className: 'mono'},
        {label: t('col_action'), value: row => row.action},
        {label: t('resolve'), value: actionsOf},
      ], rows, row => row.payment_id));
  });
}

function fileLink(file) {
  if (!file) return '—';
  return h('span', {}, h('a', {href: file.url, download: ''}, file.file), h('br'),
           h('span', {class: 'mono', dataset: {hash: file.file}}, `SHA-256 ${file.sha256}`));
}

function batchSummary(batch) {
  return h('div', {dataset: {batch: batch.business_date}},
    h('p', {}, t('batch_totals', {date: batch.business_date, payments: count(batch.payments),
                                  gross: money(batch.total_gross), fee: money(batch.total_fee),
                                  refunds: money(batch.total_refunds), net: money(batch.total_net)})),
    h('ul', {}, h('li', {}, 'pain.001: ', fileLink(batch.pain001)), h('li', {}, 'CSV: ', fileLink(batch.csv))),
    batch.merchants ? table('settlement-merchants', t('settlement_merchants'), [
      {label: t('col_umkm'), value: row => row.umkm_id},
      {label: t('col_payments'), value: row => count(row.payments), numeric: true},
      {label: t('col_gross'), value: row => money(row.gross), numeric: true},
      {label: t('col_fee'), value: row => money(row.fee), numeric: true},
      {label: t('col_refunds'), value: row => money(row.refunds), numeric: true},
      {label: t('col_net'), value: row => money(row.net), numeric: true},
    ], batch.merchants, row => row.umkm_id) : null);
}

function settlementSection() {
  const yesterday = jakartaDate(Date.now() - 24 * 3600 * 1000);
  const date = h('input', {type: 'date', value: yesterday, id: 'settlement-date', required: true});
  const result = h('div', {role: 'status'});
  return section('settlement', t('settlement'), async (body, reload) => {
    const [outstanding, closed] = await Promise.all([
      getJson('/v1/settlement/outstanding'), getJson('/v1/settlement?limit=10')]);
    const close = h('button', {type: 'button', dataset: {action: 'close-settlement'}}, t('close_day'));
    close.addEventListener('click', async () => {
      close.disabled = true;
      try {
        const answer = await sendJson('POST', `/v1/settlement/${date.value}/close`);
        clear(result).append(h('p', {class: 'ok'}, t('day_closed')), batchSummary({...answer.settlement}));
        toast(t('day_closed'));
      } catch (error) {
        clear(result).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
        close.disabled = false;
      }
    });
    const view = h('button', {type: 'button', class: 'secondary'}, t('view_day'));
    view.addEventListener('click', async () => {
      try {
        clear(result).append(batchSummary(await getJson(`/v1/settlement/${date.value}`)));
      } catch (error) {
        clear(result).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
      }
    });
    const total = outstanding.total || {};
    clear(body).append(
      h('h3', {}, t('outstanding')),
      h('p', {}, t('outstanding_total', {payments: count(total.payments), gross: money(total.gross),
                                         fee: money(total.fee), net: money(total.net)})),
      h('details', {}, h('summary', {}, t('show_table')), table('outstanding', t('outstanding'), [
        {label: t('col_umkm'), value: row => row.umkm_id},
        {label: t('col_payments'), value: row => count(row.payments), numeric: true},
        {label: t('col_gross'), value: row => money(row.gross), numeric: true},
        {label: t('col_fee'), value: row => money(row.fee), numeric: true},
        {label: t('col_net'), value: row => money(row.net), numeric: true},
      ], outstanding.merchants || [], row => row.umkm_id)),
      h('h3', {}, t('close_a_day')),
      h('div', {class: 'toolbar'}, field(t('business_date'), date), close, view), result,
      h('h3', {}, t('closed_days')),
      table('settlement-batches', t('closed_days'), [
        {label: t('business_date'), value: row => row.business_date},
        {label: t('col_payments'), value: row => count(row.payments), numeric: true},
        {label: t('col_net'), value: row => money(row.total_net), numeric: true},
        {label: 'pain.001', value: row => fileLink(row.pain001)},
        {label: 'CSV', value: row => fileLink(row.csv)},
      ], closed.batches || [], row => row.business_date));
  });
}

function discrepancyActions(statementId, item, reload) {
  if (item.resolution) return typeof item.resolution === 'string' ? item.resolution : JSON.stringify(item.resolution);
  const action = h('select', {}, h('option', {value: 'explain'}, t('action_explain')),
                   h('option', {value: 'record_payment'}, t('action_record_payment')));
  const note = h('input', {type: 'text', maxlength: 500});
  const button = h('button', {type: 'button', dataset: {action: 'resolve-discrepancy'}}, t('resolve'));
  button.addEventListener('click', () => {
    if (action.value === 'explain' && !note.value.trim()) { toast(t('note_required')); note.focus(); return; }
    act(button, () => sendJson('POST', `/v1/reconciliation/${encodeURIComponent(statementId)}/resolve`,
                               {index: item.index, action: action.value, note: note.value.trim()}),
        reload).catch(() => {});
  });
  return h('div', {class: 'actions'}, field(t('col_action'), action), field(t('col_note'), note), button);
}

function runDetail(run, reload) {
  const id = run.statement_id;
  return h('div', {dataset: {run: id}},
    h('h3', {}, `${id} · ${t('run')} ${run.run}`),
    h('p', {}, t('run_counts', {matched: count(run.matched), missing_in_ledger: count(run.missing_in_ledger),
                                missing_at_bank: count(run.missing_at_bank), amount_mismatch: count(run.amount_mismatch)})),
    table('discrepancies', t('discrepancies'), [
      {label: '#', value: row => row.index, numeric: true},
      {label: t('col_kind'), value: row => row.kind},
      {label: t('col_reference'), value: row => row.reference, className: 'mono'},
      {label: t('col_statement_amount'), value: row => money(row.statement_amount), numeric: true},
      {label: t('col_ledger_amount'), value: row => money(row.ledger_amount), numeric: true},
      {label: t('col_resolution'), value: row => discrepancyActions(id, row, reload)},
    ], run.discrepancies || [], row => String(row.index)));
}

function reconciliationSection() {
  const file = h('input', {type: 'file', id: 'statement-file', accept: '.xml,.sta,.mt940,.txt,.csv'});
  const format = h('select', {id: 'statement-format'}, h('option', {value: ''}, t('format_detect')),
                   ['camt053', 'mt940', 'csv'].map(f => h('option', {value: f}, f)));
  const detail = h('div', {role: 'status'});
  return section('reconciliation', t('reconciliation'), async (body, reload) => {
    const answer = await getJson('/v1/reconciliation?open=true&limit=20');
    const showRun = async statementId => {
      const reloadRun = async () => { await showRun(statementId); };
      clear(detail).append(runDetail(await getJson(`/v1/reconciliation/${encodeURIComponent(statementId)}`), reloadRun));
    };
    const upload = h('button', {type: 'button', dataset: {action: 'upload-statement'}}, t('upload'));
    upload.addEventListener('click', async () => {
      if (!file.files.length) { toast(t('choose_file')); file.focus(); return; }
      upload.disabled = true;
      try {
        const query = format.value ? `?format=${format.value}` : '';
        const response = await request(`/v1/reconciliation${query}`, {method: 'POST', body: file.files[0]});
        const run = (await response.json()).reconciliation;
        toast(t('statement_reconciled'));
        await showRun(run.statement_id);
      } catch (error) {
        clear(detail).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
      } finally {
        upload.disabled = false;
      }
    });
    clear(body).append(
      h('div', {class: 'toolbar'}, field(t('statement_file'), file), field(t('statement_format'), format), upload),
      h('h3', {}, t('open_runs')),
      table('reconciliation-runs', t('open_runs'), [
        {label: t('col_statement'), value: row => {
          const open = h('button', {type: 'button', class: 'link-button'}, row.statement_id);
          open.addEventListener('click', () => showRun(row.statement_id).catch(e => toast(errorText(e))));
          return open;
        }},
        {label: t('run'), value: row => row.run, numeric: true},
        {label: t('col_matched'), value: row => count(row.matched), numeric: true},
        {label: t('col_unresolved'), value: row => count(row.unresolved), numeric: true},
        {label: t('col_completed'), value: row => timeUs(row.completed_at_us)},
      ], answer.runs || [], row => row.statement_id),
      detail);
  });
}

// The receipt queue, pending payments and exceptions follow the work_lists and exceptions read
// models live (at most a refetch a second, of the lists whose rows changed); every card keeps
// its refresh button.
export function renderOperator(main) {
  let closed = false;
  let feed = null;
  const applied = [];
  const receipts = receiptsSection(applied);
  const payments = paymentsSection(applied);
  const exceptions = exceptionsSection(applied);
  const settlement = settlementSection();
  const reconciliation = reconciliationSection();
  clear(main).append(h('h1', {}, t('operator_title')),
    h('div', {class: 'grid'}, [receipts, payments, exceptions, settlement, reconciliation].map(s => s.card)));
  const reloads = {'work_lists:r': receipts.reload, 'work_lists:p': payments.reload, 'exceptions:': exceptions.reload};
  (async () => {
    await Promise.all([receipts.ready, payments.ready, exceptions.ready]);
    let after = applied.length ? Math.min(...applied) : 0;
    if (!after) after = Number((await getJson('/v1/chain/head').catch(() => ({}))).sequence || 0);
    if (closed || !after) return;
    if (!document.body.dataset.position) document.body.dataset.position = String(after);
    feed = new LiveFeed(['work_lists', 'exceptions'], async changed => {
      const due = new Set([...changed].map(change => reloads[change] || reloads[change.replace(/:.*/, ':')]).filter(Boolean));
      await Promise.all([...due].map(reload => reload()));
    }, {after, intervalMs: liveIntervalMs});
    feed.start();
  })();
  return () => {
    closed = true;
    feed?.close();
  };
}
