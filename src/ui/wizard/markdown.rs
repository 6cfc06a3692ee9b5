//! A deliberately small Markdown renderer for worker instructions: headings (`#`, `##`, `###`),
//! bold (`**text**`), bullet (`-`, `*`) and numbered (`1.`) lists, and paragraphs (lines joined
//! until a blank line). Anything else is shown as the text it is. Parsing is pure
//! ([`parse`]); [`markdown_ui`] draws the blocks with the theme's colours.
//!
//! Must not depend on `app` or `cli`.

use egui::text::LayoutJob;
use egui::{FontId, TextFormat, TextStyle};

use crate::ui::theme;

/// A run of text, bold or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Inside `**…**`.
    pub bold: bool,
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#` … `###` (deeper levels are shown as level 3).
    Heading {
        /// 1, 2 or 3.
        level: u8,
        /// The heading text.
        spans: Vec<Span>,
    },
    /// Lines joined by spaces, up to a blank line or another block.
    Paragraph(Vec<Span>),
    /// `- item` or `* item`.
    Bullet(Vec<Span>),
    /// `3. item`, keeping the author's number.
    Numbered {
        /// The number as written.
        number: u32,
        /// The item text.
        spans: Vec<Span>,
    },
}

/// Splits `**bold**` runs; an unmatched `**` is kept as text.
pub fn spans(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut rest = text;
    let mut push = |text: &str, bold: bool| {
        if !text.is_empty() {
            out.push(Span { text: text.to_owned(), bold });
        }
    };
    while let Some(open) = rest.find("**") {
        let after = &rest[open + 2..];
        match after.find("**") {
            Some(close) if close > 0 => {
                push(&rest[..open], false);
                push(&after[..close], true);
                rest = &after[close + 2..];
            }
            _ => break,
        }
    }
    push(rest, false);
    out
}

fn numbered_item(line: &str) -> Option<(u32, &str)> {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 9 {
        return None;
    }
    let number = line.get(..digits)?.parse().ok()?;
    let text = line.get(digits..)?.strip_prefix(". ")?;
    Some((number, text))
}

/// Parses `text` into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(spans(&paragraph.join(" "))));
            paragraph.clear();
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            flush(&mut paragraph, &mut blocks);
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            flush(&mut paragraph, &mut blocks);
            let level = u8::try_from(hashes.min(3)).unwrap_or(3);
            blocks.push(Block::Heading { level, spans: spans(line[hashes..].trim()) });
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush(&mut paragraph, &mut blocks);
            blocks.push(Block::Bullet(spans(item.trim())));
        } else if let Some((number, item)) = numbered_item(line) {
            flush(&mut paragraph, &mut blocks);
            blocks.push(Block::Numbered { number, spans: spans(item.trim()) });
        } else {
            paragraph.push(line);
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks
}

fn layout(ui: &egui::Ui, spans: &[Span], font: FontId, prefix: &str) -> LayoutJob {
    let mut job = LayoutJob::default();
    let plain = TextFormat { font_id: font.clone(), color: theme::TEXT, ..Default::default() };
    let bold = TextFormat { font_id: font, color: theme::TEXT_EMPHASIS, ..Default::default() };
    if !prefix.is_empty() {
        job.append(prefix, 0.0, TextFormat { color: theme::TEXT_WEAK, ..plain.clone() });
    }
    for span in spans {
        job.append(&span.text, 0.0, if span.bold { bold.clone() } else { plain.clone() });
    }
    job.wrap.max_width = ui.available_width();
    job
}

/// Draws Markdown `text` into `ui`.
pub fn markdown_ui(ui: &mut egui::Ui, text: &str) {
    let body = TextStyle::Body.resolve(ui.style());
    for block in parse(text) {
        match block {
            Block::Heading { level, spans } => {
                let size = match level {
                    1 => theme::HEADING_1_SIZE,
                    2 => theme::HEADING_2_SIZE,
                    _ => theme::HEADING_3_SIZE,
                };
                ui.add_space(theme::SPACE * 0.5);
                let mut job = layout(ui, &spans, FontId::proportional(size), "");
                for section in &mut job.sections {
                    section.format.color = theme::TEXT_STRONG;
                }
                ui.label(job);
            }
            Block::Paragraph(spans) => {
                ui.label(layout(ui, &spans, body.clone(), ""));
            }
            Block::Bullet(spans) => {
                ui.label(layout(ui, &spans, body.clone(), "  •  "));
            }
            Block::Numbered { number, spans } => {
                ui.label(layout(ui, &spans, body.clone(), &format!("  {number}.  ")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Span {
        Span { text: text.into(), bold: false }
    }

    fn bold(text: &str) -> Span {
        Span { text: text.into(), bold: true }
    }

    #[test]
    fn parses_headings_lists_bold_and_paragraphs() {
        let text = "# Boxes\nDraw a **tight** box\naround each car.\n\n## Rules\n- one box per **object**\n* skip blurry ones\n2. then submit\n\nA closing line with ** unmatched";
        assert_eq!(
            parse(text),
            vec![
                Block::Heading { level: 1, spans: vec![plain("Boxes")] },
                Block::Paragraph(vec![
                    plain("Draw a "),
                    bold("tight"),
                    plain(" box around each car.")
                ]),
                Block::Heading { level: 2, spans: vec![plain("Rules")] },
                Block::Bullet(vec![plain("one box per "), bold("object")]),
                Block::Bullet(vec![plain("skip blurry ones")]),
                Block::Numbered { number: 2, spans: vec![plain("then submit")] },
                Block::Paragraph(vec![plain("A closing line with ** unmatched")]),
            ]
        );
    }

    #[test]
    fn hashes_without_space_and_deep_headings() {
        assert_eq!(parse("#hashtag"), vec![Block::Paragraph(vec![plain("#hashtag")])]);
        assert_eq!(
            parse("#### deep"),
            vec![Block::Heading { level: 3, spans: vec![plain("deep")] }]
        );
        assert_eq!(
            parse("2020. was a year"),
            vec![Block::Numbered { number: 2020, spans: vec![plain("was a year")] }]
        );
        assert!(parse("\n\n").is_empty());
    }
}
