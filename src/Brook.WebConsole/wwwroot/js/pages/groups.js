import { api, enc } from '../api.js';
import { clear, errorBox, every, formatNumber, h, loading, pageHeader, stateBadge, table } from '../ui.js';

export async function render(container) {
  const filter = h('input', { type: 'search', class: 'input', placeholder: 'Filter by group id', 'data-testid': 'group-filter' });
  const list = h('div', {}, loading());
  container.append(pageHeader('Consumer groups', { subtitle: 'Refreshed every 5 seconds.' }), h('div', { class: 'toolbar' }, filter), list);
  let groups = null;
  const draw = () => {
    if (!groups) return;
    const text = filter.value.trim().toLowerCase();
    clear(list, table([
      { label: 'Group', key: 'group', value: (g) => h('a', { href: `#/groups/${enc(g.groupId)}` }, g.groupId) },
      { label: 'State', key: 'state', value: (g) => stateBadge(g.state) },
      { label: 'Protocol', key: 'type', value: (g) => g.type },
      { label: 'Members', key: 'members', value: (g) => formatNumber(g.members), class: 'num' },
      { label: 'Topics', key: 'topics', value: (g) => g.topics.join(', ') || '–' },
      { label: 'Total lag', key: 'lag', value: (g) => formatNumber(g.totalLag), class: 'num' },
    ], groups.filter((g) => g.groupId.toLowerCase().includes(text)), { testid: 'groups', empty: 'No consumer groups.', rowAttrs: (g) => ({ 'data-group': g.groupId }) }));
  };
  filter.addEventListener('input', draw);
  return every(5000, async () => {
    try {
      groups = await api('/groups');
      draw();
    } catch (e) {
      clear(list, errorBox(e, 'Could not list groups'));
    }
  });
}
