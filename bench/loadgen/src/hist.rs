//! Log-linear latency histogram (HDR-style, ~0.8% relative precision, fixed 37 KB).

const SUB: u32 = 64; // sub-buckets per power of two (upper half)
const BUCKETS: usize = (64 * SUB as usize) + 2 * SUB as usize;

pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

fn index(v: u64) -> usize {
    if v < 2 * SUB as u64 {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros();
    let shift = msb - 6; // v >> shift lands in [64, 128)
    (shift as usize) * SUB as usize + (v >> shift) as usize
}

fn value_of(idx: usize) -> u64 {
    if idx < 2 * SUB as usize {
        return idx as u64;
    }
    let shift = (idx / SUB as usize - 1) as u32;
    let mant = (idx - (shift as usize) * SUB as usize) as u64;
    // midpoint of the bucket
    (mant << shift) + ((1u64 << shift) >> 1)
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, max: 0 }
    }
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        self.counts[index(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }
    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += *b;
        }
        self.total += o.total;
        self.max = self.max.max(o.max);
    }
    pub fn count(&self) -> u64 {
        self.total
    }
    pub fn max(&self) -> u64 {
        self.max
    }
    /// q in [0,1]; returns 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut cum = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cum += c;
            if cum >= rank {
                return value_of(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip_precision() {
        for v in [0u64, 1, 127, 128, 129, 255, 256, 1000, 30_000, 123_456_789, 1 << 40] {
            let got = value_of(index(v));
            let err = (got as f64 - v as f64).abs() / (v.max(1) as f64);
            assert!(err < 0.01, "v={v} got={got}");
        }
        let mut idx = 0;
        for v in 0..100_000u64 {
            let i = index(v);
            assert!(i >= idx);
            idx = i;
        }
    }
    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.01, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.01, "{p99}");
    }
}
