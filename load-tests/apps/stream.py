"""stream: an 8 MiB response sent as 128 chunks of 64 KiB, Content-Length set.

The chunks are one preallocated buffer, so the app costs almost nothing and the number
measures how the server moves body bytes to the socket.
"""

CHUNK = b"x" * (64 * 1024)
COUNT = 128  # 128 x 64 KiB = 8 MiB
HEADERS = [("Content-Type", "application/octet-stream"),
           ("Content-Length", str(len(CHUNK) * COUNT))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return (CHUNK for _ in range(COUNT))
