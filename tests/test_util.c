/* test_util.c -- mem, rng, serial and error helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stratagem/error.h"
#include "stratagem/mem.h"
#include "stratagem/rng.h"
#include "io/serial.h"

/* util-1.1: live bytes go back to where they were */
static void mem_counts(void **state)
{
    (void)state;
    int64_t before = sg_mem_live_bytes();
    void *p = sg_malloc(100);
    assert_non_null(p);
    assert_int_equal(sg_mem_live_bytes() - before, 100);
    p = sg_realloc(p, 1000);
    assert_int_equal(sg_mem_live_bytes() - before, 1000);
    sg_free(p);
    sg_free(NULL);
    assert_int_equal(sg_mem_live_bytes(), before);
}

/* util-1.2: injected failures fail, then injection can be switched off */
static void mem_inject(void **state)
{
    (void)state;
    sg_mem_fail_after(1);
    void *a = sg_malloc(8);
    void *b = sg_malloc(8);
    assert_non_null(a);
    assert_null(b);
    sg_mem_fail_after(-1);
    b = sg_malloc(8);
    assert_non_null(b);
    sg_free(a);
    sg_free(b);
    assert_null(sg_malloc_array(SIZE_MAX / 2, 4));
}

/* util-2.1: same seed, same stream; uniform mean and normal variance plausible */
static void rng_stream(void **state)
{
    (void)state;
    sg_rng a, b;
    sg_rng_init(&a, 42);
    sg_rng_init(&b, 42);
    for (int i = 0; i < 100; i++) assert_true(sg_rng_u64(&a) == sg_rng_u64(&b));
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double z = sg_rng_normal(&a);
        s += z;
        s2 += z * z;
    }
    assert_true(s / 100000 < 0.02 && s / 100000 > -0.02);
    assert_true(s2 / 100000 > 0.97 && s2 / 100000 < 1.03);
    for (int i = 0; i < 1000; i++) assert_true(sg_rng_below(&a, 7) < 7);
}

/* util-3.1: serial round trip; truncation is an error that says what was read */
static void serial_roundtrip(void **state)
{
    (void)state;
    sg_wbuf w;
    sg_wbuf_init(&w);
    sg_wbuf_u32(&w, 7);
    sg_wbuf_f64(&w, 3.25);
    sg_wbuf_str(&w, "hello");
    sg_wbuf_str(&w, NULL);
    assert_int_equal(sg_wbuf_status(&w, NULL), SG_OK);
    sg_rbuf r;
    sg_rbuf_init(&r, w.data, w.len);
    uint32_t u;
    double d;
    char *s, *n;
    sg_error err;
    assert_int_equal(sg_rbuf_u32(&r, &u, "u", &err), SG_OK);
    assert_int_equal(sg_rbuf_f64(&r, &d, "d", &err), SG_OK);
    assert_int_equal(sg_rbuf_str(&r, &s, 100, "s", &err), SG_OK);
    assert_int_equal(sg_rbuf_str(&r, &n, 100, "n", &err), SG_OK);
    assert_int_equal(u, 7);
    assert_true(d == 3.25);
    assert_string_equal(s, "hello");
    assert_null(n);
    assert_int_equal(sg_rbuf_u32(&r, &u, "the magic", &err), SG_EPARSE);
    assert_non_null(strstr(err.msg, "the magic"));
    sg_free(s);
    sg_rbuf_init(&r, w.data, 6);
    assert_int_equal(sg_rbuf_u32(&r, &u, "u", &err), SG_OK);
    assert_int_equal(sg_rbuf_f64(&r, &d, "the value", &err), SG_EPARSE);
    sg_wbuf_deinit(&w);
    assert_int_equal(sg_crc32(0, "123456789", 9), 0xCBF43926u);
}

/* util-4.1: error helpers */
static void error_helpers(void **state)
{
    (void)state;
    sg_error err;
    sg_error_clear(&err);
    assert_int_equal(sg_error_set(&err, SG_EINVAL, "bad %d", 3), SG_EINVAL);
    sg_error_prefix(&err, "fold %d: ", 2);
    assert_string_equal(err.msg, "fold 2: bad 3");
    assert_string_equal(sg_errname(SG_EPARSE), "SG_EPARSE");
    assert_int_equal(sg_error_set(NULL, SG_EIO, "x"), SG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mem_counts),      cmocka_unit_test(mem_inject),
        cmocka_unit_test(rng_stream),      cmocka_unit_test(serial_roundtrip),
        cmocka_unit_test(error_helpers),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
