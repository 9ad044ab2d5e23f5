//! The installation the edge tests serve (nginx, Caddy, CloudFront): two tenants published,
//! one with a custom domain and a moved page, and what the edges' answers are checked against.

use std::process::Child;

use super::{Root, Server, get};

/// A published installation: `acme` (custom domain shop.acme.test, vouched for) and `bobs`,
/// with `t8k serve` running for the functions the edges proxy /api/ to. The data root is made
/// readable to the web server's workers (they run as another user).
pub fn published() -> (Root, Server) {
    let root = Root::new();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    root.init_multi(10);
    root.create("acme").ok();
    root.create("bobs").ok();
    root.run(&["domain", "add", "acme", "shop.acme.test", "--trust"])
        .ok();
    // A page that moved: its old address is an alias the edges answer with a 301.
    root.import_pages(
        "acme",
        "moved-src",
        &[(
            "guide.md".into(),
            "+++\ntitle = \"Guide\"\naliases = [\"/old-guide/\"]\n+++\nHere now.\n".into(),
        )],
    );
    root.run(&["build"]).ok();
    root.run(&["publish"]).ok();
    let srv = root.serve(&[]);
    (root, srv)
}

/// Adds a page to `acme` and publishes it.
pub fn republish_with_news(root: &Root) {
    root.import_pages(
        "acme",
        "news-src",
        &[(
            "news.md".into(),
            "+++\ntitle = \"News\"\n+++\nFresh news.\n".into(),
        )],
    );
    root.run(&["build", "acme"]).ok();
    root.run(&["publish", "acme"]).ok();
}

/// The alias of acme's guide answers with a 301 to the page, on each of the tenant's `hosts`;
/// another tenant's same path does not.
pub fn assert_moved(http: u16, hosts: &[&str]) {
    for &host in hosts {
        let r = get(http, host, "/old-guide/");
        assert_eq!(
            (r.status, r.header("location")),
            (301, Some("/guide/")),
            "{host}"
        );
    }
    assert_eq!(get(http, "bobs.example.com", "/old-guide/").status, 404);
}

/// Waits up to ten seconds for `check` (a reload is asynchronous; a watch looks every second).
pub fn settles(what: &str, check: impl FnMut() -> bool) {
    assert!(super::eventually(10, check), "{what}");
}

/// The theme's stylesheet, a shared object every tenant on the theme links at `/_t8k/assets/`.
pub fn hashed_asset(root: &Root) -> String {
    let assets = root.path().join("build/_shared/assets");
    std::fs::read_dir(&assets)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("style.") && n.ends_with(".css"))
        .expect("the theme has a hashed stylesheet")
}

/// A child process killed when dropped (an edge server, a watch).
pub struct Stopped(pub Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
