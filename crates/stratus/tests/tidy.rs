//! Conventions turned into a test: every source file says what it is for, nothing unfinished
//! lands, and the crates keep their dependency rules.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_source_file_opens_with_a_module_doc_and_has_no_leftovers() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(files.len() > 10, "found only {} files", files.len());
    let mut problems = Vec::new();
    let banned = [
        concat!("todo", "!("),
        concat!("dbg", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore]"),
    ];
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text.starts_with("//!") {
            problems.push(format!(
                "{}: does not start with a //! line saying what it is for",
                file.display()
            ));
        }
        for word in banned {
            if text.contains(word) {
                problems.push(format!("{}: contains {word}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_engine_and_storage_crates_keep_their_dependency_rules() {
    let manifest = |name: &str| {
        std::fs::read_to_string(workspace_root().join("crates").join(name).join("Cargo.toml")).unwrap_or_default()
    };
    let dynamodb = manifest("dynamodb");
    for forbidden in ["hyper", "serde_json", "tokio", "aws-sdk"] {
        assert!(
            !dynamodb.contains(forbidden),
            "the DynamoDB engine must not depend on {forbidden}"
        );
    }
    let storage = manifest("storage");
    assert!(
        !storage.contains("stratus-dynamodb"),
        "storage knows nothing of DynamoDB"
    );
    for crate_name in ["storage", "dynamodb", "aws"] {
        assert!(
            !manifest(crate_name).contains("anyhow"),
            "anyhow belongs to the binary only ({crate_name})"
        );
    }
}

#[test]
fn unsafe_code_and_process_spawning_stay_where_they_are_explained() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let path = file.to_string_lossy().replace('\\', "/");
        let is_process_module = path.ends_with("crates/lambda/src/process.rs");
        if text.contains(concat!("allow(", "unsafe_code)")) && !is_process_module {
            problems.push(format!("{path}: unsafe code outside crates/lambda/src/process.rs"));
        }
        let in_lambda = path.contains("crates/lambda/src/");
        let is_tidy = path.ends_with("tests/tidy.rs");
        for spawner in [concat!("process::", "Command"), concat!("Command", "::new(")] {
            if text.contains(spawner) && !in_lambda && !is_tidy {
                problems.push(format!(
                    "{path}: spawns processes ({spawner}); only the lambda crate does"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_gateway_and_lambda_crates_keep_their_dependency_rules() {
    let manifest = |name: &str| {
        std::fs::read_to_string(workspace_root().join("crates").join(name).join("Cargo.toml")).unwrap_or_default()
    };
    for forbidden in ["stratus-dynamodb", "stratus-storage", "stratus-template", "anyhow"] {
        assert!(
            !manifest("gateway").contains(forbidden),
            "the gateway must not depend on {forbidden}"
        );
        assert!(
            !manifest("lambda").contains(forbidden),
            "the lambda crate must not depend on {forbidden}"
        );
    }
    assert!(!manifest("template").contains("tokio"), "the template crate is pure");
}
