/* idmap.c -- customer ids as text: a hash map from id to row, and the
 * "each customer at most once" check of plan files.  Used wherever a plan is
 * joined to a log or a customer file (evaluate, plan, simulate), so every
 * join matches ids the same way: exact text, duplicates an error. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "stratagem/mem.h"

/* FNV-1a */
static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int cli_idmap_init(cli_idmap *m, int64_t n)
{
    int64_t cap = 16;
    while (cap < 2 * n + 16) cap *= 2;
    m->cap = cap;
    m->key = sg_calloc((size_t)cap, sizeof *m->key);
    m->val = sg_calloc((size_t)cap, sizeof *m->val);
    return m->key && m->val ? 0 : -1;
}

void cli_idmap_deinit(cli_idmap *m)
{
    sg_free(m->key);
    sg_free(m->val);
    memset(m, 0, sizeof *m);
}

int cli_idmap_put(cli_idmap *m, const char *k, int64_t v)
{
    uint64_t mask = (uint64_t)(m->cap - 1);
    for (uint64_t h = str_hash(k) & mask;; h = (h + 1) & mask) {
        if (!m->key[h]) {
            m->key[h] = k;
            m->val[h] = v;
            return 1;
        }
        if (!strcmp(m->key[h], k)) return 0;
    }
}

int cli_idmap_get(const cli_idmap *m, const char *k, int64_t *v)
{
    uint64_t mask = (uint64_t)(m->cap - 1);
    for (uint64_t h = str_hash(k) & mask;; h = (h + 1) & mask) {
        if (!m->key[h]) return 0;
        if (!strcmp(m->key[h], k)) {
            *v = m->val[h];
            return 1;
        }
    }
}

int cli_check_unique_ids(const sg_table *t, int col, const int64_t *rows, int64_t n)
{
    cli_idmap map = {0, NULL, NULL};
    char **txt = sg_calloc((size_t)(n ? n : 1), sizeof *txt);
    char buf[512];
    int rc = EXIT_OK;
    if (!txt || cli_idmap_init(&map, n)) {
        fprintf(stderr, "stratagem: out of memory\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t i = rows ? rows[k] : k;
        if (!(txt[k] = sg_strdup(sg_table_cell(t, i, col, buf, sizeof buf)))) {
            fprintf(stderr, "stratagem: out of memory\n");
            rc = EXIT_RUNTIME;
            goto done;
        }
        int64_t first;
        if (cli_idmap_get(&map, txt[k], &first)) {
            int64_t i0 = rows ? rows[first] : first;
            fprintf(stderr, "stratagem: %s:%lld: customer '%s' appears twice (first at line %lld); "
                    "a plan gives each customer at most one action\n", sg_table_name(t),
                    (long long)sg_table_row_line(t, i), txt[k],
                    (long long)sg_table_row_line(t, i0));
            rc = EXIT_DATA;
            goto done;
        }
        cli_idmap_put(&map, txt[k], k);
    }
done:
    for (int64_t k = 0; txt && k < n; k++) sg_free(txt[k]);
    sg_free(txt);
    cli_idmap_deinit(&map);
    return rc;
}
