// Menus: each edited whole (items linking a page path or a URL), reordered, saved at once.

import { $, api, button, failed, field, session, show } from './core.js';

/** One menu as a form: items with a label and a page or URL, moved up and down, saved whole. */
function menuForm(menu) {
    const form = document.createElement('form');
    const box = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = menu.title || menu.name;
    box.append(legend);
    const items = menu.items.map((i) => ({ label: i.label, target: i.page || i.url || '' }));
    const draw = () => {
        box.querySelectorAll('.menu-item').forEach((r) => r.remove());
        items.forEach((item, n) => {
            const row = document.createElement('div');
            row.className = 'menu-item';
            const id = menu.name + '-' + n;
            const label = field('Label', item.label, 'label-' + id);
            const target = field('Links to', item.target, 'target-' + id);
            label.querySelector('input').addEventListener('input', (ev) => { item.label = ev.target.value; });
            target.querySelector('input').addEventListener('input', (ev) => { item.target = ev.target.value; });
            const moves = document.createElement('div');
            moves.className = 'moves';
            const swap = (a, b) => {
                [items[a], items[b]] = [items[b], items[a]];
                draw();
            };
            const name = item.label || 'item ' + (n + 1);
            if (n > 0) moves.append(button('↑', 'Move ' + name + ' up', () => swap(n, n - 1)));
            if (n < items.length - 1) moves.append(button('↓', 'Move ' + name + ' down', () => swap(n, n + 1)));
            moves.append(button('✕', 'Remove ' + name, () => {
                items.splice(n, 1);
                draw();
            }));
            row.append(label, target, moves);
            box.append(row);
        });
    };
    draw();
    const add = button('Add an item', 'Add an item to ' + (menu.title || menu.name), () => {
        items.push({ label: '', target: '' });
        draw();
    });
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Save ' + (menu.title || menu.name);
    form.append(box, add, ' ', save);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const body = {
            title: menu.title,
            items: items.map((i, n) => {
                const t = i.target.trim();
                const link = t.startsWith('/') || t.startsWith('http') ? { url: t } : { page: t };
                return { label: i.label.trim(), weight: n * 10, ...link };
            }),
        };
        try {
            await api('PUT', '/menus/' + encodeURIComponent(menu.name), body);
        } catch (e) {
            return failed(e);
        }
        session.notice = 'Saved the ' + (menu.title || menu.name) + ' menu.';
        session.route();
    });
    return form;
}

export async function listMenus() {
    show('menus-view');
    let menus;
    try {
        menus = await api('GET', '/menus');
    } catch (e) {
        return failed(e);
    }
    $('menus').replaceChildren(...menus.map(menuForm));
    $('menus-title').focus();
}
