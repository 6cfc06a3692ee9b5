//! Every WGSL file under `shaders/` parses and validates with naga (no GPU needed), both as the
//! renderers compose it (`common.wgsl` prepended) and as listed in `render::shader::ALL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use groundwork::render::shader;

fn validate(name: &str, source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
}

fn wgsl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            wgsl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wgsl") {
            out.push(path);
        }
    }
}

#[test]
fn every_shader_file_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = Vec::new();
    wgsl_files(&dir, &mut files);
    files.sort();
    assert!(files.len() >= 5, "found only {files:?}");
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        if name == "common.wgsl" {
            validate(&name, &text);
        } else {
            validate(&name, &format!("{}\n{text}", shader::COMMON));
            assert!(
                shader::ALL.iter().any(|(file, _)| *file == name),
                "{name} is not listed in render::shader::ALL"
            );
        }
    }
}

#[test]
fn every_compiled_shader_validates() {
    for (name, source) in shader::ALL {
        validate(name, source);
    }
}
