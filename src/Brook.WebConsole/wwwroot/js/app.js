// The console's router: hash routes (#/topics/orders) select a page module; leaving a page stops its timers.
import { api } from './api.js';
import { clear, errorBox, h } from './ui.js';
import * as overview from './pages/overview.js';
import * as topics from './pages/topics.js';
import * as topic from './pages/topic.js';
import * as groups from './pages/groups.js';
import * as group from './pages/group.js';
import * as security from './pages/security.js';

const routes = [
  { pattern: /^\/?$/, page: overview, nav: 'overview' },
  { pattern: /^\/topics\/?$/, page: topics, nav: 'topics' },
  { pattern: /^\/topics\/([^/]+)(?:\/([a-z]+))?\/?$/, page: topic, nav: 'topics', params: ['name', 'tab'] },
  { pattern: /^\/groups\/?$/, page: groups, nav: 'groups' },
  { pattern: /^\/groups\/([^/]+)\/?$/, page: group, nav: 'groups', params: ['id'] },
  { pattern: /^\/security\/?$/, page: security, nav: 'security' },
];

const view = document.getElementById('view');
let cleanup = null;
let renderId = 0;

async function route() {
  const path = location.hash.replace(/^#/, '') || '/';
  const [pathname, query = ''] = path.split('?');
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const match = routes.map((r) => ({ r, m: r.pattern.exec(pathname) })).find((x) => x.m);
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', match && link.dataset.nav === match.r.nav);
  clear(view);
  if (!match) {
    view.append(h('div', { class: 'page' }, h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '#/' }, 'Go to the overview.'))));
    return;
  }
  const params = Object.fromEntries((match.r.params || []).map((name, i) => [name, match.m[i + 1] ? decodeURIComponent(match.m[i + 1]) : undefined]));
  params.query = new URLSearchParams(query);
  const id = ++renderId;
  const container = h('div', { class: 'page', 'data-page': match.r.nav });
  view.append(container);
  try {
    const result = await match.r.page.render(container, params);
    if (id !== renderId) {
      if (typeof result === 'function') result();
      return;
    }
    cleanup = typeof result === 'function' ? result : null;
  } catch (e) {
    container.append(errorBox(e));
  }
}

window.addEventListener('hashchange', route);
route();
// The cluster id in the top bar, whatever page opened first.
api('/overview').then((o) => {
  document.getElementById('cluster-name').textContent = o.clusterId ? `cluster ${o.clusterId}` : '';
}).catch(() => {});
