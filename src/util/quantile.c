/* quantile.c -- the q-quantile of a sample, interpolated linearly (Hyndman
 * and Fan's type 7, R's default). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sg_quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double h = q * (n - 1);
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}
