//! What a function's code needs besides itself, installed once into the cache: the packages of
//! its `requirements.txt` / `package.json` (what `sam build` would do), and the AWS SDK that
//! Lambda's managed runtimes include (boto3; the `@aws-sdk/*` v3 clients) when the host lacks it.
//! Layers' content is put on the search paths as AWS mounts it under `/opt`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::FunctionConfig;
use crate::logs::LogBook;
use crate::runtime::{Family, Launch};

/// Folders skipped when scanning code (installed packages, caches, build output).
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    "__pycache__",
    ".venv",
    "venv",
    ".aws-sam",
    ".stratus",
    ".pytest_cache",
    ".mypy_cache",
];
/// Files looked at when scanning code for SDK imports.
const SCANNED_FILES_MAX: usize = 2000;
const SCANNED_FILE_BYTES_MAX: u64 = 2 * 1024 * 1024;

/// One install at a time: functions sharing a cache folder must not install into it together.
static INSTALLS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The extra search paths and `PATH` entries a function's processes get.
#[derive(Clone, Debug, Default)]
pub struct Paths {
    /// `PYTHONPATH` or `NODE_PATH` entries, in lookup order.
    pub modules: Vec<PathBuf>,
    /// `PATH` entries before the host's (layers' `bin`).
    pub bin: Vec<PathBuf>,
    /// `LD_LIBRARY_PATH` entries (layers' `lib`).
    pub lib: Vec<PathBuf>,
}

pub struct Context<'a> {
    pub function: &'a FunctionConfig,
    pub launch: &'a Launch,
    pub cache_dir: &'a Path,
    pub install: bool,
    pub logs: &'a LogBook,
}

impl Context<'_> {
    fn note(&self, text: String) {
        self.logs.push(None, text, true);
    }
}

/// Works out (and installs, when allowed) everything on the function's search paths.
pub async fn prepare(context: &Context<'_>) -> Result<Paths, String> {
    let mut paths = Paths::default();
    let function = context.function;
    for layer in &function.layer_dirs {
        let bin = layer.join("bin");
        if bin.is_dir() {
            paths.bin.push(bin);
        }
        let lib = layer.join("lib");
        if lib.is_dir() {
            paths.lib.push(lib);
        }
    }
    match context.launch.family {
        Family::Python => prepare_python(context, &mut paths).await?,
        Family::Node => prepare_node(context, &mut paths).await?,
        Family::Custom => {}
    }
    Ok(paths)
}

async fn prepare_python(context: &Context<'_>, paths: &mut Paths) -> Result<(), String> {
    let function = context.function;
    let version = context
        .launch
        .interpreter_version
        .clone()
        .unwrap_or_else(|| "3".to_string());
    let requirements = function.code_dir.join("requirements.txt");
    if context.install && has_requirements(&requirements) {
        let digest = digest_files(&[&requirements]);
        let target = context
            .cache_dir
            .join("deps")
            .join(format!("python{version}-{digest:016x}"));
        let program = context.launch.program.clone();
        let requirements_arg = requirements.clone();
        install_once(context, &target, "requirements.txt (pip)", move |partial| {
            let mut command = tokio::process::Command::new(&program);
            command.args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
            ]);
            command.arg("--target").arg(partial).arg("-r").arg(&requirements_arg);
            command
        })
        .await?;
        paths.modules.push(target);
    }
    for layer in &function.layer_dirs {
        let site = layer
            .join("python/lib")
            .join(format!("python{version}"))
            .join("site-packages");
        if site.is_dir() {
            paths.modules.push(site);
        }
        let python = layer.join("python");
        if python.is_dir() {
            paths.modules.push(python);
        }
    }
    if context.install
        && code_mentions(
            &function.code_dir,
            &["py"],
            &["import boto3", "from boto3", "import botocore", "from botocore"],
        )
    {
        let mut search: Vec<PathBuf> = vec![function.code_dir.clone()];
        search.extend(paths.modules.iter().cloned());
        let sdk = context.cache_dir.join("sdk").join(format!("python{version}"));
        if !python_finds(&context.launch.program, "boto3", &search).await {
            let program = context.launch.program.clone();
            install_once(
                context,
                &sdk,
                "the AWS SDK for Python (boto3, as Lambda's runtime has it)",
                move |partial| {
                    let mut command = tokio::process::Command::new(&program);
                    command.args([
                        "-m",
                        "pip",
                        "install",
                        "--disable-pip-version-check",
                        "--no-input",
                        "--quiet",
                    ]);
                    command.arg("--target").arg(partial).arg("boto3");
                    command
                },
            )
            .await?;
        }
        if sdk.is_dir() {
            // Last, as Lambda's runtime copy comes after the function's own packages.
            paths.modules.push(sdk);
        }
    }
    Ok(())
}

async fn prepare_node(context: &Context<'_>, paths: &mut Paths) -> Result<(), String> {
    let function = context.function;
    let package = function.code_dir.join("package.json");
    let own_modules = function.code_dir.join("node_modules");
    if context.install && package.is_file() && !own_modules.is_dir() && has_node_dependencies(&package) {
        let lock = function.code_dir.join("package-lock.json");
        let digest = digest_files(&[&package, &lock]);
        let target = context.cache_dir.join("deps").join(format!("node-{digest:016x}"));
        let package = package.clone();
        let lock = lock.clone();
        install_once(context, &target, "package.json (npm)", move |partial| {
            let _ = std::fs::create_dir_all(partial);
            let _ = std::fs::copy(&package, partial.join("package.json"));
            if lock.is_file() {
                let _ = std::fs::copy(&lock, partial.join("package-lock.json"));
            }
            let mut command = tokio::process::Command::new("npm");
            command
                .args(["install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(partial);
            command
        })
        .await?;
        paths.modules.push(target.join("node_modules"));
    }
    let major = context.launch.interpreter_version.clone().unwrap_or_default();
    for layer in &function.layer_dirs {
        for candidate in [
            layer.join("nodejs").join(format!("node{major}")).join("node_modules"),
            layer.join("nodejs/node_modules"),
        ] {
            if candidate.is_dir() {
                paths.modules.push(candidate);
            }
        }
    }
    if context.install {
        let (wanted, scan_complete) = sdk_packages_and_completeness(&function.code_dir);
        // A scan that could not read everything may have missed an import.
        let code_may_import_sdk = !wanted.is_empty() || !scan_complete;
        let _installing = if wanted.is_empty() {
            None
        } else {
            Some(INSTALLS.lock().await)
        };
        let sdk = context.cache_dir.join("sdk").join("node");
        let mut roots: Vec<PathBuf> = vec![own_modules.clone()];
        roots.extend(paths.modules.iter().cloned());
        roots.push(sdk.join("node_modules"));
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|name| !roots.iter().any(|root| root.join(name).join("package.json").is_file()))
            .collect();
        if !missing.is_empty() {
            install_node_sdk(context, &sdk, &missing).await?;
        }
        // Only for a function that may import it: on Node before 22.15 a folder on NODE_PATH
        // outside the code's own node_modules chain makes an ES-module handler's bootstrap start
        // a loader thread (40-90 ms of every cold start), which functions that never touch the
        // SDK should not pay because another function once had it installed.
        let cached = sdk.join("node_modules");
        if cached.is_dir()
            && (code_may_import_sdk
                || !function.layer_dirs.is_empty()
                || std::iter::once(&own_modules)
                    .chain(paths.modules.iter())
                    .any(|dir| packages_declare_sdk(dir)))
        {
            paths.modules.push(cached);
        }
    }
    Ok(())
}

/// Packages that a `node_modules` folder holds at most, for [`packages_declare_sdk`].
const SCANNED_PACKAGES_MAX: usize = 5000;

/// Whether a package in `modules` (a `node_modules` folder) names an `@aws-sdk/` package in its
/// `package.json`: a dependency, or a peer dependency on the runtime's own SDK.
fn packages_declare_sdk(modules: &Path) -> bool {
    let mut manifests = Vec::new();
    let Ok(entries) = std::fs::read_dir(modules) else {
        return false;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('@') {
            // A scope: its packages are one level down (`@aws-sdk` itself is the SDK's).
            if entry.file_name() == "@aws-sdk" {
                return true;
            }
            if let Ok(scoped) = std::fs::read_dir(&path) {
                manifests.extend(scoped.flatten().map(|e| e.path().join("package.json")));
            }
        } else {
            manifests.push(path.join("package.json"));
        }
        if manifests.len() >= SCANNED_PACKAGES_MAX {
            break;
        }
    }
    manifests
        .iter()
        .take(SCANNED_PACKAGES_MAX)
        .any(|manifest| std::fs::read_to_string(manifest).is_ok_and(|text| text.contains("\"@aws-sdk/")))
}

/// Installs `@aws-sdk/*` packages into the shared SDK folder (which grows as functions need
/// more clients).
async fn install_node_sdk(context: &Context<'_>, sdk: &Path, packages: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(sdk).map_err(|e| format!("cannot create {}: {e}", sdk.display()))?;
    let manifest = sdk.join("package.json");
    if !manifest.is_file() {
        std::fs::write(&manifest, "{\"name\":\"stratus-aws-sdk\",\"private\":true}\n")
            .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    }
    let started = Instant::now();
    context.note(format!(
        "Installing {} for {} (the AWS SDK v3 as Lambda's Node.js runtime has it) with npm…",
        packages.join(", "),
        context.function.name
    ));
    let mut command = tokio::process::Command::new("npm");
    command
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--save"])
        .args(packages)
        .current_dir(sdk);
    run_installer(command).await.map_err(|output| {
        format!(
            "Stratus could not install {} for function {} with npm: {output}",
            packages.join(", "),
            context.function.name
        )
    })?;
    context.note(format!(
        "Installed {} in {:.1} s",
        packages.join(", "),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Runs an installer into `target` unless a completed install is there: into a partial folder
/// first, renamed when done, so an interrupted install is never used.
async fn install_once<F>(context: &Context<'_>, target: &Path, what: &str, command: F) -> Result<(), String>
where
    F: FnOnce(&Path) -> tokio::process::Command,
{
    let marker = target.join(".stratus-complete");
    if marker.is_file() {
        return Ok(());
    }
    let _installing = INSTALLS.lock().await;
    if marker.is_file() {
        return Ok(());
    }
    let partial = target.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    if let Some(parent) = partial.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let started = Instant::now();
    context.note(format!(
        "Installing {what} for {} into {}…",
        context.function.name,
        target.display()
    ));
    let command = command(&partial);
    if let Err(output) = run_installer(command).await {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(format!(
            "Stratus could not install {what} for function {}: {output}",
            context.function.name
        ));
    }
    std::fs::create_dir_all(&partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let _ = std::fs::write(partial.join(".stratus-complete"), b"");
    let _ = std::fs::remove_dir_all(target);
    std::fs::rename(&partial, target).map_err(|e| format!("cannot move the install into {}: {e}", target.display()))?;
    context.note(format!("Installed {what} in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Runs an installer to completion; on failure, the last lines of what it printed.
async fn run_installer(mut command: tokio::process::Command) -> Result<(), String> {
    command.stdin(std::process::Stdio::null()).kill_on_drop(true);
    match crate::process::helper_output(&mut command).await {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => {
            let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stdout));
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = lines[lines.len().saturating_sub(6)..].join(" | ");
            Err(format!("{} ({tail})", describe(output.status)))
        }
        Err(error) => Err(format!("cannot run the installer: {error}")),
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    }
}

/// Whether a requirements file names at least one package (not only comments).
fn has_requirements(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .any(|line| !line.is_empty())
    })
}

fn has_node_dependencies(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    json.get("dependencies")
        .and_then(|d| d.as_object())
        .is_some_and(|d| !d.is_empty())
}

/// FNV-1a over the files' contents (missing files count as empty).
fn digest_files(files: &[&Path]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        for byte in std::fs::read(file).unwrap_or_default() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Source files under `dir` with one of `extensions`, bounded in count and size.
fn source_files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    source_files_and_completeness(dir, extensions).0
}

/// [`source_files`], and whether they are all of them (no file over the size bound, the count
/// bound not reached).
fn source_files_and_completeness(dir: &Path, extensions: &[&str]) -> (Vec<PathBuf>, bool) {
    let mut found = Vec::new();
    let mut complete = true;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            if found.len() >= SCANNED_FILES_MAX {
                return (found, false);
            }
            let path = entry.path();
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                    pending.push(path);
                }
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                if entry.metadata().is_ok_and(|m| m.len() <= SCANNED_FILE_BYTES_MAX) {
                    found.push(path);
                } else {
                    complete = false;
                }
            }
        }
    }
    (found, complete)
}

fn code_mentions(dir: &Path, extensions: &[&str], needles: &[&str]) -> bool {
    source_files(dir, extensions)
        .iter()
        .any(|file| std::fs::read_to_string(file).is_ok_and(|text| needles.iter().any(|needle| text.contains(needle))))
}

/// The `@aws-sdk/<name>` packages the code imports or requires, and whether every source file
/// was read (a bundle over the size bound, or more files than the scan reads, may import more).
fn sdk_packages_and_completeness(dir: &Path) -> (Vec<String>, bool) {
    let mut names = std::collections::BTreeSet::new();
    let (files, mut complete) = source_files_and_completeness(dir, &["js", "mjs", "cjs", "ts", "mts", "cts"]);
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let (found, built) = find_sdk_specifiers(&text);
        names.extend(found);
        // A specifier built at run time may name any package: as if the scan missed one.
        complete &= !built;
    }
    (names.into_iter().collect(), complete)
}

/// The `@aws-sdk/<name>` specifiers in `text`, and whether it also builds one (a template
/// literal such as `@aws-sdk/client-${service}`, which names no package to install but may
/// import any).
fn find_sdk_specifiers(text: &str) -> (Vec<String>, bool) {
    let mut names = Vec::new();
    let mut built = false;
    let mut rest = text;
    while let Some(position) = rest.find("@aws-sdk/") {
        let quoted = position > 0 && matches!(rest.as_bytes()[position - 1], b'\'' | b'"' | b'`');
        let after = &rest[position + "@aws-sdk/".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        let templated = after[name.len()..].starts_with("${");
        if quoted && templated {
            built = true;
        } else if quoted && !name.is_empty() && !name.ends_with('-') {
            names.push(format!("@aws-sdk/{name}"));
        }
        rest = after;
    }
    (names, built)
}

/// Whether the interpreter finds module `name` with `search` on its path (without importing it).
async fn python_finds(program: &Path, name: &str, search: &[PathBuf]) -> bool {
    let python_path = std::env::join_paths(search).unwrap_or_default();
    let mut command = tokio::process::Command::new(program);
    command
        .args([
            "-c",
            &format!("import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('{name}') else 1)"),
        ])
        .env_clear()
        .env("PYTHONPATH", python_path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    crate::process::helper_status(&mut command)
        .await
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_that_declare_the_sdk_are_found() {
        let dir = std::env::temp_dir().join(format!("stratus-deps-sdk-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let write = |package: &str, manifest: &str| {
            let folder = dir.join(package);
            let _ = std::fs::create_dir_all(&folder);
            let _ = std::fs::write(folder.join("package.json"), manifest);
        };
        write("left-pad", r#"{"name":"left-pad","dependencies":{}}"#);
        write("@scope/util", r#"{"name":"@scope/util"}"#);
        assert!(!packages_declare_sdk(&dir));
        // A peer dependency on the runtime's SDK, as Powertools' packages declare.
        write(
            "@aws-lambda-powertools/parameters",
            r#"{"peerDependencies":{"@aws-sdk/client-ssm":">=3.x"}}"#,
        );
        assert!(packages_declare_sdk(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        write("@aws-sdk/client-s3", r#"{"name":"@aws-sdk/client-s3"}"#);
        assert!(packages_declare_sdk(&dir), "the SDK's own scope");
        assert!(!packages_declare_sdk(&dir.join("missing")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn finds_sdk_imports_in_both_module_systems() {
        let text = r#"
            import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
            const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb');
            // see https://github.com/aws/@aws-sdk/readme (not a specifier)
            const s3 = await import(`@aws-sdk/client-s3`);
            const any = await import(`@aws-sdk/client-${service}`);
        "#;
        assert_eq!(
            find_sdk_specifiers(text),
            (
                vec![
                    "@aws-sdk/client-dynamodb".to_string(),
                    "@aws-sdk/lib-dynamodb".to_string(),
                    "@aws-sdk/client-s3".to_string()
                ],
                true
            )
        );
        assert_eq!(
            find_sdk_specifiers("import { S3Client } from '@aws-sdk/client-s3';"),
            (vec!["@aws-sdk/client-s3".to_string()], false)
        );
    }

    #[test]
    fn a_scan_that_skips_a_big_bundle_says_so() {
        let dir = std::env::temp_dir().join(format!("stratus-deps-bundle-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("small.mjs"), "export const handler = async () => 1;\n");
        assert_eq!(sdk_packages_and_completeness(&dir), (Vec::new(), true));
        let bundle = vec![b' '; SCANNED_FILE_BYTES_MAX as usize + 1];
        let _ = std::fs::write(dir.join("bundle.js"), bundle);
        assert_eq!(sdk_packages_and_completeness(&dir), (Vec::new(), false));
        // An import whose name is built at run time: any package may be asked for.
        let _ = std::fs::remove_file(dir.join("bundle.js"));
        let _ = std::fs::write(
            dir.join("small.mjs"),
            "await import(`@aws-sdk/client-${process.env.S}`);\n",
        );
        assert_eq!(sdk_packages_and_completeness(&dir), (Vec::new(), false));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn requirements_with_only_comments_install_nothing() {
        let dir = std::env::temp_dir().join(format!("stratus-deps-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("requirements.txt");
        let _ = std::fs::write(&file, "# nothing\n\n");
        assert!(!has_requirements(&file));
        let _ = std::fs::write(&file, "# pinned\nrequests==2.32.0  # http\n");
        assert!(has_requirements(&file));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
