//! Image semantic segmentation: a per-pixel vote over the workers' colour-coded masks, written as a
//! palette PNG with its `internal-color-map` (spec §5.9, §7.2).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::answers::{AnswerAt, LabelIndex, answers_by_worker};
use super::{HUMAN_ANNOTATED, LabelRecord, ObjectAnswers, RecordContext, base64, png};
use crate::annotation::AnnotationError;

/// The class name of index 0 in every mask: pixels no label covers.
pub const BACKGROUND_CLASS_NAME: &str = "BACKGROUND";

/// The built-in segmentation template's element name.
const SEGMENTATION_ELEMENT: &str = "crowd-semantic-segmentation";

/// BACKGROUND's colour in Ground Truth's masks.
const BACKGROUND_COLOR: [u8; 3] = [0xff, 0xff, 0xff];

/// Label colours in Ground Truth's order. The first three are the ones its outputs use for labels
/// 1, 2, 3 (`testdata/gt-conversion-kit/img1_annotated.png`, spec §5.15); the rest continue
/// matplotlib's "tab10" palette those come from.
const LABEL_COLORS: [[u8; 3]; 10] = [
    [0x2c, 0xa0, 0x2c],
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x7f, 0x7f, 0x7f],
    [0xbc, 0xbd, 0x22],
    [0x17, 0xbe, 0xcf],
];

/// A consolidated segmentation: the manifest record and the mask file it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationOutput {
    /// Label = the mask's URI; metadata with `internal-color-map`.
    pub record: LabelRecord,
    /// The consolidated mask: an 8-bit palette PNG whose index is the class (0 = BACKGROUND) and
    /// whose palette holds each class's `hex-color`, so it reads both as indices and as RGB.
    pub mask_png: Vec<u8>,
}

/// The colour of each class of a segmentation job with `label_count` labels: index 0 is BACKGROUND
/// (`#ffffff`), index `i ≥ 1` is label `i − 1`. Ground Truth's palette first; past it, distinct
/// colours from a golden-angle hue walk. All colours differ.
pub fn segmentation_class_colors(label_count: usize) -> Vec<[u8; 3]> {
    let mut colors = Vec::with_capacity(label_count + 1);
    colors.push(BACKGROUND_COLOR);
    colors.extend(LABEL_COLORS.iter().take(label_count));
    let mut step = 0u32;
    while colors.len() <= label_count {
        let candidate = if step < 100_000 {
            let hue = (f64::from(step) * 0.618_033_988_749_895).fract();
            let value = [0.85, 0.65, 0.45][(step % 3) as usize];
            hsv_to_rgb(hue, 0.7, value)
        } else {
            // Unreachable in practice (at most 256 colours are ever needed); kept so the loop
            // provably ends: walk the colour cube for an unused colour.
            let i = step - 100_000;
            [(i >> 16) as u8, (i >> 8) as u8, i as u8]
        };
        if !colors.contains(&candidate) {
            colors.push(candidate);
        }
        step += 1;
    }
    colors
}

/// HSV (all in `[0, 1]`) to 8-bit RGB.
fn hsv_to_rgb(hue: f64, saturation: f64, value: f64) -> [u8; 3] {
    let h6 = hue * 6.0;
    let chroma = value * saturation;
    let x = chroma * (1.0 - (h6 % 2.0 - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = value - chroma;
    let to_byte = |c: f64| ((c + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to_byte(r), to_byte(g), to_byte(b)]
}

/// `#rrggbb` (lower case).
fn hex_color(color: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", color[0], color[1], color[2])
}

/// Parses `#rrggbb` (either case).
fn parse_hex_color(text: &str) -> Option<[u8; 3]> {
    let digits = text.strip_prefix('#')?;
    if digits.len() != 6 || !digits.is_ascii() {
        return None;
    }
    let byte = |i: usize| digits.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok());
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// One worker's mask as class indices.
struct WorkerMask {
    width_px: u32,
    height_px: u32,
    classes: Vec<u8>,
}

/// Consolidates semantic-segmentation answers (`{"crowd-semantic-segmentation": {"labeledImage":
/// {"pngImageData": "<base64 PNG>"}, "labelMappings": {"<label>": {"color": "#rrggbb"}},
/// "inputImageProperties": {"width", "height"}}}`) for one object.
///
/// Each worker's PNG (any colour type) is read through that worker's `labelMappings`: a pixel whose
/// RGB is a mapped colour gets that label's class; a fully transparent or `#ffffff` pixel is
/// BACKGROUND; any other colour is an error ([`AnnotationError::UnknownMaskColor`]). All masks
/// must have one size, matching each worker's `inputImageProperties` when given.
///
/// Every pixel takes the class most workers gave it. A tie is broken by the tied classes' votes over
/// the pixel's 3×3 neighbourhood (clipped at the border), a small smoothing in the spirit of Ground
/// Truth's ("a smoothing function adds information from neighbouring pixels"), and a remaining tie
/// by the lowest class index. Confidence (one per image, repeated on every class, spec §5.17): the
/// mean over pixels of the winning class's share of the votes, rounded to two decimals; `0.0` when
/// only one worker labeled the object.
///
/// `mask_uri` is where the caller will store [`SegmentationOutput::mask_png`]; it becomes the
/// label value. Metadata: `internal-color-map` (every class, `"0"` = BACKGROUND, colours from
/// [`segmentation_class_colors`]), `type`, `human-annotated`, `creation-date`, `job-name`.
pub fn consolidate_semantic_segmentation(
    object: &ObjectAnswers,
    labels: &[String],
    mask_uri: &str,
    context: &RecordContext,
) -> Result<SegmentationOutput, AnnotationError> {
    let labels = LabelIndex::new(labels)?;
    let class_count = labels.len() + 1;
    if class_count > 256 {
        return Err(AnnotationError::TooManyClasses { count: class_count });
    }
    let answers = answers_by_worker(object)?;
    let mut masks: Vec<WorkerMask> = Vec::with_capacity(answers.len());
    for answer in &answers {
        let at = AnswerAt { object, answer };
        let mask = read_mask(&at, &labels)?;
        if let (Some(first), Some(first_answer)) = (masks.first(), answers.first())
            && (mask.width_px, mask.height_px) != (first.width_px, first.height_px)
        {
            return Err(AnnotationError::MaskSizeMismatch {
                object: object.dataset_object_id.clone(),
                worker: answer.worker_id.clone(),
                width_px: mask.width_px,
                height_px: mask.height_px,
                expected_from: format!("the mask of worker {}", first_answer.worker_id),
                expected_width_px: first.width_px,
                expected_height_px: first.height_px,
            });
        }
        masks.push(mask);
    }
    let (Some(first), workers) = (masks.first(), masks.len()) else {
        return Err(AnnotationError::NoAnswers { object: object.dataset_object_id.clone() });
    };
    let (width_px, height_px) = (first.width_px, first.height_px);
    let class_masks: Vec<&[u8]> = masks.iter().map(|m| m.classes.as_slice()).collect();
    let (consolidated, winning_votes) = vote(&class_masks, width_px as usize, height_px as usize);

    let colors = segmentation_class_colors(labels.len());
    let mask_png =
        png::encode_indexed(width_px, height_px, &colors, &consolidated).map_err(|e| {
            AnnotationError::MaskEncode {
                object: object.dataset_object_id.clone(),
                message: e.to_string(),
            }
        })?;

    let pixels = consolidated.len() as f64;
    let confidence = if workers == 1 {
        0.0
    } else {
        super::round_confidence(winning_votes as f64 / (workers as f64 * pixels))
    };
    let color_map: Map<String, Value> = colors
        .iter()
        .enumerate()
        .map(|(class, color)| {
            let name = if class == 0 { BACKGROUND_CLASS_NAME } else { labels.name(class - 1) };
            (
                class.to_string(),
                json!({ "class-name": name, "confidence": confidence, "hex-color": hex_color(*color) }),
            )
        })
        .collect();

    Ok(SegmentationOutput {
        record: LabelRecord {
            dataset_object_id: object.dataset_object_id.clone(),
            label: json!(mask_uri),
            metadata: json!({
                "internal-color-map": color_map,
                "type": "groundtruth/semantic-segmentation",
                "human-annotated": HUMAN_ANNOTATED,
                "creation-date": context.creation_date,
                "job-name": context.job_name,
            }),
        },
        mask_png,
    })
}

/// Decodes one worker's mask into class indices.
fn read_mask(at: &AnswerAt<'_>, labels: &LabelIndex<'_>) -> Result<WorkerMask, AnnotationError> {
    let (name, element) = at.element(&[SEGMENTATION_ELEMENT], "labeledImage")?;

    // Colour → class, from this worker's labelMappings.
    let mut class_of_color: BTreeMap<[u8; 3], (u8, &str)> = BTreeMap::new();
    let mappings_path = format!("{name}.labelMappings");
    if let Some(mappings) = at.optional_object_field(element, name, "labelMappings")? {
        for (label, mapping) in mappings {
            let path = format!("{mappings_path}.{label}");
            let mapping =
                mapping.as_object().ok_or_else(|| at.invalid(&path, "must be a JSON object"))?;
            let text = at.str_field(mapping, &path, "color")?;
            let color = parse_hex_color(text).ok_or_else(|| {
                at.invalid(&format!("{path}.color"), format!("`{text}` is not a #rrggbb colour"))
            })?;
            let class = labels.index_of(at.object, at.answer, label)? + 1;
            // `class` ≤ 255: the caller checked that BACKGROUND plus the labels fit in a byte.
            let class = u8::try_from(class)
                .map_err(|_| at.invalid(&path, "more labels than an 8-bit mask can index"))?;
            if let Some((_, other)) = class_of_color.insert(color, (class, label.as_str())) {
                return Err(at.invalid(
                    &format!("{path}.color"),
                    format!("labels `{other}` and `{label}` share the colour {text}"),
                ));
            }
        }
    }

    let image_path = format!("{name}.labeledImage");
    let labeled_image = at
        .optional_object_field(element, name, "labeledImage")?
        .ok_or_else(|| at.invalid(&image_path, "is missing"))?;
    let data_path = format!("{image_path}.pngImageData");
    let encoded = at.str_field(labeled_image, &image_path, "pngImageData")?;
    // Tolerate a data URL (`data:image/png;base64,…`), as a browser canvas exports it.
    let encoded = match encoded.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => encoded,
    };
    let bytes = base64::decode(encoded).map_err(|(offset, what)| {
        at.invalid(&data_path, format!("not base64: {what} at character {offset}"))
    })?;
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| at.invalid(&data_path, format!("not a readable PNG image: {e}")))?
        .into_rgba8();
    let (width_px, height_px) = image.dimensions();

    if let Some((w, h)) = at.image_properties(element, name)?
        && (w, h) != (width_px, height_px)
    {
        return Err(AnnotationError::MaskSizeMismatch {
            object: at.object.dataset_object_id.clone(),
            worker: at.answer.worker_id.clone(),
            width_px,
            height_px,
            expected_from: "the image size in its inputImageProperties".into(),
            expected_width_px: w,
            expected_height_px: h,
        });
    }

    let mut classes = Vec::with_capacity(image.len() / 4);
    for (x_px, y_px, pixel) in image.enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let class = match class_of_color.get(&[r, g, b]) {
            _ if a == 0 => 0,
            Some((class, _)) => *class,
            None if [r, g, b] == BACKGROUND_COLOR => 0,
            None => {
                return Err(AnnotationError::UnknownMaskColor {
                    object: at.object.dataset_object_id.clone(),
                    worker: at.answer.worker_id.clone(),
                    x_px,
                    y_px,
                    color: hex_color([r, g, b]),
                });
            }
        };
        classes.push(class);
    }
    Ok(WorkerMask { width_px, height_px, classes })
}

/// The per-pixel vote. Returns the winning class per pixel and the total number of votes the
/// winners got (for the confidence).
fn vote(masks: &[&[u8]], width: usize, height: usize) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(width * height);
    let mut winning_votes = 0u64;
    let mut values: Vec<u8> = Vec::with_capacity(masks.len());
    let mut tied: Vec<u8> = Vec::new();
    let mut tied_votes: Vec<u64> = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let at = y * width + x;
            values.clear();
            values.extend(masks.iter().filter_map(|m| m.get(at).copied()));
            values.sort_unstable();
            // Run lengths over the sorted votes: the classes with the most votes, ascending.
            tied.clear();
            let mut best = 0usize;
            for run in values.chunk_by(|a, b| a == b) {
                let (Some(&class), count) = (run.first(), run.len()) else { continue };
                if count > best {
                    best = count;
                    tied.clear();
                }
                if count == best {
                    tied.push(class);
                }
            }
            winning_votes += best as u64;
            let winner = match tied.as_slice() {
                [] => 0,
                [only] => *only,
                _ => {
                    tied_votes.clear();
                    tied_votes.resize(tied.len(), 0);
                    for ny in y.saturating_sub(1)..=(y + 1).min(height - 1) {
                        for nx in x.saturating_sub(1)..=(x + 1).min(width - 1) {
                            let n_at = ny * width + nx;
                            for class in masks.iter().filter_map(|m| m.get(n_at)) {
                                if let Some(i) = tied.iter().position(|t| t == class)
                                    && let Some(v) = tied_votes.get_mut(i)
                                {
                                    *v += 1;
                                }
                            }
                        }
                    }
                    // Most neighbourhood votes; among equals the first, i.e. lowest, class.
                    let mut pick = 0;
                    for (i, v) in tied_votes.iter().enumerate() {
                        if *v > tied_votes.get(pick).copied().unwrap_or_default() {
                            pick = i;
                        }
                    }
                    tied.get(pick).copied().unwrap_or_default()
                }
            };
            out.push(winner);
        }
    }
    (out, winning_votes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_distinct_and_start_like_ground_truth() {
        let colors = segmentation_class_colors(255);
        assert_eq!(colors.len(), 256);
        assert_eq!(hex_color(colors[0]), "#ffffff");
        assert_eq!(hex_color(colors[1]), "#2ca02c");
        assert_eq!(hex_color(colors[2]), "#1f77b4");
        assert_eq!(hex_color(colors[3]), "#ff7f0e");
        let unique: std::collections::BTreeSet<_> = colors.iter().collect();
        assert_eq!(unique.len(), colors.len());
        assert_eq!(segmentation_class_colors(2).len(), 3);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(parse_hex_color("#2CA02c"), Some([0x2c, 0xa0, 0x2c]));
        assert_eq!(parse_hex_color("2ca02c"), None);
        assert_eq!(parse_hex_color("#2ca02"), None);
        assert_eq!(parse_hex_color("#2ca0zz"), None);
        assert_eq!(parse_hex_color("#ééé"), None);
        assert_eq!(hex_color([0, 15, 255]), "#000fff");
    }

    #[test]
    fn tie_broken_by_neighbourhood_then_lowest_class() {
        // 3x1 image, two workers. Pixel 1: worker A says 2, worker B says 1 (tie).
        // Neighbourhood of pixel 1 = all three pixels: class 2 gets 1+1+1 = 3 votes
        // (A: 2,2,2), class 1 gets 1 (B's pixel 1); B's other pixels are 0. So pixel 1 → 2.
        // Pixel 0: A 2, B 0 → tie; neighbourhood (pixels 0,1): class 2: A0, A1 = 2; class 0: B0 = 1
        // → 2. Pixel 2 mirrors pixel 0 → 2.
        let a = [2u8, 2, 2];
        let b = [0u8, 1, 0];
        let (out, votes) = vote(&[&a, &b], 3, 1);
        assert_eq!(out, vec![2, 2, 2]);
        assert_eq!(votes, 3);
        // A perfect 1-1 tie everywhere with symmetric neighbourhoods falls to the lowest class.
        let (out, _) = vote(&[&[1u8], &[0u8]], 1, 1);
        assert_eq!(out, vec![0]);
    }
}
