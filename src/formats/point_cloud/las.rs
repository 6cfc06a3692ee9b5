//! LAS 1.0–1.4 (point formats 0–10) and LAZ, decoded straight from raw point records into the
//! structure-of-arrays [`PointCloud`], chunk by chunk, in parallel.
//!
//! Owns the LAS header and VLR parsing, the raw record decoder, and the LAZ chunk scheduler (the
//! `laz` crate decompresses each chunk into raw record bytes; the same record decoder then runs).
//! No `las::Point` is built. Must not depend on any layer above `formats`.
//!
//! Robustness rules, all checked before anything is allocated:
//! - VLR parsing stops at the offset to point data, whatever the header's VLR count claims;
//! - the declared point count × record length must fit in the file (uncompressed);
//! - the LASzip items must describe exactly the header's record length;
//! - a chunk table may not claim more chunks than its data could hold;
//! - every call into the LAZ decoder runs under `catch_unwind`, so a decoder panic on odd data
//!   becomes an error naming the file.
//!
//! Old LASzip files with the point-wise compressor (one stream, no chunk table — which makes
//! laz-rs's own reader panic) are decoded directly.
//!
//! [`LasChunks`] yields decoded pieces as they finish (the app shows the first points before the
//! file is read); [`load_path`] collects them.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use laz::laszip::{ChunkTable, LazItem, LazVlr};
use laz::record::{
    LayeredPointRecordDecompressor, RecordDecompressor, SequentialPointRecordDecompressor,
};
use laz::{DecompressionSelection, LasZipDecompressor};
use rayon::prelude::*;

use super::{
    Attributes, CloudFormat, LoadOptions, LoadReport, LoadedCloud, PointCloud, origin_for,
};
use crate::formats::{FormatError, Location};

/// Size in bytes of the core record of point formats 0–10 (a record may be longer: extra bytes).
pub const FORMAT_RECORD_LEN: [u16; 11] = [20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67];

/// Points decoded per piece of uncompressed data (one task of the parallel decoder).
const RAW_PIECE_POINTS: usize = 1 << 16;
/// Points decompressed per step inside one LAZ chunk (bounds the raw buffer).
const LAZ_STEP_POINTS: usize = 1 << 16;
/// Size of a VLR header.
const VLR_HEADER_LEN: u64 = 54;

/// The parts of a LAS header a reader needs, validated against the file's size.
#[derive(Debug, Clone, PartialEq)]
pub struct LasHeader {
    /// Version, e.g. `(1, 4)`.
    pub version: (u8, u8),
    /// Point data format 0–10 (compression bits removed).
    pub point_format: u8,
    /// True when the point data is LASzip-compressed.
    pub compressed: bool,
    /// Bytes per point record (the format's core size plus extra bytes).
    pub record_len: u16,
    /// Number of point records (the 64-bit count for LAS 1.4, the legacy count otherwise).
    pub point_count: u64,
    /// Header size in bytes.
    pub header_size: u16,
    /// File offset of the first point record.
    pub offset_to_point_data: u32,
    /// The VLR count the header declares (may be garbage; see `vlrs_read`).
    pub declared_vlr_count: u32,
    /// VLRs actually found before the point data.
    pub vlrs_read: u32,
    /// Coordinate scale factors x, y, z.
    pub scale: [f64; 3],
    /// Coordinate offsets x, y, z.
    pub offset: [f64; 3],
    /// Header minimum bounds x, y, z (as written; not trusted for anything but the origin).
    pub min: [f64; 3],
    /// Header maximum bounds x, y, z.
    pub max: [f64; 3],
    /// The generating software field.
    pub generating_software: String,
    /// The LASzip VLR, for compressed data.
    laz: Option<LazInfo>,
}

#[derive(Debug, Clone, PartialEq)]
struct LazInfo {
    vlr: LazVlr,
    compressor: u16,
}

impl LasHeader {
    /// Extra bytes per record beyond the point format's core fields.
    pub fn extra_bytes(&self) -> u16 {
        let core = FORMAT_RECORD_LEN.get(usize::from(self.point_format)).copied().unwrap_or(0);
        self.record_len.saturating_sub(core)
    }

    /// The attributes this point format carries.
    pub fn available(&self) -> Attributes {
        let layout = RecordLayout::new(self.point_format, usize::from(self.record_len));
        Attributes {
            intensity: true,
            classification: true,
            return_number: true,
            rgb: layout.rgb.is_some(),
            gps_time: layout.gps.is_some(),
            user_data: true,
        }
    }

    /// The origin this reader puts positions relative to: the centre of the header bounds when
    /// they are sane, else the coordinate offsets; kept at 0 on axes small enough for `f32`.
    pub fn origin(&self) -> [f64; 3] {
        let sane = (0..3).all(|i| {
            let (lo, hi) = (self.min[i], self.max[i]);
            lo.is_finite() && hi.is_finite() && lo <= hi
        });
        let centre =
            if sane { [0, 1, 2].map(|i| (self.min[i] + self.max[i]) / 2.0) } else { self.offset };
        origin_for(centre)
    }
}

/// Reads and validates the header of the LAS/LAZ file at `path`.
pub fn read_header_path(path: &Path) -> Result<LasHeader, FormatError> {
    let name = path.display().to_string();
    let src = FileSource::open(path).map_err(|e| FormatError::io(&name, e))?;
    read_header(&src, &name)
}

/// Reads and validates a LAS/LAZ header held in memory.
pub fn read_header_bytes(bytes: &[u8], name: &str) -> Result<LasHeader, FormatError> {
    read_header(&SliceSource { bytes }, name)
}

/// Loads the LAS/LAZ file at `path`.
pub fn load_path(path: &Path, options: &LoadOptions) -> Result<LoadedCloud, FormatError> {
    chunks_path(path, options)?.collect_cloud()
}

/// Loads LAS/LAZ data held in memory.
pub fn load_bytes(
    bytes: &[u8],
    name: &str,
    options: &LoadOptions,
) -> Result<LoadedCloud, FormatError> {
    chunks_bytes(bytes, name, options)?.collect_cloud()
}

/// Opens the LAS/LAZ file at `path` for progressive decoding.
pub fn chunks_path(path: &Path, options: &LoadOptions) -> Result<LasChunks<'static>, FormatError> {
    let name = path.display().to_string();
    let src = FileSource::open(path).map_err(|e| FormatError::io(&name, e))?;
    LasChunks::open(Arc::new(src), name, options)
}

/// Opens LAS/LAZ data held in memory for progressive decoding.
pub fn chunks_bytes<'a>(
    bytes: &'a [u8],
    name: &str,
    options: &LoadOptions,
) -> Result<LasChunks<'a>, FormatError> {
    LasChunks::open(Arc::new(SliceSource { bytes }), name.to_string(), options)
}

/// Progressive LAS/LAZ decoding: an iterator of decoded pieces, in file order, all sharing one
/// origin ([`LasChunks::origin`]). Each step decodes a batch of pieces in parallel (one per
/// core); the first piece is available after one batch.
///
/// After an error the iterator ends.
pub struct LasChunks<'a> {
    header: LasHeader,
    name: String,
    decoder: RecordDecoder,
    body: Body<'a>,
    ready: VecDeque<PointCloud>,
    failed: bool,
}

enum Body<'a> {
    /// Uncompressed records read in blocks.
    Raw { src: Source<'a>, next_point: u64, buf: Vec<u8> },
    /// LAZ with a chunk table: chunks read and decompressed in parallel, each read when it is
    /// decoded (the compressed file is never held whole).
    Chunked {
        src: Source<'a>,
        /// File offset of the point data (chunk spans are relative to it).
        base: u64,
        /// Bytes of point data (to the end of the file).
        data_len: u64,
        items: Vec<LazItem>,
        selection: DecompressionSelection,
        spans: Vec<ChunkSpan>,
        next: usize,
    },
    /// LAZ decompressed as one stream (point-wise compressor, or no usable chunk table).
    Sequential { decoder: Box<SeqDecoder>, remaining: u64, buf: Vec<u8> },
    /// Nothing left.
    Done,
}

enum SeqDecoder {
    PointWise(SequentialPointRecordDecompressor<'static, OffsetCursor>),
    Laszip(LasZipDecompressor<'static, OffsetCursor>),
}

/// One compressed chunk: its byte range within the point data and its point count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkSpan {
    start: usize,
    end: usize,
    points: usize,
}

impl<'a> LasChunks<'a> {
    fn open(src: Source<'a>, name: String, options: &LoadOptions) -> Result<Self, FormatError> {
        let header = read_header(src.as_ref(), &name)?;
        let keep = options.attributes.and(header.available());
        let decoder = RecordDecoder {
            layout: RecordLayout::new(header.point_format, usize::from(header.record_len)),
            scale: header.scale,
            shift: {
                let origin = header.origin();
                [0, 1, 2].map(|i| header.offset[i] - origin[i])
            },
            origin: header.origin(),
            keep,
        };
        let invalid = |message: String| FormatError::invalid(Location::file(&name), message);
        let body = if header.point_count == 0 {
            Body::Done
        } else if let Some(laz) = &header.laz {
            open_laz(src, &header, laz, keep).map_err(invalid)?
        } else {
            let block = RAW_PIECE_POINTS * usize::from(header.record_len) * batch_width();
            Body::Raw { src, next_point: 0, buf: Vec::with_capacity(block) }
        };
        Ok(LasChunks { header, name, decoder, body, ready: VecDeque::new(), failed: false })
    }

    /// The file's header.
    pub fn header(&self) -> &LasHeader {
        &self.header
    }

    /// The origin every piece's positions are relative to.
    pub fn origin(&self) -> [f64; 3] {
        self.decoder.origin
    }

    /// The attributes each piece keeps.
    pub fn kept(&self) -> Attributes {
        self.decoder.keep
    }

    /// The report a full load gives (nothing is ever dropped from LAS: coordinates are integers).
    pub fn report(&self) -> LoadReport {
        let format = if self.header.compressed { CloudFormat::Laz } else { CloudFormat::Las };
        let mut report =
            LoadReport::new(format, Some(self.header.point_count), self.header.available());
        if self.header.vlrs_read != self.header.declared_vlr_count {
            report.notes.push(format!(
                "header declares {} VLRs; {} fit before the point data",
                self.header.declared_vlr_count, self.header.vlrs_read
            ));
        }
        if self.header.extra_bytes() > 0 {
            report.notes.push(format!(
                "{} extra bytes per point record skipped",
                self.header.extra_bytes()
            ));
        }
        report
    }

    /// Decodes everything that is left into one cloud.
    pub fn collect_cloud(mut self) -> Result<LoadedCloud, FormatError> {
        let report = self.report();
        let keep = self.decoder.keep;
        let mut cloud = empty_cloud(self.decoder.origin, keep);
        let bound = match &self.body {
            Body::Chunked { data_len, .. } => data_len.saturating_mul(32),
            Body::Sequential { .. } => 1 << 20,
            _ => self.header.point_count,
        };
        // Chunks go straight into a cloud sized from the chunk table, unless the table claims
        // more points than the compressed bytes could plausibly hold (then the cloud grows only
        // as points really decode).
        let direct = match &self.body {
            Body::Raw { .. } => true,
            Body::Chunked { spans, .. } => {
                spans.iter().map(|s| s.points as u64).sum::<u64>() <= bound
            }
            _ => false,
        };
        if direct {
            let decoded = match self.body {
                Body::Raw { .. } => self.decode_raw_into(&mut cloud),
                _ => self.decode_chunks_into(&mut cloud),
            };
            decoded.map_err(|message| FormatError::invalid(Location::file(&self.name), message))?;
            return Ok(LoadedCloud { cloud, report });
        }
        cloud.reserve(usize::try_from(self.header.point_count.min(bound)).unwrap_or(0));
        for piece in self.by_ref() {
            cloud.append(piece?);
        }
        Ok(LoadedCloud { cloud, report })
    }

    /// Uncompressed records straight into `cloud`'s arrays, sized once: blocks of records are
    /// read while the previous block decodes (in parallel pieces), so reading and decoding
    /// overlap and no piece is copied again.
    fn decode_raw_into(&mut self, cloud: &mut PointCloud) -> Result<(), String> {
        let Body::Raw { src, next_point, buf } = &mut self.body else { return Ok(()) };
        let rl = usize::from(self.header.record_len);
        let offset = u64::from(self.header.offset_to_point_data);
        let left = self.header.point_count.saturating_sub(*next_point);
        let in_file = src.len().saturating_sub(offset + *next_point * rl as u64) / rl.max(1) as u64;
        if left > in_file {
            return Err(format!(
                "reading point records: the header declares {} points but the file holds {}",
                self.header.point_count,
                *next_point + in_file
            ));
        }
        let total = usize::try_from(left).map_err(|_| "point count too large".to_string())?;
        let base = cloud.len();
        cloud.resize_default(base + total);
        let block = RAW_PIECE_POINTS * batch_width();
        let blocks = total.div_ceil(block);
        let mut current = std::mem::take(buf);
        let mut upcoming = Vec::new();
        let read = |src: &Source<'_>, buf: &mut Vec<u8>, k: usize| {
            let first = k * block;
            let n = block.min(total - first);
            buf.resize(n * rl, 0);
            let pos = offset + (*next_point + first as u64) * rl as u64;
            src.read_at(pos, buf).map_err(|e| format!("reading point records: {e}"))
        };
        if blocks > 0 {
            read(src, &mut current, 0)?;
        }
        let decoder = &self.decoder;
        let mut out = CloudOut::of(cloud, base);
        for k in 0..blocks {
            let (this, rest) = out.split_at(current.len() / rl);
            out = rest;
            let (_, next_read) = rayon::join(
                || {
                    this.pieces(RAW_PIECE_POINTS)
                        .into_par_iter()
                        .zip(current.par_chunks(RAW_PIECE_POINTS * rl))
                        .for_each(|(piece, raw)| decoder.decode_into(raw, piece));
                },
                || if k + 1 < blocks { read(src, &mut upcoming, k + 1) } else { Ok(()) },
            );
            next_read?;
            std::mem::swap(&mut current, &mut upcoming);
        }
        *next_point += left;
        *buf = current;
        self.body = Body::Done;
        Ok(())
    }

    /// The chunks left, each decompressed straight into its run of `cloud`'s arrays (sized
    /// once), all in parallel: no piece is copied again and no core waits for a batch to end.
    fn decode_chunks_into(&mut self, cloud: &mut PointCloud) -> Result<(), String> {
        let Body::Chunked { src, base, items, selection, spans, next, .. } = &self.body else {
            return Ok(());
        };
        let spans = spans.get(*next..).unwrap_or_default();
        let from = cloud.len();
        cloud.resize_default(from + spans.iter().map(|s| s.points).sum::<usize>());
        let mut outs = Vec::with_capacity(spans.len());
        let mut rest = CloudOut::of(cloud, from);
        for span in spans {
            let (out, tail) = rest.split_at(span.points);
            outs.push(out);
            rest = tail;
        }
        let first = *next;
        let chunks = ChunkDecoder {
            src: src.as_ref(),
            base: *base,
            items,
            selection: *selection,
            decoder: &self.decoder,
        };
        spans.par_iter().zip(outs).enumerate().try_for_each(|(i, (span, out))| {
            chunks.decode_into(*span, out).map_err(|e| format!("LAZ chunk {}: {e}", first + i))
        })?;
        self.body = Body::Done;
        Ok(())
    }

    fn fill(&mut self) -> Result<(), String> {
        let width = batch_width();
        let decoder = &self.decoder;
        match &mut self.body {
            Body::Done => {}
            Body::Raw { src, next_point, buf } => {
                let total = self.header.point_count;
                let rl = usize::from(self.header.record_len);
                let left = total - *next_point;
                let n = usize::try_from(left.min((RAW_PIECE_POINTS * width) as u64))
                    .map_err(|_| "point count too large".to_string())?;
                buf.resize(n * rl, 0);
                let pos = u64::from(self.header.offset_to_point_data) + *next_point * rl as u64;
                src.read_at(pos, buf).map_err(|e| format!("reading point records: {e}"))?;
                let pieces: Vec<PointCloud> = buf
                    .par_chunks(RAW_PIECE_POINTS * rl)
                    .map(|raw| decoder.decode(raw, raw.len() / rl))
                    .collect();
                self.ready.extend(pieces);
                *next_point += n as u64;
                if *next_point >= total {
                    self.body = Body::Done;
                }
            }
            Body::Chunked { src, base, items, selection, spans, next, .. } => {
                let chunks = ChunkDecoder {
                    src: src.as_ref(),
                    base: *base,
                    items,
                    selection: *selection,
                    decoder,
                };
                let end = (*next + width).min(spans.len());
                let batch = spans.get(*next..end).unwrap_or_default();
                let first = *next;
                let pieces: Vec<Result<PointCloud, String>> = batch
                    .par_iter()
                    .enumerate()
                    .map(|(i, span)| {
                        chunks.decode(*span).map_err(|e| format!("LAZ chunk {}: {e}", first + i))
                    })
                    .collect();
                for piece in pieces {
                    self.ready.push_back(piece?);
                }
                *next = end;
                if *next >= spans.len() {
                    self.body = Body::Done;
                }
            }
            Body::Sequential { decoder: seq, remaining, buf } => {
                let n = usize::try_from((*remaining).min(LAZ_STEP_POINTS as u64)).unwrap_or(0);
                buf.resize(n * decoder.layout.record_len, 0);
                guarded(|| match seq.as_mut() {
                    SeqDecoder::PointWise(d) => d.decompress_many(buf).map_err(|e| e.to_string()),
                    SeqDecoder::Laszip(d) => d.decompress_many(buf).map_err(|e| e.to_string()),
                })?;
                self.ready.push_back(decoder.decode(buf, n));
                *remaining -= n as u64;
                if *remaining == 0 {
                    self.body = Body::Done;
                }
            }
        }
        Ok(())
    }
}

impl Iterator for LasChunks<'_> {
    type Item = Result<PointCloud, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(piece) = self.ready.pop_front() {
                return Some(Ok(piece));
            }
            if self.failed || matches!(self.body, Body::Done) {
                return None;
            }
            if let Err(message) = self.fill() {
                self.failed = true;
                self.body = Body::Done;
                return Some(Err(FormatError::invalid(Location::file(&self.name), message)));
            }
        }
    }
}

fn batch_width() -> usize {
    rayon::current_num_threads().clamp(1, 64)
}

fn empty_cloud(origin: [f64; 3], keep: Attributes) -> PointCloud {
    PointCloud {
        origin,
        positions: Vec::new(),
        intensity: keep.intensity.then(Vec::new),
        classification: keep.classification.then(Vec::new),
        return_number: keep.return_number.then(Vec::new),
        rgb: keep.rgb.then(Vec::new),
        gps_time: keep.gps_time.then(Vec::new),
        user_data: keep.user_data.then(Vec::new),
    }
}

/// Runs `f`, turning a panic inside the LAZ decoder into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(format!("the LAZ decoder failed on this data ({what})"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sources

/// Random-access reads from a file or a byte slice, by position, so that several threads can
/// read at once (each LAZ chunk is read by the thread that decodes it).
trait RandomRead {
    fn len(&self) -> u64;
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

/// A shared source of LAS/LAZ bytes.
type Source<'a> = Arc<dyn RandomRead + Send + Sync + 'a>;

struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl RandomRead for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    #[cfg(unix)]
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, pos)
    }
    #[cfg(windows)]
    fn read_at(&self, pos: u64, mut buf: &mut [u8]) -> std::io::Result<()> {
        let mut pos = pos;
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(&self.file, buf, pos) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    pos += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

struct SliceSource<'a> {
    bytes: &'a [u8],
}

impl RandomRead for SliceSource<'_> {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(pos).unwrap_or(usize::MAX);
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// The point data (from the offset to point data to the end of the file) as a `Read + Seek`
/// whose positions are file offsets, as the `laz` crate expects.
#[derive(Clone)]
struct OffsetCursor {
    data: Arc<[u8]>,
    base: u64,
    pos: u64,
}

impl Read for OffsetCursor {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rel = usize::try_from(self.pos.saturating_sub(self.base)).unwrap_or(usize::MAX);
        if self.pos < self.base {
            return Err(std::io::Error::other("read before the point data"));
        }
        let avail = self.data.get(rel..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(avail.get(..n).unwrap_or_default());
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for OffsetCursor {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let end = self.base + self.data.len() as u64;
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => end.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad seek")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header

fn le_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).and_then(|s| s.try_into().ok()).map(u16::from_le_bytes).unwrap_or(0)
}
fn le_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes).unwrap_or(0)
}
fn le_i32(b: &[u8], at: usize) -> i32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map(i32::from_le_bytes).unwrap_or(0)
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0)
}
fn le_f64(b: &[u8], at: usize) -> f64 {
    f64::from_bits(le_u64(b, at))
}

fn text_field(b: &[u8], at: usize, len: usize) -> String {
    let raw = b.get(at..at + len).unwrap_or_default();
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).trim().to_string()
}

fn read_header(src: &dyn RandomRead, name: &str) -> Result<LasHeader, FormatError> {
    let invalid = |field: &str, message: String| {
        FormatError::invalid(Location::file(name).at_field(field), message)
    };
    let io = |e: std::io::Error| FormatError::io(name, e);
    let file_len = src.len();
    if file_len < 227 {
        return Err(FormatError::invalid(
            Location::file(name),
            format!("{file_len} bytes is too short for a LAS header (227 bytes at least)"),
        ));
    }
    let mut head = vec![0u8; usize::try_from(file_len.min(375)).unwrap_or(375)];
    src.read_at(0, &mut head).map_err(io)?;
    if !head.starts_with(b"LASF") {
        return Err(invalid("file signature", "not a LAS file (no `LASF` signature)".into()));
    }
    let version = (head.get(24).copied().unwrap_or(0), head.get(25).copied().unwrap_or(0));
    if version.0 != 1 || version.1 > 4 {
        return Err(invalid(
            "version",
            format!("LAS version {}.{} is not supported (1.0–1.4)", version.0, version.1),
        ));
    }
    let header_size = le_u16(&head, 94);
    let offset_to_point_data = le_u32(&head, 96);
    let declared_vlr_count = le_u32(&head, 100);
    let format_byte = head.get(104).copied().unwrap_or(0);
    let record_len = le_u16(&head, 105);
    let legacy_count = u64::from(le_u32(&head, 107));
    if header_size < 227 || u64::from(header_size) > file_len {
        return Err(invalid(
            "header size",
            format!("header size {header_size} is impossible for a {file_len}-byte file"),
        ));
    }
    if u32::from(header_size) > offset_to_point_data || u64::from(offset_to_point_data) > file_len {
        return Err(invalid(
            "offset to point data",
            format!(
                "offset to point data {offset_to_point_data} lies outside the file \
                 (header {header_size} bytes, file {file_len} bytes)"
            ),
        ));
    }
    let compressed = format_byte & 0xC0 != 0;
    let point_format = format_byte & 0x3F;
    let Some(&core_len) = FORMAT_RECORD_LEN.get(usize::from(point_format)) else {
        return Err(invalid(
            "point data format",
            format!("point data format {point_format} is not defined (0–10)"),
        ));
    };
    if record_len < core_len {
        return Err(invalid(
            "point data record length",
            format!(
                "record length {record_len} is shorter than point format {point_format} \
                 needs ({core_len})"
            ),
        ));
    }
    let point_count = if version.1 >= 4 && header_size >= 375 {
        let count64 = le_u64(&head, 247);
        if count64 == 0 { legacy_count } else { count64 }
    } else {
        legacy_count
    };
    let triple = |at: usize| [le_f64(&head, at), le_f64(&head, at + 8), le_f64(&head, at + 16)];
    let scale = triple(131);
    let offset = triple(155);
    let max = [le_f64(&head, 179), le_f64(&head, 195), le_f64(&head, 211)];
    let min = [le_f64(&head, 187), le_f64(&head, 203), le_f64(&head, 219)];
    if scale.iter().any(|s| !s.is_finite() || *s == 0.0) {
        return Err(invalid(
            "scale factor",
            format!("scale factors {scale:?} must be finite, non-zero"),
        ));
    }
    if offset.iter().any(|o| !o.is_finite()) {
        return Err(invalid("offset", format!("coordinate offsets {offset:?} must be finite")));
    }

    // VLRs: bounded by the offset to point data, whatever the count claims.
    let mut laz = None;
    let mut vlrs_read = 0u32;
    let mut pos = u64::from(header_size);
    let data_start = u64::from(offset_to_point_data);
    while vlrs_read < declared_vlr_count && pos + VLR_HEADER_LEN <= data_start {
        let mut vh = [0u8; VLR_HEADER_LEN as usize];
        src.read_at(pos, &mut vh).map_err(io)?;
        let user_id = text_field(&vh, 2, 16);
        let record_id = le_u16(&vh, 18);
        let len = u64::from(le_u16(&vh, 20));
        let body_start = pos + VLR_HEADER_LEN;
        if body_start + len > data_start {
            break;
        }
        if user_id == LazVlr::USER_ID && record_id == LazVlr::RECORD_ID {
            let mut body = vec![0u8; usize::from(le_u16(&vh, 20))];
            src.read_at(body_start, &mut body).map_err(io)?;
            let vlr = LazVlr::from_buffer(&body)
                .map_err(|e| invalid("LASzip VLR", format!("cannot read the LASzip VLR: {e}")))?;
            laz = Some(LazInfo { vlr, compressor: le_u16(&body, 0) });
        }
        pos = body_start + len;
        vlrs_read += 1;
    }

    if compressed && laz.is_none() {
        return Err(invalid(
            "LASzip VLR",
            "point data is marked compressed but there is no LASzip VLR".into(),
        ));
    }
    let laz = if compressed { laz } else { None };
    if laz.is_none() {
        let needed =
            point_count.checked_mul(u64::from(record_len)).and_then(|b| b.checked_add(data_start));
        if needed.is_none_or(|n| n > file_len) {
            let room = (file_len - data_start) / u64::from(record_len);
            return Err(FormatError::invalid(
                Location::file(name).at_field("number of point records"),
                format!(
                    "truncated or corrupt: header declares {point_count} points of {record_len} \
                     bytes from offset {data_start}, but the {file_len}-byte file holds {room}"
                ),
            ));
        }
    }
    Ok(LasHeader {
        version,
        point_format,
        compressed,
        record_len,
        point_count,
        header_size,
        offset_to_point_data,
        declared_vlr_count,
        vlrs_read,
        scale,
        offset,
        min,
        max,
        generating_software: text_field(&head, 58, 32),
        laz,
    })
}

// ---------------------------------------------------------------------------------------------
// LAZ

const COMPRESSOR_POINT_WISE: u16 = 1;
const COMPRESSOR_POINT_WISE_CHUNKED: u16 = 2;
const COMPRESSOR_LAYERED_CHUNKED: u16 = 3;

fn open_laz<'a>(
    src: Source<'a>,
    header: &LasHeader,
    laz: &LazInfo,
    keep: Attributes,
) -> Result<Body<'a>, String> {
    let vlr = &laz.vlr;
    let items = vlr.items().clone();
    if items.is_empty() {
        return Err("the LASzip VLR lists no items".into());
    }
    if vlr.items_size() != u64::from(header.record_len) {
        return Err(format!(
            "malformed LAZ: the LASzip items describe {}-byte records but the header says {} \
             (point format {})",
            vlr.items_size(),
            header.record_len,
            header.point_format
        ));
    }
    let base = u64::from(header.offset_to_point_data);
    let data_len = src.len().saturating_sub(base);
    let total = header.point_count;
    // The sequential decoders read one stream: the point data is read whole for them.
    let whole = || -> Result<OffsetCursor, String> {
        let mut data = vec![0u8; usize::try_from(data_len).map_err(|e| e.to_string())?];
        src.read_at(base, &mut data).map_err(|e| format!("reading compressed points: {e}"))?;
        Ok(OffsetCursor { data: data.into(), base, pos: base })
    };
    let sequential = |decoder: SeqDecoder| Body::Sequential {
        decoder: Box::new(decoder),
        remaining: total,
        buf: Vec::new(),
    };
    match laz.compressor {
        COMPRESSOR_POINT_WISE => {
            let mut d = SequentialPointRecordDecompressor::new(whole()?);
            guarded(|| d.set_fields_from(&items).map_err(|e| e.to_string()))?;
            Ok(sequential(SeqDecoder::PointWise(d)))
        }
        COMPRESSOR_POINT_WISE_CHUNKED | COMPRESSOR_LAYERED_CHUNKED => {
            let variable = vlr.uses_variable_size_chunks();
            match chunk_spans(src.as_ref(), base, vlr, total)? {
                Some(spans) => Ok(Body::Chunked {
                    src,
                    base,
                    data_len,
                    items,
                    selection: selection_for(keep),
                    spans,
                    next: 0,
                }),
                None if variable && laz.compressor == COMPRESSOR_POINT_WISE_CHUNKED => {
                    Err("variable-size LAZ chunks but no chunk table: the file cannot be decoded"
                        .into())
                }
                None => {
                    let vlr = vlr.clone();
                    let cursor = whole()?;
                    let d = guarded(|| {
                        LasZipDecompressor::new(cursor, vlr).map_err(|e| e.to_string())
                    })?;
                    Ok(sequential(SeqDecoder::Laszip(d)))
                }
            }
        }
        other => Err(format!("LASzip compressor type {other} is not supported")),
    }
}

fn selection_for(keep: Attributes) -> DecompressionSelection {
    let mut s = DecompressionSelection::base().decompress_z();
    if keep.intensity {
        s = s.decompress_intensity();
    }
    if keep.classification {
        s = s.decompress_classification();
    }
    if keep.user_data {
        s = s.decompress_user_data();
    }
    if keep.gps_time {
        s = s.decompress_gps_time();
    }
    if keep.rgb {
        s = s.decompress_rgb();
    }
    s
}

/// The chunks of the LAZ point data that starts at file offset `base` of `src`, or `None` when
/// the file has no usable chunk table. Reads the table's offset and the table, nothing else.
fn chunk_spans(
    src: &dyn RandomRead,
    base: u64,
    vlr: &LazVlr,
    total: u64,
) -> Result<Option<Vec<ChunkSpan>>, String> {
    let len = src.len().saturating_sub(base);
    if len < 16 {
        return Ok(None);
    }
    let read = |at: u64, buf: &mut [u8]| {
        src.read_at(base + at, buf).map_err(|e| format!("reading the chunk table: {e}"))
    };
    let valid = |abs: i64| -> Option<u64> {
        let rel = u64::try_from(abs).ok()?.checked_sub(base)?;
        (rel >= 8 && rel + 8 <= len).then_some(rel)
    };
    let mut offset = [0u8; 8];
    read(0, &mut offset)?;
    let table_at = match valid(i64::from_le_bytes(offset)) {
        Some(rel) => rel,
        None => {
            read(len - 8, &mut offset)?;
            match valid(i64::from_le_bytes(offset)) {
                Some(rel) => rel,
                None => return Ok(None),
            }
        }
    };
    let mut table = vec![0u8; usize::try_from(len - table_at).map_err(|e| e.to_string())?];
    read(table_at, &mut table)?;
    let table_at = usize::try_from(table_at).map_err(|e| e.to_string())?;
    let n_chunks = le_u32(&table, 4) as usize;
    // Every chunk starts with at least one raw point record (20 bytes or more).
    if n_chunks as u64 > len / 20 + 1 {
        return Err(format!(
            "the chunk table claims {n_chunks} chunks, more than {len} bytes of data can hold"
        ));
    }
    let variable = vlr.uses_variable_size_chunks();
    let entries = guarded(|| {
        ChunkTable::read(&mut Cursor::new(&table), variable)
            .map_err(|e| format!("cannot read the chunk table: {e}"))
    })?;
    let mut spans = Vec::with_capacity(n_chunks);
    let mut start = 8usize;
    let mut remaining = total;
    for (i, entry) in entries.as_ref().iter().enumerate() {
        if remaining == 0 {
            break;
        }
        let end = usize::try_from(entry.byte_count)
            .ok()
            .and_then(|b| start.checked_add(b))
            .filter(|&end| end <= table_at)
            .ok_or_else(|| format!("chunk {i} runs past the chunk table"))?;
        let count = if variable { entry.point_count } else { u64::from(vlr.chunk_size()) };
        let points = count.min(remaining);
        if points > 0 {
            spans.push(ChunkSpan {
                start,
                end,
                points: usize::try_from(points).map_err(|e| e.to_string())?,
            });
        }
        remaining -= points;
        start = end;
    }
    if remaining > 0 {
        return Err(format!(
            "the chunk table covers {} of the {total} points the header declares",
            total - remaining
        ));
    }
    Ok(Some(spans))
}

/// What decoding any chunk of one LAZ file needs: where its compressed points are, how its
/// records are compressed and which layers to decompress, and how records become points.
struct ChunkDecoder<'s> {
    src: &'s (dyn RandomRead + Send + Sync),
    /// File offset of the point data (chunk spans are relative to it).
    base: u64,
    items: &'s Vec<LazItem>,
    selection: DecompressionSelection,
    decoder: &'s RecordDecoder,
}

impl ChunkDecoder<'_> {
    /// Chunk `span` as a piece of its own.
    fn decode(&self, span: ChunkSpan) -> Result<PointCloud, String> {
        let mut cloud = empty_cloud(self.decoder.origin, self.decoder.kept());
        cloud.resize_default(span.points);
        self.decode_into(span, CloudOut::of(&mut cloud, 0))?;
        Ok(cloud)
    }

    /// Reads chunk `span` and decompresses it, a step of records at a time, straight into `out`
    /// (which holds `span.points` points).
    fn decode_into(&self, span: ChunkSpan, out: CloudOut<'_>) -> Result<(), String> {
        let mut bytes = vec![0u8; span.end.saturating_sub(span.start)];
        self.src
            .read_at(self.base + span.start as u64, &mut bytes)
            .map_err(|e| format!("reading: {e}"))?;
        let rl = self.decoder.layout.record_len;
        guarded(|| {
            let cursor = Cursor::new(bytes.as_slice());
            let version = self.items.first().map(|i| i.version()).unwrap_or(0);
            let mut d: Box<dyn RecordDecompressor<Cursor<&[u8]>>> = match version {
                1 | 2 => Box::new(SequentialPointRecordDecompressor::new(cursor)),
                3 | 4 => Box::new(LayeredPointRecordDecompressor::new(cursor)),
                v => return Err(format!("LASzip item version {v} is not supported")),
            };
            d.set_fields_from(self.items).map_err(|e| e.to_string())?;
            d.set_selection(self.selection);
            let mut raw = Vec::new();
            let mut rest = out;
            while rest.len() > 0 {
                let (step, tail) = rest.split_at(LAZ_STEP_POINTS);
                rest = tail;
                raw.resize(step.len() * rl, 0);
                d.decompress_many(&mut raw).map_err(|e| e.to_string())?;
                self.decoder.decode_into(&raw, step);
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Record decoding

/// Where the fields of a point record are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RecordLayout {
    record_len: usize,
    /// Formats 6–10.
    extended: bool,
    gps: Option<usize>,
    rgb: Option<usize>,
}

impl RecordLayout {
    fn new(format: u8, record_len: usize) -> Self {
        let (extended, gps, rgb) = match format {
            0 => (false, None, None),
            1 | 4 => (false, Some(20), None),
            2 => (false, None, Some(20)),
            3 | 5 => (false, Some(20), Some(28)),
            6 | 9 => (true, Some(22), None),
            _ => (true, Some(22), Some(30)),
        };
        RecordLayout { record_len, extended, gps, rgb }
    }
}

/// Turns raw records into a [`PointCloud`] piece.
#[derive(Debug, Clone, Copy)]
struct RecordDecoder {
    layout: RecordLayout,
    scale: [f64; 3],
    /// Coordinate offset minus origin.
    shift: [f64; 3],
    origin: [f64; 3],
    keep: Attributes,
}

impl RecordDecoder {
    fn decode(&self, raw: &[u8], n: usize) -> PointCloud {
        let n = n.min(raw.len() / self.layout.record_len.max(1));
        let mut cloud = empty_cloud(self.origin, self.kept());
        cloud.resize_default(n);
        self.decode_into(raw, CloudOut::of(&mut cloud, 0));
        cloud
    }

    /// The attributes decoded (RGB and GPS time only when the format has them).
    fn kept(&self) -> Attributes {
        Attributes {
            rgb: self.keep.rgb && self.layout.rgb.is_some(),
            gps_time: self.keep.gps_time && self.layout.gps.is_some(),
            ..self.keep
        }
    }

    /// Decodes the records of `raw` into `out` (as many as both hold).
    fn decode_into(&self, raw: &[u8], out: CloudOut<'_>) {
        let rl = self.layout.record_len;
        let records = || raw.chunks_exact(rl);
        let [sx, sy, sz] = self.scale;
        let [dx, dy, dz] = self.shift;
        for (p, r) in out.positions.iter_mut().zip(records()) {
            *p = [
                (f64::from(le_i32(r, 0)) * sx + dx) as f32,
                (f64::from(le_i32(r, 4)) * sy + dy) as f32,
                (f64::from(le_i32(r, 8)) * sz + dz) as f32,
            ];
        }
        let ext = self.layout.extended;
        // One byte field of every record, masked (a plain loop the compiler unrolls; a byte
        // past a short record reads as 0).
        let fill = |dst: Option<&mut [u8]>, at: usize, mask: u8| {
            for (d, r) in dst.into_iter().flatten().zip(records()) {
                *d = r.get(at).copied().unwrap_or(0) & mask;
            }
        };
        for (d, r) in out.intensity.into_iter().flatten().zip(records()) {
            *d = le_u16(r, 12);
        }
        if ext {
            fill(out.classification, 16, 0xFF);
            fill(out.return_number, 14, 0x0F);
        } else {
            fill(out.classification, 15, 0x1F);
            fill(out.return_number, 14, 0x07);
        }
        fill(out.user_data, 17, 0xFF);
        if let (Some(dst), Some(at)) = (out.rgb, self.layout.rgb) {
            for (d, r) in dst.iter_mut().zip(records()) {
                *d = [le_u16(r, at), le_u16(r, at + 2), le_u16(r, at + 4)];
            }
        }
        if let (Some(dst), Some(at)) = (out.gps_time, self.layout.gps) {
            for (d, r) in dst.iter_mut().zip(records()) {
                *d = le_f64(r, at);
            }
        }
    }
}

/// Mutable views of a run of points of a [`PointCloud`]'s arrays: where a decode writes.
struct CloudOut<'a> {
    positions: &'a mut [[f32; 3]],
    intensity: Option<&'a mut [u16]>,
    classification: Option<&'a mut [u8]>,
    return_number: Option<&'a mut [u8]>,
    rgb: Option<&'a mut [[u16; 3]]>,
    gps_time: Option<&'a mut [f64]>,
    user_data: Option<&'a mut [u8]>,
}

impl<'a> CloudOut<'a> {
    /// Points `from..` of `cloud`.
    fn of(cloud: &'a mut PointCloud, from: usize) -> Self {
        fn tail<T>(v: &mut Option<Vec<T>>, from: usize) -> Option<&mut [T]> {
            v.as_mut().map(|v| v.get_mut(from..).unwrap_or_default())
        }
        Self {
            positions: cloud.positions.get_mut(from..).unwrap_or_default(),
            intensity: tail(&mut cloud.intensity, from),
            classification: tail(&mut cloud.classification, from),
            return_number: tail(&mut cloud.return_number, from),
            rgb: tail(&mut cloud.rgb, from),
            gps_time: tail(&mut cloud.gps_time, from),
            user_data: tail(&mut cloud.user_data, from),
        }
    }

    fn len(&self) -> usize {
        self.positions.len()
    }

    /// The first `mid` points (at most all) and the rest.
    fn split_at(self, mid: usize) -> (Self, Self) {
        fn split<T>(v: Option<&mut [T]>, mid: usize) -> (Option<&mut [T]>, Option<&mut [T]>) {
            match v {
                Some(v) => {
                    let (a, b) = v.split_at_mut(mid.min(v.len()));
                    (Some(a), Some(b))
                }
                None => (None, None),
            }
        }
        let (p0, p1) = self.positions.split_at_mut(mid.min(self.positions.len()));
        let (i0, i1) = split(self.intensity, mid);
        let (c0, c1) = split(self.classification, mid);
        let (r0, r1) = split(self.return_number, mid);
        let (g0, g1) = split(self.rgb, mid);
        let (t0, t1) = split(self.gps_time, mid);
        let (u0, u1) = split(self.user_data, mid);
        (
            Self {
                positions: p0,
                intensity: i0,
                classification: c0,
                return_number: r0,
                rgb: g0,
                gps_time: t0,
                user_data: u0,
            },
            Self {
                positions: p1,
                intensity: i1,
                classification: c1,
                return_number: r1,
                rgb: g1,
                gps_time: t1,
                user_data: u1,
            },
        )
    }

    /// Consecutive runs of `size` points.
    fn pieces(self, size: usize) -> Vec<Self> {
        let mut out = Vec::with_capacity(self.len().div_ceil(size.max(1)));
        let mut rest = self;
        while !rest.positions.is_empty() {
            let (head, tail) = rest.split_at(size.max(1));
            out.push(head);
            rest = tail;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A LAS 1.2 file with `records` of point format `format` (record length `rl`).
    fn las_bytes(format: u8, rl: u16, records: &[Vec<u8>], declared: u32) -> Vec<u8> {
        let mut b = vec![0u8; 227];
        b[..4].copy_from_slice(b"LASF");
        b[24] = 1;
        b[25] = 2;
        b[94..96].copy_from_slice(&227u16.to_le_bytes());
        b[96..100].copy_from_slice(&227u32.to_le_bytes());
        b[104] = format;
        b[105..107].copy_from_slice(&rl.to_le_bytes());
        b[107..111].copy_from_slice(&declared.to_le_bytes());
        for (i, s) in [0.01f64, 0.01, 0.001].iter().enumerate() {
            b[131 + 8 * i..139 + 8 * i].copy_from_slice(&s.to_le_bytes());
        }
        for (i, o) in [1000.0f64, 2000.0, 0.0].iter().enumerate() {
            b[155 + 8 * i..163 + 8 * i].copy_from_slice(&o.to_le_bytes());
        }
        for r in records {
            b.extend_from_slice(r);
        }
        b
    }

    fn record(format: u8, rl: usize, xyz: [i32; 3], intensity: u16, class: u8) -> Vec<u8> {
        let mut r = vec![0u8; rl];
        r[0..4].copy_from_slice(&xyz[0].to_le_bytes());
        r[4..8].copy_from_slice(&xyz[1].to_le_bytes());
        r[8..12].copy_from_slice(&xyz[2].to_le_bytes());
        r[12..14].copy_from_slice(&intensity.to_le_bytes());
        if format >= 6 {
            r[14] = 0x21; // return 1 of 2
            r[16] = class;
            r[17] = 9;
            r[22..30].copy_from_slice(&12.5f64.to_le_bytes());
        } else {
            r[14] = 0b0001_0010; // return 2 of 2
            r[15] = class | 0xE0; // flags in the top bits must be masked off
            r[17] = 9;
        }
        r
    }

    #[test]
    fn decodes_legacy_records_with_extra_bytes() {
        let recs: Vec<Vec<u8>> =
            (0..3).map(|i| record(0, 24, [i * 100, -i * 100, i * 1000], 7 + i as u16, 2)).collect();
        let bytes = las_bytes(0, 24, &recs, 3);
        let loaded = load_bytes(&bytes, "t.las", &LoadOptions::all()).unwrap();
        let c = &loaded.cloud;
        assert_eq!(c.len(), 3);
        assert_eq!(c.world_position(2).unwrap(), [1002.0, 1998.0, 2.0]);
        assert_eq!(c.intensity.as_deref(), Some(&[7u16, 8, 9][..]));
        assert_eq!(c.classification.as_deref(), Some(&[2u8, 2, 2][..]));
        assert_eq!(c.return_number.as_deref(), Some(&[2u8, 2, 2][..]));
        assert_eq!(c.user_data.as_deref(), Some(&[9u8, 9, 9][..]));
        assert!(c.gps_time.is_none() && c.rgb.is_none());
        assert!(loaded.report.notes.iter().any(|n| n.contains("4 extra bytes")));
    }

    #[test]
    fn extended_records_use_the_full_classification_byte() {
        let recs = vec![record(6, 30, [1, 2, 3], 5, 200)];
        let bytes = las_bytes(6, 30, &recs, 1);
        let c = load_bytes(&bytes, "t.las", &LoadOptions::all()).unwrap().cloud;
        assert_eq!(c.classification, Some(vec![200]));
        assert_eq!(c.return_number, Some(vec![1]));
        assert_eq!(c.gps_time, Some(vec![12.5]));
    }

    #[test]
    fn truncated_point_data_is_an_error_naming_the_file() {
        let recs = vec![record(0, 20, [0, 0, 0], 0, 0); 2];
        let bytes = las_bytes(0, 20, &recs, 3);
        let err = load_bytes(&bytes, "short.las", &LoadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("short.las") && msg.contains("declares 3 points"), "{msg}");
    }

    #[test]
    fn garbage_vlr_count_is_bounded_by_the_point_offset() {
        let recs = vec![record(0, 20, [0, 0, 0], 0, 0)];
        let mut bytes = las_bytes(0, 20, &recs, 1);
        bytes[100..104].copy_from_slice(&1_069_128_089u32.to_le_bytes());
        let loaded = load_bytes(&bytes, "g.las", &LoadOptions::default()).unwrap();
        assert_eq!(loaded.cloud.len(), 1);
        assert!(loaded.report.notes.iter().any(|n| n.contains("1069128089")));
    }

    #[test]
    fn short_record_length_and_bad_format_are_rejected() {
        let bytes = las_bytes(3, 20, &[], 0);
        assert!(load_bytes(&bytes, "a.las", &LoadOptions::default()).is_err());
        let bytes = las_bytes(11, 80, &[], 0);
        assert!(load_bytes(&bytes, "a.las", &LoadOptions::default()).is_err());
        assert!(load_bytes(b"LASF", "a.las", &LoadOptions::default()).is_err());
    }

    #[test]
    fn pieces_share_one_origin_and_cover_every_point() {
        let n = RAW_PIECE_POINTS * 2 + 17;
        let recs: Vec<Vec<u8>> =
            (0..n as i32).map(|i| record(0, 20, [i, i % 7, 0], 0, (i % 31) as u8)).collect();
        let bytes = las_bytes(0, 20, &recs, n as u32);
        let pieces: Vec<PointCloud> = chunks_bytes(&bytes, "p.las", &LoadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(pieces.len() >= 3);
        assert_eq!(pieces.iter().map(PointCloud::len).sum::<usize>(), n);
        let last = pieces.last().unwrap();
        let x = last.world_position(last.len() - 1).unwrap()[0];
        assert!((x - (1000.0 + (n - 1) as f64 * 0.01)).abs() < 1e-3, "{x}");
    }

    #[test]
    fn las_chunks_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<LasChunks<'static>>();
    }
}
