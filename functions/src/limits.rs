//! Sliding-window rate limits kept in memory: per process on the local server, per warm
//! instance on Lambda (so there they are a first line, not a global guarantee).
//!
//! An attempt is counted *before* the work it limits ([`Window::take`] checks and counts under
//! one lock): checking first and counting after the slow part (a password hash) would let N
//! concurrent attempts all pass a check that has room for one.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Window {
    max: usize,
    per: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Window {
    pub fn new(max: usize, per: Duration) -> Window {
        Window {
            max,
            per,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key` if the window has room; `Err(seconds to wait)` (and
    /// nothing counted) when it already holds `max` attempts.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget the quiet ones.
            let per = self.per;
            hits.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < per));
        }
        let q = hits.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.per)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = *q.front().expect("a full window has attempts");
            return Err((self.per - now.duration_since(oldest)).as_secs().max(1));
        }
        q.push_back(now);
        Ok(())
    }

    /// Takes back the newest attempt of `key`: the attempt it stood for turned out not to
    /// count (a successful login, a refused second limit).
    pub fn give_back(&self, key: &str) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = hits.get_mut(key) {
            q.pop_back();
        }
    }

    /// Forgets every attempt of `key`.
    pub fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Takes one attempt from each window in turn; when one is full, the attempts already taken
/// are given back, so a refusal never counts against the other limits.
pub fn take_all(windows: &[(&Window, &str)]) -> Result<(), u64> {
    for (i, (w, key)) in windows.iter().enumerate() {
        if let Err(wait) = w.take(key) {
            for (w, key) in &windows[..i] {
                w.give_back(key);
            }
            return Err(wait);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_the_window() {
        let w = Window::new(2, Duration::from_secs(60));
        assert!(w.take("a").is_ok());
        assert!(w.take("a").is_ok());
        assert!(matches!(w.take("a"), Err(s) if (1..=60).contains(&s)));
        assert!(w.take("b").is_ok());
        w.give_back("a");
        assert!(w.take("a").is_ok());
        w.clear("a");
        assert!(w.take("a").is_ok());
    }

    #[test]
    fn concurrent_attempts_never_exceed_the_limit() {
        let w = Window::new(5, Duration::from_secs(60));
        let passed = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..20 {
                s.spawn(|| {
                    if w.take("acme/admin").is_ok() {
                        // The slow part (a password hash) runs after the attempt is counted.
                        std::thread::sleep(Duration::from_millis(20));
                        passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(passed.into_inner(), 5);
    }

    #[test]
    fn a_refusal_by_one_window_costs_nothing_in_the_others() {
        let ip = Window::new(5, Duration::from_secs(60));
        let account = Window::new(1, Duration::from_secs(60));
        assert!(take_all(&[(&ip, "1.2.3.4"), (&account, "acme/admin")]).is_ok());
        for _ in 0..10 {
            assert!(take_all(&[(&ip, "1.2.3.4"), (&account, "acme/admin")]).is_err());
        }
        for _ in 0..4 {
            assert!(
                ip.take("1.2.3.4").is_ok(),
                "the refused attempts were given back"
            );
        }
        assert!(ip.take("1.2.3.4").is_err());
    }
}
