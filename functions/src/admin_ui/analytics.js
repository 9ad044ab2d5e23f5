// Analytics inside the admin: the figures `t8k analytics rollup` has merged — visitors and
// page views per day, the pages read, where visitors came from and where they entered — for
// the last 7, 30 or 90 days. The same report as /api/analytics/dashboard (a plain page).

import { $, api, failed, show } from './core.js';
import { chart } from './figures.js';

const percent = (x) => Math.round(x * 100) + '%';

/** Rows of text into the body of table `id` (an empty report says so in one row). */
function fill(id, rows) {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    if (!rows.length) rows = [['Nothing yet']];
    for (const cells of rows) {
        const tr = body.insertRow();
        for (const text of cells) tr.insertCell().textContent = text;
    }
}

export async function analytics() {
    show('analytics-view');
    const days = $('period').value;
    let r;
    try {
        r = await api('GET', '/analytics?days=' + days);
    } catch (e) {
        return failed(e);
    }
    $('totals').textContent = r.visitors + ' visitors (per day, summed) · ' + r.pageviews + ' page views · last ' + r.daily.length + ' days';
    const none = 'No visits recorded in these ' + r.daily.length + ' days yet.';
    chart($('views-chart'), r.daily.map((d) => [d.day, d.pageviews]), { title: 'Page views per day', x: 'day', unit: 'page views', empty: none });
    chart($('visitors-chart'), r.daily.map((d) => [d.day, d.visitors]), { title: 'Visitors per day', x: 'day', unit: 'visitors', empty: none });
    const label = { lcp: 'Largest Contentful Paint (LCP)', cls: 'Cumulative Layout Shift (CLS)', inp: 'Interaction to Next Paint (INP)', ttfb: 'Time to First Byte (TTFB)' };
    const value = (m, v) => (m === 'cls' ? v.toFixed(2) : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : Math.round(v) + ' ms');
    fill('vitals', Object.entries(r.vitals).map(([m, f]) => [label[m], value(m, f.p75), f.band.replace('_', ' '), String(f.samples)]));
    fill('top-pages', r.pages.map((p) => [p.path, String(p.views), percent(p.glossed_rate), percent(p.read_rate)]));
    fill('referrers', r.referrers.map((c) => [c.name, String(c.count)]));
    fill('entries', r.entries.map((c) => [c.name, String(c.count)]));
    $('full-report').href = '/api/analytics/dashboard?days=' + days;
    $('analytics-title').focus();
}
