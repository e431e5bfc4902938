import { api } from '../api.js';
import { lineChart } from '../chart.js';
import { badge, clear, errorBox, every, formatBytes, formatNumber, formatRate, h, loading, pageHeader, stat, table } from '../ui.js';

export async function render(container) {
  container.append(pageHeader('Overview', { subtitle: 'The cluster at a glance, with live traffic.' }));
  const summary = h('section', { class: 'cards', 'data-testid': 'overview-stats' }, loading());
  const traffic = h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Throughput'), h('span', { class: 'muted', 'data-testid': 'rates-source' }, '')),
    h('div', { class: 'rates', 'data-testid': 'rates' }, loading()));
  const brokers = h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Brokers')), h('div', {}, loading()));
  container.append(summary, traffic, brokers);

  const stopOverview = every(10_000, async () => {
    try {
      const o = await api('/overview');
      document.getElementById('cluster-name').textContent = o.clusterId ? `cluster ${o.clusterId}` : '';
      clear(summary,
        stat('Brokers', formatNumber(o.brokers.length), 'stat-brokers'),
        stat('Topics', h('span', {}, formatNumber(o.topics), o.internalTopics ? h('small', {}, ` + ${o.internalTopics} internal`) : null), 'stat-topics'),
        stat('Partitions', formatNumber(o.partitions), 'stat-partitions'),
        stat('Messages', formatNumber(o.messages), 'stat-messages'),
        stat('Size on disk', formatBytes(o.sizeBytes), 'stat-size'),
        stat('Consumer groups', formatNumber(o.groups), 'stat-groups'));
      clear(brokers.lastChild, table([
        { label: 'Id', value: (b) => String(b.id), class: 'num' },
        { label: 'Address', value: (b) => h('code', {}, `${b.host}:${b.port}`) },
        { label: 'Role', value: (b) => (b.isController ? badge('controller', 'ok') : '') },
        { label: 'Listeners', value: (b) => h('code', {}, b.listeners || '–') },
        { label: 'Advertised listeners', value: (b) => h('code', {}, b.advertisedListeners || '–') },
        { label: 'Rack', value: (b) => b.rack || '–' },
      ], o.brokers, { testid: 'brokers' }));
      renderRates(traffic, o.rates);
    } catch (e) {
      clear(summary, errorBox(e, 'Could not read the cluster'));
    }
  });
  const stopRates = every(2000, async () => {
    try {
      renderRates(traffic, await api('/rates'));
    } catch {
      // The overview refresh reports errors; a missed rate sample is not worth a second message.
    }
  });
  return () => {
    stopOverview();
    stopRates();
  };
}

function renderRates(panel, rates) {
  const box = panel.querySelector('[data-testid=rates]');
  const source = panel.querySelector('[data-testid=rates-source]');
  if (rates.source === 'unavailable') {
    clear(box, h('p', { class: 'muted' }, 'Live rates come from the broker this console runs in; none is available here.'));
    return;
  }
  source.textContent = `last ${Math.max(1, Math.round(rates.windowSeconds))} s, from the broker's own counters`;
  const points = (key) => rates.history.map((s) => ({ t: Date.parse(s.time), v: s[key] }));
  const card = (label, value, key, bytes, testid) => h('div', { class: 'rate' },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', 'data-testid': testid }, formatRate(value, bytes)),
    lineChart([{ name: label, points: points(key) }], { width: 240, height: 48, compact: true, title: `${label} over the last two minutes` }));
  clear(box,
    card('Messages in', rates.messagesInPerSec, 'messagesIn', false, 'rate-messages-in'),
    card('Bytes in', rates.bytesInPerSec, 'bytesIn', true, 'rate-bytes-in'),
    card('Messages out', rates.messagesOutPerSec, 'messagesOut', false, 'rate-messages-out'),
    card('Bytes out', rates.bytesOutPerSec, 'bytesOut', true, 'rate-bytes-out'));
}
