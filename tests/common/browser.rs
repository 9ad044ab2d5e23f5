//! Headless Chromium over WebDriver.

use super::*;

/// A headless Chromium (Debian's `chromium` + `chromium-driver`, installed by scripts/test.sh)
/// driven over the W3C WebDriver protocol by chromedriver on a free loopback port; the session
/// and the driver are stopped when dropped.
pub struct Browser {
    driver: std::process::Child,
    port: u16,
    session: String,
}

impl Browser {
    /// `None` (the test skips) when Chromium or its driver is missing, see [`needs`].
    pub fn start() -> Option<Browser> {
        let found = on_path("chromedriver").is_some() && on_path("chromium").is_some();
        if !needs("chromium and chromedriver", found) {
            return None;
        }
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/test.sh installs chromium-driver)");
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
        };
        assert!(
            eventually(20, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "chromedriver did not start"
        );
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
        ];
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}});
        b.session = b.call("POST", "/session", &caps)["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned();
        Some(b)
    }

    fn call(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let path = if path == "/session" {
            path.to_owned()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let host = format!("127.0.0.1:{}", self.port);
        let r = send_json(self.port, method, &host, &path, &[], &body.to_string());
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {}", r.text()));
        assert_eq!(r.status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            &serde_json::json!({"using": "css selector", "value": css}),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    pub fn open(&self, url: &str) {
        self.call("POST", "/url", &serde_json::json!({ "url": url }));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/clear"),
            &serde_json::json!({}),
        );
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            &serde_json::json!({ "text": text }),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/click"),
            &serde_json::json!({}),
        );
    }

    /// The text of the first element matching `css`, or `None` while there is none (or it
    /// was replaced between being found and read: a view re-rendering).
    pub fn find_text(&self, css: &str) -> Option<String> {
        let host = format!("127.0.0.1:{}", self.port);
        let ask = |method: &str, path: String, body: serde_json::Value| {
            let r = send_json(self.port, method, &host, &path, &[], &body.to_string());
            let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
            (r.status == 200).then(|| v["value"].clone())
        };
        let session = &self.session;
        let query = serde_json::json!({"using": "css selector", "value": css});
        let found = ask("POST", format!("/session/{session}/element"), query)?;
        let id = found.as_object()?.values().next()?.as_str()?.to_owned();
        let text = ask(
            "GET",
            format!("/session/{session}/element/{id}/text"),
            serde_json::json!({}),
        )?;
        text.as_str().map(str::to_owned)
    }

    /// Waits up to ten seconds for an element matching `css` whose text holds `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = None;
        let found = eventually(10, || {
            last = self.find_text(css);
            last.as_deref().is_some_and(|t| t.contains(needle))
        });
        assert!(found, "no {css} with {needle:?}; last text: {last:?}");
        last.unwrap_or_default()
    }

    /// The value of a JavaScript expression in the current page.
    pub fn eval(&self, expression: &str) -> serde_json::Value {
        let script = format!("return ({expression});");
        self.call(
            "POST",
            "/execute/sync",
            &serde_json::json!({"script": script, "args": []}),
        )
    }

    /// Whether a JavaScript dialog (alert, confirm) is open.
    pub fn dialog_open(&self) -> bool {
        let host = format!("127.0.0.1:{}", self.port);
        let path = format!("/session/{}/alert/text", self.session);
        http(self.port, "GET", &host, &path, &[]).status == 200
    }

    /// Runs axe-core (`axe_source`, the text of axe.min.js) in the current page; returns its
    /// serious and critical violations as `rule: selectors` lines.
    pub fn axe_violations(&self, axe_source: &str) -> Vec<String> {
        let script = format!(
            "const done = arguments[arguments.length - 1];\n{axe_source}\n\
             axe.run(document, {{ resultTypes: ['violations'] }}).then(r => done(r.violations\
             .filter(v => v.impact === 'serious' || v.impact === 'critical')\
             .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
        );
        let v = self.call(
            "POST",
            "/execute/async",
            &serde_json::json!({"script": script, "args": []}),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Types `text` on the keyboard, into whatever has the focus: `\t` is Tab, `\n` Enter.
    pub fn keys(&self, text: &str) {
        let actions: Vec<serde_json::Value> = text
            .chars()
            .map(|c| match c {
                '\t' => '\u{E004}',
                '\n' => '\u{E007}',
                c => c,
            })
            .flat_map(|c| {
                let key = c.to_string();
                [
                    serde_json::json!({"type": "keyDown", "value": key}),
                    serde_json::json!({"type": "keyUp", "value": key}),
                ]
            })
            .collect();
        let body =
            serde_json::json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.call("POST", "/actions", &body);
    }

    /// Resizes the window (CSS pixels), to look at a page at phone or desktop width.
    pub fn resize(&self, width: u32, height: u32) {
        let rect = serde_json::json!({"width": width, "height": height});
        self.call("POST", "/window/rect", &rect);
    }

    /// A PNG of the window as it is.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.call("GET", "/screenshot", &serde_json::json!({}));
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("a base64 screenshot")
    }

    /// Chooses `file` in a file input.
    pub fn choose_file(&self, css: &str, file: &std::path::Path) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            &serde_json::json!({ "text": file.to_str().expect("a UTF-8 path") }),
        );
    }

    /// Accepts the open JavaScript dialog (OK on a confirm).
    pub fn accept_dialog(&self) {
        self.call("POST", "/alert/accept", &serde_json::json!({}));
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.element(css);
        self.call(
            "GET",
            &format!("/element/{id}/text"),
            &serde_json::json!({}),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                self.port,
                "DELETE",
                &format!("127.0.0.1:{}", self.port),
                &format!("/session/{}", self.session),
                &[],
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe-core, installed by scripts/test.sh into .tools/node_modules.
pub fn axe_source() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.tools/node_modules/axe-core/axe.min.js"
    );
    let found = std::fs::read_to_string(path).ok();
    needs(
        "axe-core (npm install --prefix .tools axe-core)",
        found.is_some(),
    )
    .then_some(())?;
    found
}

/// No serious or critical accessibility violation in the view on screen.
pub fn accessible(b: &Browser, axe: Option<&str>, view: &str) {
    if let Some(axe) = axe {
        let found = b.axe_violations(axe);
        assert!(found.is_empty(), "{view}: {found:#?}");
    }
}

/// What makes the charts shown (not in a hidden view) hard to read: a chart without a name, a label smaller than
/// 9 CSS pixels, outside its chart or on top of another, or a page wider than the window.
/// Also saves a screenshot (`{name}-{width}.png` in the test's temporary folder) and checks
/// that it shows the charts' marks (pixels of the accent colour).
pub fn chart_problems(b: &Browser, name: &str, width: u32) -> Vec<String> {
    b.resize(width, 900);
    let found = b.eval(
        r#"(() => {
        const out = [];
        if (document.scrollingElement.scrollWidth > window.innerWidth + 1)
            out.push('the page is wider than the window: ' + document.scrollingElement.scrollWidth);
        const shown = [...document.querySelectorAll('svg[role=img]')].filter((s) => s.getBoundingClientRect().width > 0);
        shown.forEach((svg, n) => {
            const named = (svg.getAttribute('aria-labelledby') || '').split(' ')
                .map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
            if (!named) out.push('chart ' + n + ' has no accessible name');
            const box = svg.getBoundingClientRect();
            const texts = [...svg.querySelectorAll(':scope > text')].map((t) => [t.textContent, t.getBoundingClientRect()]);
            for (const [text, r] of texts) {
                if (r.height < 9) out.push(named + ': "' + text + '" is ' + r.height.toFixed(1) + 'px tall');
                if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
                    out.push(named + ': "' + text + '" leaves its chart');
            }
            for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
                const [a, ra] = texts[i], [c, rc] = texts[j];
                if (ra.left < rc.right - 1 && rc.left < ra.right - 1 && ra.top < rc.bottom - 1 && rc.top < ra.bottom - 1)
                    out.push(named + ': "' + a + '" overlaps "' + c + '"');
            }
        });
        return out;
    })()"#,
    );
    let mut problems: Vec<String> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    // The chart with the most drawn area on screen: its marks must show in the screenshot.
    b.eval(
        "[...document.querySelectorAll('svg[role=img]')].filter((s) => s.getBoundingClientRect().width > 0)\
         .map((s) => [s, [...s.querySelectorAll('.mark')].reduce((a, m) => a + m.getBoundingClientRect().width * m.getBoundingClientRect().height, 0)])\
         .sort((a, b) => b[1] - a[1])[0]?.[0].scrollIntoView() ?? true",
    );
    let png = b.screenshot();
    let shot =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{width}.png"));
    std::fs::write(&shot, &png).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    let accent = img
        .pixels()
        .filter(|p| {
            p.0[0].abs_diff(0x1f) < 24 && p.0[1].abs_diff(0x5f) < 24 && p.0[2].abs_diff(0xbf) < 24
        })
        .count();
    let charts = b.eval(
        "[...document.querySelectorAll('svg[role=img]')].filter((s) => s.getBoundingClientRect().width > 0).length",
    );
    if charts.as_u64() > Some(0) && accent < 50 {
        problems.push(format!(
            "{}: no chart marks on screen ({accent} accent pixels)",
            shot.display()
        ));
    }
    problems
}
