//! Starting and stopping function processes, and reading their memory use.
//!
//! This is the one module allowed `unsafe` code, for two calls the standard library does not
//! offer: between fork and exec the child asks the kernel to SIGKILL it when Stratus dies
//! (`prctl(PR_SET_PDEATHSIG)`), so no function outlives Stratus even after `kill -9`; and a
//! function's whole process group is killed with `kill(-pgid)`, so a handler's own children go
//! with it. Both are plain system calls on integers, async-signal-safe, and touch no memory.
//! The supervisor (below) uses signal masks and `sigwait` for the same reason.
#![allow(unsafe_code)]

use std::path::Path;

use tokio::process::{Child, Command};

/// Spawns `command` in its own process group, to be killed when Stratus's thread that spawned
/// it exits. Stratus spawns only from its long-lived runtime threads. With a `supervisor`
/// (see [`supervise`]), the process is told with SIGTERM instead, so it can kill its group.
pub fn spawn(command: &mut Command, supervised: bool) -> std::io::Result<Child> {
    command.process_group(0).kill_on_drop(true);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        let signal = if supervised { libc::SIGTERM } else { libc::SIGKILL };
        // SAFETY: the closure runs in the child between fork and exec and only makes
        // async-signal-safe system calls with integer arguments; it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, signal) != 0 {
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

/// The supervisor: `stratus __supervise PROGRAM ARGS…` runs the function process as its child,
/// in its own process group, and kills the whole group (the function's own children included)
/// when Stratus dies — the kernel sends it SIGTERM then (`PR_SET_PDEATHSIG`), even after
/// `kill -9` of Stratus. It exits as the function exits, re-raising a fatal signal so Stratus
/// sees the same status. Returns the exit code when it cannot re-raise.
#[cfg(target_os = "linux")]
pub fn supervise(program: &std::ffi::OsStr, args: &[std::ffi::OsString]) -> i32 {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    // SAFETY: sigset manipulation on a local, zeroed set; pthread_sigmask on this thread only.
    let mut waited: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigemptyset(&mut waited);
        libc::sigaddset(&mut waited, libc::SIGTERM);
        libc::sigaddset(&mut waited, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &waited, std::ptr::null_mut());
    }
    let mut command = std::process::Command::new(program);
    command.args(args);
    // SAFETY: between fork and exec, only sigprocmask on a stack value (async-signal-safe).
    unsafe {
        command.pre_exec(|| {
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("stratus: cannot start {}: {error}", program.to_string_lossy());
            return 127;
        }
    };
    let status = std::sync::Arc::new(std::sync::Mutex::new(None));
    let recorded = std::sync::Arc::clone(&status);
    std::thread::spawn(move || {
        let outcome = child.wait().ok();
        if let Ok(mut slot) = recorded.lock() {
            *slot = outcome;
        }
        // SAFETY: kill(2) on our own pid with an integer signal.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGUSR1);
        }
    });
    loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: sigwait with the set blocked above and a local out-parameter.
        let result = unsafe { libc::sigwait(&waited, &mut signal) };
        if result != 0 {
            continue;
        }
        if signal == libc::SIGTERM {
            // Stratus is gone: take the function and everything it started down.
            // SAFETY: kill(2) on our own process group.
            unsafe {
                libc::kill(0, libc::SIGKILL);
            }
            return 137;
        }
        if signal == libc::SIGUSR1 {
            let outcome = status.lock().ok().and_then(|s| *s);
            let Some(outcome) = outcome else { return 1 };
            if let Some(code) = outcome.code() {
                return code;
            }
            let fatal = outcome.signal().unwrap_or(libc::SIGKILL);
            // SAFETY: restore the default action and deliver the same signal to ourselves, so
            // our parent sees the function's status.
            unsafe {
                libc::signal(fatal, libc::SIG_DFL);
                let mut only: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut only);
                libc::sigaddset(&mut only, fatal);
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
                libc::kill(libc::getpid(), fatal);
            }
            return 128 + fatal;
        }
    }
}

/// The function process a supervisor runs (its only child), from `/proc`.
pub fn supervised_child(supervisor: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{supervisor}/task/{supervisor}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
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

/// A process's memory figures, read from `/proc/PID/statm` and `/proc/PID/status` through files
/// opened once: each reading is one `pread`, with no path lookup or open/close, which matters on
/// the path of every invocation. The files stay tied to the process they were opened for (a
/// reused pid does not redirect them); once it is gone, readings are `None`.
pub struct Memory {
    statm: std::fs::File,
    status: std::fs::File,
}

impl Memory {
    pub fn open(pid: u32) -> Option<Memory> {
        Some(Memory {
            statm: std::fs::File::open(format!("/proc/{pid}/statm")).ok()?,
            status: std::fs::File::open(format!("/proc/{pid}/status")).ok()?,
        })
    }

    /// Resident memory in bytes (`statm`'s second field).
    pub fn resident_bytes(&self) -> Option<u64> {
        let mut buffer = [0u8; 256];
        let text = read_whole(&self.statm, &mut buffer)?;
        let pages: u64 = text.split(|b| *b == b' ').nth(1).and_then(parse_u64)?;
        Some(pages * page_size())
    }

    /// The peak resident memory in bytes (`VmHWM`), what "Max Memory Used" reports.
    pub fn peak_resident_bytes(&self) -> Option<u64> {
        let mut buffer = [0u8; 4096];
        let text = read_whole(&self.status, &mut buffer)?;
        let start = text.windows(6).position(|w| w == b"VmHWM:")? + 6;
        let line = text[start..].split(|b| *b == b'\n').next()?;
        let kilobytes = line
            .split(|b| b.is_ascii_whitespace())
            .find(|w| !w.is_empty())
            .and_then(parse_u64)?;
        Some(kilobytes * 1024)
    }
}

/// The whole of a small `/proc` file, read from its start.
fn read_whole<'a>(file: &std::fs::File, buffer: &'a mut [u8]) -> Option<&'a [u8]> {
    use std::os::unix::fs::FileExt;
    let mut length = 0;
    while length < buffer.len() {
        match file.read_at(&mut buffer[length..], length as u64) {
            Ok(0) => break,
            Ok(read) => length += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    (length > 0).then_some(&buffer[..length])
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    std::str::from_utf8(digits).ok()?.trim().parse().ok()
}

fn page_size() -> u64 {
    // SAFETY: sysconf reads a constant; no memory is involved.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|s| *s > 0).unwrap_or(4096)
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
        let resident = memory.resident_bytes().unwrap_or(0);
        let peak = memory.peak_resident_bytes().unwrap_or(0);
        assert!(resident > 0);
        assert!(peak >= resident / 2);
        // Read again from the same files: the figures are current, not cached.
        let grown: Vec<u8> = std::hint::black_box(vec![1; 64 * 1024 * 1024]);
        assert!(memory.peak_resident_bytes().unwrap_or(0) >= resident + 32 * 1024 * 1024);
        drop(grown);
        assert!(Memory::open(u32::MAX).is_none());
    }
}
