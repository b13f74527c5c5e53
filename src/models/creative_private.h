/* creative_private.h -- what dcgan.c and cnn_classifier.c share (never installed).
 *
 * Both models are 'creative' model files (model.h); the first payload word
 * tells them apart, so each loader can say "this is the other kind". */
#ifndef SG_CREATIVE_PRIVATE_H
#define SG_CREATIVE_PRIVATE_H

#define SG_CNN_MAGIC 0x43434753u   /* "SGCC": the image classifier's payload */

#endif
