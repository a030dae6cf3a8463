//! The memory watchdog: one task checks the memory of every busy instance every 10 ms, records
//! the most each has used, and kills the ones over their MemorySize.
//!
//! It also keeps each instance's "Max Memory Used" current: at every check, and once more at the
//! first tick after each invocation ends, it reads the kernel's high-water mark. That reading is
//! not made on the invocation's own path: reading another process's `/proc` file there, as the
//! process goes back to waiting, cost about 25 µs of every warm invocation's latency here. So a
//! short invocation's own brief peak shows in the REPORTs of invocations that end after the next
//! tick.
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
    lists: Mutex<Lists>,
    woken: Notify,
}

#[derive(Default)]
struct Lists {
    /// Running an invocation: checked at every tick.
    busy: Vec<Arc<Watched>>,
    /// Ended an invocation since the last tick: their peak is read once more.
    settling: Vec<Arc<Watched>>,
}

/// One busy instance.
pub struct Watched {
    memory: Arc<Memory>,
    /// The process group killed when the instance uses too much.
    group: u32,
    limit_mb: u64,
    /// The instance's own record of the most it has used, in MB.
    peak_mb: Arc<AtomicU64>,
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

    /// Records the peak; when `enforce`, kills the instance if it is over its limit now.
    fn check(&self, enforce: bool) {
        let Some(usage) = self.memory.usage() else {
            return;
        };
        self.peak_mb.fetch_max(usage.peak_mb(), Ordering::Relaxed);
        if enforce && usage.resident_mb() > self.limit_mb && !self.exceeded.swap(true, Ordering::SeqCst) {
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
        if let Ok(mut lists) = self.watchdog.lists.lock() {
            lists.busy.retain(|w| !Arc::ptr_eq(w, &self.watched));
            // One reading per instance and tick, however many invocations it ended since (a
            // warm instance ends dozens between two ticks).
            let memory = &self.watched.memory;
            if !lists.settling.iter().any(|w| Arc::ptr_eq(&w.memory, memory)) {
                lists.settling.push(Arc::clone(&self.watched));
            }
        }
    }
}

impl Watchdog {
    /// Watches an instance until the returned guard is dropped, recording the most it uses in
    /// `peak_mb` (never lowered) until the first tick after that.
    pub fn watch(&self, memory: Arc<Memory>, group: u32, limit_mb: u64, peak_mb: Arc<AtomicU64>) -> Watch<'_> {
        let watched = Arc::new(Watched {
            memory,
            group,
            limit_mb,
            peak_mb,
            exceeded: AtomicBool::new(false),
            told: Notify::new(),
        });
        if let Ok(mut lists) = self.lists.lock() {
            lists.busy.push(Arc::clone(&watched));
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
                let (busy, settling) = match self.lists.lock() {
                    Ok(mut lists) => (lists.busy.clone(), std::mem::take(&mut lists.settling)),
                    Err(_) => return,
                };
                if busy.is_empty() && settling.is_empty() {
                    idle_ticks += 1;
                    continue;
                }
                idle_ticks = 0;
                for watched in &busy {
                    watched.check(true);
                }
                // An instance busy again is read as such.
                for watched in &settling {
                    if !busy.iter().any(|w| Arc::ptr_eq(&w.memory, &watched.memory)) {
                        watched.check(false);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_is_read_once_per_tick_however_many_invocations_it_ended() {
        let watchdog = Watchdog::default();
        let Some(memory) = Memory::open(std::process::id()).map(Arc::new) else {
            panic!("cannot open this process's /proc files");
        };
        let Some(other) = Memory::open(std::process::id()).map(Arc::new) else {
            panic!("cannot open this process's /proc files");
        };
        let peak = Arc::new(AtomicU64::new(0));
        for _ in 0..3 {
            drop(watchdog.watch(Arc::clone(&memory), 0, 128, Arc::clone(&peak)));
        }
        drop(watchdog.watch(other, 0, 128, Arc::new(AtomicU64::new(0))));
        let lists = watchdog.lists.lock().unwrap_or_else(|e| e.into_inner());
        assert!(lists.busy.is_empty());
        assert_eq!(lists.settling.len(), 2, "one entry per instance");
    }
}
