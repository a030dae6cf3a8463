//! The template corpus (`tests/templates/`): every valid template's resolved model and every
//! invalid template's diagnostics are compared with the `expected.txt` golden beside it.
//! Refresh with `UPDATE_EXPECT=1 cargo test -p stratus-template --test corpus`, then review the
//! diff by hand against the documentation facts in each template's header.

use std::path::{Path, PathBuf};

use stratus_template::model::App;
use stratus_template::render::{render, render_diagnostics};
use stratus_template::{LoadOptions, find_template, load};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/templates")
}

fn cases(kind: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus().join(kind))
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn options() -> LoadOptions {
    LoadOptions {
        stack_name: Some("corpus-stack".to_string()),
        ..LoadOptions::default()
    }
}

fn check(dir: &Path, actual: &str, failures: &mut Vec<String>) {
    // Regression (CI failed on a clean checkout elsewhere): a golden must not depend on where the
    // repository lives, so no absolute path of this machine may appear in a rendered model.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let checkout = checkout.canonicalize().unwrap_or(checkout);
    if actual.contains(&*checkout.to_string_lossy()) || actual.contains(env!("CARGO_MANIFEST_DIR")) {
        failures.push(format!(
            "{}: the output names an absolute path of this checkout\n{actual}",
            dir.display()
        ));
        return;
    }
    let golden = dir.join("expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let _ = std::fs::write(&golden, actual);
        return;
    }
    match std::fs::read_to_string(&golden) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{}: differs from expected.txt\n--- expected\n{expected}--- actual\n{actual}",
            dir.display()
        )),
        Err(_) => failures.push(format!(
            "{}: no expected.txt (run with UPDATE_EXPECT=1 and review it)",
            dir.display()
        )),
    }
}

#[test]
fn valid_templates_resolve_to_their_golden_models() {
    let dirs = cases("valid");
    assert!(dirs.len() >= 40, "the corpus has only {} valid templates", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        let Some(template) = find_template(dir) else {
            failures.push(format!("{}: no template", dir.display()));
            continue;
        };
        let env_vars = dir.join("env.json");
        let mut options = options();
        if env_vars.is_file() {
            options.env_vars = Some(env_vars);
        }
        let actual = match load(&template, &options) {
            Ok(app) => render(&app),
            Err(diagnostics) => format!("NOT VALID\n{}", render_diagnostics(&diagnostics, &App::default())),
        };
        check(dir, &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Invalid templates whose problem Stratus does not detect yet, one directory name a line in
/// `tests/templates/known-gaps.txt`. They must still load (so a fix shows up as a failure here
/// and the line is removed), and they have no golden file.
fn known_gaps() -> Vec<String> {
    std::fs::read_to_string(corpus().join("known-gaps.txt"))
        .unwrap_or_default()
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn invalid_templates_fail_with_their_golden_messages() {
    let dirs = cases("invalid");
    assert!(dirs.len() >= 15, "the corpus has only {} invalid templates", dirs.len());
    let gaps = known_gaps();
    let mut failures = Vec::new();
    for dir in &dirs {
        let template = find_template(dir).unwrap_or_else(|| dir.join("template.yaml"));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = load(&template, &options());
        if gaps.contains(&name) {
            if result.is_err() {
                failures.push(format!(
                    "{name}: now refused — remove it from known-gaps.txt and add its golden"
                ));
            }
            continue;
        }
        let actual = match result {
            Ok(app) => format!("UNEXPECTEDLY VALID\n{}", render(&app)),
            Err(diagnostics) => render_diagnostics(&diagnostics, &App::default()),
        };
        if actual.starts_with("UNEXPECTEDLY VALID") {
            failures.push(format!("{name}: loads, but it is broken on purpose"));
            continue;
        }
        check(dir, &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// No input panics: every corpus template, mutated at random (bytes dropped, lines duplicated
/// or swapped, tags and brackets inserted), loads to a model or to diagnostics.
#[test]
fn mutated_templates_never_panic() {
    let scratch = std::env::temp_dir().join(format!("stratus-template-mutations-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let inserts = [
        "!Ref ",
        "!Sub '${",
        "[",
        "{",
        "- ",
        ": ",
        "!GetAtt A.",
        "\t",
        "Fn::If",
        "${AWS::Region}",
        "\"",
        "&a ",
        "*a",
    ];
    let mut loads = 0;
    for dir in cases("valid").into_iter().chain(cases("invalid")) {
        let Some(template) = find_template(&dir) else { continue };
        let Ok(text) = std::fs::read_to_string(&template) else {
            continue;
        };
        let extension = template
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("yaml")
            .to_string();
        for round in 0..40 {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for _ in 0..(1 + next() % 3) {
                if lines.is_empty() {
                    break;
                }
                let index = (next() as usize) % lines.len();
                match next() % 4 {
                    0 => {
                        lines.remove(index);
                    }
                    1 => {
                        let copy = lines[index].clone();
                        lines.insert(index, copy);
                    }
                    2 => {
                        let other = (next() as usize) % lines.len();
                        lines.swap(index, other);
                    }
                    _ => {
                        let insert = inserts[(next() as usize) % inserts.len()];
                        let line = &mut lines[index];
                        let at = line
                            .char_indices()
                            .map(|(i, _)| i)
                            .nth((next() as usize) % (line.chars().count() + 1))
                            .unwrap_or(line.len());
                        line.insert_str(at, insert);
                    }
                }
            }
            let path = scratch.join(format!("mutated-{round}.{extension}"));
            if std::fs::write(&path, lines.join("\n")).is_ok() {
                let options = LoadOptions {
                    stack_name: Some("fuzz".to_string()),
                    ..LoadOptions::default()
                };
                let _ = load(&path, &options);
                loads += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(loads > 1000, "only {loads} mutated templates were loaded");
}
