//! Starting and stopping function processes, and reading their memory use.
//!
//! This is the one module allowed `unsafe` code, for calls the standard library does not
//! offer: a function's whole process group is killed with `kill(-pgid)`, so a handler's own
//! children go with it; without a [`Reaper`], between fork and exec the child asks the kernel
//! to SIGKILL it when Stratus dies (`prctl(PR_SET_PDEATHSIG)`). Both are plain system calls on
//! integers, async-signal-safe, and touch no memory. The reaper sets its signal dispositions
//! the same way.
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::process::{Child, Command};

/// Spawns `command` as the leader of its own process group. With the [`Reaper`]'s helper
/// running (`reaped`), the group (this process and what it starts) is the helper's to kill when
/// Stratus dies; the command then has no code to run between fork and exec, so the standard
/// library starts it with `posix_spawn` (a `vfork`-style clone: none of Stratus's memory is
/// copied or write-protected). Otherwise the process asks the kernel to SIGKILL it when
/// Stratus's thread that spawned it exits (Stratus spawns only from its long-lived runtime
/// threads).
pub fn spawn(command: &mut Command, reaped: bool) -> std::io::Result<Child> {
    command.process_group(0).kill_on_drop(true);
    #[cfg(target_os = "linux")]
    if !reaped {
        let parent = std::process::id();
        // SAFETY: the closure runs in the child between fork and exec and only makes
        // async-signal-safe system calls with integer arguments; it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::other("parent exited"));
                }
                Ok(())
            });
        }
    }
    command.spawn()
}

/// Kills the process groups of the functions (each function process and what it started) when
/// Stratus dies, even by `kill -9`. One helper process, `stratus __reaper`, started with the
/// service, holds the list of live groups (`+PGID` / `-PGID` lines on its stdin); when its
/// stdin ends — Stratus's end of the pipe closes when Stratus exits, however it exits — it
/// SIGKILLs every group still listed. (Each function used to run under a supervisor
/// process of its own, which cost about 2 ms of every cold start.)
pub struct Reaper {
    program: PathBuf,
    state: Mutex<ReaperState>,
}

#[derive(Default)]
struct ReaperState {
    helper: Option<(std::process::Child, std::process::ChildStdin)>,
    groups: BTreeSet<u32>,
}

impl Reaper {
    /// Starts the helper, on a thread of its own (starting the Stratus binary takes a
    /// couple of milliseconds, not to be spent before Stratus is ready). `program` is `stratus`
    /// itself (run as `stratus __reaper`); `/proc/self/exe` still works when the binary has
    /// been replaced or deleted since.
    pub fn start(program: PathBuf) -> std::sync::Arc<Reaper> {
        let reaper = std::sync::Arc::new(Reaper {
            program,
            state: Mutex::new(ReaperState::default()),
        });
        let starting = std::sync::Arc::clone(&reaper);
        let started = std::thread::Builder::new()
            .name("stratus-reaper-start".to_string())
            .spawn(move || {
                if let Ok(mut state) = starting.state.lock() {
                    starting.restart(&mut state);
                }
            });
        // Without the thread, the first `watch` starts it.
        drop(started);
        reaper
    }

    /// Whether the helper is running: only then may a function go without the parent-death
    /// signal (see [`spawn`]).
    pub fn is_running(&self) -> bool {
        let Ok(mut state) = self.state.lock() else { return false };
        match state.helper.as_mut() {
            Some((child, _)) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Adds the group led by `pgid`.
    pub fn watch(&self, pgid: u32) {
        let Ok(mut state) = self.state.lock() else { return };
        if state.groups.insert(pgid) {
            self.send(&mut state, &format!("+{pgid}\n"));
        }
    }

    /// Removes the group led by `pgid` (its leader has exited and the group was killed).
    pub fn forget(&self, pgid: u32) {
        let Ok(mut state) = self.state.lock() else { return };
        if state.groups.remove(&pgid) {
            self.send(&mut state, &format!("-{pgid}\n"));
        }
    }

    /// Writes one line to the helper, starting it again (with the whole list) if it has gone.
    /// While it cannot be started, functions are spawned with the parent-death signal, which
    /// takes the function process (not its children) down with Stratus.
    fn send(&self, state: &mut ReaperState, line: &str) {
        if let Some((_, stdin)) = state.helper.as_mut()
            && stdin.write_all(line.as_bytes()).is_ok()
        {
            return;
        }
        self.restart(state);
    }

    fn restart(&self, state: &mut ReaperState) {
        use std::os::unix::process::CommandExt;
        if let Some((mut child, stdin)) = state.helper.take() {
            drop(stdin);
            let _ = child.kill();
            let _ = child.wait();
        }
        let _inheriting = INHERITING.lock();
        let started = std::process::Command::new(&self.program)
            .arg("__reaper")
            .stdin(std::process::Stdio::piped())
            // It prints nothing, and holds none of Stratus's output pipes open after Stratus.
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Its own group: Ctrl-C in the terminal reaches Stratus, not the reaper.
            .process_group(0)
            .spawn();
        let Ok(mut child) = started else { return };
        let Some(mut stdin) = child.stdin.take() else { return };
        let all: String = state.groups.iter().map(|g| format!("+{g}\n")).collect();
        if stdin.write_all(all.as_bytes()).is_ok() {
            state.helper = Some((child, stdin));
        } else {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        // Closing its stdin makes the helper kill what is still listed and exit.
        if let Ok(state) = self.state.get_mut()
            && let Some((mut child, stdin)) = state.helper.take()
        {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The reaper's side (`stratus __reaper`): keeps the list from stdin; at its end (Stratus is
/// gone, or dropped its [`Reaper`]) SIGKILLs every group still on it. Returns the exit code.
pub fn reap() -> i32 {
    use std::io::BufRead;
    // It ends when its stdin does, not on a signal a terminal or a service manager sends to
    // everything (SIGTERM reaches Stratus too, which then stops its functions itself).
    // SAFETY: sets three signal dispositions to SIG_IGN for this process; no handler runs.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    let mut groups = BTreeSet::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let (add, number) = match line.split_at_checked(1) {
            Some(("+", number)) => (true, number),
            Some(("-", number)) => (false, number),
            _ => continue,
        };
        let Ok(pgid) = number.trim().parse::<u32>() else {
            continue;
        };
        if add {
            groups.insert(pgid);
        } else {
            groups.remove(&pgid);
        }
    }
    for pgid in groups {
        kill_group(pgid);
    }
    0
}

/// Makes reads from `fd` return `WouldBlock` instead of waiting (`O_NONBLOCK`, a flag of the
/// open file: duplicates of `fd` share it; a pipe's write end, a file of its own, does not).
pub fn set_nonblocking(fd: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
    change_flags(fd, libc::F_GETFL, libc::F_SETFL, |flags| flags | libc::O_NONBLOCK)
}

/// Lets `fd` pass to the processes started after this (clears `FD_CLOEXEC`).
pub fn set_inheritable(fd: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
    change_flags(fd, libc::F_GETFD, libc::F_SETFD, |flags| flags & !libc::FD_CLOEXEC)
}

/// Reads `fd`'s flags with `get`, and writes `change(flags)` back with `set` (fcntl(2)).
fn change_flags(
    fd: &impl std::os::fd::AsRawFd,
    get: libc::c_int,
    set: libc::c_int,
    change: impl Fn(libc::c_int) -> libc::c_int,
) -> std::io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl(2) on a descriptor the caller owns (borrowed for the call), integer flags.
    unsafe {
        let flags = libc::fcntl(fd, get);
        if flags < 0 || libc::fcntl(fd, set, change(flags)) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Held while a function process is started (with, for Node and Python, a descriptor made
/// inheritable for it and closed again before the lock goes), and while the reaper's helper or
/// a short-lived helper (interpreter probes, pip and npm installs: [`helper_output`],
/// [`helper_status`]) is, so that none inherits a function's descriptor.
pub static INHERITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Starts a helper program under [`INHERITING`] (only the start: the lock is not held while it
/// runs).
fn spawn_helper(command: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let _inheriting = INHERITING.lock();
    command.spawn()
}

/// `Command::output`, started under [`INHERITING`]: stdout and stderr are captured.
pub async fn helper_output(command: &mut tokio::process::Command) -> std::io::Result<std::process::Output> {
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    spawn_helper(command)?.wait_with_output().await
}

/// `Command::status`, started under [`INHERITING`].
pub async fn helper_status(command: &mut tokio::process::Command) -> std::io::Result<std::process::ExitStatus> {
    spawn_helper(command)?.wait().await
}

/// Waits until `fd` can be read without blocking, or has ended (`poll(2)`).
pub fn wait_readable(fd: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
    let mut entry = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: poll(2) on one pollfd on the stack, for a descriptor the caller owns.
        let ready = unsafe { libc::poll(&mut entry, 1, -1) };
        if ready >= 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// SIGKILLs the process group led by `pid` (the function and anything it started).
pub fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return };
    if pid <= 1 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// A process's memory figures, read from `/proc/PID/status` through a file opened once: each
/// reading is one `pread`, with no path lookup or open/close. The file stays tied to the process
/// it was opened for (a reused pid does not redirect it); once it is gone, readings are `None`.
pub struct Memory {
    status: std::fs::File,
}

/// One reading of a process's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Resident now (`VmRSS`).
    pub resident_bytes: u64,
    /// The most it has been resident (`VmHWM`, the kernel's high-water mark), what "Max Memory
    /// Used" reports.
    pub peak_bytes: u64,
}

impl Usage {
    /// The peak in MB, rounded up (REPORT's figure).
    pub fn peak_mb(&self) -> u64 {
        self.peak_bytes.div_ceil(1024 * 1024)
    }

    /// What is resident now, in MB, rounded up.
    pub fn resident_mb(&self) -> u64 {
        self.resident_bytes.div_ceil(1024 * 1024)
    }
}

impl Memory {
    pub fn open(pid: u32) -> Option<Memory> {
        Some(Memory {
            status: std::fs::File::open(format!("/proc/{pid}/status")).ok()?,
        })
    }

    pub fn usage(&self) -> Option<Usage> {
        let mut buffer = [0u8; 4096];
        parse_usage(read_whole(&self.status, &mut buffer)?)
    }
}

/// `VmRSS` and `VmHWM` (in kB) from a status file's text.
fn parse_usage(text: &[u8]) -> Option<Usage> {
    let kilobytes = |name: &[u8]| {
        let start = text.windows(name.len()).position(|w| w == name)? + name.len();
        let line = text[start..].split(|b| *b == b'\n').next()?;
        line.split(|b| b.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .and_then(parse_u64)
    };
    let resident_bytes = kilobytes(b"\nVmRSS:")? * 1024;
    let peak_bytes = kilobytes(b"\nVmHWM:")? * 1024;
    Some(Usage {
        resident_bytes,
        peak_bytes: peak_bytes.max(resident_bytes),
    })
}

/// The whole of a small `/proc` file, read from its start in one `pread`.
///
/// These files are generated whole at each read, and a read that is not at offset 0 generates
/// the file again to find its place: asking for the rest after a short read (to see the end of
/// file) doubled the cost of every reading. A short read is the whole file; the buffer is sized
/// to hold it (and the memory lines come early, should a file ever be longer).
fn read_whole<'a>(file: &std::fs::File, buffer: &'a mut [u8]) -> Option<&'a [u8]> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buffer, 0) {
            Ok(0) => return None,
            Ok(read) => return Some(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    std::str::from_utf8(digits).ok()?.trim().parse().ok()
}

/// Whether `path` is a file this user may execute.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_memory() {
        let Some(memory) = Memory::open(std::process::id()) else {
            panic!("cannot open this process's /proc files");
        };
        let Some(before) = memory.usage() else {
            panic!("no memory figures for this process");
        };
        assert!(before.resident_bytes > 0);
        assert!(before.peak_bytes >= before.resident_bytes);
        // Read again from the same file: the figures are current, not cached.
        let grown: Vec<u8> = std::hint::black_box(vec![1; 64 * 1024 * 1024]);
        let during = memory.usage().unwrap_or(before);
        assert!(during.resident_bytes >= before.resident_bytes + 32 * 1024 * 1024);
        drop(grown);
        // The high-water mark keeps what was freed.
        let after = memory.usage().unwrap_or(before);
        assert!(after.peak_bytes >= before.resident_bytes + 32 * 1024 * 1024);
        assert!(Memory::open(u32::MAX).is_none());
    }

    #[test]
    fn parses_the_memory_lines_of_a_status_file() {
        let text = b"Name:\tpython3\nVmPeak:\t  30000 kB\nVmHWM:\t   14000 kB\nVmRSS:\t   12000 kB\nVmData:\t 9 kB\n";
        let usage = parse_usage(text);
        assert_eq!(
            usage,
            Some(Usage {
                resident_bytes: 12000 * 1024,
                peak_bytes: 14000 * 1024
            })
        );
        // A zombie's status has no memory lines.
        assert_eq!(parse_usage(b"Name:\tx\nState:\tZ (zombie)\n"), None);
        // The peak is never below what is resident (they are read at different moments).
        let odd = parse_usage(b"x\nVmHWM:\t1 kB\nVmRSS:\t2 kB\n");
        assert_eq!(odd.map(|u| u.peak_bytes), Some(2048));
    }
}
