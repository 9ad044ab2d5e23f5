// The operator's tenants: one table (sortable by any column, filtered by name, problem or
// state) from the installation report, and a tenant's page: usage, health, activation and
// quotas (a quota below current usage is set only once the operator confirms it).

import { $, api, bytes, failed, say, show, when } from './core.js';
import { usageRow } from './figures.js';

const PAGE = 200;
const table = { rows: [], next: null, key: 'tenant', dir: 1, current: null };

/** The report's first page of rows (and the installation's totals). */
export async function loadReport() {
    const r = await api('GET', '/admin/report?limit=' + PAGE);
    table.rows = r.tenants;
    table.next = r.next;
    return r;
}

export async function moreTenants() {
    try {
        const r = await api('GET', '/admin/report?limit=' + PAGE + '&after=' + encodeURIComponent(table.next));
        table.rows.push(...r.tenants);
        table.next = r.next;
    } catch (e) {
        return failed(e);
    }
    renderTenants();
}

export async function listTenants() {
    show('tenants-view');
    try {
        await loadReport();
    } catch (e) {
        return failed(e);
    }
    renderTenants();
    $('tenants-title').focus();
}

/** What a column sorts by: a share of the quota for usage, a count for health. */
function sortValue(row, key) {
    const v = row[key];
    if (Array.isArray(v)) return v[1] ? v[0] / v[1] : v[0];
    if (key === 'problems') return v.length;
    return v === null ? '' : v;
}

const fraction = (f, show = String) => (f ? show(f[0]) + ' / ' + show(f[1]) : '?');

function matches(row) {
    const want = $('status-filter').value;
    if (want === 'active' && row.status !== 'active') return false;
    if (want === 'inactive' && row.status === 'active') return false;
    if (want === 'problems' && row.problems.length === 0) return false;
    const q = $('filter').value.trim().toLowerCase();
    return !q || row.tenant.includes(q) || row.problems.some((p) => p.toLowerCase().includes(q));
}

function cell(tr, content) {
    const td = document.createElement('td');
    td.append(content);
    tr.append(td);
}

export function renderTenants() {
    const { key, dir } = table;
    const rows = table.rows.filter(matches).sort((a, b) => {
        const [x, y] = [sortValue(a, key), sortValue(b, key)];
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    $('tenants').tBodies[0].replaceChildren(
        ...rows.map((t) => {
            const tr = document.createElement('tr');
            const link = document.createElement('a');
            link.href = '#/tenant/' + encodeURIComponent(t.tenant);
            link.textContent = t.tenant;
            cell(tr, link);
            cell(tr, t.status);
            cell(tr, fraction(t.pages));
            cell(tr, fraction(t.storage, bytes));
            cell(tr, String(t.visitors_30d));
            cell(tr, t.published ? when(t.published) : 'never');
            cell(tr, t.problems.length ? t.problems[0] + (t.problems.length > 1 ? ' (+' + (t.problems.length - 1) + ' more)' : '') : 'ok');
            return tr;
        }),
    );
    $('tenants-count').textContent = rows.length + ' of ' + table.rows.length + ' tenants shown' + (table.next ? ' (more to load)' : '');
    $('more-tenants').hidden = !table.next;
}

/** Sorts by the column of `th` (again: the other way), and says so with aria-sort. */
export function sortBy(th) {
    table.dir = table.key === th.dataset.key ? -table.dir : 1;
    table.key = th.dataset.key;
    for (const other of th.parentElement.cells) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', table.dir > 0 ? 'ascending' : 'descending');
    renderTenants();
}

export async function tenant(id) {
    show('tenant-view');
    let t;
    try {
        if (!table.rows.some((r) => r.tenant === id)) await loadReport();
        t = await api('GET', '/admin/tenants/' + encodeURIComponent(id));
    } catch (e) {
        return failed(e);
    }
    table.current = t;
    const row = table.rows.find((r) => r.tenant === id);
    $('tenant-title').textContent = t.site_name + ' (' + t.id + ')';
    $('tenant-site').href = t.site_url;
    $('tenant-site').textContent = t.site_url;
    const at = (time) => (time ? when(time) : 'never');
    const figures = row ? ' · built ' + at(row.built) + (row.build_queued ? ' (a build is waiting)' : '') + ' · published ' + at(row.published) + ' · ' + row.visitors_30d + ' visitors in 30 days' : '';
    $('tenant-state').textContent = t.status + figures;
    const usage = $('tenant-usage');
    usage.replaceChildren();
    usageRow(usage, 'Pages', t.usage.pages.used, t.usage.pages.limit);
    usageRow(usage, 'Users', t.usage.users.used, t.usage.users.limit);
    usageRow(usage, 'Storage', t.usage.storage.used, t.usage.storage.limit, bytes);
    const problems = row ? row.problems : [];
    $('tenant-problems').replaceChildren(
        ...(problems.length ? problems : ['No problem found.']).map((p) => {
            const li = document.createElement('li');
            li.textContent = p;
            return li;
        }),
    );
    $('toggle-active').textContent = t.active ? 'Deactivate' : 'Activate';
    $('quota-pages').value = t.usage.pages.limit;
    $('quota-users').value = t.usage.users.limit;
    $('quota-storage').value = t.usage.storage.quota;
    $('tenant-title').focus();
}

export async function toggleActive() {
    const t = table.current;
    const action = t.active ? 'deactivate' : 'activate';
    if (t.active && !confirm('Deactivate ' + t.id + '? Its site and admin stop being served until it is activated again.')) return;
    try {
        await api('POST', '/admin/tenants/' + encodeURIComponent(t.id) + '/' + action);
    } catch (e) {
        return failed(e);
    }
    await tenant(t.id);
    say(t.id + (action === 'activate' ? ' is active.' : ' is deactivated.'));
}

export async function saveQuota(ev) {
    ev.preventDefault();
    const t = table.current;
    const body = { pages: Number($('quota-pages').value), users: Number($('quota-users').value), storage: $('quota-storage').value.trim() };
    const path = '/admin/tenants/' + encodeURIComponent(t.id) + '/quota';
    try {
        await api('PUT', path, body);
    } catch (e) {
        if (e.code !== 'below_usage') return failed(e);
        if (!confirm(e.message.split(';')[0] + '. Set it anyway? The tenant cannot add more until usage drops.')) return say('Quotas not changed.');
        try {
            await api('PUT', path, { ...body, force: true });
        } catch (again) {
            return failed(again);
        }
    }
    await tenant(t.id);
    say('Quotas saved for ' + t.id + '.');
}
