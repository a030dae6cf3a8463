//! Hot reload: a fingerprint of a function's code folders (paths, sizes, modification times),
//! checked on an interval. A change retires the function's instances, so the next invocation
//! runs the new code. Polling rather than inotify keeps it dependency-free and portable; the
//! folders of a function are small once installed packages are skipped.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Folders whose changes do not count (caches, installed packages, Stratus's own data).
const IGNORED_DIRS: &[&str] = &[
    "__pycache__",
    ".git",
    ".stratus",
    ".pytest_cache",
    ".mypy_cache",
    ".venv",
    "venv",
    ".aws-sam",
];
/// Installed Node packages are not walked (thousands of files); an install shows in the folder
/// itself (a package added or removed) and in the file the package manager rewrites at every
/// install: npm's `.package-lock.json`, pnpm's `.modules.yaml`, Yarn 1's `.yarn-integrity` and
/// Yarn 2+'s `.yarn-state.yml` (its `node-modules` linker).
const NODE_MODULES: &str = "node_modules";
const INSTALL_MARKERS: &[&str] = &[
    ".package-lock.json",
    ".modules.yaml",
    ".yarn-integrity",
    ".yarn-state.yml",
];
/// Entries looked at per fingerprint, so a huge folder costs a bounded walk.
const ENTRIES_MAX: usize = 20_000;

/// A digest of everything under `dirs` that a new process would load.
pub fn fingerprint(dirs: &[PathBuf]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    let mut seen = 0usize;
    for dir in dirs {
        let mut pending = vec![dir.clone()];
        while let Some(current) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&current) else {
                continue;
            };
            let mut entries: Vec<_> = entries.flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                seen += 1;
                if seen > ENTRIES_MAX {
                    return hash;
                }
                let name = entry.file_name();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() && name == NODE_MODULES {
                    let folder = entry.path();
                    mix_stamp(&mut mix, &folder);
                    for marker in INSTALL_MARKERS {
                        mix_stamp(&mut mix, &folder.join(marker));
                    }
                    continue;
                }
                if kind.is_dir() {
                    if !IGNORED_DIRS.iter().any(|ignored| name == *ignored) {
                        pending.push(entry.path());
                    }
                    continue;
                }
                if ignored_file(&entry.path()) {
                    continue;
                }
                mix_stamp(&mut mix, &entry.path());
            }
        }
    }
    hash
}

/// Mixes in a path with its size and modification time (nothing more when it does not exist).
fn mix_stamp(mix: &mut impl FnMut(&[u8]), path: &Path) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    mix(path.as_os_str().as_encoded_bytes());
    mix(&metadata.len().to_le_bytes());
    let modified = metadata
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    mix(&modified.to_le_bytes());
}

/// Editors' swap and backup files, compiled Python.
fn ignored_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".pyc") || name.ends_with(".swp") || name.ends_with('~') || name.starts_with(".#")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_to_code_changes_the_fingerprint_and_caches_do_not() {
        let dir = std::env::temp_dir().join(format!("stratus-watch-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(dir.join("__pycache__"));
        let _ = std::fs::write(dir.join("app.py"), "def handler(e, c): return 1\n");
        let dirs = vec![dir.clone()];
        let before = fingerprint(&dirs);
        assert_eq!(before, fingerprint(&dirs));
        let _ = std::fs::write(dir.join("__pycache__/app.cpython-311.pyc"), b"compiled");
        assert_eq!(before, fingerprint(&dirs), "caches do not count");
        let _ = std::fs::write(dir.join("app.py"), "def handler(e, c): return 22\n");
        assert_ne!(before, fingerprint(&dirs), "an edit counts");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_install_into_node_modules_counts_and_its_files_are_not_walked() {
        let dir = std::env::temp_dir().join(format!("stratus-watch-nm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(dir.join("node_modules/dep"));
        let _ = std::fs::write(dir.join("index.js"), "exports.handler = async () => 1;\n");
        let _ = std::fs::write(dir.join("node_modules/dep/index.js"), "module.exports = 1;\n");
        let _ = std::fs::write(dir.join("node_modules/.package-lock.json"), "{}");
        let dirs = vec![dir.clone()];
        let before = fingerprint(&dirs);
        let _ = std::fs::write(dir.join("node_modules/dep/index.js"), "module.exports = 22;\n");
        assert_eq!(before, fingerprint(&dirs), "a package's own files are not walked");
        let _ = std::fs::write(dir.join("node_modules/.package-lock.json"), r#"{"packages":{}}"#);
        let after_install = fingerprint(&dirs);
        assert_ne!(before, after_install, "npm rewrote its lock file: an install");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let _ = std::fs::create_dir_all(dir.join("node_modules/other"));
        let mut last = fingerprint(&dirs);
        assert_ne!(after_install, last, "a package added");
        for marker in INSTALL_MARKERS {
            let _ = std::fs::write(dir.join(NODE_MODULES).join(marker), format!("{marker} rewritten"));
            let now = fingerprint(&dirs);
            assert_ne!(last, now, "{marker} rewritten: an install");
            last = now;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
