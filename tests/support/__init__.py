"""Code shared by the test modules (so that they never import each other): builders, the
schedule corpus, the golden cases and the database helpers."""
