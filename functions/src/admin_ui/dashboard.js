// The dashboard: the site's address, usage against every quota, 30 days of traffic, and
// publishing (a build asked for, followed until the site is live).

import { $, api, bytes, failed, say, session, show, when } from './core.js';
import { chart, usageRow } from './figures.js';

let publishWatch = null; // polls the status after "Publish now" until the site is live

/** What the site's publishing is doing; true once nothing waits and a deploy is live. */
async function publishState() {
    const st = await api('GET', '/status');
    const live = st.live ? 'Live since ' + when(st.live.flipped) + ' (deploy ' + st.live.deploy + ').' : 'Not published yet.';
    $('custom-domains').replaceChildren(
        ...st.custom_domains.map((host) => {
            const a = document.createElement('a');
            a.href = 'https://' + host + '/';
            a.textContent = host;
            return a;
        }),
    );
    const queued = st.queued ? ' A build is waiting (asked ' + when(st.queued) + ').' : '';
    $('publish-state').textContent = live + queued;
    return !st.queued && st.live !== null;
}

export async function publishNow() {
    try {
        await api('POST', '/publish');
        await publishState();
    } catch (e) {
        return failed(e);
    }
    say('Build requested; this page shows when the site is live.');
    clearInterval(publishWatch);
    publishWatch = setInterval(async () => {
        if ($('dashboard-view').hidden) return clearInterval(publishWatch);
        try {
            if (await publishState()) {
                clearInterval(publishWatch);
                say('Your site is live with your latest changes.');
            }
        } catch (e) {
            clearInterval(publishWatch);
            failed(e);
        }
    }, 2000);
}

/** The site's backups (admins): the last snapshot and how many are kept. */
async function backups() {
    const b = await api('GET', '/backups');
    $('restore-point').hidden = !b.configured;
    if (!b.configured) {
        $('backups-state').textContent = 'This installation keeps no backups yet (its operator sets them up with t8k backup init).';
        return;
    }
    const last = b.snapshots.length ? 'Last snapshot ' + when(b.snapshots[b.snapshots.length - 1].time) + '; ' + b.snapshots.length + ' kept.' : 'No snapshot yet.';
    const failed = b.last.failures ? ' The last ' + b.last.failures + ' attempt(s) failed.' : '';
    const asked = b.last.requested ? ' A restore point was asked for at ' + when(b.last.requested) + '.' : '';
    $('backups-state').textContent = last + failed + asked;
}

export async function askRestorePoint() {
    try {
        await api('POST', '/backups');
        await backups();
    } catch (e) {
        return failed(e);
    }
    say('Asked: the next scheduled backup takes a snapshot if your site changed since the last one.');
}

/** Maintenance going on or scheduled that concerns the site (admins). */
async function notices() {
    const n = await api('GET', '/notices');
    $('notices-box').hidden = n.notices.length === 0;
    $('notices-list').replaceChildren(
        ...n.notices.map((x) => {
            const li = document.createElement('li');
            const what = x.phase === 'current' ? 'Now, until ' + when(x.ends) : 'From ' + when(x.starts) + ' to ' + when(x.ends);
            li.textContent = x.message + ' — ' + what + (x.banner ? ' (your site shows a banner)' : '') + '.';
            return li;
        }),
    );
}

export async function dashboard() {
    show('dashboard-view');
    publishState().catch(failed);
    if (session.me.role === 'admin') {
        backups().catch(failed);
        notices().catch(failed);
    }
    $('site-link').textContent = location.origin + '/';
    let quota, traffic;
    try {
        [quota, traffic] = await Promise.all([api('GET', '/quota'), api('GET', '/analytics?days=30')]);
    } catch (e) {
        return failed(e);
    }
    $('usage').replaceChildren();
    const usage = $('usage');
    usageRow(usage, 'Pages', quota.pages.used, quota.pages.limit);
    usageRow(usage, 'Users', quota.users.used, quota.users.limit);
    usageRow(usage, 'Storage', quota.storage.used, quota.storage.limit, bytes);
    if (quota.bandwidth.used !== null) usageRow(usage, 'Bandwidth', quota.bandwidth.used, quota.bandwidth.limit, bytes);
    $('traffic').textContent = traffic.visitors + ' visitors, ' + traffic.pageviews + ' page views';
    chart($('chart'), traffic.daily.map((d) => [d.day, d.pageviews]), {
        title: 'Page views per day, last 30 days', x: 'day', unit: 'page views',
        empty: 'No page views yet in these 30 days. Once visitors come, they show here.',
    });
    $('dashboard-title').focus();
}
