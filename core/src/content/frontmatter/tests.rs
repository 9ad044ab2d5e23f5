use super::*;

/// Parses with Hugo's rules, as t8k's own export is read back.
fn read(text: &str, stem: &str) -> Result<Page, Problem> {
    parse(text, stem, &Rules::of(Generator::Hugo)).map(|p| p.page)
}

#[test]
fn toml_front_matter() {
    let p = read("+++\ntitle = \"Hello\"\ndate = 2024-05-01\nweight = 3\nmenu = \"main\"\ntags = [\"a\"]\n+++\n\nBody *text*.\n", "hello-world").unwrap();
    assert_eq!(
        (p.slug.as_str(), p.title.as_str(), p.weight),
        ("hello-world", "Hello", 3)
    );
    assert_eq!(p.date.as_deref(), Some("2024-05-01"));
    assert_eq!(p.menus, vec!["main"]);
    assert_eq!(p.taxonomies["tags"], ["a"]);
    assert_eq!(p.panes, vec![Pane::markdown("\nBody *text*.\n")]);
}

#[test]
fn yaml_front_matter_with_hugo_menu_map() {
    let p = read("---\ntitle: About\nslug: about-us\ndraft: true\nmenu:\n  main:\n    weight: 2\n  footer: {}\n---\nHi\n", "about").unwrap();
    assert_eq!(p.slug, "about-us");
    assert!(p.draft);
    assert_eq!(p.menus, vec!["footer", "main"]);
}

#[test]
fn errors_name_the_line() {
    let e = read("+++\ntitle = \"x\"\ndraft = \"yes\"\n+++\n", "x").unwrap_err();
    assert_eq!(e.line, 3, "{e:?}");
    let e = read("+++\ntitle = \"x\"\nbroken = \n+++\n", "x").unwrap_err();
    assert_eq!(e.line, 3, "{e:?}");
    let e = read("---\ntitle: x\ndate: not-a-date\n---\n", "x").unwrap_err();
    assert_eq!(e.line, 3, "{e:?}");
    let e = read("---\ntitle: x\n  bad: [\n---\n", "x").unwrap_err();
    assert!(e.line >= 2, "{e:?}");
    let zola = Rules::of(Generator::Zola);
    assert_eq!(parse("no front matter", "x", &zola).unwrap_err().line, 1);
    assert!(
        read("+++\ntitle = \"x\"\n", "x")
            .unwrap_err()
            .message
            .contains("never closed")
    );
    assert!(
        read("\n\n+++\ntitle = \"x\"\ndraft = 1\n+++\n", "x").is_err_and(|e| e.line == 5),
        "lines count from the top of the file, blank lines included"
    );
    let e = read("+++\ntitle = \"x\"\nslug = \"..\"\n+++\n", "x").unwrap_err();
    assert_eq!(e.line, 3);
}

#[test]
fn pages_as_hugo_and_zola_accept_them() {
    // A byte order mark and blank lines before the front matter.
    let p = read("\u{feff}\n\n+++\ntitle = \"Intro\"\n+++\nBody\n", "intro").unwrap();
    assert_eq!((p.title.as_str(), p.slug.as_str()), ("Intro", "intro"));
    // No title: the first heading outside code, else the file name made readable.
    let p = read(
        "---\ndate: 2024-01-02\n---\n```\n# not this\n```\n# Getting Started #\n",
        "x",
    )
    .unwrap();
    assert_eq!(p.title, "Getting Started");
    let p = read("+++\n+++\nNo heading.\n", "release_notes-2024").unwrap();
    assert_eq!(p.title, "Release notes 2024");
    // JSON front matter, a number as title, Hugo's spaced date-times.
    let p = read(
        "{\n  \"title\": 2024,\n  \"date\": \"2019-03-05 10:00:00 +0200\",\n  \"tags\": [\"a\"]\n}\nBody\n",
        "x",
    )
    .unwrap();
    assert_eq!(p.title, "2024");
    assert_eq!(p.date.as_deref(), Some("2019-03-05T10:00:00+02:00"));
    assert_eq!(p.taxonomies["tags"], ["a"]);
    assert_eq!(p.panes[0].markdown, "Body\n");
    let e = read("{\n  \"title\": \"x\",\n  oops\n}\n", "x").unwrap_err();
    assert_eq!(e.line, 3, "{e:?}");
    // No front matter: Hugo builds the file, Zola refuses it.
    let p = read("# Just Markdown\n\nText.\n", "plain").unwrap();
    assert_eq!(
        (p.title.as_str(), p.slug.as_str()),
        ("Just Markdown", "plain")
    );
    let zola = Rules::of(Generator::Zola);
    assert!(parse("# Just Markdown\n", "plain", &zola).is_err_and(|e| e.message.contains("Zola")));
}

#[test]
fn panes_round_trip() {
    let mut opts = Map::new();
    opts.insert("class".into(), "hero".into());
    let page = Page {
        slug: "home".into(),
        kind: Kind::Page,
        aliases: vec!["old/home".into()],
        taxonomies: [("tags".to_owned(), vec!["a b".to_owned(), "c".to_owned()])].into(),
        title: "Home".into(),
        description: "d".into(),
        date: Some("2024-01-02T03:04:05Z".into()),
        draft: false,
        weight: -1,
        menus: vec!["footer".into(), "main".into()],
        social_image: None,
        extra: Map::new(),
        panes: vec![
            Pane {
                markdown: "# Hi\n".into(),
                options: opts,
            },
            Pane::markdown("two"),
            Pane::markdown("three\n\n"),
        ],
    };
    let text = render(&page, None);
    let mut back = read(&text, "home").unwrap();
    // Aliases come back as written (absolute); import makes them paths again.
    assert_eq!(back.aliases, ["/old/home/"]);
    back.aliases = page.aliases.clone();
    assert_eq!(back, page, "{text}");
}

#[test]
fn null_extra_falls_back_to_yaml() {
    let mut page = read("---\ntitle: T\nsubtitle: null\n---\nx", "t").unwrap();
    let text = render(&page, None);
    assert!(text.starts_with("---\n"), "{text}");
    page.extra.insert("subtitle".into(), Value::Null);
    assert_eq!(read(&text, "t").unwrap(), page);
}
