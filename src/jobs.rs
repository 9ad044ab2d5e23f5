//! The scheduled commands, in one table for both deployments: systemd timers on one server
//! (`t8k install --systemd`) and EventBridge schedules on AWS (`t8k deploy aws`), where the
//! `t8k` binary itself runs them as a Lambda function ([`crate::lambda_jobs`]).

/// Where the jobs run, which decides a few of their commands.
pub enum Host<'a> {
    /// One server: nginx's access log for bandwidth, bundles published to a folder nginx
    /// reads, certificates from the ACME CA for nginx.
    OneBox {
        access_log: &'a str,
        sites: &'a str,
        backups: bool,
    },
    /// AWS: CloudFront's standard logs in `logs` (`s3://bucket/prefix/`), bundles in the data
    /// root's bucket (`root`), routes in the KeyValueStore `routes`, certificates from ACM (no
    /// renewal job).
    Aws {
        logs: &'a str,
        root: &'a str,
        routes: &'a str,
    },
}

/// A scheduled command.
#[derive(Debug)]
pub struct Job {
    pub name: &'static str,
    pub what: &'static str,
    /// `t8k` arguments after `--root`, run in turn (each must succeed for the next to run).
    pub commands: Vec<String>,
    /// systemd's `OnCalendar=`.
    pub on_calendar: &'static str,
    /// EventBridge's schedule expression, for the same cadence.
    pub rate: &'static str,
    /// Extra groups on one server (the usage job reads nginx's log, group adm).
    pub groups: &'static str,
}

fn job(
    name: &'static str,
    what: &'static str,
    commands: Vec<String>,
    on_calendar: &'static str,
    rate: &'static str,
) -> Job {
    Job {
        name,
        what,
        commands,
        on_calendar,
        rate,
        groups: "",
    }
}

pub fn jobs(host: &Host) -> Vec<Job> {
    let (ingest, sites, backups) = match host {
        Host::OneBox {
            access_log,
            sites,
            backups,
        } => (
            format!("usage ingest --format nginx {access_log}"),
            *sites,
            *backups,
        ),
        Host::Aws { logs, root, .. } => (
            format!("usage ingest --format cloudfront {logs}"),
            *root,
            true,
        ),
    };
    let mut all = vec![
        job(
            "rollup",
            "merge analytics events",
            vec!["analytics rollup".into()],
            "*:0/10",
            "rate(10 minutes)",
        ),
        job(
            "domains",
            "re-check custom domains' DNS",
            vec!["domain check".into()],
            "hourly",
            "rate(1 hour)",
        ),
    ];
    if matches!(host, Host::OneBox { .. }) {
        all.push(job(
            "certs",
            "obtain and renew certificates",
            vec!["certs renew".into()],
            "*-*-* 00,12:00:00",
            "rate(12 hours)",
        ));
    }
    all.push(Job {
        groups: if matches!(host, Host::OneBox { .. }) {
            "adm"
        } else {
            ""
        },
        ..job(
            "usage",
            "count bandwidth from the edge's logs and apply the limits",
            vec![ingest, "usage check".into()],
            "*:0/15",
            "rate(15 minutes)",
        )
    });
    all.push(job(
        "snapshot",
        "record each tenant's daily usage",
        vec!["usage snapshot".into()],
        "daily",
        "cron(5 0 * * ? *)",
    ));
    all.push(job(
        "changed",
        "build and publish what changed (banners starting or ending, channels moving)",
        vec![
            "build --changed".into(),
            format!("publish --changed --to {sites}"),
        ],
        "*:0/5",
        "rate(5 minutes)",
    ));
    if let Host::Aws { routes, .. } = host {
        all.push(job(
            "routes",
            "bring CloudFront's KeyValueStore up to date (publishes, deactivations, domains)",
            vec![format!(
                "edge cloudfront --out /tmp/t8k-edge --kvs-id {routes} --sync"
            )],
            "minutely",
            "rate(1 minute)",
        ));
    }
    if backups {
        all.push(job(
            "backup",
            "back up the tenants that are due",
            vec!["backup --due".into()],
            "hourly",
            "rate(1 hour)",
        ));
    }
    all
}
