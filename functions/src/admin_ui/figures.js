// Figures both admins draw: usage against a limit as a bar, and a series as SVG bars (no
// inline code, no library).

/** One usage row of a <dl>: a bar (a <progress>, so it has a name and a value for assistive
 * tech) and the figures in words. */
export function usageRow(list, name, used, limit, show = String) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    const limited = limit !== null && limit !== undefined;
    if (limited) {
        // A bar only against a limit; without one there is nothing to fill (a limit of 0
        // is full as soon as anything is used).
        const bar = document.createElement('progress');
        bar.max = Math.max(limit, 1);
        bar.value = Math.min(used, bar.max);
        bar.setAttribute('aria-label', name);
        dd.append(bar, ' ');
    }
    const text = document.createElement('span');
    text.textContent = show(used) + (limited ? ' of ' + show(limit) : ' (no limit)');
    dd.append(text);
    list.append(dt, dd);
}

const NS = 'http://www.w3.org/2000/svg';
const [W, H, LEFT, RIGHT, TOP, BOTTOM] = [480, 200, 64, 14, 22, 40];

/** A count as 1,234 or 12.3k. */
const count = (v) => (v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : String(Math.round(v * 10) / 10));

/** The top of the y axis: `max` rounded up to 1, 2, 2.5 or 5 × a power of ten. */
function niceTop(max) {
    if (max <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(max));
    return [1, 2, 2.5, 5, 10].map((m) => m * p).find((t) => t >= max);
}

/** The top of a count's axis: 2, 4 or 10 × a power of ten, at least 2. */
function countTop(max) {
    for (let p = 1; ; p *= 10) {
        const t = [2, 4, 10].map((m) => m * p).find((c) => c >= max);
        if (t) return t;
    }
}

function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
}

/** `points` ([label, value] pairs) as a chart in `box`, the shape `t8k report --html` draws:
 * y axis values with the unit, first/middle/last x labels and what they are, the latest value
 * written out, each value on hover, a summary for screen readers, the data as a table under a
 * disclosure, and "no data yet" in words when there is nothing to draw.
 * `o`: {title, x ('day'), unit ('page views'), show (a value → text), kind ('bars'|'line'),
 * empty (the words for no data)}. */
export function chart(box, points, o) {
    const show = o.show || count;
    if (!points.some(([, v]) => v > 0)) {
        const p = document.createElement('p');
        p.className = 'no-data';
        p.textContent = o.empty;
        box.replaceChildren(p);
        return;
    }
    const n = points.length;
    // Counts of whole things: 2, 4 or 10 × 10ⁿ, so the middle value is whole too.
    const max = Math.max(...points.map(([, v]) => v));
    const top = o.show ? niceTop(max) : countTop(max);
    const [pw, ph] = [W - LEFT - RIGHT, H - TOP - BOTTOM];
    const y = (v) => TOP + ph - (v / top) * ph;
    const step = pw / n;
    const x = (i) => (o.kind === 'line' ? (n === 1 ? LEFT + pw / 2 : LEFT + (pw * i) / (n - 1)) : LEFT + step * (i + 0.5));
    const id = box.id + '-svg';
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}t ${id}d` });
    const highest = points.reduce((a, b) => (b[1] > a[1] ? b : a));
    const last = points[n - 1];
    svg.append(
        el('title', { id: id + 't' }, o.title),
        el('desc', { id: id + 'd' }, `${n} ${o.x}${n === 1 ? '' : 's'} from ${points[0][0]} to ${last[0]}; latest ${show(last[1])} ${o.unit}; highest ${show(highest[1])} (${highest[0]}).`),
    );
    for (const f of [0, 0.5, 1]) {
        svg.append(
            el('line', { class: 'grid', x1: LEFT, x2: W - RIGHT, y1: y(top * f), y2: y(top * f) }),
            el('text', { x: LEFT - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, show(top * f)),
        );
    }
    svg.append(el('text', { x: LEFT, y: 12 }, o.unit));
    const shown = [...new Set([0, Math.floor(n / 2), n - 1])];
    shown.forEach((i, k) => {
        const anchor = shown.length > 1 && k === 0 ? 'start' : shown.length > 1 && k === shown.length - 1 ? 'end' : 'middle';
        const at = anchor === 'start' ? LEFT : anchor === 'end' ? W - RIGHT : x(i);
        const label = points[i][0].length > 16 ? points[i][0].slice(0, 16) + '…' : points[i][0];
        svg.append(el('text', { x: at, y: TOP + ph + 16, 'text-anchor': anchor }, label));
    });
    svg.append(
        el('text', { x: LEFT + pw / 2, y: H - 4, 'text-anchor': 'middle' }, o.x),
        el('line', { class: 'axis', x1: LEFT, x2: W - RIGHT, y1: y(0), y2: y(0) }),
    );
    if (o.kind === 'line' && n > 1) {
        svg.append(el('polyline', { class: 'line', points: points.map(([, v], i) => `${x(i)},${y(v)}`).join(' ') }));
    }
    points.forEach(([name, v], i) => {
        const w = Math.max(step * 0.8, 1);
        const mark = o.kind === 'line'
            ? el('circle', { class: 'mark', cx: x(i), cy: y(v), r: 3 })
            : el('rect', { class: 'mark', x: x(i) - w / 2, y: y(v), width: w, height: Math.max(y(0) - y(v), 0) });
        mark.append(el('title', {}, `${name}: ${show(v)}`));
        svg.append(mark);
    });
    svg.append(el('text', { class: 'latest', x: W - RIGHT, y: Math.max(y(last[1]) - 8, TOP - 6), 'text-anchor': 'end' }, 'latest ' + show(last[1])));
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'Data: ' + o.title;
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const h of [o.x, o.unit]) {
        const th = document.createElement('th');
        th.scope = 'col';
        th.textContent = h;
        head.append(th);
    }
    const body = table.createTBody();
    for (const [name, v] of points) {
        const tr = body.insertRow();
        tr.insertCell().textContent = name;
        tr.insertCell().textContent = show(v);
    }
    details.append(summary, table);
    box.replaceChildren(svg, details);
}
