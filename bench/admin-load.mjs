// Loads the admin's dashboard (and two plain pages to compare with) in headless Chromium over
// WebDriver, RUNS times each, and prints DOMContentLoaded and, for the dashboard, when its
// data had arrived (the last /api/ answer's responseEnd), from the page's own Performance API.
//
//   node bench/admin-load.mjs DRIVER_PORT SITE_PORT RUNS USER PASSWORD   (run by bench-admin.sh)

const [driverPort, port, runs] = process.argv.slice(2, 5).map(Number);
const [user, password] = process.argv.slice(5, 7);

async function wd(method, path, body) {
    const r = await fetch(`http://127.0.0.1:${driverPort}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${JSON.stringify(j.value)}`);
    return j.value;
}

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const { sessionId: s } = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': { args } } },
});
const go = (url) => wd('POST', `/session/${s}/url`, { url });
const js = (script) => wd('POST', `/session/${s}/execute/async`, { script, args: [] });

/** Resolves once `test` (an expression) holds in the page, polling every 10 ms. */
const until = (test) =>
    js(`const done = arguments[0]; const t = setInterval(() => { if (${test}) { clearInterval(t); done(true); } }, 10);`);

async function type(css, text) {
    const el = Object.values(await wd('POST', `/session/${s}/element`, { using: 'css selector', value: css }))[0];
    await wd('POST', `/session/${s}/element/${el}/value`, { text });
}

const site = `http://acme.localhost:${port}`;
try {
    await go(`${site}/admin/`);
    await until("document.querySelector('#login-view') && !document.querySelector('#login-view').hidden");
    await type('#username', user);
    await type('#password', password + '\n');
    await until("document.querySelector('#usage dt')");

    // Waits for `ready` (an expression), then answers the navigation's timings.
    const timing = (ready) => `const done = arguments[0]; const t = setInterval(() => {
        if (!(${ready})) return;
        clearInterval(t);
        const nav = performance.getEntriesByType('navigation')[0];
        const api = performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/'));
        done({ dcl: nav.domContentLoadedEventEnd, data: Math.max(0, ...api.map((r) => r.responseEnd)) });
    }, 10);`;
    const pages = [
        ['admin dashboard (/admin/#/)', `${site}/admin/#/`, "document.querySelector('#usage dt') && document.querySelector('#traffic').textContent"],
        ['server-rendered analytics page', `${site}/api/analytics/dashboard`, 'true'],
        ["the tenant's static home page", `${site}/`, 'true'],
    ];
    for (const [name, url, ready] of pages) {
        const dcl = [];
        const data = [];
        for (let i = 0; i < runs; i++) {
            await go('about:blank');
            await go(url);
            const t = await js(timing(ready));
            dcl.push(t.dcl);
            data.push(t.data);
        }
        const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
        let line = `${name.padEnd(34)} DOMContentLoaded median ${q(dcl, 0.5)} ms  p90 ${q(dcl, 0.9)} ms  max ${q(dcl, 1)} ms`;
        if (data.some((d) => d > 0)) line += `  | its data in: median ${q(data, 0.5)} ms  p90 ${q(data, 0.9)} ms`;
        console.log(line);
    }
} finally {
    await wd('DELETE', `/session/${s}`);
}
