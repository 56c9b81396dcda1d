//! Estimated compression ratio, so a compressed batch is closed when its
//! *compressed* size would reach `batch.size` (Java's `CompressionRatioEstimator`).

/// A running estimate of `compressed / uncompressed` records bytes for one topic
/// (and the producer's one codec), as Java keeps per topic and codec.
///
/// It starts at 1.0 (no compression assumed), follows worse ratios quickly (at
/// least +0.05 per batch) and better ones slowly (-0.005 per batch, never below
/// the ratio seen), so batches rarely overshoot `batch.size`.
///
/// ```
/// use kafka_core::record_batch::CompressionRatioEstimator;
/// let mut estimator = CompressionRatioEstimator::new();
/// assert_eq!(estimator.estimate(), 1.0);
/// estimator.update(0.3);
/// assert!((estimator.estimate() - 0.995).abs() < 1e-6);
/// estimator.update(1.2);
/// assert!((estimator.estimate() - 1.2).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressionRatioEstimator {
    ratio: f32,
}

/// How much the estimate falls per batch that compressed better than estimated.
const IMPROVING_STEP: f32 = 0.005;
/// The least the estimate rises per batch that compressed worse than estimated.
const DETERIORATING_STEP: f32 = 0.05;

impl CompressionRatioEstimator {
    /// An estimator starting at 1.0.
    pub const fn new() -> Self {
        CompressionRatioEstimator { ratio: 1.0 }
    }

    /// The current estimate, for [`RecordBatchBuilder::set_estimated_compression_ratio`](super::RecordBatchBuilder::set_estimated_compression_ratio).
    pub const fn estimate(&self) -> f32 {
        self.ratio
    }

    /// Folds in a closed batch's [`compression_ratio`](super::ClosedBatch::compression_ratio)
    /// and returns the new estimate. Non-finite or negative observations are ignored.
    pub fn update(&mut self, observed: f32) -> f32 {
        if !observed.is_finite() || observed < 0.0 {
            return self.ratio;
        }
        if observed > self.ratio {
            self.ratio = (self.ratio + DETERIORATING_STEP).max(observed);
        } else if observed < self.ratio {
            // Never below what was seen (Java's `Math.max`), so batches do
            // not overshoot `batch.size` by the step.
            self.ratio = (self.ratio - IMPROVING_STEP).max(observed);
        }
        self.ratio
    }
}

impl Default for CompressionRatioEstimator {
    fn default() -> Self {
        CompressionRatioEstimator::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_java_steps() {
        let mut estimator = CompressionRatioEstimator::new();
        for _ in 0..10 {
            estimator.update(0.2);
        }
        assert!((estimator.estimate() - 0.95).abs() < 1e-5);
        // A slightly worse batch raises it by at least the deteriorating step.
        assert!((estimator.update(0.96) - 1.0).abs() < 1e-5);
        assert_eq!(estimator.update(f32::NAN), estimator.estimate());
        assert_eq!(estimator.update(-1.0), estimator.estimate());
        // A slightly better batch lowers it to what was seen, no further.
        let mut estimator = CompressionRatioEstimator::new();
        assert!((estimator.update(0.998) - 0.998).abs() < 1e-6);
    }
}
