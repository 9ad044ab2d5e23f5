// The tenant admin: log in, list, search, create, edit and delete pages. It talks only to
// this host's /api/ (the session cookie is the tenant's own) and puts every value into the
// page with textContent or .value, never as HTML.

const $ = (id) => document.getElementById(id);
const VIEWS = ['login-view', 'dashboard-view', 'pages-view', 'menus-view', 'media-view', 'users-view', 'password-view', 'editor-view'];
const RETURN = 't8k-admin-return';

let me = null; // the signed-in account: { tenant, user, role }
let pages = [];
let loaded = null; // the page being edited, as the API gave it (fields the form lacks are kept)
let editing = null; // its path, or null for a new page
let version = null; // its ETag when opened: a save made meanwhile elsewhere is refused
let lastEtag = null; // the ETag of the last answer
let dirty = false;
let notice = ''; // said once the next view shows
let previewTimer = null;
let publishWatch = null; // polls the status after "Publish now" until the site is live

class SignedOut extends Error {}

function show(view) {
    for (const v of VIEWS) $(v).hidden = v !== view;
    $('nav').hidden = view === 'login-view';
    // Admin-only pages are not offered to editors (the API refuses them anyway).
    $('users-link').hidden = !me || me.role !== 'admin';
}

function say(text, error = false) {
    const s = $('status');
    s.textContent = text;
    s.className = error ? 'status error' : 'status';
}

function failed(e) {
    if (!(e instanceof SignedOut)) say(e.message, true);
}

/** One API call; a JSON error becomes an Error with its message, status and Retry-After. */
async function api(method, path, body, headers = {}) {
    const init = { method, headers: { ...headers }, credentials: 'same-origin' };
    if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const r = await fetch('/api' + path, init);
    if (r.status === 401 && path !== '/auth/login') {
        // No session, or it ended: log in, then come back here.
        sessionStorage.setItem(RETURN, location.hash);
        const ended = me !== null;
        me = null;
        showLogin(ended ? 'Your session has ended; log in again.' : '');
        throw new SignedOut('signed out');
    }
    lastEtag = r.headers.get('etag');
    const data = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) {
        const e = new Error(data && data.error ? data.error.message : r.statusText);
        e.status = r.status;
        e.retryAfter = r.headers.get('retry-after');
        throw e;
    }
    return data;
}

/** A page path in a URL: each segment encoded, the slashes kept. */
const pathInUrl = (slug) => slug.split('/').map(encodeURIComponent).join('/');

function showLogin(message) {
    show('login-view');
    say(message || '', Boolean(message));
    $('username').focus();
}

function route() {
    if (!me) return showLogin();
    say(notice);
    notice = '';
    const hash = location.hash || '#/';
    if (hash.startsWith('#/edit/')) return openEditor(decodeURIComponent(hash.slice(7)));
    if (hash === '#/new') return openEditor(null);
    if (hash === '#/pages') return listPages();
    if (hash === '#/media') return listMedia();
    if (hash === '#/menus') return listMenus();
    if (hash === '#/users') return listUsers();
    if (hash === '#/password') {
        show('password-view');
        return $('password-title').focus();
    }
    return dashboard();
}

const bytes = (n) => (n >= 1e9 ? (n / 1e9).toFixed(1) + ' GB' : n >= 1e6 ? (n / 1e6).toFixed(1) + ' MB' : Math.ceil(n / 1e3) + ' kB');

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

const when = (t) => (t || '').slice(0, 16).replace('T', ' ');

/** What the site's publishing is doing; true once nothing waits and a deploy is live. */
async function publishState() {
    const st = await api('GET', '/status');
    const live = st.live ? 'Live since ' + when(st.live.flipped) + ' (deploy ' + st.live.deploy + ').' : 'Not published yet.';
    const queued = st.queued ? ' A build is waiting (asked ' + when(st.queued) + ').' : '';
    $('publish-state').textContent = live + queued;
    return !st.queued && st.live !== null;
}

async function publishNow() {
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

async function dashboard() {
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

async function listMedia() {
    show('media-view');
    let files;
    try {
        files = await api('GET', '/media');
    } catch (e) {
        return failed(e);
    }
    const list = $('media');
    list.replaceChildren();
    for (const f of files) {
        const item = document.createElement('li');
        const img = document.createElement('img');
        img.src = f.url;
        img.alt = f.alt;
        img.loading = 'lazy';
        const caption = document.createElement('p');
        caption.textContent = (f.alt || '(no alt text)') + ' · ' + bytes(f.bytes);
        const snippet = document.createElement('input');
        snippet.readOnly = true;
        snippet.value = '![' + f.alt + '](' + f.url + ')';
        snippet.setAttribute('aria-label', 'Markdown for ' + (f.alt || 'this image'));
        const copy = document.createElement('button');
        copy.type = 'button';
        copy.textContent = 'Copy Markdown';
        copy.addEventListener('click', async () => {
            snippet.select();
            try {
                await navigator.clipboard.writeText(snippet.value);
                say('Copied ' + snippet.value);
            } catch {
                say('Selected: press Ctrl+C (⌘C) to copy.');
            }
        });
        const del = document.createElement('button');
        del.type = 'button';
        del.className = 'danger';
        del.textContent = 'Delete';
        del.setAttribute('aria-label', 'Delete ' + (f.alt || 'this image'));
        del.addEventListener('click', async () => {
            if (!confirm('Delete this image? Pages that show it will show nothing.')) return;
            try {
                await api('DELETE', '/media/' + f.id);
            } catch (e) {
                return failed(e);
            }
            notice = 'Deleted.';
            route();
        });
        item.append(img, caption, snippet, copy, del);
        list.append(item);
    }
    $('media-title').focus();
}

/** Sends one image with its alt text; XMLHttpRequest, for the upload's progress. */
function upload(file, alt) {
    const bar = $('upload-progress');
    bar.hidden = false;
    bar.value = 0;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/media?alt=' + encodeURIComponent(alt));
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (ev) => {
        if (ev.lengthComputable) bar.value = (100 * ev.loaded) / ev.total;
    });
    xhr.addEventListener('loadend', () => {
        bar.hidden = true;
        let data = null;
        try {
            data = JSON.parse(xhr.responseText);
        } catch {
            data = null;
        }
        if (xhr.status === 401) return showLogin('Your session has ended; log in again.');
        if (xhr.status < 200 || xhr.status >= 300) {
            const quota = data && data.error && data.error.code === 'quota';
            const message = data && data.error ? data.error.message : 'the upload failed (' + xhr.status + ')';
            return say((quota ? 'Over your storage quota: ' : '') + message, true);
        }
        $('upload-form').reset();
        notice = data.created ? 'Uploaded.' : 'That image was already here.';
        route();
    });
    xhr.send(file);
}

function startUpload(ev) {
    ev.preventDefault();
    const file = $('upload-file').files[0];
    const alt = $('upload-alt').value.trim();
    if (!file) return say('Choose an image first.', true);
    if (!alt) {
        say('Give the image an alt text first.', true);
        return $('upload-alt').focus();
    }
    upload(file, alt);
}

async function listUsers() {
    show('users-view');
    let users, quota;
    try {
        [users, quota] = await Promise.all([api('GET', '/users'), api('GET', '/quota')]);
    } catch (e) {
        if (e.status === 403) return say('Only the site’s admins manage users.', true);
        return failed(e);
    }
    $('users-quota').textContent = quota.users.used + ' of ' + quota.users.limit + ' accounts used.';
    const body = $('users').tBodies[0];
    body.replaceChildren();
    const choose = $('reset-user');
    choose.replaceChildren();
    for (const u of users) {
        const row = body.insertRow();
        row.insertCell().textContent = u.username + (u.email ? ' <' + u.email + '>' : '');
        row.insertCell().textContent = u.role === 'admin' ? 'Admin' : 'Editor';
        row.insertCell().textContent = u.enabled ? 'Active' : 'Disabled';
        row.insertCell().textContent = (u.last_login || 'never').slice(0, 16).replace('T', ' ');
        const cell = row.insertCell();
        if (u.username !== me.user) {
            const toggle = document.createElement('button');
            toggle.type = 'button';
            toggle.textContent = u.enabled ? 'Disable' : 'Enable';
            toggle.setAttribute('aria-label', toggle.textContent + ' ' + u.username);
            toggle.addEventListener('click', () => changeUser(u.username, { disabled: u.enabled }, (u.enabled ? 'Disabled ' : 'Enabled ') + u.username + '.'));
            cell.append(toggle);
        }
        const option = document.createElement('option');
        option.value = u.username;
        option.textContent = u.username;
        choose.append(option);
    }
    $('users-title').focus();
}

async function changeUser(username, change, done) {
    try {
        await api('PATCH', '/users/' + encodeURIComponent(username), change);
    } catch (e) {
        return failed(e);
    }
    notice = done;
    route();
}

async function addUser(ev) {
    ev.preventDefault();
    const user = {
        username: $('new-username').value.trim(),
        email: $('new-email').value.trim(),
        role: $('new-role').value,
        password: $('new-password').value,
    };
    try {
        await api('POST', '/users', user);
    } catch (e) {
        return failed(e);
    }
    $('add-user').reset();
    notice = 'Added ' + user.username + '.';
    route();
}

function setPassword(ev) {
    ev.preventDefault();
    const password = $('reset-password').value;
    $('reset-password').value = '';
    changeUser($('reset-user').value, { password }, 'Password set; that user’s sessions have ended.');
}

/** A labelled input for a menu item's field. */
function field(text, value, id) {
    const wrap = document.createElement('div');
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = text;
    const input = document.createElement('input');
    input.id = id;
    input.value = value;
    wrap.append(label, input);
    return wrap;
}

function button(text, name, onclick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-label', name);
    b.addEventListener('click', onclick);
    return b;
}

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
        notice = 'Saved the ' + (menu.title || menu.name) + ' menu.';
        route();
    });
    return form;
}

async function listMenus() {
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

async function changePassword(ev) {
    ev.preventDefault();
    const fresh = $('new-password-1').value;
    if (fresh !== $('new-password-2').value) return say('The two new passwords differ; type the same one twice.', true);
    try {
        await api('POST', '/auth/password', { current: $('current-password').value, new: fresh });
    } catch (e) {
        return failed(e);
    }
    $('password-form').reset();
    say('Password changed; your other sessions have ended.');
}

async function listPages() {
    show('pages-view');
    try {
        pages = await api('GET', '/pages');
    } catch (e) {
        return failed(e);
    }
    renderPages();
    $('pages-title').focus();
}

function renderPages() {
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

async function openEditor(slug) {
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
    version = slug === null ? null : lastEtag;
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

async function save(ev) {
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
    notice = 'Saved “' + page.title + '”. The site shows it after its next build.';
    const target = '#/edit/' + encodeURIComponent(page.slug);
    if (location.hash === target) route();
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

async function remove() {
    if (!confirm('Delete “' + loaded.title + '”? This cannot be undone.')) return;
    try {
        await api('DELETE', '/pages/' + pathInUrl(editing));
    } catch (e) {
        return failed(e);
    }
    dirty = false;
    notice = 'Deleted “' + loaded.title + '”.';
    if (location.hash === '#/pages') route();
    else location.hash = '#/pages';
}

async function login(ev) {
    ev.preventDefault();
    try {
        me = await api('POST', '/auth/login', { username: $('username').value, password: $('password').value });
    } catch (e) {
        if (e.status === 429) say('Too many attempts: try again in ' + (e.retryAfter || 60) + ' s.', true);
        else say(e.message, true);
        return;
    }
    $('password').value = '';
    say('');
    $('site-name').textContent = me.tenant;
    const back = sessionStorage.getItem(RETURN);
    sessionStorage.removeItem(RETURN);
    if (back && back !== location.hash) location.hash = back;
    else route();
}

async function logout() {
    try {
        await api('POST', '/auth/logout');
    } catch (e) {
        return failed(e);
    }
    me = null;
    showLogin();
    say('Logged out.');
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
$('search').addEventListener('input', renderPages);
$('editor').addEventListener('submit', save);
$('editor').addEventListener('input', (ev) => {
    dirty = true;
    if (ev.target.tagName === 'TEXTAREA') previewSoon();
});
$('delete').addEventListener('click', remove);
$('upload-form').addEventListener('submit', startUpload);
$('add-user').addEventListener('submit', addUser);
$('publish-now').addEventListener('click', publishNow);
$('password-form').addEventListener('submit', changePassword);
$('set-password').addEventListener('submit', setPassword);
const drop = $('upload-form');
drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files.length) {
        $('upload-file').files = ev.dataTransfer.files;
        $('upload-alt').focus();
        say('Now give the image an alt text and upload it.');
    }
});
$('add-pane').addEventListener('click', () => {
    const panes = panesFromForm();
    panes.push({ markdown: '', options: {} });
    renderPanes(panes);
    dirty = true;
});
window.addEventListener('hashchange', route);
window.addEventListener('beforeunload', (ev) => {
    if (dirty) ev.preventDefault();
});

(async () => {
    try {
        me = await api('GET', '/auth/me');
        $('site-name').textContent = me.tenant;
    } catch (e) {
        if (!(e instanceof SignedOut)) failed(e);
        return;
    }
    route();
})();
