// What every view of the admin shares: the DOM helpers, the status line, and the one way
// to call this host's /api/ (a 401 sends the user to the login and back). Every value goes
// into the page with textContent or .value, never as HTML.

export const $ = (id) => document.getElementById(id);
/** Where to go back to after a login (the address the user was at). */
export const RETURN = 't8k-admin-return';

/** What the views share: the signed-in account, a notice for the next view, the ETag of the
 * last answer, and how to show the view the address names (set by app.js). */
export const session = { me: null, notice: '', lastEtag: null, route: () => {} };

export class SignedOut extends Error {}

/** Shows one view (a `main > section`), hiding the others. */
export function show(view) {
    for (const v of document.querySelectorAll('main > section')) v.hidden = v.id !== view;
    $('nav').hidden = view === 'login-view';
    // Admin-only pages are not offered to editors (the API refuses them anyway).
    const admin = Boolean(session.me) && session.me.role === 'admin';
    for (const link of document.querySelectorAll('[data-admin-only]')) link.hidden = !admin;
}

export function say(text, error = false) {
    const s = $('status');
    s.textContent = text;
    s.className = error ? 'status error' : 'status';
}

export function failed(e) {
    if (!(e instanceof SignedOut)) say(e.message, true);
}

/** One API call; a JSON error becomes an Error with its message, status and Retry-After. */
export async function api(method, path, body, headers = {}) {
    const init = { method, headers: { ...headers }, credentials: 'same-origin' };
    if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const r = await fetch('/api' + path, init);
    if (r.status === 401 && !path.endsWith('/login')) {
        // No session, or it ended: log in, then come back here.
        sessionStorage.setItem(RETURN, location.hash);
        const ended = session.me !== null;
        session.me = null;
        showLogin(ended ? 'Your session has ended; log in again.' : '');
        throw new SignedOut('signed out');
    }
    session.lastEtag = r.headers.get('etag');
    const data = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) {
        const e = new Error(data && data.error ? data.error.message : r.statusText);
        e.status = r.status;
        e.code = data && data.error ? data.error.code : '';
        e.retryAfter = r.headers.get('retry-after');
        throw e;
    }
    return data;
}

/** A page path in a URL: each segment encoded, the slashes kept. */
export const pathInUrl = (slug) => slug.split('/').map(encodeURIComponent).join('/');

/** Logs in at `path` with `body`; then clears `secret` (the password or key field), runs
 * `welcome`, and goes back to where the user was (or to the view the address names). */
export async function logIn(path, body, secret, welcome = () => {}) {
    try {
        session.me = await api('POST', path, body);
    } catch (e) {
        if (e.status === 429) say('Too many attempts: try again in ' + (e.retryAfter || 60) + ' s.', true);
        else say(e.message, true);
        return;
    }
    secret.value = '';
    say('');
    welcome();
    const back = sessionStorage.getItem(RETURN);
    sessionStorage.removeItem(RETURN);
    if (back && back !== location.hash) location.hash = back;
    else session.route();
}

/** Logs out at `path`, then shows the login with `message`. */
export async function logOut(path, message) {
    try {
        await api('POST', path);
    } catch (e) {
        return failed(e);
    }
    session.me = null;
    showLogin();
    say(message);
}

export function showLogin(message) {
    show('login-view');
    say(message || '', Boolean(message));
    $('login-view').querySelector('input').focus();
}

export const bytes = (n) => (n >= 1e9 ? (n / 1e9).toFixed(1) + ' GB' : n >= 1e6 ? (n / 1e6).toFixed(1) + ' MB' : Math.ceil(n / 1e3) + ' kB');

export const when = (t) => (t || '').slice(0, 16).replace('T', ' ');

/** A labelled input for a menu item's field. */
export function field(text, value, id) {
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

export function button(text, name, onclick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-label', name);
    b.addEventListener('click', onclick);
    return b;
}
