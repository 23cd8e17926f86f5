"""StreamLake's benchmark, as a package run by `scripts/bench`.

The library beside what a user would write instead (the naive producer) and
beside the client library's own ceiling, scenario by scenario, each ratio
measured side by side in one run:

    settings     what every contender shares (librdkafka settings, partitions)
    payloads     the two payloads (orders, ~1 KB) and the event stream
    naive        the naive producer, a real module and the naive script
    stats        medians and percentiles
    process      one contender per child process: wall time, peak RSS, result
    broker       the parent's Kafka side: fresh topics, catalogs, counting back
    contenders   the table of throughput contenders (name -> class)
    scenarios    one class per scenario, the table of scenarios (name -> class)
    targets      the targets as data, keyed by scenario, and their evaluation
    report       the summary of every scenario and its text rendering
    cli          the command line (`scripts/bench --help`)

The machine may be shared: compare the ratios measured side by side, not
absolute rates. docs/benchmarks.md has the method and the results.
"""
