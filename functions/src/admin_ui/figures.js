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

/** `values` as bars in `box`, named `label` (with the largest value) for screen readers. */
export function chart(box, values, label) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + 10 * values.length + ' 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    const top = Math.max(1, ...values);
    svg.setAttribute('aria-label', label + ', at most ' + top);
    values.forEach((v, i) => {
        const h = (100 * v) / top;
        const r = document.createElementNS(NS, 'rect');
        r.setAttribute('x', String(i * 10 + 1));
        r.setAttribute('y', String(100 - h));
        r.setAttribute('width', '8');
        r.setAttribute('height', String(h));
        svg.append(r);
    });
    box.replaceChildren(svg);
}
