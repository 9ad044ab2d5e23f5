//! Where a build's time goes: named phases and their milliseconds, logged at debug
//! (`T8K_LOG=t8k_builder=debug t8k build …`) so a slow site shows which step to look at.

use std::fmt;
use std::time::Instant;

/// A stopwatch that records the time since the previous lap under each lap's name.
pub struct Laps {
    last: Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Laps {
    pub fn start() -> Laps {
        Laps {
            last: Instant::now(),
            laps: vec![],
        }
    }

    /// Ends the phase called `name`.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        let ms = (now - self.last).as_secs_f64() * 1e3;
        self.laps.push((name, ms));
        self.last = now;
    }
}

/// `open 4.1ms, manifest 5.0ms, …`
impl fmt::Display for Laps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (name, ms)) in self.laps.iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            write!(f, "{sep}{name} {ms:.1}ms")?;
        }
        Ok(())
    }
}
