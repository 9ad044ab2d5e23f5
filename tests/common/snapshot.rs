//! Snapshots of a data root, to prove a refused request changed nothing.

use super::*;

/// Every file under a data root → its bytes, to check that a refused request changed nothing.
/// SQLite databases are compared by content (every row of every table, as a reader sees it,
/// WAL included), since checkpoints rewrite their files without changing data; the local
/// store's lock files are left out.
pub fn snapshot(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with(".t8k") || rel.ends_with("-shm") || rel.ends_with("-wal") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if rel.ends_with(".db") {
                out.insert(rel, dump_db(&p));
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every row of every table of a SQLite database, as text.
fn dump_db(path: &Path) -> Vec<u8> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for t in tables {
        // Rows sorted as text: WITHOUT ROWID tables have no rowid to order by.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut lines = vec![];
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            lines.push(format!("{t}: {}\n", cells.join(" | ")));
        }
        lines.sort();
        out.extend(lines);
    }
    out.into_bytes()
}

/// Asserts two snapshots are equal, naming the files that differ (not dumping their bytes).
pub fn assert_unchanged(
    before: &std::collections::BTreeMap<String, Vec<u8>>,
    after: &std::collections::BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "{what}: these files changed: {changed:?}"
    );
}
