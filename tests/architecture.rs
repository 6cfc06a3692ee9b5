//! The layering rule of DESIGN.md §3, enforced: a module never names a layer above it, and the
//! lower layers stay free of GUI, GPU, async-runtime and AWS crates.
//!
//! ```text
//! geometry ─► formats ─► job, annotation ─► store, render ─► ui ─► app      cli beside ui/app
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// For each top-level module: the crate modules it may name.
fn allowed_modules() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        // The global allocator (huge-page advice for large blocks): below every layer.
        ("alloc", &[][..]),
        ("geometry", &[][..]),
        ("formats", &["geometry"][..]),
        ("job", &["geometry", "formats"][..]),
        ("annotation", &["geometry", "formats", "job"][..]),
        ("store", &["geometry", "formats", "job", "annotation"][..]),
        ("render", &["geometry", "formats"][..]),
        ("ui", &["geometry", "formats", "job", "annotation", "store", "render"][..]),
        ("app", &["geometry", "formats", "job", "annotation", "store", "render", "ui"][..]),
        ("cli", &["geometry", "formats", "job", "annotation", "store", "render"][..]),
    ])
}

/// For each top-level module: external crates it must not name.
fn forbidden_crates(module: &str) -> &'static [&'static str] {
    const GUI_GPU_ASYNC_AWS: &[&str] =
        &["egui", "eframe", "egui_wgpu", "wgpu", "tokio", "aws_sdk_s3", "aws_config"];
    match module {
        "alloc" | "geometry" | "formats" | "job" | "annotation" => GUI_GPU_ASYNC_AWS,
        "store" => &["egui", "eframe", "egui_wgpu", "wgpu"],
        "render" => &["egui", "eframe", "aws_sdk_s3", "aws_config", "tokio"],
        "ui" | "app" => &["aws_sdk_s3", "aws_config"],
        "cli" => &["egui", "eframe", "egui_wgpu", "aws_sdk_s3", "aws_config"],
        _ => &[],
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments (line comments and doc comments), so prose may mention
/// any layer.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        (!code.trim().is_empty()).then_some((i + 1, code))
    })
}

/// Every identifier that follows `prefix` (e.g. `crate::`) on a line.
fn names_after<'a>(line: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let before_ok = at == 0
            || !rest[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = &rest[at + prefix.len()..];
        let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        if before_ok && end > 0 {
            names.push(&after[..end]);
        }
        rest = &after[end..];
    }
    names
}

/// `use egui::…`, `egui::Foo`, `use {egui, wgpu}` forms: identifiers followed by `::`, or used as a
/// bare path root after `use`.
fn external_roots(line: &str) -> Vec<&str> {
    let mut roots = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let preceded_by_path = start >= 2 && &bytes[start - 2..start] == b"::";
            if !preceded_by_path && line[i..].starts_with("::") {
                roots.push(&line[start..i]);
            }
        } else {
            i += 1;
        }
    }
    roots
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed_modules();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(!files.is_empty(), "no sources found under {}", src.display());

    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap_or(file);
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs"))
            .unwrap_or_default();
        let Some(may_use) = allowed.get(top) else {
            // lib.rs and main.rs wire everything together.
            assert!(
                top == "lib" || top == "main",
                "{} belongs to no layer: add `{top}` to tests/architecture.rs and DESIGN.md §3",
                rel.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (line_no, code) in code_lines(&text) {
            for name in names_after(code, "crate::") {
                if name != top && allowed.contains_key(name) && !may_use.contains(&name) {
                    violations.push(format!(
                        "{}:{line_no}: `{top}` uses `crate::{name}`, a layer it must not name",
                        rel.display()
                    ));
                }
            }
            for root in external_roots(code) {
                if forbidden_crates(top).contains(&root) {
                    violations.push(format!(
                        "{}:{line_no}: `{top}` uses the `{root}` crate, which its layer must not",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_violations() {
    assert_eq!(names_after("use crate::store::{ObjectStore};", "crate::"), vec!["store"]);
    assert_eq!(names_after("let x = crate::ui::theme::X; mycrate::a", "crate::"), vec!["ui"]);
    assert_eq!(external_roots("use egui::Ui; let a = b::c::d;"), vec!["egui", "b"]);
    assert!(code_lines("// use crate::app::X;\n//! crate::ui\n").next().is_none());
}
