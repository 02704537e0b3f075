"""gunicorn.conf.py for the hang-report tests: worker_abort appends "abort <pid>" to the file
named by $HANG_MARKER, so a test sees the hook ran."""
import os


def worker_abort(worker):
    with open(os.environ["HANG_MARKER"], "a") as marker:
        marker.write("abort %d\n" % worker.pid)
    worker.log.warning("worker_abort ran in %s", worker.pid)
