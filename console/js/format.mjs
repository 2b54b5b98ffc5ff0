// Display formatting. Amounts arrive as decimal strings ("68696000.00") and are formatted as
// strings, digit for digit: never through a float.
import {currentLanguage} from './i18n.mjs';

function groupDigits(digits, separator) {
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += separator;
    out += digits[i];
  }
  return out;
}

// "68696000.00" -> "Rp68.696.000" (id) or "Rp68,696,000" (en); cents shown when not zero.
export function money(amount) {
  if (amount === undefined || amount === null || amount === '') return '—';
  const text = String(amount);
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, cents = ''] = match;
  const english = currentLanguage() === 'en';
  const grouped = groupDigits(whole.replace(/^0+(?=\d)/, ''), english ? ',' : '.');
  const fraction = /^0*$/.test(cents) ? '' : (english ? '.' : ',') + cents.padEnd(2, '0');
  return `${sign}Rp${grouped}${fraction}`;
}

export function count(value) {
  if (value === undefined || value === null || value === '') return '—';
  const text = String(value);
  if (!/^-?\d+$/.test(text)) return text;
  const negative = text.startsWith('-');
  const grouped = groupDigits(negative ? text.slice(1) : text, currentLanguage() === 'en' ? ',' : '.');
  return (negative ? '-' : '') + grouped;
}

export function percent(value) {
  if (value === undefined || value === null || value === '') return '—';
  const text = String(value);
  return (currentLanguage() === 'en' ? text : text.replace('.', ',')) + '%';
}

// A ratio as the API writes it ("0.4123"), in the language's decimal mark.
export function ratio(value) {
  if (value === undefined || value === null || value === '') return '—';
  const text = String(value);
  return currentLanguage() === 'en' ? text : text.replace('.', ',');
}

// For charts only (a chart draws floats; the tables beside it show the exact strings).
export function toNumber(amount) {
  const number = Number(amount);
  return Number.isFinite(number) ? number : 0;
}

const jakarta = 'Asia/Jakarta';

// Microseconds since the epoch (UTC) as an Asia/Jakarta date and time.
export function timeUs(us) {
  if (!us) return '—';
  const date = new Date(Number(us) / 1000);
  return date.toLocaleString(currentLanguage() === 'en' ? 'en-GB' : 'id-ID',
                             {timeZone: jakarta, dateStyle: 'medium', timeStyle: 'medium'}) + ' WIB';
}

// The Asia/Jakarta calendar month of now, "YYYY-MM".
export function jakartaMonth(now = Date.now()) {
  return new Date(now + 7 * 3600 * 1000).toISOString().slice(0, 7);
}

export function jakartaDate(now = Date.now()) {
  return new Date(now + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

export function previousMonth(month) {
  let [year, number] = month.split('-').map(Number);
  number -= 1;
  if (number === 0) { number = 12; year -= 1; }
  return `${year}-${String(number).padStart(2, '0')}`;
}

export function shortHash(hash) {
  return hash ? `${hash.slice(0, 12)}…` : '—';
}
