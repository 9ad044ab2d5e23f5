use std::io::Write;

use super::*;
use crate::registry::TenantEntry;
use crate::store::local::LocalStore;

fn hosts() -> HostMap {
    let entry = |id: &str| -> TenantEntry {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain": format!("{id}.example.com"), "created": "2026-01-01T00:00:00Z",
            "active": true, "custom_domains": [format!("www.{id}.org")],
        }))
        .unwrap()
    };
    HostMap::new("example.com", &[entry("acme"), entry("gazette")])
}

fn json_line(host: &str, bytes: u64) -> String {
    format!(
        r#"{{"time":"2026-11-30T10:00:00+00:00","host":"{host}","status":200,"bytes":{bytes}}}"#
    ) + "\n"
}

fn served(store: &dyn Store, id: &str) -> (u64, u64) {
    let id = TenantId::trusted(id).unwrap();
    let m = crate::bandwidth::read(store, &id, "2026-11")
        .unwrap()
        .unwrap_or_default();
    (m.bytes, m.requests)
}

#[test]
fn logs_are_counted_once_a_line_being_written_waits_and_a_rotated_file_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("root"));
    let hosts = hosts();
    let ingest = Ingest {
        store: &store,
        logs: None,
        hosts: &hosts,
        format: Format::Nginx,
    };
    let log = dir.path().join("access.log");
    let mut text = json_line("acme.example.com", 100)
        + &json_line("WWW.GAZETTE.ORG:443", 50)
        + "not a log line\n"
        + &json_line("example.com", 7)
        + &json_line("acme.example.com", 25);
    // The line nginx is writing now.
    text.push_str(r#"{"time":"2026-11-30T10:00:01+00:00","host":"acme.example.com","#);
    std::fs::write(&log, &text).unwrap();
    let sources = [Source::File(log.clone())];
    let r = ingest.run(&sources).unwrap();
    assert_eq!((r.counted, r.malformed, r.unattributed), (3, 1, 1), "{r:?}");
    assert!(r.left_for_later > 0);
    assert_eq!(served(&store, "acme"), (125, 2));
    assert_eq!(served(&store, "gazette"), (50, 1));

    let again = ingest.run(&sources).unwrap();
    assert_eq!((again.unchanged, again.counted), (1, 0), "nothing new");
    assert_eq!(served(&store, "acme"), (125, 2));

    let key = ledger_key(&sources[0].id()).unwrap();
    let ledger =
        |store: &LocalStore| -> Ledger { crate::cas::read_json(store, &key).unwrap().unwrap().0 };
    let before = ledger(&store).offset;
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"\"status\":200,\"bytes\":1000}\n").unwrap();
    let r = ingest.run(&sources).unwrap();
    assert_eq!(r.counted, 1, "the finished line, alone: {r:?}");
    assert_eq!(served(&store, "acme"), (1125, 3));

    // A run killed after naming its stretch, before moving the ledger on: the next run counts
    // that stretch again, and the months that have it skip it.
    let mut killed = ledger(&store);
    killed.pending = Some((before, killed.offset));
    killed.offset = before;
    save(&store, &key, &killed).unwrap();
    ingest.run(&sources).unwrap();
    assert_eq!(served(&store, "acme"), (1125, 3));
    assert_eq!(served(&store, "gazette"), (50, 1));

    // Rotated: a new file under the same name is read from its first line.
    std::fs::write(&log, json_line("acme.example.com", 1)).unwrap();
    ingest.run(&sources).unwrap();
    assert_eq!(served(&store, "acme"), (1126, 4));
}

#[test]
fn gzipped_cloudfront_logs_and_s3_logs_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("root"));
    let hosts = hosts();
    let cf = dir.path().join("E2ABC.2026-11-30-10.abcd.gz");
    let text = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status x-host-header\n\
                2026-11-30\t10:00:00\tFRA2\t4096\t192.0.2.1\tGET\td1.cloudfront.net\t/\t200\twww.acme.org\n\
                2026-11-30\t10:00:01\tFRA2\tbroken\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(&cf, gz.finish().unwrap()).unwrap();
    let run = |format, path: &Path| {
        Ingest {
            store: &store,
            logs: None,
            hosts: &hosts,
            format,
        }
        .run(&[Source::File(path.to_owned())])
        .unwrap()
    };
    let r = run(Format::Cloudfront, &cf);
    assert_eq!((r.counted, r.malformed), (1, 1), "{r:?}");
    assert_eq!(
        run(Format::Cloudfront, &cf).unchanged,
        1,
        "a gzip log is read once"
    );
    let s3 = dir.path().join("2026-11-30-10-00-00-ABC");
    std::fs::write(
        &s3,
        "o bundles [30/Nov/2026:10:00:00 +0000] 192.0.2.3 - R1 REST.GET.OBJECT root/sites/gazette/d1/index.html \"GET /x HTTP/1.1\" 200 - 300 300 1 1 \"-\" \"curl\" -\n\
         o bundles [30/Nov/2026:10:00:00 +0000] 192.0.2.3 - R2 REST.GET.OBJECT root/sites/nobody/d1/index.html \"GET /y HTTP/1.1\" 200 - 9 9 1 1 \"-\" \"curl\" -\n",
    )
    .unwrap();
    let r = run(Format::S3, &s3);
    assert_eq!((r.counted, r.unattributed), (1, 1), "{r:?}");
    assert_eq!(served(&store, "acme"), (4096, 1));
    assert_eq!(served(&store, "gazette"), (300, 1));
}
