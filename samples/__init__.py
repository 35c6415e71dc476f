"""samples: synthetic Vietnamese documents with ground truth, generated from a seed.

`samples.pages` renders administrative pages (Decree 30/2020 header, real-looking prose) at three
degradation levels; `samples.documents` renders citizen-ID cards photographed on a desk (with
their QR), birth-registration declarations and official letters, with random but realistic
people and places. They feed the tests, the benchmarks and `motcua demo`; nothing is downloaded
and no binary fixture is committed. Imports only third-party libraries.
"""
