//! Is the LASzip arithmetic decoder itself the bound on LAZ reading, or `laz`'s implementation
//! of it? Point-14 LAZ spends most of its time in `IntegerDecompressor::decompress` and
//! `ArithmeticDecoder::decode_symbol` (`perf record` of `groundwork info` on the 10M-point LAZ:
//! 54 % + 9 %). This bench encodes two streams of LAS-like coordinate deltas with `laz`'s own
//! `IntegerCompressor` (32 bits, 2 contexts: point-14's dX), then decodes them three ways on one
//! thread and checks every value:
//!
//! - `laz`: `laz`'s decoder, one stream after the other (what both we and laspy's lazrs run);
//! - `laz, 2 streams interleaved`: both streams in one loop, value by value, so that the core's
//!   out-of-order window can overlap two independent dependency chains;
//! - `lean rewrite`: the same algorithm written here over a byte slice (no `io::Read`, no
//!   `Result` per byte, boxed slices), bit-exact with `laz`.
//!
//! If a rewrite or interleaving were much faster than `laz`, a faster LAZ reader would be a
//! matter of writing our own decoder; measured here, neither is (see BENCHMARKS.md). Not a timed
//! assertion. Run: `cargo bench --bench laz_decoder`; `GROUNDWORK_BENCH_POINTS` (values per
//! stream, default 5,000,000), `GROUNDWORK_BENCH_REPEAT` (default 5, median reported).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Cursor;
use std::time::{Duration, Instant};

use laz::compressors::IntegerCompressorBuilder;
use laz::decoders::ArithmeticDecoder;
use laz::decompressors::IntegerDecompressorBuilder;
use laz::encoders::ArithmeticEncoder;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deltas like a scanner's along-track X steps: mostly small, now and then a jump.
fn deltas(seed: u64, n: usize) -> Vec<i32> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n)
        .map(|_| {
            let small = rng.i32(-100..100);
            if rng.u32(0..17) == 0 { small + rng.i32(-5000..5000) } else { small }
        })
        .collect()
}

fn encode(values: &[i32]) -> Vec<u8> {
    let mut encoder = ArithmeticEncoder::new(Cursor::new(Vec::new()));
    let mut ic = IntegerCompressorBuilder::new().bits(32).contexts(2).build_initialized();
    let mut prev = 0;
    for (i, &v) in values.iter().enumerate() {
        ic.compress(&mut encoder, prev, v, (i & 1) as u32).unwrap();
        prev = v;
    }
    encoder.done().unwrap();
    encoder.into_inner().into_inner()
}

fn laz_one(bytes: &[u8], n: usize, out: &mut Vec<i32>) {
    let mut decoder = ArithmeticDecoder::new(Cursor::new(bytes));
    decoder.read_init_bytes().unwrap();
    let mut ic = IntegerDecompressorBuilder::new().bits(32).contexts(2).build_initialized();
    let mut prev = 0;
    for i in 0..n {
        prev = ic.decompress(&mut decoder, prev, (i & 1) as u32).unwrap();
        out.push(prev);
    }
}

fn laz_interleaved(a: &[u8], b: &[u8], n: usize, out_a: &mut Vec<i32>, out_b: &mut Vec<i32>) {
    let mut da = ArithmeticDecoder::new(Cursor::new(a));
    let mut db = ArithmeticDecoder::new(Cursor::new(b));
    da.read_init_bytes().unwrap();
    db.read_init_bytes().unwrap();
    let build = || IntegerDecompressorBuilder::new().bits(32).contexts(2).build_initialized();
    let (mut ia, mut ib) = (build(), build());
    let (mut pa, mut pb) = (0, 0);
    for i in 0..n {
        pa = ia.decompress(&mut da, pa, (i & 1) as u32).unwrap();
        pb = ib.decompress(&mut db, pb, (i & 1) as u32).unwrap();
        out_a.push(pa);
        out_b.push(pb);
    }
}

fn lean_one(bytes: &[u8], n: usize, out: &mut Vec<i32>) {
    let mut decoder = lean::Decoder::new(bytes);
    let mut ic = lean::IntegerDecoder::new(32, 2, 8);
    let mut prev = 0;
    for i in 0..n {
        prev = ic.decode(&mut decoder, prev, (i & 1) as u32);
        out.push(prev);
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let n = env_or("GROUNDWORK_BENCH_POINTS", 5_000_000);
    let repeat = env_or("GROUNDWORK_BENCH_REPEAT", 5).max(1);
    let (a, b) = (deltas(1, n), deltas(2, n));
    let (ea, eb) = (encode(&a), encode(&b));
    let fresh = || (Vec::with_capacity(n), Vec::with_capacity(n));
    let check = |oa: &Vec<i32>, ob: &Vec<i32>, what: &str| {
        assert!(oa == &a && ob == &b, "{what} decoded other values than were encoded");
    };

    let mut runs: [Vec<Duration>; 3] = Default::default();
    for _ in 0..repeat {
        let (mut oa, mut ob) = fresh();
        let t = Instant::now();
        laz_one(&ea, n, &mut oa);
        laz_one(&eb, n, &mut ob);
        runs[0].push(t.elapsed());
        check(&oa, &ob, "laz");

        let (mut oa, mut ob) = fresh();
        let t = Instant::now();
        laz_interleaved(&ea, &eb, n, &mut oa, &mut ob);
        runs[1].push(t.elapsed());
        check(&oa, &ob, "laz interleaved");

        let (mut oa, mut ob) = fresh();
        let t = Instant::now();
        lean_one(&ea, n, &mut oa);
        lean_one(&eb, n, &mut ob);
        runs[2].push(t.elapsed());
        check(&oa, &ob, "lean rewrite");
    }
    let base = median(runs[0].clone()).as_secs_f64();
    println!(
        "{} values in 2 streams ({:.1} + {:.1} MB compressed), median of {repeat}, one thread\n",
        2 * n,
        ea.len() as f64 / 1e6,
        eb.len() as f64 / 1e6
    );
    println!("| decoder | ms | ns / value | speed vs laz |");
    println!("|---|---:|---:|---:|");
    let names = ["laz", "laz, 2 streams interleaved", "lean rewrite"];
    for (name, times) in names.iter().zip(runs) {
        let t = median(times).as_secs_f64();
        println!(
            "| {name} | {:.0} | {:.1} | {:.2}× |",
            t * 1e3,
            t * 1e9 / (2 * n) as f64,
            base / t
        );
    }
}

/// The LASzip arithmetic decoder, adaptive models and integer decompressor, written over a byte
/// slice. Same arithmetic as `laz` (and LASzip): same symbols for the same bytes.
mod lean {
    const DM_LENGTH_SHIFT: u32 = 15;
    const DM_MAX_COUNT: u32 = 1 << DM_LENGTH_SHIFT;
    const BM_LENGTH_SHIFT: u32 = 13;
    const BM_MAX_COUNT: u32 = 1 << BM_LENGTH_SHIFT;
    const AC_MIN_LENGTH: u32 = 0x0100_0000;

    pub struct Model {
        symbols: u32,
        distribution: Box<[u32]>,
        symbol_count: Box<[u32]>,
        decoder_table: Box<[u32]>,
        total_count: u32,
        update_cycle: u32,
        until_update: u32,
        last_symbol: u32,
        table_size: u32,
        table_shift: u32,
    }

    impl Model {
        pub fn new(symbols: u32) -> Self {
            let (table_size, table_shift, decoder_table) = if symbols > 16 {
                let mut table_bits = 3u32;
                while symbols > (1u32 << (table_bits + 2)) {
                    table_bits += 1;
                }
                let size = 1u32 << table_bits;
                (size, DM_LENGTH_SHIFT - table_bits, vec![0; size as usize + 2].into_boxed_slice())
            } else {
                (0, 0, Box::default())
            };
            let mut model = Model {
                symbols,
                distribution: vec![0; symbols as usize].into(),
                symbol_count: vec![1; symbols as usize].into(),
                decoder_table,
                total_count: 0,
                update_cycle: symbols,
                until_update: 0,
                last_symbol: symbols - 1,
                table_size,
                table_shift,
            };
            model.update();
            model.update_cycle = (symbols + 6) >> 1;
            model.until_update = model.update_cycle;
            model
        }

        #[inline(never)]
        fn update(&mut self) {
            self.total_count += self.update_cycle;
            if self.total_count > DM_MAX_COUNT {
                self.total_count = 0;
                for c in self.symbol_count.iter_mut() {
                    *c = (*c + 1) >> 1;
                    self.total_count += *c;
                }
            }
            let mut sum = 0u32;
            let scale = 0x8000_0000u32 / self.total_count;
            let counts = self.distribution.iter_mut().zip(self.symbol_count.iter());
            if self.table_size == 0 {
                for (d, c) in counts {
                    *d = (scale * sum) >> (31 - DM_LENGTH_SHIFT);
                    sum += *c;
                }
            } else {
                let mut s = 0usize;
                for (k, (d, c)) in counts.enumerate() {
                    *d = (scale * sum) >> (31 - DM_LENGTH_SHIFT);
                    sum += *c;
                    let w = (*d >> self.table_shift) as usize;
                    while s < w {
                        s += 1;
                        self.decoder_table[s] = (k - 1) as u32;
                    }
                }
                self.decoder_table[0] = 0;
                while s <= self.table_size as usize {
                    s += 1;
                    self.decoder_table[s] = self.symbols - 1;
                }
            }
            self.update_cycle = ((5 * self.update_cycle) >> 2).min((self.symbols + 6) << 3);
            self.until_update = self.update_cycle;
        }
    }

    pub struct BitModel {
        bit_0_count: u32,
        bit_count: u32,
        bit_0_prob: u32,
        until_update: u32,
        update_cycle: u32,
    }

    impl BitModel {
        pub fn new() -> Self {
            BitModel {
                bit_0_count: 1,
                bit_count: 2,
                bit_0_prob: 1 << (BM_LENGTH_SHIFT - 1),
                until_update: 4,
                update_cycle: 4,
            }
        }

        #[inline(never)]
        fn update(&mut self) {
            self.bit_count += self.update_cycle;
            if self.bit_count > BM_MAX_COUNT {
                self.bit_count = (self.bit_count + 1) >> 1;
                self.bit_0_count = (self.bit_0_count + 1) >> 1;
                if self.bit_0_count == self.bit_count {
                    self.bit_count += 1;
                }
            }
            let scale = 0x8000_0000u32 / self.bit_count;
            self.bit_0_prob = (self.bit_0_count * scale) >> (31 - BM_LENGTH_SHIFT);
            self.update_cycle = ((5 * self.update_cycle) >> 2).min(64);
            self.until_update = self.update_cycle;
        }
    }

    pub struct Decoder<'a> {
        bytes: &'a [u8],
        pos: usize,
        value: u32,
        length: u32,
    }

    impl<'a> Decoder<'a> {
        pub fn new(bytes: &'a [u8]) -> Self {
            let mut decoder = Decoder { bytes, pos: 0, value: 0, length: u32::MAX };
            for _ in 0..4 {
                decoder.value = (decoder.value << 8) | decoder.byte();
            }
            decoder
        }

        /// Past the end reads zeros (the bench checks every value against what was encoded).
        #[inline(always)]
        fn byte(&mut self) -> u32 {
            let b = self.bytes.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
            u32::from(b)
        }

        #[inline(always)]
        fn renormalise(&mut self) {
            while self.length < AC_MIN_LENGTH {
                self.value = (self.value << 8) | self.byte();
                self.length <<= 8;
            }
        }

        #[inline(always)]
        pub fn bit(&mut self, m: &mut BitModel) -> u32 {
            let x = m.bit_0_prob * (self.length >> BM_LENGTH_SHIFT);
            let one = self.value >= x;
            if one {
                self.value -= x;
                self.length -= x;
            } else {
                self.length = x;
                m.bit_0_count += 1;
            }
            self.renormalise();
            m.until_update -= 1;
            if m.until_update == 0 {
                m.update();
            }
            u32::from(one)
        }

        #[inline(always)]
        pub fn symbol(&mut self, m: &mut Model) -> u32 {
            let mut y = self.length;
            self.length >>= DM_LENGTH_SHIFT;
            let (sym, x);
            if m.table_size != 0 {
                let dv = self.value / self.length.max(1);
                let t = (dv >> m.table_shift) as usize;
                let mut s = m.decoder_table[t];
                let mut n = m.decoder_table[t + 1] + 1;
                while n > s + 1 {
                    let k = (s + n) >> 1;
                    if m.distribution[k as usize] > dv {
                        n = k;
                    } else {
                        s = k;
                    }
                }
                sym = s;
                x = m.distribution[s as usize] * self.length;
                if s != m.last_symbol {
                    y = m.distribution[s as usize + 1] * self.length;
                }
            } else {
                let (mut s, mut lower) = (0u32, 0u32);
                let mut n = m.symbols;
                let mut k = n >> 1;
                loop {
                    let z = self.length * m.distribution[k as usize];
                    if z > self.value {
                        n = k;
                        y = z;
                    } else {
                        s = k;
                        lower = z;
                    }
                    k = (s + n) >> 1;
                    if k == s {
                        break;
                    }
                }
                sym = s;
                x = lower;
            }
            self.value -= x;
            self.length = y - x;
            self.renormalise();
            m.symbol_count[sym as usize] += 1;
            m.until_update -= 1;
            if m.until_update == 0 {
                m.update();
            }
            sym
        }

        #[inline(always)]
        pub fn bits(&mut self, bits: u32) -> u32 {
            if bits > 19 {
                let low = self.raw(16);
                let high = self.bits(bits - 16) << 16;
                return high | low;
            }
            self.raw(bits)
        }

        #[inline(always)]
        fn raw(&mut self, bits: u32) -> u32 {
            self.length >>= bits;
            let sym = self.value / self.length.max(1);
            self.value -= self.length * sym;
            self.renormalise();
            sym
        }
    }

    pub struct IntegerDecoder {
        bits_high: u32,
        corr_range: u32,
        corr_min: i32,
        m_bits: Vec<Model>,
        m_corrector0: BitModel,
        m_corrector: Vec<Model>,
    }

    impl IntegerDecoder {
        pub fn new(bits: u32, contexts: u32, bits_high: u32) -> Self {
            let (corr_bits, corr_range, corr_min) = if bits != 0 && bits < 32 {
                (bits, 1u32 << bits, -((1i32 << bits) / 2))
            } else {
                (32, 0, i32::MIN)
            };
            IntegerDecoder {
                bits_high,
                corr_range,
                corr_min,
                m_bits: (0..contexts).map(|_| Model::new(corr_bits + 1)).collect(),
                m_corrector0: BitModel::new(),
                m_corrector: (1..=corr_bits).map(|i| Model::new(1 << i.min(bits_high))).collect(),
            }
        }

        #[inline(always)]
        pub fn decode(&mut self, d: &mut Decoder, pred: i32, context: u32) -> i32 {
            let k = d.symbol(&mut self.m_bits[context as usize]);
            let corrector = if k == 0 {
                d.bit(&mut self.m_corrector0) as i32
            } else if k < 32 {
                let model = &mut self.m_corrector[(k - 1) as usize];
                let mut c = if k <= self.bits_high {
                    d.symbol(model) as i32
                } else {
                    let k1 = k - self.bits_high;
                    let high = d.symbol(model) as i32;
                    (high << k1) | d.bits(k1) as i32
                };
                if c >= (1u32 << (k - 1)) as i32 {
                    c += 1;
                } else {
                    c -= ((1u32 << k) - 1) as i32;
                }
                c
            } else {
                self.corr_min
            };
            let mut real = pred.wrapping_add(corrector);
            if real < 0 {
                real = real.wrapping_add(self.corr_range as i32);
            } else if self.corr_range != 0 && real >= self.corr_range as i32 {
                real -= self.corr_range as i32;
            }
            real
        }
    }
}
