/* test_modelfile.c -- the SGM1 container: round trip and every kind of bad file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "stratagem/mem.h"
#include "stratagem/model.h"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/sg_test_modelfile_%ld.sgm", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static long file_size(void)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void patch_byte(long off, unsigned char v)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, off, SEEK_SET);
    fputc(v, f);
    fclose(f);
}

static int read_back(int want, sg_error *err)
{
    unsigned char *p = NULL;
    size_t n;
    int task;
    int rc = sg_modelfile_read(path, want, &task, &p, &n, err);
    sg_free(p);
    return rc;
}

/* modelfile-1.1: round trip keeps task and payload */
static void roundtrip(void **state)
{
    (void)state;
    const unsigned char payload[] = "the parameters";
    assert_int_equal(sg_modelfile_write(path, SG_TASK_RESPONSE, payload, sizeof payload, NULL), SG_OK);
    unsigned char *p = NULL;
    size_t n;
    int task;
    assert_int_equal(sg_modelfile_read(path, SG_TASK_RESPONSE, &task, &p, &n, NULL), SG_OK);
    assert_int_equal(task, SG_TASK_RESPONSE);
    assert_int_equal(n, sizeof payload);
    assert_memory_equal(p, payload, n);
    sg_free(p);
}

/* modelfile-2.1: every truncation is a clear SG_EPARSE */
static void truncated(void **state)
{
    (void)state;
    const unsigned char payload[64] = {1, 2, 3};
    sg_error err;
    assert_int_equal(sg_modelfile_write(path, SG_TASK_RESPONSE, payload, sizeof payload, NULL), SG_OK);
    long full = file_size();
    for (long cut = full - 1; cut >= 0; cut--) {
        assert_int_equal(truncate(path, cut), 0);
        assert_int_equal(read_back(SG_TASK_RESPONSE, &err), SG_EPARSE);
        assert_true(strstr(err.msg, "truncated") || strstr(err.msg, "not a stratagem model"));
    }
}

/* modelfile-2.2: bad magic, newer version, flipped payload byte, other task */
static void corrupt(void **state)
{
    (void)state;
    const unsigned char payload[64] = {1, 2, 3};
    sg_error err;
    assert_int_equal(sg_modelfile_write(path, SG_TASK_RESPONSE, payload, sizeof payload, NULL), SG_OK);
    patch_byte(0, 'X');
    assert_int_equal(read_back(0, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "not a stratagem model file"));

    sg_modelfile_write(path, SG_TASK_RESPONSE, payload, sizeof payload, NULL);
    patch_byte(4, 9);
    assert_int_equal(read_back(0, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "version 9"));
    assert_non_null(strstr(err.msg, "newer"));

    sg_modelfile_write(path, SG_TASK_RESPONSE, payload, sizeof payload, NULL);
    patch_byte(30, 0x55);
    assert_int_equal(read_back(0, &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "checksum"));

    sg_modelfile_write(path, SG_TASK_RECOMMEND, payload, sizeof payload, NULL);
    assert_int_equal(read_back(SG_TASK_RESPONSE, &err), SG_EINVAL);
    assert_non_null(strstr(err.msg, "'recommend' model"));
    assert_int_equal(read_back(0, &err), SG_OK);
}

/* modelfile-3.1: a missing file and an unwritable path are SG_EIO */
static void io_errors(void **state)
{
    (void)state;
    sg_error err;
    unsigned char *p;
    size_t n;
    int task;
    assert_int_equal(sg_modelfile_read("/nonexistent/x.sgm", 0, &task, &p, &n, &err), SG_EIO);
    assert_int_equal(sg_modelfile_write("/nonexistent/x.sgm", 1, (const unsigned char *)"a", 1, &err), SG_EIO);
}

/* modelfile-4.1: the task from the header alone; 0 for no file, a file that is not a
 * model, and a FIFO, which is refused at once (no writer ever opens it) */
static void task_peek(void **state)
{
    (void)state;
    const unsigned char payload[] = {1, 2, 3};
    assert_int_equal(sg_modelfile_write(path, SG_TASK_UPLIFT, payload, sizeof payload, NULL), SG_OK);
    assert_int_equal(sg_modelfile_task(path), SG_TASK_UPLIFT);
    assert_int_equal(sg_modelfile_task(NULL), 0);
    assert_int_equal(sg_modelfile_task("/nonexistent/x.sgm"), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("id,x\n1,2\n", f);
    fclose(f);
    assert_int_equal(sg_modelfile_task(path), 0);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(sg_modelfile_task(path), 0);
    sg_error err;
    unsigned char *p;
    size_t n;
    int task;
    assert_int_equal(sg_modelfile_read(path, 0, &task, &p, &n, &err), SG_EIO);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip), cmocka_unit_test(truncated), cmocka_unit_test(corrupt),
        cmocka_unit_test(io_errors), cmocka_unit_test(task_peek),
    };
    return cmocka_run_group_tests_name("modelfile", tests, setup, teardown);
}
