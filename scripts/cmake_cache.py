"""Reads one value out of a CMake build directory's CMakeCache.txt (setup.py and the tests)."""
import os


def cache_value(build_dir, name):
    """The value of cache entry `name` (NAME:TYPE=value) in build_dir, or None."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None
