/* encoder_internal.h — what the trainer and tests see of the encoder beyond the public header. */
#ifndef DSP_ENCODER_INTERNAL_H
#define DSP_ENCODER_INTERNAL_H

#include "dissipate.h"
#include "kernels.h"

/* The kernel context (thread pool + kernel set) the encoder runs with, for the trainer's own kernels. */
dsp_kctx *dsp_encoder_kctx(dsp_encoder *e);
/* Tokens in the last forward's batch. */
int dsp_encoder_tokens(const dsp_encoder *e);
/* Masks recorded by the last forward (see dsp_encoder_dropout_record). */
size_t dsp_encoder_dropout_recorded(const dsp_encoder *e);

#endif
