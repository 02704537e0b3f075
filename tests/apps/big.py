"""An 8 MiB response with Content-Length, in 64 KiB pieces of a position-dependent pattern
so a lost or reordered piece is detectable."""

PIECE = 65536
COUNT = 128  # 128 * 64 KiB = 8 MiB
SIZE = PIECE * COUNT


def piece(i):
    return bytes([i % 256]) * PIECE


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(SIZE))])
    return (piece(i) for i in range(COUNT))


application = app
