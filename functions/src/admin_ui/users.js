// Accounts: the admins' list of users (add, set a password, disable or enable) and anyone's
// own password change.

import { $, api, failed, say, session, show } from './core.js';

export async function listUsers() {
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
        if (u.username !== session.me.user) {
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
    session.notice = done;
    session.route();
}

export async function addUser(ev) {
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
    session.notice = 'Added ' + user.username + '.';
    session.route();
}

export function setPassword(ev) {
    ev.preventDefault();
    const password = $('reset-password').value;
    $('reset-password').value = '';
    changeUser($('reset-user').value, { password }, 'Password set; that user’s sessions have ended.');
}

export async function changePassword(ev) {
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
