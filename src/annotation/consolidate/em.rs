//! Expectation maximisation over a batch of classification answers: Ground Truth's "Modified
//! Dawid–Skene" (MDS) estimator (spec §7.2).
//!
//! Each worker `j` has a confusion matrix `C_j[t][l]` = P(worker answers `l` | true class `t`),
//! estimated across every object of the batch, and the batch has class priors. The estimator
//! alternates:
//!
//! * **E-step**: prior = class marginal of the current posteriors over all objects; for object `i`,
//!   `posterior_i[t] ∝ prior[t] · Π_j C_j[t][l_ij]`, normalised.
//! * **M-step**: confusion counts `Σ_i posterior_i[t]` per (true `t`, answered `l`) and worker; add
//!   Dirichlet-style smoothing `W(acc_j)·n_j + W(ā)·n_j/2`, where `W(a)` has `a` on the diagonal and
//!   `(1 − a)/(K − 1)` elsewhere, `n_j` is the worker's answer count, `acc_j` the worker's expected
//!   accuracy and `ā` the mean accuracy of all workers from the previous epoch; row-normalise.
//!
//! Start: posteriors uniform `1/K`, every `C_j = W(0.7)`, `ā = 0.7`. Stop after
//! [`EmOptions::max_epochs`] epochs or when the log-likelihood `Σ_i ln Σ_t (unnormalised posterior)`
//! changes by less than [`EmOptions::min_relative_change`] relative to the previous epoch. The
//! posteriors returned are those of the last E-step.
//!
//! This follows AWS's published MDS sample with two fixes: the sample normalises its posteriors in
//! place before computing the log-likelihood (so the likelihood is always 0 and it always runs all
//! epochs), and its signed relative change would stop as soon as the likelihood improves; here the
//! likelihood uses the unnormalised posteriors and the test uses the absolute relative change.
//! Fully deterministic: a fixed iteration order and no randomness.

use crate::annotation::AnnotationError;

/// One answer: worker `worker` chose class `class` (both indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The worker's index, below the `n_workers` given to [`estimate`].
    pub worker: usize,
    /// The chosen class's index, below the `n_classes` given to [`estimate`].
    pub class: usize,
}

/// Stopping rule and starting point of the estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct EmOptions {
    /// The most epochs (E-step + M-step) to run; at least 1. Default 20.
    pub max_epochs: usize,
    /// Stop when `|ΔlogL / logL|` falls below this. Default `1e-8`.
    pub min_relative_change: f64,
    /// The diagonal of every worker's starting confusion matrix, in `[0, 1]`. Default 0.7.
    pub initial_accuracy: f64,
}

impl Default for EmOptions {
    fn default() -> Self {
        Self { max_epochs: 20, min_relative_change: 1e-8, initial_accuracy: 0.7 }
    }
}

/// What the estimator found.
#[derive(Debug, Clone, PartialEq)]
pub struct EmEstimate {
    /// Per object (in input order), the probability of each class; sums to 1.
    pub posteriors: Vec<Vec<f64>>,
    /// Per worker, the confusion matrix row-major: entry `t * K + l` is P(answers `l` | true `t`).
    pub confusion: Vec<Vec<f64>>,
    /// Per worker, the expected fraction of correct answers from the last M-step.
    pub worker_accuracy: Vec<f64>,
    /// The class prior of the last E-step.
    pub class_prior: Vec<f64>,
    /// How many epochs ran.
    pub epochs: usize,
}

impl EmEstimate {
    /// P(worker answers `answered` | true class `true_class`), or `None` for an index out of range.
    pub fn confusion_of(&self, worker: usize, true_class: usize, answered: usize) -> Option<f64> {
        let k = self.class_prior.len();
        if true_class >= k || answered >= k {
            return None;
        }
        self.confusion.get(worker)?.get(true_class * k + answered).copied()
    }
}

/// `W(a)`: `a` on the diagonal and `(1 − a)/(K − 1)` elsewhere, row-major `K × K` (`K ≥ 2`).
fn prior_matrix(k: usize, accuracy: f64) -> Vec<f64> {
    let off = (1.0 - accuracy) / (k as f64 - 1.0);
    (0..k * k).map(|e| if e / k == e % k { accuracy } else { off }).collect()
}

/// Runs the estimator over `items` (per object, its workers' answers).
///
/// Errors when a worker or class index is out of range, `n_classes` is 0, `max_epochs` is 0 or
/// `initial_accuracy` is outside `[0, 1]`. With one class every posterior is `[1.0]`.
pub fn estimate(
    items: &[Vec<Observation>],
    n_workers: usize,
    n_classes: usize,
    options: &EmOptions,
) -> Result<EmEstimate, AnnotationError> {
    let invalid = |message: String| AnnotationError::InvalidEstimatorInput { message };
    if n_classes == 0 {
        return Err(invalid("there must be at least one class".into()));
    }
    if options.max_epochs == 0 {
        return Err(invalid("max_epochs must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&options.initial_accuracy) {
        return Err(invalid(format!(
            "initial_accuracy must be in [0, 1], not {}",
            options.initial_accuracy
        )));
    }
    for (i, item) in items.iter().enumerate() {
        for obs in item {
            if obs.worker >= n_workers || obs.class >= n_classes {
                return Err(invalid(format!(
                    "object {i}: answer (worker {}, class {}) is out of range ({n_workers} \
                     workers, {n_classes} classes)",
                    obs.worker, obs.class
                )));
            }
        }
    }

    let k = n_classes;
    if k == 1 {
        return Ok(EmEstimate {
            posteriors: vec![vec![1.0]; items.len()],
            confusion: vec![vec![1.0]; n_workers],
            worker_accuracy: vec![1.0; n_workers],
            class_prior: vec![1.0],
            epochs: 0,
        });
    }

    let uniform = vec![1.0 / k as f64; k];
    let mut posteriors = vec![uniform.clone(); items.len()];
    let mut confusion = vec![prior_matrix(k, options.initial_accuracy); n_workers];
    let mut worker_accuracy = vec![options.initial_accuracy; n_workers];
    let mut all_worker_accuracy = options.initial_accuracy;
    let mut class_prior = uniform;
    let mut previous_log_likelihood: Option<f64> = None;
    let mut epochs = 0;
    let mut unnormalised = vec![0.0; k];
    let mut has_answers = vec![false; n_workers];
    for obs in items.iter().flatten() {
        has_answers[obs.worker] = true;
    }

    while epochs < options.max_epochs {
        epochs += 1;

        // E-step.
        if !posteriors.is_empty() {
            class_prior.fill(0.0);
            for posterior in &posteriors {
                for (p, q) in class_prior.iter_mut().zip(posterior) {
                    *p += q;
                }
            }
            let total: f64 = class_prior.iter().sum();
            if total > 0.0 {
                class_prior.iter_mut().for_each(|p| *p /= total);
            }
        }
        let mut log_likelihood = 0.0;
        for (item, posterior) in items.iter().zip(posteriors.iter_mut()) {
            unnormalised.copy_from_slice(&class_prior);
            for obs in item {
                let matrix = &confusion[obs.worker];
                for (t, u) in unnormalised.iter_mut().enumerate() {
                    *u *= matrix[t * k + obs.class];
                }
            }
            let likelihood: f64 = unnormalised.iter().sum();
            if likelihood > 0.0 && likelihood.is_finite() {
                log_likelihood += likelihood.ln();
                for (p, u) in posterior.iter_mut().zip(&unnormalised) {
                    *p = u / likelihood;
                }
            } else {
                // No class explains these answers under the current model: fall back to the prior.
                posterior.copy_from_slice(&class_prior);
            }
        }

        // M-step.
        let mut counts = vec![vec![0.0; k * k]; n_workers];
        for (item, posterior) in items.iter().zip(&posteriors) {
            for obs in item {
                let worker_counts = &mut counts[obs.worker];
                for (t, p) in posterior.iter().enumerate() {
                    worker_counts[t * k + obs.class] += p;
                }
            }
        }
        let all_worker_prior = prior_matrix(k, all_worker_accuracy);
        for (j, mut matrix) in counts.into_iter().enumerate() {
            let answered: f64 = matrix.iter().sum();
            if answered <= 0.0 {
                continue; // a worker without answers keeps its starting matrix
            }
            let accuracy = (0..k).map(|t| matrix[t * k + t]).sum::<f64>() / answered;
            worker_accuracy[j] = accuracy;
            let own_prior = prior_matrix(k, accuracy);
            for ((m, own), all) in matrix.iter_mut().zip(&own_prior).zip(&all_worker_prior) {
                *m += own * answered + all * answered / 2.0;
            }
            for row in matrix.chunks_mut(k) {
                let sum: f64 = row.iter().sum();
                if sum > 0.0 {
                    row.iter_mut().for_each(|m| *m /= sum);
                }
            }
            confusion[j] = matrix;
        }

        if let Some(previous) = previous_log_likelihood {
            let change = log_likelihood - previous;
            let relative = if previous == 0.0 { change.abs() } else { (change / previous).abs() };
            if relative < options.min_relative_change {
                break;
            }
        }
        previous_log_likelihood = Some(log_likelihood);

        let (sum, count) = worker_accuracy
            .iter()
            .zip(&has_answers)
            .filter(|(_, has)| **has)
            .fold((0.0, 0usize), |(sum, count), (acc, _)| (sum + acc, count + 1));
        if count > 0 {
            all_worker_accuracy = sum / count as f64;
        }
    }

    Ok(EmEstimate { posteriors, confusion, worker_accuracy, class_prior, epochs })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn obs(worker: usize, class: usize) -> Observation {
        Observation { worker, class }
    }

    #[test]
    fn one_epoch_by_hand() {
        // Workers 0 and 1 say class 0, worker 2 says class 1; K = 2, prior uniform, C = W(0.7).
        // posterior[0] ∝ 0.5·0.7·0.7·0.3 = 0.0735, posterior[1] ∝ 0.5·0.3·0.3·0.7 = 0.0315
        // → 0.0735 / 0.105 = 0.7.
        let items = vec![vec![obs(0, 0), obs(1, 0), obs(2, 1)]];
        let options = EmOptions { max_epochs: 1, ..EmOptions::default() };
        let est = estimate(&items, 3, 2, &options).unwrap();
        assert_eq!(est.epochs, 1);
        assert!((est.posteriors[0][0] - 0.7).abs() < 1e-12, "{:?}", est.posteriors);
        // M-step of worker 2 (answered class 1): counts [[0, .7], [0, .3]], accuracy 0.3;
        // + W(0.3)·1 + W(0.7)·0.5 = [[.65, .85], [.85, .65]] → [[.65, 1.55], [.85, .95]]
        // → rows /2.2 and /1.8.
        assert!((est.worker_accuracy[2] - 0.3).abs() < 1e-12);
        assert!((est.confusion_of(2, 0, 1).unwrap() - 1.55 / 2.2).abs() < 1e-12);
        assert!((est.confusion_of(2, 1, 1).unwrap() - 0.95 / 1.8).abs() < 1e-12);
        assert!((est.confusion_of(0, 0, 0).unwrap() - 1.75 / 2.2).abs() < 1e-12);
        assert_eq!(est.confusion_of(0, 2, 0), None);
    }

    #[test]
    fn posteriors_are_distributions_and_runs_stop() {
        let items = vec![
            vec![obs(0, 0), obs(1, 0), obs(2, 1)],
            vec![obs(0, 1), obs(1, 1), obs(2, 1)],
            vec![obs(0, 2), obs(1, 0), obs(2, 2)],
        ];
        let est = estimate(&items, 3, 3, &EmOptions::default()).unwrap();
        assert!(est.epochs >= 2 && est.epochs <= 20);
        for p in &est.posteriors {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
        }
        for m in &est.confusion {
            for row in m.chunks(3) {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn single_class_is_certain() {
        let est = estimate(&[vec![obs(0, 0)]], 1, 1, &EmOptions::default()).unwrap();
        assert_eq!(est.posteriors, vec![vec![1.0]]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let opts = EmOptions::default();
        assert!(estimate(&[vec![obs(3, 0)]], 2, 2, &opts).is_err());
        assert!(estimate(&[vec![obs(0, 2)]], 2, 2, &opts).is_err());
        assert!(estimate(&[], 0, 0, &opts).is_err());
        let zero = EmOptions { max_epochs: 0, ..EmOptions::default() };
        assert!(estimate(&[], 0, 2, &zero).is_err());
        let acc = EmOptions { initial_accuracy: 1.5, ..EmOptions::default() };
        assert!(estimate(&[], 0, 2, &acc).is_err());
    }
}
