//! Starting and stopping function processes, and reading their memory use.
//!
//! This is the one module allowed `unsafe` code, for two calls the standard library does not
//! offer: between fork and exec the child asks the kernel to SIGKILL it when Stratus dies
//! (`prctl(PR_SET_PDEATHSIG)`), so no function outlives Stratus even after `kill -9`; and a
//! function's whole process group is killed with `kill(-pgid)`, so a handler's own children go
//! with it. Both are plain system calls on integers, async-signal-safe, and touch no memory.
#![allow(unsafe_code)]

use std::path::Path;

use tokio::process::{Child, Command};

/// Spawns `command` in its own process group, to be killed when Stratus's thread that spawned
/// it exits. Stratus spawns only from its long-lived runtime threads.
pub fn spawn(command: &mut Command) -> std::io::Result<Child> {
    command.process_group(0).kill_on_drop(true);
    #[cfg(target_os = "linux")]
    {
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

/// Resident memory of a process in bytes (`/proc/PID/statm`), or `None` when it is gone.
pub fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The peak resident memory of a process in bytes (`VmHWM`), what "Max Memory Used" reports.
pub fn peak_resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
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
        let pid = std::process::id();
        let resident = resident_bytes(pid).unwrap_or(0);
        let peak = peak_resident_bytes(pid).unwrap_or(0);
        assert!(resident > 0);
        assert!(peak >= resident / 2);
        assert!(resident_bytes(u32::MAX).is_none());
    }
}
