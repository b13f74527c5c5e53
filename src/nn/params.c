/* params.c -- the parameter block: named tensors in one float array, and initialisers.
 *
 * As llm.c's malloc_and_point_parameters: a model lists its tensors (name,
 * shape), and the block allocates ONE array of n_params floats with tensor i at
 * a fixed offset, in list order, packed with no padding.  Training adds one more
 * allocation of 3 * n_params floats holding grads, Adam m and Adam v, each with
 * the same layout, so optimisers and gradient helpers are flat loops and a
 * tensor's slice sits at the same offset in all four arrays.  The names and
 * shapes let model files name the tensor that does not match.
 * See LICENSE for copyright. */
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/nn.h"
#include "nn_private.h"

#define PARAMS_MAGIC 0x42504753u /* "SGPB" little-endian */
#define NAME_MAX_LEN 256

typedef struct tensor_info {
    char *name;               /* owned */
    int ndim;
    int shape[SG_MAX_DIMS];
    size_t offset;            /* in floats, into every array */
    size_t size;              /* elements */
} tensor_info;

struct sg_params {
    int n_tensors;
    tensor_info *tensors;     /* (n_tensors) */
    size_t n_params;
    float *data;              /* (n_params) parameters */
    float *train;             /* (3, n_params): grads, m, v; NULL when not training */
    int64_t t;                /* AdamW steps taken */
};

/* ---------------------------------------------------------------------------
 * block construction */

int sg_params_new(sg_params **out, const sg_tensor_spec *specs, int n_tensors, int train,
                  sg_error *err)
{
    int rc = SG_OK;
    sg_params *p = NULL;
    if (!out || (!specs && n_tensors > 0) || n_tensors < 0) {
        return sg_error_set(err, SG_EINVAL, "sg_params_new: bad arguments (n_tensors %d)",
                            n_tensors);
    }
    p = sg_calloc(1, sizeof *p);
    if (!p) goto nomem;
    p->tensors = sg_calloc(n_tensors > 0 ? (size_t)n_tensors : 1, sizeof *p->tensors);
    if (!p->tensors) goto nomem;
    p->n_tensors = n_tensors;

    size_t total = 0;
    for (int i = 0; i < n_tensors; i++) {
        const sg_tensor_spec *s = &specs[i];
        tensor_info *ti = &p->tensors[i];
        if (!s->name || !s->name[0]) {
            rc = sg_error_set(err, SG_EINVAL, "parameter tensor %d: empty name", i);
            goto fail;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(specs[j].name, s->name) == 0) {
                rc = sg_error_set(err, SG_EINVAL, "parameter tensor %d: name '%s' already used "
                                  "by tensor %d", i, s->name, j);
                goto fail;
            }
        }
        if (s->ndim < 1 || s->ndim > SG_MAX_DIMS) {
            rc = sg_error_set(err, SG_EINVAL, "parameter tensor '%s': ndim %d not in 1..%d",
                              s->name, s->ndim, SG_MAX_DIMS);
            goto fail;
        }
        size_t size = 1;
        for (int d = 0; d < s->ndim; d++) {
            if (s->shape[d] < 1) {
                rc = sg_error_set(err, SG_EINVAL, "parameter tensor '%s': dimension %d is %d",
                                  s->name, d, s->shape[d]);
                goto fail;
            }
            if (size > SIZE_MAX / 16 / (size_t)s->shape[d]) {
                rc = sg_error_set(err, SG_EINVAL, "parameter tensor '%s': too large", s->name);
                goto fail;
            }
            size *= (size_t)s->shape[d];
        }
        if (total > SIZE_MAX / 16 - size) {
            rc = sg_error_set(err, SG_EINVAL, "parameter tensor '%s': block too large", s->name);
            goto fail;
        }
        ti->name = sg_strdup(s->name);
        if (!ti->name) goto nomem;
        ti->ndim = s->ndim;
        memcpy(ti->shape, s->shape, sizeof ti->shape);
        for (int d = s->ndim; d < SG_MAX_DIMS; d++) ti->shape[d] = 1;
        ti->offset = total;
        ti->size = size;
        total += size;
    }
    p->n_params = total;
    p->data = sg_calloc(total > 0 ? total : 1, sizeof *p->data);
    if (!p->data) goto nomem;
    if (train) {
        p->train = sg_calloc(3 * (total > 0 ? total : 1), sizeof *p->train);
        if (!p->train) goto nomem;
    }
    *out = p;
    return SG_OK;
nomem:
    rc = sg_error_set(err, SG_ENOMEM, "parameter block (%d tensors): out of memory", n_tensors);
fail:
    sg_params_free(p);
    return rc;
}

void sg_params_free(sg_params *p)
{
    if (!p) return;
    if (p->tensors) {
        for (int i = 0; i < p->n_tensors; i++) sg_free(p->tensors[i].name);
    }
    sg_free(p->tensors);
    sg_free(p->data);
    sg_free(p->train);
    sg_free(p);
}

/* ---------------------------------------------------------------------------
 * accessors */

size_t sg_params_count(const sg_params *p) { return p->n_params; }
int sg_params_n_tensors(const sg_params *p) { return p->n_tensors; }
float *sg_params_data(sg_params *p) { return p->data; }
float *sg_params_grads(sg_params *p) { return p->train; }
float *sg_params_adam_m(sg_params *p) { return p->train ? p->train + p->n_params : NULL; }
float *sg_params_adam_v(sg_params *p) { return p->train ? p->train + 2 * p->n_params : NULL; }

float *sg_params_tensor(sg_params *p, int i) { return p->data + p->tensors[i].offset; }

float *sg_params_grad(sg_params *p, int i)
{
    return p->train ? p->train + p->tensors[i].offset : NULL;
}

int sg_params_find(const sg_params *p, const char *name)
{
    for (int i = 0; i < p->n_tensors; i++) {
        if (strcmp(p->tensors[i].name, name) == 0) return i;
    }
    return -1;
}

const char *sg_params_name(const sg_params *p, int i) { return p->tensors[i].name; }
size_t sg_params_offset(const sg_params *p, int i) { return p->tensors[i].offset; }
size_t sg_params_size(const sg_params *p, int i) { return p->tensors[i].size; }

int sg_params_shape(const sg_params *p, int i, int *shape)
{
    memcpy(shape, p->tensors[i].shape, sizeof p->tensors[i].shape);
    return p->tensors[i].ndim;
}

void sg_params_zero_grad(sg_params *p)
{
    if (p->train) memset(p->train, 0, p->n_params * sizeof *p->train);
}

int64_t sg_params_adam(sg_params *p, float lr, float beta1, float beta2, float eps,
                       float weight_decay)
{
    if (!p->train) return p->t;   /* nothing to update with; documented as a misuse */
    p->t++;
    sg_adam_step(p->data, p->train, p->train + p->n_params, p->train + 2 * p->n_params,
                 p->n_params, lr, beta1, beta2, eps, weight_decay, p->t);
    return p->t;
}

int64_t sg_params_step(const sg_params *p) { return p->t; }
void sg_params_set_step(sg_params *p, int64_t t) { p->t = t; }

/* ---------------------------------------------------------------------------
 * model files (format in nn_private.h) */

void sg_params_write(const sg_params *p, sg_wbuf *w, int with_adam)
{
    sg_wbuf_u32(w, PARAMS_MAGIC);
    sg_wbuf_u32(w, (uint32_t)p->n_tensors);
    for (int i = 0; i < p->n_tensors; i++) {
        const tensor_info *ti = &p->tensors[i];
        sg_wbuf_str(w, ti->name);
        sg_wbuf_u32(w, (uint32_t)ti->ndim);
        for (int d = 0; d < ti->ndim; d++) sg_wbuf_i32(w, ti->shape[d]);
    }
    sg_wbuf_u64(w, (uint64_t)p->n_params);
    sg_wbuf_f32s(w, p->data, p->n_params);
    int adam = with_adam && p->train;
    sg_wbuf_u32(w, (uint32_t)adam);
    if (adam) {
        sg_wbuf_i64(w, p->t);
        sg_wbuf_f32s(w, p->train + p->n_params, 2 * p->n_params);
    }
}

/* "(20108,600)" into buf. */
static void shape_str(char *buf, size_t cap, const int *shape, int ndim)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && len < cap; d++) {
        int k = snprintf(buf + len, cap - len, "%s%d", d ? "," : "(", shape[d]);
        if (k < 0) return;
        len += (size_t)k;
    }
    if (len < cap) snprintf(buf + len, cap - len, ")");
}

/* Check the tensor table at 'r' against 'p'. */
static int read_table(const sg_params *p, sg_rbuf *r, sg_error *err)
{
    uint32_t magic, n_tensors;
    int rc = sg_rbuf_u32(r, &magic, "parameter block magic", err);
    if (rc) return rc;
    if (magic != PARAMS_MAGIC) {
        return sg_error_set(err, SG_EPARSE, "parameter block: bad magic 0x%08x (expected "
                            "\"SGPB\"): not a parameter block, or a corrupt file", magic);
    }
    if ((rc = sg_rbuf_u32(r, &n_tensors, "parameter tensor count", err))) return rc;
    if (n_tensors != (uint32_t)p->n_tensors) {
        return sg_error_set(err, SG_EPARSE, "parameter block: file has %u tensors, model "
                            "expects %d", n_tensors, p->n_tensors);
    }
    for (int i = 0; i < p->n_tensors; i++) {
        const tensor_info *ti = &p->tensors[i];
        char *name = NULL;
        if ((rc = sg_rbuf_str(r, &name, NAME_MAX_LEN, "parameter tensor name", err))) return rc;
        int same = name && strcmp(name, ti->name) == 0;
        if (!same) {
            rc = sg_error_set(err, SG_EPARSE, "parameter tensor %d: file has '%s', model "
                              "expects '%s'", i, name ? name : "(null)", ti->name);
        }
        sg_free(name);
        if (rc) return rc;
        uint32_t ndim;
        int shape[SG_MAX_DIMS];
        if ((rc = sg_rbuf_u32(r, &ndim, "parameter tensor ndim", err))) return rc;
        if (ndim < 1 || ndim > SG_MAX_DIMS) {
            return sg_error_set(err, SG_EPARSE, "parameter tensor '%s': ndim %u in file is "
                                "corrupt", ti->name, ndim);
        }
        for (uint32_t d = 0; d < ndim; d++) {
            int32_t v;
            if ((rc = sg_rbuf_i32(r, &v, "parameter tensor shape", err))) return rc;
            shape[d] = v;
        }
        int match = (int)ndim == ti->ndim;
        for (int d = 0; match && d < ti->ndim; d++) match = shape[d] == ti->shape[d];
        if (!match) {
            char a[96], b[96];
            shape_str(a, sizeof a, shape, (int)ndim);
            shape_str(b, sizeof b, ti->shape, ti->ndim);
            return sg_error_set(err, SG_EPARSE, "parameter tensor '%s': file shape %s, model "
                                "expects %s", ti->name, a, b);
        }
    }
    uint64_t n;
    if ((rc = sg_rbuf_u64(r, &n, "parameter count", err))) return rc;
    if (n != (uint64_t)p->n_params) {
        return sg_error_set(err, SG_EPARSE, "parameter block: file has %llu parameters, model "
                            "expects %zu", (unsigned long long)n, p->n_params);
    }
    return SG_OK;
}

int sg_params_read(sg_params *p, sg_rbuf *r, sg_error *err)
{
    sg_rbuf probe = *r;   /* read on a copy: 'r' and 'p' move only once all is there */
    int rc = read_table(p, &probe, err);
    if (rc) return rc;
    size_t n = p->n_params, pos = probe.pos, left = probe.len - probe.pos;
    if (left / sizeof(float) < n || left - n * sizeof(float) < 4) {
        return sg_error_set(err, SG_EPARSE, "truncated data: %zu parameters need %zu bytes at "
                            "offset %zu, %zu left", n, n * sizeof(float) + 4, pos, left);
    }
    uint32_t adam;
    memcpy(&adam, probe.data + pos + n * sizeof(float), 4);
    if (adam > 1) {
        return sg_error_set(err, SG_EPARSE, "parameter block: Adam flag %u is corrupt", adam);
    }
    size_t need = n * sizeof(float) + 4 + (adam ? 8 + 2 * n * sizeof(float) : 0);
    if (left < need) {
        return sg_error_set(err, SG_EPARSE, "truncated data: parameter block needs %zu bytes "
                            "at offset %zu, %zu left", need, pos, left);
    }
    /* Everything is present: copy. */
    memcpy(p->data, probe.data + pos, n * sizeof(float));
    pos += n * sizeof(float) + 4;
    if (adam) {
        int64_t t;
        memcpy(&t, probe.data + pos, 8);
        if (p->train) {
            p->t = t;
            memcpy(p->train + n, probe.data + pos + 8, 2 * n * sizeof(float));
        }
        pos += 8 + 2 * n * sizeof(float);
    }
    r->pos = pos;
    return SG_OK;
}

/* ---------------------------------------------------------------------------
 * initialisers (serial: draws happen in element order) */

void sg_init_uniform(float *w, size_t n, float lo, float hi, sg_rng *rng)
{
    double span = (double)hi - (double)lo;
    for (size_t i = 0; i < n; i++) w[i] = (float)((double)lo + span * sg_rng_uniform(rng));
}

void sg_init_normal(float *w, size_t n, float mean, float std, sg_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        w[i] = (float)((double)mean + (double)std * sg_rng_normal(rng));
    }
}

void sg_init_xavier_uniform(float *w, int fan_in, int fan_out, sg_rng *rng)
{
    float a = (float)sqrt(6.0 / ((double)fan_in + (double)fan_out));
    sg_init_uniform(w, (size_t)fan_in * (size_t)fan_out, -a, a, rng);
}

void sg_init_xavier_normal(float *w, int fan_in, int fan_out, sg_rng *rng)
{
    float s = (float)sqrt(2.0 / ((double)fan_in + (double)fan_out));
    sg_init_normal(w, (size_t)fan_in * (size_t)fan_out, 0.0f, s, rng);
}

void sg_init_he_normal(float *w, int fan_in, int fan_out, sg_rng *rng)
{
    float s = (float)sqrt(2.0 / (double)fan_in);
    sg_init_normal(w, (size_t)fan_in * (size_t)fan_out, 0.0f, s, rng);
}
