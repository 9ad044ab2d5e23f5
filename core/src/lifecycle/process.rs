//! Identifies the current process well enough to tell, from another process on the same host,
//! that it has died: host name, pid, and the pid's start time (so a reused pid is not mistaken
//! for the original). On hosts without `/proc`, only a claim's lease expiry detects staleness.

use std::fs;

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Field 22 of `/proc/{pid}/stat`: the process start time in clock ticks since boot.
fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_owned)
}

/// `host/pid/start-time` of this process.
pub fn current() -> String {
    let pid = std::process::id();
    format!(
        "{}/{}/{}",
        hostname(),
        pid,
        start_time(pid).unwrap_or_default()
    )
}

/// True only when `identity` names a process on this host that certainly no longer runs.
pub fn is_dead(identity: &str) -> bool {
    let mut parts = identity.rsplitn(3, '/');
    let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != hostname() || start.is_empty() || start_time(std::process::id()).is_none() {
        return false;
    }
    start_time(pid).as_deref() != Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_child_is_dead() {
        assert!(!is_dead(&current()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        if let Some(start) = start {
            assert!(is_dead(&format!("{}/{pid}/{start}", hostname())));
        }
        assert!(
            !is_dead("other-host/1/123"),
            "other hosts are judged by lease only"
        );
        assert!(!is_dead("garbage"));
    }
}
