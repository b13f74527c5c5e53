#!/usr/bin/python3
"""recommend_users.py -- where recommenders win and lose, by user and by item.

    SG=build/stratagem bench/recommend_users.py SPLIT_DIR MODEL [MODEL ...]

SPLIT_DIR is a 'stratagem recommend split' folder (train.csv, {test,validation}_
{foldin,heldout}.csv; bench/recommend_splits.sh keeps them), each MODEL a recommend model
trained on its train.csv.  For the test and the validation users, each model's full
ranking comes from 'stratagem recommend --data FOLDIN --k ALL' (fold-in items excluded, as
'evaluate' does), and the script prints per model:
  - NDCG@100 over the users, then by the user's number of fold-in items (<20, 20-49,
    50-149, >=150);
  - how many of the list slots (top 100 of every user) hold items by the number of training
    users who have them (<5, 5-19, 20-49, 50-99, >=100), and how many of those are hits;
  - NDCG@100 after adding alpha * log(1 + that number) to every score, for a few alphas
    (a popularity correction for the vae and dae, whose scores are logits; alpha = 0 is the
    model itself).
NDCG@100 uses binary gains, as 'stratagem evaluate' does; its overall figure matches.
"""
import collections
import csv
import math
import os
import subprocess
import sys
import tempfile

SIZE_EDGES = [20, 50, 150]          # fold-in items: <20, 20-49, 50-149, >=150
POP_EDGES = [5, 20, 50, 100]        # training users of an item
ALPHAS = [-0.2, -0.1, -0.05, 0.05, 0.1, 0.2]


def bucket(v, edges):
    for i, e in enumerate(edges):
        if v < e:
            return i
    return len(edges)


def read_pairs(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        rows = collections.defaultdict(set)
        for row in r:
            rows[row[0]].add(row[1])
    return head, rows


def ndcg(ranked, held):
    dcg = sum(1 / math.log2(i + 2) for i, it in enumerate(ranked[:100]) if it in held)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(held), 100)))
    return dcg / idcg


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    d, models = sys.argv[1], sys.argv[2:]
    sg = os.environ.get("SG", "build/stratagem")
    head, train = read_pairs(os.path.join(d, "train.csv"))
    pop = collections.Counter(it for items in train.values() for it in items)
    n_items = len(pop)
    for setname in ("test", "validation"):
        foldin_path = os.path.join(d, setname + "_foldin.csv")
        _, fold = read_pairs(foldin_path)
        _, held = read_pairs(os.path.join(d, setname + "_heldout.csv"))
        users = sorted(u for u in held if held[u])
        sizes = collections.Counter(bucket(len(fold[u]), SIZE_EDGES) for u in users)
        print("%s users: %d; by fold-in size <20/20-49/50-149/>=150: %s" %
              (setname, len(users), "/".join(str(sizes[i]) for i in range(4))))
        for mpath in models:
            with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
                subprocess.run([sg, "-q", "recommend", "--model", mpath, "--data", foldin_path,
                                "--user-col", head[0], "--item-col", head[1],
                                "--k", str(n_items), "--out", tmp.name], check=True)
                scores = collections.defaultdict(list)
                with open(tmp.name, newline="") as f:
                    for r in csv.DictReader(f):
                        scores[r["user"]].append((r["item"], float(r["score"])))
            by_size = collections.defaultdict(list)
            slots = collections.Counter()
            hits = collections.Counter()
            adj = {a: [] for a in ALPHAS}
            for u in users:
                lst = scores.get(u, [])
                ranked = [it for it, _ in sorted(lst, key=lambda t: -t[1])]
                v = ndcg(ranked, held[u])
                by_size[bucket(len(fold[u]), SIZE_EDGES)].append(v)
                by_size["all"].append(v)
                for it in ranked[:100]:
                    b = bucket(pop[it], POP_EDGES)
                    slots[b] += 1
                    hits[b] += it in held[u]
                for a in ALPHAS:
                    ra = [it for it, _ in sorted(
                        lst, key=lambda t: -(t[1] + a * math.log1p(pop[t[0]])))]
                    adj[a].append(ndcg(ra, held[u]))

            def mean(xs):
                return sum(xs) / len(xs) if xs else float("nan")
            print("  %s: ndcg@100 %.4f; by fold-in size %s" % (
                os.path.basename(mpath), mean(by_size["all"]),
                " ".join("%.4f" % mean(by_size[i]) for i in range(4))))
            print("    slots (hits) by item popularity <5/5-19/20-49/50-99/>=100: %s" %
                  " ".join("%d(%d)" % (slots[i], hits[i]) for i in range(5)))
            print("    popularity term alpha: %s" %
                  " ".join("%+.2f:%.4f" % (a, mean(adj[a])) for a in ALPHAS))


if __name__ == "__main__":
    main()
