// Custom domains (admins): add one, see the DNS records to create, check it in DNS, remove it.

import { $, api, button, failed, session, show, when } from './core.js';

/** A DNS record to create, as a provider's form asks for it. */
function record(type, name, value) {
    const row = document.createElement('tr');
    for (const text of [type, name, value]) row.insertCell().textContent = text;
    return row;
}

/** What the domain's certificate is doing, in words. */
function certificate(c) {
    if (c.issued) return 'Certificate valid until ' + when(c.not_after) + ' (renewed before it ends).';
    if (c.last_error) return 'Certificate failed ' + c.failures + ' time(s): ' + c.last_error + '. Next attempt after ' + when(c.retry_after) + '.';
    if (c.awaiting) return 'Waiting for its certificate (asked for once the domain points here).';
    return 'No certificate of its own yet: the installation’s edge serves it.';
}

function domainCard(d) {
    const card = document.createElement('article');
    card.className = 'domain';
    const title = document.createElement('h2');
    title.textContent = d.host;
    const state = document.createElement('p');
    const states = { pending: 'Waiting for its DNS records', verified: 'Verified, waiting to route here', active: 'Active' };
    state.textContent = (states[d.status] || d.status) + (d.checked ? ' · last checked ' + when(d.checked) : '') + (d.problem ? ' · ' + d.problem : '');
    const cert = document.createElement('p');
    cert.textContent = certificate(d.certificate);
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const h of ['Type', 'Name', 'Value']) {
        const th = document.createElement('th');
        th.scope = 'col';
        th.textContent = h;
        head.append(th);
    }
    const body = table.createTBody();
    body.append(record('TXT', d.records.txt_name, d.records.txt_value), record('CNAME', d.host, d.records.cname_target));
    const check = button('Check now', 'Check now: ' + d.host, async () => {
        try {
            await api('POST', '/domains/' + encodeURIComponent(d.host) + '/verify');
        } catch (e) {
            return failed(e);
        }
        session.notice = 'Checked ' + d.host + '.';
        session.route();
    });
    const remove = button('Remove', 'Remove ' + d.host, async () => {
        if (!confirm('Remove ' + d.host + '? It stops serving your site.')) return;
        try {
            await api('DELETE', '/domains/' + encodeURIComponent(d.host));
        } catch (e) {
            return failed(e);
        }
        session.notice = 'Removed ' + d.host + '.';
        session.route();
    });
    remove.className = 'danger';
    card.append(title, state, cert, table, check, ' ', remove);
    return card;
}

export async function listDomains() {
    show('domains-view');
    let view;
    try {
        view = await api('GET', '/domains');
    } catch (e) {
        if (e.status === 403) return failed(new Error('Only the site’s admins manage domains.'));
        return failed(e);
    }
    $('own-domain').textContent = view.domain;
    $('domains').replaceChildren(...view.domains.map(domainCard));
    $('domains-title').focus();
}

export async function addDomain(ev) {
    ev.preventDefault();
    const host = $('new-domain').value.trim();
    try {
        await api('POST', '/domains', { host });
    } catch (e) {
        return failed(e);
    }
    $('add-domain').reset();
    session.notice = 'Added ' + host + ': create its DNS records, then check it.';
    session.route();
}
