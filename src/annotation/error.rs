//! The error type of the `annotation` layer: which object, which worker, which field.

/// An error turning workers' answers into Ground Truth records.
///
/// Every variant that concerns one answer names the data object (`datasetObjectId`) and the worker,
/// so a job author can find the offending worker-response file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnnotationError {
    /// The job's label list is empty.
    #[error("the label list is empty")]
    NoLabels,
    /// A label name occurs twice in the job's label list.
    #[error("label `{label}` appears more than once in the label list")]
    DuplicateLabel {
        /// The repeated name.
        label: String,
    },
    /// A data object reached consolidation without any worker answer.
    #[error("object {object}: no worker answered it, so there is nothing to consolidate")]
    NoAnswers {
        /// The `datasetObjectId`.
        object: String,
    },
    /// The same worker answered one data object twice.
    #[error("object {object}: worker {worker} answered more than once")]
    DuplicateWorker {
        /// The `datasetObjectId`.
        object: String,
        /// The worker id.
        worker: String,
    },
    /// An `answerContent` does not have the shape the task type's form element produces.
    #[error("object {object}, worker {worker}: field `{field}`: {message}")]
    InvalidAnswer {
        /// The `datasetObjectId`.
        object: String,
        /// The worker id.
        worker: String,
        /// JSON path inside `answerContent`, e.g. `boundingBox.boundingBoxes[2].left`.
        field: String,
        /// What is wrong, in words a user can act on.
        message: String,
    },
    /// A worker answered with a label that is not in the job's label list.
    #[error("object {object}, worker {worker}: label `{label}` is not in the job's label list")]
    UnknownLabel {
        /// The `datasetObjectId`.
        object: String,
        /// The worker id.
        worker: String,
        /// The label as the worker sent it.
        label: String,
    },
    /// Workers' masks (or a mask and the image size the worker reported) differ in size.
    #[error(
        "object {object}, worker {worker}: the mask is {width_px}x{height_px} px, but {expected_from} \
         is {expected_width_px}x{expected_height_px} px"
    )]
    MaskSizeMismatch {
        /// The `datasetObjectId`.
        object: String,
        /// The worker whose mask does not fit.
        worker: String,
        /// That mask's width.
        width_px: u32,
        /// That mask's height.
        height_px: u32,
        /// What it was compared with, e.g. `the mask of worker w1`.
        expected_from: String,
        /// The expected width.
        expected_width_px: u32,
        /// The expected height.
        expected_height_px: u32,
    },
    /// A mask pixel has a colour the worker's `labelMappings` do not name.
    #[error(
        "object {object}, worker {worker}: mask pixel ({x_px}, {y_px}) has colour {color}, which is \
         neither transparent, #ffffff (BACKGROUND) nor a colour in the worker's labelMappings"
    )]
    UnknownMaskColor {
        /// The `datasetObjectId`.
        object: String,
        /// The worker id.
        worker: String,
        /// Column of the pixel (0 = left).
        x_px: u32,
        /// Row of the pixel (0 = top).
        y_px: u32,
        /// The colour as `#rrggbb`.
        color: String,
    },
    /// More classes than an 8-bit mask can index (BACKGROUND plus at most 255 labels).
    #[error("{count} classes (BACKGROUND included) do not fit an 8-bit mask; at most 256 do")]
    TooManyClasses {
        /// BACKGROUND plus the number of labels.
        count: usize,
    },
    /// Writing the consolidated mask PNG failed.
    #[error("object {object}: encoding the consolidated mask: {message}")]
    MaskEncode {
        /// The `datasetObjectId`.
        object: String,
        /// The encoder's message.
        message: String,
    },
    /// The expectation-maximisation estimator was called with inconsistent input.
    #[error("label estimation: {message}")]
    InvalidEstimatorInput {
        /// What is inconsistent.
        message: String,
    },
}
