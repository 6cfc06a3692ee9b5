//! Automated data setup (spec §1.5, §2.3): scan an input prefix through the store and write an
//! input manifest for it, the way Ground Truth's console does.
//!
//! Owns: deciding which objects become data objects, the generated manifest and video-frame
//! sequence files, and the report of what was written and what was skipped and why. Skips are
//! findings (data), not errors; only store failures are errors.
//!
//! What each data kind produces (all in deterministic, byte-wise key order):
//! - [`DataKind::Images`]: one `{"source-ref": "s3://…"}` line per `.jpg`/`.jpeg`/`.png` (any letter
//!   case) of at most [`MAX_IMAGE_BYTES`] (the 40 MB input-image quota, read as MiB).
//! - [`DataKind::Text`]: one `{"source": "…"}` line per non-blank line of each `.txt` file and per
//!   non-blank row of each `.csv` file (RFC 4180 quoting: a quoted field may span lines; the row's
//!   text is used as is, quotes included, and a header row is not recognised). A value over
//!   20,000 characters or a manifest line over 100,000 characters is skipped with its line number.
//! - [`DataKind::VideoClips`]: one `source-ref` line per `.mp4`/`.ogg`/`.webm`.
//! - [`DataKind::VideoFrames`]: the input prefix holds one folder per sequence (spec §2.3,
//!   "existing frames"); each folder's `.jpg`/`.jpeg`/`.png` files (directly inside it, in UTF-8
//!   byte order, at most 2,000) become a sequence file `<folder>/<folder>.json` shaped as spec §2.2
//!   (`seq-no`: the folder's 1-based ordinal among the folders holding frames, so a re-run writes
//!   the same bytes; `prefix`, `number-of-frames`, `frames[{frame-no, frame}]`
//!   with `frame-no` from 1 as in the spec's example; `unix-timestamp` is optional and omitted, as
//!   the capture time is unknown), and the manifest gets one `source-ref` line per sequence file,
//!   for the first 10 folders. An existing sequence file is rewritten only when byte-identical:
//!   a different one is left alone and its folder skipped.
//!
//! The manifest is written into the input prefix as `dataset-YYMMDDTHHMMSS.manifest` (UTC, from
//! the caller's clock) with a create-only put, after the sequence files it names. At most
//! [`MAX_DATASET_OBJECTS`] data objects are written. When nothing qualifies, nothing is written.
//!
//! JSON is written with `serde_json` directly; the typed manifest structs of `formats` can replace
//! it without changing the bytes (compact lines, `source-ref`/`source` only).
//! Must not depend on `render`, `ui`, `app` or `cli`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::json;

use super::catalog::list_all;
use super::utc::UtcTime;
use super::{ObjectMeta, ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// Input image size quota (spec §1.3: 40 MB), read as 40 MiB.
pub const MAX_IMAGE_BYTES: u64 = 40 * 1024 * 1024;
/// Largest text or CSV file read (a guard against reading huge files into memory).
pub const MAX_TEXT_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest manifest line, in characters (spec §1.1).
pub const MAX_LINE_CHARS: usize = 100_000;
/// Longest attribute value, in characters (spec §1.1).
pub const MAX_VALUE_CHARS: usize = 20_000;
/// Dataset-size quota for every task type but semantic segmentation (spec §1.3).
pub const MAX_DATASET_OBJECTS: usize = 100_000;
/// Frames per video-frame sequence (spec §2.4).
pub const MAX_FRAMES_PER_SEQUENCE: usize = 2_000;
/// Sequences per video-frame manifest (spec §2.4).
pub const MAX_SEQUENCES: usize = 10;

const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];
const VIDEO_EXTENSIONS: [&str; 3] = ["mp4", "ogg", "webm"];

/// The kind of data to set up (the console's data type choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// Images for image task types.
    Images,
    /// Lines of `.txt` files and rows of `.csv` files, for text task types.
    Text,
    /// Video clips, for video classification.
    VideoClips,
    /// Folders of frame images, for video frame object detection and tracking.
    VideoFrames,
}

/// What to scan and when (the clock is the caller's, for the manifest's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSetupRequest {
    /// The prefix to scan; the manifest is written into it. A missing final `/` is added.
    pub input_prefix: ObjectPath,
    /// The data kind.
    pub kind: DataKind,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Where to write the manifest; `None`: `<prefix>dataset-<YYMMDDTHHMMSS>.manifest` (the
    /// console's naming).
    pub manifest: Option<ObjectPath>,
}

/// Why an object (or one line of it) did not become a data object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Not a file type of this data kind (`extension` lower-cased, empty when there is none).
    UnsupportedExtension {
        /// The file's extension.
        extension: String,
    },
    /// The file is empty (or, for text, holds only blank lines).
    EmptyFile,
    /// The file is over the size limit.
    FileTooLarge {
        /// Its size.
        size_bytes: u64,
        /// The limit.
        limit_bytes: u64,
    },
    /// A text file that is not UTF-8.
    NotUtf8,
    /// A text line or CSV row longer than an attribute value may be.
    ValueTooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// The manifest line would be longer than allowed.
    LineTooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// A video file ffmpeg could not split into frames ([`super::video_frames`]).
    VideoNotDecoded {
        /// What ffmpeg said.
        message: String,
    },
    /// The dataset-size quota was reached.
    TooManyObjects {
        /// The quota.
        limit: usize,
    },
    /// A file directly in the input prefix when frames must be in one folder per sequence.
    NotInSequenceFolder,
    /// A file in a sub-folder of a sequence folder (frames sit directly in their folder).
    NestedInSequenceFolder,
    /// A frame past the per-sequence limit.
    TooManyFrames {
        /// The limit.
        limit: usize,
    },
    /// A sequence folder past the per-manifest limit.
    TooManySequences {
        /// The limit.
        limit: usize,
    },
    /// The sequence file this setup writes (from an earlier run): not a frame.
    SequenceFile,
    /// A sequence file exists at the generated name with other content; it was left alone and
    /// its folder left out of the manifest.
    SequenceFileExists,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedExtension { extension } if extension.is_empty() => {
                write!(f, "no file extension, so not a supported file type")
            }
            Self::UnsupportedExtension { extension } => {
                write!(f, "unsupported file type .{extension}")
            }
            Self::EmptyFile => write!(f, "empty file"),
            Self::FileTooLarge { size_bytes, limit_bytes } => {
                write!(f, "{size_bytes} bytes, over the limit of {limit_bytes}")
            }
            Self::NotUtf8 => write!(f, "not UTF-8 text"),
            Self::ValueTooLong { chars, limit } => {
                write!(f, "{chars} characters, over the {limit}-character value limit")
            }
            Self::LineTooLong { chars, limit } => {
                write!(f, "manifest line of {chars} characters, over the {limit}-character limit")
            }
            Self::TooManyObjects { limit } => write!(f, "past the {limit}-object dataset quota"),
            Self::VideoNotDecoded { message } => write!(f, "{message}"),
            Self::NotInSequenceFolder => {
                write!(f, "not inside a sequence folder (one folder per sequence)")
            }
            Self::NestedInSequenceFolder => {
                write!(f, "in a sub-folder of a sequence folder (frames sit directly in it)")
            }
            Self::TooManyFrames { limit } => write!(f, "past the {limit}-frame sequence limit"),
            Self::TooManySequences { limit } => {
                write!(f, "past the {limit}-sequence manifest limit")
            }
            Self::SequenceFile => write!(f, "a generated sequence file, not a frame"),
            Self::SequenceFileExists => {
                write!(f, "a different sequence file already exists at the generated name")
            }
        }
    }
}

/// One thing that did not become a data object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The object (for a sequence folder, its prefix).
    pub path: ObjectPath,
    /// The 1-based line (text) or first line of the row (CSV), when one line is meant.
    pub line: Option<usize>,
    /// Why.
    pub reason: SkipReason,
}

/// What a data setup wrote and what it skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSetupReport {
    /// The manifest written; `None` when no data object qualified (then nothing was written).
    pub manifest: Option<ObjectPath>,
    /// Data objects (manifest lines) written.
    pub data_objects: usize,
    /// Sequence files written (video frames only), in manifest order.
    pub sequence_files: Vec<ObjectPath>,
    /// What was skipped, in key order then line order.
    pub skipped: Vec<Skipped>,
}

/// One future manifest line and where it came from.
struct Item {
    json: String,
    from: ObjectPath,
    line: Option<usize>,
}

/// Scans `request.input_prefix` and writes the manifest (and sequence files) for it.
pub async fn setup_data(
    store: &dyn ObjectStore,
    request: &DataSetupRequest,
) -> Result<DataSetupReport, StoreError> {
    let prefix = as_prefix(&request.input_prefix)?;
    let objects = list_all(store, &prefix).await?;
    let mut skipped = Vec::new();
    let mut sequence_files = Vec::new();
    let items = match request.kind {
        DataKind::Images => {
            files_as_refs(&objects, &IMAGE_EXTENSIONS, Some(MAX_IMAGE_BYTES), &mut skipped)
        }
        DataKind::VideoClips => files_as_refs(&objects, &VIDEO_EXTENSIONS, None, &mut skipped),
        DataKind::Text => text_items(store, &objects, &mut skipped).await?,
        DataKind::VideoFrames => {
            sequences(store, &prefix, &objects, &mut skipped, &mut sequence_files).await?
        }
    };

    let mut lines = Vec::with_capacity(items.len().min(MAX_DATASET_OBJECTS));
    for item in items {
        let chars = item.json.chars().count();
        let reason = if chars > MAX_LINE_CHARS {
            SkipReason::LineTooLong { chars, limit: MAX_LINE_CHARS }
        } else if lines.len() >= MAX_DATASET_OBJECTS {
            SkipReason::TooManyObjects { limit: MAX_DATASET_OBJECTS }
        } else {
            lines.push(item.json);
            continue;
        };
        skipped.push(Skipped { path: item.from, line: item.line, reason });
    }
    skipped
        .sort_by(|a, b| (a.path.key().as_bytes(), a.line).cmp(&(b.path.key().as_bytes(), b.line)));

    let mut report =
        DataSetupReport { manifest: None, data_objects: lines.len(), sequence_files, skipped };
    if lines.is_empty() {
        return Ok(report);
    }
    let manifest = match &request.manifest {
        Some(path) => path.clone(),
        None => prefix.join(&format!(
            "dataset-{}.manifest",
            UtcTime::from_unix_ms(request.now_ms).compact_stamp()
        ))?,
    };
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    let options = PutOptions {
        mode: PutMode::CreateOnly,
        content_type: Some("application/jsonlines".into()),
        kms_key_id: None,
    };
    store.put(&manifest, bytes, options).await?;
    report.manifest = Some(manifest);
    Ok(report)
}

fn as_prefix(path: &ObjectPath) -> Result<ObjectPath, StoreError> {
    if path.key().is_empty() || path.key().ends_with('/') {
        Ok(path.clone())
    } else {
        ObjectPath::new(path.bucket(), format!("{}/", path.key()))
    }
}

/// The lower-cased extension of the key's last segment ("" when it has none).
fn extension(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    match name.rfind('.') {
        Some(i) if i > 0 => name.get(i + 1..).unwrap_or_default().to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn source_ref(path: &ObjectPath) -> String {
    json!({ "source-ref": path.uri() }).to_string()
}

fn files_as_refs(
    objects: &[ObjectMeta],
    extensions: &[&str],
    max_bytes: Option<u64>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Item> {
    let mut items = Vec::new();
    for object in objects {
        let skip = |reason| Skipped { path: object.path.clone(), line: None, reason };
        let ext = extension(object.path.key());
        if !extensions.contains(&ext.as_str()) {
            skipped.push(skip(SkipReason::UnsupportedExtension { extension: ext }));
        } else if object.size == 0 {
            skipped.push(skip(SkipReason::EmptyFile));
        } else if let Some(limit) = max_bytes.filter(|&limit| object.size > limit) {
            skipped.push(skip(SkipReason::FileTooLarge {
                size_bytes: object.size,
                limit_bytes: limit,
            }));
        } else {
            items.push(Item {
                json: source_ref(&object.path),
                from: object.path.clone(),
                line: None,
            });
        }
    }
    items
}

async fn text_items(
    store: &dyn ObjectStore,
    objects: &[ObjectMeta],
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    for object in objects {
        let skip = |line, reason| Skipped { path: object.path.clone(), line, reason };
        let ext = extension(object.path.key());
        if ext != "txt" && ext != "csv" {
            skipped.push(skip(None, SkipReason::UnsupportedExtension { extension: ext }));
            continue;
        }
        if object.size > MAX_TEXT_FILE_BYTES {
            let reason = SkipReason::FileTooLarge {
                size_bytes: object.size,
                limit_bytes: MAX_TEXT_FILE_BYTES,
            };
            skipped.push(skip(None, reason));
            continue;
        }
        let bytes = store.get(&object.path, None).await?.bytes;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            skipped.push(skip(None, SkipReason::NotUtf8));
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let records = if ext == "csv" { csv_rows(text) } else { text_lines(text) };
        let mut any = false;
        for (line, value) in records {
            if value.trim().is_empty() {
                continue;
            }
            any = true;
            let chars = value.chars().count();
            if chars > MAX_VALUE_CHARS {
                let reason = SkipReason::ValueTooLong { chars, limit: MAX_VALUE_CHARS };
                skipped.push(skip(Some(line), reason));
                continue;
            }
            let json = json!({ "source": value }).to_string();
            items.push(Item { json, from: object.path.clone(), line: Some(line) });
        }
        if !any {
            skipped.push(skip(None, SkipReason::EmptyFile));
        }
    }
    Ok(items)
}

/// Lines of a text file with their 1-based numbers, without `\n` / `\r\n`.
fn text_lines(text: &str) -> Vec<(usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)))
        .collect()
}

/// Rows of a CSV file (RFC 4180: a line break inside double quotes belongs to the field) with
/// the 1-based number of each row's first line, without the row terminator.
fn csv_rows(text: &str) -> Vec<(usize, &str)> {
    let mut rows = Vec::new();
    let (mut start, mut line, mut row_line, mut quoted) = (0, 1, 1, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' => {
                if !quoted {
                    let row = text.get(start..i).unwrap_or_default();
                    rows.push((row_line, row.strip_suffix('\r').unwrap_or(row)));
                    start = i + 1;
                    row_line = line + 1;
                }
                line += 1;
            }
            _ => {}
        }
    }
    if let Some(rest) = text.get(start..).filter(|rest| !rest.is_empty()) {
        rows.push((row_line, rest.strip_suffix('\r').unwrap_or(rest)));
    }
    rows
}

async fn sequences(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
    objects: &[ObjectMeta],
    skipped: &mut Vec<Skipped>,
    sequence_files: &mut Vec<ObjectPath>,
) -> Result<Vec<Item>, StoreError> {
    // Folder name -> its frames, in listing (byte-wise key) order.
    let mut folders: BTreeMap<&str, Vec<&ObjectMeta>> = BTreeMap::new();
    for object in objects {
        let skip = |reason| Skipped { path: object.path.clone(), line: None, reason };
        let rel = object.path.key().get(prefix.key().len()..).unwrap_or_default();
        let Some((folder, name)) = rel.split_once('/') else {
            skipped.push(skip(SkipReason::NotInSequenceFolder));
            continue;
        };
        if name.contains('/') {
            skipped.push(skip(SkipReason::NestedInSequenceFolder));
            continue;
        }
        let ext = extension(name);
        if name == format!("{folder}.json") {
            skipped.push(skip(SkipReason::SequenceFile));
        } else if !IMAGE_EXTENSIONS.contains(&ext.as_str()) {
            skipped.push(skip(SkipReason::UnsupportedExtension { extension: ext }));
        } else if object.size == 0 {
            skipped.push(skip(SkipReason::EmptyFile));
        } else {
            folders.entry(folder).or_default().push(object);
        }
    }

    let mut items = Vec::new();
    for (index, (folder, frames)) in folders.into_iter().enumerate() {
        let folder_prefix = prefix.join(&format!("{folder}/"))?;
        if index >= MAX_SEQUENCES {
            skipped.push(Skipped {
                path: folder_prefix,
                line: None,
                reason: SkipReason::TooManySequences { limit: MAX_SEQUENCES },
            });
            continue;
        }
        let (kept, dropped) = frames.split_at(frames.len().min(MAX_FRAMES_PER_SEQUENCE));
        for frame in dropped {
            skipped.push(Skipped {
                path: frame.path.clone(),
                line: None,
                reason: SkipReason::TooManyFrames { limit: MAX_FRAMES_PER_SEQUENCE },
            });
        }
        let frame_entries: Vec<serde_json::Value> = kept
            .iter()
            .enumerate()
            .map(|(i, frame)| {
                let name = frame.path.key().rsplit('/').next().unwrap_or_default();
                json!({ "frame-no": i + 1, "frame": name })
            })
            .collect();
        let sequence = json!({
            "seq-no": index + 1,
            "prefix": folder_prefix.uri(),
            "number-of-frames": kept.len(),
            "frames": frame_entries,
        });
        let mut bytes = serde_json::to_vec_pretty(&sequence).unwrap_or_default();
        bytes.push(b'\n');
        let path = folder_prefix.join(&format!("{folder}.json"))?;
        if !write_sequence_file(store, &path, bytes).await? {
            skipped.push(Skipped {
                path: folder_prefix,
                line: None,
                reason: SkipReason::SequenceFileExists,
            });
            continue;
        }
        items.push(Item { json: source_ref(&path), from: path.clone(), line: None });
        sequence_files.push(path);
    }
    Ok(items)
}

/// Writes a sequence file unless a different one is there; `false` when one is.
async fn write_sequence_file(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    bytes: Vec<u8>,
) -> Result<bool, StoreError> {
    let options = PutOptions {
        mode: PutMode::CreateOnly,
        content_type: Some("application/json".into()),
        kms_key_id: None,
    };
    match store.put(path, bytes.clone(), options).await {
        Ok(_) => Ok(true),
        Err(StoreError::AlreadyExists { .. }) => Ok(store.get(path, None).await?.bytes == bytes),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_case_insensitive() {
        assert_eq!(extension("a/b/IMG.JPeG"), "jpeg");
        assert_eq!(extension("a/b.d/noext"), "");
        assert_eq!(extension(".hidden"), "");
        assert_eq!(extension("x.tar.gz"), "gz");
    }

    #[test]
    fn splits_text_and_csv() {
        assert_eq!(text_lines("a\r\nb\n\nc"), vec![(1, "a"), (2, "b"), (3, ""), (4, "c")]);
        let csv = "id,text\r\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n";
        assert_eq!(
            csv_rows(csv),
            vec![(1, "id,text"), (2, "1,\"two\nlines\""), (4, "2,\"say \"\"hi\"\"\"")]
        );
    }
}
