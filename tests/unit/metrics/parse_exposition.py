"""Parses Prometheus text exposition from stdin with prometheus_client's own parser and
prints one normalised line per family and sample, for exposition_test.cpp to compare:

    family NAME TYPE
    sample NAME k1=v1,k2=v2 VALUE

Exit 77 when prometheus_client is not installed (Debian: python3-prometheus-client), so the
test skips; any parse error is a traceback and exit 1.
"""
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(77)

for family in text_string_to_metric_families(sys.stdin.read()):
    print(f"family {family.name} {family.type}")
    for sample in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        print(f"sample {sample.name} {labels} {sample.value!r}")
