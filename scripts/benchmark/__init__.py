"""StreamLake's benchmark, as a package run by `scripts/bench`.

The library beside what a user would write instead (the naive producer) and
beside the client library's own ceiling, scenario by scenario, each ratio
measured side by side in one run:

    settings     what every contender shares (librdkafka settings, partitions)
    payloads     the two payloads (orders, ~1 KB) and the event stream
    naive        the naive producer, a real module and the naive script
    stats        medians and percentiles
    process      one contender per child process: wall time, peak RSS, result
    work         what runs inside a contender's process (warm start, timing)
    broker       the parent's Kafka side: fresh topics, catalogs, counting back
    context      the parent's state for one run: options, sizes, broker, files
    contenders   the table of throughput contenders (name -> class)
    scenarios/   one module per scenario, and the table of scenarios
    results      one Row per subject per round, and their medians
    targets      the targets as data, keyed by scenario, and their evaluation
    runner       the rounds of every selected scenario, then the report
    report       the report and its text rendering
    cli          the command line (`scripts/bench --help`)

The machine may be shared: compare the ratios measured side by side, not
absolute rates. docs/benchmarks.md has the method and the results.
"""
