// Small DOM helpers: elements are built with textContent, never from HTML strings, so that
// names from the ledger (a shop called "<script>") stay text.
import {t} from './i18n.mjs';

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let fieldCounter = 0;
export function uniqueId(prefix) {
  fieldCounter += 1;
  return `${prefix}-${fieldCounter}`;
}

// A labelled form control: <div class=field><label for=id>…</label><control id=id></div>.
export function field(labelText, control) {
  if (!control.id) control.id = uniqueId('field');
  return h('div', {class: 'field'}, h('label', {for: control.id}, labelText), control);
}

// A headline figure: data-figure names it, data-value holds the API's raw value.
export function figure(name, labelText, rawValue, shown, {key = false} = {}) {
  const present = rawValue !== undefined && rawValue !== null;
  return h('div', {class: key ? 'figure key' : 'figure'},
           h('span', {class: 'label', id: `figure-label-${name}`}, labelText),
           h('span', {class: 'value', dataset: {figure: name, value: present ? String(rawValue) : ''},
                      'aria-labelledby': `figure-label-${name} figure-value-${name}`,
                      id: `figure-value-${name}`},
             present ? shown : '—'));
}

// A table with a caption and column headers; rows carry data-key.
// columns: [{label, value: row => text|Node, numeric?: bool}]
export function table(name, captionText, columns, rows, keyOf) {
  const head = h('thead', {}, h('tr', {}, columns.map(
      column => h('th', {scope: 'col', class: column.numeric ? 'num' : undefined}, column.label))));
  const body = h('tbody', {}, rows.map(row => h('tr', {dataset: {key: keyOf(row)}}, columns.map(
      column => h('td', {class: column.numeric ? 'num' : column.className}, column.value(row))))));
  if (rows.length === 0) {
    body.append(h('tr', {}, h('td', {colspan: columns.length, class: 'muted'}, t('no_rows'))));
  }
  return h('div', {class: 'table-wrap'},
           h('table', {dataset: {table: name}}, h('caption', {}, captionText), head, body));
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

let toastTimer = 0;
export function toast(message) {
  const element = document.getElementById('toast');
  element.textContent = message;
  element.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => element.classList.remove('show'), 4000);
}

export function errorText(error) {
  if (!error) return '';
  const code = error.code ? ` (${error.code})` : '';
  return `${error.message || String(error)}${code}`;
}
