"""Pure text functions: folding, sentences, grams, word lists, dates and numbers."""
