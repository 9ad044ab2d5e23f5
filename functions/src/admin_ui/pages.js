// Pages: the list with search, and the editor (fields, panes, the builder's preview, an
// edit made meanwhile elsewhere refused rather than overwritten).

import { $, api, failed, pathInUrl, say, session, show } from './core.js';

let pages = [];
let loaded = null; // the page being edited, as the API gave it (fields the form lacks are kept)
let editing = null; // its path, or null for a new page
let version = null; // its ETag when opened: a save made meanwhile elsewhere is refused
let dirty = false;
let previewTimer = null;

/** Whether the editor holds changes not saved yet. */
export const unsaved = () => dirty;

/** The editor changed: a pane's change also refreshes the preview. */
export function edited(ev) {
    dirty = true;
    if (ev.target.tagName === 'TEXTAREA') previewSoon();
}

/** One more (empty) pane in the editor. */
export function addPane() {
    const panes = panesFromForm();
    panes.push({ markdown: '', options: {} });
    renderPanes(panes);
    dirty = true;
}

export async function listPages() {
    show('pages-view');
    try {
        pages = await api('GET', '/pages');
    } catch (e) {
        return failed(e);
    }
    renderPages();
    $('pages-title').focus();
}

export function renderPages() {
    const q = $('search').value.trim().toLowerCase();
    const body = $('pages').tBodies[0];
    body.replaceChildren();
    for (const p of pages) {
        if (q && !p.title.toLowerCase().includes(q) && !p.slug.includes(q)) continue;
        const row = body.insertRow();
        const link = document.createElement('a');
        link.href = '#/edit/' + encodeURIComponent(p.slug);
        link.textContent = p.title;
        row.insertCell().append(link);
        row.insertCell().textContent = '/' + p.slug + '/';
        row.insertCell().textContent = p.draft ? 'Draft' : 'Published';
        row.insertCell().textContent = (p.changed || '').slice(0, 16).replace('T', ' ');
    }
}

function renderPanes(panes) {
    const box = $('panes');
    box.querySelectorAll('.pane').forEach((p) => p.remove());
    panes.forEach((pane, i) => {
        const wrap = document.createElement('div');
        wrap.className = 'pane';
        const label = document.createElement('label');
        label.htmlFor = 'pane-' + i;
        label.textContent = 'Pane ' + (i + 1);
        const text = document.createElement('textarea');
        text.id = 'pane-' + i;
        text.value = pane.markdown;
        wrap.append(label, text);
        box.append(wrap);
    });
}

function panesFromForm() {
    return [...$('panes').querySelectorAll('textarea')].map((t, i) => ({
        markdown: t.value,
        options: (loaded.panes[i] && loaded.panes[i].options) || {},
    }));
}

/** The panes rendered by the server with the builder's rules (sanitised there), shown below. */
async function preview() {
    let out;
    try {
        out = await api('POST', '/preview', { panes: panesFromForm().map((p) => p.markdown) });
    } catch (e) {
        return failed(e);
    }
    $('preview').innerHTML = out.html.map((h) => '<section class="pane">' + h + '</section>').join('');
}

function previewSoon() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 300);
}

export async function openEditor(slug) {
    show('editor-view');
    editing = slug;
    let page = { slug: '', title: '', description: '', date: null, draft: false, panes: [{ markdown: '', options: {} }] };
    if (slug !== null) {
        try {
            page = await api('GET', '/pages/' + pathInUrl(slug));
        } catch (e) {
            return failed(e);
        }
    }
    version = slug === null ? null : session.lastEtag;
    loaded = page;
    $('editor-title').textContent = slug === null ? 'New page' : 'Edit ' + page.title;
    $('title').value = page.title;
    $('slug').value = page.slug;
    $('slug').readOnly = slug !== null;
    $('description').value = page.description || '';
    $('date').value = page.date || '';
    $('draft').checked = page.draft;
    $('delete').hidden = slug === null;
    renderPanes(page.panes.length ? page.panes : [{ markdown: '', options: {} }]);
    dirty = false;
    preview();
    $('title').focus();
}

export async function save(ev) {
    ev.preventDefault();
    const page = {
        ...loaded,
        title: $('title').value,
        slug: $('slug').value.trim(),
        description: $('description').value,
        date: $('date').value.trim() || null,
        draft: $('draft').checked,
        panes: panesFromForm(),
    };
    try {
        if (editing === null) await api('POST', '/pages', page);
        else await api('PUT', '/pages/' + pathInUrl(editing), page, version ? { 'if-match': version } : {});
    } catch (e) {
        if (e.status === 409 && e.message.includes('changed since')) return conflict();
        return failed(e);
    }
    dirty = false;
    session.notice = 'Saved “' + page.title + '”. The site shows it after its next build.';
    const target = '#/edit/' + encodeURIComponent(page.slug);
    if (location.hash === target) session.route();
    else location.hash = target;
}

/** Someone saved the page meanwhile: offer to load their version (this tab's edits are lost)
 * or to keep editing here (copy the text out first). Never a silent overwrite. */
function conflict() {
    say('This page was changed elsewhere since you opened it. Your edits are not saved.', true);
    if (confirm('This page was changed elsewhere since you opened it. Load the current version? (Your edits here will be lost.)')) {
        dirty = false;
        openEditor(editing);
    }
}

export async function remove() {
    if (!confirm('Delete “' + loaded.title + '”? This cannot be undone.')) return;
    try {
        await api('DELETE', '/pages/' + pathInUrl(editing));
    } catch (e) {
        return failed(e);
    }
    dirty = false;
    session.notice = 'Deleted “' + loaded.title + '”.';
    if (location.hash === '#/pages') session.route();
    else location.hash = '#/pages';
}
