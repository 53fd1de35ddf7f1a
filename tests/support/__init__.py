"""Code shared by the test modules: builders, the schedule corpus and the golden cases."""
