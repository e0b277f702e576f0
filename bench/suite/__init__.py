"""Samsa's benchmark suite (bench/run.sh): orchestration in Python's standard library around the
librdkafka measurement programs of bench/kafka/, iperf3, dd and redis-benchmark."""
