import { api, enc } from '../api.js';
import { badge, clear, confirmDialog, errorBox, field, formatBytes, formatDurationMs, formatNumber, h, loading, note, pageHeader, table, toast } from '../ui.js';

export async function render(container) {
  const showInternal = h('input', { type: 'checkbox', 'data-testid': 'show-internal' });
  const filter = h('input', { type: 'search', placeholder: 'Filter by name', class: 'input', 'data-testid': 'topic-filter' });
  const createButton = h('button', { class: 'button primary', type: 'button', 'data-testid': 'open-create-topic' }, 'Create topic');
  container.append(pageHeader('Topics', { actions: [createButton] }));
  const form = createForm(() => load());
  form.hidden = true;
  createButton.addEventListener('click', () => {
    form.hidden = !form.hidden;
    if (!form.hidden) form.querySelector('input').focus();
  });
  const list = h('div', {}, loading());
  container.append(form, h('div', { class: 'toolbar' }, filter, h('label', { class: 'check' }, showInternal, 'Show internal topics')), list);

  let topics = [];
  let sizeError = null;
  const draw = () => {
    const text = filter.value.trim().toLowerCase();
    const rows = topics.filter((t) => (showInternal.checked || !t.isInternal) && t.name.toLowerCase().includes(text));
    clear(list,
      sizeError ? note(`Sizes are not available: ${sizeError}`, 'info') : null,
      table([
        { label: 'Name', key: 'name', value: (t) => h('span', {}, h('a', { href: `#/topics/${enc(t.name)}` }, t.name), t.isInternal ? badge('internal', 'muted') : null) },
        { label: 'Partitions', key: 'partitions', value: (t) => formatNumber(t.partitions), class: 'num' },
        { label: 'Messages', key: 'messages', value: (t) => formatNumber(t.messages), class: 'num', title: 'End offsets minus start offsets (an upper bound for compacted topics)' },
        { label: 'Size', key: 'size', value: (t) => formatBytes(t.sizeBytes), class: 'num' },
        { label: 'Retention', key: 'retention', value: (t) => formatDurationMs(t.retentionMs), class: 'num' },
        { label: 'Cleanup policy', key: 'cleanup', value: (t) => t.cleanupPolicy || '–' },
        {
          label: '',
          key: 'actions',
          class: 'actions',
          value: (t) => (t.isInternal ? '' : h('button', {
            class: 'button small danger ghost',
            type: 'button',
            title: `Delete ${t.name}`,
            'data-testid': `delete-topic-${t.name}`,
            onclick: () => remove(t.name),
          }, 'Delete')),
        },
      ], rows, { testid: 'topics', empty: topics.length ? 'No topic matches the filter.' : 'No topics yet. Create one above.', rowAttrs: (t) => ({ 'data-topic': t.name }) }));
  };
  filter.addEventListener('input', draw);
  showInternal.addEventListener('change', draw);

  async function load() {
    try {
      const result = await api('/topics');
      topics = result.topics;
      sizeError = result.sizeError;
      draw();
    } catch (e) {
      clear(list, errorBox(e, 'Could not list topics'));
    }
  }

  async function remove(name) {
    if (!(await confirmDialog(`Delete topic ${name}?`, 'Its messages are deleted for good. Consumers reading it will get errors.', 'Delete topic'))) return;
    try {
      await api(`/topics/${enc(name)}`, { method: 'DELETE' });
      toast(`Topic ${name} deleted.`);
      await load();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  await load();
}

function createForm(created) {
  const name = h('input', { class: 'input', name: 'name', required: true, pattern: '[a-zA-Z0-9._\\-]+', maxlength: 249, placeholder: 'orders', 'data-testid': 'topic-name' });
  const partitions = h('input', { class: 'input', type: 'number', min: 1, max: 10000, value: '3', 'data-testid': 'topic-partitions' });
  const cleanup = h('select', { class: 'input', 'data-testid': 'topic-cleanup' },
    h('option', { value: '' }, 'default (delete)'), h('option', { value: 'delete' }, 'delete'), h('option', { value: 'compact' }, 'compact'), h('option', { value: 'compact,delete' }, 'compact,delete'));
  const retention = h('select', { class: 'input', 'data-testid': 'topic-retention' },
    h('option', { value: '' }, 'default'), h('option', { value: '3600000' }, '1 hour'), h('option', { value: '86400000' }, '1 day'),
    h('option', { value: '604800000' }, '7 days'), h('option', { value: '2592000000' }, '30 days'), h('option', { value: '-1' }, 'forever'));
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'panel form-grid', 'data-testid': 'create-topic-form' },
    h('h2', { class: 'span-all' }, 'New topic'),
    field('Name', name, 'Letters, digits, dots, underscores and dashes'),
    field('Partitions', partitions),
    field('Retention', retention),
    field('Cleanup policy', cleanup),
    h('div', { class: 'span-all actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'create-topic' }, 'Create'), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const configs = {};
    if (retention.value) configs['retention.ms'] = retention.value;
    if (cleanup.value) configs['cleanup.policy'] = cleanup.value;
    clear(status);
    try {
      await api('/topics', { method: 'POST', body: { name: name.value.trim(), partitions: Number(partitions.value), configs } });
      toast(`Topic ${name.value.trim()} created.`);
      name.value = '';
      form.hidden = true;
      await created();
    } catch (e) {
      status.append(errorBox(e, 'Could not create the topic'));
    }
  });
  return form;
}
