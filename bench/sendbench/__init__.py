"""bench/send_throughput.py in modules: settings, sink, contenders, rounds, report."""
