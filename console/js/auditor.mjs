// The auditor's view: the chain head, the latest signed checkpoint and the server's health;
// an event browser by sequence and by stream; an as-of date (the last event recorded by the
// end of that Asia/Jakarta day, found by bisecting GET /v1/events, and the command that
// serves every read model as of then); the last full verification of the chain on the server
// (GET /v1/chain/verification) and, for auditors and admins, "Verify now" (POST /v1/chain/verify).
import {getJson, sendJson} from './api.mjs';
import {clear, errorText, field, h, table} from './dom.mjs';
import {count, jakartaDate, shortHash, timeUs} from './format.mjs';
import {t} from './i18n.mjs';

const eventsPageSize = 50;

function parseCheckpoint(text) {
  const [body, signatures = ''] = text.split('\n\n');
  const [origin, size, root] = body.split('\n');
  const signers = signatures.split('\n').filter(line => line.startsWith('— '))
      .map(line => line.slice(2).split(' ')[0]);
  return {origin, size, root, signers};
}

async function headSection(role) {
  const body = h('div', {});
  const card = h('section', {class: 'card wide', id: 'chain'}, h('h2', {}, t('chain_and_checks')), body);
  try {
    const [head, health, checkpointText] = await Promise.all([
      getJson('/v1/chain/head'),
      fetch('/healthz').then(r => r.json()).catch(() => null),
      fetch('/tlog/checkpoint').then(r => (r.ok ? r.text() : '')).catch(() => ''),
    ]);
    const checkpoint = checkpointText ? parseCheckpoint(checkpointText) : null;
    const behind = checkpoint ? Number(head.sequence) - Number(checkpoint.size) : null;
    const rows = [
      [t('chain_head_sequence'), h('span', {dataset: {figure: 'head_sequence', value: head.sequence}}, count(head.sequence))],
      [t('chain_head_hash'), h('span', {class: 'mono', dataset: {figure: 'head_hash', value: head.hash}}, head.hash)],
      [t('checkpoint_signed'), checkpoint
          ? h('span', {dataset: {figure: 'checkpoint_size', value: checkpoint.size}},
              t('checkpoint_text', {size: count(checkpoint.size), origin: checkpoint.origin,
                                    signers: checkpoint.signers.join(', ') || '—'}))
          : t('checkpoint_none')],
      [t('checkpoint_root'), checkpoint ? h('span', {class: 'mono'}, checkpoint.root) : '—'],
      [t('checkpoint_covers'), behind === null ? '—'
          : behind <= 0 ? t('checkpoint_covers_head') : t('checkpoint_behind', {events: count(behind)})],
      [t('health'), health ? h('span', {dataset: {figure: 'health', value: health.status}},
          t('health_text', {status: health.status, applied: count(health.read_models?.applied_sequence),
                            lag: count(health.read_models?.lag_events)})) : '—'],
    ];
    clear(body).append(
      h('div', {class: 'table-wrap'}, h('table', {dataset: {table: 'chain'}},
        h('caption', {}, t('chain_and_checks')),
        h('tbody', {}, rows.map(([label, value]) => h('tr', {}, h('th', {scope: 'row'}, label), h('td', {}, value)))))),
      h('p', {class: 'muted'}, t('verification_note')),
      h('pre', {}, 'malpro audit verify\nmalpro audit verify --since-checkpoint checkpoint.txt --key config/trial-keys/checkpoint.vkey'));
  } catch (error) {
    clear(body).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
  }
  if (role === 'operator') body.append(h('p', {class: 'notice'}, t('operator_no_events')));
  return card;
}

function verificationText(result) {
  const outcome = result.ok
    ? h('p', {class: 'ok'}, t('verification_ok', {events: count(result.events_checked), from: count(result.from_sequence),
                                                    to: count(result.to_sequence), hash: shortHash(result.verified_head?.hash)}))
    : h('p', {class: 'error'}, t('verification_failed', {sequence: count(result.first_bad_sequence), problem: result.problem,
                                                          verified: count(result.verified_head?.sequence)}));
  return [h('div', {dataset: {figure: 'verification_ok', value: String(result.ok)}}, outcome),
          h('p', {class: 'muted', dataset: {figure: 'verification_to_sequence', value: result.to_sequence}},
            t('verification_by', {by: result.by, at: result.started_at, ms: count(result.duration_ms)}))];
}

// The last verification of the whole chain the server ran, and (auditor, admin) a button to run one.
function verificationSection(role) {
  const output = h('div', {role: 'status', 'aria-live': 'polite', id: 'verification-result'},
                   h('p', {class: 'loading'}, t('loading')));
  const show = async () => {
    try {
      clear(output).append(...verificationText(await getJson('/v1/chain/verification')));
    } catch (error) {
      clear(output).append(error.status === 404 ? h('p', {dataset: {figure: 'verification_ok', value: ''}}, t('verification_none'))
                                                : h('p', {class: 'error'}, errorText(error)));
    }
  };
  const card = h('section', {class: 'card wide', id: 'verification'}, h('h2', {}, t('verification_title')), output);
  if (role === 'auditor' || role === 'admin') {
    const verify = h('button', {type: 'button', dataset: {action: 'verify-chain'}}, t('verify_now'));
    verify.addEventListener('click', async () => {
      verify.disabled = true;
      clear(output).append(h('p', {class: 'loading'}, t('verifying')));
      try {
        clear(output).append(...verificationText(await sendJson('POST', '/v1/chain/verify')));
      } catch (error) {
        if (error.code === 'chain_verify_running') clear(output).append(h('p', {class: 'notice'}, t('verification_running')));
        else clear(output).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
      } finally {
        verify.disabled = false;
      }
    });
    card.append(h('div', {class: 'toolbar'}, verify));
  } else {
    card.append(h('p', {class: 'muted'}, t('verification_operator')));
  }
  show();
  return card;
}

// Checks in the page that each listed event's previous_hash is the hash of the one before it
// (a link check over consecutive rows; `malpro audit verify` recomputes the hashes).
function linkCheck(events) {
  let broken = 0;
  for (let i = 1; i < events.length; i++) {
    if (events[i].sequence === events[i - 1].sequence + 1 && events[i].previous_hash !== events[i - 1].hash) broken++;
  }
  return broken;
}

function eventsTable(events) {
  const broken = linkCheck(events);
  return h('div', {},
    h('p', {class: broken ? 'error' : 'ok'}, broken ? t('links_broken', {count: broken}) : t('links_ok', {count: events.length})),
    h('div', {class: 'table-wrap tall'}, table('events', t('events'), [
      {label: t('col_sequence'), value: row => row.sequence, numeric: true},
      {label: t('col_stream'), value: row => {
        const link = h('a', {href: `#/auditor?stream=${encodeURIComponent(row.stream_id)}`}, row.stream_id);
        return [link, ` v${row.stream_version}`];
      }},
      {label: t('col_type'), value: row => row.type},
      {label: t('col_recorded'), value: row => timeUs(row.recorded_at_us)},
      {label: t('col_actor'), value: row => row.actor},
      {label: t('col_payload'), value: row => h('details', {}, h('summary', {}, shortHash(row.hash)),
          h('pre', {}, JSON.stringify(row.payload, null, 2)), h('p', {class: 'mono'}, `hash ${row.hash}`),
          h('p', {class: 'mono'}, `previous ${row.previous_hash}`))},
    ], events, row => String(row.sequence))));
}

// The last sequence recorded at or before `limitUs`, by bisecting the log (0: none).
async function lastSequenceBy(limitUs, head) {
  let low = 0, high = head;  // invariant: event `low` is by the limit (0: none), after `high` none is
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const answer = await getJson(`/v1/events?from=${middle}&limit=1`);
    const event = answer.events?.[0];
    if (event && Number(event.recorded_at_us) <= limitUs) low = middle; else high = middle - 1;
  }
  return low;
}

function endOfJakartaDayUs(date) {
  return (Date.parse(`${date}T23:59:59.999+07:00`) + 1) * 1000 - 1;
}

function browserSection(params) {
  const from = h('input', {type: 'number', min: 1, id: 'events-from', value: params.get('from') || ''});
  const stream = h('input', {type: 'text', id: 'events-stream', value: params.get('stream') || '',
                             placeholder: 'receipt-…', autocomplete: 'off'});
  const asOf = h('input', {type: 'date', id: 'as-of-date', value: params.get('as_of') || ''});
  const output = h('div', {role: 'region', 'aria-live': 'polite', 'aria-label': t('events')});
  const asOfOutput = h('div', {});

  const show = async (path, title) => {
    clear(output).append(h('p', {class: 'loading'}, t('loading')));
    try {
      const answer = await getJson(path);
      clear(output).append(h('h3', {}, title), eventsTable(answer.events || []));
      return answer;
    } catch (error) {
      clear(output).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
      return null;
    }
  };
  const bySequence = async () => {
    let start = Number(from.value);
    if (!start) {
      const head = await getJson('/v1/chain/head');
      start = Math.max(1, Number(head.sequence) - eventsPageSize + 1);
      from.value = String(start);
    }
    return show(`/v1/events?from=${start}&limit=${eventsPageSize}`, t('events_from', {from: start}));
  };
  const byStream = () => show(`/v1/streams/${encodeURIComponent(stream.value.trim())}?limit=${eventsPageSize * 4}`,
                              t('events_of_stream', {stream: stream.value.trim()}));
  const applyAsOf = async () => {
    if (!asOf.value) return;
    clear(asOfOutput).append(h('p', {class: 'loading'}, t('loading')));
    try {
      const head = await getJson('/v1/chain/head');
      const sequence = await lastSequenceBy(endOfJakartaDayUs(asOf.value), Number(head.sequence));
      const rows = [];
      if (sequence > 0) {
        const answer = await getJson(`/v1/events?from=${sequence}&limit=1`);
        rows.push(answer.events[0]);
      }
      clear(asOfOutput).append(
        h('p', {dataset: {figure: 'as_of_sequence', value: sequence}},
          sequence ? t('as_of_head', {date: asOf.value, sequence: count(sequence), hash: rows[0].hash})
                   : t('as_of_nothing', {date: asOf.value})),
        h('p', {class: 'muted'}, t('as_of_replay_note')),
        h('pre', {}, `malpro audit replay --at ${asOf.value} --serve`));
      if (sequence > 0) {
        from.value = String(Math.max(1, sequence - eventsPageSize + 1));
        await bySequence();
      }
    } catch (error) {
      clear(asOfOutput).append(h('p', {class: 'error', role: 'alert'}, errorText(error)));
    }
  };

  const goSequence = h('button', {type: 'button', dataset: {action: 'events-by-sequence'}}, t('show_events'));
  goSequence.addEventListener('click', bySequence);
  const goStream = h('button', {type: 'button', dataset: {action: 'events-by-stream'}}, t('show_stream'));
  goStream.addEventListener('click', () => { if (stream.value.trim()) byStream(); });
  const goAsOf = h('button', {type: 'button', dataset: {action: 'as-of'}}, t('apply_as_of'));
  goAsOf.addEventListener('click', applyAsOf);
  for (const [input, button] of [[from, goSequence], [stream, goStream], [asOf, goAsOf]]) {
    input.addEventListener('keydown', event => { if (event.key === 'Enter') button.click(); });
  }
  if (!asOf.value) asOf.max = jakartaDate();

  const card = h('section', {class: 'card wide', id: 'event-browser'}, h('h2', {}, t('event_browser')),
    h('div', {class: 'toolbar'}, field(t('from_sequence'), from), goSequence,
      field(t('stream_id'), stream), goStream),
    h('div', {class: 'toolbar'}, field(t('as_of_date'), asOf), goAsOf), asOfOutput, output);
  if (stream.value) byStream(); else if (asOf.value) applyAsOf(); else bySequence();
  return card;
}

export function renderAuditor(main, params, {role}) {
  let closed = false;
  clear(main).append(h('h1', {}, t('auditor_title')), h('p', {class: 'loading'}, t('loading')));
  (async () => {
    const head = await headSection(role);
    if (closed) return;
    const cards = [head, verificationSection(role)];
    if (role !== 'operator') cards.push(browserSection(params));
    clear(main).append(h('h1', {}, t('auditor_title')), h('div', {class: 'grid'}, cards));
  })();
  return () => { closed = true; };
}
