//! The per-tenant SQLite schema, as an append-only list of migrations. `PRAGMA user_version`
//! records how many have been applied; never edit a released migration, add a new one.

/// Tables whose every change is a content change: each gets triggers that bump
/// `meta.content_version`, so no code path can forget to (the builder keys on it).
pub const CONTENT_TABLES: [&str; 7] = [
    "story_fragments",
    "panes",
    "story_fragment_panes",
    "menus",
    "menu_items",
    "media_files",
    "settings",
];

const V1: &str = r#"
CREATE TABLE meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    content_version INTEGER NOT NULL
);
INSERT INTO meta (id, content_version) VALUES (1, 0);

CREATE TABLE menus (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    title   TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    changed TEXT NOT NULL
);

-- A page. TractStack calls it a story fragment; MAX_PAGES counts these rows.
CREATE TABLE story_fragments (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    menu_id      INTEGER REFERENCES menus(id) ON DELETE SET NULL,   -- the menu shown on the page
    social_image TEXT,
    date         TEXT,
    draft        INTEGER NOT NULL DEFAULT 0 CHECK (draft IN (0, 1)),
    weight       INTEGER NOT NULL DEFAULT 0,
    extra        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra)),  -- front matter t8k does not model
    created      TEXT NOT NULL,
    changed      TEXT NOT NULL
);

CREATE TABLE panes (
    id       INTEGER PRIMARY KEY,
    markdown TEXT NOT NULL,
    options  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    created  TEXT NOT NULL,
    changed  TEXT NOT NULL
);

-- The ordering of panes in story fragments.
CREATE TABLE story_fragment_panes (
    story_fragment_id INTEGER NOT NULL REFERENCES story_fragments(id) ON DELETE CASCADE,
    pane_id           INTEGER NOT NULL REFERENCES panes(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    PRIMARY KEY (story_fragment_id, position)
);
CREATE INDEX story_fragment_panes_pane ON story_fragment_panes(pane_id);

-- A pane no story fragment uses any more is deleted with its last use.
CREATE TRIGGER panes_gc AFTER DELETE ON story_fragment_panes
WHEN NOT EXISTS (SELECT 1 FROM story_fragment_panes WHERE pane_id = OLD.pane_id)
BEGIN
    DELETE FROM panes WHERE id = OLD.pane_id;
END;

CREATE TABLE menu_items (
    id                INTEGER PRIMARY KEY,
    menu_id           INTEGER NOT NULL REFERENCES menus(id) ON DELETE CASCADE,
    label             TEXT NOT NULL,
    story_fragment_id INTEGER REFERENCES story_fragments(id) ON DELETE CASCADE,
    url               TEXT,
    weight            INTEGER NOT NULL DEFAULT 0,
    CHECK ((story_fragment_id IS NULL) <> (url IS NULL))
);
CREATE INDEX menu_items_menu ON menu_items(menu_id, weight);

CREATE TABLE media_files (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,          -- generated server-side, never a user's file name
    content_hash TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    mime         TEXT NOT NULL,
    alt_text     TEXT NOT NULL DEFAULT '',
    width        INTEGER,
    height       INTEGER,
    variants     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(variants)),
    created      TEXT NOT NULL
);

-- Named accounts. The built-in `admin` and `editor` accounts live in env.json.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor')),
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    last_login    TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    token_version INTEGER NOT NULL DEFAULT 0
);

-- Site settings and brand (logo, colours, ...), as key/value text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// A random identity per database file: with the content version it identifies the content
/// exactly (a restored or replaced database has another id), so builds can be skipped safely.
const V2: &str = r#"
ALTER TABLE meta ADD COLUMN db_id TEXT NOT NULL DEFAULT '';
UPDATE meta SET db_id = lower(hex(randomblob(16)));
"#;

/// Sections, aliases and taxonomies (imported Hugo and Zola sites). `slug` now holds a path of
/// segments (`docs/intro`); every existing one-segment slug is such a path already.
const V3: &str = r#"
ALTER TABLE story_fragments ADD COLUMN kind TEXT NOT NULL DEFAULT 'page' CHECK (kind IN ('page', 'section'));
ALTER TABLE story_fragments ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(aliases));
ALTER TABLE story_fragments ADD COLUMN taxonomies TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(taxonomies));
"#;

/// A page's revision: a random number drawn again whenever the page's row or its panes change
/// (their order, their text, a pane shared with another page), so an incremental build can
/// tell which pages changed without reading every pane. Random rather than counted: a
/// database restored from an older snapshot, then edited, never gives an old number to new
/// content.
const V4: &str = r#"
ALTER TABLE story_fragments ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE story_fragments SET revision = random();
CREATE TRIGGER story_fragments_insert_revises AFTER INSERT ON story_fragments
BEGIN UPDATE story_fragments SET revision = random() WHERE id = NEW.id; END;
CREATE TRIGGER story_fragments_update_revises AFTER UPDATE ON story_fragments
WHEN NEW.revision IS OLD.revision
BEGIN UPDATE story_fragments SET revision = random() WHERE id = NEW.id; END;
CREATE TRIGGER story_fragment_panes_insert_revises AFTER INSERT ON story_fragment_panes
BEGIN UPDATE story_fragments SET revision = random() WHERE id = NEW.story_fragment_id; END;
CREATE TRIGGER story_fragment_panes_delete_revises AFTER DELETE ON story_fragment_panes
BEGIN UPDATE story_fragments SET revision = random() WHERE id = OLD.story_fragment_id; END;
CREATE TRIGGER story_fragment_panes_update_revises AFTER UPDATE ON story_fragment_panes
BEGIN UPDATE story_fragments SET revision = random() WHERE id IN (OLD.story_fragment_id, NEW.story_fragment_id); END;
CREATE TRIGGER panes_update_revises AFTER UPDATE ON panes
BEGIN UPDATE story_fragments SET revision = random()
      WHERE id IN (SELECT story_fragment_id FROM story_fragment_panes WHERE pane_id = NEW.id); END;
"#;

/// Every migration, in order; index + 1 is the `user_version` after it.
pub fn migrations() -> Vec<String> {
    let mut v1 = V1.to_owned();
    for table in CONTENT_TABLES {
        for op in ["INSERT", "UPDATE", "DELETE"] {
            v1.push_str(&format!(
                "CREATE TRIGGER {table}_{op}_bumps_version AFTER {op} ON {table} \
                 BEGIN UPDATE meta SET content_version = content_version + 1; END;\n",
                op = op.to_lowercase()
            ));
        }
    }
    vec![v1, V2.to_owned(), V3.to_owned(), V4.to_owned()]
}
