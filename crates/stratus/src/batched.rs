//! `stratus start`'s log output, written in batches.
//!
//! Every warm request writes three to five lines (START, END, REPORT, the access line, the
//! function's own output). Written one `write(2)` each on the request path, they cost more
//! than a trivial handler's whole run; here a line is appended to a buffer under a lock, and a
//! thread writes what has gathered a few milliseconds later (at once past `FLUSH_BYTES`, so a
//! chatty function cannot grow it without bound). [`flush`] writes the rest at exit.

use std::io::Write;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// How long a line may wait for company before it is written.
const FLUSH_DELAY: Duration = Duration::from_millis(5);
/// A buffer this big is written by the caller that filled it.
const FLUSH_BYTES: usize = 64 * 1024;
/// What a fresh buffer is allocated with (a few hundred lines).
const BUFFER_BYTES: usize = 8 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

struct Batch {
    buffer: Mutex<Vec<u8>>,
    /// Held from taking the buffer to having written it, so batches reach the stream in order.
    writing: Mutex<()>,
    /// Signalled when an empty buffer gets its first line.
    filled: Condvar,
    stream: Stream,
}

/// Writes `bytes` to the stream at once. A closed terminal or pipe loses the log, never the
/// server.
pub fn write_now(stream: Stream, bytes: &[u8]) {
    let _ = match stream {
        Stream::Stdout => std::io::stdout().lock().write_all(bytes),
        Stream::Stderr => std::io::stderr().lock().write_all(bytes),
    };
}

impl Batch {
    fn take(&self) -> Vec<u8> {
        match self.buffer.lock() {
            Ok(mut buffer) => std::mem::replace(&mut *buffer, Vec::with_capacity(BUFFER_BYTES)),
            Err(_) => Vec::new(),
        }
    }

    fn write_gathered(&self) {
        let _order = self.writing.lock();
        let bytes = self.take();
        if !bytes.is_empty() {
            write_now(self.stream, &bytes);
        }
    }

    /// The writer thread: wait for a first line, let others join it, write them all.
    fn run(&self) {
        loop {
            let Ok(mut buffer) = self.buffer.lock() else {
                return;
            };
            while buffer.is_empty() {
                buffer = match self.filled.wait(buffer) {
                    Ok(buffer) => buffer,
                    Err(_) => return,
                };
            }
            drop(buffer);
            std::thread::sleep(FLUSH_DELAY);
            self.write_gathered();
        }
    }
}

static STDOUT: OnceLock<Option<&'static Batch>> = OnceLock::new();
static STDERR: OnceLock<Option<&'static Batch>> = OnceLock::new();

fn batch(stream: Stream) -> Option<&'static Batch> {
    let cell = match stream {
        Stream::Stdout => &STDOUT,
        Stream::Stderr => &STDERR,
    };
    *cell.get_or_init(|| {
        // One per stream for the life of the process: leaked on purpose.
        let batch: &'static Batch = Box::leak(Box::new(Batch {
            buffer: Mutex::new(Vec::with_capacity(BUFFER_BYTES)),
            writing: Mutex::new(()),
            filled: Condvar::new(),
            stream,
        }));
        std::thread::Builder::new()
            .name("stratus-log-writer".to_string())
            .spawn(move || batch.run())
            .ok()
            .map(|_| batch)
    })
}

/// Appends `text` to the stream's batch (or writes it at once if the writer thread could not
/// be started).
pub fn write(stream: Stream, text: &str) {
    let Some(batch) = batch(stream) else {
        write_now(stream, text.as_bytes());
        return;
    };
    let full = {
        let Ok(mut buffer) = batch.buffer.lock() else {
            return;
        };
        let was_empty = buffer.is_empty();
        buffer.extend_from_slice(text.as_bytes());
        if was_empty {
            batch.filled.notify_one();
        }
        buffer.len() >= FLUSH_BYTES
    };
    if full {
        batch.write_gathered();
    }
}

/// Writes whatever is still gathered (at exit).
pub fn flush() {
    for cell in [&STDOUT, &STDERR] {
        if let Some(Some(batch)) = cell.get() {
            batch.write_gathered();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_gather_and_flush_empties_the_batch() {
        write(Stream::Stdout, "[test] one\n");
        write(Stream::Stdout, "[test] two\n");
        flush();
        let remaining = batch(Stream::Stdout).map(|b| b.take().len()).unwrap_or(0);
        assert_eq!(remaining, 0);
    }
}
