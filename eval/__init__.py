"""Eval sets, judges, reports and every benchmark (`make bench`)."""
