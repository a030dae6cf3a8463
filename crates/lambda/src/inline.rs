//! A future wrapper that handles a task's wake-ups of itself inside the poll that caused them.
//!
//! hyper's HTTP/1 server wakes its own connection task in the middle of a poll whenever the
//! service reads a request body: polling the body signals "want" to the dispatcher, and the
//! dispatcher's reading of the body wakes the body's reader, both of them wakers of that same
//! task. Tokio then finds the task notified as it finishes the poll and treats it as a yield:
//! the task goes to the back of the run queue and an idle worker thread is woken to steal it
//! (a futex wake, a thread switched in on the other core, and the task moved there). Per-task
//! figures on this 2-core VM (`perf record -e syscalls:sys_enter_futex` on Invoke → Python): both
//! the AWS endpoint's connection and the function's Runtime API connection did this about once
//! per request, 1.5 futex wake-ups and as many parkings per invocation.
//!
//! [`Inline`] gives the inner future a waker of its own. A wake-up that arrives while the inner
//! future is being polled only marks it, and the inner future is polled again at once, in the
//! same task poll, at most [`REPOLLS_MAX`] times in a row; then the task yields as before (hyper's
//! own yield after 16 passes of its dispatcher loop is such a wake-up: it is held back for at
//! most those few re-polls). A wake-up at any other time goes straight to the task's waker, so
//! nothing is delayed or lost.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Inline re-polls per task poll before the task yields to others.
pub const REPOLLS_MAX: u32 = 4;

/// Wraps `future` (see the module docs).
pub fn inline<F: Future>(future: F) -> Inline<F> {
    // Boxed once per task, so `Inline` is `Unpin` and no pin projection is needed.
    let state = Arc::new(State {
        polling: AtomicBool::new(false),
        woken: AtomicBool::new(false),
        task: Mutex::new(None),
    });
    Inline {
        waker: Waker::from(Arc::clone(&state)),
        state,
        future: Box::pin(future),
    }
}

pub struct Inline<F> {
    state: Arc<State>,
    waker: Waker,
    future: Pin<Box<F>>,
}

struct State {
    /// The inner future is being polled.
    polling: AtomicBool,
    /// Woken while `polling`.
    woken: AtomicBool,
    /// The task's own waker, from the latest poll.
    task: Mutex<Option<Waker>>,
}

impl State {
    fn wake_task(&self) {
        if let Ok(task) = self.task.lock()
            && let Some(waker) = task.as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

impl Wake for State {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.polling.load(Ordering::SeqCst) {
            self.wake_task();
            return;
        }
        self.woken.store(true, Ordering::SeqCst);
        // The poll may have ended between the two loads without seeing the mark: then it is
        // taken back here and passed on (whichever side takes it acts on it).
        if !self.polling.load(Ordering::SeqCst) && self.woken.swap(false, Ordering::SeqCst) {
            self.wake_task();
        }
    }
}

impl<F: Future> Future for Inline<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if let Ok(mut task) = this.state.task.lock()
            && !task.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
        {
            *task = Some(cx.waker().clone());
        }
        let future = &mut this.future;
        let mut inner = Context::from_waker(&this.waker);
        // A mark is only ever set while `polling`, and each one is taken by one `swap`, here or
        // in the waker: none is left over from an earlier poll.
        for _ in 0..=REPOLLS_MAX {
            this.state.polling.store(true, Ordering::SeqCst);
            let polled = future.as_mut().poll(&mut inner);
            this.state.polling.store(false, Ordering::SeqCst);
            if polled.is_ready() {
                return polled;
            }
            if !this.state.woken.swap(false, Ordering::SeqCst) {
                return Poll::Pending;
            }
        }
        // Still waking itself: let other tasks run first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wakes itself `times` times, each time in the poll, then is ready.
    struct SelfWaking {
        times: u32,
        polls: u32,
    }

    impl Future for SelfWaking {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            self.polls += 1;
            if self.polls > self.times {
                return Poll::Ready(self.polls);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    struct Counting(std::sync::atomic::AtomicU32);
    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_during_the_poll_is_handled_in_the_same_poll() {
        let counter = Arc::new(Counting(Default::default()));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(inline(SelfWaking { times: 3, polls: 0 }));
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(4));
        assert_eq!(counter.0.load(Ordering::SeqCst), 0, "the task was never woken");
    }

    #[test]
    fn a_future_that_keeps_waking_itself_yields_after_the_limit() {
        let counter = Arc::new(Counting(Default::default()));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(inline(SelfWaking { times: 100, polls: 0 }));
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "yielded: woken once to run again");
    }

    #[test]
    fn a_wake_after_the_poll_reaches_the_task() {
        struct Parked(Arc<Mutex<Option<Waker>>>);
        impl Future for Parked {
            type Output = ();
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                if let Ok(mut slot) = self.0.lock() {
                    *slot = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
        let counter = Arc::new(Counting(Default::default()));
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let slot = Arc::new(Mutex::new(None));
        let mut future = std::pin::pin!(inline(Parked(Arc::clone(&slot))));
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
        let stored = slot.lock().ok().and_then(|s| s.clone());
        let thread = std::thread::spawn(move || stored.map(|w| w.wake()));
        let _ = thread.join();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wakes_from_other_threads_are_never_lost() {
        // Another thread keeps waking the inner future while it is being polled and between
        // polls; every round still completes.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<u32>(1);
        let producer = tokio::spawn(async move {
            for n in 0..2_000 {
                if sender.send(n).await.is_err() {
                    break;
                }
            }
        });
        let consumer = tokio::spawn(inline(async move {
            let mut total = 0u64;
            while let Some(n) = receiver.recv().await {
                total += u64::from(n);
            }
            total
        }));
        let total = tokio::time::timeout(std::time::Duration::from_secs(20), consumer).await;
        assert!(matches!(total, Ok(Ok(1_999_000))), "{total:?}");
        let _ = producer.await;
    }
}
