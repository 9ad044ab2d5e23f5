// The installation admin at the main domain's /admin/: logging in with the installation admin
// key (the answer is an HttpOnly cookie; the key is not kept in the page), the overview
// (capacity, sign-ups per week, traffic per tenant) and the sign-ups waiting for their link.
// The tenants' table and a tenant's page are in tenants.js.

import { $, api, bytes, failed, logIn, logOut, say, session, show, showLogin, SignedOut, when } from './core.js';
import { chart, usageRow } from './figures.js';
import { listTenants, loadReport, moreTenants, renderTenants, saveQuota, sortBy, tenant, toggleActive } from './tenants.js';

function route() {
    if (!session.me) return showLogin();
    say(session.notice);
    session.notice = '';
    const hash = location.hash || '#/';
    if (hash.startsWith('#/tenant/')) return tenant(decodeURIComponent(hash.slice(9)));
    if (hash === '#/tenants') return listTenants();
    if (hash === '#/signups') return signups();
    return overview();
}

session.route = route;

async function overview() {
    show('overview-view');
    let r;
    try {
        r = await loadReport();
    } catch (e) {
        return failed(e);
    }
    const cap = $('capacity');
    cap.replaceChildren();
    usageRow(cap, 'Tenants', r.count, r.max_tenants);
    usageRow(cap, 'Stored', r.storage_bytes, null, bytes);
    usageRow(cap, 'Analytics', r.analytics_bytes, null, bytes);
    $('pending-link').textContent = r.pending_signups + ' sign-up(s) waiting for their email link';
    const weeks = Object.entries(r.signups_per_week);
    chart($('signups-chart'), weeks, { title: 'Sign-ups per week', x: 'ISO week', unit: 'sign-ups', empty: 'No sign-ups in these 8 weeks.' });
    const views = r.tenants.map((t) => [t.tenant, t.pageviews_30d]).sort((a, b) => b[1] - a[1]).slice(0, 40);
    chart($('views-chart'), views, { title: 'Page views per tenant in 30 days', x: 'tenant', unit: 'page views', empty: 'No page views recorded in the last 30 days.' });
    $('overview-title').focus();
}

async function signups() {
    show('signups-view');
    let list;
    try {
        list = (await api('GET', '/admin/signups')).signups;
    } catch (e) {
        return failed(e);
    }
    const body = $('signups').tBodies[0];
    body.replaceChildren(
        ...list.map((s) => {
            const tr = document.createElement('tr');
            for (const text of [s.domain, s.email || '?', when(s.created), when(s.expires)]) {
                const td = document.createElement('td');
                td.textContent = text;
                tr.append(td);
            }
            return tr;
        }),
    );
    $('signups-none').hidden = list.length > 0;
    $('signups-title').focus();
}

function login(ev) {
    ev.preventDefault();
    logIn('/admin/login', { key: $('key').value }, $('key'));
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logOut('/admin/logout', 'Logged out; every operator session has ended.'));
$('filter').addEventListener('input', renderTenants);
$('status-filter').addEventListener('change', renderTenants);
$('more-tenants').addEventListener('click', moreTenants);
$('toggle-active').addEventListener('click', toggleActive);
$('quota-form').addEventListener('submit', saveQuota);
for (const th of $('tenants').tHead.rows[0].cells) th.querySelector('button').addEventListener('click', () => sortBy(th));
window.addEventListener('hashchange', route);

(async () => {
    try {
        session.me = await api('GET', '/admin/me');
    } catch (e) {
        if (!(e instanceof SignedOut)) failed(e);
        return;
    }
    route();
})();
