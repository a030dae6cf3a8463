//! The memory watchdog: one task checks the memory of every busy instance every 10 ms, records
//! the most each has used, and kills the ones over their MemorySize.
//!
//! One task for the whole service rather than a timer per invocation: a 10 ms timer armed at
//! each invocation is the runtime's earliest timer, so arming it wakes the timer driver (on the
//! other worker thread, as often as not) at every invocation. The task ticks only while
//! invocations run, and for a second after the last one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::process::{self, Memory};

/// How often a busy instance's memory is checked against its MemorySize.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(10);
/// Ticks without a busy instance before the task waits for the next one.
const IDLE_TICKS_MAX: u32 = 100;

/// The instances being watched.
#[derive(Default)]
pub struct Watchdog {
    busy: Mutex<Vec<Arc<Watched>>>,
    woken: Notify,
}

/// One busy instance.
pub struct Watched {
    memory: Arc<Memory>,
    /// The process group killed when the instance uses too much.
    group: u32,
    limit_mb: u64,
    peak_mb: AtomicU64,
    exceeded: AtomicBool,
    told: Notify,
}

impl Watched {
    /// Resolves once the instance was found over its limit (and killed).
    pub async fn exceeded(&self) {
        if !self.is_exceeded() {
            // `notify_one` keeps a permit when nobody waits yet.
            self.told.notified().await;
        }
    }

    pub fn is_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::SeqCst)
    }

    /// The most memory seen in use by the checks, in MB.
    pub fn peak_mb(&self) -> u64 {
        self.peak_mb.load(Ordering::Relaxed)
    }

    fn check(&self) {
        let Some(used) = self.memory.resident_bytes().map(|b| b.div_ceil(1024 * 1024)) else {
            return;
        };
        self.peak_mb.fetch_max(used, Ordering::Relaxed);
        if used > self.limit_mb && !self.exceeded.swap(true, Ordering::SeqCst) {
            // Flagged before the kill: whoever sees the process exit sees why.
            self.told.notify_one();
            process::kill_group(self.group);
        }
    }
}

/// Stops watching an instance when dropped.
pub struct Watch<'a> {
    watchdog: &'a Watchdog,
    pub watched: Arc<Watched>,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.watchdog.busy.lock() {
            busy.retain(|w| !Arc::ptr_eq(w, &self.watched));
        }
    }
}

impl Watchdog {
    /// Watches an instance until the returned guard is dropped.
    pub fn watch(&self, memory: Arc<Memory>, group: u32, limit_mb: u64) -> Watch<'_> {
        let watched = Arc::new(Watched {
            memory,
            group,
            limit_mb,
            peak_mb: AtomicU64::new(0),
            exceeded: AtomicBool::new(false),
            told: Notify::new(),
        });
        if let Ok(mut busy) = self.busy.lock() {
            busy.push(Arc::clone(&watched));
        }
        self.woken.notify_one();
        Watch {
            watchdog: self,
            watched,
        }
    }

    /// The watchdog's task (runs until aborted with the service).
    pub async fn run(self: Arc<Self>) {
        loop {
            self.woken.notified().await;
            // An instance is checked at each tick while it is busy: the first time within 10 ms
            // of being added.
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + CHECK_INTERVAL, CHECK_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut idle_ticks = 0;
            while idle_ticks < IDLE_TICKS_MAX {
                ticker.tick().await;
                let busy: Vec<Arc<Watched>> = match self.busy.lock() {
                    Ok(busy) => busy.clone(),
                    Err(_) => return,
                };
                if busy.is_empty() {
                    idle_ticks += 1;
                    continue;
                }
                idle_ticks = 0;
                for watched in busy {
                    watched.check();
                }
            }
        }
    }
}
