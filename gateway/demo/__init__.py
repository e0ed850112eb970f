"""What `crossforce demo` runs, and the synthetic data the demo, the tests and the benchmarks use:
a hub in a thread, a simulated force system behind a Graphene connector, and the region
generator (`gateway.demo.region`)."""
