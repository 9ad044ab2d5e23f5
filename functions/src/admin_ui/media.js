// Media: upload (picker or drag-and-drop, with progress and a required alt text), list with
// the Markdown to copy, delete.

import { $, api, bytes, failed, say, session, show, showLogin } from './core.js';

export async function listMedia() {
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
        // The stored original: the site's /media/ has it only once a build publishes it.
        img.src = '/api/media/' + f.id + '/file';
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
            session.notice = 'Deleted.';
            session.route();
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
        session.notice = data.created ? 'Uploaded.' : 'That image was already here.';
        session.route();
    });
    xhr.send(file);
}

export function startUpload(ev) {
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
