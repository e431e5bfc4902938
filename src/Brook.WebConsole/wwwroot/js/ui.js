// Small DOM and formatting helpers shared by the pages.

/** Builds an element: h('a', { href, class: 'x', onclick }, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'value') element.value = value;
    else if (name === 'checked' || name === 'disabled' || name === 'selected') element[name] = Boolean(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Empties an element, then appends children (null and false children are skipped). */
export function clear(element, ...children) {
  while (element.firstChild) element.firstChild.remove();
  append(element, children);
  return element;
}

/** A table from column definitions { label, value(row), class, title }. */
export function table(columns, rows, { empty = 'Nothing here yet.', testid, rowAttrs } = {}) {
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class, title: c.title }, c.label))));
  const body = h('tbody');
  if (rows.length === 0) body.append(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty)));
  for (const row of rows) {
    body.append(h('tr', rowAttrs ? rowAttrs(row) : {}, columns.map((c) => h('td', { class: c.class, 'data-col': c.key }, c.value(row)))));
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid', 'data-testid': testid }, head, body));
}

const numberFormat = new Intl.NumberFormat('en-US');

export function formatNumber(n) {
  return n === null || n === undefined ? '–' : numberFormat.format(n);
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatRate(n, bytes = false) {
  if (n === null || n === undefined) return '–';
  if (bytes) return `${formatBytes(Math.round(n))}/s`;
  return `${n >= 100 ? numberFormat.format(Math.round(n)) : n.toFixed(n >= 10 ? 1 : 2)}/s`;
}

/** Kafka durations in milliseconds, as people say them; -1 is "forever". */
export function formatDurationMs(text) {
  if (text === null || text === undefined || text === '') return '–';
  const ms = Number(text);
  if (!Number.isFinite(ms)) return text;
  if (ms < 0) return 'forever';
  const units = [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  for (const [unit, size] of units) if (ms >= size) return `${(ms / size).toFixed(1)} ${unit}`;
  return `${ms} ms`;
}

export function formatTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

const stateKinds = { Stable: 'ok', Empty: 'muted', PreparingRebalance: 'warn', CompletingRebalance: 'warn', Assigning: 'warn', Reconciling: 'warn', Dead: 'bad' };

export function stateBadge(state) {
  return badge(state, stateKinds[state] || '');
}

export function errorBox(error, title = 'Something went wrong') {
  const kind = error && error.kind ? error.kind : 'failed';
  return h('div', { class: `alert ${kind === 'unsupported' ? 'info' : 'error'}`, role: 'alert', 'data-testid': 'error' },
    h('strong', {}, title), h('div', {}, error && error.message ? error.message : String(error)));
}

export function note(text, kind = 'info', testid) {
  return h('div', { class: `alert ${kind}`, 'data-testid': testid }, text);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast ${kind}`, 'data-testid': 'toast' }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** A modal yes/no question; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = 'Confirm', danger = true) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'dialog', 'data-testid': 'confirm-dialog' },
      h('h3', {}, title),
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { class: 'button', type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { class: `button ${danger ? 'danger' : 'primary'}`, type: 'button', 'data-testid': 'confirm', onclick: () => dialog.close('ok') }, confirmLabel)));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('span', { class: 'hint' }, hint) : null);
}

export function pageHeader(title, { subtitle, actions = [], crumbs = [] } = {}) {
  return h('div', { class: 'page-header' },
    crumbs.length ? h('div', { class: 'crumbs' }, crumbs.map((c, i) => [i ? h('span', { class: 'sep' }, '/') : null, c.href ? h('a', { href: c.href }, c.label) : c.label])) : null,
    h('div', { class: 'title-row' }, h('h1', {}, title), h('div', { class: 'actions' }, actions)),
    subtitle ? h('div', { class: 'subtitle' }, subtitle) : null);
}

export function stat(label, value, testid) {
  return h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value', 'data-testid': testid }, value));
}

/** Runs fn now and every intervalMs until the returned stop function is called; overlapping runs are skipped. */
export function every(intervalMs, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } finally {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    }
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
