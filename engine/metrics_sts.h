/* metrics_sts.h — alignment and uniformity of sentence embeddings on an STS set (spec §5, SimCSE's figure).
 * Internal to the engine (the evaluation loop uses them); dsp_spearman / dsp_pearson are in dissipate.h. */
#ifndef DSP_METRICS_STS_H
#define DSP_METRICS_STS_H

/* At most this many unique sentences enter dsp_sts_uniform: its cost is quadratic (M²/2 dot products), and
 * 4096 covers STS-B dev and test (about 3000 unique sentences) in full. */
#define DSP_STS_UNIFORM_MAX 4096

/* align = mean ‖a_i − b_i‖² over the pairs with gold_i >= 4.0 (gold on the 0–5 scale); a, b [n, D] unit rows.
 * NAN if no pair qualifies, n < 1, D < 1 or an input is not finite. */
double dsp_sts_align(const float *a, const float *b, const float *gold, int n, int D);

/* uniform = log mean over pairs {x, y} of distinct sentences of e^{−2‖x − y‖²}, with a log-sum-exp.
 * "Distinct sentences": the union of the unique sentences of both sides, as SimCSE's evaluation takes it.
 * Without the texts, a sentence is identified by its embedding: rows that are bitwise equal are one sentence
 * (an evaluation encoder has no dropout, so the same sentence always gives the same bits). The rows are taken
 * in the order a_0, b_0, a_1, b_1, …, each kept at its first appearance; only the first DSP_STS_UNIFORM_MAX
 * unique ones are used (deterministic, and balanced between the two sides). Each unordered pair counts once.
 * NAN if fewer than 2 unique rows, n < 1, D < 1, an input is not finite, or memory runs out. */
double dsp_sts_uniform(const float *a, const float *b, int n, int D);

#endif
