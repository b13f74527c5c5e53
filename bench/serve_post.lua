-- serve_post.lua -- wrk script: POST the CSV file named by $SERVE_BODY (bench/serve.sh)
local f = assert(io.open(os.getenv("SERVE_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/csv"
