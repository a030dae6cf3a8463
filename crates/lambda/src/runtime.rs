//! Which program runs a function: a managed runtime's interpreter with Stratus's bootstrap, or
//! the function's own `bootstrap` for `provided` runtimes. Interpreters are found on `PATH`,
//! preferring the exact version the template names.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::config::FunctionConfig;
use crate::process::is_executable;

/// Stratus's runtime interface client for `python3.x`.
const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
/// Stratus's runtime interface client for `nodejsNN.x`.
const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.cjs");
/// The ESM resolve hook the Node bootstrap registers (bare specifiers from `NODE_PATH`).
const NODE_PATH_HOOKS: &str = include_str!("../runtimes/node/node_path_hooks.mjs");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Python,
    Node,
    /// `provided`, `provided.al2`, `provided.al2023`, `go1.x`: the code brings its own runtime.
    Custom,
}

impl Family {
    pub fn of(runtime: &str) -> Option<Family> {
        if let Some(version) = runtime.strip_prefix("python") {
            return version.starts_with('3').then_some(Family::Python);
        }
        if runtime.starts_with("nodejs") {
            return Some(Family::Node);
        }
        if runtime == "provided" || runtime.starts_with("provided.") || runtime == "go1.x" {
            return Some(Family::Custom);
        }
        None
    }
}

/// How to start one function's processes.
#[derive(Clone, Debug)]
pub struct Launch {
    pub family: Family,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// `AWS_Lambda_python3.12`; none for custom runtimes, as on AWS.
    pub execution_env: Option<String>,
    /// The interpreter's own version (`3.11`, `20`), when known.
    pub interpreter_version: Option<String>,
    /// A one-line note when the host's interpreter is not the version the template names.
    pub warning: Option<String>,
    /// `LAMBDA_RUNTIME_DIR`.
    pub runtime_dir: PathBuf,
}

/// Why a function cannot start; reported as the invocation's error, as AWS reports it.
#[derive(Clone, Debug)]
pub struct LaunchError {
    pub error_type: &'static str,
    pub message: String,
}

/// What an interpreter said about itself.
#[derive(Clone, Debug)]
struct Interpreter {
    /// `3.11`, `20`.
    version: String,
    /// The real executable behind a shim (pyenv, asdf), so each cold start skips the shim.
    executable: Option<PathBuf>,
}

/// Interpreters already asked, so each is run once per Stratus process (callers asking while it
/// runs wait for its answer).
#[derive(Default)]
pub struct Interpreters {
    known: Mutex<HashMap<PathBuf, Arc<OnceCell<Option<Interpreter>>>>>,
}

impl Interpreters {
    async fn ask(&self, program: &Path, family: Family, host_path: &str) -> Option<Interpreter> {
        let cell = match self.known.lock() {
            Ok(mut known) => Arc::clone(known.entry(program.to_path_buf()).or_default()),
            Err(_) => Arc::new(OnceCell::new()),
        };
        cell.get_or_init(|| probe(program, family, host_path)).await.clone()
    }
}

/// Runs the interpreter to learn its version and real executable.
async fn probe(program: &Path, family: Family, host_path: &str) -> Option<Interpreter> {
    let mut command = tokio::process::Command::new(program);
    match family {
        // -S: the answer does not depend on `site`, which is most of Python's start-up.
        Family::Python => command.args([
            "-S",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)",
        ]),
        _ => command.args(["-p", "process.versions.node.split('.')[0] + '\\n' + process.execPath"]),
    };
    // Shims need PATH (and HOME) to find their interpreter.
    command
        .env_clear()
        .env("PATH", host_path)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(home) = std::env::var_os("HOME") {
        command.env("HOME", home);
    }
    match crate::process::helper_output(&mut command).await {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            let mut lines = text.lines();
            let version = lines.next().unwrap_or("").trim().to_string();
            let executable = lines
                .next()
                .map(|l| PathBuf::from(l.trim()))
                .filter(|p| is_executable(p));
            (!version.is_empty()).then_some(Interpreter { version, executable })
        }
        _ => None,
    }
}

/// Finds `name` in the directories of `path` (a `PATH` value).
pub fn find_on_path(name: &str, path: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Writes the bootstraps into `cache_dir/runtimes/<digest>/` (once per content) and returns
/// that folder.
pub fn install_bootstraps(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let files = [
        ("bootstrap.py", PYTHON_BOOTSTRAP),
        ("bootstrap.cjs", NODE_BOOTSTRAP),
        ("node_path_hooks.mjs", NODE_PATH_HOOKS),
    ];
    let digest = files.iter().fold(0u32, |digest, (_, content)| {
        digest.rotate_left(7) ^ fnv1a(content.as_bytes())
    });
    let dir = cache_dir.join("runtimes").join(format!("{digest:08x}"));
    if files.iter().all(|(name, _)| dir.join(name).is_file()) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    for (name, content) in files {
        // Write then rename, so a concurrent Stratus never runs half a file.
        let partial = dir.join(format!("{name}.{}.partial", std::process::id()));
        std::fs::write(&partial, content)?;
        std::fs::rename(&partial, dir.join(name))?;
    }
    Ok(dir)
}

/// FNV-1a, enough to name a cache folder after the bootstraps' content.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The Python bootstrap compiled for this interpreter (`bootstrap.cpython-311.pyc`), made once:
/// compiling the script on every cold start would cost Python 7–11 ms each time. Falls back to
/// the source when compiling fails.
async fn compiled_bootstrap(program: &Path, runtime_dir: &Path, version: &str) -> PathBuf {
    let source = runtime_dir.join("bootstrap.py");
    let compiled = runtime_dir.join(format!("bootstrap.cpython-{}.pyc", version.replace('.', "")));
    if compiled.is_file() {
        return compiled;
    }
    let partial = runtime_dir.join(format!("bootstrap.{}.{}.partial.pyc", version, std::process::id()));
    let script = "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)";
    let mut command = tokio::process::Command::new(program);
    command
        .args(["-c", script])
        .arg(&source)
        .arg(&partial)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let status = crate::process::helper_status(&mut command).await;
    if status.is_ok_and(|s| s.success()) && std::fs::rename(&partial, &compiled).is_ok() {
        return compiled;
    }
    let _ = std::fs::remove_file(&partial);
    source
}

/// The command line Lambda's own Node.js bootstrap gives `node`: `global.gc` exposed, 80 KiB
/// HTTP headers, and the heap sized from the function's memory (a tenth for the young generation,
/// in two semi-spaces, the rest for the old one), so a function runs out of JavaScript heap
/// where it would on Lambda rather than at the host's multi-gigabyte default.
fn node_args(memory_mb: u64, bootstrap: &Path) -> Vec<OsString> {
    let new_space = memory_mb / 10;
    vec![
        "--expose-gc".into(),
        "--max-http-header-size".into(),
        "81920".into(),
        format!("--max-semi-space-size={}", new_space / 2).into(),
        format!("--max-old-space-size={}", memory_mb - new_space).into(),
        bootstrap.as_os_str().to_owned(),
    ]
}

/// Decides how to start `function`.
pub async fn resolve(
    function: &FunctionConfig,
    runtime_dir: &Path,
    host_path: &str,
    interpreters: &Interpreters,
) -> Result<Launch, LaunchError> {
    let runtime = function.runtime.as_str();
    let family = Family::of(runtime).ok_or_else(|| LaunchError {
        error_type: "Runtime.InvalidRuntime",
        message: format!(
            "Stratus cannot run the runtime {runtime} locally: it runs python3.x, nodejsNN.x, provided.al2, provided.al2023 and go1.x"
        ),
    })?;
    match family {
        Family::Python => {
            let wanted = runtime.trim_start_matches("python");
            let mut found = None;
            for name in [runtime, "python3"] {
                if let Some(program) = find_on_path(name, host_path)
                    && let Some(interpreter) = interpreters.ask(&program, family, host_path).await
                {
                    found = Some((program, interpreter));
                    break;
                }
            }
            let Some((program, interpreter)) = found else {
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!("Stratus found no working {runtime} or python3 on PATH to run {runtime}"),
                });
            };
            let warning = (interpreter.version != wanted).then(|| {
                format!(
                    "{} runs on the host's Python {} ({}), not {wanted}",
                    function.name,
                    interpreter.version,
                    program.display()
                )
            });
            let program = interpreter.executable.clone().unwrap_or(program);
            let bootstrap = compiled_bootstrap(&program, runtime_dir, &interpreter.version).await;
            Ok(Launch {
                family,
                program,
                args: vec![bootstrap.into_os_string()],
                execution_env: Some(format!("AWS_Lambda_{runtime}")),
                interpreter_version: Some(interpreter.version),
                warning,
                runtime_dir: runtime_dir.to_path_buf(),
            })
        }
        Family::Node => {
            let wanted = runtime.trim_start_matches("nodejs").trim_end_matches(".x");
            let mut found = None;
            for name in [format!("node{wanted}"), "node".to_string()] {
                if let Some(program) = find_on_path(&name, host_path)
                    && let Some(interpreter) = interpreters.ask(&program, family, host_path).await
                {
                    found = Some((program, interpreter));
                    break;
                }
            }
            let Some((program, interpreter)) = found else {
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!("Stratus found no working node on PATH to run {runtime}"),
                });
            };
            let warning = (!wanted.is_empty() && interpreter.version != wanted).then(|| {
                format!(
                    "{} runs on the host's Node.js {} ({}), not {wanted}",
                    function.name,
                    interpreter.version,
                    program.display()
                )
            });
            Ok(Launch {
                family,
                program: interpreter.executable.clone().unwrap_or(program),
                args: node_args(function.memory_mb, &runtime_dir.join("bootstrap.cjs")),
                execution_env: Some(format!("AWS_Lambda_{runtime}")),
                interpreter_version: Some(interpreter.version),
                warning,
                runtime_dir: runtime_dir.to_path_buf(),
            })
        }
        Family::Custom => {
            let mut candidates = Vec::new();
            if runtime == "go1.x" {
                candidates.push(function.code_dir.join(&function.handler));
            }
            candidates.push(function.code_dir.join("bootstrap"));
            candidates.extend(function.layer_dirs.iter().map(|dir| dir.join("bootstrap")));
            let Some(program) = candidates.iter().find(|c| is_executable(c)).cloned() else {
                let listed: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
                let hint = match candidates.iter().find(|c| c.is_file()) {
                    Some(file) => format!(" ({} is not executable: chmod +x it)", file.display()),
                    None => String::new(),
                };
                return Err(LaunchError {
                    error_type: "Runtime.InvalidEntrypoint",
                    message: format!("Couldn't find valid bootstrap(s): [{}]{hint}", listed.join(" ")),
                });
            };
            Ok(Launch {
                family,
                program,
                args: Vec::new(),
                execution_env: None,
                interpreter_version: None,
                warning: None,
                runtime_dir: runtime_dir.to_path_buf(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_map_to_families() {
        let cases = [
            ("python3.8", Some(Family::Python)),
            ("python3.14", Some(Family::Python)),
            ("python2.7", None),
            ("nodejs24.x", Some(Family::Node)),
            ("nodejs", Some(Family::Node)),
            ("provided.al2023", Some(Family::Custom)),
            ("provided", Some(Family::Custom)),
            ("go1.x", Some(Family::Custom)),
            ("java21", None),
            ("ruby3.3", None),
        ];
        for (runtime, family) in cases {
            assert_eq!(Family::of(runtime), family, "{runtime}");
        }
    }
}
