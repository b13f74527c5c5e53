#!/usr/bin/python3
"""csv_gen.py -- write the CSV import benchmark file, a customer-like table.

    /usr/bin/python3 bench/csv_gen.py [ROWS] [OUT]    (default 10000000, bench/out/csv_1g.csv)

About 101 bytes a row, so the default is about 1 GB: an int id, small ints,
money and rate floats, a 50-label category (US states), a 5-label channel and
a 4-label segment, with missing values ("") in some columns.  Deterministic:
numpy's PCG64 with a fixed seed, generated in fixed-size chunks.
"""
import os
import sys

import numpy as np

SEED = 20240611
CHUNK = 250_000

STATES = [
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa",
    "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
    "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
    "New Hampshire",
    "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota",
    "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington", "West Virginia",
    "Wisconsin", "Wyoming",
]
CHANNELS = ["email", "web", "app", "store", "phone"]
SEGMENTS = ["gold", "silver", "bronze", "none"]
HEADER = ("customer_id,age,income,tenure_days,visits_30d,orders_365d,spend_30d,spend_365d,"
          "avg_basket,discount_rate,email_open_rate,days_since_order,pages_per_visit,lifetime_value,"
          "state,channel,segment,churned\n")
# Missing values are written as NaN by '%' formatting and then blanked out; no label
# may contain "nan".
ROW = "%d,%.0f,%.2f,%d,%d,%d,%.2f,%.2f,%.2f,%.4f,%.3f,%.0f,%.1f,%.2f,%s,%s,%s,%d"
assert not any("nan" in s.lower() for s in STATES + CHANNELS + SEGMENTS)


def chunk(rng, start, n):
    age = rng.integers(18, 91, n).astype(np.float64)
    age[rng.random(n) < 0.02] = np.nan
    income = np.round(rng.lognormal(10.8, 0.5, n), 2)
    income[rng.random(n) < 0.05] = np.nan
    tenure = rng.integers(0, 3651, n)
    visits = rng.poisson(3.0, n)
    orders = rng.poisson(6.0, n)
    spend30 = np.round(rng.gamma(1.2, 60.0, n), 2)
    spend365 = np.round(spend30 * 9 + rng.gamma(2.0, 200.0, n), 2)
    basket = np.round(rng.gamma(3.0, 25.0, n), 2)
    discount = np.round(rng.beta(2, 12, n), 4)
    open_rate = np.round(rng.beta(2, 5, n), 3)
    open_rate[rng.random(n) < 0.10] = np.nan
    since = rng.integers(0, 1000, n).astype(np.float64)
    since[orders == 0] = np.nan
    pages = np.round(rng.gamma(2.0, 2.5, n), 1)
    ltv = np.round(spend365 * rng.uniform(1.0, 6.0, n), 2)
    state = rng.integers(0, len(STATES), n)
    channel = rng.integers(0, len(CHANNELS), n)
    segment = rng.integers(0, len(SEGMENTS), n)
    churned = (rng.random(n) < 0.15).astype(np.int64)
    ids = np.arange(start, start + n) + 1_000_000
    rows = zip(ids.tolist(), age.tolist(), income.tolist(), tenure.tolist(), visits.tolist(),
               orders.tolist(), spend30.tolist(), spend365.tolist(), basket.tolist(),
               discount.tolist(), open_rate.tolist(), since.tolist(), pages.tolist(), ltv.tolist(),
               [STATES[i] for i in state.tolist()], [CHANNELS[i] for i in channel.tolist()],
               [SEGMENTS[i] for i in segment.tolist()], churned.tolist())
    text = "\n".join([ROW % r for r in rows]) + "\n"
    return text.replace("nan", "")


def main():
    n_rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "out", "csv_1g.csv")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(SEED))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="") as f:
        f.write(HEADER)
        for start in range(0, n_rows, CHUNK):
            f.write(chunk(rng, start, min(CHUNK, n_rows - start)))
    os.replace(tmp, out)
    print("csv_gen: wrote %s (%d rows, %.1f MB)" % (out, n_rows, os.path.getsize(out) / 1e6))


if __name__ == "__main__":
    main()
