"""Question analysis and sentence evidence: what a question asks, and how well each
retrieved sentence could answer it. Pure functions over text and Hits."""
