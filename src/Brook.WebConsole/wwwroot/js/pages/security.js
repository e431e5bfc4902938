import { api, enc } from '../api.js';
import { badge, clear, confirmDialog, errorBox, field, h, loading, pageHeader, table, toast } from '../ui.js';

export async function render(container) {
  const acls = h('section', { class: 'panel', 'data-testid': 'acls-section' }, h('div', { class: 'panel-head' }, h('h2', {}, 'ACLs')), h('div', {}, loading()));
  const users = h('section', { class: 'panel', 'data-testid': 'users-section' }, h('div', { class: 'panel-head' }, h('h2', {}, 'SCRAM users')), h('div', {}, loading()));
  container.append(pageHeader('Security', { subtitle: 'Access control lists and SCRAM credentials, where the cluster has them.' }), acls, users);
  await Promise.all([loadAcls(acls.lastChild), loadUsers(users.lastChild)]);
}

function unsupported(e, what, hint) {
  return h('div', { class: 'alert info', 'data-testid': 'security-unavailable' },
    h('strong', {}, `${what} are not enabled on this cluster`),
    h('div', {}, hint),
    h('div', { class: 'muted small' }, e.message));
}

async function loadAcls(box) {
  let rows;
  try {
    rows = await api('/acls');
  } catch (e) {
    clear(box, e.kind === 'unsupported'
      ? unsupported(e, 'ACLs', 'The broker runs without an authorizer: every client may do everything. Set authorizer.class.name and super.users to enforce ACLs.')
      : errorBox(e, 'Could not list ACLs'));
    return;
  }
  const remove = async (acl) => {
    if (!(await confirmDialog('Delete this ACL?', `${acl.permission} ${acl.principal} ${acl.operation} on ${acl.resourceType} ${acl.resourceName}`, 'Delete ACL'))) return;
    try {
      await api('/acls/delete', { method: 'POST', body: acl });
      toast('ACL deleted.');
      await loadAcls(box);
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  clear(box, table([
    { label: 'Principal', value: (a) => h('code', {}, a.principal) },
    { label: 'Permission', value: (a) => badge(a.permission, a.permission === 'allow' ? 'ok' : 'bad') },
    { label: 'Operation', value: (a) => a.operation },
    { label: 'Resource', value: (a) => `${a.resourceType} ${a.resourceName}` },
    { label: 'Pattern', value: (a) => a.patternType },
    { label: 'Host', value: (a) => a.host },
    { label: '', class: 'actions', value: (a) => h('button', { class: 'button small danger ghost', type: 'button', 'data-testid': 'delete-acl', onclick: () => remove(a) }, 'Delete') },
  ], rows, { testid: 'acls', empty: 'No ACLs.', rowAttrs: (a) => ({ 'data-acl': aclKey(a) }) }), aclForm(() => loadAcls(box)));
}

/** One line naming an ACL, as the tests find its row: "allow User:alice read topic orders literal *". */
function aclKey(a) {
  return `${a.permission} ${a.principal} ${a.operation} ${a.resourceType} ${a.resourceName} ${a.patternType} ${a.host}`;
}

function aclForm(done) {
  const select = (options, testid) => h('select', { class: 'input', 'data-testid': testid }, options.map((o) => h('option', { value: o }, o)));
  const principal = h('input', { class: 'input', placeholder: 'User:alice', required: true, 'data-testid': 'acl-principal' });
  const permission = select(['allow', 'deny'], 'acl-permission');
  const operation = select(['read', 'write', 'create', 'delete', 'alter', 'describe', 'describe-configs', 'alter-configs', 'idempotent-write', 'all'], 'acl-operation');
  const resourceType = select(['topic', 'group', 'cluster'], 'acl-resource-type');
  const resourceName = h('input', { class: 'input', placeholder: 'orders', required: true, 'data-testid': 'acl-resource-name' });
  const patternType = select(['literal', 'prefixed'], 'acl-pattern');
  const host = h('input', { class: 'input', value: '*', 'data-testid': 'acl-host' });
  // The cluster is one resource, named kafka-cluster as in Kafka.
  resourceType.addEventListener('change', () => {
    if (resourceType.value === 'cluster') resourceName.value = 'kafka-cluster';
    else if (resourceName.value === 'kafka-cluster') resourceName.value = '';
  });
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'form-grid subform' }, h('h3', { class: 'span-all' }, 'Add an ACL'),
    field('Principal', principal), field('Permission', permission), field('Operation', operation), field('Resource type', resourceType),
    field('Resource name', resourceName), field('Pattern', patternType), field('Host', host),
    h('div', { class: 'span-all actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'add-acl' }, 'Add ACL'), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(status);
    try {
      await api('/acls', {
        method: 'POST',
        body: { principal: principal.value.trim(), permission: permission.value, operation: operation.value, resourceType: resourceType.value,
          resourceName: resourceName.value.trim(), patternType: patternType.value, host: host.value.trim() || '*' },
      });
      toast('ACL added.');
      await done();
    } catch (e) {
      status.append(errorBox(e, 'Could not add the ACL'));
    }
  });
  return form;
}

async function loadUsers(box) {
  let rows;
  try {
    rows = await api('/users');
  } catch (e) {
    clear(box, e.kind === 'unsupported'
      ? unsupported(e, 'SCRAM users', 'The cluster does not answer the SCRAM credential APIs, so there is nothing to show or change here.')
      : errorBox(e, 'Could not list users'));
    return;
  }
  const remove = async (user, mechanism) => {
    if (!(await confirmDialog(`Delete ${mechanism} credential of ${user}?`, 'The user can no longer log in with this mechanism.', 'Delete'))) return;
    try {
      await api(`/users/${enc(user)}?mechanism=${enc(mechanism)}`, { method: 'DELETE' });
      toast(`Credential of ${user} deleted.`);
      await loadUsers(box);
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const flat = rows.flatMap((u) => u.credentials.map((c) => ({ user: u.user, ...c })));
  clear(box, table([
    { label: 'User', value: (u) => h('code', {}, u.user) },
    { label: 'Mechanism', key: 'mechanism', value: (u) => u.mechanism },
    { label: 'Iterations', key: 'iterations', value: (u) => String(u.iterations), class: 'num' },
    { label: '', class: 'actions', value: (u) => h('button', { class: 'button small danger ghost', type: 'button', 'data-testid': 'delete-user', onclick: () => remove(u.user, u.mechanism) }, 'Delete') },
  ], flat, { testid: 'users', empty: 'No SCRAM users.', rowAttrs: (u) => ({ 'data-user': u.user, 'data-mechanism': u.mechanism }) }), userForm(() => loadUsers(box)));
}

function userForm(done) {
  const user = h('input', { class: 'input', required: true, placeholder: 'alice', autocomplete: 'off', 'data-testid': 'user-name' });
  const password = h('input', { class: 'input', type: 'password', required: true, autocomplete: 'new-password', 'data-testid': 'user-password' });
  const mechanism = h('select', { class: 'input', 'data-testid': 'user-mechanism' }, h('option', {}, 'SCRAM-SHA-256'), h('option', {}, 'SCRAM-SHA-512'));
  const iterations = h('input', { class: 'input', type: 'number', min: 4096, max: 16384, value: '4096', 'data-testid': 'user-iterations' });
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'form-grid subform' }, h('h3', { class: 'span-all' }, 'Add or update a user'),
    field('User', user), field('Password', password), field('Mechanism', mechanism), field('Iterations', iterations),
    h('div', { class: 'span-all actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'save-user' }, 'Save user'), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(status);
    try {
      await api('/users', { method: 'POST', body: { user: user.value.trim(), password: password.value, mechanism: mechanism.value, iterations: Number(iterations.value) } });
      toast(`User ${user.value.trim()} saved.`);
      password.value = '';
      await done();
    } catch (e) {
      status.append(errorBox(e, 'Could not save the user'));
    }
  });
  return form;
}
