/* modelfile.c -- the SGM1 container: header, payload, CRC-32 (see model.h). */
#include "stratagem/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/serial.h"
#include "stratagem/mem.h"

static const char MAGIC[4] = {'S', 'G', 'M', '1'};
#define HEADER_LEN 20   /* magic 4 + version 4 + task 4 + payload length 8 */

const char *sg_task_name(int task)
{
    switch (task) {
    case SG_TASK_RESPONSE: return "response";
    case SG_TASK_UPLIFT: return "uplift";
    case SG_TASK_RECOMMEND: return "recommend";
    case SG_TASK_SYNTH: return "synth";
    case SG_TASK_CREATIVE: return "creative";
    case SG_TASK_SIMULATE: return "simulate";
    case SG_TASK_PROMO: return "promo";
    case SG_TASK_BUDGET: return "budget";
    default: return "unknown";
    }
}

int sg_modelfile_write(const char *path, int task, const unsigned char *payload, size_t len,
                       sg_error *err)
{
    unsigned char hdr[HEADER_LEN];
    uint32_t version = SG_MODEL_FORMAT_VERSION, t = (uint32_t)task;
    uint64_t n = len;
    memcpy(hdr, MAGIC, 4);
    memcpy(hdr + 4, &version, 4);
    memcpy(hdr + 8, &t, 4);
    memcpy(hdr + 12, &n, 8);
    uint32_t crc = sg_crc32(sg_crc32(0, hdr, sizeof hdr), payload, len);

    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return sg_error_set(err, SG_EINVAL, "%s: cannot write a model there: not a regular file",
                            path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sg_error_set(err, SG_EINVAL, "model path too long: %s", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return sg_error_set(err, SG_EIO, "%s: cannot write: %s", path, strerror(errno));
    int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr && fwrite(payload, 1, len, f) == len &&
             fwrite(&crc, 1, 4, f) == 4 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) saved = errno;
        unlink(tmp);
        return sg_error_set(err, SG_EIO, "%s: cannot write: %s", path, strerror(saved));
    }
    return SG_OK;
}

/* *out: 'path' opened for reading, when it is a regular file.  O_NONBLOCK: a FIFO
 * opens at once (and is refused) instead of blocking the caller, a server's
 * reload say, until a writer appears. */
static int open_regular(const char *path, FILE **out, sg_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return sg_error_set(err, SG_EIO, "%s: cannot open model: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sg_error_set(err, SG_EIO, "%s: cannot read model: not a regular file", path);
    }
    if (!(*out = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        return sg_error_set(err, SG_EIO, "%s: cannot open model: %s", path, strerror(e));
    }
    return SG_OK;
}

int sg_modelfile_task(const char *path)
{
    FILE *f;
    if (!path || open_regular(path, &f, NULL)) return 0;
    unsigned char hdr[12];   /* magic, format version, task */
    size_t n = fread(hdr, 1, sizeof hdr, f);
    fclose(f);
    if (n != sizeof hdr || memcmp(hdr, MAGIC, 4) != 0) return 0;
    uint32_t task;
    memcpy(&task, hdr + 8, 4);
    return (int)task;
}

int sg_modelfile_read(const char *path, int want_task, int *task, unsigned char **payload,
                      size_t *len, sg_error *err)
{
    FILE *f;
    int rc = open_regular(path, &f, err);
    if (rc) return rc;
    unsigned char *data = NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = sg_error_set(err, SG_EIO, "%s: cannot read model: %s", path, strerror(errno));
        goto done;
    }
    long size = ftell(f);
    rewind(f);
    if (size < 0) {
        rc = sg_error_set(err, SG_EIO, "%s: cannot read model: %s", path, strerror(errno));
        goto done;
    }
    data = sg_malloc((size_t)size + 1);
    if (!data) {
        rc = sg_error_set(err, SG_ENOMEM, "%s: out of memory reading model", path);
        goto done;
    }
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        rc = sg_error_set(err, SG_EIO, "%s: cannot read model", path);
        goto done;
    }
    if (size < 4 || memcmp(data, MAGIC, 4) != 0) {
        rc = sg_error_set(err, SG_EPARSE, "%s is not a stratagem model file (no SGM1 magic)", path);
        goto done;
    }
    if (size < HEADER_LEN + 4) {
        rc = sg_error_set(err, SG_EPARSE, "%s: truncated model file (%ld bytes)", path, size);
        goto done;
    }
    uint32_t version, t, crc;
    uint64_t n;
    memcpy(&version, data + 4, 4);
    memcpy(&t, data + 8, 4);
    memcpy(&n, data + 12, 8);
    if (version != SG_MODEL_FORMAT_VERSION) {
        rc = sg_error_set(err, SG_EPARSE,
                          "%s: model format version %u, but this stratagem reads version %d%s",
                          path, version, SG_MODEL_FORMAT_VERSION,
                          version > SG_MODEL_FORMAT_VERSION
                              ? " (hint: the file was written by a newer stratagem; upgrade)"
                              : " (hint: retrain the model with this version)");
        goto done;
    }
    if (n != (uint64_t)size - HEADER_LEN - 4) {
        rc = sg_error_set(err, SG_EPARSE,
                          "%s: truncated or padded model file (payload says %llu bytes, file "
                          "holds %ld)", path, (unsigned long long)n, size - HEADER_LEN - 4);
        goto done;
    }
    memcpy(&crc, data + size - 4, 4);
    if (crc != sg_crc32(0, data, (size_t)size - 4)) {
        rc = sg_error_set(err, SG_EPARSE, "%s: corrupt model file (checksum mismatch)", path);
        goto done;
    }
    if (want_task > 0 && (int)t != want_task) {
        rc = sg_error_set(err, SG_EINVAL, "%s holds a '%s' model; this needs a '%s' model", path,
                          sg_task_name((int)t), sg_task_name(want_task));
        goto done;
    }
    memmove(data, data + HEADER_LEN, (size_t)n);
    *task = (int)t;
    *payload = data;
    *len = (size_t)n;
    data = NULL;
    rc = SG_OK;
done:
    sg_free(data);
    fclose(f);
    return rc;
}
