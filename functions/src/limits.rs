//! Sliding-window rate limits kept in memory: per process on the local server, per warm
//! instance on Lambda (so there they are a first line, not a global guarantee).

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

    /// `Err(seconds to wait)` when `key` already has `max` hits in the window.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = hits.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.per)
        {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = *q.front().expect("a full window has hits");
            return Err((self.per - now.duration_since(oldest)).as_secs().max(1));
        }
        Ok(())
    }

    pub fn hit(&self, key: &str) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.entry(key.to_owned())
            .or_default()
            .push_back(Instant::now());
        if hits.len() > 100_000 {
            // Bound memory under a flood of distinct keys: forget the quiet ones.
            let per = self.per;
            hits.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < per));
        }
    }

    pub fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_the_window() {
        let w = Window::new(2, Duration::from_secs(60));
        assert!(w.check("a").is_ok());
        w.hit("a");
        w.hit("a");
        assert!(matches!(w.check("a"), Err(s) if (1..=60).contains(&s)));
        assert!(w.check("b").is_ok());
        w.clear("a");
        assert!(w.check("a").is_ok());
    }
}
