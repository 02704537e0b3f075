-- upload: every request is a 1 MiB POST (wrk.format adds Content-Length for the body).
wrk.method = "POST"
wrk.body = string.rep("x", 1024 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
