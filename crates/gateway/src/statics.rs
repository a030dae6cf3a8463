//! A frontend's static files on the API port, so a browser app and its API share an origin.
//! A path is decoded, refused if any segment is `..` or hidden by an absolute or backslash
//! trick, joined to the folder, and checked (after resolving symlinks) to still be inside it.

use std::path::{Component, Path, PathBuf};

use crate::decode::percent_decode;

/// The file a request path names inside `root`, if it exists and stays inside.
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(request_path);
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let relative = decoded.trim_start_matches('/');
    let mut candidate = root.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => candidate.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if candidate.is_dir() {
        candidate.push("index.html");
    }
    let root = root.canonicalize().ok()?;
    let resolved = candidate.canonicalize().ok()?;
    (resolved.starts_with(&root) && resolved.is_file()).then_some(resolved)
}

/// The Content-Type for a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_escape_the_folder() {
        let base = std::env::temp_dir().join(format!("stratus-static-test-{}", std::process::id()));
        let root = base.join("site");
        let _ = std::fs::create_dir_all(root.join("css"));
        let _ = std::fs::write(root.join("index.html"), "<h1>hi</h1>");
        let _ = std::fs::write(root.join("css/app.css"), "body{}");
        let _ = std::fs::write(base.join("secret.txt"), "no");
        assert!(resolve(&root, "/").is_some_and(|p| p.ends_with("index.html")));
        assert!(resolve(&root, "/css/app.css").is_some());
        assert!(resolve(&root, "/css/%61pp.css").is_some());
        for bad in [
            "/../secret.txt",
            "/css/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/..%2fsecret.txt",
            "/%2e%2e%5csecret.txt",
            "/missing.html",
            "/css/app.css%00.html",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(base.join("secret.txt"), root.join("link.txt"));
            assert_eq!(resolve(&root, "/link.txt"), None, "a symlink out of the folder");
        }
        assert_eq!(content_type(Path::new("a/app.js")), "text/javascript; charset=utf-8");
        let _ = std::fs::remove_dir_all(&base);
    }
}
