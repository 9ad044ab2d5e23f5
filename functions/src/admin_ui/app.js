// The tenant admin at /admin/: which view the address names, logging in and out, and the
// wiring of every form. It talks only to this host's /api/ (the session cookie is the
// tenant's own).

import { $, api, failed, logIn, logOut, say, session, show, showLogin, SignedOut } from './core.js';
import { analytics } from './analytics.js';
import { askRestorePoint, dashboard, publishNow } from './dashboard.js';
import { addDomain, listDomains } from './domains.js';
import { listMedia, startUpload } from './media.js';
import { listMenus } from './menus.js';
import { addPane, edited, listPages, openEditor, remove, renderPages, save, unsaved } from './pages.js';
import { addUser, changePassword, listUsers, setPassword } from './users.js';

function route() {
    if (!session.me) return showLogin();
    say(session.notice);
    session.notice = '';
    const hash = location.hash || '#/';
    if (hash.startsWith('#/edit/')) return openEditor(decodeURIComponent(hash.slice(7)));
    if (hash === '#/new') return openEditor(null);
    if (hash === '#/pages') return listPages();
    if (hash === '#/media') return listMedia();
    if (hash === '#/menus') return listMenus();
    if (hash === '#/users') return listUsers();
    if (hash === '#/domains') return listDomains();
    if (hash === '#/analytics') return analytics();
    if (hash === '#/password') {
        show('password-view');
        return $('password-title').focus();
    }
    return dashboard();
}

session.route = route;

function login(ev) {
    ev.preventDefault();
    const body = { username: $('username').value, password: $('password').value };
    logIn('/auth/login', body, $('password'), () => {
        $('site-name').textContent = session.me.tenant;
    });
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', () => logOut('/auth/logout', 'Logged out.'));
$('search').addEventListener('input', renderPages);
$('editor').addEventListener('submit', save);
$('editor').addEventListener('input', edited);
$('delete').addEventListener('click', remove);
$('upload-form').addEventListener('submit', startUpload);
$('add-user').addEventListener('submit', addUser);
$('add-domain').addEventListener('submit', addDomain);
$('publish-now').addEventListener('click', publishNow);
$('restore-point').addEventListener('click', askRestorePoint);
$('period').addEventListener('change', analytics);
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
$('add-pane').addEventListener('click', addPane);
window.addEventListener('hashchange', route);
window.addEventListener('beforeunload', (ev) => {
    if (unsaved()) ev.preventDefault();
});

(async () => {
    try {
        session.me = await api('GET', '/auth/me');
        $('site-name').textContent = session.me.tenant;
    } catch (e) {
        if (!(e instanceof SignedOut)) failed(e);
        return;
    }
    route();
})();
