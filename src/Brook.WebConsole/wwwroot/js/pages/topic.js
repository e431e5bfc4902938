import { api, enc } from '../api.js';
import { badge, clear, confirmDialog, errorBox, field, formatBytes, formatNumber, formatTime, h, loading, note, pageHeader, stat, table, toast } from '../ui.js';

const tabs = [
  ['partitions', 'Partitions'],
  ['messages', 'Messages'],
  ['produce', 'Produce'],
  ['configs', 'Configs'],
];

export async function render(container, { name, tab = 'partitions', query }) {
  const base = `#/topics/${enc(name)}`;
  const topic = await api(`/topics/${enc(name)}`);
  const deleteButton = topic.isInternal ? null : h('button', { class: 'button danger ghost', type: 'button', 'data-testid': 'delete-topic', onclick: () => remove(name) }, 'Delete topic');
  container.append(
    pageHeader(name, { crumbs: [{ label: 'Topics', href: '#/topics' }, { label: name }], actions: [deleteButton] }),
    h('section', { class: 'cards' },
      stat('Partitions', formatNumber(topic.partitions.length), 'topic-partitions'),
      stat('Messages', formatNumber(topic.messages), 'topic-messages'),
      stat('Size on disk', formatBytes(topic.sizeBytes), 'topic-size'),
      stat('Topic id', h('code', { class: 'small' }, topic.topicId || '–'))),
    h('nav', { class: 'tabs', 'aria-label': 'Topic sections' },
      tabs.map(([id, label]) => h('a', { href: `${base}/${id}`, class: id === tab ? 'active' : '', 'data-testid': `tab-${id}` }, label))));
  const body = h('section', { class: 'tab-body' });
  container.append(body);
  if (tab === 'messages') return messages(body, name, topic, query);
  if (tab === 'produce') return produce(body, name, topic);
  if (tab === 'configs') return configs(body, name);
  return partitions(body, topic);
}

async function remove(name) {
  if (!(await confirmDialog(`Delete topic ${name}?`, 'Its messages are deleted for good.', 'Delete topic'))) return;
  try {
    await api(`/topics/${enc(name)}`, { method: 'DELETE' });
    toast(`Topic ${name} deleted.`);
    location.hash = '#/topics';
  } catch (e) {
    toast(e.message, 'error');
  }
}

function partitions(body, topic) {
  clear(body,
    topic.sizeError ? note(`Sizes are not available: ${topic.sizeError}`) : null,
    table([
      { label: 'Partition', value: (p) => String(p.partition), class: 'num' },
      { label: 'Leader', value: (p) => (p.leader ?? '–').toString(), class: 'num' },
      { label: 'Replicas', value: (p) => p.replicas.join(', ') },
      { label: 'In sync', value: (p) => p.inSyncReplicas.join(', ') },
      { label: 'Start offset', value: (p) => formatNumber(p.startOffset), class: 'num' },
      { label: 'End offset', value: (p) => formatNumber(p.endOffset), class: 'num' },
      { label: 'Messages', value: (p) => formatNumber(p.messages), class: 'num' },
      { label: 'Size', value: (p) => formatBytes(p.sizeBytes), class: 'num' },
    ], topic.partitions, { testid: 'partitions' }));
}

// ---- message browser

function decode(base64) {
  if (base64 === null || base64 === undefined) return null;
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function asText(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n') || '(empty)';
}

/** How bytes are shown: 'auto' pretty-prints JSON, else shows text, else hex. */
function render_(bytes, mode) {
  if (bytes === null) return { text: 'null', kind: 'null' };
  const text = asText(bytes);
  if (mode === 'hex' || (text === null && mode !== 'text')) return { text: hexDump(bytes), kind: 'hex' };
  if (mode === 'text') return { text: text ?? new TextDecoder().decode(bytes), kind: 'text' };
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) return { text: JSON.stringify(JSON.parse(trimmed), null, 2), kind: 'json' };
  } catch {
    // Not JSON: shown as text.
  }
  return { text, kind: 'text' };
}

function preview(bytes) {
  if (bytes === null) return h('span', { class: 'muted' }, 'null');
  const text = asText(bytes);
  if (text === null) return h('span', { class: 'muted' }, `${bytes.length} bytes (binary)`);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function messages(body, name, topic, query) {
  const partition = h('select', { class: 'input', 'data-testid': 'browse-partition' },
    h('option', { value: '' }, 'All partitions'), topic.partitions.map((p) => h('option', { value: String(p.partition) }, `Partition ${p.partition}`)));
  const from = h('select', { class: 'input', 'data-testid': 'browse-from' },
    h('option', { value: 'newest' }, 'Newest'), h('option', { value: 'oldest' }, 'Oldest'), h('option', { value: 'offset' }, 'From offset'), h('option', { value: 'timestamp' }, 'From time'));
  const offset = h('input', { class: 'input', type: 'number', min: 0, value: '0', 'data-testid': 'browse-offset' });
  const time = h('input', { class: 'input', type: 'datetime-local', step: 1, 'data-testid': 'browse-time' });
  const limit = h('select', { class: 'input', 'data-testid': 'browse-limit' }, [20, 50, 100, 200, 500].map((n) => h('option', { value: String(n), selected: n === 50 }, String(n))));
  const search = h('input', { class: 'input', type: 'search', placeholder: 'Key, value or header contains…', 'data-testid': 'browse-search' });
  const view = h('select', { class: 'input', 'data-testid': 'browse-view' },
    h('option', { value: 'auto' }, 'JSON (pretty) or text'), h('option', { value: 'text' }, 'Text'), h('option', { value: 'hex' }, 'Hex'));
  const offsetField = field('Offset', offset);
  const timeField = field('Time (local)', time);
  const syncFields = () => {
    offsetField.hidden = from.value !== 'offset';
    timeField.hidden = from.value !== 'timestamp';
  };
  from.addEventListener('change', syncFields);
  if (query.get('partition')) partition.value = query.get('partition');
  if (query.get('offset')) {
    from.value = 'offset';
    offset.value = query.get('offset');
  }
  syncFields();
  const results = h('div', { class: 'messages' });
  const form = h('form', { class: 'panel toolbar-form', 'data-testid': 'browse-form' },
    field('Partition', partition), field('Start', from), offsetField, timeField, field('Limit', limit), field('Search', search), field('View', view),
    h('div', { class: 'field-actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'browse-load' }, 'Load messages')));
  body.append(form, results);
  let last = null;
  const draw = () => {
    if (!last) return;
    const { result } = last;
    const mode = view.value;
    const rows = result.messages.map((m) => ({ ...m, keyBytes: decode(m.key), valueBytes: decode(m.value), headerBytes: m.headers.map((x) => ({ key: x.key, value: decode(x.value) })) }));
    clear(results,
      h('div', { class: 'muted result-line', 'data-testid': 'browse-summary' },
        `${rows.length} message${rows.length === 1 ? '' : 's'} shown, ${formatNumber(result.scanned)} read`,
        result.scanLimitReached ? ' — the scan stopped at its bound: narrow the start or the partition to see more' : ''),
      rows.length === 0 ? note('No messages match.', 'info', 'no-messages') : null,
      h('div', { class: 'message-list', 'data-testid': 'messages' }, rows.map((m) => messageCard(m, mode))));
  };
  view.addEventListener('change', draw);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ from: from.value, limit: limit.value });
    if (partition.value) params.set('partition', partition.value);
    if (from.value === 'offset') params.set('offset', offset.value || '0');
    if (from.value === 'timestamp') {
      if (!time.value) {
        clear(results, errorBox({ message: 'Choose a time to start from.' }, 'Missing time'));
        return;
      }
      params.set('timestamp', new Date(time.value).toISOString());
    }
    if (search.value) params.set('search', search.value);
    clear(results, loading('Reading messages…'));
    try {
      last = { result: await api(`/topics/${enc(name)}/messages?${params}`) };
      draw();
    } catch (e) {
      clear(results, errorBox(e, 'Could not read messages'));
    }
  });
  form.requestSubmit();
}

function messageCard(m, mode) {
  const key = render_(m.keyBytes, mode);
  const value = render_(m.valueBytes, mode);
  const details = h('div', { class: 'message-details' },
    h('div', { class: 'kv' }, h('div', { class: 'k' }, 'Key'), h('pre', { class: `v ${key.kind}`, 'data-testid': 'message-key' }, key.text)),
    h('div', { class: 'kv' }, h('div', { class: 'k' }, 'Value'), h('pre', { class: `v ${value.kind}`, 'data-testid': 'message-value' }, value.text)),
    h('div', { class: 'kv' }, h('div', { class: 'k' }, 'Headers'),
      m.headerBytes.length === 0 ? h('div', { class: 'v muted' }, 'none') : h('table', { class: 'headers', 'data-testid': 'message-headers' },
        h('tbody', {}, m.headerBytes.map((x) => h('tr', {}, h('th', {}, x.key), h('td', {}, h('pre', {}, render_(x.value, mode === 'hex' ? 'hex' : 'text').text))))))),
    h('div', { class: 'kv' }, h('div', { class: 'k' }, 'Timestamp'), h('div', { class: 'v' }, `${formatTime(m.timestamp)} (${m.timestampType})`)));
  details.hidden = true;
  const summary = h('button', { class: 'message-summary', type: 'button', 'aria-expanded': 'false', 'data-testid': 'message-row',
    onclick: () => {
      details.hidden = !details.hidden;
      summary.setAttribute('aria-expanded', String(!details.hidden));
    } },
  h('span', { class: 'pos' }, badge(`p${m.partition}`, 'muted'), h('span', { class: 'offset' }, `#${m.offset}`)),
  h('span', { class: 'time' }, formatTime(m.timestamp)),
  h('span', { class: 'key' }, preview(m.keyBytes)),
  h('span', { class: 'value' }, preview(m.valueBytes)),
  h('span', { class: 'hcount' }, m.headerBytes.length ? badge(`${m.headerBytes.length} header${m.headerBytes.length === 1 ? '' : 's'}`) : ''));
  return h('article', { class: 'message', 'data-partition': m.partition, 'data-offset': m.offset }, summary, details);
}

// ---- produce

function produce(body, name, topic) {
  const partition = h('select', { class: 'input', 'data-testid': 'produce-partition' },
    h('option', { value: '' }, 'Chosen by key'), topic.partitions.map((p) => h('option', { value: String(p.partition) }, `Partition ${p.partition}`)));
  const key = h('input', { class: 'input', placeholder: 'empty for no key', 'data-testid': 'produce-key' });
  const value = h('textarea', { class: 'input mono', rows: 8, placeholder: '{"id": 1}', 'data-testid': 'produce-value' });
  const headers = h('div', { class: 'header-rows' });
  const addHeader = () => headers.append(headerRow());
  const status = h('div', { class: 'form-status', 'data-testid': 'produce-status' });
  const form = h('form', { class: 'panel form-grid', 'data-testid': 'produce-form' },
    field('Partition', partition),
    field('Key', key),
    h('div', { class: 'span-all' }, field('Value', value, 'Sent as UTF-8 text')),
    h('div', { class: 'span-all' }, h('div', { class: 'label' }, 'Headers'), headers,
      h('button', { class: 'button small', type: 'button', 'data-testid': 'add-header', onclick: addHeader }, '+ Header')),
    h('div', { class: 'span-all actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'produce-send' }, 'Produce'), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const list = Array.from(headers.querySelectorAll('.header-row'))
      .map((row) => ({ key: row.querySelector('[data-role=key]').value.trim(), value: row.querySelector('[data-role=value]').value }))
      .filter((x) => x.key);
    clear(status);
    try {
      const delivered = await api(`/topics/${enc(name)}/messages`, {
        method: 'POST',
        body: { partition: partition.value === '' ? null : Number(partition.value), key: key.value === '' ? null : key.value, value: value.value, headers: list },
      });
      status.append(h('div', { class: 'alert ok', 'data-testid': 'produced' },
        `Produced to partition ${delivered.partition} at offset ${delivered.offset}. `,
        h('a', { href: `#/topics/${enc(name)}/messages?partition=${delivered.partition}&offset=${delivered.offset}` }, 'Show it')));
    } catch (e) {
      status.append(errorBox(e, 'Could not produce'));
    }
  });
  body.append(form);
}

function headerRow() {
  const row = h('div', { class: 'header-row' },
    h('input', { class: 'input', placeholder: 'name', 'data-role': 'key', 'data-testid': 'header-key' }),
    h('input', { class: 'input', placeholder: 'value', 'data-role': 'value', 'data-testid': 'header-value' }),
    h('button', { class: 'button small ghost', type: 'button', title: 'Remove header', onclick: () => row.remove() }, '×'));
  return row;
}

// ---- configs

async function configs(body, name) {
  const onlyOverrides = h('input', { type: 'checkbox', 'data-testid': 'only-overrides' });
  const filter = h('input', { type: 'search', class: 'input', placeholder: 'Filter configs', 'data-testid': 'config-filter' });
  const list = h('div', {}, loading());
  body.append(h('div', { class: 'toolbar' }, filter, h('label', { class: 'check' }, onlyOverrides, 'Only overrides')), list);
  let entries = [];
  const load = async () => {
    try {
      entries = await api(`/topics/${enc(name)}/configs`);
      draw();
    } catch (e) {
      clear(list, errorBox(e, 'Could not read configs'));
    }
  };
  const alter = async (body_, message) => {
    try {
      await api(`/topics/${enc(name)}/configs`, { method: 'PATCH', body: body_ });
      toast(message);
      await load();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const draw = () => {
    const text = filter.value.trim().toLowerCase();
    const rows = entries.filter((c) => c.name.includes(text) && (!onlyOverrides.checked || c.source === 'DYNAMIC_TOPIC_CONFIG'));
    clear(list, table([
      { label: 'Name', value: (c) => h('code', {}, c.name) },
      { label: 'Value', value: (c) => valueCell(c, (v) => alter({ set: { [c.name]: v } }, `${c.name} set to ${v}.`)) },
      { label: 'Source', value: (c) => (c.source === 'DYNAMIC_TOPIC_CONFIG' ? badge('topic override', 'ok') : h('span', { class: 'muted' }, c.source.toLowerCase().replaceAll('_', ' '))) },
      {
        label: '',
        class: 'actions',
        value: (c) => (c.source === 'DYNAMIC_TOPIC_CONFIG' && !c.isReadOnly
          ? h('button', { class: 'button small ghost', type: 'button', title: 'Remove the override', onclick: () => alter({ delete: [c.name] }, `${c.name} reset to its default.`) }, 'Reset')
          : ''),
      },
    ], rows, { testid: 'configs', rowAttrs: (c) => ({ 'data-config': c.name }) }));
  };
  filter.addEventListener('input', draw);
  onlyOverrides.addEventListener('change', draw);
  await load();
}

function valueCell(config, save) {
  const shown = config.isSensitive ? '(sensitive)' : config.value ?? '';
  if (config.isReadOnly) return h('span', { class: 'mono' }, shown, ' ', badge('read-only', 'muted'));
  const cell = h('span', { class: 'config-value' });
  const showValue = () => {
    clear(cell, h('span', { class: 'mono' }, shown || h('span', { class: 'muted' }, 'empty')), ' ',
      h('button', { class: 'button small ghost', type: 'button', 'data-testid': `edit-${config.name}`, onclick: edit }, 'Edit'));
  };
  function edit() {
    const input = h('input', { class: 'input mono', value: config.value ?? '', 'data-testid': `value-${config.name}` });
    const form = h('form', { class: 'inline-edit' }, input,
      h('button', { class: 'button small primary', type: 'submit', 'data-testid': `save-${config.name}` }, 'Save'),
      h('button', { class: 'button small', type: 'button', onclick: showValue }, 'Cancel'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      save(input.value.trim());
    });
    clear(cell, form);
    input.focus();
  }
  showValue();
  return cell;
}
