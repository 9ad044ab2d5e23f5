// The dashboard: the site's address, usage against every quota, 30 days of traffic, and
// publishing (a build asked for, followed until the site is live).

import { $, api, bytes, failed, say, show, when } from './core.js';

let publishWatch = null; // polls the status after "Publish now" until the site is live

/** One usage row: a bar (a <progress>, so it has a name and a value for assistive tech). */
function usageRow(name, used, limit, show = String) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    if (limit) {
        // A bar only against a limit; without one there is nothing to fill.
        const bar = document.createElement('progress');
        bar.max = limit;
        bar.value = Math.min(used, limit);
        bar.setAttribute('aria-label', name);
        dd.append(bar, ' ');
    }
    const text = document.createElement('span');
    text.textContent = show(used) + (limit ? ' of ' + show(limit) : ' (no limit)');
    dd.append(text);
    $('usage').append(dt, dd);
}

/** Page views per day as bars, drawn with SVG elements (no inline code, no library). */
function chart(daily) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    const w = 10 * daily.length;
    svg.setAttribute('viewBox', '0 0 ' + w + ' 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const top = Math.max(1, ...daily.map((d) => d.pageviews));
    svg.setAttribute('aria-label', 'Page views per day, at most ' + top);
    daily.forEach((d, i) => {
        const h = (100 * d.pageviews) / top;
        const r = document.createElementNS(NS, 'rect');
        r.setAttribute('x', String(i * 10 + 1));
        r.setAttribute('y', String(100 - h));
        r.setAttribute('width', '8');
        r.setAttribute('height', String(h));
        svg.append(r);
    });
    $('chart').replaceChildren(svg);
}


/** What the site's publishing is doing; true once nothing waits and a deploy is live. */
async function publishState() {
    const st = await api('GET', '/status');
    const live = st.live ? 'Live since ' + when(st.live.flipped) + ' (deploy ' + st.live.deploy + ').' : 'Not published yet.';
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

export async function dashboard() {
    show('dashboard-view');
    publishState().catch(failed);
    $('site-link').textContent = location.origin + '/';
    let quota, traffic;
    try {
        [quota, traffic] = await Promise.all([api('GET', '/quota'), api('GET', '/analytics?days=30')]);
    } catch (e) {
        return failed(e);
    }
    $('usage').replaceChildren();
    usageRow('Pages', quota.pages.used, quota.pages.limit);
    usageRow('Users', quota.users.used, quota.users.limit);
    usageRow('Storage', quota.storage.used, quota.storage.limit, bytes);
    if (quota.bandwidth.used !== null) usageRow('Bandwidth', quota.bandwidth.used, quota.bandwidth.limit, bytes);
    $('traffic').textContent = traffic.visitors + ' visitors, ' + traffic.pageviews + ' page views';
    chart(traffic.daily);
    $('dashboard-title').focus();
}
