import { api, enc } from '../api.js';
import { legend, lineChart, palette } from '../chart.js';
import { clear, confirmDialog, errorBox, every, field, formatNumber, h, loading, note, pageHeader, stat, stateBadge, table, toast } from '../ui.js';

const MaxPartitionLines = 8;

export async function render(container, { id }) {
  const header = h('div', {}, pageHeader(id, { crumbs: [{ label: 'Consumer groups', href: '#/groups' }, { label: id }] }));
  const stats = h('section', { class: 'cards' }, loading());
  const chart = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Lag over time'),
    h('span', { class: 'muted' }, 'Sampled while the console shows this group')), h('div', { class: 'chart-box', 'data-testid': 'lag-chart' }));
  const partitions = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Lag per partition')), h('div', {}));
  const members = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Members')), h('div', {}));
  const reset = h('section', { class: 'panel' });
  container.append(header, stats, chart, partitions, members, reset);

  let first = true;
  const stop = every(2000, async () => {
    try {
      const g = await api(`/groups/${enc(id)}`);
      clear(header, pageHeader(id, {
        crumbs: [{ label: 'Consumer groups', href: '#/groups' }, { label: id }],
        subtitle: h('span', {}, stateBadge(g.state), ` ${g.type} protocol`, g.partitionAssignor ? `, assignor ${g.partitionAssignor}` : '', g.coordinator !== null ? `, coordinator ${g.coordinator}` : ''),
      }));
      clear(stats,
        stat('State', g.state, 'group-state'),
        stat('Members', formatNumber(g.members.length), 'group-members'),
        stat('Partitions', formatNumber(g.partitions.length), 'group-partitions'),
        stat('Total lag', formatNumber(g.totalLag), 'group-lag'));
      drawChart(chart.querySelector('.chart-box'), g);
      clear(partitions.lastChild, table([
        { label: 'Topic', key: 'topic', value: (p) => h('a', { href: `#/topics/${enc(p.topic)}` }, p.topic) },
        { label: 'Partition', key: 'partition', value: (p) => String(p.partition), class: 'num' },
        { label: 'Committed', key: 'committed', value: (p) => (p.committedOffset === null ? '–' : formatNumber(p.committedOffset)), class: 'num' },
        { label: 'Start', key: 'start', value: (p) => formatNumber(p.startOffset), class: 'num' },
        { label: 'End', key: 'end', value: (p) => formatNumber(p.endOffset), class: 'num' },
        { label: 'Lag', key: 'lag', value: (p) => (p.lag === null ? '–' : formatNumber(p.lag)), class: 'num' },
        { label: 'Member', key: 'member', value: (p) => (p.memberId ? h('span', { title: p.memberId }, p.clientId || p.memberId) : h('span', { class: 'muted' }, 'unassigned')) },
      ], g.partitions, { testid: 'group-lag-table', empty: 'The group has no committed offsets and no assignment.', rowAttrs: (p) => ({ 'data-tp': `${p.topic}/${p.partition}` }) }));
      clear(members.lastChild, table([
        { label: 'Member id', value: (m) => h('code', { class: 'small' }, m.memberId) },
        { label: 'Client id', value: (m) => m.clientId },
        { label: 'Host', value: (m) => m.host },
        { label: 'Instance id', value: (m) => m.instanceId || '–' },
        { label: 'Assignment', value: (m) => m.assignment.join(', ') || '–' },
      ], g.members, { testid: 'group-members-table', empty: 'No active members.' }));
      if (first) {
        first = false;
        reset.append(resetForm(id, g));
      }
    } catch (e) {
      clear(stats, errorBox(e, 'Could not describe the group'));
    }
  });
  return stop;
}

function drawChart(box, group) {
  const samples = group.history;
  const byPartition = new Map();
  for (const sample of samples) for (const key of Object.keys(sample.partitions)) byPartition.set(key, Math.max(byPartition.get(key) || 0, sample.partitions[key]));
  const keys = [...byPartition.entries()].sort((a, b) => b[1] - a[1]).slice(0, MaxPartitionLines).map(([key]) => key).sort();
  const series = [{ name: 'Total lag', color: '#1f2933', width: 2.5, points: samples.map((s) => ({ t: Date.parse(s.time), v: s.total })) }];
  keys.forEach((key, i) => series.push({
    name: key,
    color: palette[i % palette.length],
    width: 1.5,
    points: samples.map((s) => ({ t: Date.parse(s.time), v: s.partitions[key] ?? 0 })),
  }));
  clear(box, lineChart(series, { width: 900, height: 240, integer: true, format: formatNumber, title: `Lag of ${group.groupId} over time` }), legend(series));
}

function resetForm(id, group) {
  const topics = [...new Set(group.partitions.map((p) => p.topic))].sort();
  const topic = h('select', { class: 'input', 'data-testid': 'reset-topic' },
    h('option', { value: '' }, 'Every committed topic'), topics.map((t) => h('option', { value: t }, t)));
  const partitions = h('input', { class: 'input', placeholder: 'all', 'data-testid': 'reset-partitions' });
  const mode = h('select', { class: 'input', 'data-testid': 'reset-mode' },
    h('option', { value: 'to-earliest' }, 'To earliest'), h('option', { value: 'to-latest' }, 'To latest'), h('option', { value: 'to-offset' }, 'To offset'),
    h('option', { value: 'shift-by' }, 'Shift by'), h('option', { value: 'to-datetime' }, 'To time'));
  const value = h('input', { class: 'input', type: 'number', value: '0', 'data-testid': 'reset-value' });
  const time = h('input', { class: 'input', type: 'datetime-local', step: 1, 'data-testid': 'reset-time' });
  const valueField = field('Offset / messages', value);
  const timeField = field('Time (local)', time);
  const sync = () => {
    valueField.hidden = !['to-offset', 'shift-by'].includes(mode.value);
    timeField.hidden = mode.value !== 'to-datetime';
  };
  mode.addEventListener('change', sync);
  sync();
  const preview = h('div', { class: 'reset-preview', 'data-testid': 'reset-preview' });
  const apply = h('button', { class: 'button danger', type: 'button', disabled: true, 'data-testid': 'reset-apply' }, 'Apply reset');
  const request = (execute) => {
    const body = { mode: mode.value, topic: topic.value || null, execute };
    const list = partitions.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (list.length) body.partitions = list.map(Number);
    if (['to-offset', 'shift-by'].includes(mode.value)) body.value = Number(value.value);
    if (mode.value === 'to-datetime' && time.value) body.time = new Date(time.value).toISOString();
    return body;
  };
  const show = (plan, executed) => {
    clear(preview,
      note(executed
        ? `Offsets reset for ${plan.partitions.length} partition${plan.partitions.length === 1 ? '' : 's'}.`
        : `Dry run: nothing changed yet. The group is ${plan.groupState} with ${plan.activeMembers} active member${plan.activeMembers === 1 ? '' : 's'}${plan.activeMembers ? ': stop them before applying' : ''}.`,
      executed ? 'ok' : 'info', executed ? 'reset-done' : 'reset-dry-run'),
      table([
        { label: 'Topic', value: (p) => p.topic },
        { label: 'Partition', value: (p) => String(p.partition), class: 'num' },
        { label: 'Current offset', value: (p) => (p.currentOffset === null ? '–' : formatNumber(p.currentOffset)), class: 'num' },
        { label: 'New offset', value: (p) => formatNumber(p.newOffset), class: 'num' },
        { label: 'Lag now', value: (p) => (p.lagBefore === null ? '–' : formatNumber(p.lagBefore)), class: 'num' },
        { label: 'Lag after', value: (p) => formatNumber(p.lagAfter), class: 'num' },
      ], plan.partitions, { testid: 'reset-plan', rowAttrs: (p) => ({ 'data-tp': `${p.topic}/${p.partition}` }) }));
  };
  const form = h('form', { class: 'form-grid', 'data-testid': 'reset-form' },
    field('Topic', topic), field('Partitions', partitions, 'Comma-separated; empty for all'), field('Reset', mode), valueField, timeField,
    h('div', { class: 'span-all actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'reset-preview-button' }, 'Preview (dry run)'), apply));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    apply.disabled = true;
    try {
      const plan = await api(`/groups/${enc(id)}/reset-offsets`, { method: 'POST', body: request(false) });
      show(plan, false);
      apply.disabled = plan.partitions.length === 0;
    } catch (e) {
      clear(preview, errorBox(e, 'Could not plan the reset'));
    }
  });
  form.addEventListener('change', () => {
    apply.disabled = true;
  });
  apply.addEventListener('click', async () => {
    if (!(await confirmDialog(`Reset offsets of ${id}?`, 'The group\'s committed offsets move as previewed. Consumers resume from there when they rejoin.', 'Apply reset'))) return;
    try {
      const plan = await api(`/groups/${enc(id)}/reset-offsets`, { method: 'POST', body: request(true) });
      show(plan, true);
      apply.disabled = true;
      toast(`Offsets of ${id} reset.`);
    } catch (e) {
      clear(preview, errorBox(e, 'Could not reset offsets'));
    }
  });
  return h('div', {}, h('div', { class: 'panel-head' }, h('h2', {}, 'Reset offsets')),
    h('p', { class: 'muted' }, 'Preview first: the dry run shows where each committed offset would move. Applying needs the group to have no active members.'),
    form, preview);
}
