# Customer features from events: a film shop's rating history (MovieLens, each rating
# an event with the film's first genre) goes into a SQLite workspace as events; the
# shop asks which customers will come back.  'stratagem features' turns the events
# before a cut-off into one row per customer (recency, frequency, windows, genre
# shares) and, from the two years after it, whether the customer came back.  A model
# trained on the cut-off of 2012-01-01 is checked on 2014-01-01's customers (a later
# period it never saw), beside a model of recency alone.
ML="$(data movielens-small)"
F="$OUT/features"
WS="$F/films.db"
rm -rf "$F"
mkdir -p "$F"

step "1. Ratings as events (customer, time, genre) in a workspace"
# movies.csv: movieId,"title",year,"genres" (the title may hold commas; genres is last)
awk -F, 'NR == FNR { if (FNR > 1) { g = $NF; gsub(/"/, "", g); split(g, a, "|"); genre[$1] = a[1] }
                     next }
         FNR == 1 { print "userId,movieId,rating,timestamp,genre"; next }
         { print $0 "," genre[$2] }' "$ML/movies.csv" "$ML/ratings.csv" > "$F/events.csv"
"$SG" init "$WS"
"$SG" import "$WS" "$F/events.csv" --as events

step "2. Features as of 2012-01-01 and 2014-01-01, with 'came back within 730 days'"
for T in 2012-01-01 2014-01-01; do
    "$SG" features --data "$WS:events" --customer userId --time timestamp --time-unit seconds \
        --category genre --top-categories 5 --as-of "$T" --label-days 730 --out "$F/users_$T.csv"
done
echo "three customers as of 2014-01-01:"
# (awk, not column(1): that is in bsdextrautils, which a fresh Debian may lack)
head -4 "$F/users_2014-01-01.csv" | cut -d, -f1-9 |
    awk -F, '{ for (k = 1; k < NF; k++) printf "%-16s", $k; print $NF }'

step "3. Who comes back: trained on 2012's cut-off, checked on 2014's"
"$SG" -q train response --data "$F/users_2012-01-01.csv" --target active_next_730d --id userId \
    --model logit --out "$F/return.sgm"
# the baseline: every column but recency ignored
others="$(head -1 "$F/users_2012-01-01.csv" | tr , '\n' |
          grep -v -x -e userId -e recency_days -e active_next_730d | paste -s -d, -)"
"$SG" -q train response --data "$F/users_2012-01-01.csv" --target active_next_730d --id userId \
    --model logit --ignore "$others" --out "$F/return_recency.sgm"
for m in return return_recency; do
    printf '%-16s ' "$m:"
    "$SG" evaluate --model "$F/$m.sgm" --data "$F/users_2014-01-01.csv" 2>/dev/null |
        awk '/^auc/ { a = $2 } /^hits in top/ { h = $0 } /^rows evaluated/ { n = $3 }
             /^positive rate/ { p = $3 } END { printf "AUC %s on %s customers (came back: %.1f%%); %s\n", a, n, 100 * p, h }'
done
echo "(recency alone ranks the returners as well as all the features do here: these customers"
echo " rate in sessions years apart, and 19 who came back cannot tell finer features apart)"
